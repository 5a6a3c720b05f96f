"""ResNet generator and spectrally normalised ResNet discriminator (Miyato et al. 2018).

The CIFAR-10 architecture of SNGAN (appendix B.4): G projects z to 4x4 and runs one
up-sampling residual block per doubling; D runs an "optimized" first down block,
down blocks to 8x8, two plain blocks, ReLU, global sum pooling and a linear logit,
every layer spectrally normalised. With `num_classes`, G's batch norms become
class-conditional and D adds the projection term `<embed(y), features>` (Miyato &
Koyama 2018), which together make the cGAN-PD model.
"""

from __future__ import annotations

import keras
from keras import layers

from keras_gan.models.layers import ConditionalBatchNorm
from keras_gan.models.layers import Conv2D
from keras_gan.models.layers import GlobalSumPooling2D
from keras_gan.models.layers import SNConv2D
from keras_gan.models.layers import SNDense
from keras_gan.models.layers import SNEmbedding
from keras_gan.models.networks import num_doublings


def _norm(x, label, num_classes):
    if num_classes:
        return ConditionalBatchNorm(num_classes)([x, label])
    return layers.BatchNormalization(synchronized=True, momentum=0.9, epsilon=1e-5)(x)


def _up_block(x, width, label, num_classes):
    shortcut = Conv2D(width, 1)(layers.UpSampling2D()(x))
    x = layers.ReLU()(_norm(x, label, num_classes))
    x = Conv2D(width, 3, padding="same")(layers.UpSampling2D()(x))
    x = layers.ReLU()(_norm(x, label, num_classes))
    x = Conv2D(width, 3, padding="same")(x)
    return layers.Add()([x, shortcut])


def resnet_generator(
    latent_dim: int,
    image_size: int,
    channels: int,
    width: int,
    num_classes: int = 0,
    name: str = "generator",
) -> keras.Model:
    """z (and a class id) -> image in [-1, 1], `width` channels in every block."""
    stages = num_doublings(image_size)
    z = keras.Input((latent_dim,), name="z")
    label = keras.Input((), dtype="int32", name="labels") if num_classes else None
    x = layers.Reshape((4, 4, width))(layers.Dense(4 * 4 * width)(z))
    for _ in range(stages):
        x = _up_block(x, width, label, num_classes)
    x = layers.ReLU()(layers.BatchNormalization(synchronized=True, momentum=0.9)(x))
    x = Conv2D(channels, 3, padding="same")(x)
    images = layers.Activation("tanh", dtype="float32", name="images")(x)
    return keras.Model([z, label] if num_classes else z, images, name=name)


def _down_block(x, width, down, first=False):
    shortcut = x
    if first:  # the "optimized" block: no activation before the first conv of the image
        x = SNConv2D(width, 3, padding="same")(x)
    else:
        x = SNConv2D(width, 3, padding="same")(layers.ReLU()(x))
    x = SNConv2D(width, 3, padding="same")(layers.ReLU()(x))
    if down:
        x = layers.AveragePooling2D(2)(x)
    if down or shortcut.shape[-1] != width:
        if first:
            shortcut = SNConv2D(width, 1)(layers.AveragePooling2D(2)(shortcut))
        else:
            shortcut = SNConv2D(width, 1)(shortcut)
            shortcut = layers.AveragePooling2D(2)(shortcut) if down else shortcut
    return layers.Add()([x, shortcut])


def resnet_discriminator(
    image_size: int,
    channels: int,
    width: int,
    num_classes: int = 0,
    name: str = "discriminator",
) -> keras.Model:
    """image (and class id) -> one logit; spectral norm on every weight."""
    downs = num_doublings(image_size, base=4) - 1  # down to 8x8
    images = keras.Input((image_size, image_size, channels), name="images")
    x = _down_block(images, width, down=True, first=True)
    for _ in range(downs - 1):
        x = _down_block(x, width, down=True)
    for _ in range(2):
        x = _down_block(x, width, down=False)
    features = GlobalSumPooling2D()(layers.ReLU()(x))
    logits = SNDense(1)(features)
    inputs = images
    if num_classes:
        label = keras.Input((), dtype="int32", name="labels")
        inputs = [images, label]
        class_vectors = SNEmbedding(num_classes, width)(label)
        logits = layers.Add()([logits, layers.Dot(axes=1)([class_vectors, features])])
    logits = layers.Activation("linear", dtype="float32", name="logits")(logits)
    return keras.Model(inputs, logits, name=name)
