"""Differentiable augmentation of everything D sees: DiffAugment's three operations
(Zhao et al. 2020) or ADA's pipeline (Karras et al. 2020b), optionally at an adaptive
probability (ADA).

Real and generated images go through the same random transforms, in the D step and
in the G step, so D cannot tell them apart by the augmentation and G's gradients pass
through it. The operations never flip or rotate, so characters keep their identity:
translation (by up to 1/8 of the side, zero padding), cutout (a square of half the
side set to 0) and colour (brightness, saturation, contrast). Random parameters
come from a normal noise row per example (its normal CDF is uniform), so they are
a function of (seed, step) like all training randomness: exact resume, and the
same result on any number of replicas.

ADA's pipeline (`ada_augment`, policies `ada:...`) is StyleGAN2-ADA's AugmentPipe:
the geometric operations compose one inverse matrix per example that a single bilinear
resampling with mirrored borders executes (the reference also oversamples 2x with a
wavelet filter around it: not done here), the colour operations one 4x4 matrix, then
the four-band image filter, additive noise and cutout; each operation is applied with
probability p times its multiplier. Its random numbers come from a per-example seed
taken from the same noise row.

p is 1, or with ADA it moves after every step by
`sign(r_t - target) * images / (ada_kimg * 1000)`, where `r_t = E[sign(D(real))]` is
the discriminator's overfitting signal.
"""

from __future__ import annotations

import functools
import math

import numpy as np
import tensorflow as tf
from keras import ops

from keras_gan.regularization import OPERATIONS
from keras_gan.regularization import AugmentPolicy

# Uniform numbers one augmentation call draws per example: 2 + 2 + 3 parameters,
# plus one "apply?" number per operation.
UNIFORMS = 10


def uniforms(noise_row):
    """(batch, latent_dim) standard normals -> (batch, UNIFORMS) uniforms on [0, 1)."""
    return 0.5 * (1.0 + tf.math.erf(noise_row[:, :UNIFORMS] / 2**0.5))


def apply(images, noise_row, policy: AugmentPolicy, probability=1.0):
    """`images` through `policy` with the random numbers of `noise_row` (B, latent_dim)."""
    if policy.ada:
        seeds = tf.bitcast(ops.cast(noise_row[:, :2], "float32"), tf.int32)
        return ada_augment(images, seeds, policy, probability)
    return augment(images, uniforms(noise_row), policy.operations, probability)


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


# ----------------------------------------------------------------- ADA's pipeline

# The reference's ranges (AugmentPipe's defaults).
XINT_MAX, SCALE_STD, ANISO_STD, XFRAC_STD = 0.125, 0.2, 0.2, 0.125
BRIGHTNESS_STD, CONTRAST_STD, HUE_MAX, SATURATION_STD = 0.2, 0.5, 1.0, 1.0
IMGFILTER_STD, NOISE_STD, CUTOUT_SIZE = 1.0, 0.1, 0.5
ADA_GEOMETRY = ("xflip", "rotate90", "xint", "scale", "rotate", "aniso", "xfrac")
ADA_COLOUR = ("brightness", "contrast", "lumaflip", "hue", "saturation")
# Uniform and normal numbers a call draws per example (enough for every operation).
ADA_UNIFORMS, ADA_NORMALS = 32, 16


def _filter_bank() -> np.ndarray:
    """The four frequency bands of ADA's image filter (rows sum to a unit impulse):
    built from the sym2 wavelet as the reference does."""
    lo = np.asarray([-0.12940952255092145, 0.22414386804185735, 0.836516303737469,
                     0.48296291314469025])  # fmt: skip
    hi = lo * (-1) ** np.arange(lo.size)
    lo2, hi2 = np.convolve(lo, lo[::-1]) / 2, np.convolve(hi, hi[::-1]) / 2
    bank = np.eye(4, 1)
    for i in range(1, 4):
        bank = np.dstack([bank, np.zeros_like(bank)]).reshape(4, -1)[:, :-1]
        bank = np.stack([np.convolve(row, lo2) for row in bank])
        start = (bank.shape[1] - hi2.size) // 2
        bank[i, start : start + hi2.size] += hi2
    return bank.astype(np.float32)


FILTER_BANK = _filter_bank()
EXPECTED_POWER = np.asarray([10, 1, 1, 1], np.float32) / 13  # a 1/f spectrum


class _Draws:
    """Per-example random numbers from per-example seeds, handed out in order."""

    def __init__(self, seeds, shape):
        def draw(seed):
            return (
                tf.random.stateless_uniform((ADA_UNIFORMS,), seed),
                tf.random.stateless_normal((ADA_NORMALS,), seed + 1),
                tf.random.stateless_normal(shape, seed + 2),
            )

        self._u, self._n, self.pixels = tf.map_fn(
            draw,
            seeds,
            fn_output_signature=(
                tf.TensorSpec((ADA_UNIFORMS,), tf.float32),
                tf.TensorSpec((ADA_NORMALS,), tf.float32),
                tf.TensorSpec(shape, tf.float32),
            ),
        )
        self._next_u = self._next_n = 0

    def uniform(self):
        self._next_u += 1
        return self._u[:, self._next_u - 1]

    def normal(self):
        self._next_n += 1
        return self._n[:, self._next_n - 1]


def _matrix(*rows):
    """(B, len(rows), len(row)) from rows of (B,) tensors and numbers."""
    reference = next(x for row in rows for x in row if not isinstance(x, (int, float)))
    full = [[x if not isinstance(x, (int, float)) else ops.full_like(reference, x) for x in row]
            for row in rows]  # fmt: skip
    return ops.stack([ops.stack(row, axis=-1) for row in full], axis=-2)


def translate2d(tx, ty):
    return _matrix([1, 0, tx], [0, 1, ty], [0, 0, 1])


def scale2d(sx, sy):
    return _matrix([sx, 0, 0], [0, sy, 0], [0, 0, 1])


def rotate2d(theta):
    return _matrix([ops.cos(theta), -ops.sin(theta), 0], [ops.sin(theta), ops.cos(theta), 0],
                   [0, 0, 1])  # fmt: skip


def translate3d(t):
    return _matrix([1, 0, 0, t], [0, 1, 0, t], [0, 0, 1, t], [0, 0, 0, 1])


def scale3d(c):
    return _matrix([c, 0, 0, 0], [0, c, 0, 0], [0, 0, c, 0], [0, 0, 0, 1])


LUMA = np.asarray([1, 1, 1, 0], np.float32) / 3**0.5  # the grey axis


def rotate3d_luma(theta):
    """Rotation by `theta` about the grey axis (a hue rotation)."""
    v = 1 / 3**0.5
    s, c = ops.sin(theta), ops.cos(theta)
    cc = 1 - c
    return _matrix(
        [v * v * cc + c, v * v * cc - v * s, v * v * cc + v * s, 0],
        [v * v * cc + v * s, v * v * cc + c, v * v * cc - v * s, 0],
        [v * v * cc - v * s, v * v * cc + v * s, v * v * cc + c, 0],
        [0, 0, 0, 1],
    )


def _chance(draws, multiplier, probability):
    """Per example: is this operation applied (probability p times its multiplier)?"""
    return draws.uniform() < multiplier * probability


def geometry(draws, policy, probability, width, height):
    """The composed inverse transform (B, 3, 3), output pixel -> input pixel in
    coordinates centred on the image, or None when the policy has no geometry."""
    m = policy.multiplier
    if not any(m(name) for name in ADA_GEOMETRY):
        return None
    steps = []  # inverse transforms, applied to the output coordinates in this order
    if m("xflip"):
        flip = ops.floor(draws.uniform() * 2)
        flip = ops.where(_chance(draws, m("xflip"), probability), flip, 0.0)
        steps.append(scale2d(1 - 2 * flip, 1))
    if m("rotate90"):
        quarter = ops.floor(draws.uniform() * 4)
        quarter = ops.where(_chance(draws, m("rotate90"), probability), quarter, 0.0)
        steps.append(rotate2d(math.pi / 2 * quarter))
    if m("xint"):
        tx, ty = ((draws.uniform() * 2 - 1) * XINT_MAX for _ in range(2))
        on = _chance(draws, m("xint"), probability)
        steps.append(translate2d(-ops.where(on, ops.round(tx * width), 0.0),
                                 -ops.where(on, ops.round(ty * height), 0.0)))  # fmt: skip
    if m("scale"):
        s = ops.power(2.0, draws.normal() * SCALE_STD)
        s = ops.where(_chance(draws, m("scale"), probability), s, 1.0)
        steps.append(scale2d(1 / s, 1 / s))
    # Two rotations, each at 1 - sqrt(1 - p): one or the other with probability p.
    p_rotate = 1 - ops.sqrt(ops.clip(1 - m("rotate") * probability, 0.0, 1.0))

    def rotation():
        theta = (draws.uniform() * 2 - 1) * math.pi * policy.rotate_max
        return rotate2d(ops.where(draws.uniform() < p_rotate, theta, 0.0))

    if m("rotate"):
        steps.append(rotation())
    if m("aniso"):
        s = ops.power(2.0, draws.normal() * ANISO_STD)
        s = ops.where(_chance(draws, m("aniso"), probability), s, 1.0)
        steps.append(scale2d(1 / s, s))
    if m("rotate"):
        steps.append(rotation())
    if m("xfrac"):
        tx, ty = draws.normal() * XFRAC_STD, draws.normal() * XFRAC_STD
        on = _chance(draws, m("xfrac"), probability)
        steps.append(translate2d(-ops.where(on, tx * width, 0.0), -ops.where(on, ty * height, 0.0)))
    return functools.reduce(ops.matmul, steps)


def transform(images, inverse):
    """Resamples `images` (B, H, W, C) at `inverse` (B, 3, 3) of centred coordinates:
    bilinear, mirrored borders."""
    height, width = images.shape[1], images.shape[2]
    centre = np.asarray([[1, 0, (width - 1) / 2], [0, 1, (height - 1) / 2], [0, 0, 1]], "float32")
    pixels = ops.matmul(ops.matmul(centre[None], inverse), np.linalg.inv(centre)[None])
    rows = ops.reshape(pixels, (-1, 9))[:, :8]
    transforms = ops.concatenate([rows[:, :6], ops.zeros_like(rows[:, 6:8])], axis=1)
    return ops.image.affine_transform(
        images, transforms, interpolation="bilinear", fill_mode="reflect"
    )


def colour(draws, policy, probability, channels):
    """The composed colour transform (B, 4, 4) on (r, g, b, 1), or None."""
    m = policy.multiplier
    if not any(m(name) for name in ADA_COLOUR):
        return None
    steps = []  # colour transforms, applied to the colours in this order
    if m("brightness"):
        b = ops.where(_chance(draws, m("brightness"), probability),
                      draws.normal() * BRIGHTNESS_STD, 0.0)  # fmt: skip
        steps.append(translate3d(b))
    if m("contrast"):
        c = ops.power(2.0, draws.normal() * CONTRAST_STD)
        steps.append(scale3d(ops.where(_chance(draws, m("contrast"), probability), c, 1.0)))
    outer = np.outer(LUMA, LUMA)
    if m("lumaflip"):
        flip = ops.floor(draws.uniform() * 2)
        flip = ops.where(_chance(draws, m("lumaflip"), probability), flip, 0.0)
        steps.append(np.eye(4, dtype="float32")[None] - 2 * outer[None] * flip[:, None, None])
    if m("hue") and channels > 1:
        theta = (draws.uniform() * 2 - 1) * math.pi * HUE_MAX
        steps.append(rotate3d_luma(ops.where(_chance(draws, m("hue"), probability), theta, 0.0)))
    if m("saturation") and channels > 1:
        s = ops.power(2.0, draws.normal() * SATURATION_STD)
        s = ops.where(_chance(draws, m("saturation"), probability), s, 1.0)
        steps.append(outer[None] + (np.eye(4, dtype="float32") - outer)[None] * s[:, None, None])
    if not steps:  # hue and saturation only, on greyscale
        return None
    return functools.reduce(lambda done, step: ops.matmul(step, done), steps)


def recolour(images, matrix):
    """`images` (B, H, W, 1 or 3) through colour `matrix` (B, 4, 4); greyscale takes
    the mean of the r, g, b rows, as the reference does."""
    if images.shape[-1] == 3:
        return (
            ops.einsum("bij,bhwj->bhwi", matrix[:, :3, :3], images) + matrix[:, None, None, :3, 3]
        )
    row = ops.mean(matrix[:, :3, :], axis=1)  # (B, 4)
    gain = ops.sum(row[:, :3], axis=1)
    return images * gain[:, None, None, None] + row[:, 3][:, None, None, None]


def band_gains(draws, policy, probability):
    """Per example the gains of the four bands (B, 4), at the expected power of a
    1/f spectrum, or None."""
    m = policy.multiplier("imgfilter")
    if not m:
        return None
    gains = None
    for band in range(4):
        t = ops.power(2.0, draws.normal() * IMGFILTER_STD)
        t = ops.where(_chance(draws, m, probability), t, 1.0)
        t = ops.stack([t if i == band else ops.ones_like(t) for i in range(4)], axis=1)
        t = t / ops.sqrt(ops.sum(EXPECTED_POWER * ops.square(t), axis=1, keepdims=True))
        gains = t if gains is None else gains * t
    return gains


def band_filter(images, gains):
    """`images` through the filter `gains @ FILTER_BANK`, separably, mirrored borders."""
    taps = ops.matmul(gains, FILTER_BANK)  # (B, T)
    half = FILTER_BANK.shape[1] // 2
    height, width = images.shape[1], images.shape[2]
    x = _mirror_pad(images, half)
    used = np.flatnonzero(FILTER_BANK.any(axis=0))  # 6 of the 43 taps are 0 in every band
    x = sum(taps[:, k, None, None, None] * x[:, k : k + height] for k in used)
    return sum(taps[:, k, None, None, None] * x[:, :, k : k + width] for k in used)


def _mirror_pad(images, pad):
    """`pad` pixels of mirrored image on each side, in rounds for images smaller than
    the filter (a single reflection reaches only size - 1 pixels)."""
    while pad > 0:
        step = min(pad, images.shape[1] - 1, images.shape[2] - 1)
        images = tf.pad(images, [[0, 0], [step, step], [step, step], [0, 0]], mode="REFLECT")
        pad -= step
    return images


def ada_augment(images, seeds, policy: AugmentPolicy, probability=1.0):
    """ADA's pipeline on `images` (B, H, W, C) in [-1, 1], random numbers from `seeds`
    (B, 2) int32: geometry, colour, image filter, noise, cutout."""
    images = ops.convert_to_tensor(images, "float32")
    probability = ops.convert_to_tensor(probability, "float32")
    _, height, width, channels = images.shape
    draws = _Draws(seeds, (height, width, channels))
    inverse = geometry(draws, policy, probability, width, height)
    if inverse is not None:
        images = transform(images, inverse)
    matrix = colour(draws, policy, probability, channels)
    if matrix is not None:
        images = recolour(images, matrix)
    gains = band_gains(draws, policy, probability)
    if gains is not None:
        images = band_filter(images, gains)
    if policy.multiplier("noise"):
        sigma = ops.abs(draws.normal()) * NOISE_STD
        sigma = ops.where(_chance(draws, policy.multiplier("noise"), probability), sigma, 0.0)
        images = images + draws.pixels * sigma[:, None, None, None]
    if policy.multiplier("cutout"):
        on = _chance(draws, policy.multiplier("cutout"), probability)
        size = ops.cast(on, "float32") * CUTOUT_SIZE
        images = images * cutout_mask(draws.uniform(), draws.uniform(), size, height, width)
    return images


def cutout_mask(centre_x, centre_y, size, height, width):
    """(B, H, W, 1): 0 inside the square of side `size` (of the image) at the centre
    (in [0, 1] of the image), else 1."""
    x = (ops.arange(width, dtype="float32") + 0.5) / width
    y = (ops.arange(height, dtype="float32") + 0.5) / height
    outside_x = ops.abs(x[None] - centre_x[:, None]) >= size[:, None] / 2
    outside_y = ops.abs(y[None] - centre_y[:, None]) >= size[:, None] / 2
    keep = ops.logical_or(outside_y[:, :, None], outside_x[:, None, :])
    return ops.cast(keep, "float32")[..., None]
