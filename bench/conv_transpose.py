"""Transposed convolutions: TensorFlow's kernel against keras_gan's sub-pixel form.

`keras_gan.models.layers.Conv2DTranspose` computes Keras's layer as one plain
convolution (see its docstring). Side by side in one process, alternating rounds:
each transposed convolution of the font2font U-Net decoder (64 px, 32/256 filters)
and of a 32 px DCGAN generator, forward and forward + backward; then whole training
steps of `font2font` (batch 16, 64 px: the shipped Latin base's network) and of the
default job (`glyph_style_gan`), and drawing 256 glyphs in one style. "native" is
the same model built and traced with `Conv2DTranspose.sub_pixel_max_pixels = 0`
(TF's own kernel). Appends a section to bench/RESULTS.md.

    .venv/bin/python bench/conv_transpose.py [--rounds 3] [--steps 20]
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import functools
import statistics
import time
from unittest import mock

import numpy as np
import tensorflow as tf
from results import publish
from train_speed import alternating_rates
from train_speed import build_variants
from train_speed import machine

from keras_gan.config import RunConfig
from keras_gan.models.layers import Conv2DTranspose

FONT2FONT = {
    "model": "font2font",
    "data": {
        "spec": "fontpairs:european?source=DejaVu Sans Book&targets=DejaVu Serif Book,"
        "FreeSans,Liberation Mono&split=train",
        "image_size": 64,
    },
    "train": {"batch_size": 16},
    "model_kwargs": {"filters": 32, "max_filters": 256},
}
# (input side, input channels, filters): the decoder's stages, then a 32 px DCGAN's.
LAYERS = {
    "font2font": [(1, 320, 256), (2, 512, 256), (4, 512, 128), (8, 256, 64), (16, 128, 32),
                  (32, 64, 1)],
    "dcgan 32 px": [(4, 256, 128), (8, 128, 64), (16, 64, 1)],
}  # fmt: skip


# Models built and traced inside each: TF's own kernel at every size, or keras_gan's rule.
VARIANTS = {
    "native": functools.partial(mock.patch.object, Conv2DTranspose, "sub_pixel_max_pixels", 0),
    "sub-pixel": contextlib.nullcontext,
}


def seconds(run, rounds: int) -> float:
    run()  # trace
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def layer_rows(rounds: int, batch: int = 64) -> list[str]:
    rng = np.random.default_rng(0)
    rows = []
    for network, shapes in LAYERS.items():
        for side, channels, filters in shapes:
            x = tf.constant(rng.normal(size=(batch, side, side, channels)), tf.float32)
            times = {}
            for name, scope in VARIANTS.items():
                with scope():
                    layer = Conv2DTranspose(filters, 4, 2, padding="same")
                    layer.build(x.shape)

                    @tf.function
                    def forward(x=x, layer=layer):
                        return layer(x)

                    @tf.function
                    def both(x=x, layer=layer):
                        with tf.GradientTape() as tape:
                            tape.watch(x)
                            y = tf.reduce_sum(tf.square(layer(x)))  # needs the output
                        return y, tape.gradient(y, [x, layer.kernel])

                    times[name] = (seconds(forward, rounds), seconds(both, rounds))
            (f0, b0), (f1, b1) = times["native"], times["sub-pixel"]
            rows.append(
                f"| {network} | {side}x{side}x{channels} -> {2 * side}x{2 * side}x{filters} | "
                f"{f0 * 1e3:.1f} / {f1 * 1e3:.1f} ({f0 / f1:.2f}x) | "
                f"{b0 * 1e3:.1f} / {b1 * 1e3:.1f} ({b0 / b1:.2f}x) |"
            )
    return rows


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--steps", type=int, default=20)
    args = parser.parse_args()
    lines = [
        f"\n## Transposed convolutions as convolutions ({datetime.date.today()}, "
        "bench/conv_transpose.py)\n",
        f"Machine: {machine()}. Medians of {args.rounds} alternating rounds. Layers: batch "
        "64, milliseconds native / sub-pixel (speed-up).\n",
        "| network | layer | forward ms | forward + backward ms |",
        "| --- | --- | --- | --- |",
        *layer_rows(args.rounds),
    ]
    configs = {
        "font2font 64 px, batch 16": RunConfig().merge(FONT2FONT),
        "glyph_style_gan (the default job)": RunConfig(),
    }
    models = build_variants(configs, VARIANTS)
    rates = alternating_rates(models, args.rounds, args.steps)
    lines += [
        f"\nTraining ({args.steps} steps a round), images/s:\n",
        "| model | native | sub-pixel | speed-up |",
        "| --- | --- | --- | --- |",
    ]
    for name in configs:
        old, new = (statistics.median(rates[(name, v)]) for v in ("native", "sub-pixel"))
        lines.append(f"| {name} | {old:.1f} | {new:.1f} | {new / old:.2f}x |")
    sources = np.random.default_rng(0).uniform(-1, 1, (256, 64, 64, 1)).astype("float32")
    draw = {}
    for kind, scope in VARIANTS.items():
        model = models[("font2font 64 px, batch 16", kind)][0]
        style = model.style_table.numpy()[0]
        with scope():
            run = tf.function(
                lambda model=model, style=style: model.translate_in_style(sources, style)
            )
            run()
        draw[kind] = seconds(run, args.rounds)
    lines.append(
        f"\nfont2font drawing 256 glyphs in one style (`translate_in_style`): native "
        f"{draw['native']:.2f} s, sub-pixel {draw['sub-pixel']:.2f} s "
        f"({draw['native'] / draw['sub-pixel']:.2f}x)."
    )
    publish(lines)


if __name__ == "__main__":
    main()
