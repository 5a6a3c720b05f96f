"""`kgan`: train, sample, evaluate, export and serve GANs. Each command group is a file
of this package; a command parses its options, calls one library function and prints.

No TensorFlow import at module level: `kgan --help` stays fast.
"""

from __future__ import annotations

import os

import click

from keras_gan.files import OFFLINE_ENV
from keras_gan_cli.data import data
from keras_gan_cli.data import models
from keras_gan_cli.evaluate import evaluate
from keras_gan_cli.export import export
from keras_gan_cli.fit import fit
from keras_gan_cli.font import font
from keras_gan_cli.sample import interpolate
from keras_gan_cli.sample import sample
from keras_gan_cli.serve import predict
from keras_gan_cli.serve import serve


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="keras-gan")
@click.option(
    "--offline",
    is_flag=True,
    help="Never download (also KGAN_OFFLINE=1): a TFDS data set not in its data_dir or "
    "Keras' ImageNet weights are an error instead of fetched.",
)
def cli(offline):
    """keras-gan: train, sample and export GANs (Keras 3, TensorFlow).

    \b
    Examples:
      kgan fit                                  # default glyph GAN, ~8 min on 2 CPUs
      kgan sample runs/00000-glyph_style_gan --labels 永字八法Ab --grid --out grid.png
      kgan export runs/00000-glyph_style_gan --name glyphs
      kgan serve & kgan predict --target 127.0.0.1:8500 --model glyphs --labels 永 --out out/
      kgan data fonts --charset gb2312-1
    """
    if offline:
        os.environ[OFFLINE_ENV] = "1"


for command in (fit, font, sample, interpolate, evaluate, export, serve, predict, data, models):
    cli.add_command(command)


if __name__ == "__main__":  # python -m keras_gan_cli.main
    cli()
