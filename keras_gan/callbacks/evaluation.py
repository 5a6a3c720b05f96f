"""`PeriodicEvaluation`: scores every `train.eval_every` steps, as `eval_*` values of the
log row, and the best checkpoint by `train.keep_best` in `checkpoints/best/`."""

from __future__ import annotations

import json

import tensorflow as tf

from keras_gan.callbacks.state import RunCallback
from keras_gan.callbacks.state import RunState
from keras_gan.files import atomic_write_json


class PeriodicEvaluation(RunCallback):
    def __init__(self, state: RunState, run_dir, config, data, extractor, checkpoint, log):
        super().__init__(state, run_dir, config, data, log)
        self.extractor = extractor
        self.metrics = [m for m in self.train.eval_metrics.split(",") if m]
        self.best_manager = None
        if self.train.keep_best:
            self.best_manager = tf.train.CheckpointManager(
                checkpoint, str(self.run_dir / "checkpoints" / "best"), max_to_keep=1
            )

    def on_train_batch_end(self, batch, logs=None):
        state = self.state
        if not state.stopped and state.step % self.train.eval_every == 0:
            state.values.update(self.evaluate(state.step))

    def evaluate(self, step) -> dict:
        """Scores at this step (prefixed `eval_`); keeps the best checkpoint if asked."""
        from keras_gan.metrics.evaluate import evaluate
        from keras_gan.metrics.evaluate import higher_is_better
        from keras_gan.sampling import ModelSampler

        sampler = ModelSampler(self.model, self.data.label_names, self.config.model)
        result = evaluate(
            sampler,
            self.data,
            self.extractor,
            self.metrics,
            self.train.eval_samples,
            log=lambda line: None,
        )
        scores = {f"eval_{k}": float(v) for k, v in result["scores"].items()}
        metric = self.train.keep_best
        if metric:
            value = result["scores"][metric]
            better = (lambda a, b: a > b) if higher_is_better(metric) else (lambda a, b: a < b)
            best_file = self.run_dir / "checkpoints" / "best" / "best.json"
            best = json.loads(best_file.read_text())[metric] if best_file.exists() else None
            if best is None or better(value, best):
                self.best_manager.save(checkpoint_number=step)
                atomic_write_json(best_file, {metric: value, "step": step, **result})
                self.log(
                    f"step {step}: best {metric} so far ({value:.4g}), kept in checkpoints/best"
                )
        return scores


def eval_columns(train) -> list[str]:
    """The `eval_*` columns of log.csv for `train.eval_metrics` (none without eval_every)."""
    from keras_gan.metrics.evaluate import score_names

    if not train.eval_every:
        return []
    names = sorted(score_names([m for m in train.eval_metrics.split(",") if m]))
    extra = [f"{name}_std" for name in ("kid", "is") if name in names]
    return [f"eval_{n}" for n in names + extra + (["ifid_classes"] if "ifid" in names else [])]
