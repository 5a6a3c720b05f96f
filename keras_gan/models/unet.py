"""Image-to-image networks: the U-Net generator and PatchGAN discriminator of pix2pix
(Isola et al. 2017), with zi2zi's style embedding at the bottleneck.

The generator is built from two named sub-models, `encoder` (source image -> one
feature map per scale, the last one 1x1) and `decoder` (features [+ style vector] ->
image), so that a model can compare encodings (zi2zi's constant loss).
"""

from __future__ import annotations

import math

import keras
from keras import layers

from keras_gan.models.layers import Conv2D
from keras_gan.models.layers import Conv2DTranspose
from keras_gan.models.networks import _norm


def unet_depth(image_size: int) -> int:
    """Stride-2 stages from `image_size` down to 1x1."""
    depth = math.log2(image_size) if image_size >= 16 else 0
    if depth != int(depth) or depth < 4:
        raise ValueError(f"image_size must be a power of two, at least 16, got {image_size}")
    return int(depth)


def _width(filters: int, max_filters: int, stage: int) -> int:
    return min(filters * 2**stage, max_filters)


def unet_encoder(image_size, channels, filters, max_filters, name="encoder") -> keras.Model:
    """Conv(4, stride 2) stages to 1x1; BN on all but the first and the last (a 1x1
    map normalised over a small batch carries almost nothing)."""
    depth = unet_depth(image_size)
    source = keras.Input((image_size, image_size, channels), name="source")
    x, features = source, []
    for stage in range(depth):
        if stage:
            x = layers.LeakyReLU(0.2)(x)
        x = Conv2D(
            _width(filters, max_filters, stage),
            4,
            2,
            padding="same",
            use_bias=stage in (0, depth - 1),
        )(x)
        if 0 < stage < depth - 1:
            x = _norm()(x)
        features.append(x)
    return keras.Model(source, features, name=name)


def unet_decoder(
    image_size, channels, filters, max_filters, style_dim=0, name="decoder"
) -> keras.Model:
    """Transposed convs back up, each stage concatenated with the encoder's map of the
    same scale (skip connections); the style vector joins the 1x1 bottleneck."""
    depth = unet_depth(image_size)
    inputs = [
        keras.Input((image_size >> (s + 1),) * 2 + (_width(filters, max_filters, s),), name=f"e{s}")
        for s in range(depth)
    ]
    x = inputs[-1]
    if style_dim:
        style = keras.Input((style_dim,), name="style")
        x = layers.Concatenate()([x, layers.Reshape((1, 1, style_dim))(style)])
    for stage in reversed(range(depth - 1)):
        x = layers.ReLU()(x)
        x = Conv2DTranspose(
            _width(filters, max_filters, stage), 4, 2, padding="same", use_bias=False
        )(x)
        x = layers.Concatenate()([_norm()(x), inputs[stage]])
    x = Conv2DTranspose(channels, 4, 2, padding="same")(layers.ReLU()(x))
    images = layers.Activation("tanh", dtype="float32", name="images")(x)
    return keras.Model(inputs + ([style] if style_dim else []), images, name=name)


def unet_generator(
    image_size, channels, filters, max_filters, num_styles=0, style_dim=0, name="generator"
) -> keras.Model:
    """source (+ style id) -> image; a learned style embedding when `num_styles`."""
    encoder = unet_encoder(image_size, channels, filters, max_filters)
    decoder = unet_decoder(image_size, channels, filters, max_filters, style_dim * bool(num_styles))
    source = keras.Input((image_size, image_size, channels), name="source")
    features = encoder(source)
    if not num_styles:
        return keras.Model(source, decoder(features), name=name)
    style_id = keras.Input((), dtype="int32", name="labels")
    style = layers.Embedding(num_styles, style_dim, name="style_embedding")(style_id)
    return keras.Model([source, style_id], decoder([*features, style]), name=name)


def patch_discriminator(
    image_size,
    channels,
    filters,
    max_filters,
    conditioned=True,
    layer_count=3,
    aux_classes=0,
    name="discriminator",
) -> keras.Model:
    """PatchGAN: `layer_count` stride-2 convs, one stride-1, then a logit per patch,
    flattened to `(batch, patches)`. `conditioned`: input is `[image, source]`
    concatenated on channels (pix2pix's conditional D). `aux_classes`: a second
    output of class logits from the last features (zi2zi's category head)."""
    image = keras.Input((image_size, image_size, channels), name="image")
    inputs, x = [image], image
    if conditioned:
        source = keras.Input((image_size, image_size, channels), name="source")
        inputs.append(source)
        x = layers.Concatenate()([image, source])
    for stage in range(layer_count + 1):
        stride = 2 if stage < layer_count else 1
        x = Conv2D(
            _width(filters, max_filters, stage), 4, stride, padding="same", use_bias=stage == 0
        )(x)
        if stage:
            x = _norm()(x)
        x = layers.LeakyReLU(0.2)(x)
    logits = layers.Flatten()(Conv2D(1, 4, 1, padding="same")(x))
    logits = layers.Activation("linear", dtype="float32", name="logits")(logits)
    outputs = [logits]
    if aux_classes:
        pooled = layers.GlobalAveragePooling2D()(x)
        outputs.append(layers.Dense(aux_classes, dtype="float32", name="classes")(pooled))
    return keras.Model(
        inputs if conditioned else image, outputs if aux_classes else logits, name=name
    )
