"""TFLite variants of the shipped generator against its SavedModel, in one run.

Converts the newest saved_models/glyphs version (`serving_default`) to each quantization, checks the
outputs against the SavedModel, and times batch-1 calls of each (LiteRT
interpreter vs the SavedModel signature), alternating over rounds. Appends to
bench/RESULTS.md.

    .venv/bin/python bench/tflite_speed.py [--calls 200] [--rounds 3]
"""

import argparse
import statistics
import time
from pathlib import Path

import numpy as np
import tensorflow as tf
from ai_edge_litert.interpreter import Interpreter
from results import publish

from keras_gan.export.layout import newest_version
from keras_gan.export.tflite import QUANTIZATIONS
from keras_gan.export.tflite import compare_with_saved_model
from keras_gan.export.tflite import to_tflite

SOURCE = newest_version(Path(__file__).parents[1] / "saved_models" / "glyphs")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    latent_dim, num_classes = 32, 172
    z = tf.constant(np.random.default_rng(0).normal(size=(1, latent_dim)), tf.float32)
    labels = tf.constant([0], tf.int32)
    signature = tf.saved_model.load(str(SOURCE)).signatures["serving_default"]
    runners, checks = {"SavedModel": lambda: signature(z=z, labels=labels)}, {}
    for quantize in QUANTIZATIONS:
        model = to_tflite(SOURCE, latent_dim, num_classes, quantize)
        checks[quantize] = compare_with_saved_model(model, SOURCE, latent_dim, num_classes)
        runner = Interpreter(model_content=model).get_signature_runner("serving_default")
        runners[f"tflite {quantize}"] = lambda r=runner: r(z=z.numpy(), labels=labels.numpy())
    times = {name: [] for name in runners}
    for _ in range(args.rounds):
        for name, call in runners.items():
            call()
            start = time.perf_counter()
            for _ in range(args.calls):
                call()
            times[name].append((time.perf_counter() - start) / args.calls * 1e3)
    base = statistics.median(times["SavedModel"])
    lines = [
        f"\n## TFLite variants of saved_models/glyphs/{SOURCE.name} (bench/tflite_speed.py)\n",
        f"Machine as in the first section. Batch 1, {args.rounds} alternating rounds of "
        f"{args.calls} calls, median; diff vs the SavedModel over 16 random inputs, "
        "in 0-255 pixel levels.\n",
        "| variant | size (bytes) | max abs diff | mean abs diff | ms per call | time vs SM |",
        "| --- | --- | --- | --- | --- | --- |",
        f"| SavedModel | | | | {base:.2f} | 1.00 |",
    ]
    for quantize, check in checks.items():
        ms = statistics.median(times[f"tflite {quantize}"])
        lines.append(
            f"| tflite {quantize} | {check['bytes']} | {check['max_abs_diff']} | "
            f"{check['mean_abs_diff']} | {ms:.2f} | {ms / base:.2f} |"
        )
    publish(lines)


if __name__ == "__main__":
    main()
