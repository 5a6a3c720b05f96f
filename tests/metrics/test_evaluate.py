import hashlib
import json

import numpy as np
import pytest
from click.testing import CliRunner

from keras_gan import sampling
from keras_gan import training
from keras_gan.config import RunConfig
from keras_gan.data import load_dataset
from keras_gan.metrics.distances import frechet_distance
from keras_gan.metrics.distances import inception_score
from keras_gan.metrics.evaluate import evaluate
from keras_gan.metrics.extractors import CLASSIFIER_FILE
from keras_gan.metrics.extractors import GlyphClassifier
from keras_gan.metrics.extractors import train_glyph_classifier
from keras_gan_cli.main import cli
from tests.tiny import TINY

SPEC = "glyphs:chars=ABCD"


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    root = tmp_path_factory.mktemp("evaluate")
    data = load_dataset(SPEC, image_size=16)
    # 40 epochs of 3 steps: a reader well above chance (3 epochs stay at 0.25).
    classifier, info = train_glyph_classifier(data, epochs=40, log=lambda line: None)
    path = classifier.save(root / "classifier", {"dataset": SPEC, **info})
    return root, data, path, info


class ReferenceSampler(sampling.Sampler):
    """A 'generator' that returns the reference glyph of each label: a known answer. It
    keeps the labels it was asked for."""

    model_name, latent_dim, training_config = "reference", 1, None

    def __init__(self, data):
        self.data, self.labels = data, data.label_names
        self.image_shape = data.images.shape[1:]
        self.asked = []

    def generate(self, seeds, label_ids=None):
        self.asked += list(label_ids)
        return self.data.reference_images[np.asarray(label_ids)]


def test_classifier_round_trip(setup):
    root, data, path, info = setup
    loaded = GlyphClassifier.load(path)
    file_hash = hashlib.sha256((path / CLASSIFIER_FILE).read_bytes()).hexdigest()[:16]
    assert loaded.labels == list("ABCD") and loaded.identity == f"glyph_classifier:{file_hash}"
    assert info["held_out_accuracy"] > 0.5 and info["held_out_images"] > 0  # chance: 0.25
    features, probs = loaded.features_and_probabilities(data.images[:5])
    assert features.shape == (5, 256) and probs.shape == (5, 4)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-5)
    # Other weights, another identity: scores never mix extractors.
    before = loaded.identity
    loaded.model.layers[-1].kernel.assign(loaded.model.layers[-1].kernel * 2.0)
    other = loaded.save(root / "other", {})
    assert GlyphClassifier.load(other).identity not in (before, "")


def test_evaluate_scores_the_features_of_what_it_generated(setup):
    root, data, path, _ = setup
    classifier = GlyphClassifier.load(path)
    sampler = ReferenceSampler(data)
    count = len(data)  # every real image is drawn: the real set is known
    result = evaluate(
        sampler, data, classifier, ("fid", "is", "cas", "ifid"), count, log=lambda line: None
    )
    asked = np.asarray(sampler.asked)
    assert len(asked) == count and set(asked) == {0, 1, 2, 3}
    real_features, _ = classifier.features_and_probabilities(data.images)
    fake_features, fake_probs = classifier.features_and_probabilities(data.reference_images[asked])
    scores = result["scores"]
    # CAS: the share of generated images read as the label each was asked for.
    assert scores["cas"] == pytest.approx(np.mean(fake_probs.argmax(axis=1) == asked), abs=1e-12)
    assert scores["fid"] == pytest.approx(frechet_distance(real_features, fake_features), rel=1e-5)
    assert scores["is"] == pytest.approx(inception_score(fake_probs, splits=10)[0], rel=1e-6)
    # Intra-class FID: every class has 5 real and 5 generated images here.
    per_class = [
        frechet_distance(real_features[data.labels == i], fake_features[asked == i])
        for i in range(4)
    ]
    assert scores["ifid_classes"] == 4
    assert scores["ifid"] == pytest.approx(np.mean(per_class), rel=1e-5)
    protocol = result["protocol"]
    assert protocol["generated_samples"] == count and protocol["extractor"] == classifier.identity
    with pytest.raises(ValueError, match="unknown metric 'lpips'; valid metrics: fid, kid"):
        evaluate(ReferenceSampler(data), data, classifier, ("lpips",), 8)


def test_kgan_evaluate_on_a_trained_run(setup, monkeypatch):
    root, data, path, _ = setup
    monkeypatch.chdir(root)
    config = RunConfig(runs_root="runs").override(TINY + [f"data.spec={SPEC}"])
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
    # The library call on the same run, data, extractor and seed gives the same scores.
    expected = evaluate(
        sampling.load_sampler(run_dir), data, GlyphClassifier.load(path),
        ("fid", "kid", "is", "pr", "cas"), 12, log=lambda line: None,
    )  # fmt: skip
    assert report["scores"] == pytest.approx(expected["scores"], rel=1e-6)
    assert set(report["scores"]) == {
        "fid", "kid", "kid_std", "is", "is_std", "precision", "recall", "density",
        "coverage", "cas",
    }  # fmt: skip
    # The protocol the README promises: sample counts, seeds, extractor and its weights
    # hash, preprocessing; the data taken from the run's config.
    protocol = report["protocol"]
    assert protocol["dataset"] == SPEC and protocol["generated_samples"] == 12
    assert protocol["real_samples"] == 12 and protocol["generator_seeds"] == "0-11"
    assert protocol["extractor"] == GlyphClassifier.load(path).identity
    assert protocol["preprocessing"] == expected["protocol"]["preprocessing"] != ""
    missing = CliRunner().invoke(cli, ["evaluate", str(run_dir), "--extractor", "nowhere"])
    assert missing.exit_code == 2 and "holds no glyph classifier" in missing.output


def test_kgan_evaluate_an_export_with_a_trained_extractor_or_inception(setup, monkeypatch):
    """README: `kgan evaluate` takes an export too; `--train-extractor` trains the
    classifier it then scores with; `--inception-weights FILE` scores with InceptionV3."""
    import keras

    root, data, _, _ = setup
    monkeypatch.chdir(root)
    config = RunConfig(runs_root="runs-export").override(TINY + [f"data.spec={SPEC}"])
    _, run_dir = training.fit(config, log=lambda line: None)
    runner = CliRunner()
    exported = runner.invoke(
        cli, ["export", str(run_dir), "--name", "tiny", "--model-base-path", "exports"]
    )
    assert exported.exit_code == 0, exported.output
    export = root / "exports" / "tiny" / "1"
    extractor = root / "trained-extractor"
    args = ["evaluate", str(export), "--num-samples", "12", "--json", "--metrics", "fid,cas"]
    result = runner.invoke(cli, [*args, "--extractor", str(extractor), "--train-extractor"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output.strip().splitlines()[-1])
    trained = GlyphClassifier.load(extractor)  # written by --train-extractor
    assert trained.labels == list("ABCD")
    assert report["protocol"]["extractor"] == trained.identity
    assert report["protocol"]["dataset"] == SPEC  # from the export's metadata
    expected = evaluate(sampling.load_sampler(export), data, trained, ("fid", "cas"), 12)
    assert report["scores"] == pytest.approx(expected["scores"], rel=1e-6)

    keras.utils.set_random_seed(0)
    weights = root / "inception.weights.h5"
    keras.applications.InceptionV3(weights=None).save_weights(weights)
    args[-1] = "fid"
    result = runner.invoke(cli, [*args, "--inception-weights", str(weights)])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output.strip().splitlines()[-1])
    assert report["protocol"]["extractor"].startswith("inception_v3:")
    assert report["scores"]["fid"] > 0


def test_shipped_classifier_matches_the_shipped_generator():
    from pathlib import Path

    root = Path(__file__).parents[2] / "saved_models"
    classifier = GlyphClassifier.load(root / "glyph_classifier")
    assert classifier.labels == sampling.load_sampler(root / "glyphs").labels
    assert classifier.image_size == 32


def test_real_features_are_cached_by_data_and_extractor(setup, tmp_path, monkeypatch):
    from keras_gan.metrics.evaluate import real_features_cached

    root, data, path, _ = setup
    monkeypatch.setenv("KGAN_CACHE_DIR", str(tmp_path))
    classifier = GlyphClassifier.load(path)
    first = real_features_cached(classifier, data.images[:20])
    files = list((tmp_path / "features").glob("*.npy"))
    assert len(files) == 1
    np.testing.assert_array_equal(np.load(files[0]), first)
    np.testing.assert_array_equal(real_features_cached(classifier, data.images[:20]), first)
    assert len(list((tmp_path / "features").glob("*.npy"))) == 1  # reused
    real_features_cached(classifier, data.images[1:21])  # other images: a new entry
    classifier.identity = "glyph_classifier:other-weights"
    real_features_cached(classifier, data.images[:20])  # other extractor: a new entry
    assert len(list((tmp_path / "features").glob("*.npy"))) == 3


def test_evaluation_during_training_logs_scores_and_keeps_the_best(setup, monkeypatch):
    import csv

    root, data, path, _ = setup
    monkeypatch.chdir(root)
    config = RunConfig(runs_root="runs-eval").override(
        TINY
        + [
            f"data.spec={SPEC}",
            "train.steps=4",
            "train.eval_every=2",
            "train.eval_samples=8",
            "train.eval_metrics=fid,cas",
            f"train.eval_extractor={path}",
            "train.keep_best=cas",
        ]
    )
    lines = []
    _, run_dir = training.fit(config, log=lines.append)
    with open(run_dir / "log.csv") as f:
        rows = list(csv.DictReader(f))
    assert [r["step"] for r in rows] == ["2", "4"]
    assert all(float(r["eval_fid"]) >= 0 and 0 <= float(r["eval_cas"]) <= 1 for r in rows)
    best = json.loads((run_dir / "checkpoints" / "best" / "best.json").read_text())
    assert best["cas"] == max(float(r["eval_cas"]) for r in rows)
    assert list((run_dir / "checkpoints" / "best").glob(f"ckpt-{best['step']}.index"))
    assert any("best cas so far" in line for line in lines)


@pytest.mark.parametrize(
    "assignments, message",
    [
        (["train.eval_every=2"], "train.eval_every \\(2\\) must be a multiple of train.log_every"),
        (["train.eval_every=50", "train.eval_metrics=fid,lpips"], "unknown metric 'lpips'"),
        (
            ["train.eval_every=50", "train.keep_best=cas", "train.eval_metrics=fid"],
            "train.keep_best='cas' is not a score of train.eval_metrics",
        ),
        (["train.keep_best=fid"], "train.keep_best needs train.eval_every > 0"),
    ],
)
def test_evaluation_config_errors(assignments, message):
    from keras_gan.config import ConfigError

    with pytest.raises(ConfigError, match=message):
        RunConfig().override(assignments).validate()


def test_a_keras_file_holding_python_code_is_refused(tmp_path):
    """README: keras-gan loads .keras files in Keras' safe_mode (no Python lambdas)."""
    import keras

    from keras_gan.metrics.extractors import CLASSIFIER_FILE
    from keras_gan.metrics.extractors import INFO_FILE

    images = keras.Input((8, 8, 1))
    keras.Model(images, keras.layers.Lambda(lambda x: x * 2)(images)).save(
        tmp_path / CLASSIFIER_FILE
    )
    (tmp_path / INFO_FILE).write_text(json.dumps({"labels": ["a"]}))
    with pytest.raises(ValueError, match="safe_mode"):
        GlyphClassifier.load(tmp_path)
