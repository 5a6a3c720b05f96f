"""keras_gan's Conv2DTranspose: Keras's layer computed as one plain convolution."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_gan.models.layers import Conv2DTranspose


def pair(filters, kernel, strides, padding="same", **kwargs):
    """Keras's layer and ours, built on the same input, holding the same weights."""
    theirs = keras.layers.Conv2DTranspose(filters, kernel, strides, padding=padding, **kwargs)
    ours = Conv2DTranspose(filters, kernel, strides, padding=padding, **kwargs)
    rng = np.random.default_rng(0)
    x = tf.constant(rng.normal(size=(3, 5, 4, 6)), tf.float32)
    theirs(x), ours(x)
    theirs.set_weights([rng.normal(size=w.shape).astype("float32") for w in theirs.weights])
    ours.set_weights(theirs.get_weights())
    return theirs, ours, x


@pytest.mark.parametrize(
    "kernel, strides, kwargs",
    [
        (4, 2, {}),  # every generator here
        (4, 2, {"use_bias": False}),
        (3, 2, {"activation": "tanh"}),
        (5, 3, {}),
        ((4, 3), (2, 1), {}),
        (2, 2, {}),
        (1, 2, {}),  # kernel smaller than the stride: gaps of bias only
        (3, 1, {}),
        (4, 2, {"padding": "valid"}),  # Keras's own path
    ],
)
def test_it_draws_and_learns_as_keras_does(kernel, strides, kwargs):
    theirs, ours, x = pair(4, kernel, strides, **kwargs)
    grads = []
    for layer in (theirs, ours):
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = layer(x)
            weights = tf.reshape(tf.range(tf.size(y)) % 7, y.shape)  # a gradient unlike y's
            loss = tf.reduce_sum(y * tf.cast(weights, tf.float32))
        grads.append((y, *tape.gradient(loss, [x, layer.kernel])))
    assert grads[0][0].shape == grads[1][0].shape
    for theirs_value, ours_value in zip(*grads):
        np.testing.assert_allclose(ours_value, theirs_value, rtol=1e-4, atol=1e-4)


def test_a_model_trained_with_keras_layers_loads_with_the_same_output(tmp_path, monkeypatch):
    """Shipped models and checkpoints were saved from networks built with Keras's
    layers: the weights keep their names and shapes."""
    from keras_gan.models import Font2Font
    from keras_gan.models import unet
    from keras_gan.models.layers import Conv2D

    small = {"image_size": 16, "channels": 1, "filters": 4, "max_filters": 8, "num_classes": 2}
    with monkeypatch.context() as patch:
        patch.setattr(unet, "Conv2DTranspose", keras.layers.Conv2DTranspose)
        patch.setattr(unet, "Conv2D", keras.layers.Conv2D)
        old = Font2Font(seed=1, **small)
        old.save(tmp_path / "model.keras")
    networks = [old.generator.get_layer(n) for n in ("encoder", "decoder")]
    assert not any(
        isinstance(layer, Conv2D | Conv2DTranspose) for n in networks for layer in n.layers
    )
    loaded = keras.saving.load_model(tmp_path / "model.keras", compile=False)
    encoder, decoder = (loaded.generator.get_layer(n) for n in ("encoder", "decoder"))
    assert sum(isinstance(layer, Conv2D) for layer in encoder.layers) == 4
    assert sum(isinstance(layer, Conv2DTranspose) for layer in decoder.layers) == 4
    sources = np.random.default_rng(1).uniform(-1, 1, (4, 16, 16, 1)).astype("float32")
    styles = np.array([0, 1, 1, 0])
    np.testing.assert_allclose(
        loaded.generate(sources, styles), old.generate(sources, styles), atol=1e-5
    )
