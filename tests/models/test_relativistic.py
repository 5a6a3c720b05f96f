"""Relativistic losses (RSGAN, RaGAN) through the models: G's loss reads D(real)."""

import numpy as np
import pytest

from keras_gan.config import RunConfig
from keras_gan.models import DCGAN
from keras_gan.models import Pix2Pix
from keras_gan.models.step import Batch
from keras_gan.training import fit
from tests.tiny import TINY


def softplus(x):
    return np.log1p(np.exp(x))


@pytest.mark.parametrize("name", ["relativistic", "relativistic_average"])
def test_generator_loss_judges_the_fakes_against_the_real_batch(name):
    model = DCGAN(latent_dim=8, image_size=16, channels=1, filters=4, seed=0)
    model.compile(loss=name)
    rng = np.random.default_rng(0)
    fake, real = rng.uniform(-1, 1, (2, 4, 16, 16, 1)).astype("float32")
    g_loss = np.asarray(model.generator_terms(Batch(real), fake)["g_loss"])
    f = np.asarray(model.discriminate(fake, training=True))[:, 0]
    r = np.asarray(model.discriminate(real, training=True))[:, 0]
    if name == "relativistic":
        expected = softplus(r - f)
    else:
        expected = softplus(r.mean() - f) + softplus(r - f.mean())
    np.testing.assert_allclose(g_loss, expected, rtol=1e-5)


def test_a_glyph_model_trains_with_the_relativistic_average_loss(tmp_path):
    config = RunConfig(runs_root=str(tmp_path)).override(
        [
            *TINY,
            "model_kwargs.latent_dim=16",
            "train.loss=relativistic_average",
            "train.augment=translation",
        ]
    )
    model, run_dir = fit(config, log=lambda line: None)
    assert model.adversarial_loss.name == "relativistic_average"
    rows = np.genfromtxt(run_dir / "log.csv", delimiter=",", names=True)
    assert np.isfinite(rows["d_loss"]) and np.isfinite(rows["g_loss"])


def test_translation_models_refuse_relativistic_losses():
    model = Pix2Pix(image_size=16, filters=4)
    with pytest.raises(ValueError, match="does not support the relativistic loss"):
        model.compile(loss="relativistic")
