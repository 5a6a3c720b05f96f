import json

import numpy as np
import pytest
from click.testing import CliRunner
from keras_gan_cli.main import cli

from keras_gan import sampling
from keras_gan import training
from keras_gan.config import RunConfig
from keras_gan.data import load_dataset
from keras_gan.metrics.evaluate import evaluate
from keras_gan.metrics.extractors import GlyphClassifier
from keras_gan.metrics.extractors import train_glyph_classifier

SPEC = "glyphs:chars=ABCD"


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    root = tmp_path_factory.mktemp("evaluate")
    data = load_dataset(SPEC, image_size=16)
    classifier, info = train_glyph_classifier(data, epochs=3, log=lambda line: None)
    path = classifier.save(root / "classifier", {"dataset": SPEC, **info})
    return root, data, path, info


class ReferenceSampler(sampling.Sampler):
    """A 'generator' that returns the reference glyph of each label: a known answer."""

    model_name, latent_dim, training_config = "reference", 1, None

    def __init__(self, data):
        self.data, self.labels = data, data.label_names
        self.image_shape = data.images.shape[1:]

    def generate(self, seeds, label_ids=None):
        return self.data.reference_images[np.asarray(label_ids)]


def test_classifier_round_trip(setup):
    root, data, path, info = setup
    loaded = GlyphClassifier.load(path)
    assert loaded.labels == list("ABCD") and loaded.identity.startswith("glyph_classifier:")
    assert loaded.identity == GlyphClassifier.load(path).identity
    assert 0.0 <= info["held_out_accuracy"] <= 1.0 and info["held_out_images"] > 0
    features, probs = loaded.features_and_probabilities(data.images[:5])
    assert features.shape == (5, 256) and probs.shape == (5, 4)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-5)


def test_evaluate_reads_the_classifier_against_the_requested_labels(setup):
    root, data, path, _ = setup
    classifier = GlyphClassifier.load(path)
    result = evaluate(
        ReferenceSampler(data),
        data,
        classifier,
        ("fid", "kid", "is", "pr", "cas"),
        num_samples=40,
        log=lambda line: None,
    )
    _, probs = classifier.features_and_probabilities(data.reference_images)
    # Every sample is a reference glyph, so CAS is the share of classes read right.
    per_class = probs.argmax(axis=1) == np.arange(4)
    assert result["scores"]["cas"] in {float(v) for v in np.linspace(0, 1, 41)}
    if per_class.all():
        assert result["scores"]["cas"] == 1.0
    assert result["scores"]["fid"] >= 0.0 and 1.0 <= result["scores"]["is"] <= 4.0
    protocol = result["protocol"]
    assert protocol["generated_samples"] == 40 and protocol["extractor"] == classifier.identity
    with pytest.raises(ValueError, match="unknown metric 'lpips'; valid metrics: fid, kid"):
        evaluate(ReferenceSampler(data), data, classifier, ("lpips",), 8)


def test_kgan_evaluate_on_a_trained_run(setup, monkeypatch):
    root, data, path, _ = setup
    monkeypatch.chdir(root)
    config = RunConfig(runs_root="runs").override(
        [
            f"data.spec={SPEC}",
            "data.image_size=16",
            "model_kwargs.latent_dim=8",
            "model_kwargs.filters=4",
            "train.batch_size=8",
            "train.steps=2",
            "train.log_every=2",
            "train.sample_every=2",
            "train.checkpoint_every=2",
            "train.sample_seeds=1",
        ]
    )
    _, run_dir = training.fit(config, log=lambda line: None)
    args = [
        "evaluate",
        str(run_dir),
        "--extractor",
        str(path),
        "--num-samples",
        "12",
        "--json",
        "--metrics",
        "fid,kid,is,pr,cas",
    ]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    report = json.loads(result.output.strip().splitlines()[-1])
    assert set(report["scores"]) == {
        "fid",
        "kid",
        "kid_std",
        "is",
        "is_std",
        "precision",
        "recall",
        "density",
        "coverage",
        "cas",
    }
    assert report["protocol"]["dataset"] == SPEC  # taken from the run's config
    missing = CliRunner().invoke(cli, ["evaluate", str(run_dir), "--extractor", "nowhere"])
    assert missing.exit_code == 2 and "holds no glyph classifier" in missing.output


def test_shipped_classifier_matches_the_shipped_generator():
    from pathlib import Path

    root = Path(__file__).parents[2] / "saved_models"
    classifier = GlyphClassifier.load(root / "glyph_classifier")
    assert classifier.labels == sampling.load_sampler(root / "glyphs").labels
    assert classifier.image_size == 32
