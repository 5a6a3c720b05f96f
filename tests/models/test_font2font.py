"""font2font (zi2zi) under the shared contract, and its style, constant and category terms."""

import keras
import numpy as np
import pytest

from keras_gan.models import Font2Font
from tests.models.gan_contract import GANContract

SMALL = {"image_size": 16, "channels": 1, "filters": 4, "max_filters": 8, "seed": 3}


class TestFont2Font(GANContract):
    name = "font2font"
    model_cls = Font2Font
    init_kwargs = {**SMALL, "num_classes": 3, "style_dim": 5, "const_weight": 7.0}
    bad_size = ({"image_size": 24}, "image_size must be a power of two, at least 16")

    def test_style_changes_the_output(self):
        model = self.make()
        sources = self.inputs(model)[0]
        a = model.generate(sources, np.array([0, 0], np.int32))
        b = model.generate(sources, np.array([1, 1], np.int32))
        assert not np.allclose(a, b)

    def test_constant_and_category_losses(self):
        model = self.make()
        batch = model.unpack(self.data(model))
        sources, labels = batch.sources, np.asarray(batch.labels)
        fake = model.generate(sources, labels, training=True)
        logs = model.generator_terms(batch, fake)
        encode = model.generator.get_layer("encoder")
        expected = (
            (
                np.asarray(encode(fake, training=True)[-1])
                - np.asarray(encode(sources, training=True)[-1])
            )
            ** 2
        ).mean(axis=(1, 2, 3))
        np.testing.assert_allclose(logs["const"], expected, rtol=1e-5, atol=1e-8)
        class_logits = np.asarray(model.judge(fake, batch)[1], np.float64)
        log_softmax = class_logits - np.log(np.exp(class_logits).sum(axis=1, keepdims=True))
        np.testing.assert_allclose(
            logs["g_category"], -log_softmax[np.arange(len(labels)), labels], rtol=1e-5
        )
        assert model.term_weights["const"] == 7.0

    def test_needs_a_style(self):
        with pytest.raises(ValueError, match="at least one target style"):
            Font2Font(num_classes=0, **SMALL)

    def test_fine_tuning_learns_from_l1_alone_and_keeps_batch_statistics(self):
        """`kgan font fit`'s settings: G's update does not depend on D at all, and G's batch
        normalisation keeps its statistics (the default model's step changes them)."""
        tuning = {"adversarial_weight": 0.0, "category_weight": 0.0, "frozen_norm": True}
        model, twin, default = self.make(**tuning), self.make(**tuning), self.make()
        for other in (twin, default):
            other.generator.set_weights(model.generator.get_weights())
        rng = np.random.default_rng(1)
        for weight in twin.discriminator.weights:  # another D entirely
            weight.assign(rng.normal(size=weight.shape).astype("float32"))
        batch = model.unpack(self.data(model))
        rows = batch.rows(model.regularization.d_noise_draws() * model.regularization.n_critic)

        def norm_weights(m):
            networks = (m.encoder, m.generator.get_layer("decoder"))
            layers = [x for n in networks for x in n.layers if "batch_norm" in x.name]
            assert layers
            return [w.numpy().copy() for layer in layers for w in layer.weights]

        before, start = norm_weights(model), model.generator.get_weights()
        for m in (model, twin, default):
            m.generator_step(rows)
        after = model.generator.get_weights()
        assert any(not np.array_equal(a, b) for a, b in zip(start, after))
        for mine, theirs in zip(after, twin.generator.get_weights()):
            np.testing.assert_allclose(mine, theirs, rtol=1e-6, atol=1e-7)
        for old, new in zip(before, norm_weights(model)):
            np.testing.assert_array_equal(old, new)
        assert any(not np.array_equal(a, b) for a, b in zip(before, norm_weights(default))), (
            "the default step changes G's batch statistics"
        )

    def test_fine_tuning_one_style_trains_g_alone_and_learns_the_same(self):
        """One style and no adversarial loss (`kgan font fit`): D's judgement cannot reach
        G (a one-class style loss is 0 with gradient 0), so the step skips D, and G
        learns what the full GAN step would teach it."""
        from keras_gan.models.base import GAN

        tuning = {"num_classes": 1, "adversarial_weight": 0.0, "frozen_norm": True}
        model, full = self.make(**tuning), self.make(**tuning)
        full.set_weights(model.get_weights())
        full.trackers = {name: keras.metrics.Mean(name=name) for name in full.base_loss_names}
        assert not model.learns_from_discriminator
        assert self.make().learns_from_discriminator  # 3 styles: the style loss reaches G
        assert self.make(num_classes=1).learns_from_discriminator  # the adversarial loss
        data, d_start = self.data(model), model.discriminator.get_weights()
        for _ in range(2):
            logs = model.train_step(data)
            full_logs = GAN.train_step(full, data)
        for mine, theirs in zip(model.generator.get_weights(), full.generator.get_weights()):
            np.testing.assert_allclose(mine, theirs, rtol=1e-5, atol=1e-6)
        for old, new in zip(d_start, model.discriminator.get_weights()):
            np.testing.assert_array_equal(old, new)
        assert full_logs["g_category"] == 0.0
        assert set(logs) == {"loss", "l1", "const"}
        np.testing.assert_allclose(logs["l1"], full_logs["l1"], rtol=1e-5)
        expected = 100.0 * logs["l1"] + 7.0 * logs["const"]  # the terms' mean over 2 steps
        np.testing.assert_allclose(logs["loss"], expected, rtol=1e-5)
