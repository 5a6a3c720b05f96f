"""`kgan`: train, sample and export GANs. Parses, builds a config, calls the library.

No TensorFlow import at module level: `kgan --help` stays fast.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from keras_gan_cli.options import Failure
from keras_gan_cli.options import InputError
from keras_gan_cli.options import NumRange
from keras_gan_cli.options import Temperatures
from keras_gan_cli.options import temperature_option


def _input_errors():
    """Library exception types that mean bad input (exit 2)."""
    from keras_gan.config import ConfigError
    from keras_gan.data import DataError
    from keras_gan.sampling import SourceError

    return (ConfigError, DataError, SourceError, KeyError, ValueError, FileExistsError)


def _message(error: BaseException) -> str:
    text = error.args[0] if isinstance(error, KeyError) and error.args else str(error)
    return " ".join(str(text).split())


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="keras-gan")
def cli():
    """keras-gan: train, sample and export GANs (Keras 3, TensorFlow).

    \b
    Examples:
      kgan fit                                  # default glyph GAN, ~10 min on 2 CPUs
      kgan sample runs/00000-glyph_gan --labels 永字八法Ab --grid --out grid.png
      kgan export runs/00000-glyph_gan --name glyphs
      kgan serve & kgan predict --target 127.0.0.1:8500 --model glyphs --labels 永 --out out/
      kgan data fonts --charset gb2312-1
    """


# ----------------------------------------------------------------------------- fit


@cli.command()
@click.argument("config_file", required=False, type=click.Path(dir_okay=False))
@click.option("--model", help="Registered model name (kgan models).")
@click.option("--preset", help="Named partial config (see keras_gan/presets.py).")
@click.option(
    "--dataset", help="Data spec, e.g. glyphs:latin, glyphs:chars=永字八法, synthetic:32x32x3."
)
@click.option("--steps", type=int, help="Training steps.")
@click.option("--epochs", type=int, help="Passes over the data (overrides --steps).")
@click.option("--batch-size", type=int, help="Global batch size.")
@click.option("--image-size", type=int, help="Image side in pixels (16, 32, 64, 128).")
@click.option(
    "--run-dir", type=click.Path(file_okay=False), help="Run directory (default: runs/NNNNN-MODEL)."
)
@click.option("--seed", type=int, help="Seed for data order, noise and weights.")
@click.option(
    "--strategy",
    type=click.Choice(["auto", "one", "mirrored", "multi-worker"]),
    help="tf.distribute strategy (multi-worker: the cluster in TF_CONFIG; needs --run-dir).",
)
@click.option(
    "--precision",
    type=click.Choice(["float32", "mixed_bfloat16", "mixed_float16"]),
    help="Compute dtype policy (mixed_bfloat16: CPUs with bf16 units; mixed_float16: GPUs).",
)
@click.option(
    "--jit-compile/--no-jit-compile", default=None, help="Compile the training step with XLA."
)
@click.option(
    "--set",
    "assignments",
    multiple=True,
    metavar="KEY=VALUE",
    help="Override any config key, e.g. --set train.log_every=50 (repeatable).",
)
@click.option(
    "--resume",
    is_flag=True,
    help="Continue the latest run (or --run-dir) from its last checkpoint.",
)
@click.option(
    "--export", "export_name", metavar="NAME", help="Export the generator to saved_models/NAME/."
)
@click.option(
    "--dry-run", is_flag=True, help="Resolve config, data and model; print them; train nothing."
)
def fit(
    config_file,
    model,
    preset,
    dataset,
    steps,
    epochs,
    batch_size,
    image_size,
    run_dir,
    seed,
    strategy,
    precision,
    jit_compile,
    assignments,
    resume,
    export_name,
    dry_run,
):
    """Train a GAN. With no arguments: the default glyph model on the default glyphs.

    \b
    Examples:
      kgan fit
      kgan fit --dataset "glyphs:chars=永字八法?fonts=uming,ukai" --steps 2000
      kgan fit --preset latin-cdcgan-32 --set train.log_every=50 --export latin
      kgan fit --resume                         # after Ctrl-C or a crash
    """
    from keras_gan import presets
    from keras_gan.config import RunConfig
    from keras_gan.config import load_config_file

    try:
        if resume:
            from keras_gan.runs import latest_run_dir

            run_dir = Path(run_dir) if run_dir else latest_run_dir(RunConfig().runs_root)
            base = RunConfig.from_dict(load_config_file(run_dir / "config.json"))
        else:
            base = RunConfig()
            if preset:
                base = base.merge(presets.get(preset))
            if config_file:
                base = base.merge(load_config_file(config_file))
        flags = {
            "model": model,
            "data": {"spec": dataset, "image_size": image_size},
            "train": {
                "steps": steps,
                "epochs": epochs,
                "batch_size": batch_size,
                "seed": seed,
                "strategy": strategy,
                "precision": precision,
                "jit_compile": jit_compile,
            },
            "export_name": export_name,
        }
        config = base.merge(_drop_none(flags)).override(list(assignments)).validate()
        if dry_run:
            _dry_run(config)
            return
    except _input_errors() as e:
        raise InputError(_message(e)) from None
    _train(config, run_dir, resume)


def _train(config, run_dir, resume=False) -> Path:
    """Runs `training.fit`; bad input exits 2, divergence 1, a signal 128 + its number."""
    from keras_gan import training

    try:
        _, run_dir = training.fit(
            config, run_dir=run_dir, resume=resume, log=lambda line: click.echo(line, err=True)
        )
        return run_dir
    except _input_errors() as e:
        raise InputError(_message(e)) from None
    except _training_errors() as e:
        if getattr(e, "signum", None):
            click.echo(f"Error: {_message(e)}", err=True)
            sys.exit(128 + e.signum)
        raise Failure(_message(e)) from None


def _training_errors():
    from keras_gan.training import TrainingDiverged
    from keras_gan.training import TrainingInterrupted

    return (TrainingDiverged, TrainingInterrupted)


def _drop_none(values: dict) -> dict:
    out = {}
    for key, value in values.items():
        if isinstance(value, dict):
            value = _drop_none(value)
            if value:
                out[key] = value
        elif value is not None:
            out[key] = value
    return out


def _dry_run(config) -> None:
    from keras_gan import data as data_lib
    from keras_gan import runs

    data = data_lib.load_dataset(config.data.spec, config.data.image_size, config.data.channels)
    model, kwargs = runs.build_for_data(config, data)
    summary = {
        "config": config.merge({"model_kwargs": kwargs}).to_dict(),
        "data": {"images": len(data), "classes": data.num_classes, "report": data.report},
        "parameters": {
            "generator": model.generator.count_params(),
            "discriminator": model.discriminator.count_params(),
        },
        "steps": runs.total_steps(config, len(data)),
    }
    click.echo(json.dumps(summary, indent=2, ensure_ascii=False))


# ----------------------------------------------------------------------------- font


@cli.group()
def font():
    """Learn a font style from samples and complete the font (font2font).

    \b
    Examples:
      kgan font fit --target my_glyphs/ --run-dir runs/mine     # 永.png, U+6C38.png, ...
      kgan font complete runs/mine --charset gb2312-1 --out Mine.ttf
    """


@font.command("fit")
@click.option(
    "--target",
    required=True,
    help="The style to learn: a font (path or face name) or a folder of glyph images "
    "named by character (永.png or U+6C38.png).",
)
@click.option("--source-font", help="Font translated from (default: the base model's).")
@click.option(
    "--charset",
    default="gb2312-1",
    show_default=True,
    help="Characters to learn from when the target is a font: gb2312-1, latin, common, chars=TEXT.",
)
@click.option(
    "--base",
    default="saved_models/font2font-zh",
    show_default=True,
    help="Multi-style model to fine-tune; 'none' trains from scratch.",
)
@click.option("--steps", type=click.IntRange(min=1), default=1000, show_default=True)
@click.option("--batch-size", type=click.IntRange(min=1), default=16, show_default=True)
@click.option("--run-dir", type=click.Path(file_okay=False), help="Run directory to create.")
@click.option(
    "--holdout", is_flag=True, help="Leave the held-out characters out (to evaluate on them)."
)
@click.option("--set", "assignments", multiple=True, metavar="KEY=VALUE", help="Config override.")
def font_fit(target, source_font, charset, base, steps, batch_size, run_dir, holdout, assignments):
    """Fine-tune font2font on a target style (a few hundred glyphs are enough)."""
    from keras_gan.fonts.complete import fit_config

    try:
        config = fit_config(
            target,
            source_font=source_font,
            charset=charset,
            base=None if base == "none" else base,
            steps=steps,
            batch_size=batch_size,
            holdout=holdout,
            overrides=list(assignments),
        )
    except _input_errors() as e:
        raise InputError(_message(e)) from None
    run_dir = _train(config, run_dir)
    click.echo(f"next: kgan font complete {run_dir} --charset gb2312-1 --out NAME.ttf", err=True)


@font.command("complete")
@click.argument("run_dir", type=click.Path(file_okay=False))
@click.option("--charset", default="gb2312-1", show_default=True, help="Characters of the font.")
@click.option("--out", required=True, type=click.Path(dir_okay=False), help="The .ttf to write.")
@click.option("--style", help="Style of a multi-style run (default: its only style).")
@click.option("--family", help="Font family name (default: the file name).")
@click.option("--json", "as_json", is_flag=True, help="Print what was written as JSON.")
def font_complete(run_dir, charset, out, style, family, as_json):
    """Write the whole charset as a TrueType font, plus a PNG specimen sheet."""
    from keras_gan.fonts.complete import complete_font

    try:
        done = complete_font(
            run_dir, charset, out, style, family, log=lambda line: click.echo(line, err=True)
        )
    except _input_errors() as e:
        raise InputError(_message(e)) from None
    report = done.report
    if as_json:
        click.echo(json.dumps(report, ensure_ascii=False, indent=2))
    else:
        click.echo(
            f"wrote {report['font']} ({report['characters']} characters: "
            + ", ".join(f"{n} {k}" for k, n in report["by_source"].items())
            + f") and {report['specimen']}"
        )


# ----------------------------------------------------------------------------- sample


@cli.command()
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
@temperature_option
@click.option("--json", "as_json", is_flag=True, help="Print what was written as JSON.")
def sample(
    source, seeds, labels, as_grid, out, list_labels, num_samples, fmt, temperature, as_json
):
    """Generate images (or lines of text) by seed from a run directory or an exported model.

    \b
    Examples:
      kgan sample saved_models/glyphs --labels 永字八法 --seeds 0-3 --grid --out grid.png
      kgan sample runs/00000-glyph_gan --labels Ab --out samples/   # seed0000-A.png ...
      kgan sample saved_models/glyphs --list-labels
      kgan sample saved_models/glyphs --num-samples 10000 --format tfrecord --out synth/
      kgan sample runs/00001-text_mle --num-samples 20 --temperature 0.8   # one line each
    """
    from keras_gan import sampling

    try:
        sampler = sampling.load_sampler(source)
        if sampler.modality == "text":
            if labels or as_grid or list_labels:
                raise InputError("a text model takes no --labels, --grid or --list-labels")
            _write_lines(
                sampler.lines(range(num_samples) if num_samples else seeds, temperature), out
            )
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
        written = sampling.save_samples(sampler, seeds, out, labels, as_grid)
    except _input_errors() as e:
        raise InputError(_message(e)) from None
    if as_json:
        click.echo(json.dumps({"written": [str(p) for p in written]}, ensure_ascii=False))
    else:
        click.echo(f"wrote {len(written)} file(s) to {out}")


@cli.command()
@click.argument("source", type=click.Path())
@click.option("--seeds", "pair", required=True, help="Two seeds A,B to interpolate between.")
@click.option("--steps", type=click.IntRange(2, 256), default=8, show_default=True)
@click.option("--labels", help="Labels (characters) for conditional models; default: the first.")
@click.option("--out", required=True, type=click.Path(dir_okay=False), help="PNG grid to write.")
def interpolate(source, pair, steps, labels, out):
    """Walk the latent space from seed A to seed B (spherical interpolation).

    \b
    Example:
      kgan interpolate saved_models/glyphs --seeds 1,2 --labels 永 --out walk.png
    """
    from keras_gan import sampling

    try:
        seeds = NumRange().convert(pair, None, None)
        if len(seeds) != 2:
            raise InputError(f"--seeds takes exactly two seeds A,B, got {pair!r}")
        sampler = sampling.load_sampler(source)
        sampling.save_interpolation(sampler, seeds, steps, labels, out)
    except _input_errors() as e:
        raise InputError(_message(e)) from None
    click.echo(f"wrote {out}")


def _write_lines(lines: list[str], out: str | None) -> None:
    """Generated lines to the file `out` (written whole or not at all), else stdout."""
    if out:
        from keras_gan.files import atomic_write_bytes

        atomic_write_bytes(Path(out), "".join(line + "\n" for line in lines).encode("utf-8"))
    else:
        click.echo("\n".join(lines))


# ----------------------------------------------------------------------------- evaluate


@cli.command()
@click.argument("source", type=click.Path())
@click.option("--dataset", help="Real data spec (default: the data the model was trained on).")
@click.option(
    "--metrics",
    "metric_names",
    help="Comma-separated: fid, kid, is, pr, cas (default fid,kid,cas); text models: "
    "bleu, selfbleu, jsd, nll (default bleu,selfbleu,jsd).",
)
@click.option("--num-samples", type=click.IntRange(min=2), default=2000, show_default=True)
@click.option(
    "--extractor",
    "extractor_path",
    default="saved_models/glyph_classifier",
    show_default=True,
    type=click.Path(file_okay=False),
    help="Glyph classifier folder used as feature extractor.",
)
@click.option(
    "--inception-weights",
    type=click.Path(dir_okay=False),
    help="Score with Inception instead: a Keras InceptionV3 weights file, 'keras-cache' "
    "(~/.keras/models/), or the FID graph classify_image_graph_def.pb (papers' FIDs).",
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
@click.option("--json", "as_json", is_flag=True, help="Print scores and protocol as JSON.")
def evaluate(
    source,
    dataset,
    metric_names,
    num_samples,
    extractor_path,
    inception_weights,
    train_extractor,
    temperatures,
    nll_model,
    as_json,
):
    """Score a generator against real data: FID, KID, IS, precision/recall, CAS.

    Features and class probabilities come from a glyph classifier trained on real
    glyphs of many fonts; CAS is its accuracy on generated characters.

    \b
    Examples:
      kgan evaluate saved_models/glyphs
      kgan evaluate runs/00003-glyph_gan --metrics fid,kid,pr,cas --num-samples 5000 --json
      kgan evaluate saved_models/glyphs --train-extractor --extractor my_classifier
      kgan evaluate saved_models/glyphs --metrics fid,kid,is --inception-weights keras-cache
      kgan evaluate runs/00004-text_relgan --metrics bleu,selfbleu,nll \\
          --nll-model runs/00002-text_mle --temperature 0,0.5,0.8,1,1.2
    """
    from keras_gan import sampling
    from keras_gan.data import load_dataset
    from keras_gan.metrics import extractors
    from keras_gan.metrics.evaluate import evaluate as run_evaluation

    log = lambda line: click.echo(line, err=True)  # noqa: E731
    try:
        sampler = sampling.load_sampler(source)
        spec = dataset or sampler.training_data_spec()
        if sampler.modality == "text":
            curve = _evaluate_text(
                sampler, spec, metric_names, num_samples, temperatures, nll_model
            )
            if len(curve) == 1:
                _print_scores(curve[0], spec, as_json)
            else:
                _print_curve(curve, spec, as_json)
            return
        metric_names = metric_names or "fid,kid,cas"
        size, channels = sampler.image_shape[0], sampler.image_shape[2]
        data = load_dataset(spec, size, channels)
        if train_extractor:
            if Path(extractor_path).exists():
                raise InputError(
                    f"--extractor {extractor_path!r} exists; pick a new folder to train into"
                )
            classifier, info = extractors.train_glyph_classifier(data, log=log)
            classifier.save(extractor_path, {"dataset": spec, **info})
        if inception_weights:
            weights = None if inception_weights == "keras-cache" else inception_weights
            extractor = extractors.inception_extractor(weights)
        else:
            extractor = extractors.GlyphClassifier.load(extractor_path)
        metrics = [m.strip() for m in metric_names.split(",") if m.strip()]
        result = run_evaluation(sampler, data, extractor, metrics, num_samples, log=log)
    except (FileNotFoundError, *_input_errors()) as e:
        raise InputError(_message(e)) from None
    _print_scores(result, spec, as_json)


def _evaluate_text(sampler, spec, metric_names, num_samples, temperatures, nll_model) -> list:
    """One `evaluate_text` result per temperature."""
    from keras_gan import runs
    from keras_gan.data import load_dataset
    from keras_gan.metrics.text import evaluate_text

    data = load_dataset(spec)
    if not hasattr(data, "held_out"):
        raise InputError(f"--dataset {spec!r} is not text: a text model is scored on text:PATH")
    metrics = [m.strip() for m in (metric_names or "bleu,selfbleu,jsd").split(",") if m.strip()]
    language_model = None
    if nll_model:
        model, config, info = runs.load_run(nll_model)
        if config.model != "text_mle":
            raise InputError(f"--nll-model {nll_model!r} is a {config.model}, not a text_mle run")
        language_model = (model, info["vocab"])
    return [
        evaluate_text(sampler, data.held_out, metrics, num_samples, t, language_model)
        for t in temperatures
    ]


def _print_scores(result: dict, spec: str, as_json: bool) -> None:
    result["protocol"]["dataset"] = spec
    if as_json:
        click.echo(json.dumps(result, ensure_ascii=False))
        return
    for name, value in result["scores"].items():
        click.echo(f"{name:10} {value:.6g}")
    click.echo("protocol: " + json.dumps(result["protocol"], ensure_ascii=False))


def _print_curve(curve: list, spec: str, as_json: bool) -> None:
    """Scores at several temperatures: one row each (JSON: a list of results)."""
    for result in curve:
        result["protocol"]["dataset"] = spec
    if as_json:
        click.echo(json.dumps({"curve": curve}, ensure_ascii=False))
        return
    names = list(curve[0]["scores"])
    click.echo("temperature " + " ".join(f"{name:>9}" for name in names))
    for result in curve:
        values = " ".join(f"{result['scores'][name]:9.4g}" for name in names)
        click.echo(f"{result['protocol']['temperature']:<11g} {values}")


# ----------------------------------------------------------------------------- export


@cli.command()
@click.argument("source", type=click.Path(file_okay=False))
@click.option("--name", required=True, help="Model name: writes saved_models/NAME/<version>/.")
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
def export(source, name, version, fmt, quantize, model_base_path):
    """Export a run's generator as a SavedModel in TF Serving's layout (and TFLite).

    \b
    Examples:
      kgan export runs/00000-glyph_gan --name glyphs    # saved_models/glyphs/1/
      kgan export runs/00000-glyph_gan --name glyphs --format tflite --quantize int8
    """
    from keras_gan import runs
    from keras_gan.export import export_generator

    try:
        if not (Path(source) / "config.json").is_file():
            raise InputError(f"SOURCE {source!r} is not a run directory (no config.json)")
        model, config, info = runs.load_run(source)
        target = export_generator(
            model,
            Path(model_base_path) / name,
            version,
            labels=(
                info.get("vocab")
                if model.modality == "text"
                else info.get("label_names")
                if model.conditional
                else None
            ),
            config=config.to_dict(),
            tflite=(quantize or ("float16",)) if fmt == "tflite" else (),
        )
    except _input_errors() as e:
        raise InputError(_message(e)) from None
    if fmt == "tflite":
        meta = json.loads((target / "assets.extra" / "kgan.json").read_text(encoding="utf-8"))
        for variant, check in meta["tflite"].items():
            click.echo(
                f"tflite {variant}: {check['bytes']} bytes, vs SavedModel max |diff| "
                f"{check['max_abs_diff']}, mean {check['mean_abs_diff']} (0-255)",
                err=True,
            )
    click.echo(str(target))


# ----------------------------------------------------------------------------- serve, predict


@cli.command()
@click.option(
    "--model-base-path",
    default="saved_models",
    show_default=True,
    type=click.Path(file_okay=False),
    help="Folder of model folders (NAME/VERSION/), or one model folder.",
)
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to bind.")
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=8500,
    show_default=True,
    help="gRPC port (0: any free port).",
)
@click.option(
    "--rest-port",
    type=click.IntRange(0, 65535),
    default=8501,
    show_default=True,
    help="REST port (0: any free port).",
)
@click.option("--no-rest", is_flag=True, help="Serve gRPC only.")
@click.option(
    "--num-versions",
    type=click.IntRange(min=0),
    default=1,
    show_default=True,
    help="Newest versions served per model (0: all).",
)
@click.option(
    "--poll-seconds",
    type=click.FloatRange(min=0.05),
    default=1.0,
    show_default=True,
    help="How often new versions are looked for.",
)
@click.option("--max-batch-size", type=click.IntRange(min=1), default=256, show_default=True)
@click.option(
    "--max-message-mb",
    type=click.FloatRange(min=0.001),
    default=4.0,
    show_default=True,
    help="Largest request accepted.",
)
@click.option(
    "--token",
    envvar="KGAN_TOKEN",
    help="Require 'authorization: Bearer TOKEN' on every call (env KGAN_TOKEN; "
    "use it when --host is not loopback).",
)
def serve(
    model_base_path,
    host,
    port,
    rest_port,
    no_rest,
    num_versions,
    poll_seconds,
    max_batch_size,
    max_message_mb,
    token,
):
    """Serve exported generators over TF Serving's gRPC and REST APIs.

    New versions written under the base path are loaded while serving; the old
    version answers until the new one is ready. Stop with Ctrl-C or SIGTERM.

    \b
    Examples:
      kgan serve                                   # saved_models/ on 127.0.0.1:8500/8501
      kgan serve --model-base-path saved_models --num-versions 2
      curl -d '{"signature_name": "generate", "instances": [{"seed": 7, "labels": 0}]}' \\
          127.0.0.1:8501/v1/models/glyphs:predict
    """
    import logging
    import signal
    import threading

    from keras_gan_serving.server import Limits
    from keras_gan_serving.server import ModelServer

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    limits = Limits(max_batch=max_batch_size, max_message_bytes=int(max_message_mb * (1 << 20)))
    try:
        server = ModelServer(
            model_base_path,
            host,
            port,
            None if no_rest else rest_port,
            num_versions,
            poll_seconds,
            limits,
            token,
        )
    except (FileNotFoundError, ValueError) as e:
        raise InputError(_message(e)) from None
    except (OSError, RuntimeError) as e:
        raise Failure(f"cannot listen on {host}:{port}/{rest_port}: {_message(e)}") from None
    stopped = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stopped.set())
    server.start()
    rest = f", REST {host}:{server.rest_port}" if server.rest_port else ""
    click.echo(f"serving {model_base_path} on gRPC {host}:{server.port}{rest}", err=True)
    stopped.wait()
    server.stop()


@cli.command()
@click.option("--target", required=True, help="HOST:PORT of a kgan serve or TF Serving server.")
@click.option("--model", required=True, help="Model name on the server.")
@click.option("--version", type=click.IntRange(min=1), help="Model version (default: newest).")
@click.option(
    "--seeds", type=NumRange(), default="0-7", show_default=True, help="Seeds, e.g. 0-15 or 1,5,9."
)
@click.option("--labels", help="Labels to draw; for glyph models the characters themselves.")
@click.option("--grid", "as_grid", is_flag=True, help="Write one PNG grid instead of a folder.")
@click.option(
    "--out",
    type=click.Path(),
    help="Output folder (or PNG with --grid); text models: a file (default: print the lines).",
)
@temperature_option
@click.option("--rest", is_flag=True, help="Use the REST API (TARGET is then the REST port).")
@click.option(
    "--metadata",
    type=click.Path(dir_okay=False, exists=True),
    help="The model's kgan.json, for servers that do not give it (tensorflow_model_server).",
)
@click.option("--timeout", type=click.FloatRange(min=0.1), default=60.0, show_default=True)
@click.option("--token", envvar="KGAN_TOKEN", help="The server's bearer token (env KGAN_TOKEN).")
def predict(
    target, model, version, seeds, labels, as_grid, out, temperature, rest, metadata, timeout,
    token,
):  # fmt: skip
    """Generate images on a server and write them as PNGs, or lines of text (like kgan sample).

    \b
    Examples:
      kgan predict --target 127.0.0.1:8500 --model glyphs --labels 永字八法 --seeds 0-3 --out out/
      kgan predict --target 127.0.0.1:8501 --rest --model glyphs --labels Ab --grid --out g.png
      kgan predict --target 127.0.0.1:8500 --model poems --seeds 0-9 --temperature 0.8
    """
    from keras_gan import sampling
    from keras_gan_serving.client import GeneratorClient
    from keras_gan_serving.client import ServingError
    from keras_gan_serving.client import remote_sampler

    try:
        meta = json.loads(Path(metadata).read_text(encoding="utf-8")) if metadata else None
        with GeneratorClient(
            target, model, version, "rest" if rest else "grpc", timeout=timeout, token=token
        ) as client:
            sampler = remote_sampler(client, meta)
            if sampler.modality == "text":
                if labels or as_grid:
                    raise InputError("a text model takes no --labels or --grid")
                _write_lines(sampler.lines(seeds, temperature), out)
                return
            if not out:
                raise InputError(
                    "--out is required for an image model (a folder, or a PNG with --grid)"
                )
            written = sampling.save_samples(sampler, seeds, out, labels, as_grid)
    except ServingError as e:
        refused = ("INVALID_ARGUMENT", "NOT_FOUND", "UNAUTHENTICATED")
        kind = InputError if e.code in refused else Failure
        raise kind(f"server {target}: {_message(e)}") from None
    except _input_errors() as e:
        raise InputError(_message(e)) from None
    click.echo(f"wrote {len(written)} file(s) to {out}")


# ----------------------------------------------------------------------------- data, models


@cli.group()
def data():
    """Inspect fonts and data sets."""


@data.command("prepare")
@click.option("--dataset", "spec", required=True, help="Data spec, e.g. folder:photos/.")
@click.option("--out", required=True, type=click.Path(), help="New folder for the TFRecords.")
@click.option("--image-size", type=click.IntRange(min=4), default=32, show_default=True)
@click.option("--channels", type=click.Choice(["1", "3"]), default="1", show_default=True)
@click.option("--shard-size", type=click.IntRange(min=1), default=4096, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print the manifest as JSON.")
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

    try:
        folder = prepare(spec, out, image_size, int(channels), shard_size)
    except _input_errors() as e:
        raise InputError(_message(e)) from None
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
@click.option("--json", "as_json", is_flag=True)
def data_fonts(charset, as_json):
    """List the font faces found and how much of CHARSET each covers.

    \b
    Example:
      kgan data fonts --charset gb2312-1
    """
    from keras_gan.data import glyphs

    try:
        chars = glyphs.parse_charset(charset)
        rows = glyphs.font_coverage(chars, glyphs.find_fonts())
    except _input_errors() as e:
        raise InputError(_message(e)) from None
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


@cli.command()
@click.option("--json", "as_json", is_flag=True)
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


if __name__ == "__main__":  # python -m keras_gan_cli.main
    cli()
