"""Layers the GAN literature relies on: spectral normalisation and conditional batch norm.

Spectral normalisation here follows Miyato et al. 2018 (and PyTorch's
`spectral_norm`): the kernel used is `W / sigma(W)`, with `sigma` estimated by one
power iteration per training call on a persistent vector `u`, and gradients flow
through `sigma`. (Keras' `SpectralNormalization` wrapper instead *overwrites* the
kernel with `W / sigma` at every training call, so a generator step that runs D in
training mode would change D's weights, and no gradient flows through `sigma`.)
"""

from __future__ import annotations

import keras
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
class SNConv2D(SpectralNorm, layers.Conv2D):
    """`Conv2D` with a spectrally normalised kernel."""

    def build(self, input_shape):
        super().build(input_shape)
        self._build_u(self.kernel)

    def call(self, inputs, training=False):
        outputs = ops.conv(
            inputs,
            self.spectral_kernel(self.kernel, training),
            strides=self.strides,
            padding=self.padding,
            data_format=self.data_format,
            dilation_rate=self.dilation_rate,
        )
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
