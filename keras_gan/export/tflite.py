"""TFLite from the exported SavedModel's `serving_default` (z in, uint8 images out).

Noise stays outside the graph (`z` is an input): stateless random ops are not
TFLite builtins. Each variant is run by the LiteRT interpreter and compared with
the SavedModel on the same inputs; the differences travel in the metadata.
"""

from __future__ import annotations

import os
import warnings

import numpy as np

QUANTIZATIONS = ("none", "float16", "dynamic", "int8")


def _inputs(latent_dim: int, num_classes: int, count: int, seed: int) -> list[dict]:
    rng = np.random.default_rng(seed)
    rows = []
    for _ in range(count):
        row = {"z": rng.normal(size=(1, latent_dim)).astype(np.float32)}
        if num_classes:
            row["labels"] = rng.integers(0, num_classes, (1,)).astype(np.int32)
        rows.append(row)
    return rows


def to_tflite(
    saved_model_dir: str | os.PathLike, latent_dim: int, num_classes: int, quantize: str = "none"
) -> bytes:
    """Converts `serving_default`; `int8` calibrates on 64 random z (and labels)."""
    import tensorflow as tf

    if quantize not in QUANTIZATIONS:
        raise ValueError(f"quantize must be one of {', '.join(QUANTIZATIONS)}, got {quantize!r}")
    converter = tf.lite.TFLiteConverter.from_saved_model(
        str(saved_model_dir), signature_keys=["serving_default"]
    )
    if quantize != "none":
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
    if quantize == "float16":
        converter.target_spec.supported_types = [tf.float16]
    if quantize == "int8":
        converter.representative_dataset = lambda: iter(_inputs(latent_dim, num_classes, 64, 0))
    with warnings.catch_warnings():
        # The int8 calibrator runs TF's own deprecated tf.lite.Interpreter inside.
        warnings.filterwarnings("ignore", message=".*tf.lite.Interpreter is deprecated")
        return converter.convert()


def run_tflite(model: bytes, z: np.ndarray, labels: np.ndarray | None = None) -> np.ndarray:
    """Runs `serving_default` of a TFLite model with the LiteRT interpreter."""
    from ai_edge_litert.interpreter import Interpreter

    runner = Interpreter(model_content=model).get_signature_runner("serving_default")
    inputs = {"z": np.asarray(z, np.float32)}
    if labels is not None:
        inputs["labels"] = np.asarray(labels, np.int32)
    return runner(**inputs)["images"]


def compare_with_saved_model(
    model: bytes, saved_model_dir: str | os.PathLike, latent_dim: int, num_classes: int
) -> dict:
    """Max and mean absolute pixel difference (0-255) against the SavedModel, 16 inputs."""
    import tensorflow as tf

    signature = tf.saved_model.load(str(saved_model_dir)).signatures["serving_default"]
    diffs = []
    for row in _inputs(latent_dim, num_classes, 16, seed=1):
        expected = signature(**{k: tf.constant(v) for k, v in row.items()})["images"].numpy()
        got = run_tflite(model, row["z"], row.get("labels"))
        diffs.append(np.abs(got.astype(np.int16) - expected.astype(np.int16)))
    diffs = np.stack(diffs)
    return {
        "bytes": len(model),
        "max_abs_diff": int(diffs.max()),
        "mean_abs_diff": round(float(diffs.mean()), 4),
    }
