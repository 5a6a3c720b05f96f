"""Differentiable augmentation of everything D sees (DiffAugment, Zhao et al. 2020),
optionally at an adaptive probability (ADA, Karras et al. 2020).

Real and generated images go through the same random transforms, in the D step and
in the G step, so D cannot tell them apart by the augmentation and G's gradients pass
through it. The operations never flip or rotate, so characters keep their identity:
translation (by up to 1/8 of the side, zero padding), cutout (a square of half the
side set to 0) and colour (brightness, saturation, contrast). Random parameters
come from a normal noise row per example (its normal CDF is uniform), so they are
a function of (seed, step) like all training randomness: exact resume, and the
same result on any number of replicas.

With ADA, each operation is applied to an example with probability p, and p moves
after every step by `sign(r_t - target) * images / (ada_kimg * 1000)`, where
`r_t = E[sign(D(real))]` is the discriminator's overfitting signal.
"""

from __future__ import annotations

import tensorflow as tf
from keras import ops

from keras_gan.regularization import OPERATIONS

# Uniform numbers one augmentation call draws per example: 2 + 2 + 3 parameters,
# plus one "apply?" number per operation.
UNIFORMS = 10


def uniforms(noise_row):
    """(batch, latent_dim) standard normals -> (batch, UNIFORMS) uniforms on [0, 1)."""
    return 0.5 * (1.0 + tf.math.erf(noise_row[:, :UNIFORMS] / 2**0.5))


def augment(images, u, operations: tuple[str, ...], probability=1.0):
    """Applies `operations` to `images` (B, H, W, C) in [-1, 1] with parameters `u`."""
    apply = u[:, 7:10] < probability  # one decision per operation and example
    for index, name in enumerate(OPERATIONS):
        if name not in operations:
            continue
        changed = _OPS[name](images, u)
        mask = ops.reshape(ops.cast(apply[:, index], images.dtype), (-1, 1, 1, 1))
        images = mask * changed + (1 - mask) * images
    return images


def _translation(x, u, ratio=0.125):
    height, width = x.shape[1], x.shape[2]
    shifts = []
    for size, column in ((height, 0), (width, 1)):
        reach = int(size * ratio + 0.5)
        shifts.append(ops.cast(ops.round(u[:, column] * 2 * reach - reach), "int32"))
    padded = tf.pad(x, [[0, 0], [1, 1], [1, 1], [0, 0]])  # out-of-range reads land on 0
    rows = tf.clip_by_value(tf.range(height)[None] + shifts[0][:, None] + 1, 0, height + 1)
    cols = tf.clip_by_value(tf.range(width)[None] + shifts[1][:, None] + 1, 0, width + 1)
    x = tf.gather(padded, rows, axis=1, batch_dims=1)
    return tf.gather(x, cols, axis=2, batch_dims=1)


def _cutout(x, u, ratio=0.5):
    height, width = x.shape[1], x.shape[2]
    cut_h, cut_w = int(height * ratio + 0.5), int(width * ratio + 0.5)
    centre_y = ops.floor(u[:, 2] * (height + 1 - cut_h % 2))[:, None]
    centre_x = ops.floor(u[:, 3] * (width + 1 - cut_w % 2))[:, None]
    rows = tf.range(height, dtype=x.dtype)[None] - (centre_y - cut_h // 2)  # (B, H)
    cols = tf.range(width, dtype=x.dtype)[None] - (centre_x - cut_w // 2)  # (B, W)
    outside_y = ops.logical_or(rows < 0, rows >= cut_h)
    outside_x = ops.logical_or(cols < 0, cols >= cut_w)
    keep = ops.logical_or(outside_y[:, :, None], outside_x[:, None, :])
    return x * ops.cast(keep, x.dtype)[..., None]


def _color(x, u):
    brightness = ops.reshape(u[:, 4] - 0.5, (-1, 1, 1, 1))
    x = x + brightness
    saturation = ops.reshape(u[:, 5] * 2, (-1, 1, 1, 1))
    mean = ops.mean(x, axis=3, keepdims=True)
    x = (x - mean) * saturation + mean
    contrast = ops.reshape(u[:, 6] + 0.5, (-1, 1, 1, 1))
    mean = ops.mean(x, axis=(1, 2, 3), keepdims=True)
    return (x - mean) * contrast + mean


_OPS = {"translation": _translation, "cutout": _cutout, "color": _color}
