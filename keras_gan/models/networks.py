"""Functional builders for generators and discriminators. No training code here.

Generators map `z` (and a class id) to images in [-1, 1]; discriminators map
images (and a class id) to one logit per image. Batch normalisation is
synchronised across replicas so that N replicas with a global batch B compute
what one device with batch B computes.
"""

from __future__ import annotations

import math

import keras
from keras import layers
from keras import ops

from keras_gan.models.layers import Conv2D
from keras_gan.models.layers import Conv2DTranspose


def num_doublings(image_size: int, base: int = 4) -> int:
    """How many stride-2 stages link a `base`x`base` map to `image_size`."""
    doublings = math.log2(image_size / base) if image_size >= base else -1
    if doublings < 1 or doublings != int(doublings):
        raise ValueError(
            f"image_size must be {base} times a power of two and at least {2 * base} "
            f"(e.g. 16, 32, 64, 128), got {image_size}"
        )
    return int(doublings)


def _norm():
    return layers.BatchNormalization(synchronized=True, momentum=0.9, epsilon=1e-5)


def dcgan_generator(
    latent_dim: int,
    image_size: int,
    channels: int,
    filters: int,
    num_classes: int = 0,
    embedding_dim: int = 0,
    name: str = "generator",
    bias: bool = True,
) -> keras.Model:
    """DCGAN generator (Radford et al. 2016): project z to 4x4, then upsample by 2.

    With `num_classes`, a learned class embedding is concatenated to z (cGAN). The
    projection is a Dense layer: the same map, and FLOPs, as the reference code's
    4x4 valid transposed convolution of z seen as 1x1. `bias=False` drops the last
    layer's bias, as the reference code (PyTorch's DCGAN example) does.
    """
    stages = num_doublings(image_size)
    z = keras.Input((latent_dim,), name="z")
    inputs, x = [z], z
    if num_classes:
        label = keras.Input((), dtype="int32", name="labels")
        inputs.append(label)
        x = layers.Concatenate()([z, layers.Embedding(num_classes, embedding_dim)(label)])
    width = filters * 2 ** (stages - 1)
    x = layers.Dense(4 * 4 * width, use_bias=False)(x)
    x = layers.ReLU()(_norm()(layers.Reshape((4, 4, width))(x)))
    for stage in range(stages - 1):
        width //= 2
        x = Conv2DTranspose(width, 4, strides=2, padding="same", use_bias=False)(x)
        x = layers.ReLU()(_norm()(x))
    x = Conv2DTranspose(channels, 4, strides=2, padding="same", use_bias=bias)(x)
    # float32 output even under a mixed policy: export signatures stay float32/uint8.
    images = layers.Activation("tanh", dtype="float32", name="images")(x)
    return keras.Model(inputs if num_classes else z, images, name=name)


def dcgan_discriminator(
    image_size: int,
    channels: int,
    filters: int,
    num_classes: int = 0,
    extra_channels: keras.layers.Layer | None = None,
    normalization: str = "batch",
    aux_classes: int = 0,
    name: str = "discriminator",
    bias: bool = True,
) -> keras.Model:
    """DCGAN discriminator: stride-2 convolutions down to 4x4, then one logit.

    With `num_classes`, the logit gains a projection term `<embed(y), features>`
    (Miyato & Koyama 2018), so the discriminator judges image *and* class.
    `extra_channels`, if given, maps the label to an image concatenated to the input
    (e.g. the rendered reference glyph of the class). `normalization` is "batch" or
    "layer" (a gradient penalty is per example, so WGAN-GP's critic must not mix the
    batch: Gulrajani et al. 2017, section 4). With `aux_classes`, the model has a
    second output: class logits from the same features (AC-GAN). The logit is a Dense
    layer over the 4x4 features (the reference's 4x4 valid convolution); `bias=False`
    drops the biases of the first convolution and of the logit.
    """
    if normalization not in ("batch", "layer"):
        raise ValueError(f"normalization must be batch or layer, got {normalization!r}")
    stages = num_doublings(image_size)
    images = keras.Input((image_size, image_size, channels), name="images")
    inputs, x = [images], images
    if num_classes:
        label = keras.Input((), dtype="int32", name="labels")
        inputs.append(label)
        if extra_channels is not None:
            x = layers.Concatenate()([x, extra_channels(label)])
    width = filters
    for stage in range(stages):
        x = Conv2D(width, 4, strides=2, padding="same", use_bias=bias and stage == 0)(x)
        if stage:
            x = _norm()(x) if normalization == "batch" else layers.LayerNormalization()(x)
        x = layers.LeakyReLU(0.2)(x)
        width *= 2
    features = layers.Flatten()(x)
    logits = layers.Dense(1, use_bias=bias)(features)
    if num_classes:
        class_vectors = layers.Embedding(num_classes, features.shape[-1])(label)
        projection = layers.Dot(axes=1)([class_vectors, features])
        logits = layers.Add()([logits, projection])
    logits = layers.Activation("linear", dtype="float32", name="logits")(logits)
    outputs = logits
    if aux_classes:
        class_logits = layers.Dense(aux_classes)(features)
        outputs = [
            logits,
            layers.Activation("linear", dtype="float32", name="classes")(class_logits),
        ]
    return keras.Model(inputs if num_classes else images, outputs, name=name)


class ReferenceImages(layers.Layer):
    """Looks up a fixed (non-trainable) image per class id, in [-1, 1].

    The table is a weight, so it is saved, checkpointed and exported with the model.
    Fill it with `set_images(uint8 array (num_classes, H, W, C))`.
    """

    def __init__(self, num_classes, image_shape, **kwargs):
        super().__init__(**kwargs)
        self.num_classes = num_classes
        self.image_shape = tuple(image_shape)
        self.table = self.add_weight(
            shape=(num_classes, *self.image_shape),
            initializer="zeros",
            trainable=False,
            name="table",
        )

    def set_images(self, images):
        if tuple(images.shape) != tuple(self.table.shape):
            raise ValueError(
                f"reference images have shape {tuple(images.shape)}, expected "
                f"{tuple(self.table.shape)} (num_classes, H, W, C)"
            )
        self.table.assign(images.astype("float32") / 127.5 - 1.0)

    def call(self, labels):
        return ops.take(self.table, ops.cast(labels, "int32"), axis=0)

    def compute_output_shape(self, input_shape):
        return (*input_shape, *self.image_shape)

    def get_config(self):
        return {
            **super().get_config(),
            "num_classes": self.num_classes,
            "image_shape": self.image_shape,
        }


@keras.saving.register_keras_serializable("keras_gan")
class Despeckle(layers.Layer):
    """At inference, paints paper over specks: isolated ink of at most `area` pixels.

    Ink is a pixel below 0 (it is below 128 in uint8; paper is +1). A speck is the ink
    inside an h x w box (h, w <= `area`: any component of `area` pixels fits one) that
    holds 1 to `area` ink pixels and whose one-pixel frame holds none: components of
    that size with nothing else within a pixel of their box. The whole box becomes
    paper, so the speck's gray halo goes too. Real glyphs have almost no such
    components at `area` = size / 16 (18 in 5,092 of the default data's at 64 px); a
    GAN's samples have about one each (bench/RESULTS.md), which the outline tracer
    drops in the same way (potrace's turdsize). In training the layer passes G's
    output as it is: D and the losses see what G draws.
    """

    def __init__(self, area: int, **kwargs):
        super().__init__(**kwargs)
        self.area = area

    def call(self, images, training=False):
        if training or self.area < 1:
            return images
        ink = ops.cast(ops.mean(images, axis=-1, keepdims=True) < 0.0, images.dtype)
        framed = ops.pad(ink, [[0, 0], [1, 1], [1, 1], [0, 0]])
        speck = ops.zeros_like(ink)
        for h in range(1, self.area + 1):
            for w in range(1, self.area + 1):
                inside = _box_sums(ink, h, w)
                frame = _box_sums(framed, h + 2, w + 2) - inside
                boxes = ops.cast(
                    (frame < 0.5) & (inside > 0.5) & (inside < self.area + 0.5), ink.dtype
                )
                # Each box covers its h x w pixels: a max over the boxes that hold a pixel.
                boxes = ops.pad(boxes, [[0, 0], [h - 1, h - 1], [w - 1, w - 1], [0, 0]])
                speck = ops.maximum(speck, ops.max_pool(boxes, (h, w), 1, "valid"))
        return ops.where(speck > 0.5, ops.ones_like(images), images)

    def get_config(self):
        return {**super().get_config(), "area": self.area}


def _box_sums(x, h, w):
    """Sums of `x` over every h x w box that fits (stride 1)."""
    return ops.average_pool(x, (h, w), 1, "valid") * float(h * w)


def encode_reference(z, label, image_size, channels, filters, num_classes):
    """The U-Net half both glyph generators share: the class's reference image encoded
    down to 4x4 with z projected onto it. Returns (bottleneck, skips by stage)."""
    x = ReferenceImages(num_classes, (image_size, image_size, channels), name="reference")(label)
    skips, width = [], filters
    for stage in range(num_doublings(image_size)):
        x = Conv2D(width, 4, strides=2, padding="same", use_bias=stage == 0)(x)
        if stage:
            x = _norm()(x)
        x = layers.LeakyReLU(0.2)(x)
        skips.append(x)
        width = min(width * 2, filters * 8)
    style = layers.Dense(4 * 4 * filters, use_bias=False)(z)
    return layers.Concatenate()([x, layers.Reshape((4, 4, filters))(style)]), skips


def glyph_generator(
    latent_dim: int,
    image_size: int,
    channels: int,
    filters: int,
    num_classes: int,
    name: str = "generator",
) -> keras.Model:
    """U-Net generator that redraws a class's reference image in a style set by z.

    The reference image (e.g. the character rendered in a reference font) is
    encoded down to 4x4; z joins at the bottleneck and, projected, at every
    decoder stage, so style varies with z while the skips keep the shape right.
    """
    stages = num_doublings(image_size)
    z = keras.Input((latent_dim,), name="z")
    label = keras.Input((), dtype="int32", name="labels")
    x, skips = encode_reference(z, label, image_size, channels, filters, num_classes)
    size = 4
    for stage in reversed(range(stages)):
        width = filters * min(2 ** max(stage - 1, 0), 8)
        if stage < stages - 1:
            x = layers.Concatenate()([x, skips[stage]])
        size *= 2
        x = Conv2DTranspose(width, 4, strides=2, padding="same", use_bias=False)(x)
        x = layers.ReLU()(_norm()(x))
        # Style enters every scale: without it, skips let G copy the reference alone.
        noise = layers.Dense(size * size, use_bias=False)(z)
        x = layers.Concatenate()([x, layers.Reshape((size, size, 1))(noise)])
    x = Conv2D(channels, 3, padding="same")(x)
    images = layers.Activation("tanh", dtype="float32", name="images")(x)
    return keras.Model([z, label], images, name=name)


def reference_discriminator(image_size, channels, filters, num_classes) -> keras.Model:
    """D of the glyph models: (image, the class's reference image) pairs, projection."""
    shape = (image_size, image_size, channels)
    reference = ReferenceImages(num_classes, shape, name="reference")
    return dcgan_discriminator(image_size, channels, filters, num_classes, extra_channels=reference)


def style_encoder(
    image_size: int, channels: int, filters: int, style_dim: int, name: str = "style_encoder"
) -> keras.Model:
    """Image -> (mean, log-variance) of its style code, `style_dim` each: stride-2 convs
    down to 4x4 (no normalisation: one glyph's code must not depend on its batch)."""
    images = keras.Input((image_size, image_size, channels), name="images")
    x, width = images, filters
    for _ in range(num_doublings(image_size)):
        x = Conv2D(width, 4, strides=2, padding="same")(x)
        x = layers.LeakyReLU(0.2)(x)
        width = min(width * 2, filters * 4)
    x = layers.Dense(2 * style_dim)(layers.Flatten()(x))
    x = layers.Activation("linear", dtype="float32")(x)
    return keras.Model(images, ops.split(x, 2, axis=-1), name=name)


@keras.saving.register_keras_serializable("keras_gan")
class FiLM(layers.Layer):
    """Feature-wise modulation by a style code (Perez et al. 2018; AdaIN-like after a
    normalisation): `x * (1 + gamma(z)) + beta(z)`, one gamma and beta per channel.
    A style changes every stroke alike, so it cannot draw specks."""

    def build(self, input_shapes):
        x_shape, z_shape = input_shapes
        self.to_gamma = layers.Dense(x_shape[-1], kernel_initializer="zeros", name="gamma")
        self.to_beta = layers.Dense(x_shape[-1], kernel_initializer="zeros", name="beta")
        self.to_gamma.build(z_shape)
        self.to_beta.build(z_shape)

    def call(self, inputs):
        x, z = inputs
        gamma = ops.expand_dims(ops.expand_dims(self.to_gamma(z), 1), 1)
        beta = ops.expand_dims(ops.expand_dims(self.to_beta(z), 1), 1)
        return x * (1.0 + gamma) + beta

    def compute_output_shape(self, input_shapes):
        return input_shapes[0]


def styled_glyph_generator(
    latent_dim: int,
    image_size: int,
    channels: int,
    filters: int,
    num_classes: int,
    speck_area: int = 0,
    name: str = "generator",
) -> keras.Model:
    """U-Net that redraws a class's reference image in the style code z: the reference
    is encoded down to 4x4 (skips kept); z joins at the bottleneck and modulates every
    decoder stage's normalised features (`FiLM`), never adding pixel maps. At
    inference, specks of at most `speck_area` pixels are painted over (`Despeckle`)."""
    stages = num_doublings(image_size)
    z = keras.Input((latent_dim,), name="z")
    label = keras.Input((), dtype="int32", name="labels")
    x, skips = encode_reference(z, label, image_size, channels, filters, num_classes)
    for stage in reversed(range(stages)):
        width = filters * min(2 ** max(stage - 1, 0), 8)
        if stage < stages - 1:
            x = layers.Concatenate()([x, skips[stage]])
        x = Conv2DTranspose(width, 4, strides=2, padding="same", use_bias=False)(x)
        x = layers.BatchNormalization(
            synchronized=True, momentum=0.9, epsilon=1e-5, center=False, scale=False
        )(x)
        x = layers.ReLU()(FiLM()([x, z]))
    x = Conv2D(channels, 3, padding="same")(x)
    x = layers.Activation("tanh", dtype="float32")(x)
    images = Despeckle(speck_area, dtype="float32", name="images")(x)
    return keras.Model([z, label], images, name=name)
