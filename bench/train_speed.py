"""Training throughput of the default job, side by side in one process.

Measures images per second of `glyph_gan` on `glyphs:default` (32x32, batch 64)
with and without XLA (`jit_compile`), and of the unconditional DCGAN on random
32x32x3 images, alternating the variants over several rounds so that load from
other processes hits them alike. Appends a section to bench/RESULTS.md.

    .venv/bin/python bench/train_speed.py [--rounds 3] [--steps 40]
"""

from __future__ import annotations

import argparse
import datetime
import platform
import statistics
import subprocess
import time

import keras
import numpy as np
import tensorflow as tf
from results import publish

from keras_gan import runs
from keras_gan.config import RunConfig
from keras_gan.data import load_dataset
from keras_gan.data.pipeline import make_dataset


def machine() -> str:
    lscpu = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in lscpu.splitlines()
            if line.startswith("Model name")
        ),
        "?",
    )
    return (
        f"{model}, {len(tf.config.list_physical_devices('CPU'))} CPU device, "
        f"{subprocess.run(['nproc'], capture_output=True, text=True).stdout.strip()} cores; "
        f"Python {platform.python_version()}, TF {tf.__version__}, Keras {keras.__version__}"
    )


def variant(config: RunConfig, jit: bool):
    data = load_dataset(config.data.spec, config.data.image_size, config.data.channels)
    model, _ = runs.build_for_data(config, data)
    model.compile(jit_compile=jit)
    dataset = make_dataset(
        data,
        config.train.batch_size,
        (model.noise_draws, model.latent_dim),
        0,
        conditional=model.conditional,
    )
    model.fit(dataset, steps_per_epoch=5, epochs=1, verbose=0)  # trace and warm up
    return model, dataset, config.train.batch_size


def build_variants(configs: dict, scopes: dict) -> dict:
    """{(config name, scope name): variant}: each config's model built and traced inside
    each scope (a context-manager factory)."""
    models = {}
    for name, config in configs.items():
        for kind, scope in scopes.items():
            with scope():
                models[(name, kind)] = variant(config, jit=False)
    return models


def alternating_rates(variants: dict, rounds: int, steps: int) -> dict:
    """{name: images/s of each round}: every variant (model, dataset, batch) trains
    `steps` steps a round, in turn, so that load from other processes hits them alike."""
    rates = {name: [] for name in variants}
    for _ in range(rounds):
        for name, (model, dataset, batch) in variants.items():
            start = time.perf_counter()
            model.fit(dataset, steps_per_epoch=steps, epochs=1, verbose=0)
            rates[name].append(steps * batch / (time.perf_counter() - start))
    return rates


def interleaved_step_ms(variants: dict, steps: int) -> dict:
    """{name: (10th percentile, median, 90th percentile) milliseconds a training step}:
    the variants (model, dataset, batch) take one step each in turn, `steps` times. Finer
    than `alternating_rates` where other tenants slow the machine in spells of seconds,
    which whole rounds of `fit` catch unevenly."""
    steps_of = {
        name: (model.train_function, iter(data)) for name, (model, data, _) in variants.items()
    }
    times = {name: [] for name in variants}
    for _ in range(steps):
        for name, (train_step, batches) in steps_of.items():
            start = time.perf_counter()
            train_step(batches)
            times[name].append((time.perf_counter() - start) * 1000)
    return {name: tuple(np.percentile(t, (10, 50, 90))) for name, t in times.items()}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--steps", type=int, default=40)
    args = parser.parse_args()
    glyphs = RunConfig()
    dcgan = RunConfig().merge(
        {"model": "dcgan", "data": {"spec": "synthetic:32x32x3", "channels": 3}}
    )
    variants = {
        "glyph_gan default": variant(glyphs, jit=False),
        "glyph_gan + XLA": variant(glyphs, jit=True),
        "dcgan 32x32x3": variant(dcgan, jit=False),
        "dcgan 32x32x3 + XLA": variant(dcgan, jit=True),
    }
    rates = alternating_rates(variants, args.rounds, args.steps)
    base = statistics.median(rates["glyph_gan default"])
    lines = [
        f"\n## Training throughput ({datetime.date.today()}, bench/train_speed.py)\n",
        f"Machine: {machine()}. {args.rounds} alternating rounds of {args.steps} steps; median.\n",
        "| variant | images/s (median) | runs | ratio to glyph_gan default |",
        "| --- | --- | --- | --- |",
    ]
    for name, values in rates.items():
        median = statistics.median(values)
        shown = ", ".join(f"{v:.0f}" for v in values)
        lines.append(f"| {name} | {median:.0f} | {shown} | {median / base:.2f} |")
    publish(lines)


if __name__ == "__main__":
    main()
