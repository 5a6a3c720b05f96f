"""`kgan font fit|complete`: learn a font style from samples and complete the font."""

from __future__ import annotations

import json

import click

from keras_gan_cli.fit import report
from keras_gan_cli.fit import run_training
from keras_gan_cli.options import handle_errors
from keras_gan_cli.options import json_option


@click.group()
def font():
    """Learn a font style from samples and complete the font (font2font).

    \b
    Examples:
      kgan font fit --target my_glyphs/ --run-dir runs/mine     # 永.png, U+6C38.png, ...
      kgan font complete runs/mine --charset gb2312-1 --out Mine.ttf
      kgan font complete saved_models/font2font-zh --like my_glyphs/ --out Mine.ttf  # no fit
      kgan font complete runs/mine --out Mine --format otf,ufo,woff2  # several formats
    """


@font.command("fit")
@click.option(
    "--target",
    required=True,
    help="The style to learn: a font (a face name, or a file: a collection's first face, "
    "FILE#N or FILE#NAME another) or a folder of glyph images named by character (永.png "
    "or U+6C38.png).",
)
@click.option("--source-font", help="Font translated from (default: the base model's).")
@click.option(
    "--charset",
    help="Characters to learn from when the target is a font (a folder brings its own), "
    "and to draw pseudo-glyphs of: gb2312-1, european, latin, common, chars=TEXT "
    "[default: the base's, gb2312-1 or european].",
)
@click.option(
    "--base",
    default="auto",
    show_default=True,
    help="Multi-style model to fine-tune; 'auto': the shipped saved_models/font2font-latin "
    "when no character learned from is a hanzi, else saved_models/font2font-zh; 'none' "
    "trains from scratch.",
)
@click.option(
    "--steps",
    type=click.IntRange(min=1),
    help="Training steps [default: 3 per training pair (samples and pseudo-glyphs), 200 to 1000].",
)
@click.option("--batch-size", type=click.IntRange(min=1), default=16, show_default=True)
@click.option("--run-dir", type=click.Path(file_okay=False), help="Run directory to create.")
@click.option(
    "--holdout", is_flag=True, help="Leave the held-out characters out (to evaluate on them)."
)
@click.option(
    "--pseudo-glyphs",
    type=click.FloatRange(min=0),
    default=0.5,
    show_default=True,
    help="Also learn from the base's zero-shot drawings of other characters of the "
    "charset, this many per sample glyph (they keep few-shot glyphs legible; never copied "
    "into the font); 0: none.",
)
@click.option("--set", "assignments", multiple=True, metavar="KEY=VALUE", help="Config override.")
@json_option("where the run ended")
@handle_errors()
def font_fit(
    target,
    source_font,
    charset,
    base,
    steps,
    batch_size,
    run_dir,
    holdout,
    pseudo_glyphs,
    assignments,
    as_json,
):
    """Fine-tune font2font on a target style (a few hundred glyphs are enough)."""
    from keras_gan.config import RunConfig
    from keras_gan.fonts.complete import fit_config
    from keras_gan.runs import next_run_dir

    # Named now: the run's pseudo-glyphs are drawn into it before training starts.
    run_dir = run_dir or next_run_dir(
        RunConfig().override(list(assignments)).runs_root, "font2font"
    )
    config = fit_config(
        target,
        source_font=source_font,
        charset=charset,
        base=None if base == "none" else base,
        steps=steps,
        batch_size=batch_size,
        holdout=holdout,
        overrides=list(assignments),
        run_dir=run_dir,
        pseudo_glyphs=pseudo_glyphs,
        log=lambda line: click.echo(line, err=True),
    )
    report(run_training(config, run_dir), config, as_json)


@font.command("complete")
@click.argument("run_dir", type=click.Path(file_okay=False))
@click.option(
    "--charset",
    help="Characters of the font [default: the model's, gb2312-1 for font2font-zh and "
    "european for font2font-latin].",
)
@click.option(
    "--out",
    required=True,
    type=click.Path(),
    help="The font to write; its suffix is replaced by each --format's.",
)
@click.option(
    "--format",
    "formats",
    multiple=True,
    help="ttf, otf (CFF, cubic curves), woff2 or ufo (UFO 3 sources); several as a comma "
    "list or repeated (default: --out's suffix).",
)
@click.option(
    "--no-hint", is_flag=True, help="Leave TrueType outlines unhinted (default: ttfautohint)."
)
@click.option("--style", help="Style of a multi-style run (default: its only style).")
@click.option(
    "--like",
    help="Zero-shot: a font or folder of sample glyphs (named by character) in a style the "
    "run never learned; its style is fitted to them in about a minute, no fine-tuning.",
)
@click.option("--family", help="Font family name (default: the file name).")
@json_option("what was written")
@handle_errors()
def font_complete(run_dir, charset, out, formats, no_hint, style, like, family, as_json):
    """Write the whole charset as a font (TrueType, OpenType/CFF, WOFF2, UFO), plus a
    PNG specimen sheet."""
    from keras_gan.fonts.complete import complete_font

    done = complete_font(
        run_dir,
        charset,
        out,
        style,
        family,
        like,
        formats=list(formats),
        hint=not no_hint,
        log=lambda line: click.echo(line, err=True),
    )
    report = done.report
    if as_json:
        click.echo(json.dumps(report, ensure_ascii=False, indent=2))
    else:
        click.echo(
            f"wrote {', '.join(report['fonts'].values())} ({report['characters']} characters: "
            + ", ".join(f"{n} {k}" for k, n in report["by_source"].items())
            + f") and {report['specimen']}"
            + (f", {report['specimen_html']}" if "specimen_html" in report else "")
        )


@font.command("template")
@click.option("--charset", default="gb2312-1", show_default=True, help="Characters to write.")
@click.option("--out", required=True, type=click.Path(dir_okay=False), help="The .pdf to write.")
@json_option("what was written")
@handle_errors()
def font_template(charset, out, as_json):
    """Print a handwriting sheet: a box per character, 63 to an A4 page.

    \b
    Write one character in each box, photograph or scan the pages, then:
      kgan font scan page*.jpg --charset SAME --out my_glyphs/
      kgan font complete saved_models/font2font-zh --like my_glyphs/ --out Mine.ttf
    """
    from keras_gan.fonts.handwriting import write_template

    pages = write_template(charset, out)
    if as_json:
        click.echo(json.dumps({"written": [out], "pages": pages}, ensure_ascii=False))
    else:
        click.echo(f"wrote {out} ({pages} pages)")


@font.command("scan")
@click.argument("photos", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--charset", default="gb2312-1", show_default=True, help="The template's charset.")
@click.option(
    "--out", required=True, type=click.Path(file_okay=False), help="Folder of glyph images."
)
@json_option("the report")
@handle_errors(FileNotFoundError)
def font_scan(photos, charset, out, as_json):
    """Read photos or scans of filled template pages into glyph images named by
    character (marks found, rotation, perspective and EXIF orientation undone, the
    printed guides removed); empty and crossed-out boxes are reported by name."""
    from keras_gan.fonts.handwriting import scan

    report = scan(list(photos), charset, out).to_dict()
    if as_json:
        click.echo(json.dumps(report, ensure_ascii=False, indent=2))
        return
    click.echo(f"wrote {report['written']} glyphs to {out} from pages {report['pages']}")
    for kind in ("empty", "crossed_out"):
        if report[kind]:
            click.echo(f"{kind.replace('_', ' ')}: {', '.join(report[kind])}")
