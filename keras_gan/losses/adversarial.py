"""Generator/discriminator loss pairs (TF-GAN's naming grammar).

Every method returns a **per-example** loss of shape `(batch,)` (logits of any
shape are averaged over their non-batch axes). Reducing over the *global* batch,
which differs from the replica batch under `tf.distribute`, is the model's job.
Relativistic losses (`relativistic = True`) judge fakes against reals, so the
generator's loss reads D's logits of the real batch too.
"""

from __future__ import annotations

from keras import ops

from keras_gan.registry import LOSSES


def _per_example(x):
    x = ops.convert_to_tensor(x, "float32")
    return ops.mean(ops.reshape(x, (ops.shape(x)[0], -1)), axis=1)


def _logits(x):
    return ops.convert_to_tensor(x, "float32")


class AdversarialLoss:
    """A generator loss and a discriminator loss over discriminator logits."""

    name = "base"
    relativistic = False  # the generator's loss needs `real_logits`

    def generator_loss(self, fake_logits, real_logits=None):
        raise NotImplementedError

    def discriminator_loss(self, real_logits, fake_logits):
        raise NotImplementedError


@LOSSES.register("non_saturating")
class NonSaturating(AdversarialLoss):
    """Goodfellow et al. 2014, with the non-saturating G loss `-log D(G(z))`.

    Example:
    >>> float(NonSaturating().generator_loss([[0.0]])[0])  # log 2
    0.6931471824645996
    """

    name = "non_saturating"

    def generator_loss(self, fake_logits, real_logits=None):
        return _per_example(ops.softplus(-ops.convert_to_tensor(fake_logits, "float32")))

    def discriminator_loss(self, real_logits, fake_logits):
        real = ops.softplus(-ops.convert_to_tensor(real_logits, "float32"))
        fake = ops.softplus(ops.convert_to_tensor(fake_logits, "float32"))
        return _per_example(real) + _per_example(fake)


@LOSSES.register("minimax")
class Minimax(NonSaturating):
    """The original minimax game (Goodfellow et al. 2014): G minimises `log(1 - D(G(z)))`.

    Its gradient vanishes when D is confident, which is why `non_saturating` is the
    default; kept for comparison with the literature.
    """

    name = "minimax"

    def generator_loss(self, fake_logits, real_logits=None):
        return -_per_example(ops.softplus(ops.convert_to_tensor(fake_logits, "float32")))


@LOSSES.register("least_squares")
class LeastSquares(AdversarialLoss):
    """LSGAN (Mao et al. 2017) with targets real=1, fake=0, both halves weighted 1/2."""

    name = "least_squares"

    def generator_loss(self, fake_logits, real_logits=None):
        return 0.5 * _per_example(ops.square(ops.convert_to_tensor(fake_logits, "float32") - 1.0))

    def discriminator_loss(self, real_logits, fake_logits):
        real = ops.square(ops.convert_to_tensor(real_logits, "float32") - 1.0)
        fake = ops.square(ops.convert_to_tensor(fake_logits, "float32"))
        return 0.5 * (_per_example(real) + _per_example(fake))


@LOSSES.register("hinge")
class Hinge(AdversarialLoss):
    """Hinge loss (Lim & Ye 2017; SNGAN, BigGAN)."""

    name = "hinge"

    def generator_loss(self, fake_logits, real_logits=None):
        return -_per_example(fake_logits)

    def discriminator_loss(self, real_logits, fake_logits):
        real = ops.relu(1.0 - ops.convert_to_tensor(real_logits, "float32"))
        fake = ops.relu(1.0 + ops.convert_to_tensor(fake_logits, "float32"))
        return _per_example(real) + _per_example(fake)


@LOSSES.register("wasserstein")
class Wasserstein(AdversarialLoss):
    """WGAN critic loss (Arjovsky et al. 2017); pair it with a Lipschitz constraint."""

    name = "wasserstein"

    def generator_loss(self, fake_logits, real_logits=None):
        return -_per_example(fake_logits)

    def discriminator_loss(self, real_logits, fake_logits):
        return _per_example(fake_logits) - _per_example(real_logits)


@LOSSES.register("relativistic")
class Relativistic(AdversarialLoss):
    """Relativistic standard GAN (RSGAN, Jolicoeur-Martineau 2019): D learns that a real
    example is more realistic than a fake one, `-log sigmoid(C(real) - C(fake))`, pairing
    the i-th real with the i-th fake; G learns the reverse.

    Example:
    >>> float(Relativistic().generator_loss([[0.0]], [[0.0]])[0])  # log 2
    0.6931471824645996
    """

    name = "relativistic"
    relativistic = True

    def generator_loss(self, fake_logits, real_logits=None):
        return _per_example(ops.softplus(_logits(real_logits) - _logits(fake_logits)))

    def discriminator_loss(self, real_logits, fake_logits):
        return _per_example(ops.softplus(_logits(fake_logits) - _logits(real_logits)))


@LOSSES.register("relativistic_average")
class RelativisticAverage(AdversarialLoss):
    """Relativistic average GAN (RaGAN, Jolicoeur-Martineau 2019): each logit is judged
    against the mean logit of the other kind over the batch (under `tf.distribute`, the
    replica's batch): D minimises `-log sigmoid(C(real) - mean C(fake)) - log(1 -
    sigmoid(C(fake) - mean C(real)))`, G the same with real and fake swapped."""

    name = "relativistic_average"
    relativistic = True

    def generator_loss(self, fake_logits, real_logits=None):
        return self.discriminator_loss(fake_logits, real_logits)

    def discriminator_loss(self, real_logits, fake_logits):
        real, fake = _logits(real_logits), _logits(fake_logits)
        mean_real = ops.mean(real, axis=0, keepdims=True)
        mean_fake = ops.mean(fake, axis=0, keepdims=True)
        return _per_example(ops.softplus(mean_fake - real)) + _per_example(
            ops.softplus(fake - mean_real)
        )


def get(identifier) -> AdversarialLoss:
    """A loss instance from a registered name or an `AdversarialLoss`."""
    if isinstance(identifier, AdversarialLoss):
        return identifier
    return LOSSES.get(identifier)()
