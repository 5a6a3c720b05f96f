"""Feature extractors for evaluation, injected into `keras_gan.metrics.evaluate`.

Each has `identity` (name + weights hash), `preprocessing` (stated with every
score), `labels` (class names, for CAS; empty if none) and
`features_and_probabilities(uint8 images)`.

`GlyphClassifier`: a character classifier trained by the project on real glyphs
of many fonts. Its penultimate layer gives features for a Fréchet distance in a
space that knows characters, and its softmax says whether a generated 永 reads
as 永 (classification accuracy score, CAS).
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import numpy as np

from keras_gan.files import atomic_directory
from keras_gan.files import atomic_write_json
from keras_gan.files import downloads_allowed

CLASSIFIER_FILE = "classifier.keras"
INFO_FILE = "extractor.json"


def _file_hash(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()[:16]


def build_classifier(num_classes: int, image_size: int, channels: int = 1, width: int = 16):
    """A small VGG-style CNN: 3 stages of two 3x3 convolutions, then 256 features."""
    import keras
    from keras import layers

    inputs = keras.Input((image_size, image_size, channels), name="images")
    x = inputs
    for stage in range(3):
        for _ in range(2):
            x = layers.Conv2D(width * 2**stage, 3, padding="same", use_bias=False)(x)
            x = layers.ReLU()(layers.BatchNormalization()(x))
        x = layers.MaxPooling2D()(x) if stage < 2 else layers.GlobalAveragePooling2D()(x)
    features = layers.Dense(256, activation="relu", name="features")(layers.Dropout(0.2)(x))
    logits = layers.Dense(num_classes, name="logits")(layers.Dropout(0.2)(features))
    return keras.Model(inputs, logits, name="glyph_classifier")


class GlyphClassifier:
    """Character classifier used as a feature extractor.

    Args:
        model: a Keras model from `build_classifier` (logits output).
        labels: the characters, in class-id order.
        identity: name + hash of the weights, part of every score's protocol.

    Example:
    >>> extractor = GlyphClassifier.load("saved_models/glyph_classifier")
    >>> feats, probs = extractor.features_and_probabilities(images_uint8)
    """

    preprocessing = (
        "uint8 paper-white glyphs -> float32 in [-1, 1]; area resize to the classifier's size"
    )

    def __init__(self, model, labels: list[str], identity: str):
        import keras

        self.model, self.labels, self.identity = model, list(labels), identity
        self.image_size = model.input_shape[1]
        self._features = keras.Model(
            model.inputs, [model.get_layer("features").output, model.output]
        )

    @classmethod
    def load(cls, path: str | os.PathLike) -> "GlyphClassifier":
        import keras

        from keras_gan.shipped import find_model

        path = find_model(path)
        if not (path / CLASSIFIER_FILE).is_file() or not (path / INFO_FILE).is_file():
            raise FileNotFoundError(
                f"{str(path)!r} holds no glyph classifier ({CLASSIFIER_FILE} + {INFO_FILE}); "
                "train one with kgan evaluate --train-extractor"
            )
        info = json.loads((path / INFO_FILE).read_text(encoding="utf-8"))
        model = keras.saving.load_model(path / CLASSIFIER_FILE)
        return cls(model, info["labels"], f"glyph_classifier:{_file_hash(path / CLASSIFIER_FILE)}")

    def save(self, path: str | os.PathLike, info: dict) -> Path:
        """Writes the classifier and its metadata to a new folder, atomically."""
        import keras

        path = Path(path)
        # An uncompiled copy: the optimizer's state has no use for evaluation.
        bare = keras.models.clone_model(self.model)
        bare.set_weights(self.model.get_weights())
        with atomic_directory(path) as tmp:
            bare.save(tmp / CLASSIFIER_FILE)
            atomic_write_json(tmp / INFO_FILE, {"labels": self.labels, **info})
        self.identity = f"glyph_classifier:{_file_hash(path / CLASSIFIER_FILE)}"
        return path

    def _prepare(self, images: np.ndarray):
        import tensorflow as tf

        x = tf.cast(images, tf.float32) / 127.5 - 1.0
        if x.shape[-1] == 3:
            x = tf.reduce_mean(x, axis=-1, keepdims=True)
        if x.shape[1] != self.image_size:
            x = tf.image.resize(x, (self.image_size, self.image_size), method="area")
        return x

    def features_and_probabilities(self, images: np.ndarray, batch_size: int = 256):
        """(features (N, 256), class probabilities (N, num_classes)) for uint8 images."""
        import tensorflow as tf

        feats, probs = [], []
        for start in range(0, len(images), batch_size):
            f, logits = self._features(
                self._prepare(images[start : start + batch_size]), training=False
            )
            feats.append(np.asarray(f, np.float64))
            probs.append(np.asarray(tf.nn.softmax(logits), np.float64))
        return np.concatenate(feats), np.concatenate(probs)


def train_glyph_classifier(
    data, epochs: int = 12, seed: int = 0, log=print, augment: bool = True, width: int = 16
) -> tuple[GlyphClassifier, dict]:
    """Trains a `GlyphClassifier` on `data` (an `ImageData` of glyphs).

    One font face in five (by style id) is held out: the reported accuracy is on
    faces the classifier never saw, which is what judging generated glyphs needs.
    `augment` shifts and scales glyphs slightly (never flips them): right for reading
    characters, wrong for telling fonts apart, whose size and stroke weight are the style.
    """
    import keras
    import tensorflow as tf

    keras.utils.set_random_seed(seed)
    styles = data.styles if data.styles is not None else np.zeros(len(data), np.int32)
    held_out = styles % 5 == 4
    if held_out.all() or not held_out.any():
        held_out = np.arange(len(data)) % 5 == 4
    x = data.images.astype(np.float32) / 127.5 - 1.0
    if x.shape[-1] == 3:
        x = x.mean(axis=-1, keepdims=True)
    model = build_classifier(data.num_classes, x.shape[1], width=width)
    train = tf.data.Dataset.from_tensor_slices((x[~held_out], data.labels[~held_out]))
    train = train.shuffle(len(x), seed=seed).batch(64)
    if augment:
        jitter = keras.Sequential(
            [
                keras.layers.RandomTranslation(0.06, 0.06, fill_mode="constant", fill_value=1.0),
                keras.layers.RandomZoom(0.08, fill_mode="constant", fill_value=1.0),
            ]
        )
        train = train.map(lambda a, b: (jitter(a, training=True), b))
    model.compile(
        optimizer=keras.optimizers.Adam(2e-3),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    history = model.fit(
        train,
        epochs=epochs,
        verbose=0,
        shuffle=False,
        validation_data=(x[held_out], data.labels[held_out]),
    )
    info = {
        "train_images": int((~held_out).sum()),
        "held_out_images": int(held_out.sum()),
        "held_out_accuracy": round(float(history.history["val_accuracy"][-1]), 4),
        "train_accuracy": round(float(history.history["accuracy"][-1]), 4),
        "epochs": epochs,
        "image_size": int(x.shape[1]),
    }
    log(
        f"glyph classifier: held-out-font accuracy {info['held_out_accuracy']:.3f} "
        f"({info['held_out_images']} images of unseen faces)"
    )
    return GlyphClassifier(model, data.label_names, "glyph_classifier:unsaved"), info


KERAS_INCEPTION_FILE = "inception_v3_weights_tf_dim_ordering_tf_kernels.h5"
# Where and with what MD5 keras.applications.InceptionV3(weights="imagenet") fetches it.
KERAS_INCEPTION_URL = (
    "https://storage.googleapis.com/tensorflow/keras-applications/inception_v3/"
    + KERAS_INCEPTION_FILE
)
KERAS_INCEPTION_MD5 = "9a0d58056eeedaa3f26cb7ebd46da564"


def find_inception_weights(path: str | os.PathLike | None = None) -> Path:
    """The InceptionV3 weights file: `path`; for None or `keras-cache` the Keras cache
    (~/.keras/models/, where `keras.applications.InceptionV3(weights="imagenet")` keeps
    it); for `imagenet` the cache, else downloaded into it as Keras does (checked
    against Keras' MD5) unless downloads are off (`kgan --offline`)."""
    if path is not None and str(path) not in ("keras-cache", "imagenet"):
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"Inception weights file {str(path)!r} does not exist")
        return path
    keras_home = Path(os.environ.get("KERAS_HOME", Path.home() / ".keras"))
    cached = keras_home / "models" / KERAS_INCEPTION_FILE
    if cached.is_file():
        return cached
    if str(path) == "imagenet" and downloads_allowed():
        import keras

        return Path(
            keras.utils.get_file(
                KERAS_INCEPTION_FILE,
                KERAS_INCEPTION_URL,
                cache_subdir="models",
                file_hash=KERAS_INCEPTION_MD5,
            )
        )
    why = "downloads are off (--offline); " if str(path) == "imagenet" else ""
    raise FileNotFoundError(
        f"no InceptionV3 weights in {cached.parent}: {why}pass --inception-weights imagenet "
        f"on a machine with internet (Keras downloads {KERAS_INCEPTION_FILE} there), or "
        "--inception-weights PATH"
    )


class InceptionExtractor:
    """InceptionV3 pool features (2048-d) and ImageNet class probabilities, offline.

    Preprocessing (exactly): uint8 images; grayscale repeated to 3 channels;
    `tf.image.resize` to 299x299, bilinear, no antialiasing; `x / 127.5 - 1`
    (Keras' `inception_v3.preprocess_input`). Features: the `avg_pool` layer.

    This is Keras' ImageNet InceptionV3, not the 2015 TF-Hub graph
    (`pt_inception-2015-12-05`) behind published FIDs: the two give different
    features, so FIDs from this extractor are comparable with each other but not
    with numbers in papers.

    Args:
        weights: a Keras InceptionV3 weights file (`find_inception_weights`).
    """

    preprocessing = (
        "uint8 -> RGB (gray repeated) -> bilinear resize to 299x299, no antialias -> x/127.5-1"
    )

    def __init__(self, weights: str | os.PathLike):
        import keras

        self.weights = Path(weights)
        model = keras.applications.InceptionV3(include_top=True, weights=str(self.weights))
        self._model = keras.Model(model.inputs, [model.get_layer("avg_pool").output, model.output])
        self.identity = f"inception_v3:{_file_hash(self.weights)}"
        self.labels: list[str] = []

    def features_and_probabilities(self, images: np.ndarray, batch_size: int = 32):
        import tensorflow as tf

        feats, probs = [], []
        for start in range(0, len(images), batch_size):
            x = tf.cast(images[start : start + batch_size], tf.float32)
            if x.shape[-1] == 1:
                x = tf.repeat(x, 3, axis=-1)
            x = tf.image.resize(x, (299, 299), method="bilinear", antialias=False) / 127.5 - 1.0
            f, p = self._model(x, training=False)
            feats.append(np.asarray(f, np.float64))
            probs.append(np.asarray(p, np.float64))
        return np.concatenate(feats), np.concatenate(probs)


class FIDInceptionExtractor:
    """The Inception graph behind published FIDs (TTUR's `fid.py`, TF-GAN): the
    2015-12-05 ImageNet graph `classify_image_graph_def.pb`, supplied by the user.

    Preprocessing is the graph's own: images go in as float RGB in [0, 255] at any
    size (tensor `ExpandDims:0`); the graph resizes them to 299x299 bilinearly and
    normalises. Features: `pool_3:0` (2048-d). No class probabilities (no IS/CAS).

    Args:
        graph_path: the frozen `GraphDef` file (`.pb`).
    """

    preprocessing = "uint8 -> RGB float [0, 255] -> the 2015 graph's own resize (299) and scaling"
    INPUT, OUTPUT = "ExpandDims:0", "pool_3:0"

    def __init__(self, graph_path: str | os.PathLike):
        import tensorflow as tf

        path = Path(graph_path)
        graph_def = tf.compat.v1.GraphDef()
        try:
            graph_def.ParseFromString(path.read_bytes())
        except Exception as e:  # protobuf raises DecodeError and others for foreign files
            raise ValueError(f"{str(path)!r} is not a frozen TensorFlow GraphDef: {e}") from None
        names = {node.name for node in graph_def.node}
        for tensor in (self.INPUT, self.OUTPUT):
            if tensor.split(":")[0] not in names:
                raise ValueError(
                    f"{str(path)!r} has no tensor {tensor}: not the FID Inception graph "
                    "(classify_image_graph_def.pb of inception-2015-12-05)"
                )

        def imported(images):
            (pool,) = tf.graph_util.import_graph_def(
                graph_def, input_map={self.INPUT: images}, return_elements=[self.OUTPUT]
            )
            return pool

        self._function = tf.compat.v1.wrap_function(
            imported, [tf.TensorSpec([None, None, None, 3], tf.float32)]
        )
        self.identity = f"fid_inception_2015:{_file_hash(path)}"
        self.labels: list[str] = []

    def features_and_probabilities(self, images: np.ndarray, batch_size: int = 32):
        import tensorflow as tf

        feats = []
        for start in range(0, len(images), batch_size):
            x = tf.cast(images[start : start + batch_size], tf.float32)
            if x.shape[-1] == 1:
                x = tf.repeat(x, 3, axis=-1)
            pool = self._function(x)
            feats.append(np.asarray(tf.reshape(pool, [len(x), -1]), np.float64))
        features = np.concatenate(feats)
        return features, np.zeros((len(features), 0))


def inception_extractor(path: str | os.PathLike | None):
    """The FID graph for a `.pb` file, else Keras' InceptionV3 (`find_inception_weights`)."""
    weights = find_inception_weights(path)
    if weights.suffix == ".pb":
        return FIDInceptionExtractor(weights)
    return InceptionExtractor(weights)
