"""`kgan sample` and `kgan interpolate`: images (or lines of text) by seed."""

from __future__ import annotations

import json
from pathlib import Path

import click

from keras_gan_cli.options import InputError
from keras_gan_cli.options import NumRange
from keras_gan_cli.options import handle_errors
from keras_gan_cli.options import json_option
from keras_gan_cli.options import temperature_option


@click.command()
@click.argument("source", type=click.Path())
@click.option(
    "--seeds", type=NumRange(), default="0-7", show_default=True, help="Seeds, e.g. 0-15 or 1,5,9."
)
@click.option(
    "--labels", help="Labels to draw; for glyph models the characters themselves: '永字八法 Ab'."
)
@click.option(
    "--grid", "as_grid", is_flag=True, help="Write one PNG grid (rows = seeds, columns = labels)."
)
@click.option("--out", type=click.Path(), help="Output folder (or PNG file with --grid).")
@click.option("--list-labels", is_flag=True, help="Print the labels the model knows and exit.")
@click.option(
    "--num-samples",
    type=click.IntRange(min=1),
    help="Write a labelled synthetic data set of N images (seeds 0..N-1) to --out.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["png", "tfrecord"]),
    default="png",
    show_default=True,
    help="Data set format with --num-samples.",
)
@click.option(
    "--style",
    help="Draw the labels in the style of this installed font face (a name as "
    "glyphs:...?fonts= takes it); a model with a style encoder only.",
)
@click.option(
    "--style-from",
    type=click.Path(),
    help="Draw the labels in the style of the glyph images in this folder (named by "
    "character, e.g. 永.png or U+6C38.png, as kgan font fit --target takes them).",
)
@temperature_option
@json_option("what was written")
@handle_errors()
def sample(
    source,
    seeds,
    labels,
    as_grid,
    out,
    list_labels,
    num_samples,
    fmt,
    style,
    style_from,
    temperature,
    as_json,
):
    """Generate images (or lines of text) by seed from a run directory or an exported model.

    \b
    Examples:
      kgan sample saved_models/glyphs --labels 永字八法 --seeds 0-3 --grid --out grid.png
      kgan sample runs/00000-glyph_style_gan --labels Ab --out samples/   # seed0000-A.png ...
      kgan sample saved_models/glyphs --list-labels
      kgan sample saved_models/glyphs --num-samples 10000 --format tfrecord --out synth/
      kgan sample runs/00001-text_mle --num-samples 20 --temperature 0.8   # one line each
      kgan sample runs/00002-glyph_style_gan --style "AR PL UKai" --labels 永字 --grid --out kai.png
    """
    from keras_gan import sampling

    sampler = sampling.load_sampler(source)
    if sampler.modality == "text":
        if labels or as_grid or list_labels:
            raise InputError("a text model takes no --labels, --grid or --list-labels")
        lines = sampler.lines(range(num_samples) if num_samples else seeds, temperature)
        write_lines(lines, out, as_json)
        return
    if list_labels:
        click.echo(
            json.dumps(sampler.labels, ensure_ascii=False)
            if as_json
            else "".join(sampler.labels or [])
        )
        return
    if not out:
        raise InputError("--out is required (a folder, or a .png file with --grid)")
    if num_samples:
        folder = sampling.write_dataset(sampler, out, num_samples, labels, fmt)
        click.echo(json.dumps({"dataset": str(folder)}) if as_json else f"wrote {folder}")
        return
    if style is not None or style_from is not None:
        glyphs = sampling.style_glyphs(sampler, style, style_from)
        written = sampling.save_styled(sampler, glyphs, out, labels, as_grid)
    else:
        written = sampling.save_samples(sampler, seeds, out, labels, as_grid)
    if as_json:
        click.echo(json.dumps({"written": [str(p) for p in written]}, ensure_ascii=False))
    else:
        click.echo(f"wrote {len(written)} file(s) to {out}")


@click.command()
@click.argument("source", type=click.Path())
@click.option("--seeds", "pair", required=True, help="Two seeds A,B to interpolate between.")
@click.option("--steps", type=click.IntRange(2, 256), default=8, show_default=True)
@click.option("--labels", help="Labels (characters) for conditional models; default: the first.")
@click.option("--out", required=True, type=click.Path(dir_okay=False), help="PNG grid to write.")
@json_option("what was written")
@handle_errors()
def interpolate(source, pair, steps, labels, out, as_json):
    """Walk the latent space from seed A to seed B (spherical interpolation).

    \b
    Example:
      kgan interpolate saved_models/glyphs --seeds 1,2 --labels 永 --out walk.png
    """
    from keras_gan import sampling

    seeds = NumRange().convert(pair, None, None)
    if len(seeds) != 2:
        raise InputError(f"--seeds takes exactly two seeds A,B, got {pair!r}")
    sampler = sampling.load_sampler(source)
    sampling.save_interpolation(sampler, seeds, steps, labels, out)
    click.echo(json.dumps({"written": [out]}, ensure_ascii=False) if as_json else f"wrote {out}")


def write_lines(lines: list[str], out: str | None, as_json: bool = False) -> None:
    """Generated lines to the file `out` (written whole or not at all), else stdout;
    `as_json`: {"written": [out]} or {"lines": [...]} on stdout instead."""
    if out:
        from keras_gan.files import atomic_write_bytes

        atomic_write_bytes(Path(out), "".join(line + "\n" for line in lines).encode("utf-8"))
        if as_json:
            click.echo(json.dumps({"written": [out]}, ensure_ascii=False))
    elif as_json:
        click.echo(json.dumps({"lines": lines}, ensure_ascii=False))
    else:
        click.echo("\n".join(lines))
