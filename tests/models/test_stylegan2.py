"""StyleGAN2 under the shared contract, truncation, noise, mixing and W interpolation."""

import numpy as np

from keras_gan.models import StyleGAN2
from tests.models.gan_contract import GANContract

SMALL = {"latent_dim": 8, "image_size": 16, "channels": 3, "filters": 4, "seed": 3}


class TestStyleGAN2(GANContract):
    name = "stylegan2"
    model_cls = StyleGAN2
    init_kwargs = {**SMALL, "mapping_layers": 1, "mixing_prob": 0.5, "truncation_psi": 0.7}
    compile_kwargs = {"r1_interval": 2}
    batch = 8  # two replicas of 4: whole minibatch-std groups on each


def test_stylegan2_truncation_noise_and_mixing():
    gan = StyleGAN2(**{**SMALL, "truncation_psi": 0.0, "mixing_prob": 1.0})
    gan.compile(ema_kimg=0)
    z = np.random.default_rng(0).normal(size=(3, 8)).astype("float32")
    truncation = gan.generator.get_layer("truncation")
    truncation.w_avg.assign(np.full(8, 0.3, "float32"))
    images = gan.generate(z).numpy()
    # psi = 0: every z maps to the average w, and inference noise is a fixed buffer.
    np.testing.assert_array_equal(images[0], images[1])
    np.testing.assert_array_equal(gan.generate(z), images)
    # Training draws noise from each z, and mixes in the styles of a second z.
    mixed = gan.generate(z, training=True).numpy()
    plain = gan.generator(z, training=True).numpy()
    assert not np.allclose(mixed, plain)
    np.testing.assert_array_equal(gan.generate(z, training=True), mixed)  # a function of z
    assert not np.array_equal(truncation.w_avg.numpy(), np.full(8, 0.3, "float32"))  # tracked


def test_stylegan2_interpolates_in_w_between_its_samples():
    from keras_gan.sampling import ModelSampler

    gan = StyleGAN2(**{**SMALL, "num_classes": 2, "truncation_psi": 0.5})
    gan.compile()
    z = np.random.default_rng(2).normal(size=(2, 8)).astype("float32")
    path = gan.interpolate_w(z[0], z[1], 5, label=1).numpy()
    ends = gan.generate(z, np.int32([1, 1])).numpy()
    np.testing.assert_allclose(path[[0, -1]], ends, atol=1e-5)
    assert not np.allclose(path[2], ends[0], atol=1e-3)  # the middle is somewhere else
    images = ModelSampler(gan, ["a", "b"], "stylegan2").interpolate(z[0], z[1], 5, 1)
    assert images.shape == (5, 16, 16, 3) and images.dtype == np.uint8


def test_minibatch_std_groups_consecutive_examples():
    from keras_gan.models.style import MinibatchStd

    x = np.random.default_rng(0).normal(size=(8, 2, 2, 3)).astype("float32")
    out = MinibatchStd(group_size=4)(x).numpy()
    np.testing.assert_array_equal(out[..., :3], x)
    for group in (x[:4], x[4:]):  # examples 0-3 and 4-7, as two replicas of 4 see them
        expected = np.sqrt(group.var(axis=0) + 1e-8).mean()
        member = np.flatnonzero((x == group[0]).all(axis=(1, 2, 3)))[0]
        np.testing.assert_allclose(out[member : member + 4, ..., 3], expected, rtol=1e-5)
