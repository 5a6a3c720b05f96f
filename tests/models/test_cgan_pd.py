"""cGAN with projection discriminator under the shared contract."""

from keras_gan.models import CGANPD
from tests.models.gan_contract import GANContract


class TestCGANPD(GANContract):
    name = "cgan_pd"
    model_cls = CGANPD
    init_kwargs = {
        **{"latent_dim": 8, "image_size": 16, "channels": 3, "filters": 4, "seed": 3},
        "num_classes": 3,
    }
    compile_kwargs = {"n_critic": 1}  # 5 unrolled critic steps take 20 s to trace
