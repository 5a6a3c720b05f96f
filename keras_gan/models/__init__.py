"""GAN variants, registered by name in `MODELS`."""

from keras_gan.models.base import GAN
from keras_gan.models.cdcgan import CDCGAN
from keras_gan.models.dcgan import DCGAN
from keras_gan.models.glyph_gan import GlyphGAN

__all__ = ["GAN", "CDCGAN", "DCGAN", "GlyphGAN"]
