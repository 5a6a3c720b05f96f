"""CycleGAN under the shared contract, its cycle and identity terms exactly."""

import numpy as np

from keras_gan.models import CycleGAN
from tests.models.gan_contract import GANContract

SMALL = {"image_size": 16, "channels": 1, "filters": 4, "max_filters": 8, "seed": 3}


def l1(a, b):
    return np.abs(np.asarray(a, np.float64) - np.asarray(b, np.float64)).mean(axis=(1, 2, 3))


class TestCycleGAN(GANContract):
    name = "cyclegan"
    model_cls = CycleGAN
    init_kwargs = {**SMALL, "cycle_weight": 4.0, "identity_weight": 1.0}
    bad_size = ({"image_size": 24}, "image_size must be a power of two, at least 16")

    def test_cycle_and_identity_terms(self):
        model = self.make()
        batch = model.unpack(self.data(model))
        a, b = batch.sources, batch.images
        logs = model.generator_terms(batch, model.fakes(batch))
        g_ab = model.generator.get_layer("a_to_b")
        g_ba = model.generator.get_layer("b_to_a")
        cycle = l1(g_ba(g_ab(a, training=True), training=True), a) + l1(
            g_ab(g_ba(b, training=True), training=True), b
        )
        identity = l1(g_ab(b, training=True), b) + l1(g_ba(a, training=True), a)
        np.testing.assert_allclose(logs["cycle"], cycle, rtol=1e-5)
        np.testing.assert_allclose(logs["identity"], identity, rtol=1e-5)
        np.testing.assert_allclose(
            model.weighted_sum(logs),
            logs["g_loss"] + 4.0 * logs["cycle"] + 1.0 * logs["identity"],
            rtol=1e-6,
        )

    def test_generate_is_a_to_b(self):
        model = self.make()
        a = self.inputs(model)
        np.testing.assert_array_equal(model(a), model.generator.get_layer("a_to_b")(a))
