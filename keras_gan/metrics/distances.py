"""FID, KID, IS and precision/recall/density/coverage from activations.

Everything is computed in float64. Inputs are `(num_samples, num_features)` arrays
of features from one extractor (or `(num_samples, num_classes)` probabilities for
the Inception Score); which extractor and preprocessing produced them is the
caller's protocol to state.
"""

from __future__ import annotations

import numpy as np


def _activations(name: str, values, min_samples: int = 1) -> np.ndarray:
    array = np.asarray(values, dtype=np.float64)
    if array.ndim != 2:
        raise ValueError(f"{name} must be 2-D (samples, features), got shape {array.shape}")
    if array.shape[0] < min_samples:
        raise ValueError(f"{name} needs at least {min_samples} samples, got {array.shape[0]}")
    if array.shape[1] == 0:
        raise ValueError(f"{name} has no features (shape {array.shape})")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} contains NaN or Inf")
    return array


def _pair(acts_a, acts_b, min_samples: int) -> tuple[np.ndarray, np.ndarray]:
    a = _activations("acts_a", acts_a, min_samples)
    b = _activations("acts_b", acts_b, min_samples)
    if a.shape[1] != b.shape[1]:
        raise ValueError(
            f"acts_a and acts_b have different feature sizes ({a.shape[1]} vs {b.shape[1]}): "
            "they must come from the same extractor"
        )
    return a, b


def _psd_sqrt(matrix: np.ndarray) -> np.ndarray:
    """Square root of a symmetric positive semi-definite matrix (tiny negative
    eigenvalues from rounding are clipped to 0)."""
    values, vectors = np.linalg.eigh((matrix + matrix.T) / 2)
    return (vectors * np.sqrt(np.clip(values, 0.0, None))) @ vectors.T


def frechet_distance_from_stats(mu_a, sigma_a, mu_b, sigma_b) -> float:
    """||mu_a - mu_b||^2 + Tr(S_a + S_b - 2 (S_a^1/2 S_b S_a^1/2)^1/2).

    Tr((S_a S_b)^1/2) is taken as the sum of square roots of the eigenvalues of the
    symmetric PSD matrix S_a^1/2 S_b S_a^1/2, which equals it and stays real and
    stable when the covariances are singular (fewer samples than features).
    """
    mu_a, mu_b = np.asarray(mu_a, np.float64), np.asarray(mu_b, np.float64)
    sigma_a, sigma_b = np.asarray(sigma_a, np.float64), np.asarray(sigma_b, np.float64)
    root_a = _psd_sqrt(sigma_a)
    middle = root_a @ sigma_b @ root_a
    eigenvalues = np.linalg.eigvalsh((middle + middle.T) / 2)
    trace_sqrt = np.sqrt(np.clip(eigenvalues, 0.0, None)).sum()
    distance = np.sum((mu_a - mu_b) ** 2) + np.trace(sigma_a) + np.trace(sigma_b) - 2 * trace_sqrt
    return float(max(distance, 0.0))


def statistics(acts) -> tuple[np.ndarray, np.ndarray]:
    """(mean, covariance) of activations, as FID uses them (covariance with N-1)."""
    array = _activations("acts", acts, min_samples=2)
    return array.mean(axis=0), np.cov(array, rowvar=False).reshape(array.shape[1], -1)


def frechet_distance(acts_a, acts_b) -> float:
    """Fréchet distance between Gaussians fitted to two sets of activations (FID).

    Example:
    >>> a = np.random.default_rng(0).normal(size=(500, 8))
    >>> round(frechet_distance(a, a + 2.0), 6)  # a pure mean shift: ||2||^2 * 8
    32.0
    """
    a, b = _pair(acts_a, acts_b, min_samples=2)
    return frechet_distance_from_stats(*statistics(a), *statistics(b))


def kernel_distance(
    acts_a,
    acts_b,
    num_subsets: int = 100,
    subset_size: int = 1000,
    seed: int = 0,
) -> tuple[float, float]:
    """KID (Bińkowski et al. 2018): unbiased MMD^2 with the cubic polynomial kernel
    k(x, y) = (x.y / d + 1)^3, averaged over random subsets.

    Returns (mean, standard deviation) over the subsets. `subset_size` shrinks to
    the smaller set's size.
    """
    a, b = _pair(acts_a, acts_b, min_samples=2)
    if num_subsets < 1:
        raise ValueError(f"num_subsets must be >= 1, got {num_subsets}")
    size = min(subset_size, len(a), len(b))
    rng = np.random.default_rng(seed)
    dim = a.shape[1]
    estimates = []
    for _ in range(num_subsets):
        x = a[rng.choice(len(a), size, replace=False)]
        y = b[rng.choice(len(b), size, replace=False)]
        k_xx = (x @ x.T / dim + 1) ** 3
        k_yy = (y @ y.T / dim + 1) ** 3
        k_xy = (x @ y.T / dim + 1) ** 3
        off_diagonal = (k_xx.sum() - np.trace(k_xx) + k_yy.sum() - np.trace(k_yy)) / (size - 1)
        estimates.append((off_diagonal - 2 * k_xy.sum() / size) / size)
    return float(np.mean(estimates)), float(np.std(estimates))


def inception_score(probs, splits: int = 10) -> tuple[float, float]:
    """exp(E_x KL(p(y|x) || p(y))) per split (Salimans et al. 2016): (mean, std).

    Uniform predictions score 1; confident predictions spread evenly over C
    classes score C.
    """
    p = _activations("probs", probs)
    if np.any(p < 0) or not np.allclose(p.sum(axis=1), 1.0, atol=1e-4):
        raise ValueError("probs must be rows of class probabilities (non-negative, summing to 1)")
    if not 1 <= splits <= len(p):
        raise ValueError(
            f"splits must be between 1 and the number of samples ({len(p)}), got {splits}"
        )
    scores = []
    for part in np.array_split(p, splits):
        marginal = part.mean(axis=0, keepdims=True)
        with np.errstate(divide="ignore", invalid="ignore"):
            kl = np.where(part > 0, part * (np.log(part) - np.log(marginal)), 0.0).sum(axis=1)
        scores.append(np.exp(kl.mean()))
    return float(np.mean(scores)), float(np.std(scores))


# Distances are computed a block of rows at a time, each block at most this many bytes
# (float64): precision/recall of 50,000 x 50,000 samples stays well under 2 GB.
BLOCK_BYTES = 1 << 28


def _distance_blocks(x: np.ndarray, y: np.ndarray):
    """(start, Euclidean distances of rows x[start:stop] to every row of y), in blocks
    of rows small enough for `BLOCK_BYTES`."""
    y_sq = (y**2).sum(axis=1)
    rows = max(1, BLOCK_BYTES // (8 * max(len(y), 1)))
    for start in range(0, len(x), rows):
        part = x[start : start + rows]
        sq = (part**2).sum(axis=1)[:, None] - 2 * part @ y.T + y_sq[None]
        yield start, np.sqrt(np.clip(sq, 0.0, None))


def _kth_neighbour_radii(x: np.ndarray, k: int) -> np.ndarray:
    """Each row's distance to its k-th nearest other row (itself is the 0th)."""
    radii = np.empty(len(x))
    for start, block in _distance_blocks(x, x):
        radii[start : start + len(block)] = np.partition(block, k, axis=1)[:, k]
    return radii


def precision_recall(acts_real, acts_fake, k: int = 3) -> dict[str, float]:
    """Improved precision and recall (Kynkäänniemi et al. 2019) with density and
    coverage (Naeem et al. 2020), from k-nearest-neighbour balls; memory bounded by
    `BLOCK_BYTES` (no N x N matrix).

    Returns a dict with `precision`, `recall`, `density` and `coverage`.
    """
    real, fake = _pair(acts_real, acts_fake, min_samples=k + 1)
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    real_radii, fake_radii = _kth_neighbour_radii(real, k), _kth_neighbour_radii(fake, k)
    in_real_balls = np.zeros(len(fake), np.int64)  # how many real balls hold each fake
    nearest_fake = np.full(len(real), np.inf)  # each real point's nearest fake
    for start, block in _distance_blocks(fake, real):
        in_real_balls[start : start + len(block)] = (block <= real_radii[None]).sum(axis=1)
        nearest_fake = np.minimum(nearest_fake, block.min(axis=0))
    recalled = np.zeros(len(real), bool)
    for start, block in _distance_blocks(real, fake):
        recalled[start : start + len(block)] = (block <= fake_radii[None]).any(axis=1)
    return {
        "precision": float((in_real_balls > 0).mean()),
        "recall": float(recalled.mean()),
        "density": float(in_real_balls.sum() / (k * len(fake))),
        "coverage": float((nearest_fake <= real_radii).mean()),
    }
