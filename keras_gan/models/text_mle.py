"""`text_mle`: the maximum-likelihood baseline of the text GANs, an LSTM language
model trained with teacher forcing and sampled one character at a time. It is not a
GAN: a small task class with one network, one optimizer and the text models' seeded
sampling (`keras_gan.models.text.TextModel`).
"""

from __future__ import annotations

import keras
import tensorflow as tf
from keras import layers
from keras import ops

from keras_gan.models.base import constructor_config
from keras_gan.models.step import gradient_step
from keras_gan.models.step import nan_unless_finite
from keras_gan.models.text import TextModel
from keras_gan.models.text import draw
from keras_gan.models.text import line_nll
from keras_gan.registry import MODELS


def language_model(length, vocab_size, embedding_dim, units):
    """Ids (batch, length) -> logits (batch, length, vocab) of each next character."""
    ids = keras.Input((length,), dtype="int32", name="ids")
    x = layers.Embedding(vocab_size, embedding_dim, name="embedding")(ids)
    x = layers.LSTM(units, return_sequences=True, name="lstm")(x)
    return keras.Model(ids, layers.Dense(vocab_size, name="next")(x), name="generator")


@MODELS.register("text_mle")
@keras.saving.register_keras_serializable("keras_gan")
class TextMLE(TextModel, keras.Model):
    """Maximum-likelihood baseline: an LSTM language model with teacher forcing.

    It has no discriminator; it trains, checkpoints, resumes, samples and exports
    through the same `kgan` commands as the GANs. The loss `nll` is nats per character
    (the end of line included, padding after it not).

    Args:
        vocab_size: characters, including the end of line (from the data).
        length: characters per line (from the data).
        units: LSTM width.
        embedding_dim: size of the character embedding.
        latent_dim: size of z, which only seeds sampling.
        seed: unused (the data carries the noise); kept for the common signature.
    """

    default_adam = {"learning_rate": 2e-3}
    # What the input pipeline asks of a model: one noise row (it seeds sampling), no labels.
    conditional = False
    noise_draws = 1

    def __init__(
        self, vocab_size, length, units=256, embedding_dim=64, latent_dim=8, seed=None, **kwargs
    ):
        super().__init__(**kwargs)
        self.set_text_shape(vocab_size, length)
        self.units, self.embedding_dim, self.latent_dim = units, embedding_dim, latent_dim
        self.seed = seed
        self.generator = language_model(self.length, self.vocab_size, embedding_dim, units)
        self.built = True

    sampling_generator = property(lambda self: self.generator)
    networks = property(lambda self: {"generator": self.generator})
    optimizers = property(lambda self: {"G": self.g_optimizer})

    def checkpointed(self) -> dict:
        return {"generator": self.generator, "g_optimizer": self.g_optimizer}

    def compile(self, loss="auto", jit_compile=False, **regularization):
        used = [k for k, v in {"loss": loss not in ("auto", None), **regularization}.items() if v]
        if used:
            raise ValueError(
                "text_mle is a language model: GAN losses and regularisers do not apply "
                f"(got {', '.join(used)})"
            )
        super().compile(optimizer=None, jit_compile=jit_compile)
        self.g_optimizer = keras.optimizers.Adam(**self.default_adam, name="g_adam")
        self.g_optimizer.build(self.generator.trainable_variables)
        self.nll_tracker = keras.metrics.Mean(name="nll")

    @property
    def metrics(self):
        return [self.nll_tracker]

    def nll(self, tokens):
        """Per-line NLL in nats per character under the model."""
        tokens = ops.convert_to_tensor(tokens, "int32")
        inputs = ops.pad(tokens[:, :-1], ((0, 0), (1, 0)))  # the end of line starts a line
        logits = self.generator(inputs, training=False)
        return line_nll(tokens, logits)

    def train_step(self, data):
        tokens = data["tokens"]
        inputs = ops.pad(tokens[:, :-1], ((0, 0), (1, 0)))
        with gradient_step(self.generator, self.g_optimizer) as step:
            nll = line_nll(tokens, self.generator(inputs, training=True))
            step.loss = nll
        self.nll_tracker.update_state(nan_unless_finite(nll, self.generator.trainable_variables))
        return {"nll": self.nll_tracker.result()}

    def tokens(self, z, temperature=0.0):
        """Lines drawn one character at a time (the LSTM re-reads the prefix), in one
        `tf.while_loop`: a graph traces the step once."""
        noise = self.sampling_noise(z)

        def step(t, ids):
            logits = self.generator(ops.pad(ids[:, :-1], ((0, 0), (1, 0))), training=False)
            at_t = tf.reshape(t, [1])
            chosen = draw(
                tf.gather(logits, at_t, axis=1), tf.gather(noise, at_t, axis=1), temperature
            )
            return t + 1, ids + chosen * tf.one_hot(t, self.length, dtype=tf.int32)[None]

        start = (tf.constant(0), tf.zeros((ops.shape(z)[0], self.length), tf.int32))
        return tf.while_loop(lambda t, ids: t < self.length, step, start)[1]

    def get_config(self):
        return constructor_config(self)
