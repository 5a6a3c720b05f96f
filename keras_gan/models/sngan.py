"""SNGAN (Miyato et al. 2018): ResNet G, spectrally normalised ResNet D, hinge loss."""

import keras

from keras_gan.models import resnet
from keras_gan.models.base import GAN
from keras_gan.registry import MODELS


@MODELS.register("sngan")
@keras.saving.register_keras_serializable("keras_gan")
class SNGAN(GAN):
    """Unconditional SNGAN, the CIFAR-10 ResNet of the paper's appendix.

    Hinge loss, Adam 2e-4 with betas (0, 0.9), 5 D steps per G step (n_dis = 5).

    Args:
        latent_dim: size of z (128 in the paper).
        image_size: side of the square images (16, 32, 64 or 128).
        channels: 1 (grayscale) or 3 (RGB).
        filters: D's width; G's is twice that (128 and 256 in the paper).
        seed: seeds noise drawn when the data carries none.
    """

    default_loss = "hinge"
    default_compile = {"n_critic": 5}
    default_adam = {"learning_rate": 2e-4, "beta_1": 0.0, "beta_2": 0.9}

    def __init__(self, latent_dim=128, image_size=32, channels=3, filters=128, seed=None, **kwargs):
        self.image_size, self.channels, self.filters = image_size, channels, filters
        super().__init__(
            generator=resnet.resnet_generator(latent_dim, image_size, channels, 2 * filters),
            discriminator=resnet.resnet_discriminator(image_size, channels, filters),
            latent_dim=latent_dim,
            seed=seed,
            **kwargs,
        )
