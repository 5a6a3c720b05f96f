"""pix2pix, font2font and CycleGAN under the shared contract, and their losses exactly."""

import numpy as np
import pytest
import tensorflow as tf

from keras_gan.models import CycleGAN
from keras_gan.models import Font2Font
from keras_gan.models import Pix2Pix
from keras_gan.models.translation import per_example_l1
from tests.models.gan_contract import GANContract

SMALL = {"image_size": 16, "channels": 1, "filters": 4, "max_filters": 8, "seed": 3}


class TranslationContract(GANContract):
    """The GAN contract with sources instead of noise."""

    def data(self, model, batch=None):
        batch = batch or self.batch
        rng = np.random.default_rng(0)
        shape = (batch, *model.image_shape)
        sample = {
            "images": rng.uniform(-1, 1, shape).astype("float32"),
            "sources": rng.uniform(-1, 1, shape).astype("float32"),
        }
        if model.conditional:
            sample["labels"] = rng.integers(0, model.num_classes, batch).astype("int32")
        return sample

    def inputs(self, model, seeds=(1, 2)):
        sources = np.stack(
            [np.random.default_rng(s).uniform(-1, 1, model.image_shape) for s in seeds]
        ).astype("float32")
        if model.conditional:
            return sources, np.arange(len(seeds), dtype="int32") % model.num_classes
        return sources

    @pytest.mark.parametrize("image_size", [16, 32, 64])
    def test_generator_output_fits_discriminator_input(self, image_size):
        model = self.make(image_size=image_size)
        inputs = self.inputs(model)
        images = model(inputs)
        assert tuple(images.shape) == (2, image_size, image_size, 1)
        sources = inputs[0] if model.conditional else inputs
        logits = model.discriminate(images, sources)
        assert logits.shape[0] == 2 and np.all(np.isfinite(logits))
        assert np.all(np.abs(images) <= 1.0)

    def test_bad_image_size_is_a_clear_error(self):
        with pytest.raises(ValueError, match="image_size must be a power of two, at least 16"):
            self.make(image_size=24)

    def test_steps_update_only_their_own_network(self):
        model = self.make()
        targets, sources, labels = model.unpack(self.data(model))

        def snapshot(network):
            return [v.numpy().copy() for v in network.trainable_variables]

        def unchanged(before, network):
            return all(np.array_equal(a, v) for a, v in zip(before, network.trainable_variables))

        g_before, d_before = snapshot(model.generator), snapshot(model.discriminator)
        model.discriminator_step(targets, sources, labels)
        assert unchanged(g_before, model.generator) and not unchanged(d_before, model.discriminator)
        d_after = snapshot(model.discriminator)
        model.generator_step(targets, sources, labels)
        assert unchanged(d_after, model.discriminator) and not unchanged(g_before, model.generator)

    def test_generator_gradient_flows_through_the_discriminator(self):
        model = self.make()
        targets, sources, labels = model.unpack(self.data(model))
        with tf.GradientTape() as tape:
            fake = model.translate_batch(targets, sources, labels)
            logs = model.generator_terms(fake, targets, sources, labels)
            loss = tf.reduce_mean(logs["g_loss"])  # the adversarial term alone
        grads = tape.gradient(loss, model.generator.trainable_variables)
        assert sum(float(tf.reduce_sum(tf.abs(g))) for g in grads if g is not None) > 0

    def test_noise_free_regularizers_only(self):
        with pytest.raises(ValueError, match="does not support gradient_penalty"):
            self.make_compiled(gradient_penalty=10.0)

    def make_compiled(self, **compile_kwargs):
        model = self.model_cls(**self.init_kwargs)
        model.compile(**compile_kwargs)
        return model


class TestPix2Pix(TranslationContract):
    name = "pix2pix"
    model_cls = Pix2Pix
    init_kwargs = {**SMALL, "l1_weight": 50.0}
    compile_kwargs = {"ema_kimg": 0.01}

    # TranslationGAN's step under replicas is covered by font2font; this one takes a minute.
    @pytest.mark.slow
    def test_fit_under_mirrored_strategy(self, two_cpus):
        super().test_fit_under_mirrored_strategy(two_cpus)

    def test_generator_loss_is_adversarial_plus_weighted_l1(self):
        model = self.make()
        targets, sources, _ = model.unpack(self.data(model))
        fake = model.generate(sources, training=True)
        logs = model.generator_terms(fake, targets, sources, None)
        np.testing.assert_allclose(
            logs["l1"], np.abs(np.asarray(fake) - targets).mean(axis=(1, 2, 3)), rtol=1e-6
        )
        logits = np.asarray(model.discriminate(fake, sources, training=True), np.float64)
        expected = np.log1p(np.exp(-logits)).mean(axis=1)  # non-saturating: softplus(-D(G(x)))
        np.testing.assert_allclose(logs["g_loss"], expected, rtol=1e-5)
        total = model.weighted_sum(logs)
        np.testing.assert_allclose(total, logs["g_loss"] + 50.0 * logs["l1"], rtol=1e-6)

    def test_discriminator_sees_the_source(self):
        model = self.make()
        targets, sources, _ = model.unpack(self.data(model))
        a = model.discriminate(targets, sources)
        b = model.discriminate(targets, -sources)
        assert not np.allclose(a, b)


class TestFont2Font(TranslationContract):
    name = "font2font"
    model_cls = Font2Font
    init_kwargs = {**SMALL, "num_classes": 3, "style_dim": 5, "const_weight": 7.0}

    def test_style_changes_the_output(self):
        model = self.make()
        sources = self.inputs(model)[0]
        a = model.generate(sources, np.array([0, 0], np.int32))
        b = model.generate(sources, np.array([1, 1], np.int32))
        assert not np.allclose(a, b)

    def test_constant_and_category_losses(self):
        model = self.make()
        targets, sources, labels = model.unpack(self.data(model))
        fake = model.generate(sources, labels, training=True)
        logs = model.generator_terms(fake, targets, sources, labels)
        encode = model.generator.get_layer("encoder")
        expected = (
            (
                np.asarray(encode(fake, training=True)[-1])
                - np.asarray(encode(sources, training=True)[-1])
            )
            ** 2
        ).mean(axis=(1, 2, 3))
        np.testing.assert_allclose(logs["const"], expected, rtol=1e-5, atol=1e-8)
        class_logits = np.asarray(model.judge(fake, sources)[1], np.float64)
        log_softmax = class_logits - np.log(np.exp(class_logits).sum(axis=1, keepdims=True))
        np.testing.assert_allclose(
            logs["g_category"], -log_softmax[np.arange(len(labels)), labels], rtol=1e-5
        )
        assert model.term_weights["const"] == 7.0

    def test_needs_a_style(self):
        with pytest.raises(ValueError, match="at least one target style"):
            Font2Font(num_classes=0, **SMALL)


class TestCycleGAN(TranslationContract):
    name = "cyclegan"
    model_cls = CycleGAN
    init_kwargs = {**SMALL, "cycle_weight": 4.0, "identity_weight": 1.0}

    # TranslationGAN's step under replicas is covered by font2font; this one takes a minute.
    @pytest.mark.slow
    def test_fit_under_mirrored_strategy(self, two_cpus):
        super().test_fit_under_mirrored_strategy(two_cpus)

    def test_cycle_and_identity_terms(self):
        model = self.make()
        b, a, _ = model.unpack(self.data(model))
        fake = model.translate_batch(b, a, None)
        logs = model.generator_terms(fake, b, a, None)
        g_ab = model.generator.get_layer("a_to_b")
        g_ba = model.generator.get_layer("b_to_a")
        cycle = per_example_l1(g_ba(g_ab(a, training=True), training=True), a) + per_example_l1(
            g_ab(g_ba(b, training=True), training=True), b
        )
        identity = per_example_l1(g_ab(b, training=True), b) + per_example_l1(
            g_ba(a, training=True), a
        )
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
