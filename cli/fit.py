"""`kgan fit`: train from a preset, a config file, flags and `--set` overrides."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

import click

from keras_gan.config import PRECISIONS
from keras_gan.config import STRATEGIES
from keras_gan_cli.options import handle_errors
from keras_gan_cli.options import json_option


@click.command()
@handle_errors()
@click.argument("config_file", required=False, type=click.Path(dir_okay=False))
@click.option("--model", help="Registered model name (kgan models).")
@click.option("--preset", help="Named partial config (see keras_gan/presets.py).")
@click.option(
    "--dataset", help="Data spec, e.g. glyphs:latin, glyphs:chars=永字八法, synthetic:32x32x3."
)
@click.option(
    "--steps", type=int, help="Training steps (default: 48,000 images at the batch size)."
)
@click.option("--epochs", type=int, help="Passes over the data (overrides --steps).")
@click.option("--batch-size", type=int, help="Global batch size.")
@click.option("--image-size", type=int, help="Image side in pixels (16, 32, 64, 128).")
@click.option(
    "--run-dir", type=click.Path(file_okay=False), help="Run directory (default: runs/NNNNN-MODEL)."
)
@click.option("--seed", type=int, help="Seed for data order, noise and weights.")
@click.option(
    "--strategy",
    type=click.Choice(STRATEGIES),
    help="tf.distribute strategy (multi-worker: the cluster in TF_CONFIG; needs --run-dir).",
)
@click.option(
    "--precision",
    type=click.Choice(PRECISIONS),
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
@json_option("where the run ended")
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
    as_json,
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
    data = {"spec": dataset, "image_size": image_size}
    if dataset:  # what the spec states (synthetic:32x32x3) wins over a preset's default
        from keras_gan.data import stated_shape

        data = {**stated_shape(dataset), **_drop_none(data)}
    flags = {
        "model": model,
        "data": data,
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
        from keras_gan.runs import describe

        click.echo(json.dumps(describe(config), indent=2, ensure_ascii=False))
        return
    run_dir = run_training(config, run_dir, resume)
    report(run_dir, config, as_json)


def run_training(config, run_dir=None, resume=False) -> Path:
    """`training.fit` with its progress on stderr; returns the run directory."""
    from keras_gan import training

    _, run_dir = training.fit(
        config, run_dir=run_dir, resume=resume, log=lambda line: click.echo(line, err=True)
    )
    return run_dir


def report(run_dir: Path, config, as_json: bool) -> None:
    """Prints `summary`: as JSON on stdout, or as lines on stderr."""
    done = summary(run_dir, config)
    if as_json:
        click.echo(json.dumps(done, indent=2, ensure_ascii=False))
        return
    click.echo(
        f"done: {done['run_dir']} at step {done['step']}"
        + (f", exported to {done['export']}" if done["export"] else "")
        + "\nnext:\n"
        + "\n".join(f"  {command}" for command in done["next"]),
        err=True,
    )


def summary(run_dir: Path, config) -> dict:
    """Where a finished run is: its folder, step (its newest checkpoint) and last logged
    values (log.csv), the export, and the commands that use it next."""
    import csv

    from keras_gan.checkpoints import read_manifest
    from keras_gan.export.layout import newest_version

    rows = []
    with contextlib.suppress(OSError):
        with open(run_dir / "log.csv", newline="", encoding="utf-8") as f:
            rows = list(csv.DictReader(f))
    last = {k: float(v) for k, v in (rows[-1] if rows else {}).items() if v and k != "step"}
    export = None
    if config.export_name:
        export = newest_version(Path(config.export_root) / config.export_name)
    run = str(run_dir)
    if config.model == "font2font":
        use = [f"kgan font complete {run} --out Font.ttf"]
    elif config.model.startswith("text"):
        use = [f"kgan sample {run} --seeds 0-9"]
    else:
        use = [f"kgan sample {run} --seeds 0-15 --grid --out samples.png"]
    use.append(f"kgan evaluate {run}")
    use.append(
        f"kgan serve --model-base-path {export.parent.parent}"
        if export
        else f"kgan export {run} --name NAME"
    )
    return {
        "run_dir": run,
        "step": max(
            (c["step"] for c in read_manifest(run_dir / "checkpoints").values()), default=0
        ),
        "last": last,
        "model": str(run_dir / "model.keras"),
        "export": None if export is None else str(export),
        "next": use,
    }


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
