"""RelGAN under the shared contract (its relativistic loss and Gumbel-softmax LSTM)."""

from keras_gan.models import TextRelGAN
from tests.models.gan_contract import GANContract


class TestTextRelGAN(GANContract):
    name = "text_relgan"
    model_cls = TextRelGAN
    init_kwargs = {
        "vocab_size": 6,
        "length": 5,
        "seed": 3,
        "latent_dim": 8,
        "units": 8,
        "embedding_dim": 4,
        "filters": 4,
        "anneal_steps": 3,
    }
    sizes = ("length", (5, 9))
    bad_size = ({"vocab_size": 1}, r"needs vocab_size >= 2 .* and length >= 1")
