"""`Checkpointing`: a verified checkpoint every `train.checkpoint_every` steps, at the
last step and when a signal asks to stop (then training stops after that step)."""

from __future__ import annotations

import keras

from keras_gan.callbacks.state import RunState
from keras_gan.checkpoints import NonFiniteWeights


class Checkpointing(keras.callbacks.Callback):
    def __init__(self, state: RunState, store, every: int):
        super().__init__()
        self.state, self.store, self.every = state, store, every

    def on_train_batch_end(self, batch, logs=None):
        state = self.state
        if state.stopped:
            return
        if state.step % self.every == 0 or state.last_step() or state.signum is not None:
            try:
                self.store.save(state.step, self.networks())
            except NonFiniteWeights as e:  # e.g. an EMA or batch-norm statistic
                state.diverge(state.step, str(e), self.model)
                return
        if state.signum is not None:
            self.model.stop_training = True

    def networks(self) -> list:
        """Every network the checkpoint holds (their weights must all be finite)."""
        parts = self.model.checkpointed().values()
        return [part for part in parts if isinstance(part, keras.Model)]
