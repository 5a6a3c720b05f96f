"""StyleGAN2 under the shared contract (as published and lite), truncation, noise,
mixing, W interpolation, and the published parts against analytic values."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_gan.models import StyleGAN2
from keras_gan.models.stylegan2 import LITE
from tests.models.gan_contract import GANContract

SMALL = {"latent_dim": 8, "image_size": 16, "channels": 3, "filters": 4, "seed": 3}


class TestStyleGAN2(GANContract):
    name = "stylegan2"
    model_cls = StyleGAN2
    init_kwargs = {**SMALL, "mapping_layers": 1, "mixing_prob": 0.5, "truncation_psi": 0.7}
    compile_kwargs = {"r1_interval": 2}
    batch = 8  # two replicas of 4: whole minibatch-std groups on each


def test_stylegan2_truncation_noise_and_mixing():
    gan = StyleGAN2(**{**SMALL, "truncation_psi": 0.0, "mixing_prob": 1.0})
    gan.compile(ema_kimg=0)
    z = np.random.default_rng(0).normal(size=(3, 8)).astype("float32")
    truncation = gan.generator.get_layer("truncation")
    truncation.w_avg.assign(np.full(8, 0.3, "float32"))
    images = gan.generate(z).numpy()
    # psi = 0: every z maps to the average w, and inference noise is a fixed buffer.
    np.testing.assert_array_equal(images[0], images[1])
    np.testing.assert_array_equal(gan.generate(z), images)
    # Training draws noise from each z, and mixes in the styles of a second z.
    mixed = gan.generate(z, training=True).numpy()
    plain = gan.generator(z, training=True).numpy()
    assert not np.allclose(mixed, plain)
    np.testing.assert_array_equal(gan.generate(z, training=True), mixed)  # a function of z
    assert not np.array_equal(truncation.w_avg.numpy(), np.full(8, 0.3, "float32"))  # tracked


def test_stylegan2_interpolates_in_w_between_its_samples():
    from keras_gan.sampling import ModelSampler

    gan = StyleGAN2(**{**SMALL, "num_classes": 2, "truncation_psi": 0.5})
    gan.compile()
    z = np.random.default_rng(2).normal(size=(2, 8)).astype("float32")
    path = gan.interpolate_w(z[0], z[1], 5, label=1).numpy()
    ends = gan.generate(z, np.int32([1, 1])).numpy()
    np.testing.assert_allclose(path[[0, -1]], ends, atol=1e-5)
    assert not np.allclose(path[2], ends[0], atol=1e-3)  # the middle is somewhere else
    images = ModelSampler(gan, ["a", "b"], "stylegan2").interpolate(z[0], z[1], 5, 1)
    assert images.shape == (5, 16, 16, 3) and images.dtype == np.uint8


def test_minibatch_std_groups_consecutive_examples():
    from keras_gan.models.style import MinibatchStd

    x = np.random.default_rng(0).normal(size=(8, 2, 2, 3)).astype("float32")
    out = MinibatchStd(group_size=4)(x).numpy()
    np.testing.assert_array_equal(out[..., :3], x)
    for group in (x[:4], x[4:]):  # examples 0-3 and 4-7, as two replicas of 4 see them
        expected = np.sqrt(group.var(axis=0) + 1e-8).mean()
        member = np.flatnonzero((x == group[0]).all(axis=(1, 2, 3)))[0]
        np.testing.assert_allclose(out[member : member + 4, ..., 3], expected, rtol=1e-5)


class TestStyleGAN2Lite(GANContract):
    """The CPU variant (the `stylegan2-lite-*` presets): Keras initialisers, bilinear
    resampling, no path-length term."""

    name = "stylegan2"
    model_cls = StyleGAN2
    init_kwargs = {**SMALL, **LITE, "mapping_layers": 1, "num_classes": 2}
    compile_kwargs = {"r1_interval": 2}
    batch = 8


def test_equalized_dense_scales_at_run_time_and_steps_equally():
    from keras_gan.models.style import EqualizedDense

    layer = EqualizedDense(1, lr_multiplier=0.01, bias_init=0.5)
    layer.build((None, 64))
    # Stored N(0, 1/m^2) and bias / m; used times m / sqrt(fan_in) and m.
    big = EqualizedDense(256, lr_multiplier=0.01)
    big.build((None, 256))
    assert abs(np.std(big.kernel.numpy()) * 0.01 - 1) < 0.02
    np.testing.assert_allclose(layer.bias.numpy(), [50.0])
    layer.kernel.assign(np.ones((64, 1), "float32"))
    np.testing.assert_allclose(
        layer(np.ones((1, 64), "float32")), [[64 * 0.01 / 8 + 0.5]], rtol=1e-6
    )
    # Adam's first step moves every stored weight by lr; the used weight by lr * m / sqrt(n).
    optimizer = keras.optimizers.Adam(learning_rate=0.1, epsilon=1e-12)
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(layer(np.ones((1, 64), "float32")))
    optimizer.apply(tape.gradient(loss, layer.trainable_variables), layer.trainable_variables)
    used = layer.kernel.numpy() * 0.01 / 8
    np.testing.assert_allclose(used, (1 - 0.1) * 0.01 / 8, rtol=1e-5)
    np.testing.assert_allclose(layer.bias.numpy() * 0.01, 0.5 - 0.1 * 0.01, rtol=1e-5)


def test_equalized_conv_gain_and_stride_two_halving():
    from keras_gan.models.style import EqualizedConv2D

    x = np.ones((1, 8, 8, 2), "float32")
    for down, size in ((False, 8), (True, 4)):
        conv = EqualizedConv2D(3, 3, down=down)
        conv.build(x.shape)
        conv.kernel.assign(np.ones((3, 3, 2, 3), "float32"))
        out = conv(x).numpy()
        assert out.shape == (1, size, size, 3)
        # Away from the borders a constant 1 meets all 18 taps of weight 1/sqrt(18).
        np.testing.assert_allclose(out[0, 1:-1, 1:-1], 18 / 18**0.5, rtol=1e-5)
    skip = EqualizedConv2D(1, 1, down=True, use_bias=False)
    skip.build(x.shape)
    assert skip(x).shape == (1, 4, 4, 1) and len(skip.weights) == 1


def test_fir_resampling_response():
    from keras_gan.models.style import fir_filter
    from keras_gan.models.style import fir_upsample

    # Upsampling an impulse draws the filter outer([1,3,3,1], [1,3,3,1]) / 16 (gain 4).
    impulse = np.zeros((1, 4, 4, 1), "float32")
    impulse[0, 1, 1, 0] = 1
    taps = np.array([1, 3, 3, 1], "float32")
    up = fir_upsample(impulse).numpy()[0, :, :, 0]
    np.testing.assert_allclose(up[1:5, 1:5], np.outer(taps, taps) / 16, atol=1e-7)
    assert up.sum() == pytest.approx(4.0)
    # A constant stays constant (away from the zero padding), up and down.
    flat = np.full((1, 8, 8, 1), 0.7, "float32")
    np.testing.assert_allclose(fir_upsample(flat)[0, 2:-2, 2:-2], 0.7, rtol=1e-6)
    np.testing.assert_allclose(fir_filter(flat, 1, 2)[0, 1:-1, 1:-1], 0.7, rtol=1e-6)
    # The filter's response to a cosine of frequency w is cos(w/2)^3: Nyquist (a
    # checkerboard) vanishes before the 2x downsampling can alias it.
    rows = np.arange(32, dtype="float32")
    for w in (np.pi / 4, np.pi / 2, np.pi):
        wave = np.tile(np.cos(w * rows)[None, :, None, None], (1, 1, 32, 1))
        out = fir_filter(wave, 0).numpy()[0, :, 5, 0]  # output i is centred at i + 1.5
        expected = np.cos(w / 2) ** 3 * np.cos(w * (np.arange(29) + 1.5))
        np.testing.assert_allclose(out, expected, atol=1e-5)


def test_path_lengths_of_a_linear_generator():
    from keras_gan.losses.penalties import path_lengths

    rng = np.random.default_rng(0)
    a = rng.normal(size=(3 * 5, 4 * 4)).astype("float32")  # 3 layers x w 5 -> 4x4 image
    ws = rng.normal(size=(2, 3, 5)).astype("float32")
    y = rng.normal(size=(2, 4, 4, 1)).astype("float32")

    def synthesis(w):
        return tf.reshape(tf.reshape(w, (-1, 15)) @ a, (-1, 4, 4, 1))

    # J^T y = A y, whatever w: per layer the squared norm over w, averaged over layers.
    jty = (y.reshape(2, 16) @ a.T).reshape(2, 3, 5)
    expected = np.sqrt((jty**2).sum(axis=2).mean(axis=1))
    np.testing.assert_allclose(path_lengths(synthesis, ws, y), expected, rtol=1e-5)


def test_stylegan2_path_length_is_lazy_with_a_moving_average():
    gan = StyleGAN2(**SMALL, path_length_interval=2)
    gan.compile(ema_kimg=0)
    assert gan.term_weights == {"path_length": 4.0}  # weight 2 x interval 2
    images = np.random.default_rng(0).uniform(-1, 1, size=(4, 16, 16, 3)).astype("float32")
    means, logged = [], []
    for _ in range(3):
        logs = gan.train_step(images)
        means.append(float(gan.path_length_mean.numpy()))
        logged.append(float(logs["path_length"]))
        for tracker in gan.metrics:
            tracker.reset_state()
    assert means[0] > 0 and means[1] == means[0] and means[2] != means[0]  # steps 0 and 2
    assert logged[0] > 0 and logged[1] == 0 and logged[2] > 0
    assert "path_length_mean" in gan.checkpointed()


def test_stylegan2_adam_is_corrected_for_lazy_regularisation():
    gan = StyleGAN2(**SMALL)
    gan.compile()  # R1 every 16 D steps, path length every 4 G steps
    d, g = gan.d_optimizer, gan.g_optimizer
    assert float(d.learning_rate) == pytest.approx(2e-3 * 16 / 17)
    assert d.beta_2 == pytest.approx(0.99 ** (16 / 17))
    assert float(g.learning_rate) == pytest.approx(2e-3 * 4 / 5)
    assert g.beta_2 == pytest.approx(0.99**0.8) and g.beta_1 == 0
    lite = StyleGAN2(**SMALL, **LITE)
    lite.compile(r1_gamma=0)
    assert float(lite.g_optimizer.learning_rate) == pytest.approx(2e-3)


def test_a_stylegan2_saved_before_the_published_parts_loads_as_it_was():
    gan = StyleGAN2(**SMALL, **LITE)
    config = gan.get_config()
    for name in LITE:
        del config[name]
    old = StyleGAN2.from_config(config)
    assert {name: getattr(old, name) for name in LITE} == LITE
    old.set_weights(gan.get_weights())
    z = np.random.default_rng(1).normal(size=(2, 8)).astype("float32")
    np.testing.assert_array_equal(old.generate(z), gan.generate(z))


def test_stylegan2_rejects_an_unknown_resampling():
    with pytest.raises(ValueError, match="resample must be one of"):
        StyleGAN2(**SMALL, resample="nearest")


def test_lite_presets_are_the_models_lite_variant():
    from keras_gan import presets

    for name in ("stylegan2-lite-32", "stylegan2-lite-64", "glyphs-stylegan2-64"):
        kwargs = presets.get(name)["model_kwargs"]
        assert {key: kwargs[key] for key in LITE} == LITE, name
    for name in ("stylegan2-32", "stylegan2-64"):
        assert not set(LITE) & set(presets.get(name)["model_kwargs"])
