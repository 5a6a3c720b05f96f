"""Convolution gradients: TensorFlow's backprop kernels against keras_gan's.

`keras_gan.models.layers.Conv2D` (and `same_conv2d`) keeps Keras's forward
convolution and computes its gradients by other kernels on the maps where TF's CPU
kernels are slow (see its docstring). Side by side in one process, alternating
rounds: every convolution of the font2font U-Net encoder and its PatchGAN
discriminator (64 px, 32/256 filters, batch 16), forward + backward; then training
steps of `font2font` (batch 16, 64 px), of the default job and of the StyleGAN2 preset
on glyphs (its convolutions by `same_conv2d`), one step of each variant in turn. "TF"
is the same model built and traced with `Conv2D.fast_gradients = False`. Appends a
section to bench/RESULTS.md.

    .venv/bin/python bench/conv_gradients.py [--rounds 3] [--steps 60]
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
from unittest import mock

import tensorflow as tf
from conv_transpose import FONT2FONT
from conv_transpose import seconds
from font2font_layers import with_gradients
from results import publish
from train_speed import build_variants
from train_speed import interleaved_step_ms
from train_speed import machine

from keras_gan import presets
from keras_gan.config import RunConfig
from keras_gan.models import unet
from keras_gan.models.layers import Conv2D

VARIANTS = {
    "TF": lambda: mock.patch.object(Conv2D, "fast_gradients", False),
    "keras_gan": contextlib.nullcontext,
}


def layer_rows(rounds: int, batch: int = 16) -> list[str]:
    encoder = unet.unet_encoder(64, 1, 32, 256)
    discriminator = unet.patch_discriminator(64, 1, 32, 256)
    rows = []
    for network in (encoder, discriminator):
        for layer in network.layers:
            if not isinstance(layer, Conv2D):
                continue
            x = tf.random.uniform((batch, *layer.input.shape[1:]))
            upstream = tf.random.uniform((batch, *layer.output.shape[1:]))

            def loss(y, upstream=upstream):
                return tf.reduce_sum(y * upstream)

            times = {}
            for name, scope in VARIANTS.items():
                with scope():
                    times[name] = seconds(tf.function(with_gradients(layer, x, loss)), rounds)
            old, new = times["TF"], times["keras_gan"]
            shapes = " -> ".join(
                "x".join(map(str, t.shape[1:])) for t in (layer.input, layer.output)
            )
            rows.append(
                f"| {network.name} | {shapes}, stride {layer.strides[0]} | "
                f"{old * 1e3:.1f} / {new * 1e3:.1f} ({old / new:.2f}x) |"
            )
            print(rows[-1], flush=True)
    return rows


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--steps", type=int, default=60)
    args = parser.parse_args()
    lines = [
        f"\n## Convolution gradients ({datetime.date.today()}, bench/conv_gradients.py)\n",
        f"Machine: {machine()}. Medians of {args.rounds} alternating rounds. Layers: batch "
        "16, forward + backward (to the input and the weights) milliseconds, TF / keras_gan "
        "(speed-up).\n",
        "| network | layer | forward + backward ms |",
        "| --- | --- | --- |",
        *layer_rows(args.rounds),
    ]
    configs = {
        "font2font 64 px, batch 16": RunConfig().merge(FONT2FONT),
        "glyph_style_gan (the default job)": RunConfig(),
        "glyphs-stylegan2-64": RunConfig().merge(presets.get("glyphs-stylegan2-64")),
    }
    models = build_variants(configs, VARIANTS)
    lines += [
        f"\nTraining, {args.steps} steps of each variant in turn; milliseconds a step, "
        "10th percentile / median / 90th:\n",
        "| model | TF | keras_gan | speed-up of the median |",
        "| --- | --- | --- | --- |",
    ]
    for name in configs:
        times = interleaved_step_ms({v: models[(name, v)] for v in VARIANTS}, args.steps)
        old, new = ("{:.0f} / {:.0f} / {:.0f}".format(*times[v]) for v in VARIANTS)
        lines.append(f"| {name} | {old} | {new} | {times['TF'][1] / times['keras_gan'][1]:.2f}x |")
    publish(lines)


if __name__ == "__main__":
    main()
