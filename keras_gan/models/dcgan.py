"""DCGAN (Radford et al. 2016): unconditional, non-saturating loss, Adam 2e-4/0.5."""

import keras

from keras_gan.models import networks
from keras_gan.models.base import GAN
from keras_gan.registry import MODELS


@MODELS.register("dcgan")
@keras.saving.register_keras_serializable("keras_gan")
class DCGAN(GAN):
    """Unconditional DCGAN.

    Args:
        latent_dim: size of z.
        image_size: side of the square images (16, 32, 64 or 128).
        channels: 1 (grayscale) or 3 (RGB).
        filters: width of the discriminator's first layer and the generator's last.
        seed: seeds noise drawn when the data carries none.

    Example:
    >>> gan = DCGAN(latent_dim=64, image_size=32, channels=1, filters=32)
    >>> gan.compile()
    >>> gan(keras.random.normal((2, 64))).shape
    TensorShape([2, 32, 32, 1])
    """

    def __init__(self, latent_dim=100, image_size=32, channels=3, filters=64, seed=None, **kwargs):
        self.image_size, self.channels, self.filters = image_size, channels, filters
        super().__init__(
            generator=networks.dcgan_generator(latent_dim, image_size, channels, filters),
            discriminator=networks.dcgan_discriminator(image_size, channels, filters),
            latent_dim=latent_dim,
            seed=seed,
            **kwargs,
        )

    def get_config(self):
        return self.config_of("latent_dim", "image_size", "channels", "filters", "seed")
