"""TFX Trainer module: `Trainer(run_fn="keras_gan.tfx.run_fn", ...)` trains a keras-gan model.

Reads what ImportExampleGen writes (GZIP TFRecords of tf.Example with `image_raw`
PNG bytes and an int64 `label`), trains with the same `training.fit` as `kgan fit`
(TensorBoard events, checkpoints and samples in `fn_args.model_run_dir`), and writes
the generator to `fn_args.serving_model_dir` in the serving format (DESIGN.md section
5), which TFX's Pusher copies to a TF Serving model folder. A Trainer that is re-run
on the same run folder resumes from its last checkpoint.

`custom_config` (all optional):
    preset: a preset name (`kgan fit --preset`);
    config: a (partial) run config as a dict, as in a config JSON file;
    set: a list of "KEY=VALUE" overrides (`kgan fit --set`);
    push_to: a model folder such as `saved_models/glyphs`: publish the export there as
        the next version, atomically (what Pusher does, for pipelines without one).

`fn_args.train_steps`, when given, sets `train.steps`. The eval split is not used:
a GAN has no held-out loss to report (evaluate the export with `kgan evaluate`).
"""

from __future__ import annotations

import json
from pathlib import Path

from keras_gan import presets
from keras_gan import training
from keras_gan.config import RunConfig
from keras_gan.export import publish
from keras_gan.export import write_generator


def run_fn(fn_args) -> None:
    """Trains and exports; `fn_args` is a `tfx.components.FnArgs` (or has its fields)."""
    config = config_for(fn_args)
    run_dir = Path(fn_args.model_run_dir)
    resume = (run_dir / "config.json").is_file()
    model, run_dir = training.fit(config, run_dir=run_dir, resume=resume)
    info = json.loads((run_dir / "dataset.json").read_text(encoding="utf-8"))
    serving_dir = Path(fn_args.serving_model_dir)
    if serving_dir.is_dir() and not any(serving_dir.iterdir()):
        serving_dir.rmdir()  # TFX may create it empty; the export appears whole by rename
    write_generator(model, serving_dir, labels=model.export_labels(info), config=config.to_dict())
    push_to = (fn_args.custom_config or {}).get("push_to")
    if push_to:
        print(f"published {publish(serving_dir, push_to)}")


def config_for(fn_args) -> RunConfig:
    """The run config from `custom_config`, with the data from `fn_args.train_files`."""
    custom = dict(fn_args.custom_config or {})
    unknown = set(custom) - {"preset", "config", "set", "push_to"}
    if unknown:
        raise ValueError(
            f"custom_config has unknown key(s) {', '.join(sorted(unknown))}; "
            "valid: preset, config, set, push_to"
        )
    if not fn_args.train_files:
        raise ValueError("fn_args.train_files is empty: the Trainer got no training split")
    config = RunConfig()
    if custom.get("preset"):
        config = config.merge(presets.get(custom["preset"]))
    config = config.merge(custom.get("config") or {})
    config = config.merge(
        {
            "data": {"spec": "tfrecord:" + ",".join(fn_args.train_files)},
            "train": {"steps": fn_args.train_steps} if fn_args.train_steps else {},
        }
    )
    return config.override(list(custom.get("set") or [])).validate()
