"""Keras' InceptionV3 as an offline extractor, with weights from a local file.

The test writes randomly initialised weights to a file (nothing is downloaded) and
checks the loading path, the preprocessing contract and the weights hash.
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


def test_weights_come_from_a_path_or_the_keras_cache_never_the_internet(
    weights, tmp_path, monkeypatch
):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    with pytest.raises(FileNotFoundError, match="keras-gan never downloads"):
        find_inception_weights()
    with pytest.raises(FileNotFoundError, match="does not exist"):
        find_inception_weights(tmp_path / "missing.h5")
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / KERAS_INCEPTION_FILE).write_bytes(b"x")
    assert find_inception_weights() == tmp_path / "models" / KERAS_INCEPTION_FILE
    assert find_inception_weights(weights) == weights
