"""Run configuration: frozen dataclasses, JSON io and dotted `KEY=VALUE` overrides.

Precedence when building a run: preset < config file < flags < `--set`.
Model hyperparameters live in `model_kwargs` and are validated by the model's
constructor; every other key is checked here.
"""

from __future__ import annotations

import dataclasses
import json
import os
from dataclasses import dataclass
from dataclasses import field
from typing import Any

from keras_gan.regularization import Regularization


class ConfigError(ValueError):
    """A configuration value or key is not what was expected."""


@dataclass(frozen=True)
class DataConfig:
    """Where the training images come from.

    Args:
        spec: data set spec, e.g. `glyphs:default`, `glyphs:latin`,
            `glyphs:chars=永字八法?fonts=uming,ukai`, `synthetic:32x32x1`.
        image_size: side of the square training images, in pixels.
        channels: 1 (grayscale) or 3 (RGB).
    """

    spec: str = "glyphs:default"
    image_size: int = 64
    channels: int = 1


# A run with no `steps` trains on this many images. The default job takes them in
# batches of 16: three times the updates of 1000 steps at batch 64 in less time, and its
# hanzi read 0.91-0.94 of real with fewer broken strokes, against 0.87-0.90
# (bench/RESULTS.md, "The default job in batches of 16").
DEFAULT_IMAGES = 48_000


@dataclass(frozen=True)
class TrainConfig:
    """How the adversarial training runs.

    Args:
        steps: number of training steps (one D update and one G update each); None:
            `DEFAULT_IMAGES` images' worth at `batch_size` (3000 steps at 16, 750 at 64).
        epochs: if set, overrides `steps` with `epochs` passes over the data.
        batch_size: global batch size (split across replicas).
        seed: seeds data order, noise and initial weights.
        strategy: `auto`, `one`, `mirrored` (all local GPUs, else CPUs) or
            `multi-worker` (`MultiWorkerMirroredStrategy` over the processes that
            `TF_CONFIG` names; see `keras_gan.distributed`).
        precision: `float32`, `mixed_bfloat16` (CPUs with bf16 units, TPUs, recent
            GPUs) or `mixed_float16` (GPUs; both optimizers get dynamic loss scaling).
            Generator outputs and exported signatures stay float32.
        jit_compile: compile the training step with XLA.
        loss: adversarial loss name, or `auto` for the model's default.
        d_learning_rate, g_learning_rate: `None` keeps the model's defaults.
        regularization: the stabilisers given for this run, by the names of
            `keras_gan.regularization.Regularization` (penalties, critic steps per
            generator step, the EMA generator's half-life, the (adaptive)
            augmentation), passed to the model as they are; what is not given keeps
            the model's defaults (e.g. wgan_gp: gradient_penalty=10, n_critic=5).
            `train.NAME` (e.g. `--set train.n_critic=2`) is accepted for
            `train.regularization.NAME`.
        log_every: steps between progress lines, `log.csv` rows and TensorBoard points.
        sample_every: steps between sample grids (a multiple of `log_every`).
        checkpoint_every: steps between checkpoints (a multiple of `log_every`).
        keep_checkpoints: how many checkpoints to keep (each verified by a checksum
            manifest; a damaged one is skipped for the one before).
        nan_retries: when a loss or weight turns NaN/Inf, how many times to roll back
            to the last good checkpoint and go on with both learning rates cut by
            `nan_lr_factor` (0: stop with an error naming that checkpoint).
        nan_lr_factor: the learning-rate cut of each retry, in (0, 1).
        sample_seeds: number of fixed seeds (grid rows) in sample grids.
        eval_every: steps between evaluations (a multiple of `log_every`; 0: none).
        eval_metrics: comma-separated metrics of `kgan evaluate` (fid, kid, is, pr, cas, ifid).
        eval_samples: generated images per evaluation.
        eval_extractor: the glyph classifier folder used as feature extractor.
        keep_best: a metric (e.g. `fid`, `cas`) whose best value keeps a checkpoint in
            `checkpoints/best/`; lower is better except for cas, is, precision,
            recall, density and coverage.
        run_eagerly: run `train_step` eagerly (debugging).
        deterministic: TF's deterministic ops (`enable_op_determinism`, for the whole
            process): a resumed run then reaches bit-identical weights on any device.
        init_from: warm start (fine-tuning): a folder holding a trained `model.keras`
            and its `dataset.json` (a finished run directory, or a shipped base
            model such as `saved_models/font2font-zh`); see `runs.warm_start`.
        init_styles: with `init_from`, where new labels' style vectors start (label
            name -> `style_dim` floats; models with a style table: font2font) instead
            of being fitted to their glyphs: `kgan font fit` puts here the style it
            already fitted to the samples to draw the pseudo-glyphs.
    """

    steps: int | None = None
    epochs: int | None = None
    batch_size: int = 16
    seed: int = 0
    strategy: str = "auto"
    precision: str = "float32"
    jit_compile: bool = False
    loss: str = "auto"
    d_learning_rate: float | None = None
    g_learning_rate: float | None = None
    regularization: dict = field(default_factory=dict)
    log_every: int = 50
    sample_every: int = 200
    checkpoint_every: int = 200
    keep_checkpoints: int = 3
    nan_retries: int = 0
    nan_lr_factor: float = 0.5
    sample_seeds: int = 4
    eval_every: int = 0
    eval_metrics: str = "fid,kid,cas"
    eval_samples: int = 500
    eval_extractor: str = "saved_models/glyph_classifier"
    keep_best: str | None = None
    run_eagerly: bool = False
    deterministic: bool = False
    init_from: str | None = None
    init_styles: dict = field(default_factory=dict)


@dataclass(frozen=True)
class RunConfig:
    """Everything that defines a training run; stored as `config.json`.

    Args:
        model: registered model name (`kgan models` lists them).
        model_kwargs: constructor arguments of the model, validated by it.
        data: a `DataConfig`.
        train: a `TrainConfig`.
        runs_root: where numbered run directories are created.
        export_name: if set, export the generator to `saved_models/<export_name>/`.
        export_root: the TF Serving model base path.

    Example:
    >>> config = RunConfig().override(["train.steps=10", "model_kwargs.latent_dim=16"])
    >>> config.train.steps, config.model_kwargs["latent_dim"]
    (10, 16)
    """

    model: str = "glyph_style_gan"
    model_kwargs: dict = field(default_factory=dict)
    data: DataConfig = field(default_factory=DataConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    runs_root: str = "runs"
    export_name: str | None = None
    export_root: str = "saved_models"

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> "RunConfig":
        train = values.get("train")
        if isinstance(train, dict) and set(train) & set(Regularization.names()):
            # `train.NAME` (older config.json files, --set) means train.regularization.NAME.
            flat = {k: train[k] for k in Regularization.names() if k in train}
            nested = train.get("regularization") or {}
            if not isinstance(nested, dict):
                raise ConfigError(f"train.regularization must be an object, got {nested!r}")
            rest = {k: v for k, v in train.items() if k not in flat}
            values = {**values, "train": {**rest, "regularization": {**nested, **flat}}}
        return _build(cls, values, prefix="")

    def merge(self, values: dict[str, Any]) -> "RunConfig":
        """Returns a copy with the (partial, nested) `values` applied on top."""
        return RunConfig.from_dict(_deep_merge(self.to_dict(), values))

    def override(self, assignments: list[str]) -> "RunConfig":
        """Applies `KEY=VALUE` strings; values parse as JSON, else as plain strings."""
        values: dict[str, Any] = {}
        for assignment in assignments:
            key, sep, raw = assignment.partition("=")
            key = key.strip()
            if not sep or not key:
                raise ConfigError(f"--set expects KEY=VALUE, got {assignment!r}")
            try:
                value = json.loads(raw)
            except json.JSONDecodeError:
                value = raw
            node = values
            *parents, leaf = key.split(".")
            for part in parents:
                node = node.setdefault(part, {})
                if not isinstance(node, dict):
                    raise ConfigError(f"--set {key}: {part!r} is not a section")
            node[leaf] = value
        return self.merge(values)

    def validate(self) -> "RunConfig":
        t, d = self.train, self.data
        positive = {
            "train.batch_size": t.batch_size,
            "train.log_every": t.log_every,
            "train.sample_every": t.sample_every,
            "train.checkpoint_every": t.checkpoint_every,
            "train.keep_checkpoints": t.keep_checkpoints,
            "train.sample_seeds": t.sample_seeds,
            "data.image_size": d.image_size,
        }
        if t.steps is not None:
            positive["train.steps"] = t.steps
        if t.epochs is not None:
            positive["train.epochs"] = t.epochs
        for key, value in positive.items():
            if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
                raise ConfigError(f"{key} must be a positive integer, got {value!r}")
        if not isinstance(t.nan_retries, int) or t.nan_retries < 0:
            raise ConfigError(
                f"train.nan_retries must be 0 or a positive integer, got {t.nan_retries!r}"
            )
        if not 0 < t.nan_lr_factor < 1:
            raise ConfigError(f"train.nan_lr_factor must be in (0, 1), got {t.nan_lr_factor!r}")
        if not isinstance(t.eval_every, int) or t.eval_every < 0:
            raise ConfigError(
                f"train.eval_every must be 0 or a positive integer, got {t.eval_every!r}"
            )
        from keras_gan.metrics.evaluate import score_names
        from keras_gan.registry import METRICS

        metrics = [m for m in t.eval_metrics.split(",") if m]
        unknown = sorted(set(metrics) - set(METRICS.names()))
        if unknown:
            raise ConfigError(
                f"train.eval_metrics: unknown metric {unknown[0]!r}; "
                f"valid: {', '.join(METRICS.names())}"
            )
        if t.keep_best is not None and t.keep_best not in score_names(metrics):
            raise ConfigError(
                f"train.keep_best={t.keep_best!r} is not a score of train.eval_metrics "
                f"({t.eval_metrics}); valid: {', '.join(sorted(score_names(metrics)))}"
            )
        if t.keep_best is not None and not t.eval_every:
            raise ConfigError("train.keep_best needs train.eval_every > 0")
        for key in ("sample_every", "checkpoint_every", "eval_every"):
            if getattr(t, key) % t.log_every:
                raise ConfigError(
                    f"train.{key} ({getattr(t, key)}) must be a multiple of "
                    f"train.log_every ({t.log_every})"
                )
        if not isinstance(t.init_styles, dict):
            raise ConfigError(
                f"train.init_styles must map label names to style vectors, got {t.init_styles!r}"
            )
        if t.init_styles and not t.init_from:
            raise ConfigError("train.init_styles needs train.init_from (a warm start)")
        for label, vector in t.init_styles.items():
            if not isinstance(vector, list) or not all(
                isinstance(x, (int, float)) and not isinstance(x, bool) for x in vector
            ):
                raise ConfigError(
                    f"train.init_styles[{label!r}] must be a list of numbers, got {vector!r:.80}"
                )
        if d.channels not in (1, 3):
            raise ConfigError(f"data.channels must be 1 or 3, got {d.channels!r}")
        try:  # the model's own defaults fill in the rest when it compiles
            Regularization.with_defaults({}, t.regularization)
        except (TypeError, ValueError) as e:
            raise ConfigError(f"train.regularization: {e}") from None
        if t.strategy not in STRATEGIES:
            raise ConfigError(
                f"train.strategy must be one of {', '.join(STRATEGIES)}, got {t.strategy!r}"
            )
        if t.precision not in PRECISIONS:
            raise ConfigError(
                f"train.precision must be one of {', '.join(PRECISIONS)}, got {t.precision!r}"
            )
        return self


STRATEGIES = ("auto", "one", "mirrored", "multi-worker")
PRECISIONS = ("float32", "mixed_bfloat16", "mixed_float16")


def load_config_file(path: str | os.PathLike) -> dict[str, Any]:
    """Reads a JSON run config (a full `config.json` or a partial one)."""
    try:
        with open(path, encoding="utf-8") as f:
            values = json.load(f)
    except FileNotFoundError:
        raise ConfigError(f"config file {str(path)!r} does not exist") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise ConfigError(f"config file {str(path)!r} is not valid JSON: {e}") from None
    if not isinstance(values, dict):
        raise ConfigError(f"config file {str(path)!r} must hold a JSON object")
    return values


def _deep_merge(base: dict, top: dict) -> dict:
    merged = dict(base)
    for key, value in top.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict) and key != "model_kwargs":
            merged[key] = _deep_merge(merged[key], value)
        elif key == "model_kwargs" and isinstance(value, dict):
            merged[key] = {**merged.get(key, {}), **value}
        else:
            merged[key] = value
    return merged


def _build(cls, values: Any, prefix: str):
    if not isinstance(values, dict):
        raise ConfigError(f"{prefix.rstrip('.') or 'config'} must be an object, got {values!r}")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(values) - set(fields))
    if unknown:
        raise ConfigError(
            f"unknown config key {prefix + unknown[0]!r}; valid keys: "
            + ", ".join(prefix + name for name in fields)
        )
    kwargs = {}
    for name, value in values.items():
        f = fields[name]
        if dataclasses.is_dataclass(
            f.default_factory if f.default_factory is not dataclasses.MISSING else None
        ):
            kwargs[name] = _build(f.default_factory, value, prefix + name + ".")
        else:
            kwargs[name] = _check_type(prefix + name, f, value)
    return cls(**kwargs)


def _check_type(key: str, f: dataclasses.Field, value: Any) -> Any:
    expected = str(f.type)
    if value is None and "None" in expected:
        return value
    if "dict" in expected:
        ok = isinstance(value, dict)
    elif expected.startswith("int"):
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif expected.startswith("float"):
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        value = float(value) if ok else value
    elif expected.startswith("bool"):
        ok = isinstance(value, bool)
    else:
        ok = isinstance(value, str)
    if not ok:
        raise ConfigError(f"{key} expects {expected}, got {value!r}")
    return value
