"""Generator -> SavedModel in TF Serving's layout: `root/<version>/`.

Signatures (DESIGN.md section 5):
- `serving_default`: `z` float32[None, latent_dim] (+ `labels` int32[None]) ->
  `images` uint8[None, H, W, C];
- `generate`: `seed` int64[None] (+ `labels`) -> `images` uint8 and `png` string[None];
  row i depends only on seed i and label i.
Metadata travels in `assets.extra/kgan.json`, and `assets.extra/
tf_serving_warmup_requests` holds one request per signature, which TF Serving
replays before it serves a version (so the first user call is not the slow one).
A new version appears atomically.
"""

from __future__ import annotations

import datetime
import os
import shutil
import tempfile
from pathlib import Path

import keras
import tensorflow as tf

from keras_gan import __version__
from keras_gan.export.layout import KGAN_METADATA
from keras_gan.export.layout import next_version
from keras_gan.files import atomic_directory
from keras_gan.files import atomic_write_bytes
from keras_gan.files import atomic_write_json
from keras_gan.files import exclusive_lock
from keras_gan.images import to_uint8
from keras_gan.models.layers import tf_convolutions
from keras_gan.noise import noise_for_seeds
from keras_gan.runs import load_run


def export_generator(
    model,
    root: str | os.PathLike,
    version: int | None = None,
    labels: list[str] | None = None,
    config: dict | None = None,
    tflite: tuple[str, ...] = (),
) -> Path:
    """Writes `model`'s generator to `root/<version>/` and returns that folder.

    Args:
        model: a trained `keras_gan.models.GAN`.
        root: the model's folder, e.g. `saved_models/glyphs`.
        version: integer version; the next free one if `None`.
        labels: label vocabulary in id order (e.g. the characters), for metadata; for a
            text model its character vocabulary (id 0 = end of line), which the
            signature uses to spell its lines.
        config: the training config, for metadata.
        tflite: quantizations (none, float16, dynamic, int8) to convert to TFLite, as
            `assets.extra/generator_<quantization>.tflite` (TF Serving ignores them),
            each checked against the SavedModel by the LiteRT interpreter.
    """
    # Two exports at once must not pick the same version: the folder's lock, waited for.
    with exclusive_lock(root, "model folder", wait=True):
        return write_generator(model, _version_folder(root, version), labels, config, tflite)


def export_run(
    run_dir: str | os.PathLike,
    root: str | os.PathLike,
    version: int | None = None,
    tflite: tuple[str, ...] = (),
) -> Path:
    """Exports a run directory's generator (its newest verified checkpoint) to
    `root/<version>/`, with the labels and training config the run recorded."""
    if not (Path(run_dir) / "config.json").is_file():
        raise ValueError(f"SOURCE {str(run_dir)!r} is not a run directory (no config.json)")
    model, config, info = load_run(run_dir)
    return export_generator(
        model, root, version, model.export_labels(info), config.to_dict(), tflite
    )


def publish(saved_model_dir: str | os.PathLike, root: str | os.PathLike, version=None) -> Path:
    """Copies an exported SavedModel to `root/<version>/` atomically (as TFX's Pusher does),
    so a running server picks it up whole."""
    source = Path(saved_model_dir)
    if not (source / "saved_model.pb").is_file():
        raise FileNotFoundError(f"{source} holds no saved_model.pb: not an exported SavedModel")
    with exclusive_lock(root, "model folder", wait=True):
        target = _version_folder(root, version)
        with atomic_directory(target) as tmp:
            shutil.copytree(source, tmp, dirs_exist_ok=True)
    return target


def _version_folder(root: str | os.PathLike, version: int | None) -> Path:
    root = Path(root)
    version = next_version(root) if version is None else int(version)
    if version <= 0:
        raise ValueError(f"version must be a positive integer, got {version}")
    target = root / str(version)
    if target.exists():
        raise FileExistsError(f"{target} already exists; pick another --version")
    return target


# Traced with TF's own convolution kernels, as exports always were.
@tf_convolutions()
def write_generator(
    model,
    target: str | os.PathLike,
    labels: list[str] | None = None,
    config: dict | None = None,
    tflite: tuple[str, ...] = (),
) -> Path:
    """Writes the generator's SavedModel to the folder `target` (new), atomically."""
    target = Path(target)
    if model.modality == "text":
        return write_text_generator(model, target, labels, config)
    if model.translates:
        raise ValueError(
            f"{type(model).__name__} translates images: the export contract (z or seed in, "
            "images out) does not fit it; font2font ships fonts through `kgan font complete`"
        )
    if model.conditional and labels is not None and len(labels) != model.num_classes:
        raise ValueError(f"{len(labels)} labels given for a model with {model.num_classes} classes")

    generator, latent_dim = model.sampling_generator, model.latent_dim
    z_spec = tf.TensorSpec([None, latent_dim], tf.float32, name="z")
    seed_spec = tf.TensorSpec([None], tf.int64, name="seed")
    label_spec = tf.TensorSpec([None], tf.int32, name="labels")

    def images_for(z, labels=None):
        inputs = [z, labels] if labels is not None else z
        return to_uint8(generator(inputs, training=False))

    def pngs(images):
        return tf.map_fn(tf.io.encode_png, images, fn_output_signature=tf.string)

    archive = keras.export.ExportArchive()
    archive.track(generator)
    if model.conditional:
        archive.add_endpoint(
            "serving_default",
            lambda z, labels: {"images": images_for(z, labels)},
            input_signature=[z_spec, label_spec],
        )

        def generate(seed, labels):
            images = images_for(noise_for_seeds(seed, latent_dim), labels)
            return {"images": images, "png_bytes": pngs(images)}

        archive.add_endpoint("generate", generate, input_signature=[seed_spec, label_spec])
    else:
        archive.add_endpoint(
            "serving_default", lambda z: {"images": images_for(z)}, input_signature=[z_spec]
        )

        def generate(seed):
            images = images_for(noise_for_seeds(seed, latent_dim))
            return {"images": images, "png_bytes": pngs(images)}

        archive.add_endpoint("generate", generate, input_signature=[seed_spec])

    height, width, channels = model.image_shape
    signatures = {
        "serving_default": ["z", "labels"] if model.conditional else ["z"],
        "generate": ["seed", "labels"] if model.conditional else ["seed"],
    }
    if model.style_encoder is not None:
        archive.track(model.style_encoder)
        style_spec = tf.TensorSpec([None, height, width, channels], tf.uint8, name="style_images")

        def style(style_images, labels):
            """The labels drawn in the style read from `style_images` (their mean code)."""
            check = tf.debugging.assert_positive(
                tf.shape(style_images)[0], message="style_images holds no glyph"
            )
            # First: else an op on the empty batch may fail before it, without the why.
            with tf.control_dependencies([check]):
                style_images = tf.identity(style_images)
            code = model.style_of(tf.cast(style_images, tf.float32) / 127.5 - 1.0)
            images = images_for(tf.repeat(code[None], tf.shape(labels)[0], axis=0), labels)
            return {"images": images, "png_bytes": pngs(images)}

        archive.add_endpoint("style", style, input_signature=[style_spec, label_spec])
        signatures["style"] = ["style_images", "labels"]
    metadata = {
        # Inputs that are not one row per output image (the server's batch check skips them).
        "unbatched_inputs": ["style_images"] if "style" in signatures else [],
        "format": "keras_gan.generator/1",
        "model": type(model).__name__ if config is None else config.get("model"),
        "latent_dim": latent_dim,
        "image_size": height,
        "channels": channels,
        "num_classes": model.num_classes,
        "labels": labels if model.conditional else None,
        "signatures": signatures,
        "keras_gan_version": __version__,
        "exported_at": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "config": config,
    }
    with atomic_directory(target) as tmp:
        archive.write_out(str(tmp), verbose=False)
        atomic_write_bytes(
            tmp / "assets.extra" / "tf_serving_warmup_requests",
            warmup_requests(latent_dim, model.conditional),
        )
        if tflite:
            from keras_gan.export.tflite import compare_with_saved_model
            from keras_gan.export.tflite import to_tflite

            metadata["tflite"] = {}
            for quantize in tflite:
                model_bytes = to_tflite(tmp, latent_dim, model.num_classes, quantize)
                atomic_write_bytes(
                    tmp / "assets.extra" / f"generator_{quantize}.tflite", model_bytes
                )
                metadata["tflite"][quantize] = compare_with_saved_model(
                    model_bytes, tmp, latent_dim, model.num_classes
                )
        atomic_write_json(tmp / KGAN_METADATA, metadata)
    return target


def write_text_generator(model, target: Path, vocab: list[str], config: dict | None) -> Path:
    """A text model's SavedModel: `serving_default` and `generate` both take `seed`
    int64[None] and `temperature` float32[] (0: the most likely characters) and give
    `text` string[None] (UTF-8 lines) and `tokens` int32[None, length]."""
    if not vocab or len(vocab) != model.vocab_size:
        raise ValueError(f"a text model needs its vocabulary of {model.vocab_size} characters")
    seed_spec = tf.TensorSpec([None], tf.int64, name="seed")
    temperature_spec = tf.TensorSpec([], tf.float32, name="temperature")
    characters = tf.constant(vocab)

    def generate(seed, temperature):
        tokens = model.tokens(noise_for_seeds(seed, model.latent_dim), temperature)
        before_end = tf.cumsum(tf.cast(tokens == 0, tf.int32), axis=1) == 0
        spelled = tf.where(before_end, tf.gather(characters, tokens), "")
        return {"text": tf.strings.reduce_join(spelled, axis=1), "tokens": tokens}

    archive = keras.export.ExportArchive()
    archive.track(model.sampling_generator)
    for name in ("serving_default", "generate"):
        archive.add_endpoint(name, generate, input_signature=[seed_spec, temperature_spec])
    metadata = {
        "format": "keras_gan.text_generator/1",
        "modality": "text",
        "model": type(model).__name__ if config is None else config.get("model"),
        "latent_dim": model.latent_dim,
        "length": model.length,
        "vocab": vocab,
        "signatures": {name: ["seed", "temperature"] for name in ("serving_default", "generate")},
        "keras_gan_version": __version__,
        "exported_at": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "config": config,
    }
    requests = {
        name: {"seed": tf.constant([0], tf.int64), "temperature": tf.constant(1.0)}
        for name in ("serving_default", "generate")
    }
    with atomic_directory(target) as tmp:
        archive.write_out(str(tmp), verbose=False)
        atomic_write_bytes(tmp / "assets.extra" / "tf_serving_warmup_requests", warmup(requests))
        atomic_write_json(tmp / KGAN_METADATA, metadata)
    return target


def warmup_requests(latent_dim: int, conditional: bool) -> bytes:
    """A TFRecord of `PredictionLog`s: one small request per signature."""
    requests = {
        "serving_default": {"z": tf.zeros([1, latent_dim], tf.float32)},
        "generate": {"seed": tf.constant([0], tf.int64)},
    }
    if conditional:
        for inputs in requests.values():
            inputs["labels"] = tf.constant([0], tf.int32)
    return warmup(requests)


def warmup(requests: dict) -> bytes:
    """A TFRecord of `PredictionLog`s: signature name -> its inputs."""
    from tensorflow_serving.apis import model_pb2
    from tensorflow_serving.apis import predict_pb2
    from tensorflow_serving.apis import prediction_log_pb2

    path = Path(tempfile.mkdtemp()) / "warmup"
    try:
        with tf.io.TFRecordWriter(str(path)) as writer:
            for signature, inputs in requests.items():
                request = predict_pb2.PredictRequest(
                    model_spec=model_pb2.ModelSpec(signature_name=signature)
                )
                for key, value in inputs.items():
                    request.inputs[key].CopyFrom(tf.make_tensor_proto(value))
                log = prediction_log_pb2.PredictionLog(
                    predict_log=prediction_log_pb2.PredictLog(request=request)
                )
                writer.write(log.SerializeToString())
        return path.read_bytes()
    finally:
        shutil.rmtree(path.parent, ignore_errors=True)


def write_tflite(source: str | os.PathLike, out: str | os.PathLike, quantize: str = "float16"):
    """One TFLite file at `out` from a run directory, a SavedModel version folder or a
    model folder (`saved_models/NAME`: its newest version; shipped models too), checked
    by LiteRT against that SavedModel; returns the check (bytes, max and mean |diff|)."""
    from keras_gan.export.layout import newest_version
    from keras_gan.export.layout import read_metadata
    from keras_gan.export.tflite import compare_with_saved_model
    from keras_gan.export.tflite import to_tflite
    from keras_gan.shipped import find_model

    out = Path(out)
    if out.suffix != ".tflite":
        raise ValueError(f"--out must name a .tflite file, got {str(out)!r}")
    path = find_model(source)
    with tempfile.TemporaryDirectory(prefix="kgan-tflite-") as tmp:
        if (path / "config.json").is_file():  # a run: its generator, exported first
            version = export_run(path, Path(tmp) / "model")
        elif (path / "saved_model.pb").is_file():
            version = path
        else:
            version = newest_version(path) if path.is_dir() else None
        if version is None or not (version / KGAN_METADATA).is_file():
            raise ValueError(
                f"SOURCE {str(source)!r} is neither a run directory, a SavedModel version "
                "exported by kgan, nor a folder of such versions"
            )
        meta = read_metadata(version)
        if meta.get("modality") == "text":
            raise ValueError(f"SOURCE {str(source)!r} is a text model: TFLite is for images")
        model = to_tflite(version, meta["latent_dim"], meta["num_classes"] or 0, quantize)
        check = compare_with_saved_model(
            model, version, meta["latent_dim"], meta["num_classes"] or 0
        )
    atomic_write_bytes(out, model)
    return check
