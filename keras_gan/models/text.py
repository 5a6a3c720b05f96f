"""Character-sequence models: a GAN sees a line as one-hot rows `(length, vocab)`.

- `text_wgan_gp` (Gulrajani et al. 2017, section 5.2): G maps z to a softmax over the
  vocabulary at every position through a 1-D convolutional ResNet; the critic reads
  one-hot real lines and G's softmax rows with the same kind of ResNet; Wasserstein
  loss with gradient penalty 10, 10 critic steps, Adam 1e-4 (0.5, 0.9).
- `text_relgan` (Nie et al. 2019, with an LSTM): Gumbel-softmax outputs fed back step
  by step, relativistic loss, optional maximum-likelihood pre-training.
- `text_mle` (`keras_gan.models.text_mle`): the maximum-likelihood baseline.

Every model samples `tokens(z, temperature)`: ids `(batch, length)`. Temperature 0
takes the most likely character; otherwise characters are drawn from the softmax of
logits / temperature, with Gumbel noise that is a function of z (so a seed gives the
same line every time, in Python and in the exported SavedModel).
"""

from __future__ import annotations

import keras
import tensorflow as tf
from keras import layers
from keras import ops

from keras_gan.models.base import GAN
from keras_gan.models.step import Batch
from keras_gan.registry import MODELS


def residual_block(x, width, name):
    """Gulrajani et al.'s block: x + 0.3 * conv(relu(conv(relu(x)))), kernel 5."""
    h = layers.ReLU()(x)
    h = layers.Conv1D(width, 5, padding="same", name=f"{name}_conv1")(h)
    h = layers.ReLU()(h)
    h = layers.Conv1D(width, 5, padding="same", name=f"{name}_conv2")(h)
    return layers.Add()([x, layers.Rescaling(0.3)(h)])


def text_generator(latent_dim, length, vocab_size, width, blocks):
    z = keras.Input((latent_dim,), name="z")
    x = layers.Dense(length * width, name="project")(z)
    x = layers.Reshape((length, width))(x)
    for i in range(blocks):
        x = residual_block(x, width, f"block{i}")
    logits = layers.Conv1D(vocab_size, 1, name="to_vocab")(x)
    return keras.Model(z, layers.Softmax(name="characters")(logits), name="generator")


def text_critic(length, vocab_size, width, blocks):
    rows = keras.Input((length, vocab_size), name="characters")
    x = layers.Conv1D(width, 1, name="from_vocab")(rows)
    for i in range(blocks):
        x = residual_block(x, width, f"block{i}")
    score = layers.Dense(1, name="score")(layers.Flatten()(x))
    return keras.Model(rows, score, name="discriminator")


def draw(logits, noise, temperature):
    """Ids from `logits` (batch, length, vocab): the most likely at temperature 0, else the
    Gumbel-max of logits / temperature with uniforms `noise` (batch, length, vocab).
    `temperature` may be a tensor (the exported signature takes it as an input)."""
    temperature = ops.convert_to_tensor(temperature, "float32")
    gumbel = -ops.log(-ops.log(ops.clip(noise, 1e-7, 1 - 1e-7)))
    drawn = ops.argmax(logits / ops.maximum(temperature, 1e-6) + gumbel, axis=-1)
    return ops.cast(ops.where(temperature > 0, drawn, ops.argmax(logits, axis=-1)), "int32")


def line_nll(tokens, logits):
    """Per-line NLL in nats per character of `tokens` (batch, length) under `logits`
    (batch, length, vocab), counting up to and including the first end of line."""
    per_char = keras.losses.sparse_categorical_crossentropy(tokens, logits, from_logits=True)
    ended = ops.cumsum(ops.cast(ops.equal(tokens, 0), "int32"), axis=1)
    counted = ops.logical_or(ended == 0, ops.logical_and(ended == 1, tokens == 0))
    mask = ops.cast(counted, "float32")
    return ops.sum(per_char * mask, axis=1) / ops.maximum(ops.sum(mask, axis=1), 1.0)


class TextModel:
    """What every text model shares: the vocabulary and seeded sampling."""

    modality = "text"
    measures_diversity = False  # lines, not images

    def set_text_shape(self, vocab_size, length) -> None:
        """Sets `vocab_size` (characters, the end of line included) and `length`."""
        if int(vocab_size) < 2 or int(length) < 1:
            raise ValueError(
                "a text model needs vocab_size >= 2 (the end of line and a character) and "
                f"length >= 1, got vocab_size={vocab_size}, length={length}"
            )
        self.vocab_size, self.length = int(vocab_size), int(length)

    def export_labels(self, info: dict) -> list[str] | None:
        """A text export spells its lines with the run's character vocabulary."""
        return info.get("vocab")

    def check_outputs(self, export: bool, evaluate: bool) -> None:
        if evaluate:
            raise ValueError(
                "is a text model: train.eval_every scores images; score it after training "
                "with kgan evaluate (BLEU, Self-BLEU, n-gram JSD, NLL)"
            )

    def prepare(self, data) -> None:
        if getattr(data, "vocab", None) is None:
            raise ValueError(f"{type(self).__name__} trains on text: use --dataset text:PATH")
        if (len(data.vocab), data.length) != (self.vocab_size, self.length):
            raise ValueError(
                f"the data has {len(data.vocab)} characters and lines of {data.length}; the "
                f"model takes {self.vocab_size} and {self.length}"
            )

    def unpack(self, data) -> Batch:
        """The `Batch` of a batch of token ids: one-hot lines are the real images."""
        return Batch(ops.one_hot(data["tokens"], self.vocab_size), None, data["noise"])

    def sample(self, z, temperature=0.0):
        """`tokens(z, temperature)` as one compiled graph (sampling a line is a loop)."""
        if getattr(self, "_compiled_tokens", None) is None:
            self._compiled_tokens = tf.function(self.tokens, reduce_retracing=True)
        z = tf.convert_to_tensor(z, tf.float32)
        return self._compiled_tokens(z, tf.constant(temperature, tf.float32))

    def sampling_noise(self, z):
        """Uniforms (batch, length, vocab), a pure function of z: for each example a
        stateless stream keyed by the bits of its first two z values (exact bits: a
        function of them could differ by an ulp between eager and graph code)."""
        key = tf.bitcast(ops.convert_to_tensor(z, "float32")[:, :2], tf.int32)
        shape = (self.length, self.vocab_size)
        return tf.map_fn(
            lambda k: tf.random.stateless_uniform(shape, seed=k),
            key,
            fn_output_signature=tf.float32,
        )


@MODELS.register("text_wgan_gp")
@keras.saving.register_keras_serializable("keras_gan")
class TextWGANGP(TextModel, GAN):
    """Character-level WGAN-GP.

    Args:
        vocab_size: characters, including the end of line (from the data).
        length: characters per line (from the data).
        latent_dim: size of z.
        width: channels of the residual blocks (the paper: 512).
        blocks: residual blocks in G and in the critic (the paper: 5).
        seed: seeds noise drawn when the data carries none.
    """

    default_loss = "wasserstein"
    default_compile = {"gradient_penalty": 10.0, "n_critic": 10}
    default_adam = {"learning_rate": 1e-4, "beta_1": 0.5, "beta_2": 0.9}

    def __init__(
        self, vocab_size, length, latent_dim=128, width=128, blocks=5, seed=None, **kwargs
    ):
        self.set_text_shape(vocab_size, length)
        self.width, self.blocks = width, blocks
        super().__init__(
            generator=text_generator(latent_dim, self.length, self.vocab_size, width, blocks),
            discriminator=text_critic(self.length, self.vocab_size, width, blocks),
            latent_dim=latent_dim,
            seed=seed,
            **kwargs,
        )

    def tokens(self, z, temperature=0.0):
        probabilities = self.generate(z, training=False)
        logits = ops.log(ops.maximum(probabilities, 1e-12))
        return draw(logits, self.sampling_noise(z), temperature)


@keras.saving.register_keras_serializable("keras_gan")
class GumbelLSTMGenerator(keras.Model):
    """RelGAN's generator with an LSTM: z sets the initial state; each step emits
    softmax(beta * (logits + Gumbel noise)) over the vocabulary and feeds that soft
    one-hot (through the embedding) to the next step, so D's gradient reaches G.

    Called on `[z, noise, beta]` -> soft one-hot rows (batch, length, vocab); `hard`
    draws ids the same way with argmax (at inverse temperature 1 / temperature).
    """

    def __init__(self, latent_dim, length, vocab_size, units=256, embedding_dim=64, **kwargs):
        super().__init__(**kwargs)
        self.latent_dim, self.length, self.vocab_size = latent_dim, length, vocab_size
        self.units, self.embedding_dim = units, embedding_dim
        self.initial = layers.Dense(2 * units, activation="tanh", name="initial_state")
        self.embedding = layers.Dense(embedding_dim, use_bias=False, name="embedding")
        self.cell = layers.LSTMCell(units, name="lstm")
        self.next = layers.Dense(vocab_size, name="next")
        self.build(None)

    def build(self, input_shape):
        self.initial.build((None, self.latent_dim))
        self.embedding.build((None, self.vocab_size))
        self.cell.build((None, self.embedding_dim))
        self.next.build((None, self.units))
        self.built = True

    def _steps(self, z, choose):
        """Runs the LSTM for `length` steps; `choose(t, logits)` -> (the row fed to the
        next step, the row emitted at t). Returns the emitted rows (batch, length, -1)."""
        state = ops.split(self.initial(z), 2, axis=-1)
        row = ops.zeros((ops.shape(z)[0], self.vocab_size))
        emitted = []
        for t in range(self.length):
            out, state = self.cell(self.embedding(row), state)
            row, output = choose(t, self.next(out))
            emitted.append(output)
        return ops.stack(emitted, axis=1)

    def call(self, inputs, training=False):
        z, noise, beta = inputs
        gumbel = -ops.log(-ops.log(ops.clip(noise, 1e-7, 1 - 1e-7)))

        def choose(t, logits):
            soft = ops.softmax(beta * (logits + gumbel[:, t]))
            return soft, soft

        return self._steps(z, choose)

    def hard(self, z, noise, temperature):
        def choose(t, logits):
            ids = draw(logits[:, None], noise[:, t : t + 1], temperature)[:, 0]
            row = ops.one_hot(ids, self.vocab_size)
            return row, row

        return ops.cast(ops.argmax(self._steps(z, choose), axis=-1), "int32")

    def teacher_forced(self, z, rows):
        """Logits of each next character when the true previous ones (one-hot `rows`)
        are fed back: the maximum-likelihood view of the same network."""
        return self._steps(z, lambda t, logits: (rows[:, t], logits))

    def get_config(self):
        return {
            **super().get_config(),
            **{
                k: getattr(self, k)
                for k in ("latent_dim", "length", "vocab_size", "units", "embedding_dim")
            },
        }


def relgan_discriminator(length, vocab_size, embedding_dim, filters):
    """RelGAN's CNN discriminator (one representation): the one-hot rows embedded,
    convolutions of widths 2..5 max-pooled over time, a highway-free linear score."""
    rows = keras.Input((length, vocab_size), name="characters")
    x = layers.Dense(embedding_dim, use_bias=False, name="embedding")(rows)
    pooled = [
        layers.GlobalMaxPooling1D()(layers.Conv1D(filters, k, activation="relu")(x))
        for k in (2, 3, 4, 5)
    ]
    score = layers.Dense(1, name="score")(layers.Concatenate()(pooled))
    return keras.Model(rows, score, name="discriminator")


@MODELS.register("text_relgan")
@keras.saving.register_keras_serializable("keras_gan")
class TextRelGAN(TextModel, GAN):
    """RelGAN (Nie et al. 2019) with an LSTM generator: Gumbel-softmax outputs whose
    inverse temperature beta grows from 1 to `beta_max` over `anneal_steps` generator
    steps (exponentially, the paper's best schedule), and the relativistic standard
    loss: D learns sigmoid(D(real) - D(fake)), G the reverse. As in the paper, G can
    first be pre-trained by maximum likelihood (teacher forcing) for `pretrain_steps`
    steps: its loss is then the NLL in nats per character (logged as `g_loss`), the
    annealing starts after them, and D already trains on G's samples meanwhile. G keeps
    one optimizer for both phases (an optimizer chosen inside the step would be a
    synchronisation point in control flow, which tf.distribute refuses), so
    pre-training runs at G's learning rate. Left out: the relational memory (an LSTM
    instead).

    Args:
        vocab_size, length: from the data.
        latent_dim: size of z (the generator's initial state).
        units, embedding_dim: generator LSTM and embeddings.
        filters: discriminator filters per convolution width.
        beta_max, anneal_steps: the temperature schedule.
        pretrain_steps: generator steps of maximum-likelihood pre-training first.
    """

    default_loss = "relativistic"  # the paper's choice; any registered loss can replace it
    default_adam = {"learning_rate": 1e-4, "beta_1": 0.9, "beta_2": 0.999}

    def __init__(
        self,
        vocab_size,
        length,
        latent_dim=32,
        units=256,
        embedding_dim=64,
        filters=64,
        beta_max=100.0,
        anneal_steps=2000,
        pretrain_steps=0,
        seed=None,
        **kwargs,
    ):
        self.set_text_shape(vocab_size, length)
        self.units, self.embedding_dim, self.filters = units, embedding_dim, filters
        self.beta_max, self.anneal_steps = float(beta_max), int(anneal_steps)
        self.pretrain_steps = int(pretrain_steps)
        if self.pretrain_steps < 0 or self.anneal_steps < 1 or not self.beta_max >= 1:
            raise ValueError(
                f"needs pretrain_steps >= 0, anneal_steps >= 1 and beta_max >= 1; got "
                f"{pretrain_steps}, {anneal_steps} and {beta_max}"
            )
        super().__init__(
            generator=GumbelLSTMGenerator(
                latent_dim, self.length, self.vocab_size, units, embedding_dim
            ),
            discriminator=relgan_discriminator(
                self.length, self.vocab_size, embedding_dim, filters
            ),
            latent_dim=latent_dim,
            seed=seed,
            **kwargs,
        )

    def _check_shapes(self):
        pass  # the generator is a subclassed model (no symbolic output shape)

    def compile(self, *args, **kwargs):
        super().compile(*args, **kwargs)
        reg = self.regularization
        if reg.gradient_penalty or reg.r1_gamma or reg.r2_gamma or reg.n_critic != 1:
            raise ValueError("text_relgan takes no penalties and one critic step")
        if reg.augment or reg.ema_kimg:
            raise ValueError("text_relgan takes no augmentation or generator average")

    def beta(self):
        """beta_max ** (adversarial generator step / anneal_steps), capped at beta_max."""
        adversarial = ops.maximum(self.g_optimizer.iterations - self.pretrain_steps, 0)
        progress = ops.minimum(ops.cast(adversarial, "float32") / self.anneal_steps, 1.0)
        return ops.power(self.beta_max, progress)

    def generate(self, z, labels=None, training=False):
        return self.generator([z, self.sampling_noise(z), self.beta()], training=training)

    def tokens(self, z, temperature=0.0):
        return self.generator.hard(z, self.sampling_noise(z), temperature)

    def generator_terms(self, batch: Batch, fake) -> dict:
        """The relativistic G loss; while pre-training, the NLL of the real lines under
        teacher forcing instead (chosen in the graph; the update is the same)."""
        adversarial_terms = super().generator_terms
        if not self.pretrain_steps:
            return adversarial_terms(batch, fake)

        def likelihood():
            logits = self.generator.teacher_forced(batch.noise[:, 0], batch.images)
            return line_nll(ops.argmax(batch.images, axis=-1), logits)

        pretraining = self.g_optimizer.iterations < self.pretrain_steps
        adversarial = lambda: adversarial_terms(batch, fake)["g_loss"]  # noqa: E731
        return {"g_loss": tf.cond(pretraining, likelihood, adversarial)}
