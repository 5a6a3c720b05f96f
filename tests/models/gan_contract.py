"""`GANContract`: what every registered GAN variant must do. Subclass it per variant."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_gan.distributed import mirrored_strategy
from keras_gan.models.base import WEIGHTS_FINITE
from keras_gan.registry import MODELS
from keras_gan.runs import checkpoint_for


class GANContract:
    """Set `name`, `model_cls`, small non-default `init_kwargs` (and `compile_kwargs`)."""

    name: str
    model_cls: type
    init_kwargs: dict
    compile_kwargs: dict = {}  # e.g. penalties or EMA, so the contract covers them too
    batch = 4

    def make(self, **overrides):
        model = self.model_cls(**{**self.init_kwargs, **overrides})
        model.compile(**self.compile_kwargs)
        return model

    def data(self, model, batch=None):
        batch = batch or self.batch
        rng = np.random.default_rng(0)
        images = rng.uniform(-1, 1, (batch, *model.image_shape)).astype("float32")
        sample = {
            "images": images,
            "noise": rng.normal(size=(batch, model.noise_draws, model.latent_dim)).astype(
                "float32"
            ),
        }
        if model.conditional:
            sample["labels"] = rng.integers(0, model.num_classes, batch).astype("int32")
        return sample

    def dataset(self, model, steps=2):
        return tf.data.Dataset.from_tensors(self.data(model)).repeat(steps)

    def inputs(self, model, seeds=(1, 2)):
        z = np.stack([np.random.default_rng(s).normal(size=model.latent_dim) for s in seeds])
        z = z.astype("float32")
        if model.conditional:
            return z, np.arange(len(seeds), dtype="int32") % model.num_classes
        return z

    # ----------------------------------------------------------------- the contract

    def test_registered(self):
        assert MODELS.get(self.name) is self.model_cls

    @pytest.mark.parametrize("image_size", [16, 32, 64])
    def test_generator_output_fits_discriminator_input(self, image_size):
        model = self.make(image_size=image_size)
        images = model(self.inputs(model))
        assert tuple(images.shape[1:]) == (image_size, image_size, self.init_kwargs["channels"])
        assert tuple(model.discriminator.inputs[0].shape[1:]) == tuple(images.shape[1:])
        labels = self.inputs(model)[1] if model.conditional else None
        assert model.discriminate(images, labels).shape == (2, 1)
        assert np.all(np.abs(images) <= 1.0)

    def test_bad_image_size_is_a_clear_error(self):
        with pytest.raises(ValueError, match="image_size must be 4 times a power of two"):
            self.make(image_size=24)

    @pytest.mark.parametrize("run_eagerly", [True, False])
    def test_fit_logs_every_loss(self, run_eagerly):
        model = self.make()
        model.run_eagerly = run_eagerly
        history = model.fit(self.dataset(model), epochs=1, verbose=0, shuffle=False)
        assert sorted(history.history) == sorted(["loss", WEIGHTS_FINITE, *model.loss_names])
        assert all(np.isfinite(v[-1]) for v in history.history.values())
        assert history.history[WEIGHTS_FINITE] == [1.0]
        n_critic = model.regularization.n_critic
        assert int(model.d_optimizer.iterations) == 2 * n_critic
        assert int(model.g_optimizer.iterations) == 2

    def test_steps_update_only_their_own_network(self):
        model = self.make()
        sample = self.data(model)
        images, labels, noise = model.unpack(sample)

        def snapshot(network):
            return [v.numpy().copy() for v in network.trainable_variables]

        def unchanged(before, network):
            return all(
                np.array_equal(a, v.numpy()) for a, v in zip(before, network.trainable_variables)
            )

        g_before, d_before = snapshot(model.generator), snapshot(model.discriminator)
        d_draws = model.regularization.d_noise_draws()
        model.discriminator_step(images, labels, noise[:, :d_draws])
        assert unchanged(g_before, model.generator)
        assert not unchanged(d_before, model.discriminator)
        d_after = snapshot(model.discriminator)
        model.generator_step(labels, noise[:, d_draws * model.regularization.n_critic :])
        assert unchanged(d_after, model.discriminator)
        assert not unchanged(g_before, model.generator)

    def test_generator_gradient_flows_through_the_discriminator(self):
        model = self.make()
        z = self.inputs(model)
        labels = z[1] if model.conditional else None
        z = z[0] if model.conditional else z
        with tf.GradientTape() as tape:
            logits = model.discriminate(
                model.generate(z, labels, training=True), labels, training=True
            )
            loss = tf.reduce_mean(model.adversarial_loss.generator_loss(logits))
        grads = tape.gradient(loss, model.generator.trainable_variables)
        assert all(g is not None for g in grads)
        assert sum(float(tf.reduce_sum(tf.abs(g))) for g in grads) > 0

    def test_config_round_trip(self):
        model = self.make()
        config = model.get_config()
        for key, value in self.init_kwargs.items():
            assert config[key] == value, key
        clone = self.model_cls.from_config(config)
        assert clone.get_config() == config
        clone.compile_from_config(model.get_compile_config())
        assert clone.regularization == model.regularization
        assert clone.count_params() == model.count_params()

    # Save/restore semantics do not depend on graph mode (tested in test_fit_logs_every_loss
    # and the mirrored test); eager steps skip minutes of tracing for the deep models.
    def test_save_load_restores_outputs_and_optimizer_state(self, tmp_path):
        model = self.make()
        model.run_eagerly = True
        model.fit(self.dataset(model, steps=3), epochs=1, verbose=0, shuffle=False)
        path = tmp_path / "model.keras"
        model.save(path)
        loaded = keras.saving.load_model(path)
        inputs = self.inputs(model)
        np.testing.assert_array_equal(model(inputs), loaded(inputs))
        assert int(loaded.g_optimizer.iterations) == 3
        assert int(loaded.d_optimizer.iterations) == 3 * model.regularization.n_critic
        assert loaded.regularization == model.regularization
        for a, b in zip(model.d_optimizer.variables, loaded.d_optimizer.variables):
            np.testing.assert_array_equal(a, b)
        loaded.run_eagerly = True
        loaded.fit(self.dataset(loaded, steps=1), epochs=1, verbose=0, shuffle=False)
        assert int(loaded.g_optimizer.iterations) == 4

    def test_checkpoint_restores_everything(self, tmp_path):
        model = self.make()
        model.run_eagerly = True
        model.fit(self.dataset(model, steps=2), epochs=1, verbose=0, shuffle=False)
        step = tf.Variable(2, dtype=tf.int64)
        path = checkpoint_for(model, step).save(str(tmp_path / "ckpt"))
        fresh, fresh_step = self.make(), tf.Variable(0, dtype=tf.int64)
        checkpoint_for(fresh, fresh_step).restore(path).assert_consumed()
        assert int(fresh_step) == 2 and int(fresh.g_optimizer.iterations) == 2
        for a, b in zip(
            model.variables + model.d_optimizer.variables,
            fresh.variables + fresh.d_optimizer.variables,
        ):
            np.testing.assert_array_equal(a, b)

    def test_fit_under_mirrored_strategy(self, two_cpus):
        strategy = mirrored_strategy(two_cpus)
        with strategy.scope():
            model = self.make()
        history = model.fit(self.dataset(model), epochs=1, verbose=0, shuffle=False)
        assert np.isfinite(history.history["loss"][-1])
