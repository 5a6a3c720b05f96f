"""keras_gan's Conv2D: Keras's layer with its gradients computed by other kernels."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_gan.models.layers import Conv2D
from keras_gan.models.layers import SNConv2D
from keras_gan.models.layers import tf_convolutions
from keras_gan.models.style import EqualizedConv2D
from keras_gan.models.style import ModulatedConv2D


def pair(filters, kernel, strides, size, **kwargs):
    """Keras's layer and ours, built on the same input, holding the same weights."""
    theirs = keras.layers.Conv2D(filters, kernel, strides, **kwargs)
    ours = Conv2D(filters, kernel, strides, **kwargs)
    rng = np.random.default_rng(0)
    x = tf.constant(rng.normal(size=(3, *size, 5)), tf.float32)
    theirs(x), ours(x)
    theirs.set_weights([rng.normal(size=w.shape).astype("float32") for w in theirs.weights])
    ours.set_weights(theirs.get_weights())
    return theirs, ours, x


def gradients(layer, x, *more_inputs):
    """The output, and the gradients of a loss unlike the output's to the input and the
    kernel, and of the input gradient's norm (a gradient penalty) to the kernel."""
    with tf.GradientTape() as outer:
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = layer([x, *more_inputs] if more_inputs else x)
            weights = tf.reshape(tf.range(tf.size(y)) % 7, y.shape)
            loss = tf.reduce_sum(y * tf.cast(weights, tf.float32) + tf.square(y))
        dx, dw = tape.gradient(loss, [x, layer.kernel])
        penalty = tf.reduce_sum(tf.square(dx))
    return y, dx, dw, outer.gradient(penalty, layer.kernel)


def assert_close(got, expected):
    assert got[0].shape == expected[0].shape
    for ours_value, theirs_value in zip(got, expected, strict=True):
        scale = float(tf.reduce_max(tf.abs(theirs_value)))
        np.testing.assert_allclose(ours_value, theirs_value, rtol=1e-4, atol=1e-5 * scale)


@pytest.mark.parametrize(
    "kernel, strides, size, kwargs",
    [
        (4, 2, (4, 6), {"padding": "same"}),  # small strided maps: the sub-pixel input gradient
        (4, 2, (2, 2), {"padding": "same", "use_bias": False}),
        (4, 2, (16, 18), {"padding": "same"}),  # above the sub-pixel bound: TF's kernel
        (3, 2, (6, 8), {"padding": "same", "activation": "tanh"}),
        (4, 2, (5, 6), {"padding": "same"}),  # not whole strides: TF's kernel
        (4, 2, (6, 5), {"padding": "same"}),
        (4, 1, (4, 6), {"padding": "same"}),  # stride 1: flipped kernel, batch as channels
        (3, 1, (5, 7), {"padding": "same"}),
        ((2, 3), 1, (4, 6), {"padding": "same"}),
        (1, 1, (3, 5), {"padding": "same"}),
        (4, 2, (8, 10), {"padding": "valid"}),  # Keras's own path
    ],
)
def test_it_convolves_and_learns_as_keras_does(kernel, strides, size, kwargs):
    theirs, ours, x = pair(4, kernel, strides, size, **kwargs)
    assert_close(gradients(ours, x), gradients(theirs, x))


def test_spectral_norm_takes_the_same_gradients():
    layer = SNConv2D(3, 4, 1, padding="same")
    x = tf.random.stateless_normal((2, 6, 6, 2), (1, 2))
    with tf_convolutions():
        expected = gradients(layer, x)
    assert_close(gradients(layer, x), expected)


@pytest.mark.parametrize("kind", ["equalized", "modulated"])
def test_style_convolutions_take_the_same_gradients(kind):
    x = tf.random.stateless_normal((2, 6, 6, 3), (3, 4))
    w = tf.random.stateless_normal((2, 5), (5, 6))
    if kind == "equalized":
        layer, more = EqualizedConv2D(4, 3), ()
    else:
        layer, more = ModulatedConv2D(4, 3, equalized=True), (w,)
    with tf_convolutions():
        expected = gradients(layer, x, *more)
    assert_close(gradients(layer, x, *more), expected)
    graph = tf.function(layer).get_concrete_function([x, *more] if more else x).graph
    assert "IdentityN" in {op.type for op in graph.get_operations()}  # took our gradients


def test_exports_trace_tf_kernels_alone():
    layer = Conv2D(2, 4, 2, padding="same")
    spec = tf.TensorSpec((1, 4, 4, 1))
    with tf_convolutions():
        graph = tf.function(layer).get_concrete_function(spec).graph
    ops = {op.type for op in graph.get_operations()}
    assert "Conv2D" in ops and "IdentityN" not in ops  # no custom gradient
    graph = tf.function(layer).get_concrete_function(spec).graph
    assert "IdentityN" in {op.type for op in graph.get_operations()}
