"""`kgan evaluate`: score a generator against real data."""

from __future__ import annotations

import json

import click

from keras_gan.config import TrainConfig
from keras_gan_cli.options import Temperatures
from keras_gan_cli.options import handle_errors
from keras_gan_cli.options import json_option


@click.command()
@click.argument("source", type=click.Path())
@click.option("--dataset", help="Real data spec (default: the data the model was trained on).")
@click.option(
    "--metrics",
    help="Comma-separated: fid, kid, is, pr, cas (default fid,kid,cas); text models: "
    "bleu, selfbleu, jsd, nll (default bleu,selfbleu,jsd).",
)
@click.option("--num-samples", type=click.IntRange(min=2), default=2000, show_default=True)
@click.option(
    "--extractor",
    default=TrainConfig.eval_extractor,
    show_default=True,
    type=click.Path(file_okay=False),
    help="Glyph classifier folder used as feature extractor.",
)
@click.option(
    "--inception-weights",
    type=click.Path(dir_okay=False),
    help="Score with Inception instead: 'imagenet' (Keras' weights, downloaded once into "
    "~/.keras/models/ unless --offline), 'keras-cache' (that folder only), a weights file, "
    "or the FID graph classify_image_graph_def.pb (papers' FIDs).",
)
@click.option(
    "--train-extractor",
    is_flag=True,
    help="First train a glyph classifier on --dataset and save it to --extractor.",
)
@click.option(
    "--temperature",
    "temperatures",
    type=Temperatures(),
    default="1",
    show_default=True,
    help="Text models: the sampling temperature scored; several (0,0.5,0.8,1,1.2) give "
    "the quality-diversity curve, a row each.",
)
@click.option(
    "--nll-model",
    type=click.Path(file_okay=False),
    help="Text models: a text_mle run directory whose NLL of the samples `nll` reports.",
)
@json_option("the scores and protocol")
@handle_errors(FileNotFoundError)
def evaluate(as_json, **options):
    """Score a generator against real data: FID, KID, IS, precision/recall, CAS.

    Features and class probabilities come from a glyph classifier trained on real
    glyphs of many fonts; CAS is its accuracy on generated characters.

    \b
    Examples:
      kgan evaluate saved_models/glyphs
      kgan evaluate runs/00003-glyph_style_gan --metrics fid,kid,pr,cas --num-samples 5000 --json
      kgan evaluate saved_models/glyphs --train-extractor --extractor my_classifier
      kgan evaluate saved_models/glyphs --metrics fid,kid,is --inception-weights imagenet
      kgan evaluate runs/00004-text_relgan --metrics bleu,selfbleu,nll \\
          --nll-model runs/00002-text_mle --temperature 0,0.5,0.8,1,1.2
    """
    from keras_gan.evaluation import evaluate_source

    # The options are named as evaluate_source's arguments.
    results = evaluate_source(**options, log=lambda line: click.echo(line, err=True))
    if len(results) == 1:
        _print_scores(results[0], as_json)
    else:
        _print_curve(results, as_json)


def _print_scores(result: dict, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(result, ensure_ascii=False))
        return
    for name, value in result["scores"].items():
        click.echo(f"{name:10} {value:.6g}")
    click.echo("protocol: " + json.dumps(result["protocol"], ensure_ascii=False))


def _print_curve(curve: list, as_json: bool) -> None:
    """Scores at several temperatures: one row each (JSON: a list of results)."""
    if as_json:
        click.echo(json.dumps({"curve": curve}, ensure_ascii=False))
        return
    names = list(curve[0]["scores"])
    click.echo("temperature " + " ".join(f"{name:>9}" for name in names))
    for result in curve:
        values = " ".join(f"{result['scores'][name]:9.4g}" for name in names)
        click.echo(f"{result['protocol']['temperature']:<11g} {values}")
