"""The training input pipeline: batches that are a pure function of (seed, step).

Each batch carries its own noise, drawn from (seed, step): training is a pure
function of the config and the step, which makes `--resume` exact and gives the
same result on one device or N replicas.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from keras_gan.data.base import ImageData
from keras_gan.data.text import TextData
from keras_gan.images import from_uint8


def make_dataset(
    data: ImageData | TextData,
    batch_size: int,
    noise_shape: tuple[int, int],
    seed: int,
    start_step: int = 0,
    conditional: bool = True,
) -> tf.data.Dataset:
    """Batches for steps `start_step, start_step + 1, ...`, each a pure function of the step.

    Step s takes positions s*B..s*B+B-1 of the endless sequence formed by one
    seeded permutation of the data per epoch, and noise drawn from (seed, s).
    """
    text = isinstance(data, TextData)
    examples = tf.constant(data.tokens if text else data.images)
    sources = None if text or data.sources is None else tf.constant(data.sources)
    labels = tf.constant(data.labels if data.labels is not None else np.zeros(len(data), np.int32))
    count = len(data)

    def order(step, count, stream):
        """Indices of step's batch in the stream of seeded per-epoch permutations."""
        positions = step * batch_size + tf.range(batch_size, dtype=tf.int64)
        first_epoch = positions[0] // count

        def permutation(epoch):
            key = tf.stack([tf.cast(seed, tf.int64) + stream, epoch])
            return tf.random.experimental.stateless_shuffle(tf.range(count, dtype=tf.int64), key)

        # A batch spans at most two epochs when batch_size <= count, more otherwise.
        epochs = tf.range(first_epoch, positions[-1] // count + 1)
        orders = tf.map_fn(permutation, epochs)
        return tf.gather_nd(
            orders, tf.stack([positions // count - first_epoch, positions % count], 1)
        )

    def batch_for(step):
        index = order(step, count, 0)
        chosen = tf.gather(examples, index)
        batch = {"tokens": chosen} if text else {"images": from_uint8(chosen)}
        batch["noise"] = tf.random.stateless_normal(
            [batch_size, *noise_shape], seed=tf.stack([tf.cast(seed, tf.int64) + 1, step])
        )
        if conditional:
            batch["labels"] = tf.gather(labels, index)
        if sources is not None:  # unpaired domains: the sources' own order (stream 2)
            source_index = index if data.paired else order(step, len(data.sources), 2)
            batch["sources"] = from_uint8(tf.gather(sources, source_index))
        return batch

    dataset = tf.data.Dataset.range(start_step, np.iinfo(np.int64).max)
    dataset = dataset.map(batch_for, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    return dataset.prefetch(2)
