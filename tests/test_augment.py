import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_gan import augment
from keras_gan import regularization
from keras_gan.models import GAN


def params(batch, **values):
    """Uniform parameters: 0.5 everywhere (no-op centre values), apply-all, overrides."""
    u = np.full((batch, augment.UNIFORMS), 0.5, np.float32)
    u[:, 7:] = 0.0  # "apply?" numbers below any probability > 0
    for column, value in values.items():
        u[:, int(column[1:])] = value
    return tf.constant(u)


def test_policy_is_checked():
    parse = regularization.parse_policy
    assert parse("translation, color").operations == ("translation", "color")
    assert parse("") == regularization.AugmentPolicy()
    with pytest.raises(ValueError, match="unknown operation.s. flip; valid: translation"):
        parse("color,flip")
    bgc = parse("ada:bgc")
    assert bgc.ada and len(bgc.multipliers) == 12 and bgc.rotate_max == 1
    assert len(parse("ada:bgcfnc").multipliers) == len(regularization.ADA_OPERATIONS) == 15
    glyphs = parse("ada:glyphs")
    assert not {"xflip", "rotate90", "lumaflip"} & set(dict(glyphs.multipliers))
    assert glyphs.rotate_max == pytest.approx(10 / 180)
    custom = parse("ada:xint=1,rotate=0.5,rotate_max=0.1")
    assert custom.multiplier("rotate") == 0.5 and custom.multiplier("xflip") == 0
    assert custom.rotate_max == 0.1
    with pytest.raises(ValueError, match="unknown ADA operation 'flip'; valid: xflip"):
        parse("ada:flip")
    with pytest.raises(ValueError, match="'xint=a' is not NAME=NUMBER"):
        parse("ada:xint=a")
    assert regularization.for_data("ada:auto", glyphs=True) == "ada:glyphs"
    assert regularization.for_data("ada:auto", glyphs=False) == "ada:bgc"
    assert regularization.for_data("translation", glyphs=True) == "translation"


def test_translation_shifts_with_zero_fill():
    x = tf.random.uniform((2, 16, 16, 1), -1, 1)
    # reach = 2 pixels; u = 0.75 -> shift +1 row, u = 0.25 -> shift -1 column
    out = augment.augment(x, params(2, u0=0.75, u1=0.25), ("translation",)).numpy()
    expected = np.zeros_like(x.numpy())
    expected[:, :15, 1:] = x.numpy()[:, 1:, :15]
    np.testing.assert_array_equal(out, expected)


def test_cutout_zeroes_a_half_side_square():
    x = tf.ones((3, 16, 16, 3))
    out = augment.augment(x, params(3, u2=0.5, u3=0.5), ("cutout",)).numpy()
    assert (out == 0).all(axis=3).sum(axis=(1, 2)).tolist() == [64, 64, 64]
    assert set(np.unique(out)) == {0.0, 1.0}


def test_color_matches_its_formula():
    x = tf.random.uniform((2, 8, 8, 3), -1, 1)
    out = augment.augment(x, params(2, u4=0.9, u5=0.25, u6=1.0), ("color",)).numpy()
    y = x.numpy() + 0.4
    y = (y - y.mean(axis=3, keepdims=True)) * 0.5 + y.mean(axis=3, keepdims=True)
    y = (y - y.mean(axis=(1, 2, 3), keepdims=True)) * 1.5 + y.mean(axis=(1, 2, 3), keepdims=True)
    np.testing.assert_allclose(out, y, rtol=1e-5, atol=1e-5)


def test_probability_zero_is_identity_and_gradients_flow():
    x = tf.random.uniform((2, 8, 8, 1), -1, 1)
    ops_all = augment.OPERATIONS
    np.testing.assert_array_equal(augment.augment(x, params(2), ops_all, probability=0.0), x)
    with tf.GradientTape() as tape:
        tape.watch(x)
        total = tf.reduce_sum(augment.augment(x, params(2, u0=0.9), ops_all) ** 2)
    grad = tape.gradient(total, x)
    assert grad is not None and float(tf.reduce_sum(tf.abs(grad))) > 0


class Confident(keras.layers.Layer):
    """A critic that calls everything real: E[sign(D(real))] = 1, past any target."""

    def build(self, input_shape):
        self.w = self.add_weight(shape=(), initializer="zeros")

    def call(self, x):
        return keras.ops.ones((keras.ops.shape(x)[0], 1)) + self.w * keras.ops.mean(x)


def test_ada_raises_p_while_the_discriminator_overfits():
    z = keras.Input((12,))
    generator = keras.Model(z, keras.layers.Reshape((4, 4, 1))(keras.layers.Dense(16)(z)))
    images_in = keras.Input((4, 4, 1))
    gan = GAN(generator, keras.Model(images_in, Confident()(images_in)), latent_dim=12)
    gan.compile(augment="translation,color", ada_target=0.6, ada_kimg=0.1)
    assert gan.loss_names == ("d_loss", "g_loss", "d_overfit", "augment_p")
    assert gan.noise_draws == 1 + 2 + 1 + 1  # z, real and fake augmentation; G's z, aug
    data = {
        "images": np.zeros((4, 4, 4, 1), "float32"),
        "noise": np.random.default_rng(0).normal(size=(4, 5, 12)).astype("float32"),
    }
    for step in range(1, 4):
        logs = gan.train_step(data)
        assert float(gan.augment_p.value) == pytest.approx(min(1.0, 4 * step / 100))
    assert float(logs["augment_p"]) == pytest.approx(0.08, abs=1e-6)  # mean over 3 steps
    small = keras.Input((2,))
    g2 = keras.Model(small, keras.layers.Reshape((4, 4, 1))(keras.layers.Dense(16)(small)))
    narrow = GAN(g2, keras.Model(images_in, Confident()(images_in)), latent_dim=2)
    with pytest.raises(ValueError, match="latent_dim must be at least 10, got 2"):
        narrow.compile(augment="color")


# ----------------------------------------------------------------- ADA's pipeline


def seeds(batch, start=0):
    return tf.constant([[start + i, 7] for i in range(batch)], tf.int32)


def ada(images, spec, probability=1.0, start=0):
    policy = regularization.parse_policy(spec)
    return augment.ada_augment(images, seeds(len(images), start), policy, probability).numpy()


def centred(matrix, size):
    """A centred-coordinates inverse transform, for `augment.transform`."""
    return tf.constant(np.repeat(np.asarray(matrix, "float32")[None], size, axis=0))


def test_blit_matrices_move_pixels_exactly():
    x = np.random.default_rng(0).uniform(-1, 1, (1, 8, 8, 1)).astype("float32")
    one = tf.ones((1,))
    flip = augment.transform(x, augment.scale2d(-one, one)).numpy()
    np.testing.assert_array_equal(flip, x[:, :, ::-1])
    quarter = augment.transform(x, augment.rotate2d(np.pi / 2 * one)).numpy()
    np.testing.assert_allclose(quarter, np.rot90(x, k=1, axes=(1, 2)), atol=1e-5)
    # Inverse translation by (-2, -1): output (x, y) reads input (x - 2, y - 1).
    shifted = augment.transform(x, augment.translate2d(-2 * one, -1 * one)).numpy()
    np.testing.assert_allclose(shifted[:, 1:, 2:], x[:, :-1, :-2], atol=1e-6)
    np.testing.assert_allclose(shifted[:, 0, 2:], x[:, 0, :-2], atol=1e-6)  # mirrored edge


def test_geometry_matrices_match_their_formulas():
    one = tf.ones((1,))
    x = np.random.default_rng(1).uniform(-1, 1, (1, 9, 9, 1)).astype("float32")
    # Scaling by 1/2 about the centre: output reads input at twice the distance.
    zoom = augment.transform(x, augment.scale2d(2 * one, 2 * one)).numpy()
    np.testing.assert_allclose(zoom[0, 2:7, 2:7], x[0, 0:9:2, 0:9:2], atol=1e-6)
    half_turn = augment.transform(x, augment.rotate2d(np.pi * one)).numpy()
    np.testing.assert_allclose(half_turn, x[:, ::-1, ::-1], atol=1e-5)
    # A half-pixel fractional translation is the mean of two neighbours (bilinear).
    half = augment.transform(x, augment.translate2d(0.5 * one, 0 * one)).numpy()
    np.testing.assert_allclose(half[0, :, :-1], (x[0, :, :-1] + x[0, :, 1:]) / 2, atol=1e-6)
    aniso = augment.scale2d(0.5 * one, 2 * one).numpy()[0]
    np.testing.assert_allclose(aniso, np.diag([0.5, 2, 1]))


def test_colour_matrices_match_their_formulas():
    rng = np.random.default_rng(2)
    rgb = rng.uniform(-1, 1, (1, 4, 4, 3)).astype("float32")
    grey = rgb[..., :1]
    one = tf.ones((1,))
    np.testing.assert_allclose(
        augment.recolour(rgb, augment.translate3d(0.3 * one)), rgb + 0.3, atol=1e-6
    )
    np.testing.assert_allclose(
        augment.recolour(grey, augment.scale3d(2 * one)), grey * 2, atol=1e-6
    )
    flip = np.eye(4, dtype="float32")[None] - 2 * np.outer(augment.LUMA, augment.LUMA)[None]
    np.testing.assert_allclose(augment.recolour(grey, flip), -grey, atol=1e-6)  # luma flip
    luma = rgb.mean(axis=3, keepdims=True)
    np.testing.assert_allclose(  # a luma flip mirrors the colour through the grey axis
        augment.recolour(rgb, flip), rgb - 2 * luma, atol=1e-5
    )
    # A hue rotation by a third of a turn cycles the channels: r -> g -> b -> r.
    cycled = augment.recolour(rgb, augment.rotate3d_luma(2 * np.pi / 3 * one)).numpy()
    np.testing.assert_allclose(cycled, rgb[..., [2, 0, 1]], atol=1e-5)
    outer = np.outer(augment.LUMA, augment.LUMA)[None]
    grey_out = augment.recolour(rgb, outer).numpy()  # saturation 0: the grey of each pixel
    np.testing.assert_allclose(grey_out, np.repeat(luma, 3, axis=3), atol=1e-5)


def test_image_filter_bands():
    bank = augment.FILTER_BANK
    impulse = np.zeros(bank.shape[1])
    impulse[bank.shape[1] // 2] = 1
    np.testing.assert_allclose(bank.sum(axis=0), impulse, atol=1e-6)  # the bands partition
    x = np.random.default_rng(3).uniform(-1, 1, (2, 16, 16, 1)).astype("float32")
    np.testing.assert_allclose(augment.band_filter(x, tf.ones((2, 4))), x, atol=1e-5)
    # Band 0 is the lowest: a constant image passes it whole and the others not at all.
    flat = np.full((1, 16, 16, 1), 0.4, "float32")
    only_low = augment.band_filter(flat, tf.constant([[1.0, 0, 0, 0]])).numpy()
    np.testing.assert_allclose(only_low, flat, atol=1e-5)
    # A checkerboard is at the top of the spectrum: band 3, its gain once per axis.
    checker = np.indices((16, 16)).sum(axis=0) % 2 * 2 - 1.0
    checker = checker[None, :, :, None].astype("float32")
    top = augment.band_filter(checker, tf.constant([[0, 0, 0, 2.0]])).numpy()
    np.testing.assert_allclose(top, 4 * checker, atol=1e-4)
    np.testing.assert_allclose(
        augment.band_filter(checker, tf.constant([[1.0, 1, 1, 0]])), 0, atol=1e-4
    )


def test_cutout_mask_and_noise():
    mask = augment.cutout_mask(tf.constant([0.5]), tf.constant([0.25]), tf.constant([0.5]), 8, 8)
    expected = np.ones((8, 8))
    expected[0:4, 2:6] = 0
    np.testing.assert_array_equal(mask.numpy()[0, :, :, 0], expected)
    x = np.zeros((64, 16, 16, 1), "float32")
    noisy = ada(x, "ada:noise")
    # sigma = |N(0, 1)| * 0.1 per image: the per-image spread is such a sigma.
    spread = noisy.reshape(64, -1).std(axis=1)
    assert 0.04 < spread.mean() < 0.12 and spread.max() < 0.5


def test_ada_pipeline_probability_determinism_and_gradients():
    x = np.random.default_rng(4).uniform(-1, 1, (8, 16, 16, 3)).astype("float32")
    every = "ada:bgcfnc"
    np.testing.assert_array_equal(ada(x, every, probability=0.0), x)  # p = 0: untouched
    changed = ada(x, every)
    assert not np.allclose(changed, x)
    np.testing.assert_array_equal(ada(x, every), changed)  # a function of the seeds
    assert not np.allclose(ada(x, every, start=100), changed)
    # Per example: an example's result does not depend on its neighbours (replicas).
    np.testing.assert_allclose(ada(x[4:], every, start=4), changed[4:], atol=1e-5)
    # x-flip alone at p = 1: each image is itself or its mirror, and both occur.
    flipped = ada(x, "ada:xflip")
    kinds = [
        "same"
        if np.allclose(f, i, atol=1e-5)
        else "mirror"
        if np.allclose(f, i[:, ::-1], atol=1e-5)
        else "?"
        for f, i in zip(flipped, x)
    ]
    assert set(kinds) == {"same", "mirror"}
    images = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(images)
        total = tf.reduce_sum(
            augment.ada_augment(images, seeds(8), regularization.parse_policy(every)) ** 2
        )
    grad = tape.gradient(total, images)
    assert grad is not None and float(tf.reduce_sum(tf.abs(grad))) > 0


def test_glyph_pipeline_keeps_characters_upright():
    x = np.zeros((32, 16, 16, 1), "float32")
    x[:, 4:12, 7:9] = 1  # a vertical bar

    def extent(out):
        ink = out[..., 0] > 0.5
        return ink.any(axis=2).sum(axis=1), ink.any(axis=1).sum(axis=1)  # rows, columns

    rows, cols = extent(ada(x, f"ada:rotate=1,rotate_max={10 / 180}"))
    assert (rows >= 2 * cols).all()  # within +-10 degrees the bar stays upright
    rows, cols = extent(ada(x, "ada:rotate=1"))
    assert (cols > rows).any()  # a full turn lays some bars down


def test_ada_auto_is_chosen_from_the_data():
    from keras_gan import runs
    from keras_gan.config import RunConfig
    from keras_gan.data import load_dataset

    config = RunConfig().override(
        ["model=dcgan", "train.augment=ada:auto", "train.ada_target=0.6", "data.image_size=16"]
    )
    data = load_dataset("synthetic:16x16x1?n=8", 16, 1)
    model, _ = runs.build_for_data(config.validate(), data)
    assert model.regularization.augment == "ada:bgc"
    data.style_names = ["Some Font"]
    model, _ = runs.build_for_data(config.validate(), data)
    assert model.regularization.augment == "ada:glyphs"
    with pytest.raises(ValueError, match="ada:auto is chosen from the data by `kgan fit`"):
        model.compile(augment="ada:auto")
    flips = config.override(["train.augment=ada:bgc"]).validate()
    with pytest.raises(ValueError, match="would xflip and rotate90 characters"):
        runs.build_for_data(flips, data)


def test_a_gan_trains_through_the_ada_pipeline():
    z = keras.Input((4,))
    generator = keras.Model(
        z, keras.layers.Reshape((8, 8, 1))(keras.layers.Dense(64, activation="tanh")(z))
    )
    images_in = keras.Input((8, 8, 1))
    critic = keras.Model(images_in, keras.layers.Dense(1)(keras.layers.Flatten()(images_in)))
    gan = GAN(generator, critic, latent_dim=4)
    gan.compile(augment="ada:bgcfnc", ada_target=0.6, ada_kimg=0.1)
    data = {
        "images": np.random.default_rng(5).uniform(-1, 1, (4, 8, 8, 1)).astype("float32"),
        "noise": np.random.default_rng(6).normal(size=(4, gan.noise_draws, 4)).astype("float32"),
    }
    logs = gan.train_step(data)
    assert np.isfinite(float(logs["d_loss"])) and 0 <= float(logs["augment_p"]) <= 1
