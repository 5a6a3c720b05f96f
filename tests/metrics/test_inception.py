"""Keras' InceptionV3 as an extractor, with weights from a local file or Keras' cache.

The test writes randomly initialised weights to a file (nothing is downloaded) and
checks the loading path, the preprocessing contract (against a resize by hand) and the
weights hash.
"""

import numpy as np
import pytest

from keras_gan.metrics.extractors import KERAS_INCEPTION_FILE
from keras_gan.metrics.extractors import InceptionExtractor
from keras_gan.metrics.extractors import find_inception_weights


@pytest.fixture(scope="module")
def weights(tmp_path_factory):
    import keras

    keras.utils.set_random_seed(0)
    path = tmp_path_factory.mktemp("inception") / "random.weights.h5"
    keras.applications.InceptionV3(weights=None).save_weights(path)
    return path


def test_features_and_probabilities_from_a_local_weights_file(weights):
    extractor = InceptionExtractor(weights)
    assert extractor.identity.startswith("inception_v3:") and len(extractor.identity) == 29
    gray = np.random.default_rng(0).integers(0, 256, (3, 32, 32, 1), dtype=np.uint8)
    features, probs = extractor.features_and_probabilities(gray)
    assert features.shape == (3, 2048) and probs.shape == (3, 1000)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-4)
    # Gray is repeated to RGB: the same picture in 3 channels gives the same features.
    rgb_features, _ = extractor.features_and_probabilities(np.repeat(gray, 3, axis=-1))
    np.testing.assert_allclose(features, rgb_features, rtol=1e-5, atol=1e-6)


def bilinear(images: np.ndarray, size: int) -> np.ndarray:
    """Bilinear resize of (N, H, W, C) by hand: half-pixel centres, edge pixels clamped,
    no antialiasing (what the README states for the Keras InceptionV3 extractor)."""

    def taps(n_in):
        centre = np.clip((np.arange(size) + 0.5) * n_in / size - 0.5, 0, n_in - 1)
        low = np.floor(centre).astype(int)
        return low, np.minimum(low + 1, n_in - 1), centre - low

    y0, y1, wy = taps(images.shape[1])
    x0, x1, wx = taps(images.shape[2])
    rows = images[:, y0] * (1 - wy)[None, :, None, None] + images[:, y1] * wy[None, :, None, None]
    return rows[:, :, x0] * (1 - wx)[None, None, :, None] + rows[:, :, x1] * wx[None, None, :, None]


def test_features_are_inception_v3_on_the_stated_preprocessing(weights):
    import keras

    gray = np.random.default_rng(1).integers(0, 256, (2, 32, 32, 1), dtype=np.uint8)
    rgb = np.repeat(gray.astype(np.float64), 3, axis=-1)
    by_hand = (bilinear(rgb, 299) / 127.5 - 1.0).astype(np.float32)
    model = keras.applications.InceptionV3(weights=None)
    model.load_weights(weights)
    pool = keras.Model(model.inputs, model.get_layer("avg_pool").output)
    expected = pool.predict(by_hand, verbose=0)
    features, _ = InceptionExtractor(weights).features_and_probabilities(gray)
    np.testing.assert_allclose(features, expected, rtol=1e-3, atol=1e-4)


def test_weights_come_from_a_path_or_the_keras_cache(weights, tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    with pytest.raises(FileNotFoundError, match="no InceptionV3 weights in .*models"):
        find_inception_weights()
    with pytest.raises(FileNotFoundError, match="does not exist"):
        find_inception_weights(tmp_path / "missing.h5")
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / KERAS_INCEPTION_FILE).write_bytes(b"x")
    assert find_inception_weights() == tmp_path / "models" / KERAS_INCEPTION_FILE
    assert find_inception_weights(weights) == weights


def test_the_fid_graph_format_loads_and_runs_batches(tmp_path):
    """A frozen GraphDef with the FID graph's tensor names (ExpandDims:0 -> pool_3:0).

    The real 2015 graph cannot be downloaded here; this one has the same interface
    (float RGB in [0, 255] of any size in, (N, 1, 1, 2048) out), so the loading,
    batching and reshaping are the real code path.
    """
    import tensorflow as tf

    from keras_gan.metrics.extractors import FIDInceptionExtractor
    from keras_gan.metrics.extractors import inception_extractor

    graph = tf.Graph()
    with graph.as_default():
        images = tf.compat.v1.placeholder(tf.float32, [1, None, None, 3], name="ExpandDims")
        resized = tf.image.resize(images, [299, 299])
        kernel = tf.constant(np.random.default_rng(0).normal(size=(1, 1, 3, 2048)), tf.float32)
        conv = tf.nn.conv2d(resized, kernel, strides=1, padding="VALID")
        tf.reduce_mean(conv, axis=[1, 2], keepdims=True, name="pool_3")
    path = tmp_path / "classify_image_graph_def.pb"
    path.write_bytes(graph.as_graph_def().SerializeToString())
    extractor = inception_extractor(path)
    assert isinstance(extractor, FIDInceptionExtractor)
    batch = np.random.default_rng(1).integers(0, 256, (5, 32, 32, 1), dtype=np.uint8)
    features, probs = extractor.features_and_probabilities(batch, batch_size=2)
    assert features.shape == (5, 2048) and probs.shape == (5, 0)
    one, _ = extractor.features_and_probabilities(batch[3:4])
    np.testing.assert_allclose(features[3], one[0], rtol=1e-5)
    (tmp_path / "other.pb").write_bytes(b"not a graph")
    with pytest.raises(ValueError, match="not a frozen TensorFlow GraphDef|has no tensor"):
        FIDInceptionExtractor(tmp_path / "other.pb")


def test_imagenet_weights_are_fetched_by_keras_once_unless_offline(weights, tmp_path, monkeypatch):
    """`imagenet`: Keras' own download into its cache (the network call stubbed at
    keras.utils.get_file, the boundary), with its URL and MD5; the cache after that."""
    import keras

    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    calls = []

    def get_file(fname, origin, cache_subdir, file_hash):
        calls.append((fname, origin, cache_subdir, file_hash))
        target = tmp_path / cache_subdir / fname
        target.parent.mkdir(exist_ok=True)
        target.write_bytes(weights.read_bytes())
        return str(target)

    monkeypatch.setattr(keras.utils, "get_file", get_file)
    with pytest.raises(FileNotFoundError, match=r"downloads are off \(--offline\)"):
        find_inception_weights("imagenet")  # the suite runs offline (conftest)
    with pytest.raises(FileNotFoundError, match="pass --inception-weights imagenet"):
        find_inception_weights("keras-cache")
    assert calls == []
    monkeypatch.delenv("KGAN_OFFLINE")
    fetched = find_inception_weights("imagenet")
    assert calls == [
        (
            KERAS_INCEPTION_FILE,
            "https://storage.googleapis.com/tensorflow/keras-applications/inception_v3/"
            "inception_v3_weights_tf_dim_ordering_tf_kernels.h5",
            "models",
            "9a0d58056eeedaa3f26cb7ebd46da564",
        )
    ]
    assert fetched == tmp_path / "models" / KERAS_INCEPTION_FILE
    assert find_inception_weights("imagenet") == fetched and len(calls) == 1  # cached now
