"""Layers and networks of the style-based generator (StyleGAN2, Karras et al. 2020).

Simplifications against the paper, for clarity and for CPUs: bilinear up/down-sampling
instead of FIR-filtered resampling, Keras' default initialisers instead of the
equalized learning rate, and a tanh on the output so every keras-gan generator shares
the [-1, 1] contract. Kept: mapping network, per-layer styles (W+), weight
(de)modulation, noise inputs with learned strengths, skip-connected toRGB outputs,
W averaging for truncation, a residual discriminator with minibatch std.

Noise inputs are random in training (per example, seeded from the example's z, so a
function of (seed, step)) and fixed buffers at inference, so an exported generator is
a pure function of z with no random op (what TFLite needs).
"""

from __future__ import annotations

import keras
import tensorflow as tf
from keras import layers
from keras import ops

from keras_gan.models.networks import num_doublings


@keras.saving.register_keras_serializable("keras_gan")
class PixelNorm(layers.Layer):
    def call(self, x):
        return x * ops.rsqrt(ops.mean(ops.square(x), axis=-1, keepdims=True) + 1e-8)


@keras.saving.register_keras_serializable("keras_gan")
class Truncation(layers.Layer):
    """Tracks the average w (training) and pulls w towards it by `psi` (inference)."""

    def __init__(self, psi=1.0, beta=0.995, **kwargs):
        super().__init__(**kwargs)
        self.psi, self.beta = float(psi), float(beta)

    def build(self, input_shape):
        self.w_avg = keras.Variable(
            ops.zeros((input_shape[-1],)),
            trainable=False,
            synchronization="on_read",
            aggregation="mean",
            name="w_avg",
        )

    def call(self, w, training=False):
        if training:
            mean = ops.mean(w, axis=0)
            self.w_avg.assign(mean + self.beta * (self.w_avg.value - mean))
            return w
        if self.psi == 1.0:
            return w
        return self.w_avg.value + self.psi * (w - self.w_avg.value)

    def get_config(self):
        return {**super().get_config(), "psi": self.psi, "beta": self.beta}


@keras.saving.register_keras_serializable("keras_gan")
class NoiseSeeds(layers.Layer):
    """Per-example int32 seed pairs from the bits of z: noise follows z, row by row."""

    def call(self, z):
        return tf.bitcast(ops.cast(z[:, :2], "float32"), tf.int32)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], 2)

    def compute_output_spec(self, z):
        return keras.KerasTensor((z.shape[0], 2), dtype="int32")


@keras.saving.register_keras_serializable("keras_gan")
class ModulatedConv2D(layers.Layer):
    """Convolution whose input channels are scaled by a style from w, and whose outputs
    are demodulated to unit variance: `x*s -> conv -> * rsqrt(sum (W s)^2)` per example
    (the paper's non-fused form, equal to modulating the weights)."""

    def __init__(self, filters, kernel_size, demodulate=True, upsample=False, **kwargs):
        super().__init__(**kwargs)
        self.filters, self.kernel_size = filters, kernel_size
        self.demodulate, self.upsample = demodulate, upsample

    def build(self, input_shape):
        x_shape, w_shape = input_shape
        channels = x_shape[-1]
        self.affine = layers.Dense(channels, bias_initializer="ones", name="affine")
        self.affine.build(w_shape)
        self.kernel = self.add_weight(
            shape=(self.kernel_size, self.kernel_size, channels, self.filters),
            initializer="he_normal",
            name="kernel",
        )

    def call(self, inputs):
        x, w = inputs
        styles = self.affine(w)  # (B, in)
        if self.upsample:
            x = ops.image.resize(x, (x.shape[1] * 2, x.shape[2] * 2), interpolation="bilinear")
        x = x * styles[:, None, None, :]
        x = ops.conv(x, self.kernel, padding="same")
        if self.demodulate:
            # sum over (k, k, in) of (W * s)^2, per example and output channel
            weight = ops.sum(ops.square(self.kernel), axis=(0, 1))  # (in, out)
            coefficients = ops.rsqrt(ops.matmul(ops.square(styles), weight) + 1e-8)
            x = x * coefficients[:, None, None, :]
        return x

    def compute_output_shape(self, input_shape):
        batch, height, width, _ = input_shape[0]
        scale = 2 if self.upsample else 1
        return (batch, height * scale if height else None, width * scale if width else None,
                self.filters)  # fmt: skip

    def get_config(self):
        return {
            **super().get_config(),
            "filters": self.filters,
            "kernel_size": self.kernel_size,
            "demodulate": self.demodulate,
            "upsample": self.upsample,
        }


@keras.saving.register_keras_serializable("keras_gan")
class NoiseInput(layers.Layer):
    """Adds per-pixel noise times a learned strength (0 at start), plus a bias.

    Call on `[x, seeds]`: in training the noise is drawn per example from `seeds`
    (B, 2) and the layer's index; at inference it is a fixed buffer.
    """

    def __init__(self, index, **kwargs):
        super().__init__(**kwargs)
        self.index = int(index)

    def build(self, input_shape):
        _, height, width, channels = input_shape[0]
        self.strength = self.add_weight(shape=(), initializer="zeros", name="strength")
        self.bias = self.add_weight(shape=(channels,), initializer="zeros", name="bias")
        self.constant = self.add_weight(
            shape=(height, width, 1),
            initializer=keras.initializers.RandomNormal(seed=self.index),
            trainable=False,
            name="noise_const",
        )

    def call(self, inputs, training=False):
        x, seeds = inputs
        if training:
            shape = ops.shape(x)
            offset = tf.constant([0, 7919], tf.int32) * (self.index + 1)
            noise = tf.map_fn(
                lambda seed: tf.random.stateless_normal((shape[1], shape[2], 1), seed + offset),
                seeds,
                fn_output_signature=tf.float32,
            )
        else:
            noise = self.constant.value[None]
        return ops.leaky_relu(x + self.strength * noise + self.bias, 0.2) * 2**0.5

    def compute_output_shape(self, input_shape):
        return input_shape[0]

    def get_config(self):
        return {**super().get_config(), "index": self.index}


@keras.saving.register_keras_serializable("keras_gan")
class ConstantInput(layers.Layer):
    """The learned 4x4 starting block, repeated for the batch."""

    def __init__(self, channels, **kwargs):
        super().__init__(**kwargs)
        self.channels = channels

    def build(self, input_shape):
        self.const = self.add_weight(shape=(4, 4, self.channels), initializer="random_normal")

    def call(self, w):
        return ops.broadcast_to(self.const.value[None], (ops.shape(w)[0], 4, 4, self.channels))

    def compute_output_shape(self, input_shape):
        return (input_shape[0], 4, 4, self.channels)

    def get_config(self):
        return {**super().get_config(), "channels": self.channels}


@keras.saving.register_keras_serializable("keras_gan")
class StyleSlot(layers.Layer):
    """The style of one layer: `ws[:, index]`."""

    def __init__(self, index, **kwargs):
        super().__init__(**kwargs)
        self.index = int(index)

    def call(self, ws):
        return ws[:, self.index]

    def compute_output_shape(self, input_shape):
        return (input_shape[0], input_shape[2])

    def get_config(self):
        return {**super().get_config(), "index": self.index}


@keras.saving.register_keras_serializable("keras_gan")
class MinibatchStd(layers.Layer):
    """Appends the mean standard deviation over groups of the batch as one feature map.

    Groups are runs of `group_size` consecutive examples (StyleGAN2's code interleaves
    them instead), so replicas whose batches are multiples of the group size form the
    very groups one device forms: training on N replicas equals training on one.
    """

    def __init__(self, group_size=4, **kwargs):
        super().__init__(**kwargs)
        self.group_size = group_size

    def call(self, x):
        shape = ops.shape(x)
        group = ops.minimum(self.group_size, shape[0])
        y = ops.reshape(x, (-1, group, shape[1], shape[2], shape[3]))
        y = ops.sqrt(ops.var(y, axis=1) + 1e-8)  # (B/group, H, W, C)
        y = ops.mean(y, axis=(1, 2, 3), keepdims=True)  # (B/group, 1, 1, 1)
        y = ops.tile(ops.repeat(y, group, axis=0), (1, shape[1], shape[2], 1))
        return ops.concatenate([x, y], axis=-1)

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], input_shape[-1] + 1)

    def get_config(self):
        return {**super().get_config(), "group_size": self.group_size}


def num_styles(image_size: int) -> int:
    """Style slots: one conv at 4x4, two per higher resolution, one toRGB each."""
    stages = num_doublings(image_size)
    return 1 + 2 * stages + (stages + 1)


def mapping_network(latent_dim, w_dim, layers_count, num_classes=0, name="mapping"):
    """z (and class) -> w: pixel norm, then `layers_count` dense layers with leaky ReLU."""
    z = keras.Input((latent_dim,), name="z")
    x = PixelNorm()(z)
    inputs = z
    if num_classes:
        label = keras.Input((), dtype="int32", name="labels")
        inputs = [z, label]
        x = layers.Concatenate()([x, PixelNorm()(layers.Embedding(num_classes, w_dim)(label))])
    for _ in range(layers_count):
        x = layers.Dense(w_dim)(x)
        x = layers.LeakyReLU(0.2)(x)
    return keras.Model(inputs, x, name=name)


def synthesis_network(w_dim, image_size, channels, width, name="synthesis"):
    """[ws (B, num_styles, w_dim), seeds (B, 2)] -> image, skip architecture."""
    stages = num_doublings(image_size)
    ws = keras.Input((num_styles(image_size), w_dim), name="ws")
    seeds = keras.Input((2,), dtype="int32", name="seeds")
    slot = iter(range(num_styles(image_size)))

    def style():
        return StyleSlot(next(slot))(ws)

    x = ConstantInput(width)(ws)
    noise_index = 0

    def conv(x, upsample):
        nonlocal noise_index
        x = ModulatedConv2D(width, 3, upsample=upsample)([x, style()])
        noise_index += 1
        return NoiseInput(noise_index)([x, seeds])

    x = conv(x, upsample=False)
    rgb = ModulatedConv2D(channels, 1, demodulate=False)([x, style()])
    for _ in range(stages):
        x = conv(conv(x, upsample=True), upsample=False)
        rgb = layers.UpSampling2D(interpolation="bilinear")(rgb)
        rgb = layers.Add()([rgb, ModulatedConv2D(channels, 1, demodulate=False)([x, style()])])
    images = layers.Activation("tanh", dtype="float32", name="images")(rgb)
    return keras.Model([ws, seeds], images, name=name)


def style_discriminator(image_size, channels, width, num_classes=0, name="discriminator"):
    """Residual D (StyleGAN2's): fromRGB, down blocks scaled by 1/sqrt(2), minibatch std,
    a conv and two dense layers; with `num_classes`, a projection term."""
    stages = num_doublings(image_size)
    images = keras.Input((image_size, image_size, channels), name="images")
    x = layers.LeakyReLU(0.2)(layers.Conv2D(width, 1)(images))
    for _ in range(stages):
        skip = layers.Conv2D(width, 1, use_bias=False)(layers.AveragePooling2D(2)(x))
        x = layers.LeakyReLU(0.2)(layers.Conv2D(width, 3, padding="same")(x))
        x = layers.AveragePooling2D(2)(x)
        x = layers.LeakyReLU(0.2)(layers.Conv2D(width, 3, padding="same")(x))
        x = layers.Rescaling(2**-0.5)(layers.Add()([x, skip]))
    x = MinibatchStd()(x)
    x = layers.LeakyReLU(0.2)(layers.Conv2D(width, 3, padding="same")(x))
    features = layers.LeakyReLU(0.2)(layers.Dense(width)(layers.Flatten()(x)))
    logits = layers.Dense(1)(features)
    inputs = images
    if num_classes:
        label = keras.Input((), dtype="int32", name="labels")
        inputs = [images, label]
        projection = layers.Dot(axes=1)([layers.Embedding(num_classes, width)(label), features])
        logits = layers.Add()([logits, projection])
    logits = layers.Activation("linear", dtype="float32", name="logits")(logits)
    return keras.Model(inputs, logits, name=name)
