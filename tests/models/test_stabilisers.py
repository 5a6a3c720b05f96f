"""The stabilisers against analytic values (penalties, spectral norm, EMA) and the
papers' default settings of the variants."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_gan.losses import penalties
from keras_gan.models import GAN
from keras_gan.models import LSGAN
from keras_gan.models import SNGAN
from keras_gan.models import WGANGP
from keras_gan.models.layers import SNConv2D
from keras_gan.models.step import Batch
from keras_gan.regularization import Regularization

SMALL = {"latent_dim": 8, "image_size": 16, "channels": 3, "filters": 4, "seed": 3}


def test_variants_bring_the_papers_settings():
    wgan = WGANGP(**SMALL)
    wgan.compile()
    assert wgan.adversarial_loss.name == "wasserstein"
    assert wgan.regularization == Regularization(gradient_penalty=10.0, n_critic=5)
    assert float(wgan.d_optimizer.learning_rate) == pytest.approx(1e-4)
    assert (wgan.d_optimizer.beta_1, wgan.d_optimizer.beta_2) == (0.0, 0.9)
    sngan = SNGAN(**SMALL)
    sngan.compile()
    assert sngan.adversarial_loss.name == "hinge" and sngan.regularization.n_critic == 5
    lsgan = LSGAN(**SMALL)
    lsgan.compile(loss="hinge", n_critic=2)  # every default can be overridden
    assert lsgan.adversarial_loss.name == "hinge" and lsgan.regularization.n_critic == 2
    with pytest.raises(ValueError, match="n_critic must be a positive integer, got 0"):
        lsgan.compile(n_critic=0)


def tiny_gan(discriminator, **compile_kwargs):
    """A GAN whose D is given: G is a linear map from z to 4x4x1 images."""
    z = keras.Input((2,))
    generator = keras.Model(z, keras.layers.Reshape((4, 4, 1))(keras.layers.Dense(16)(z)))
    gan = GAN(generator, discriminator, latent_dim=2)
    gan.compile(**compile_kwargs)
    return gan


def linear_critic(weights):
    images = keras.Input((4, 4, 1))
    dense = keras.layers.Dense(1, use_bias=False)
    critic = keras.Model(images, dense(keras.layers.Flatten()(images)))
    dense.kernel.assign(weights.reshape(16, 1))
    return critic


def test_gradient_penalty_of_a_linear_critic():
    # D(x) = <w, x>: the gradient is w at every interpolate, so GP = (|w| - 1)^2.
    w = np.arange(16, dtype="float32") / 20.0
    gan = tiny_gan(linear_critic(w), loss="wasserstein", gradient_penalty=10.0)
    images = tf.random.normal((3, 4, 4, 1))
    norm = penalties.input_gradient_norm(gan.critic(Batch(images)), images)
    np.testing.assert_allclose(norm, [np.linalg.norm(w)] * 3, rtol=1e-6)
    noise = tf.random.normal((3, 2, 2))
    logs = gan.discriminator_step(Batch(images, noise=noise))
    np.testing.assert_allclose(logs["gp"], [(np.linalg.norm(w) - 1) ** 2] * 3, rtol=1e-5)


class SumOfSquares(keras.layers.Layer):
    """c |x|^2 with a trainable c = 1 (so the D optimizer steps; at rate 0 it stays 1)."""

    def build(self, input_shape):
        self.c = self.add_weight(shape=(), initializer="ones")

    def call(self, x):
        return self.c * keras.ops.sum(keras.ops.square(x), axis=(1, 2, 3))[:, None]


def test_r1_of_a_quadratic_critic_with_lazy_interval():
    # D(x) = |x|^2: grad = 2x, so R1 = |2x|^2 = 4|x|^2 on real images, every 2nd step.
    images_in = keras.Input((4, 4, 1))
    critic = keras.Model(images_in, SumOfSquares()(images_in))
    gan = tiny_gan(critic, d_optimizer=keras.optimizers.SGD(0.0), r1_gamma=1.0, r1_interval=2)
    images = tf.random.normal((3, 4, 4, 1))
    expected = 4 * tf.reduce_sum(tf.square(images), axis=(1, 2, 3)).numpy()
    noise = tf.zeros((3, 1, 2))
    first = gan.discriminator_step(Batch(images, noise=noise))  # d iterations 0: due
    np.testing.assert_allclose(first["r1"], expected, rtol=1e-5)
    second = gan.discriminator_step(Batch(images, noise=noise))  # iterations 1: skipped
    np.testing.assert_array_equal(second["r1"], np.zeros(3))
    third = gan.discriminator_step(Batch(images, noise=noise))
    np.testing.assert_allclose(third["r1"], expected, rtol=1e-5)


def test_spectral_norm_makes_the_top_singular_value_one():
    layer = SNConv2D(5, 3)
    x = tf.random.normal((2, 6, 6, 4))
    layer(x)
    layer.kernel.assign(tf.random.normal(layer.kernel.shape) * 3.0)
    for _ in range(50):  # one power iteration per training call
        layer(x, training=True)
    kernel = layer.spectral_kernel(layer.kernel, training=False).numpy()
    sigma = np.linalg.svd(kernel.reshape(-1, 5), compute_uv=False)[0]
    assert sigma == pytest.approx(1.0, abs=1e-3)
    # The stored kernel is untouched (Keras' wrapper would have overwritten it).
    assert np.linalg.svd(layer.kernel.numpy().reshape(-1, 5), compute_uv=False)[0] > 2


def test_ema_generator_averages_with_its_half_life():
    gan = LSGAN(**SMALL)
    gan.compile(ema_kimg=0.004)  # half-life 4 images = one batch of 4: beta = 0.5
    before = [w.numpy() for w in gan.generator.trainable_weights]
    data = {
        "images": np.zeros((4, 16, 16, 3), "float32"),
        "noise": np.random.default_rng(0).normal(size=(4, 2, 8)).astype("float32"),
    }
    gan.train_step(data)
    after = [w.numpy() for w in gan.generator.trainable_weights]
    ema = {w.path: w.numpy() for w in gan.ema_generator.trainable_weights}
    for old, new, average in zip(before, after, ema.values()):
        np.testing.assert_allclose(average, (old + new) / 2, rtol=1e-5, atol=1e-7)
    z = np.random.default_rng(1).normal(size=(2, 8)).astype("float32")
    np.testing.assert_array_equal(gan.generate(z), gan.ema_generator(z, training=False))
    assert not np.array_equal(gan.generate(z), gan.generator(z, training=False))
