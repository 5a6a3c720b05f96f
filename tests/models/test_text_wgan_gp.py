"""The character-level WGAN-GP under the shared contract."""

from keras_gan.models import TextWGANGP
from tests.models.gan_contract import GANContract


class TestTextWGANGP(GANContract):
    name = "text_wgan_gp"
    model_cls = TextWGANGP
    init_kwargs = {
        "vocab_size": 6,
        "length": 5,
        "seed": 3,
        "latent_dim": 8,
        "width": 8,
        "blocks": 1,
    }
    compile_kwargs = {"n_critic": 2}
    sizes = ("length", (5, 9))
    bad_size = ({"length": 0}, r"needs vocab_size >= 2 .* and length >= 1")
