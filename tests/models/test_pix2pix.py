"""pix2pix under the shared contract, its loss exactly, and what translation models refuse."""

import numpy as np
import pytest

from keras_gan.models import Pix2Pix
from tests.models.gan_contract import GANContract

SMALL = {"image_size": 16, "channels": 1, "filters": 4, "max_filters": 8, "seed": 3}


class TestPix2Pix(GANContract):
    name = "pix2pix"
    model_cls = Pix2Pix
    init_kwargs = {**SMALL, "l1_weight": 50.0}
    compile_kwargs = {"ema_kimg": 0.01}
    bad_size = ({"image_size": 24}, "image_size must be a power of two, at least 16")

    def test_generator_loss_is_adversarial_plus_weighted_l1(self):
        model = self.make()
        batch = model.unpack(self.data(model))
        fake = model.generate(batch.sources, training=True)
        logs = model.generator_terms(batch, fake)
        targets = np.asarray(batch.images, np.float64)
        np.testing.assert_allclose(
            logs["l1"],
            np.abs(np.asarray(fake, np.float64) - targets).mean(axis=(1, 2, 3)),
            rtol=1e-6,
        )
        logits = np.asarray(
            model.discriminate(fake, sources=batch.sources, training=True), np.float64
        )
        expected = np.log1p(np.exp(-logits)).reshape(len(logits), -1).mean(axis=1)  # softplus(-D)
        np.testing.assert_allclose(logs["g_loss"], expected, rtol=1e-5)
        total = model.weighted_sum(logs)
        np.testing.assert_allclose(total, logs["g_loss"] + 50.0 * logs["l1"], rtol=1e-6)

    def test_discriminator_sees_the_source(self):
        model = self.make()
        batch = model.unpack(self.data(model))
        a = model.discriminate(batch.images, sources=batch.sources)
        b = model.discriminate(batch.images, sources=-batch.sources)
        assert not np.allclose(a, b)
        with pytest.raises(ValueError, match="judges pairs: pass sources"):
            model.discriminate(batch.images)

    def test_noise_free_regularizers_only(self):
        model = Pix2Pix(**SMALL)
        with pytest.raises(ValueError, match="Pix2Pix does not support gradient_penalty"):
            model.compile(gradient_penalty=10.0)
