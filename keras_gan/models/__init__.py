"""GAN variants, registered by name in `MODELS`."""

from keras_gan.models.acgan import ACGAN
from keras_gan.models.base import GAN
from keras_gan.models.cdcgan import CDCGAN
from keras_gan.models.cgan_pd import CGANPD
from keras_gan.models.cyclegan import CycleGAN
from keras_gan.models.dcgan import DCGAN
from keras_gan.models.discogan import DiscoGAN
from keras_gan.models.glyph_gan import GlyphGAN
from keras_gan.models.glyph_style_gan import GlyphStyleGAN
from keras_gan.models.lsgan import LSGAN
from keras_gan.models.sngan import SNGAN
from keras_gan.models.stylegan2 import StyleGAN2
from keras_gan.models.text import TextRelGAN
from keras_gan.models.text import TextWGANGP
from keras_gan.models.text_mle import TextMLE
from keras_gan.models.translation import Font2Font
from keras_gan.models.translation import Pix2Pix
from keras_gan.models.wgan_gp import WGANGP

__all__ = [
    "ACGAN",
    "CDCGAN",
    "CGANPD",
    "CycleGAN",
    "DCGAN",
    "DiscoGAN",
    "Font2Font",
    "GAN",
    "GlyphGAN",
    "GlyphStyleGAN",
    "LSGAN",
    "Pix2Pix",
    "SNGAN",
    "StyleGAN2",
    "TextMLE",
    "TextRelGAN",
    "TextWGANGP",
    "WGANGP",
]
