"""Run folders and the models in them: build a model from a run config, load a run's
verified checkpoint (`load_run`), warm-start from a trained model, number new runs.

A run directory holds `config.json` (the resolved config), `dataset.json` (label
names, skipped counts), `checkpoints/` (see `keras_gan.checkpoints`), `log.csv`,
`tensorboard/`, `samples/` and, when training ends, `model.keras`. This module sits
above the models and below training, sampling and the font tools, which all open runs.
"""

from __future__ import annotations

import contextlib
import dataclasses
import inspect
import json
import os
import re
from pathlib import Path
from typing import Callable

import keras
import numpy as np
import tensorflow as tf

from keras_gan import checkpoints
from keras_gan import data as data_lib
from keras_gan import models  # noqa: F401  (registers the models)
from keras_gan.config import DEFAULT_IMAGES
from keras_gan.config import ConfigError
from keras_gan.config import RunConfig
from keras_gan.registry import MODELS
from keras_gan.regularization import for_data
from keras_gan.shipped import find_model


def resolve_model_kwargs(config: RunConfig, data: data_lib.ImageData | data_lib.TextData) -> dict:
    """The model's constructor kwargs: the user's, plus what the data decides."""
    model_cls = MODELS.get(config.model)
    accepted = inspect.signature(model_cls.__init__).parameters
    if model_cls.modality != data.modality:
        plural = {"image": "images", "text": "text"}
        raise ConfigError(
            f"model {config.model!r} trains on {plural[model_cls.modality]}; "
            f"{config.data.spec!r} is {plural[data.modality]}"
        )
    text = data.modality == "text"
    from_data = data.model_kwargs()
    if "num_classes" in accepted:
        optional = accepted["num_classes"].default == 0  # conditional only if data has labels
        if not data.num_classes and not optional:
            raise ConfigError(f"model {config.model!r} is conditional but the data has no labels")
        from_data["num_classes"] = data.num_classes
    kwargs = dict(config.model_kwargs)
    for key, value in from_data.items():
        if key in kwargs and kwargs[key] != value:
            raise ConfigError(
                f"model_kwargs.{key}={kwargs[key]!r} conflicts with the data ({value!r}); "
                f"set it through {'the text: spec' if text else f'data.{key}'} instead"
                if key != "num_classes"
                else f"model_kwargs.num_classes={kwargs[key]!r} but the data has {value} classes"
            )
        kwargs[key] = value
    unknown = sorted(set(kwargs) - set(accepted) - {"name"})
    if unknown and not any(
        p.kind == p.VAR_KEYWORD for p in accepted.values() if p.name != "kwargs"
    ):
        valid = [p for p in accepted if p not in ("self", "kwargs")]
        raise ConfigError(
            f"model {config.model!r} has no argument {unknown[0]!r}; valid model_kwargs: "
            + ", ".join(valid)
        )
    kwargs.setdefault("seed", config.train.seed)
    return kwargs


# train.* keys that go to GAN.compile (one definition: the Regularization fields).


@contextlib.contextmanager
def dtype_policy(name: str):
    """Layers built inside take the `name` policy (e.g. mixed_bfloat16); the global
    policy is restored after, so nothing else in the process changes."""
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(name)
    try:
        yield
    finally:
        keras.config.set_dtype_policy(previous)


def build_model(config: RunConfig, model_kwargs: dict):
    """Constructs and compiles the model (call inside the strategy's scope)."""
    keras.utils.set_random_seed(config.train.seed)
    try:
        with dtype_policy(config.train.precision):
            model = MODELS.get(config.model)(**model_kwargs)
    except (TypeError, ValueError) as e:
        raise ConfigError(f"model {config.model!r}: {e}") from None
    try:
        model.compile(
            loss=config.train.loss,
            jit_compile=config.train.jit_compile,
            **config.train.regularization,
        )
    except ValueError as e:
        raise ConfigError(f"train: {e}") from None
    rates = {"D": config.train.d_learning_rate, "G": config.train.g_learning_rate}
    for name, optimizer in model.optimizers.items():
        if rates[name] is not None:
            optimizer.learning_rate.assign(rates[name])
    return model


def build_for_data(config: RunConfig, data: data_lib.ImageData):
    """(model fitted to `data`, its resolved kwargs); call inside the strategy's scope."""
    model_kwargs = resolve_model_kwargs(config, data)
    augment = config.train.regularization.get("augment")
    try:
        chosen = for_data(augment, getattr(data, "glyphs", False)) if augment else augment
    except ValueError as e:
        raise ConfigError(f"train: {e}") from None
    if chosen != augment:  # ada:auto: the pipeline for this data
        reg = {**config.train.regularization, "augment": chosen}
        config = dataclasses.replace(
            config, train=dataclasses.replace(config.train, regularization=reg)
        )
    model = build_model(config, model_kwargs)
    model.prepare(data)
    return model, model_kwargs


def warm_start(
    model, source: str | os.PathLike, label_names: list[str], data=None, styles=None, log=None
) -> dict:
    """Copies the networks' weights of a trained model into `model` (fine-tuning).

    `source` holds `model.keras` and `dataset.json`. Class tables (embeddings, class
    heads: the one axis whose size is the number of classes) are matched by label
    name: a label both models know keeps its trained row; a new label starts from
    the mean of the old rows (for a new font style: the average style), then, given
    `data` (the `ImageData` of the fine-tuning), from what `model.start_new_classes`
    makes of their examples, or from its vector in `styles` (label name -> style
    vector, `train.init_styles`). `log` gets a line as each new style is fitted (a base
    grown by dozens of faces takes minutes). Returns {"kept": labels kept, "new": new
    labels}.
    """
    source = find_model(source)
    try:
        info = json.loads((source / "dataset.json").read_text(encoding="utf-8"))
        trained = keras.saving.load_model(source / "model.keras", compile=False)
    except (OSError, ValueError) as e:
        raise ConfigError(
            f"train.init_from: {str(source)!r} must hold a trained model.keras and its "
            f"dataset.json: {e}"
        ) from None
    old_names = list(info.get("label_names") or [])
    rows = [old_names.index(n) if n in old_names else -1 for n in label_names]
    for network, new_network in model.networks.items():
        new_weights = new_network.weights
        old_network = getattr(trained, "networks", {}).get(network)
        old_weights = old_network.weights if old_network is not None else []
        if len(old_weights) != len(new_weights):
            raise ConfigError(
                f"train.init_from: {str(source)!r} holds a {type(trained).__name__} whose "
                f"{network} has {len(old_weights)} weights; this model's has {len(new_weights)}"
            )
        for new, old in zip(new_weights, old_weights):
            new.assign(_match_classes(old.numpy(), new.shape, rows, len(old_names), new.path))
    new = [i for i, r in enumerate(rows) if r < 0]
    styles = styles or {}
    stray = sorted(set(styles) - {label_names[i] for i in new})
    if stray:
        raise ConfigError(
            f"train.init_styles: {stray[0]!r} is not a label new to {str(source)!r}; "
            f"new labels: {', '.join(label_names[i] for i in new) or 'none'}"
        )
    given = {label_names.index(name): vector for name, vector in styles.items()}

    def progress(k, n, class_id):
        if log is not None:
            log(f"warm start: fitting new style {k + 1}/{n}, {label_names[class_id]!r}")

    if data is not None and new:
        try:
            model.start_new_classes(data, new, given, progress)
        except ValueError as e:
            if not given:
                raise
            raise ConfigError(f"train.init_styles ({', '.join(styles)}): {e}") from None
    if getattr(model, "ema_generator", None) is not None:
        model.ema_generator.set_weights(model.generator.get_weights())
    return {
        "kept": [n for n, r in zip(label_names, rows) if r >= 0],
        "new": [n for n, r in zip(label_names, rows) if r < 0],
    }


def _match_classes(old: np.ndarray, shape: tuple, rows: list[int], old_count: int, name: str):
    """`old` reshaped to `shape` by picking class rows (see `warm_start`)."""
    shape = tuple(shape)
    same_labels = rows == list(range(old_count))
    # A class table: its shape changed along the classes, or it is an embedding or a
    # class head (by layer name) whose labels moved.
    is_table = old.shape != shape or (
        not same_labels and ("embedding" in name or "classes" in name)
    )
    if not is_table:
        return old
    axes = [
        a
        for a in range(old.ndim)
        if old.ndim == len(shape)
        and old.shape[a] == old_count
        and shape[a] == len(rows)
        and all(old.shape[b] == shape[b] for b in range(old.ndim) if b != a)
    ]
    if not axes:
        raise ConfigError(
            f"train.init_from: weight {name} has shape {old.shape}, this model needs {shape}"
        )
    axis = 0 if "embedding" in name else axes[-1]  # embeddings: rows; heads: last axis
    mean = old.mean(axis=axis, keepdims=True)
    picked = [np.take(old, [r], axis=axis) if r >= 0 else mean for r in rows]
    return np.concatenate(picked, axis=axis)


def next_run_dir(root: str | os.PathLike, name: str) -> Path:
    """`root/00007-name`: one more than the highest number already there."""
    root = Path(root)
    numbers = [int(m.group(1)) for p in root.glob("*") if (m := re.match(r"(\d{5})-", p.name))]
    return root / f"{max(numbers, default=-1) + 1:05d}-{name}"


def latest_run_dir(root: str | os.PathLike) -> Path:
    runs = sorted(
        p for p in Path(root).glob("[0-9][0-9][0-9][0-9][0-9]-*") if (p / "config.json").is_file()
    )
    if not runs:
        raise ConfigError(f"no run directory with a config.json under {str(root)!r} to resume")
    return runs[-1]


def total_steps(config: RunConfig, data_size: int) -> int:
    """The run's length: `epochs` passes over the data, else `steps`, else
    `DEFAULT_IMAGES` images."""
    t = config.train
    if t.epochs is not None:
        return max(1, -(-t.epochs * data_size // t.batch_size))
    if t.steps is None:
        return -(-DEFAULT_IMAGES // t.batch_size)
    return t.steps


def checkpoint_for(model, step: tf.Variable) -> tf.train.Checkpoint:
    """A checkpoint of the step and what the model says it holds (`model.checkpointed()`)."""
    return tf.train.Checkpoint(step=step, **model.checkpointed())


def load_run(
    run_dir: str | os.PathLike,
    checkpoint: str | None = None,
    log: Callable[[str], None] = checkpoints.to_stderr,
):
    """(model, config, dataset info) from a run directory's latest verified (or given)
    checkpoint; `log` hears about newer checkpoints that failed verification."""
    run_dir = Path(run_dir)
    try:
        config = RunConfig.from_dict(json.loads((run_dir / "config.json").read_text("utf-8")))
        info = json.loads((run_dir / "dataset.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:  # missing, unreadable or not JSON
        raise ConfigError(f"run directory {str(run_dir)!r} is damaged: {e}") from None
    model = build_model(config, config.model_kwargs)
    path = checkpoint or checkpoints.latest_verified(run_dir / "checkpoints", log)
    if path is None:
        raise ConfigError(f"run directory {str(run_dir)!r} has no checkpoint yet")
    step = tf.Variable(0, dtype=tf.int64)
    checkpoint_for(model, step).restore(path).expect_partial()
    return model, config, info


def describe(config: RunConfig) -> dict:
    """What `kgan fit --dry-run` prints: the resolved config, the data, the networks'
    sizes and the number of steps, without training."""
    data = data_lib.load_dataset(config.data.spec, config.data.image_size, config.data.channels)
    model, kwargs = build_for_data(config, data)
    return {
        "config": config.merge({"model_kwargs": kwargs}).to_dict(),
        "data": {"images": len(data), "classes": data.num_classes, "report": data.report},
        "parameters": {name: network.count_params() for name, network in model.networks.items()},
        "steps": total_steps(config, len(data)),
    }
