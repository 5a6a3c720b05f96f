"""Replicas: the same weights and the same logged losses as one device with the same batch."""

import math

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_gan.distributed import mirrored_strategy
from keras_gan.models import CDCGAN
from keras_gan.models import DCGAN

KWARGS = {"latent_dim": 8, "image_size": 16, "channels": 1, "filters": 4, "seed": 5}


def batches(global_batch=8, steps=3):
    rng = np.random.default_rng(0)
    return [
        {
            "images": rng.uniform(-1, 1, (global_batch, 16, 16, 1)).astype("float32"),
            "noise": rng.normal(size=(global_batch, 2, 8)).astype("float32"),
        }
        for _ in range(steps)
    ]


def train(strategy, data):
    keras.utils.set_random_seed(0)  # the same initial weights for both runs
    with strategy.scope():
        model = DCGAN(**KWARGS)
        model.compile()
    dataset = tf.data.Dataset.from_tensor_slices(
        {k: np.stack([b[k] for b in data]) for k in data[0]}
    )
    history = model.fit(dataset, epochs=1, verbose=0, shuffle=False)
    return model, history.history


def test_two_replicas_match_one_device(two_cpus):
    data = batches()
    one, one_logs = train(tf.distribute.OneDeviceStrategy(two_cpus[0]), data)
    two, two_logs = train(mirrored_strategy(two_cpus), data)
    assert two.distribute_strategy.num_replicas_in_sync == 2
    for a, b in zip(one.variables, two.variables):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=2e-4, atol=2e-5, err_msg=a.path)
    # Logged losses are true global means, not divided by the number of replicas.
    for key in ("d_loss", "g_loss", "loss"):
        np.testing.assert_allclose(one_logs[key], two_logs[key], rtol=1e-4)


def _zero_logits(model):
    """Makes D output logit 0 everywhere and stops learning, so losses are exact."""
    for layer in model.discriminator.layers:
        if layer.name.startswith(("dense", "embedding")) and layer.weights:
            for weight in layer.weights:
                weight.assign(np.zeros(weight.shape, weight.dtype))
    model.d_optimizer.learning_rate.assign(0.0)
    model.g_optimizer.learning_rate.assign(0.0)


def test_exact_loss_values_on_one_and_two_replicas(two_cpus):
    for strategy in (tf.distribute.OneDeviceStrategy(two_cpus[0]), mirrored_strategy(two_cpus)):
        with strategy.scope():
            model = CDCGAN(num_classes=3, **KWARGS)
            model.compile()
        _zero_logits(model)
        data = {
            "images": np.zeros((8, 16, 16, 1), np.float32),
            "labels": np.arange(8, dtype=np.int32) % 3,
        }
        logs = model.fit(
            tf.data.Dataset.from_tensors(data).repeat(2), verbose=0, shuffle=False
        ).history
        # Logit 0: D loss = 2 log 2, G loss = log 2, whatever the replica count.
        np.testing.assert_allclose(logs["d_loss"], [2 * math.log(2)], rtol=1e-6)
        np.testing.assert_allclose(logs["g_loss"], [math.log(2)], rtol=1e-6)
        np.testing.assert_allclose(logs["loss"], [3 * math.log(2)], rtol=1e-6)


@pytest.mark.parametrize(
    "settings",
    [
        ["train.gradient_penalty=10"],
        ["train.r1_gamma=1"],
        [
            "train.augment=translation,cutout,color",
            "train.ada_target=0.6",
            "model_kwargs.latent_dim=16",
        ],
        ["train.augment=ada:bgcfnc", "train.ada_target=0.6"],
    ],
    ids=["gp", "r1", "ada", "ada-pipeline"],
)
def test_kgan_fit_on_two_replicas_equals_one_device(two_cpus, tmp_path, settings):
    """README: `--strategy mirrored` through kgan's own pipeline (data, noise, penalties,
    augmentation) trains the same weights as one device with the same global batch."""
    from keras_gan import training
    from keras_gan.config import RunConfig
    from tests.tiny import TINY

    models = {}
    for strategy in ("one", "mirrored"):
        config = RunConfig().override(
            TINY
            + ["model=cdcgan", "data.spec=synthetic:16x16x1?n=64&classes=4", "train.steps=4"]
            + [f"train.strategy={strategy}", *settings]
        )
        models[strategy], _ = training.fit(config, run_dir=tmp_path / strategy, log=lambda _: None)
    assert models["mirrored"].distribute_strategy.num_replicas_in_sync == 2
    one, two = models["one"], models["mirrored"]
    for a, b in zip(one.variables, two.variables):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=2e-4, atol=2e-5, err_msg=a.path)
