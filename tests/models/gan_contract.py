"""`GANContract`: what every registered GAN variant must do, for every family (noise to
image, conditional, translation, text) through the one step template. Subclass it in
the variant's test file and set the class attributes."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_gan.distributed import mirrored_strategy
from keras_gan.registry import MODELS
from keras_gan.runs import checkpoint_for


class GANContract:
    """Set `name`, `model_cls`, small non-default `init_kwargs` (and `compile_kwargs`);
    `sizes` is the constructor argument that sets the sample shape and values the
    networks must fit at; `bad_size` an argument and the error it must raise."""

    name: str
    model_cls: type
    init_kwargs: dict
    compile_kwargs: dict = {}  # e.g. penalties or EMA, so the contract covers them too
    sizes: tuple = ("image_size", (16, 32, 64))
    bad_size: tuple = ({"image_size": 24}, "image_size must be 4 times a power of two")
    batch = 4

    def build(self, **overrides):
        """The model with `init_kwargs` and `overrides` (and what a variant fills in)."""
        return self.model_cls(**{**self.init_kwargs, **overrides})

    def make(self, **overrides):
        model = self.build(**overrides)
        model.compile(**self.compile_kwargs)
        return model

    def data(self, model, batch=None):
        """A batch of what the model trains on, drawn from a fixed seed."""
        batch = batch or self.batch
        rng = np.random.default_rng(0)
        if model.modality == "text":
            sample = {"tokens": rng.integers(0, model.vocab_size, (batch, model.length))}
        else:
            shape = (batch, *model.image_shape)
            sample = {"images": rng.uniform(-1, 1, shape).astype("float32")}
            if model.translates:
                sample["sources"] = rng.uniform(-1, 1, shape).astype("float32")
        if model.noise_draws:
            noise = rng.normal(size=(batch, model.noise_draws, model.latent_dim))
            sample["noise"] = noise.astype("float32")
        if model.conditional:
            sample["labels"] = rng.integers(0, model.num_classes, batch).astype("int32")
        return sample

    def dataset(self, model, steps=2, batch=None):
        return tf.data.Dataset.from_tensors(self.data(model, batch)).repeat(steps)

    def inputs(self, model, seeds=(1, 2)):
        """What `model(...)` takes for two examples: z, or sources for a translation
        model, with labels for a conditional one."""
        if model.translates:
            draws = [np.random.default_rng(s).uniform(-1, 1, model.image_shape) for s in seeds]
        else:
            draws = [np.random.default_rng(s).normal(size=model.latent_dim) for s in seeds]
        x = np.stack(draws).astype("float32")
        if model.conditional:
            return x, np.arange(len(seeds), dtype="int32") % model.num_classes
        return x

    # ----------------------------------------------------------------- the contract

    def test_registered(self):
        assert MODELS.get(self.name) is self.model_cls

    def test_generator_output_fits_discriminator_input(self):
        key, values = self.sizes
        for value in values:
            model = self.make(**{key: value})
            inputs = self.inputs(model)
            samples = model(inputs)
            assert tuple(samples.shape[1:]) == tuple(model.discriminator.inputs[0].shape[1:])
            assert np.all(np.abs(samples) <= 1.0)
            labels = inputs[1] if model.conditional else None
            sources = (inputs[0] if model.conditional else inputs) if model.translates else None
            logits = model.discriminate(samples, labels, sources=sources)
            assert logits.shape[0] == 2 and np.all(np.isfinite(logits))

    def test_bad_size_is_a_clear_error(self):
        arguments, message = self.bad_size
        with pytest.raises(ValueError, match=message):
            self.make(**arguments)

    @pytest.mark.parametrize("run_eagerly", [True, False])
    def test_fit_logs_every_loss(self, run_eagerly):
        model = self.make()
        model.run_eagerly = run_eagerly
        history = model.fit(self.dataset(model), epochs=1, verbose=0, shuffle=False)
        # Every loss and their sum, nothing internal (a broken weight shows as a NaN loss).
        assert sorted(history.history) == sorted(["loss", *model.loss_names])
        assert all(np.isfinite(v[-1]) for v in history.history.values())
        n_critic = model.regularization.n_critic
        assert int(model.d_optimizer.iterations) == 2 * n_critic
        assert int(model.g_optimizer.iterations) == 2

    def test_steps_update_only_their_own_network(self):
        model = self.make()
        batch = model.unpack(self.data(model))
        draws = model.regularization.d_noise_draws()

        def snapshot(network):
            return [v.numpy().copy() for v in network.trainable_variables]

        def unchanged(before, network):
            return all(
                np.array_equal(a, v.numpy()) for a, v in zip(before, network.trainable_variables)
            )

        g_before, d_before = snapshot(model.generator), snapshot(model.discriminator)
        model.discriminator_step(batch.rows(0, draws))
        assert unchanged(g_before, model.generator)
        assert not unchanged(d_before, model.discriminator)
        d_after = snapshot(model.discriminator)
        model.generator_step(batch.rows(draws * model.regularization.n_critic))
        assert unchanged(d_after, model.discriminator)
        assert not unchanged(g_before, model.generator)

    def test_generator_gradient_flows_through_the_discriminator(self):
        model = self.make()
        batch = model.unpack(self.data(model))
        batch = batch.rows(model.regularization.d_noise_draws() * model.regularization.n_critic)
        with tf.GradientTape() as tape:
            # The adversarial term alone: D's judgement of G's samples.
            loss = tf.reduce_mean(model.generator_terms(batch, model.fakes(batch))["g_loss"])
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

    # Save/restore semantics do not depend on graph mode (tested in test_fit_logs_every_loss);
    # eager steps skip minutes of tracing for the deep models.
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

        # Seed-generator states (e.g. an LSTM cell's, for dropout it does not use) are not
        # training state: the data carries every random draw.
        def state(m):
            parts = m.variables + m.d_optimizer.variables + m.g_optimizer.variables
            return [v for v in parts if "seed_generator" not in v.path]

        for a, b in zip(state(model), state(fresh), strict=True):
            np.testing.assert_array_equal(a, b, err_msg=a.path)

    def test_two_replicas_train_like_one_device(self, two_cpus):
        """One eager step of the global batch on two replicas makes the updates and logs
        the losses of one device (tests/test_distribute.py checks graph mode). Plain SGD
        makes each update the gradient itself: Adam's first step is +-rate wherever a
        gradient is rounding noise (a conv bias before batch norm), so it would compare
        the noise's signs, not the replicas' arithmetic."""
        runs = []
        for strategy in (
            tf.distribute.OneDeviceStrategy(two_cpus[0]),
            mirrored_strategy(two_cpus),
        ):
            keras.utils.set_random_seed(0)  # the same initial weights for both
            with strategy.scope():
                model = self.build()
                model.compile(
                    d_optimizer=keras.optimizers.SGD(0.01),
                    g_optimizer=keras.optimizers.SGD(0.01),
                    **self.compile_kwargs,
                )
            model.run_eagerly = True
            before = [v.numpy().copy() for v in model.trainable_variables]
            logs = model.fit(self.dataset(model, steps=1), verbose=0, shuffle=False).history
            after = [v.numpy() for v in model.trainable_variables]
            runs.append((model, [b - a for a, b in zip(before, after)], logs))
        (one, one_updates, one_logs), (two, two_updates, two_logs) = runs
        assert two.distribute_strategy.num_replicas_in_sync == 2
        for variable, a, b in zip(one.trainable_variables, one_updates, two_updates):
            # Updates of 1e-9 are a gradient of rounding noise (before a batch norm).
            atol = max(1e-3 * float(np.abs(a).max()), 1e-6)
            np.testing.assert_allclose(b, a, rtol=1e-3, atol=atol, err_msg=variable.path)
        for key in one.loss_names:
            np.testing.assert_allclose(one_logs[key], two_logs[key], rtol=1e-4, atol=1e-6)


class ReferenceGlyphContract(GANContract):
    """The contract for glyph models conditioned on reference images: fixed random
    references are filled in after construction."""

    def build(self, **overrides):
        model = super().build(**overrides)
        size, channels = model.image_shape[0], model.image_shape[2]
        shape = (model.num_classes, size, size, channels)
        model.set_reference_images(np.random.default_rng(1).integers(0, 256, shape, np.uint8))
        return model
