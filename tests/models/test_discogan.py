"""DiscoGAN under the shared contract, its networks and loss terms exactly."""

import numpy as np

from keras_gan.models import DiscoGAN
from tests.models.gan_contract import GANContract

SMALL = {"image_size": 16, "channels": 1, "filters": 4, "max_filters": 8, "seed": 3}


def mse(a, b):
    return np.square(np.asarray(a, np.float64) - np.asarray(b, np.float64)).mean(axis=(1, 2, 3))


def softplus(x):
    return np.logaddexp(0.0, np.asarray(x, np.float64))


class TestDiscoGAN(GANContract):
    name = "discogan"
    model_cls = DiscoGAN
    init_kwargs = {**SMALL, "reconstruction_weight": 2.0}
    bad_size = ({"image_size": 24}, "image_size must be 4 times a power of two")

    def test_generator_terms_are_the_papers(self):
        """L_G = L_GAN_B + L_GAN_A + w (|G_BA(G_AB(a)) - a|^2 + |G_AB(G_BA(b)) - b|^2),
        the GAN terms -log D(fake) of one logit per image; no identity term."""
        model = self.make()
        batch = model.unpack(self.data(model))
        a, b = batch.sources, batch.images
        fake = model.fakes(batch)
        logs = model.generator_terms(batch, fake)
        assert set(logs) == {"g_loss", "reconstruction"}
        g_ab = model.generator.get_layer("a_to_b")
        g_ba = model.generator.get_layer("b_to_a")
        reconstruction = mse(g_ba(g_ab(a, training=True), training=True), a) + mse(
            g_ab(g_ba(b, training=True), training=True), b
        )
        np.testing.assert_allclose(logs["reconstruction"], reconstruction, rtol=1e-5)
        judged_a = model.discriminator.get_layer("d_a")(fake[1], training=True)
        judged_b = model.discriminator.get_layer("d_b")(fake[0], training=True)
        assert judged_a.shape == (self.batch, 1)  # one logit per image, not patches
        gan = softplus(-np.asarray(judged_a))[:, 0] + softplus(-np.asarray(judged_b))[:, 0]
        np.testing.assert_allclose(logs["g_loss"], gan, rtol=1e-5)
        np.testing.assert_allclose(
            model.weighted_sum(logs), logs["g_loss"] + 2.0 * logs["reconstruction"], rtol=1e-6
        )

    def test_discriminator_loss_is_not_halved(self):
        model = self.make()
        batch = model.unpack(self.data(model))
        logs, _ = model.discriminator_terms(batch, model.fakes(batch))
        np.testing.assert_allclose(model.weighted_sum(logs), logs["d_loss"], rtol=1e-6)

    def test_generators_have_no_skips_and_a_4x4_bottleneck(self):
        """The whole image passes the bottleneck (unlike CycleGAN's U-Nets)."""
        generator = self.make(image_size=32).generator.get_layer("a_to_b")
        assert not any(type(layer).__name__ == "Concatenate" for layer in generator.layers)
        smallest = min(
            layer.output.shape[1] for layer in generator.layers if len(layer.output.shape) == 4
        )
        assert smallest == 4

    def test_generate_is_a_to_b(self):
        model = self.make()
        a = self.inputs(model)
        np.testing.assert_array_equal(model(a), model.generator.get_layer("a_to_b")(a))
