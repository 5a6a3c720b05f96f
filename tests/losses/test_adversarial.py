import numpy as np
import pytest

from keras_gan import losses
from keras_gan.registry import LOSSES

REAL = np.array([[2.0], [-1.0]], np.float32)
FAKE = np.array([[0.5], [-3.0]], np.float32)

# Per-example (discriminator, generator) losses for REAL/FAKE, worked out by hand.
GOLDEN = {
    "non_saturating": ([1.1010050, 1.3618490], [0.4740770, 3.0485874]),
    "minimax": ([1.1010050, 1.3618490], [-0.9740770, -0.0485874]),
    "least_squares": ([0.625, 6.5], [0.125, 8.0]),
    "hinge": ([1.5, 2.0], [-0.5, 3.0]),
    "wasserstein": ([-1.5, -2.0], [-0.5, 3.0]),
    # softplus(fake - real) per pair; G: softplus(real - fake).
    "relativistic": ([0.2014133, 0.1269280], [1.7014133, 2.1269280]),
    # mean real 0.5, mean fake -1.25: D softplus(-1.25 - r) + softplus(f - 0.5),
    # G softplus(0.5 - f) + softplus(r + 1.25).
    "relativistic_average": ([0.7311885, 0.6056898], [3.9811885, 4.3556898]),
}


def test_every_registered_loss_has_golden_values():
    assert sorted(GOLDEN) == LOSSES.names()


@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_golden_values(name):
    loss = losses.get(name)
    d_golden, g_golden = GOLDEN[name]
    np.testing.assert_allclose(loss.discriminator_loss(REAL, FAKE), d_golden, rtol=1e-6, atol=1e-6)
    # Non-relativistic losses ignore the real logits.
    np.testing.assert_allclose(loss.generator_loss(FAKE, REAL), g_golden, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_patch_logits_average_per_example(name):
    loss = losses.get(name)

    def patches(logits):
        return np.stack([np.full((3, 3), v) for v in logits[:, 0]]).astype(np.float32)

    np.testing.assert_allclose(
        loss.generator_loss(patches(FAKE), patches(REAL)), GOLDEN[name][1], rtol=1e-6, atol=1e-6
    )


@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_discriminator_prefers_separated_logits(name):
    loss = losses.get(name)
    # real=1, fake=0 is on the right side for every loss (the optimum of least squares).
    confused = loss.discriminator_loss(np.zeros((4, 1)), np.zeros((4, 1)))
    separated = loss.discriminator_loss(np.ones((4, 1)), np.zeros((4, 1)))
    wrong = loss.discriminator_loss(np.zeros((4, 1)), np.ones((4, 1)))
    assert np.all(np.asarray(separated) < np.asarray(confused))
    assert np.all(np.asarray(confused) < np.asarray(wrong))
    # And the generator gains by raising its logits.
    real = np.zeros((4, 1))
    assert np.all(
        np.asarray(loss.generator_loss(np.full((4, 1), 2.0), real))
        < np.asarray(loss.generator_loss(np.full((4, 1), -2.0), real))
    )


def test_unknown_loss_lists_valid_names():
    with pytest.raises(
        KeyError, match="unknown loss 'bce'; valid names: hinge, least_squares, minimax"
    ):
        losses.get("bce")
