"""The glyph style GAN under the shared contract, its terms exactly, and style codes."""

import numpy as np

from keras_gan.models import GlyphStyleGAN
from tests.models.gan_contract import GANContract


class TestGlyphStyleGAN(GANContract):
    name = "glyph_style_gan"
    model_cls = GlyphStyleGAN
    init_kwargs = {
        "num_classes": 3,
        "latent_dim": 6,
        "image_size": 16,
        "channels": 1,
        "filters": 4,
        "reconstruction_weight": 3.0,
        "kl_weight": 0.5,
        "latent_weight": 0.25,
        "seed": 3,
    }

    def build(self, **overrides):
        model = super().build(**overrides)
        size = model.image_shape[0]
        references = np.random.default_rng(1).integers(0, 256, (3, size, size, 1), dtype=np.uint8)
        model.set_reference_images(references)
        return model

    def test_generator_step_terms_are_reconstruction_and_kl_of_the_encoded_style(self):
        model = self.make()
        batch = model.unpack(self.data(model)).rows(1)  # G's rows: eps, then z
        generator_before = [w.numpy() for w in model.generator.weights]
        encoder_before = [w.numpy() for w in model.style_encoder.weights]
        mean, log_var = (np.asarray(t, np.float64) for t in model.style_encoder(batch.images))
        encoded = mean + np.exp(0.5 * log_var) * np.asarray(batch.noise[:, 0])
        both = model.generate(
            np.concatenate([encoded, batch.noise[:, 1]]).astype("float32"),
            np.concatenate([batch.labels, batch.labels]),
            training=True,
        )
        redrawn, fake = np.split(np.asarray(both), 2)
        fake_mean = np.asarray(model.style_encoder(fake)[0], np.float64)
        logs = model.generator_step(batch)
        expected_l1 = np.abs(redrawn - np.asarray(batch.images)).mean(axis=(1, 2, 3))
        expected_kl = 0.5 * (mean**2 + np.exp(log_var) - 1 - log_var).sum(axis=1)
        np.testing.assert_allclose(logs["reconstruction"], expected_l1, rtol=1e-4)
        np.testing.assert_allclose(logs["kl"], expected_kl, rtol=1e-4)
        expected_latent = np.abs(fake_mean - np.asarray(batch.noise[:, 1])).mean(axis=1)
        np.testing.assert_allclose(logs["latent"], expected_latent, rtol=1e-4)
        # One optimizer trains G and E together.
        assert any(
            not np.array_equal(a, b.numpy())
            for a, b in zip(generator_before, model.generator.weights)
        )
        assert any(
            not np.array_equal(a, b.numpy())
            for a, b in zip(encoder_before, model.style_encoder.weights)
        )

    def test_style_of_a_few_glyphs_is_their_mean_code(self):
        model = self.make()
        images = np.random.default_rng(0).uniform(-1, 1, (4, 16, 16, 1)).astype("float32")
        mean, _ = model.style_encoder(images)
        np.testing.assert_allclose(model.style_of(images), np.mean(mean, axis=0), rtol=1e-6)
        assert model.style_of(images).shape == (6,)
