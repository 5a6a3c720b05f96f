"""Class-conditional DCGAN: label embedding in G, projection discriminator."""

import keras

from keras_gan.models import networks
from keras_gan.models.base import GAN
from keras_gan.registry import MODELS


@MODELS.register("cdcgan")
@keras.saving.register_keras_serializable("keras_gan")
class CDCGAN(GAN):
    """Conditional DCGAN: G sees `[z, embed(label)]`, D adds a projection term.

    Args:
        num_classes: number of classes (for glyphs: characters).
        latent_dim: size of z.
        image_size: side of the square images (16, 32, 64 or 128).
        channels: 1 (grayscale) or 3 (RGB).
        filters: width of the discriminator's first layer and the generator's last.
        embedding_dim: size of the generator's class embedding.
        seed: seeds noise drawn when the data carries none.

    Example:
    >>> gan = CDCGAN(num_classes=10, latent_dim=64, image_size=32, channels=1)
    >>> gan.compile()
    >>> gan((keras.random.normal((2, 64)), keras.ops.array([3, 7]))).shape
    TensorShape([2, 32, 32, 1])
    """

    def __init__(
        self,
        num_classes=10,
        latent_dim=100,
        image_size=32,
        channels=1,
        filters=64,
        embedding_dim=64,
        seed=None,
        **kwargs,
    ):
        self.image_size, self.channels, self.filters = image_size, channels, filters
        self.embedding_dim = embedding_dim
        super().__init__(
            generator=networks.dcgan_generator(
                latent_dim, image_size, channels, filters, num_classes, embedding_dim
            ),
            discriminator=networks.dcgan_discriminator(image_size, channels, filters, num_classes),
            latent_dim=latent_dim,
            num_classes=num_classes,
            seed=seed,
            **kwargs,
        )
