"""`kgan export`: a run's generator as a SavedModel in TF Serving's layout (and TFLite)."""

from __future__ import annotations

import json
from pathlib import Path

import click

from keras_gan_cli.options import handle_errors
from keras_gan_cli.options import json_option


@click.command()
@click.argument("source", type=click.Path(file_okay=False))
@click.option("--name", help="Model name: writes saved_models/NAME/<version>/.")
@click.option(
    "--out",
    type=click.Path(dir_okay=False),
    help="With --format tflite: write one .tflite file here instead (SOURCE may then also "
    "be a SavedModel or saved_models/NAME).",
)
@click.option(
    "--version", "version", type=click.IntRange(min=1), help="Version number (default: next free)."
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["saved_model", "tflite"]),
    default="saved_model",
    show_default=True,
    help="tflite: the SavedModel plus assets.extra/generator_<quantize>.tflite, checked by LiteRT.",
)
@click.option(
    "--quantize",
    type=click.Choice(["none", "float16", "dynamic", "int8"]),
    multiple=True,
    help="TFLite variants (repeatable; default: float16, the one to ship to phones).",
)
@click.option(
    "--model-base-path", default="saved_models", show_default=True, type=click.Path(file_okay=False)
)
@json_option("what was written")
@handle_errors()
def export(source, name, out, version, fmt, quantize, model_base_path, as_json):
    """Export a run's generator as a SavedModel in TF Serving's layout (and TFLite).

    \b
    Examples:
      kgan export runs/00000-glyph_style_gan --name glyphs    # saved_models/glyphs/1/
      kgan export runs/00000-glyph_style_gan --name glyphs --format tflite --quantize int8
      kgan export saved_models/glyphs --format tflite --out glyphs.tflite  # a phone file
    """
    from keras_gan.export import export_run

    if out is not None:
        if fmt != "tflite" or name or len(quantize) > 1:
            raise click.UsageError(
                "--out writes one TFLite file: use it with --format tflite, at most one "
                "--quantize, and no --name"
            )
        from keras_gan.export.saved_model import write_tflite

        check = write_tflite(source, out, quantize[0] if quantize else "float16")
        if as_json:
            click.echo(json.dumps({"tflite": out, **check}))
        else:
            click.echo(f"{out}: {_tflite_check(check)}")
        return
    if not name:
        raise click.UsageError("--name is required (or --format tflite --out FILE)")

    target = export_run(
        source,
        Path(model_base_path) / name,
        version,
        tflite=(quantize or ("float16",)) if fmt == "tflite" else (),
    )
    checks = {}
    if fmt == "tflite":
        meta = json.loads((target / "assets.extra" / "kgan.json").read_text(encoding="utf-8"))
        checks = meta["tflite"]
    if as_json:
        click.echo(json.dumps({"saved_model": str(target), "tflite": checks}))
        return
    for variant, check in checks.items():
        click.echo(f"tflite {variant}: {_tflite_check(check)}", err=True)
    click.echo(str(target))


def _tflite_check(check: dict) -> str:
    return (
        f"{check['bytes']} bytes, vs SavedModel max |diff| {check['max_abs_diff']}, "
        f"mean {check['mean_abs_diff']} (0-255)"
    )
