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
    assert regularization.parse_policy("translation, color") == ("translation", "color")
    assert regularization.parse_policy("") == ()
    with pytest.raises(ValueError, match="unknown operation.s. flip; valid: translation"):
        regularization.parse_policy("color,flip")


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
