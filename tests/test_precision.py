"""The dcgan-32 preset, --precision and --jit-compile."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_gan import presets
from keras_gan import runs
from keras_gan import training
from keras_gan.config import ConfigError
from keras_gan.config import RunConfig
from keras_gan.export.saved_model import export_generator
from tests.tiny import TINY

DCGAN_TINY = TINY + ["model=dcgan", "data.spec=synthetic:16x16x3", "data.channels=3"]


def tiny(*extra):
    return RunConfig().override(DCGAN_TINY + list(extra))


def test_dcgan_32_preset_is_the_reference_network():
    config = RunConfig().merge(presets.get("dcgan-32")).override(["data.channels=3"])
    model = runs.build_model(config, {**config.model_kwargs, "image_size": 32, "channels": 3})
    # PyTorch's DCGAN at 32 px: convolution weights, batch-norm gamma/beta (trainable),
    # running mean/var (not); no biases.
    g_conv = 100 * 512 * 16 + 512 * 256 * 16 + 256 * 128 * 16 + 128 * 3 * 16
    d_conv = 3 * 128 * 16 + 128 * 256 * 16 + 256 * 512 * 16 + 512 * 16
    g_norm, d_norm = 2 * (512 + 256 + 128), 2 * (256 + 512)
    assert model.generator.count_params() == g_conv + 2 * g_norm == 3_450_368
    assert model.discriminator.count_params() == d_conv + 2 * d_norm == 2_638_848
    for layer in model.generator.layers + model.discriminator.layers:
        assert not getattr(layer, "use_bias", False), layer.name
    assert model.latent_dim == 100 and model.generator.output_shape == (None, 32, 32, 3)
    assert model.share_fake
    assert model.adversarial_loss.name == "non_saturating"
    adam = model.d_optimizer.get_config()
    assert (adam["learning_rate"], adam["beta_1"]) == (pytest.approx(2e-4), 0.5)


def test_mixed_bfloat16_computes_in_bf16_and_exports_float32(tmp_path):
    model, run_dir = training.fit(
        tiny("train.precision=mixed_bfloat16"), run_dir=tmp_path / "run", log=lambda line: None
    )
    assert keras.config.dtype_policy().name == "float32"  # the process policy is restored
    conv = next(layer for layer in model.generator.layers if "conv" in layer.name)
    assert conv.compute_dtype == "bfloat16" and conv.variable_dtype == "float32"
    assert model.generator.output.dtype == "float32"
    assert model.discriminator.output.dtype == "float32"
    reloaded, _, _ = runs.load_run(run_dir)
    assert reloaded.generator.layers[-1].compute_dtype == "float32"
    for ours, theirs in zip(reloaded.generator.get_weights(), model.generator.get_weights()):
        np.testing.assert_array_equal(ours, theirs)
    folder = export_generator(model, tmp_path / "export")
    serving = tf.saved_model.load(str(folder)).signatures["serving_default"]
    assert serving.structured_input_signature[1]["z"].dtype == tf.float32
    assert serving.structured_outputs["images"].dtype == tf.uint8  # as in float32 exports
    z = tf.random.normal((3, model.latent_dim))
    expected = np.round((model.generator(z).numpy() + 1) * 127.5)
    np.testing.assert_allclose(serving(z=z)["images"].numpy(), expected, atol=1)


def test_mixed_float16_scales_both_losses_and_resumes(tmp_path):
    config = tiny("train.precision=mixed_float16", "train.steps=4")
    model, run_dir = training.fit(config, run_dir=tmp_path / "run", log=lambda line: None)
    for optimizer in (model.d_optimizer, model.g_optimizer):
        assert isinstance(optimizer, keras.optimizers.LossScaleOptimizer)
        assert int(optimizer.iterations.numpy()) == 4
    assert model.generator.output.dtype == "float32"
    rows = (run_dir / "log.csv").read_text().splitlines()[1:]
    assert all(np.isfinite([float(v) for v in row.split(",")]).all() for row in rows)
    reloaded, _, _ = runs.load_run(run_dir)
    assert int(reloaded.g_optimizer.iterations.numpy()) == 4


def test_xla_trains_the_same_step(tmp_path):
    plain, _ = training.fit(tiny(), run_dir=tmp_path / "plain", log=lambda line: None)
    xla, _ = training.fit(
        tiny("train.jit_compile=true"), run_dir=tmp_path / "xla", log=lambda line: None
    )
    assert xla.jit_compile and not plain.jit_compile
    for ours, theirs in zip(xla.generator.get_weights(), plain.generator.get_weights()):
        np.testing.assert_allclose(ours, theirs, rtol=1e-3, atol=1e-5)


def test_unknown_precision_is_named():
    with pytest.raises(ConfigError, match="train.precision must be one of float32, mixed_bf"):
        tiny("train.precision=float8").validate()


def test_share_fake_runs_the_generator_once_per_step():
    # Batch norm's running mean moves once per G forward pass (momentum 0.9 from 0):
    # after one step it is 0.1 x the batch mean of the one batch G generated from z.
    from keras_gan.models import DCGAN

    rng = np.random.default_rng(0)
    batch = {
        "images": rng.uniform(-1, 1, (8, 16, 16, 3)).astype("float32"),
        "noise": rng.normal(size=(8, 2, 8)).astype("float32"),
    }
    for share_fake, passes in ((True, 1), (False, 2)):
        keras.utils.set_random_seed(0)
        model = DCGAN(latent_dim=8, image_size=16, channels=3, filters=4, share_fake=share_fake)
        model.compile()
        norm = next(layer for layer in model.generator.layers if "batch_norm" in layer.name)
        projected = keras.Model(model.generator.input, norm.input)(batch["noise"][:, 0])
        batch_mean = np.mean(projected.numpy(), axis=(0, 1, 2))
        model.fit(tf.data.Dataset.from_tensors(batch), epochs=1, verbose=0, shuffle=False)
        once = 0.1 * batch_mean
        if passes == 1:
            np.testing.assert_allclose(norm.moving_mean.numpy(), once, rtol=1e-4, atol=1e-6)
        else:  # the second pass draws another z: the mean moved twice
            assert not np.allclose(norm.moving_mean.numpy(), once, rtol=1e-4, atol=1e-6)


def test_share_fake_needs_one_critic_step():
    from keras_gan.models import DCGAN

    with pytest.raises(ValueError, match="share_fake needs n_critic=1 and no augmentation"):
        DCGAN(latent_dim=8, image_size=16, channels=3, filters=4, share_fake=True).compile(
            n_critic=2
        )
