"""Lohmöller's PLS algorithm on moment matrices, for many samples at once.

Every quantity of a PLS path model is a function of the indicators' covariance (or
correlation) matrix: a construct score is a weighted sum of its items, so the scores'
correlations are ``W'CW``, the items' covariances with the scores ``CW``, and outer weights,
inner weights, loadings and paths follow from these small matrices. Working on ``C`` instead of
the raw data makes one fit independent of the sample size, and stacking the matrices of many
samples (bootstrap resamples, jackknife samples, cross-validation folds) estimates them all
with the same vectorised iterations. A sample that has converged is frozen, so each gets
exactly the weights it would get alone.

References
----------
Lohmöller, J.-B. (1989). *Latent variable path modeling with partial least squares*.
Physica-Verlag.

Tenenhaus, M., Esposito Vinzi, V., Chatelin, Y.-M., & Lauro, C. (2005). PLS path modeling.
*Computational Statistics & Data Analysis*, 48(1), 159-205.

Dijkstra, T. K., & Henseler, J. (2015). Consistent partial least squares path modeling.
*MIS Quarterly*, 39(2), 297-316.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from analysis.pls.specification import PlsModel

__all__ = ["SCHEMES", "Estimates", "Layout", "estimate", "moments"]

Scheme = Literal["centroid", "factorial", "path"]
SCHEMES: tuple[str, ...] = ("centroid", "factorial", "path")


class Layout:
    """Index arrays of a model: which item belongs to which construct, which paths exist."""

    def __init__(self, model: PlsModel) -> None:
        self.model = model
        constructs = model.constructs
        position = {name: j for j, name in enumerate(constructs)}
        self.k = len(constructs)
        self.block = np.array(
            [position[b.construct] for b in model.blocks for _ in b.items], dtype=int
        )
        self.p = len(self.block)
        self.member = np.zeros((self.p, self.k))
        self.member[np.arange(self.p), self.block] = 1.0
        self.items_of = [np.flatnonzero(self.block == j) for j in range(self.k)]
        self.mode_b = [j for j, b in enumerate(model.blocks) if b.mode == "B" and len(b.items) > 1]
        self.reflective = [
            j for j, b in enumerate(model.blocks) if b.mode == "A" and len(b.items) > 1
        ]
        self.adjacency = np.zeros((self.k, self.k))
        for a, b in model.paths:
            self.adjacency[position[a], position[b]] = 1.0
        self.neighbours = self.adjacency + self.adjacency.T
        self.predecessors = [np.flatnonzero(self.adjacency[:, j]) for j in range(self.k)]
        self.endogenous = [j for j in range(self.k) if len(self.predecessors[j])]
        self.path_index = tuple((position[a], position[b]) for a, b in model.paths)


@dataclass(frozen=True)
class Estimates:
    """A PLS solution for a stack of ``B`` samples (arrays lead with the sample axis).

    Attributes
    ----------
    weights : ndarray (B, p)
        Outer weights of the working items (standardized, or centred when unscaled) that give
        construct scores of unit variance.
    iterations : ndarray (B,)
        Iterations until the weights changed less than the tolerance.
    converged : ndarray (B,)
        Whether that happened within the iteration limit.
    cross_loadings : ndarray (B, p, k)
        Correlations of every item with every construct score.
    loadings : ndarray (B, p)
        Standardized loadings (consistent ones for reflective blocks under PLSc).
    rho_a : ndarray (B, k)
        Dijkstra-Henseler's rho_A (1 for single items and composites).
    correlation : ndarray (B, k, k)
        Construct correlations the paths are estimated from: the scores' correlations, or
        under PLSc those corrected for attenuation by rho_A.
    path_matrix : ndarray (B, k, k)
        Path coefficients, ``[from, to]``.
    r2 : ndarray (B, k)
        R-squared of every construct (0 for exogenous ones).
    total : ndarray (B, k, k)
        Total effects, ``[from, to]``.
    """

    weights: np.ndarray
    iterations: np.ndarray
    converged: np.ndarray
    cross_loadings: np.ndarray
    loadings: np.ndarray
    rho_a: np.ndarray
    correlation: np.ndarray
    path_matrix: np.ndarray
    r2: np.ndarray
    total: np.ndarray


def moments(values: np.ndarray, counts: np.ndarray | None = None) -> tuple[np.ndarray, ...]:
    """Means and covariance matrices (``n - 1`` denominator) of weighted copies of the rows.

    Parameters
    ----------
    values : ndarray (n, p)
        Complete data.
    counts : ndarray (B, n), optional
        How often each row enters each sample (bootstrap counts, jackknife 0/1 weights);
        the sample size is the row sum. Default: the data once.

    Returns
    -------
    mean : ndarray (B, p)
    covariance : ndarray (B, p, p)
    """
    values = np.asarray(values, dtype=float)
    # Centre on the full-sample mean first: sums of products of small numbers lose nothing.
    centred = values - values.mean(axis=0)
    if counts is None:
        covariance = centred.T @ centred / (len(values) - 1.0)
        return values.mean(axis=0)[None], covariance[None]
    p = centred.shape[1]
    size = counts.sum(axis=1)
    mean = counts @ centred / size[:, None]
    # One matrix product for every sample's cross-products (upper triangle: half the work).
    first, second = np.triu_indices(p)
    upper = counts @ (centred[:, first] * centred[:, second])
    upper -= size[:, None] * mean[:, first] * mean[:, second]
    upper /= (size - 1.0)[:, None]
    covariance = np.empty((len(counts), p, p))
    covariance[:, first, second] = upper
    covariance[:, second, first] = upper
    return mean + values.mean(axis=0), covariance


def estimate(
    covariance: np.ndarray,
    layout: Layout,
    *,
    scheme: Scheme = "path",
    scaled: bool = True,
    consistent: bool = False,
    tol: float = 1e-7,
    max_iter: int = 300,
) -> Estimates:
    """Estimate a PLS path model for each of a stack of covariance matrices.

    Parameters
    ----------
    covariance : ndarray (B, p, p)
        The items' covariance matrices, items in ``layout`` order.
    layout : Layout
        The model.
    scheme : {"centroid", "factorial", "path"}
        Inner weighting scheme.
    scaled : bool
        Standardize the items (otherwise they are only centred, plspm's ``scaled = FALSE``).
    consistent : bool
        Correct the reflective constructs' correlations and loadings for attenuation (PLSc).
    tol : float
        Stop when the outer weights (of standardized items) change by less than this in sum.
    max_iter : int
        Iteration limit.

    Returns
    -------
    Estimates
    """
    sd = np.sqrt(np.einsum("bii->bi", covariance))
    working = covariance / (sd[:, :, None] * sd[:, None, :]) if scaled else covariance
    weights, iterations, converged = _outer_weights(
        working, sd, layout, scheme=scheme, scaled=scaled, tol=tol, max_iter=max_iter
    )
    member = layout.member
    covariance_with_scores = _with_scores(working, weights, layout)
    scores_correlation = _symmetric(
        _block_sums(weights[:, :, None] * covariance_with_scores, layout)
    )
    item_sd = np.ones_like(sd) if scaled else sd
    cross = covariance_with_scores / item_sd[:, :, None]
    loadings = (cross * member).sum(axis=2)
    rho = rho_a(working, weights, layout)
    correlation = scores_correlation
    if consistent:
        reflective_rho = np.ones_like(rho)
        reflective_rho[:, layout.reflective] = rho[:, layout.reflective]
        root = np.sqrt(reflective_rho)
        correlation = scores_correlation / (root[:, :, None] * root[:, None, :])
        correlation[:, np.arange(layout.k), np.arange(layout.k)] = 1.0
        for j in layout.reflective:
            items = layout.items_of[j]
            w = weights[:, items]
            consistent_loading = w * (np.sqrt(rho[:, j]) / (w * w).sum(axis=1))[:, None]
            loadings[:, items] = consistent_loading / item_sd[:, items]
    path_matrix, r2 = regressions(correlation, layout)
    return Estimates(
        weights=weights,
        iterations=iterations,
        converged=converged,
        cross_loadings=cross,
        loadings=loadings,
        rho_a=rho,
        correlation=correlation,
        path_matrix=path_matrix,
        r2=r2,
        total=total_effects(path_matrix),
    )


def _outer_weights(
    working: np.ndarray,
    sd: np.ndarray,
    layout: Layout,
    *,
    scheme: Scheme,
    scaled: bool,
    tol: float,
    max_iter: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Iterate outer and inner estimation until the weights settle (unit weights to start)."""
    samples = len(working)
    weights = _normalize(working, np.ones((samples, layout.p)), layout)
    # The stop criterion is on the weights of standardized items, whatever the working scale.
    to_standard = np.ones_like(sd) if scaled else sd
    iterations = np.zeros(samples, dtype=int)
    converged = np.zeros(samples, dtype=bool)
    active = np.arange(samples)
    for iteration in range(1, max_iter + 1):
        everyone = len(active) == samples
        current = working if everyone else working[active]
        old = weights if everyone else weights[active]
        with_scores = _with_scores(current, old, layout)
        correlation = _block_sums(old[:, :, None] * with_scores, layout)
        inner = _inner_weights(correlation, layout, scheme)
        # Covariance of each item with its construct's inner proxy sum_m E[m, j] score_m.
        new = np.einsum("bim,bmi->bi", with_scores, inner[:, :, layout.block])
        for j in layout.mode_b:
            items = layout.items_of[j]
            block = current[:, items][:, :, items]
            new[:, items] = np.linalg.solve(block, new[:, items, None])[:, :, 0]
        new = _normalize(current, new, layout)
        scale = to_standard[active]
        change = np.abs((new - old) * scale).sum(axis=1)
        weights[active] = new
        iterations[active] = iteration
        settled = change < tol
        converged[active[settled]] = True
        active = active[~settled]
        if not len(active):
            break
    return weights, iterations, converged


def _normalize(working: np.ndarray, weights: np.ndarray, layout: Layout) -> np.ndarray:
    """Scale each block's weights so that its construct score has unit variance."""
    with_scores = _with_scores(working, weights, layout)
    own = (with_scores * layout.member).sum(axis=2)  # covariance of item with own score
    variance = (weights * own) @ layout.member
    return weights / np.sqrt(variance[:, layout.block])


def _with_scores(working: np.ndarray, weights: np.ndarray, layout: Layout) -> np.ndarray:
    """Covariances ``(B, p, k)`` of the items with the construct scores: ``C W``."""
    return working @ (weights[:, :, None] * layout.member)


def _block_sums(values: np.ndarray, layout: Layout) -> np.ndarray:
    """``member' @ values`` for each sample: sums of item rows per construct, ``(B, k, m)``."""
    return np.tensordot(layout.member, values, axes=([0], [1])).transpose(1, 0, 2)


def _inner_weights(correlation: np.ndarray, layout: Layout, scheme: Scheme) -> np.ndarray:
    """Inner weights ``E[i, j]``: how construct i enters construct j's inner proxy."""
    if scheme == "centroid":
        return np.sign(correlation) * layout.neighbours
    if scheme == "factorial":
        return correlation * layout.neighbours
    # Path weighting: successors by correlation, predecessors by regression weights.
    inner = correlation * layout.adjacency.T
    for j in layout.endogenous:
        before = layout.predecessors[j]
        predictors = correlation[:, before][:, :, before]
        inner[:, before, j] = _solve(predictors, correlation[:, before, j])
    return inner


def _solve(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.linalg.solve(a, b[:, :, None])[:, :, 0]


def _symmetric(matrix: np.ndarray) -> np.ndarray:
    return (matrix + matrix.transpose(0, 2, 1)) / 2.0


def rho_a(working: np.ndarray, weights: np.ndarray, layout: Layout) -> np.ndarray:
    """Dijkstra-Henseler's rho_A of every block (1 for single items and composites).

    ``(w'w)^2 * w'(S - diag S)w / w'(ww' - diag(ww'))w`` with the block's working covariance
    matrix ``S`` and its weights ``w`` (Dijkstra & Henseler, 2015, eq. 9).
    """
    rho = np.ones((len(weights), layout.k))
    for j in layout.reflective:
        items = layout.items_of[j]
        w = weights[:, items]
        block = working[:, items][:, :, items]
        off_diagonal = np.einsum("bi,bij,bj->b", w, block, w) - np.einsum(
            "bi,bii,bi->b", w, block, w
        )
        squared = (w * w).sum(axis=1)
        rho[:, j] = squared**2 * off_diagonal / (squared**2 - (w**4).sum(axis=1))
    return rho


def regressions(correlation: np.ndarray, layout: Layout) -> tuple[np.ndarray, np.ndarray]:
    """OLS path coefficients ``[from, to]`` and R-squared from construct correlations."""
    samples = len(correlation)
    paths = np.zeros((samples, layout.k, layout.k))
    r2 = np.zeros((samples, layout.k))
    for j in layout.endogenous:
        before = layout.predecessors[j]
        beta = _solve(correlation[:, before][:, :, before], correlation[:, before, j])
        paths[:, before, j] = beta
        r2[:, j] = (beta * correlation[:, before, j]).sum(axis=1)
    return paths, r2


def total_effects(path_matrix: np.ndarray) -> np.ndarray:
    """Direct plus indirect effects: ``B + B^2 + ...`` (finite: the model is recursive)."""
    total = path_matrix.copy()
    power = path_matrix
    for _ in range(path_matrix.shape[-1] - 1):
        power = power @ path_matrix
        if not power.any():
            break
        total += power
    return total


def correlations(covariance: np.ndarray) -> np.ndarray:
    sd = np.sqrt(np.einsum("bii->bi", covariance))
    return covariance / (sd[:, :, None] * sd[:, None, :])


def htmt(correlation: np.ndarray, layout: Layout, *, geometric: bool = False) -> np.ndarray:
    """Heterotrait-monotrait ratios ``(B, k, k)`` from item correlation matrices.

    Means of absolute correlations, arithmetic (Henseler, Ringle & Sarstedt, 2015) or, with
    ``geometric``, geometric (HTMT2; Roemer, Schuberth & Henseler, 2021); the monotrait mean
    of a single-item construct is 1, as in seminr.

    References
    ----------
    Henseler, J., Ringle, C. M., & Sarstedt, M. (2015). A new criterion for assessing
    discriminant validity in variance-based structural equation modeling. *Journal of the
    Academy of Marketing Science*, 43(1), 115-135.

    Roemer, E., Schuberth, F., & Henseler, J. (2021). HTMT2 - an improved criterion for
    assessing discriminant validity in structural equation modeling. *Industrial Management &
    Data Systems*, 121(12), 2637-2650.
    """
    absolute = np.abs(correlation)
    with np.errstate(divide="ignore"):
        values = np.log(absolute) if geometric else absolute
    member = layout.member
    samples, p, _ = values.shape
    by_column = (values.reshape(samples * p, p) @ member).reshape(samples, p, layout.k)
    sums = _block_sums(by_column, layout)
    sizes = member.sum(axis=0)
    pairs = np.outer(sizes, sizes)
    within = np.diagonal(sums, axis1=1, axis2=2) - (0.0 if geometric else sizes)
    counts = sizes * (sizes - 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        monotrait = np.where(counts > 0, within / np.maximum(counts, 1), 0.0 if geometric else 1.0)
        heterotrait = sums / pairs
    if geometric:
        monotrait, heterotrait = np.exp(monotrait), np.exp(heterotrait)
    ratio = heterotrait / np.sqrt(monotrait[:, :, None] * monotrait[:, None, :])
    ratio[:, np.arange(layout.k), np.arange(layout.k)] = np.nan
    return ratio
