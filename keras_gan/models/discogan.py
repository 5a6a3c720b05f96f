"""DiscoGAN (Kim et al. 2017, arXiv:1703.05192) for unpaired domains A (`sources`) and
B (`images`)."""

from __future__ import annotations

import keras
from keras import layers
from keras import ops

from keras_gan.models import networks
from keras_gan.models.cyclegan import CycleGAN
from keras_gan.models.layers import Conv2D
from keras_gan.models.layers import Conv2DTranspose
from keras_gan.models.networks import _norm
from keras_gan.models.step import Batch
from keras_gan.registry import MODELS


def encoder_decoder_generator(image_size, channels, filters, max_filters, name) -> keras.Model:
    """DiscoGAN's generator: 4x4 stride-2 convolutions down to 4x4 (LeakyReLU 0.2, batch
    norm on all but the first), transposed convolutions back up (batch norm, ReLU), tanh;
    no skip connections: the whole image passes the bottleneck."""
    stages = networks.num_doublings(image_size)
    source = keras.Input((image_size, image_size, channels), name="source")
    x = source
    for stage in range(stages):
        x = Conv2D(min(filters * 2**stage, max_filters), 4, 2, padding="same")(x)
        if stage:
            x = _norm()(x)
        x = layers.LeakyReLU(0.2)(x)
    for stage in reversed(range(stages - 1)):
        x = Conv2DTranspose(min(filters * 2**stage, max_filters), 4, 2, padding="same")(x)
        x = layers.ReLU()(_norm()(x))
    x = Conv2DTranspose(channels, 4, 2, padding="same")(x)
    images = layers.Activation("tanh", dtype="float32", name="images")(x)
    return keras.Model(source, images, name=name)


@MODELS.register("discogan")
@keras.saving.register_keras_serializable("keras_gan")
class DiscoGAN(CycleGAN):
    """Two encoder-decoder generators (A->B, B->A) and two DCGAN discriminators (one
    logit per image), the standard GAN loss, and reconstruction by squared distance:
    the paper's `L_G = L_GAN_B + L_CONST_A + L_GAN_A + L_CONST_B` with
    `L_CONST_A = ||G_BA(G_AB(a)) - a||^2` (its reference code's MSE), and
    `L_D = L_D_A + L_D_B`. No identity term. Generating translates A to B. Left out: the
    feature-matching term and the reconstruction-weight schedule of the authors' code,
    which the paper does not state.

    Args:
        image_size: side of the square images (4 times a power of two: 16, 32, 64...).
        channels: 1 or 3.
        filters: width of the first convolution (doubled each stage, up to
            `max_filters`; the paper's 64 to 512 at 64 px).
        reconstruction_weight: weight of the two reconstruction terms (the paper: 1).
    """

    default_loss = "non_saturating"
    base_loss_names = ("d_loss", "g_loss", "reconstruction")

    def __init__(
        self,
        image_size=64,
        channels=3,
        filters=64,
        max_filters=512,
        reconstruction_weight=1.0,
        seed=None,
        **kwargs,
    ):
        self.reconstruction_weight = reconstruction_weight
        super().__init__(
            image_size, channels, filters, max_filters, cycle_weight=0.0, identity_weight=0.0,
            seed=seed, **kwargs,
        )  # fmt: skip
        self.term_weights = {"reconstruction": float(reconstruction_weight)}

    def domain_generator(self, name: str) -> keras.Model:
        return encoder_decoder_generator(
            self.image_size, self.channels, self.filters, self.max_filters, name
        )

    def domain_discriminator(self, name: str) -> keras.Model:
        return networks.dcgan_discriminator(self.image_size, self.channels, self.filters, name=name)

    def generator_terms(self, batch: Batch, fake) -> dict:
        fake_b, fake_a = fake
        cycled_b, cycled_a = self.generator([fake_a, fake_b], training=True)  # b->a->b, a->b->a
        judged_a, judged_b = self.discriminator([fake_a, fake_b], training=True)
        loss = self.adversarial_loss.generator_loss
        return {
            "g_loss": loss(judged_a) + loss(judged_b),
            "reconstruction": _per_example_mse(cycled_a, batch.sources)
            + _per_example_mse(cycled_b, batch.images),
        }


def _per_example_mse(x, y):
    return ops.mean(ops.square(x - y), axis=(1, 2, 3))
