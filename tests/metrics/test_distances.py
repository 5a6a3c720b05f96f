import numpy as np
import pytest
import scipy.linalg

from keras_gan.metrics import frechet_distance
from keras_gan.metrics import frechet_distance_from_stats
from keras_gan.metrics import inception_score
from keras_gan.metrics import kernel_distance
from keras_gan.metrics import precision_recall

RNG = np.random.default_rng(0)
ACTS = RNG.normal(size=(400, 16))


def scipy_fid(a, b):
    """The textbook formula with scipy's general matrix square root."""
    mu_a, mu_b = a.mean(0), b.mean(0)
    s_a, s_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    root = scipy.linalg.sqrtm(s_a @ s_b).real
    return float(np.sum((mu_a - mu_b) ** 2) + np.trace(s_a + s_b - 2 * root))


def test_fid_of_a_set_with_itself_is_zero():
    assert frechet_distance(ACTS, ACTS) == pytest.approx(0.0, abs=1e-8)


def test_fid_of_a_pure_mean_shift_is_its_squared_norm():
    shift = RNG.normal(size=16)
    assert frechet_distance(ACTS, ACTS + shift) == pytest.approx(np.sum(shift**2), rel=1e-9)


def test_fid_matches_the_closed_form_for_gaussians():
    mu_a, mu_b = np.zeros(3), np.array([1.0, 2.0, 0.0])
    var_a, var_b = np.array([1.0, 4.0, 9.0]), np.array([4.0, 1.0, 9.0])
    expected = 5.0 + np.sum(var_a + var_b - 2 * np.sqrt(var_a * var_b))  # = 5 + 1 + 1 + 0
    got = frechet_distance_from_stats(mu_a, np.diag(var_a), mu_b, np.diag(var_b))
    assert got == pytest.approx(expected, rel=1e-12) and expected == 7.0
    # A rotation of both covariances changes nothing.
    q, _ = np.linalg.qr(RNG.normal(size=(3, 3)))
    rotated = frechet_distance_from_stats(
        q @ mu_a, q @ np.diag(var_a) @ q.T, q @ mu_b, q @ np.diag(var_b) @ q.T
    )
    assert rotated == pytest.approx(7.0, rel=1e-9)


@pytest.mark.parametrize("samples, features", [(300, 8), (40, 64)])
def test_fid_agrees_with_scipy_including_fewer_samples_than_features(samples, features):
    a = RNG.normal(size=(samples, features))
    b = RNG.normal(loc=0.3, scale=1.5, size=(samples, features))
    assert frechet_distance(a, b) == pytest.approx(scipy_fid(a, b), rel=1e-6)


def test_kid_is_near_zero_for_one_distribution_and_positive_for_two():
    a, b = RNG.normal(size=(600, 16)), RNG.normal(size=(600, 16))
    same_mean, same_std = kernel_distance(a, b, num_subsets=20, subset_size=200)
    assert abs(same_mean) < 3 * same_std + 1e-3
    shifted_mean, shifted_std = kernel_distance(a, b + 1.0, num_subsets=20, subset_size=200)
    assert shifted_mean > 10 * shifted_std and shifted_mean > 0.1


def test_kid_unbiased_estimate_by_hand():
    x, y = np.array([[0.0], [1.0]]), np.array([[2.0], [3.0]])
    k = lambda u, v: (u * v + 1) ** 3  # noqa: E731  (d = 1)
    # sum over i != j of k(x_i, x_j) / (m (m - 1)), same for y, minus 2 mean k(x, y); m = 2
    cross = sum(k(u, v) for u in (0, 1) for v in (2, 3))
    expected = (2 * k(0, 1) + 2 * k(2, 3)) / (2 * 1) - 2 * cross / 4
    mean, std = kernel_distance(x, y, num_subsets=1, subset_size=2)
    assert mean == pytest.approx(expected) and std == 0.0


def test_inception_score_bounds():
    assert inception_score(np.full((100, 10), 0.1), splits=5)[0] == pytest.approx(1.0)
    confident = np.eye(10)[np.arange(100) % 10]
    assert inception_score(confident, splits=5)[0] == pytest.approx(10.0)
    with pytest.raises(ValueError, match="rows of class probabilities"):
        inception_score(np.full((10, 4), 0.5))


def test_precision_recall_of_identical_sets_is_one():
    scores = precision_recall(ACTS, ACTS, k=3)
    assert scores["precision"] == scores["recall"] == scores["coverage"] == 1.0
    far = precision_recall(ACTS, ACTS + 100.0, k=3)
    assert far["precision"] == far["recall"] == far["density"] == far["coverage"] == 0.0


@pytest.mark.parametrize(
    "a, b, message",
    [
        (np.zeros((0, 4)), np.zeros((5, 4)), "acts_a needs at least 2 samples, got 0"),
        (np.zeros((5, 4)), np.zeros((5, 3)), "different feature sizes \\(4 vs 3\\)"),
        (np.zeros(5), np.zeros((5, 3)), "must be 2-D"),
        (np.full((5, 2), np.nan), np.zeros((5, 2)), "contains NaN or Inf"),
    ],
)
def test_bad_inputs_are_clear_errors(a, b, message):
    for metric in (frechet_distance, kernel_distance):
        with pytest.raises(ValueError, match=message):
            metric(a, b)


def reference_precision_recall(real, fake, k):
    """The definitions, on full distance matrices (scipy)."""
    from scipy.spatial.distance import cdist

    real_radii = np.sort(cdist(real, real), axis=1)[:, k]
    fake_radii = np.sort(cdist(fake, fake), axis=1)[:, k]
    fake_to_real = cdist(fake, real)
    inside = fake_to_real <= real_radii[None]
    return {
        "precision": inside.any(axis=1).mean(),
        "recall": (fake_to_real.T <= fake_radii[None]).any(axis=1).mean(),
        "density": inside.sum() / (k * len(fake)),
        "coverage": (fake_to_real.min(axis=0) <= real_radii).mean(),
    }


@pytest.mark.parametrize("block_bytes", [8 * 300 * 3, None])  # 3 rows a block; the default
def test_precision_recall_in_blocks_equals_the_full_matrices(monkeypatch, block_bytes):
    from keras_gan.metrics import distances

    if block_bytes:
        monkeypatch.setattr(distances, "BLOCK_BYTES", block_bytes)
    rng = np.random.default_rng(3)
    real = rng.normal(size=(300, 16))
    fake = rng.normal(0.3, 1.2, size=(250, 16))
    for k in (1, 3, 5):
        got = precision_recall(real, fake, k=k)
        want = reference_precision_recall(real, fake, k)
        assert got == pytest.approx(want, abs=1e-12), k
        assert 0 < got["precision"] < 1 and 0 < got["recall"] < 1


@pytest.mark.slow
def test_precision_recall_of_50k_samples_stays_under_2_gb():
    import tracemalloc

    rng = np.random.default_rng(0)
    real = rng.normal(size=(50_000, 64)).astype(np.float32)
    fake = rng.normal(size=(50_000, 64)).astype(np.float32)
    tracemalloc.start()
    scores = precision_recall(real, fake, k=3)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 2 << 30, f"peak {peak / 2**30:.2f} GB"
    assert 0.5 < scores["precision"] <= 1
