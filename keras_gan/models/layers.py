"""Layers the GAN literature relies on: spectral normalisation and conditional batch
norm; and Keras's convolutions, the same numbers, computed faster on CPUs without AVX-512.

Spectral normalisation here follows Miyato et al. 2018 (and PyTorch's
`spectral_norm`): the kernel used is `W / sigma(W)`, with `sigma` estimated by one
power iteration per training call on a persistent vector `u`, and gradients flow
through `sigma`. (Keras' `SpectralNormalization` wrapper instead *overwrites* the
kernel with `W / sigma` at every training call, so a generator step that runs D in
training mode would change D's weights, and no gradient flows through `sigma`.)
"""

from __future__ import annotations

import contextlib

import keras
import numpy as np
import tensorflow as tf
from keras import layers
from keras import ops


class SpectralNorm:
    """Mixin: `self.spectral_kernel(training)` is the kernel divided by its top singular value."""

    power_iterations = 1

    def _build_u(self, kernel):
        # Each replica updates its own copy of u (on-read sync: no cross-replica call, so
        # it may be updated inside control flow such as a lazy penalty); the copies stay
        # equal because W and u are equal on every replica.
        self.u = keras.Variable(
            initializer=keras.initializers.RandomNormal(stddev=1.0),
            shape=(1, kernel.shape[-1]),
            trainable=False,
            aggregation="mean",
            synchronization="on_read",
            name="sn_u",
        )

    # Keras' Conv/Dense/Embedding save only their kernel and bias: keep u with them.
    def save_own_variables(self, store):
        super().save_own_variables(store)
        if self.built:
            store["sn_u"] = self.u

    def load_own_variables(self, store):
        super().load_own_variables(store)
        if self.built:
            self.u.assign(store["sn_u"])

    def spectral_kernel(self, kernel, training):
        matrix = ops.reshape(kernel, (-1, kernel.shape[-1]))
        u = self.u.value
        for _ in range(self.power_iterations):
            v = _normalize(ops.matmul(u, ops.transpose(matrix)))
            u = _normalize(ops.matmul(v, matrix))
        u, v = ops.stop_gradient(u), ops.stop_gradient(v)
        sigma = ops.sum(ops.matmul(v, matrix) * u)
        if training:
            self.u.assign(u)
        return kernel / sigma


def _normalize(x):
    return x / (ops.sqrt(ops.sum(ops.square(x))) + 1e-12)


@keras.saving.register_keras_serializable("keras_gan")
class Conv2D(layers.Conv2D):
    """Keras's `Conv2D`, the same forward convolution, with gradients computed by faster
    kernels where TensorFlow's CPU kernels are slow (on a CPU without AVX-512): to the
    input of a small strided map by the sub-pixel transposed convolution (4x4x256 ->
    2x2x256, batch 16: 26-32 ms -> 12); to the input and the weights of a stride-1 map
    by plain convolutions (8x8x128 -> 8x8x256: 34 -> 17 and 16 -> 9 ms). font2font
    trains 1.2-1.25x faster, the default job 1.07-1.09x, StyleGAN2 (through
    `same_conv2d`) 1.11x (bench/RESULTS.md, "Convolution gradients"). The same numbers
    to float rounding, the same weights (models saved before load into it),
    differentiable twice (gradient penalties). Other paddings, dilations, groups and
    data formats take Keras's path."""

    fast_gradients = True  # False inside `tf_convolutions`

    def convolution_op(self, inputs, kernel):
        if (
            self.padding != "same"
            or self.data_format != "channels_last"
            or self.groups != 1
            or any(d != 1 for d in self.dilation_rate)
        ):
            return super().convolution_op(inputs, kernel)
        return same_conv2d(inputs, ops.cast(kernel, inputs.dtype), tuple(self.strides))


@keras.saving.register_keras_serializable("keras_gan")
class SNConv2D(SpectralNorm, Conv2D):
    """`Conv2D` with a spectrally normalised kernel."""

    def build(self, input_shape):
        super().build(input_shape)
        self._build_u(self.kernel)

    def call(self, inputs, training=False):
        outputs = self.convolution_op(inputs, self.spectral_kernel(self.kernel, training))
        if self.use_bias:
            outputs = outputs + self.bias
        return self.activation(outputs) if self.activation is not None else outputs


@keras.saving.register_keras_serializable("keras_gan")
class SNDense(SpectralNorm, layers.Dense):
    """`Dense` with a spectrally normalised kernel."""

    def build(self, input_shape):
        super().build(input_shape)
        self._build_u(self.kernel)

    def call(self, inputs, training=False):
        outputs = ops.matmul(inputs, self.spectral_kernel(self.kernel, training))
        if self.use_bias:
            outputs = outputs + self.bias
        return self.activation(outputs) if self.activation is not None else outputs


@keras.saving.register_keras_serializable("keras_gan")
class SNEmbedding(SpectralNorm, layers.Embedding):
    """`Embedding` whose table is spectrally normalised (the projection discriminator's)."""

    def build(self, input_shape=None):
        super().build(input_shape)
        self._build_u(self.embeddings)

    def call(self, inputs, training=False):
        table = self.spectral_kernel(self.embeddings, training)
        return ops.take(table, ops.cast(inputs, "int32"), axis=0)

    def compute_output_spec(self, inputs, training=False):
        return super().compute_output_spec(inputs)


@keras.saving.register_keras_serializable("keras_gan")
class ConditionalBatchNorm(layers.Layer):
    """Batch norm whose scale and shift are looked up per class (de Vries et al. 2017).

    Call on `[features, labels]`; scale starts at 1 and shift at 0 for every class.
    Statistics are synchronised across replicas, like the other batch norms here.
    """

    def __init__(self, num_classes, momentum=0.9, epsilon=1e-5, **kwargs):
        super().__init__(**kwargs)
        self.num_classes, self.momentum, self.epsilon = num_classes, momentum, epsilon
        self.norm = layers.BatchNormalization(
            synchronized=True, momentum=momentum, epsilon=epsilon, center=False, scale=False
        )

    def build(self, input_shape):
        channels = input_shape[0][-1]
        self.norm.build(input_shape[0])
        self.gamma = layers.Embedding(self.num_classes, channels, embeddings_initializer="ones")
        self.beta = layers.Embedding(self.num_classes, channels, embeddings_initializer="zeros")
        self.gamma.build((None,))
        self.beta.build((None,))

    def call(self, inputs, training=False):
        features, labels = inputs
        normalized = self.norm(features, training=training)
        gamma = ops.reshape(self.gamma(labels), (-1, 1, 1, features.shape[-1]))
        beta = ops.reshape(self.beta(labels), (-1, 1, 1, features.shape[-1]))
        return normalized * gamma + beta

    def compute_output_shape(self, input_shape):
        return input_shape[0]

    def get_config(self):
        return {
            **super().get_config(),
            "num_classes": self.num_classes,
            "momentum": self.momentum,
            "epsilon": self.epsilon,
        }


@keras.saving.register_keras_serializable("keras_gan")
class GlobalSumPooling2D(layers.Layer):
    """Sum over height and width (SNGAN's D: a sum, not a mean, keeps the logit's scale)."""

    def call(self, inputs):
        return ops.sum(inputs, axis=(1, 2))

    def compute_output_shape(self, input_shape):
        return (input_shape[0], input_shape[-1])


@keras.saving.register_keras_serializable("keras_gan")
class Conv2DTranspose(layers.Conv2DTranspose):
    """Keras's `Conv2DTranspose` that runs small maps as one plain convolution: the
    `s x s` output pixels that each input pixel starts (its phases) are `s*s` groups
    of output channels, regrouped into space (sub-pixel convolution, Shi et al. 2016);
    gradients are TF's own. The same numbers to float rounding and the same weights
    (models saved before load into it). TensorFlow's transposed-convolution kernel
    runs a generator's small wide maps (2x2x512 -> 4x4x256) 6-9x slower on a CPU
    without AVX-512; there, with this layer, the font models draw 3x faster and the
    default job trains 1.4-1.9x faster (bench/RESULTS.md, "Transposed convolutions as
    convolutions"). Large maps, other paddings, dilations and data formats take
    Keras's path."""

    # Above this many input pixels TF's kernel is the faster one: the sub-pixel form
    # multiplies 2.25x as many numbers (9 taps x 4 phases against 16 taps, for 4 x 4
    # kernels of stride 2), which small maps repay and large ones do not.
    sub_pixel_max_pixels = 64

    def call(self, inputs):
        if (
            self.padding != "same"
            or self.data_format != "channels_last"
            or self.output_padding is not None
            or any(d != 1 for d in self.dilation_rate)
            or (inputs.shape[1] or 0) * (inputs.shape[2] or 0) > self.sub_pixel_max_pixels
        ):
            return super().call(inputs)
        kernel = ops.cast(self.kernel, inputs.dtype)
        x = _transpose_conv(inputs, kernel, tuple(self.strides))
        if self.use_bias:
            x = x + self.bias
        return self.activation(x) if self.activation is not None else x


@contextlib.contextmanager
def tf_convolutions():
    """Inside it, `Conv2DTranspose`, `Conv2D` and `same_conv2d` trace TF's own kernels:
    for exported graphs, which keep the layout they had (TFLite has a transposed-
    convolution op, and its converter would store the sub-pixel kernel, 2.25x the
    weights: a TFLite generator 24% larger) and hold no custom gradients. Not for use
    beside a trace in another thread."""
    saved = Conv2DTranspose.sub_pixel_max_pixels, Conv2D.fast_gradients
    Conv2DTranspose.sub_pixel_max_pixels, Conv2D.fast_gradients = 0, False
    try:
        yield
    finally:
        Conv2DTranspose.sub_pixel_max_pixels, Conv2D.fast_gradients = saved


def same_conv2d(inputs, kernel, strides: tuple[int, int] = (1, 1)):
    """TF's "same" `conv2d(inputs, kernel, strides)` (NHWC), its gradients by
    `_input_gradient` and `_filter_gradient` (see `Conv2D`); by TF's kernels alone
    inside `tf_convolutions` or where the height or width is not known."""
    if not Conv2D.fast_gradients or None in inputs.shape[1:3]:
        return tf.nn.conv2d(inputs, kernel, strides, "SAME")

    @tf.custom_gradient
    def conv(inputs, kernel):
        def gradient(upstream):
            return (
                _input_gradient(upstream, kernel, strides, inputs.shape),
                _filter_gradient(inputs, upstream, kernel.shape, strides),
            )

        return tf.nn.conv2d(inputs, kernel, strides, "SAME"), gradient

    return conv(inputs, kernel)


def _input_gradient(upstream, kernel, strides, input_shape):
    """The gradient of a "same" convolution to its input, `input_shape` (static height
    and width). Stride 1: the convolution of `upstream` with the kernel flipped (padded
    on the other sides). Strided, with the input a whole number of strides: TF's
    transposed convolution, as the sub-pixel form where that is faster. Else TF's."""
    height, width = input_shape[1:3]
    if strides == (1, 1):
        flipped = tf.transpose(kernel[::-1, ::-1], (0, 1, 3, 2))
        padding = [[0, 0], *(pads[::-1] for pads in _same_pads(kernel.shape)), [0, 0]]
        return tf.nn.conv2d(tf.pad(upstream, padding), flipped, 1, "VALID")
    if (
        height % strides[0] == 0
        and width % strides[1] == 0
        and upstream.shape[1] * upstream.shape[2] <= Conv2DTranspose.sub_pixel_max_pixels
    ):
        return _transpose_conv(upstream, kernel, strides)
    sizes = tf.concat([tf.shape(upstream)[:1], [height, width, kernel.shape[2]]], 0)
    return tf.compat.v1.nn.conv2d_backprop_input(sizes, kernel, upstream, (1, *strides, 1), "SAME")


def _filter_gradient(inputs, upstream, kernel_shape, strides):
    """The gradient of a "same" convolution to its kernel. Stride 1: one convolution,
    the batch as channels (`inputs` padded, channels first, against `upstream` as the
    filter): 1.3-5x faster than TF's kernel on the maps measured (bench/RESULTS.md,
    "Convolution gradients"); strided, TF's, which that form does not beat."""
    if strides != (1, 1):
        return tf.compat.v1.nn.conv2d_backprop_filter(
            inputs, list(kernel_shape), upstream, (1, *strides, 1), "SAME"
        )
    padding = [[0, 0], *_same_pads(kernel_shape), [0, 0]]
    channels_first = tf.transpose(tf.pad(inputs, padding), (3, 1, 2, 0))
    gradient = tf.nn.conv2d(channels_first, tf.transpose(upstream, (1, 2, 0, 3)), 1, "VALID")
    return tf.transpose(gradient, (1, 2, 0, 3))


def _same_pads(kernel_shape):
    """TF's "same" padding at stride 1, (before, after) along height and width."""
    return [[(size - 1) // 2, size - 1 - (size - 1) // 2] for size in kernel_shape[:2]]


def _transpose_conv(inputs, kernel, strides: tuple[int, int]):
    """TF's "same" `conv2d_transpose(inputs, kernel, strides)`: forward by the sub-pixel
    convolution; backward by TF's own gradient of it (a strided convolution and a filter
    gradient: the sub-pixel convolution's own input gradient is the slow kernel again)."""
    (sh, sw), (kh, kw, filters, channels) = strides, kernel.shape
    (taps_h, pad_h), (taps_w, pad_w) = _phase_taps(kh, sh), _phase_taps(kw, sw)
    rows, cols = len(taps_h) // sh, len(taps_w) // sw

    @tf.custom_gradient
    def transpose_conv(inputs, kernel):
        # kernel (kh, kw, filters, in) -> (offsets h, offsets w, in, sh * sw * filters),
        # by picking taps (a zero tap appended for the phases that have none). Gathers:
        # an einsum with one-hot tap matrices cost 4-8x the convolution (2x2x512: 54 ms
        # against 10, AMD EPYC, batch 16).
        phases = tf.pad(kernel, [[0, 1], [0, 1], [0, 0], [0, 0]])
        phases = tf.gather(tf.gather(phases, taps_h, axis=0), taps_w, axis=1)
        phases = tf.reshape(phases, (rows, sh, cols, sw, filters, channels))
        phases = tf.transpose(phases, (0, 2, 5, 1, 3, 4))
        phases = tf.reshape(phases, (rows, cols, channels, sh * sw * filters))
        _, height, width, _ = tf.unstack(tf.shape(inputs))
        x = tf.nn.conv2d(tf.pad(inputs, [[0, 0], pad_h, pad_w, [0, 0]]), phases, 1, "VALID")
        x = tf.reshape(x, (-1, height, width, sh, sw, filters))
        x = tf.transpose(x, (0, 1, 3, 2, 4, 5))

        def gradient(upstream):
            return (
                tf.nn.conv2d(upstream, kernel, strides, "SAME"),
                _filter_gradient(upstream, inputs, kernel.shape, strides),
            )

        return tf.reshape(x, (-1, height * sh, width * sw, filters)), gradient

    return transpose_conv(inputs, kernel)


def _phase_taps(size: int, stride: int):
    """For TF's "same" transposed convolution along one axis: the kernel tap at
    `i * stride + a` joins input pixel `q + i - before` to output pixel `q * stride + a`
    (`size`, one past the taps, where none does), and the (before, after) padding of
    the input."""
    start = max(size - stride, 0) // 2  # what the forward convolution pads before
    before, after = (size - 1 - start) // stride, (stride - 1 + start) // stride
    taps = np.full((before + after + 1, stride), size, np.int32)
    for i, offset in enumerate(range(-before, after + 1)):
        for phase in range(stride):
            tap = phase + start - offset * stride
            if 0 <= tap < size:
                taps[i, phase] = tap
    return taps.reshape(-1), [before, after]
