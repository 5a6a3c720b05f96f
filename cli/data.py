"""`kgan data prepare|fonts` and `kgan models`: data sets, fonts and what is registered."""

from __future__ import annotations

import json

import click

from keras_gan_cli.options import handle_errors
from keras_gan_cli.options import json_option


@click.group()
def data():
    """Inspect fonts and data sets."""


@data.command("prepare")
@click.option("--dataset", "spec", required=True, help="Data spec, e.g. folder:photos/.")
@click.option("--out", required=True, type=click.Path(), help="New folder for the TFRecords.")
@click.option("--image-size", type=click.IntRange(min=4), default=32, show_default=True)
@click.option("--channels", type=click.Choice(["1", "3"]), default="1", show_default=True)
@click.option("--shard-size", type=click.IntRange(min=1), default=4096, show_default=True)
@json_option("the manifest")
@handle_errors()
def data_prepare(spec, out, image_size, channels, shard_size, as_json):
    """Check a data set once and write it as sharded TFRecords with a manifest.

    Unusable files are skipped and counted by reason in manifest.json; train on the
    result with --dataset "tfrecord:OUT/*.tfrecord".

    \b
    Examples:
      kgan data prepare --dataset folder:photos/ --image-size 64 --channels 3 --out photos64/
      kgan data prepare --dataset glyphs:gb2312-1 --out gb2312/
    """
    from keras_gan.data.tfrecord import prepare

    folder = prepare(spec, out, image_size, int(channels), shard_size)
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    if as_json:
        click.echo(json.dumps(manifest, ensure_ascii=False))
    else:
        skipped = manifest["report"].get("skipped", {})
        click.echo(
            f"wrote {manifest['num_examples']} images in {len(manifest['files'])} file(s) "
            f"to {folder}; skipped {sum(skipped.values()) if skipped else 0} {skipped or ''}"
        )


@data.command("fonts")
@click.option(
    "--charset",
    default="default",
    show_default=True,
    help="latin, letters, common, default, gb2312-1 or chars=TEXT.",
)
@json_option("the fonts found")
@handle_errors()
def data_fonts(charset, as_json):
    """List the font faces found and how much of CHARSET each covers.

    \b
    Example:
      kgan data fonts --charset gb2312-1
    """
    from keras_gan.data import glyphs

    chars = glyphs.parse_charset(charset)
    rows = glyphs.font_coverage(chars, glyphs.find_fonts())
    if as_json:
        click.echo(
            json.dumps({"charset": charset, "size": len(chars), "fonts": rows}, ensure_ascii=False)
        )
        return
    for row in rows:
        covered = row.get("error") or f"{row['covered']:>5}/{row['total']}"
        click.echo(f"{covered}  {row['name']}  ({row['path']}#{row['index']})")
    click.echo(f"{len(rows)} faces; charset {charset!r} has {len(chars)} characters")
    if not any(row.get("cjk") for row in rows):
        click.echo(f"no CJK font found: {glyphs.CJK_HELP}")


@click.command()
@json_option("the registered models")
@handle_errors()
def models(as_json):
    """List registered models, losses and presets (with their references)."""
    import keras_gan.models  # noqa: F401  (registers the models)
    from keras_gan.presets import PRESETS
    from keras_gan.registry import LOSSES
    from keras_gan.registry import MODELS

    rows = {
        "models": {
            name: (MODELS.get(name).__doc__ or "").strip().splitlines()[0]
            for name in MODELS.names()
        },
        "losses": LOSSES.names(),
        "presets": {
            name: {"config": preset.config, "reference": preset.reference}
            for name, preset in PRESETS.items()
        },
    }
    if as_json:
        click.echo(json.dumps(rows))
        return
    for name, doc in rows["models"].items():
        click.echo(f"{name:12} {doc}")
    click.echo("losses: " + ", ".join(rows["losses"]))
    click.echo("presets:")
    for name, preset in rows["presets"].items():
        click.echo(f"  {name:20} {preset['reference']}")
