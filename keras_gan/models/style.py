"""Layers and networks of the style-based generator (StyleGAN2, Karras et al. 2020).

As published (the defaults): the equalized learning rate (weights drawn N(0, 1) and
scaled by He's constant at run time, so Adam's step is the same for every layer; the
mapping network at a learning-rate multiplier, 0.01 in the paper) and FIR resampling
with the separable [1, 3, 3, 1] filter (upfirdn2d). `equalized=False,
resample="bilinear"` is the lighter variant for CPUs: Keras' default initialisers and
bilinear up/down-sampling. Both keep a tanh on the output, so every keras-gan generator
shares the [-1, 1] contract. Kept from the paper: mapping network, per-layer styles
(W+), weight (de)modulation, noise inputs with learned strengths, skip-connected toRGB
outputs, W averaging for truncation, a residual discriminator with minibatch std.

Noise inputs are random in training (per example, seeded from the example's z, so a
function of (seed, step)) and fixed buffers at inference, so an exported generator is
a pure function of z with no random op (what TFLite needs).
"""

from __future__ import annotations

import keras
import tensorflow as tf
from keras import layers
from keras import ops

from keras_gan.models.layers import Conv2D
from keras_gan.models.layers import same_conv2d
from keras_gan.models.networks import num_doublings

RESAMPLE = ("fir", "bilinear")
FIR_TAPS = (1.0, 3.0, 3.0, 1.0)  # StyleGAN2's resample filter (a binomial, upfirdn2d)


def fir_kernel(channels: int, gain: float = 1.0):
    """The separable [1, 3, 3, 1] filter as a depthwise kernel (4, 4, channels, 1),
    normalised to sum to `gain`."""
    taps = ops.convert_to_tensor(FIR_TAPS)
    kernel = taps[:, None] * taps[None, :]
    kernel = kernel * (gain / ops.sum(kernel))
    return ops.tile(kernel[:, :, None, None], (1, 1, channels, 1))


def fir_upsample(x):
    """2x upsampling as upfirdn2d does it: zeros between the samples, then the filter
    at gain 4 (each output sees a quarter of the taps), padded (2, 1)."""
    height, width, channels = x.shape[1], x.shape[2], x.shape[3]
    x = ops.reshape(x, (-1, height, 1, width, 1, channels))
    x = ops.pad(x, [[0, 0], [0, 0], [0, 1], [0, 0], [0, 1], [0, 0]])
    x = ops.reshape(x, (-1, 2 * height, 2 * width, channels))
    x = ops.pad(x, [[0, 0], [2, 1], [2, 1], [0, 0]])
    return ops.depthwise_conv(x, fir_kernel(channels, 4.0), padding="valid")


def fir_filter(x, pad: int, stride: int = 1):
    """The filter at gain 1 after `pad` pixels of zeros on each side, every `stride`-th
    output kept (stride 2, pad 1: upfirdn2d's 2x downsampling)."""
    x = ops.pad(x, [[0, 0], [pad, pad], [pad, pad], [0, 0]])
    return ops.depthwise_conv(x, fir_kernel(x.shape[-1]), strides=stride, padding="valid")


def resample(x, factor, kind="fir"):
    """2x up- (`factor` 2) or downsampling (0.5) of feature maps: "fir" or "bilinear"
    (bilinear up, 2x2 average down)."""
    if kind not in RESAMPLE:
        raise ValueError(f"resample must be one of {RESAMPLE}, got {kind!r}")
    if kind == "fir":
        return fir_upsample(x) if factor == 2 else fir_filter(x, pad=1, stride=2)
    if factor == 2:
        return ops.image.resize(x, (x.shape[1] * 2, x.shape[2] * 2), interpolation="bilinear")
    return ops.average_pool(x, 2, 2)


@keras.saving.register_keras_serializable("keras_gan")
class Resample(layers.Layer):
    """`resample` as a layer."""

    def __init__(self, factor, kind="fir", **kwargs):
        super().__init__(**kwargs)
        self.factor, self.kind = factor, kind

    def call(self, x):
        return resample(x, self.factor, self.kind)

    def compute_output_shape(self, input_shape):
        batch, height, width, channels = input_shape
        return (batch, int(height * self.factor), int(width * self.factor), channels)

    def get_config(self):
        return {**super().get_config(), "factor": self.factor, "kind": self.kind}


def he_gain(fan_in: int, lr_multiplier: float = 1.0) -> float:
    """The equalized learning rate's run-time weight scale: He's constant sqrt(2/fan_in)
    without the sqrt(2) (StyleGAN's layers put it in the activation), times the
    learning-rate multiplier."""
    return lr_multiplier / fan_in**0.5


@keras.saving.register_keras_serializable("keras_gan")
class EqualizedDense(layers.Layer):
    """Dense layer with the equalized learning rate: the stored kernel is N(0, 1/m^2)
    for a multiplier m, used as `kernel * m / sqrt(fan_in)`, and the bias as `bias * m`;
    Adam's step on the stored values is then m/sqrt(fan_in) of its size on the used
    ones, the same relative step in every layer (Karras et al. 2018)."""

    def __init__(self, units, lr_multiplier=1.0, bias_init=0.0, **kwargs):
        super().__init__(**kwargs)
        self.units, self.lr_multiplier, self.bias_init = units, float(lr_multiplier), bias_init

    def build(self, input_shape):
        self.fan_in = input_shape[-1]
        self.kernel = self.add_weight(
            shape=(self.fan_in, self.units),
            initializer=keras.initializers.RandomNormal(stddev=1.0 / self.lr_multiplier),
            name="kernel",
        )
        self.bias = self.add_weight(
            shape=(self.units,),
            initializer=keras.initializers.Constant(self.bias_init / self.lr_multiplier),
            name="bias",
        )

    def call(self, x):
        kernel = self.kernel * he_gain(self.fan_in, self.lr_multiplier)
        return ops.matmul(x, kernel) + self.bias * self.lr_multiplier

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], self.units)

    def get_config(self):
        return {
            **super().get_config(),
            "units": self.units,
            "lr_multiplier": self.lr_multiplier,
            "bias_init": self.bias_init,
        }


@keras.saving.register_keras_serializable("keras_gan")
class EqualizedConv2D(layers.Layer):
    """Convolution with the equalized learning rate (kernel N(0, 1) used as
    `kernel / sqrt(k * k * in)`), "same" size, or halving the size with `down` as
    StyleGAN2 does: the FIR filter padded by 2 (1 for a 1x1 kernel), then the
    convolution at stride 2."""

    def __init__(self, filters, kernel_size, down=False, use_bias=True, **kwargs):
        super().__init__(**kwargs)
        self.filters, self.kernel_size = filters, kernel_size
        self.down, self.use_bias = down, use_bias

    def build(self, input_shape):
        self.fan_in = self.kernel_size**2 * input_shape[-1]
        shape = (self.kernel_size, self.kernel_size, input_shape[-1], self.filters)
        self.kernel = self.add_weight(shape=shape, initializer="random_normal", name="kernel")
        if self.use_bias:
            self.bias = self.add_weight(shape=(self.filters,), initializer="zeros", name="bias")

    def call(self, x):
        kernel = self.kernel * he_gain(self.fan_in)
        if self.down:
            x = fir_filter(x, pad=(self.kernel_size + 1) // 2)
            x = ops.conv(x, kernel, strides=2, padding="valid")
        else:
            x = same_conv2d(x, ops.cast(kernel, x.dtype))
        return x + self.bias if self.use_bias else x

    def compute_output_shape(self, input_shape):
        batch, height, width, _ = input_shape
        if self.down:
            height, width = height // 2, width // 2
        return (batch, height, width, self.filters)

    def get_config(self):
        return {
            **super().get_config(),
            "filters": self.filters,
            "kernel_size": self.kernel_size,
            "down": self.down,
            "use_bias": self.use_bias,
        }


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
    (the paper's non-fused form, equal to modulating the weights).

    `equalized`: N(0, 1) kernel and an equalized affine (bias 1); without demodulation
    (toRGB) the styles carry the run-time gain 1/sqrt(k * k * in), as in the paper.
    `upsample` resamples first (`resample`); the paper's transposed convolution then
    filter is the same linear map away from the borders (convolutions commute).
    """

    def __init__(
        self,
        filters,
        kernel_size,
        demodulate=True,
        upsample=False,
        equalized=False,
        resample="bilinear",
        use_bias=False,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.filters, self.kernel_size = filters, kernel_size
        self.demodulate, self.upsample = demodulate, upsample
        self.equalized, self.resample, self.use_bias = equalized, resample, use_bias

    def build(self, input_shape):
        x_shape, w_shape = input_shape
        channels = x_shape[-1]
        if self.equalized:
            self.affine = EqualizedDense(channels, bias_init=1.0, name="affine")
        else:
            self.affine = layers.Dense(channels, bias_initializer="ones", name="affine")
        self.affine.build(w_shape)
        self.kernel = self.add_weight(
            shape=(self.kernel_size, self.kernel_size, channels, self.filters),
            initializer="random_normal" if self.equalized else "he_normal",
            name="kernel",
        )
        if self.use_bias:
            self.bias = self.add_weight(shape=(self.filters,), initializer="zeros", name="bias")

    def call(self, inputs):
        x, w = inputs
        styles = self.affine(w)  # (B, in)
        if self.equalized and not self.demodulate:
            styles = styles * he_gain(self.kernel_size**2 * self.kernel.shape[2])
        if self.upsample:
            x = resample(x, 2, self.resample)
        x = x * styles[:, None, None, :]
        x = same_conv2d(x, ops.cast(self.kernel, x.dtype))
        if self.demodulate:
            # sum over (k, k, in) of (W * s)^2, per example and output channel
            weight = ops.sum(ops.square(self.kernel), axis=(0, 1))  # (in, out)
            coefficients = ops.rsqrt(ops.matmul(ops.square(styles), weight) + 1e-8)
            x = x * coefficients[:, None, None, :]
        return x + self.bias if self.use_bias else x

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
            "equalized": self.equalized,
            "resample": self.resample,
            "use_bias": self.use_bias,
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


def leaky_relu(x, equalized: bool):
    """Leaky ReLU 0.2; times sqrt(2) with the equalized learning rate, whose N(0, 1)
    weights leave He's sqrt(2) to the activation (the paper's bias_act gain)."""
    x = layers.LeakyReLU(0.2)(x)
    return layers.Rescaling(2**0.5)(x) if equalized else x


def mapping_network(
    latent_dim,
    w_dim,
    layers_count,
    num_classes=0,
    equalized=False,
    lr_multiplier=1.0,
    name="mapping",
):
    """z (and class) -> w: pixel norm, then `layers_count` dense layers with leaky ReLU
    (equalized at `lr_multiplier`: 0.01 in the paper, so w moves slower than the rest)."""
    z = keras.Input((latent_dim,), name="z")
    x = PixelNorm()(z)
    inputs = z
    if num_classes:
        label = keras.Input((), dtype="int32", name="labels")
        inputs = [z, label]
        x = layers.Concatenate()([x, PixelNorm()(layers.Embedding(num_classes, w_dim)(label))])
    for _ in range(layers_count):
        if equalized:
            x = EqualizedDense(w_dim, lr_multiplier=lr_multiplier)(x)
        else:
            x = layers.Dense(w_dim)(x)
        x = leaky_relu(x, equalized)
    return keras.Model(inputs, x, name=name)


def synthesis_network(
    w_dim, image_size, channels, width, equalized=False, resample="bilinear", name="synthesis"
):
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
        x = ModulatedConv2D(width, 3, upsample=upsample, equalized=equalized, resample=resample)(
            [x, style()]
        )
        noise_index += 1
        return NoiseInput(noise_index)([x, seeds])

    def to_rgb(x):
        layer = ModulatedConv2D(
            channels, 1, demodulate=False, equalized=equalized, use_bias=equalized
        )
        return layer([x, style()])

    x = conv(x, upsample=False)
    rgb = to_rgb(x)
    for _ in range(stages):
        x = conv(conv(x, upsample=True), upsample=False)
        rgb = layers.Add()([Resample(2, resample)(rgb), to_rgb(x)])
    images = layers.Activation("tanh", dtype="float32", name="images")(rgb)
    return keras.Model([ws, seeds], images, name=name)


def style_discriminator(
    image_size,
    channels,
    width,
    num_classes=0,
    equalized=False,
    resample="bilinear",
    name="discriminator",
):
    """Residual D (StyleGAN2's): fromRGB, down blocks scaled by 1/sqrt(2), minibatch std,
    a conv and two dense layers; with `num_classes`, a projection term. Equalized, it
    halves the size as the paper does (FIR then stride-2 convolutions); otherwise by
    2x2 average pooling."""
    stages = num_doublings(image_size)

    def conv(filters, size, down=False, use_bias=True):
        if equalized:
            return EqualizedConv2D(filters, size, down=down, use_bias=use_bias)
        padding = "same" if size > 1 else "valid"
        return Conv2D(filters, size, padding=padding, use_bias=use_bias)

    dense = (lambda units: EqualizedDense(units)) if equalized else layers.Dense
    images = keras.Input((image_size, image_size, channels), name="images")
    x = leaky_relu(conv(width, 1)(images), equalized)
    for _ in range(stages):
        if equalized:
            skip = conv(width, 1, down=True, use_bias=False)(x)
            x = leaky_relu(conv(width, 3)(x), equalized)
            x = leaky_relu(conv(width, 3, down=True)(x), equalized)
        else:
            skip = conv(width, 1, use_bias=False)(layers.AveragePooling2D(2)(x))
            x = leaky_relu(conv(width, 3)(x), equalized)
            x = layers.AveragePooling2D(2)(x)
            x = leaky_relu(conv(width, 3)(x), equalized)
        x = layers.Rescaling(2**-0.5)(layers.Add()([x, skip]))
    x = MinibatchStd()(x)
    x = leaky_relu(conv(width, 3)(x), equalized)
    features = leaky_relu(dense(width)(layers.Flatten()(x)), equalized)
    logits = dense(1)(features)
    inputs = images
    if num_classes:
        label = keras.Input((), dtype="int32", name="labels")
        inputs = [images, label]
        projection = layers.Dot(axes=1)([layers.Embedding(num_classes, width)(label), features])
        logits = layers.Add()([logits, projection])
    logits = layers.Activation("linear", dtype="float32", name="logits")(logits)
    return keras.Model(inputs, logits, name=name)
