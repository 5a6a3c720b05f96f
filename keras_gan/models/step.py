"""What every model's training step is made of: one batch structure and one update.

`Batch` is what a step reads, the same for every family: the images D learns as real
(targets of a translation, one-hot lines of text), the labels, the noise rows and
the source images of a translation. `gradient_step` is the one "tape, scale the loss,
apply the gradients" update that every network's step goes through.
"""

from __future__ import annotations

import contextlib
from typing import Any
from typing import NamedTuple

import keras
import tensorflow as tf
from keras import ops


class Batch(NamedTuple):
    """One training batch.

    Attributes:
        images: what D learns as real, in [-1, 1] (a translation's targets; one-hot
            lines for text models).
        labels: int32 class or style ids, or `None` (unconditional).
        noise: `(batch, rows, latent_dim)` normal draws, or `None` (no noise input).
            Inside a D or G step it holds that step's rows; row 0 is its z.
        sources: a translation's source images, else `None`.
    """

    images: Any
    labels: Any = None
    noise: Any = None
    sources: Any = None

    def rows(self, start: int, stop: int | None = None) -> Batch:
        """The batch with noise rows `start:stop` only (one D or G step's share)."""
        return self if self.noise is None else self._replace(noise=self.noise[:, start:stop])

    @property
    def size(self):
        """Examples in this replica's batch."""
        return ops.shape(self.images)[0]


def nan_unless_finite(value, weights):
    """`value`, or NaN if a value of `weights` is NaN/Inf: a step's logged loss carries
    the weights' health, so Keras' TerminateOnNaN and kgan's StepGuard stop at the step a
    weight breaks, with no internal column in History or the progress bar (one read of
    every weight, small next to a training step's convolutions)."""
    finite = ops.all(ops.stack([ops.all(ops.isfinite(w)) for w in weights]))
    return ops.where(finite, value, float("nan"))


def global_mean(per_example):
    """Mean over the global batch: per-replica sums add up across replicas."""
    replicas = tf.distribute.get_strategy().num_replicas_in_sync
    batch = ops.cast(ops.shape(per_example)[0], "float32")
    return ops.sum(per_example) / (batch * replicas)


def across_replicas(*sums):
    """Scalar sums of one replica's examples summed over all replicas: the global
    batch's, on every replica (an all-reduce; as they are outside a strategy)."""
    context = tf.distribute.get_replica_context()
    if context is None:
        return sums
    return tuple(context.all_reduce("sum", value) for value in sums)


def replicated_scalar(name: str) -> keras.Variable:
    """A statistic kept beside the weights (ADA's p, the path-length average): each
    replica holds a copy and applies the same update, from `across_replicas` values."""
    return keras.Variable(
        0.0, trainable=False, synchronization="on_read", aggregation="mean", name=name
    )


class Together:
    """Networks that one optimizer trains as one (e.g. a generator and its encoder)."""

    def __init__(self, *networks):
        self.networks = networks

    @property
    def trainable_variables(self):
        return [v for network in self.networks for v in network.trainable_variables]


class GradientStep:
    """What `gradient_step` yields: the tape, and `loss`, the per-example loss to set."""

    def __init__(self, tape):
        self.tape, self.loss = tape, None


@contextlib.contextmanager
def gradient_step(network, optimizer):
    """One update of `network` (a model, or networks `Together`) by `optimizer`: the
    body computes the per-example loss under the yielded step's tape and sets
    `step.loss`; on leaving, the mean over the global batch (scaled for mixed float16)
    is differentiated and applied.

    Example:
    >>> with gradient_step(gan.generator, gan.g_optimizer) as step:  # doctest: +SKIP
    ...     step.loss = gan.generator_terms(batch, fake)["g_loss"]
    """
    with tf.GradientTape() as tape:
        step = GradientStep(tape)
        yield step
        loss = optimizer.scale_loss(global_mean(step.loss))
    variables = network.trainable_variables
    optimizer.apply(tape.gradient(loss, variables), variables)
