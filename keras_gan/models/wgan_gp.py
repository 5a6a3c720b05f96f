"""WGAN-GP (Gulrajani et al. 2017): Wasserstein critic with a gradient penalty."""

import keras

from keras_gan.models import networks
from keras_gan.models.base import GAN
from keras_gan.registry import MODELS


@MODELS.register("wgan_gp")
@keras.saving.register_keras_serializable("keras_gan")
class WGANGP(GAN):
    """Unconditional WGAN-GP with DCGAN-shaped networks.

    The critic uses layer norm instead of batch norm (the penalty is per example),
    and trains `n_critic`=5 steps per generator step with lambda=10 and Adam 1e-4,
    betas (0, 0.9): the paper's Algorithm 1 defaults.

    Args:
        latent_dim: size of z.
        image_size: side of the square images (16, 32, 64 or 128).
        channels: 1 (grayscale) or 3 (RGB).
        filters: width of the critic's first layer and the generator's last.
        seed: seeds noise drawn when the data carries none.
    """

    default_loss = "wasserstein"
    default_compile = {"gradient_penalty": 10.0, "n_critic": 5}
    default_adam = {"learning_rate": 1e-4, "beta_1": 0.0, "beta_2": 0.9}

    def __init__(self, latent_dim=128, image_size=32, channels=3, filters=64, seed=None, **kwargs):
        self.image_size, self.channels, self.filters = image_size, channels, filters
        super().__init__(
            generator=networks.dcgan_generator(latent_dim, image_size, channels, filters),
            discriminator=networks.dcgan_discriminator(
                image_size, channels, filters, normalization="layer"
            ),
            latent_dim=latent_dim,
            seed=seed,
            **kwargs,
        )
