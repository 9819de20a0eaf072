"""Sample statistics of ordered (and continuous) items for WLSMV, in lavaan's two stages.

Stage 1 estimates each variable alone: the thresholds of an ordered item (probit of its
cumulative proportions), the mean and variance of a continuous one. Stage 2 keeps those fixed
and estimates every correlation by maximum likelihood from its pair of variables: polychoric
(two ordered items), polyserial (one ordered, one continuous) or Pearson (two continuous). The
polychoric and polyserial stage is vectorised over all pairs (Newton steps on every pair at once;
cell probabilities from one call of a vectorised bivariate normal CDF).

Their joint asymptotic covariance matrix (lavaan's ``NACOV``, ``Gamma``) comes from the casewise
scores of both stages (Muthén, 1984): with ``B`` the block-triangular derivative of the stacked
estimating equations and ``J`` the cross-product of the scores, ``N B^-1 J B^-T``, then the delta
rule from correlations to covariances of continuous items. The statistics are ordered as lavaan's
``WLS.obs``: thresholds (and minus the means of continuous items) in variable order, variances of
continuous items, then the correlations/covariances below the diagonal, column by column.

References
----------
Muthén, B. (1984). A general structural equation model with dichotomous, ordered categorical,
and continuous latent variable indicators. *Psychometrika*, 49(1), 115-132.

Olsson, U. (1979). Maximum likelihood estimation of the polychoric correlation coefficient.
*Psychometrika*, 44(4), 443-460.

Olsson, U., Drasgow, F., & Dorans, N. J. (1982). The polyserial correlation coefficient.
*Psychometrika*, 47(3), 337-347.

Genz, A. (2004). Numerical computation of rectangular bivariate and trivariate normal and t
probabilities. *Statistics and Computing*, 14(3), 251-260.

Rosseel, Y. (2012). lavaan: An R package for structural equation modeling. *Journal of
Statistical Software*, 48(2), 1-36 (``lav_samplestats_step1/2``, ``lav_bvord``, ``lav_bvmix``,
``muthen1984``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np
from scipy import special

from analysis.errors import AnalysisError

__all__ = ["MAX_CATEGORIES", "OrdinalMoments", "bivariate_normal_cdf", "ordinal_moments"]

MAX_CATEGORIES = 20
"""Most answer categories an ordered item may have (an 11-point 0-10 scale fits); a column with
more distinct values is a continuous measure and should be modelled as one."""

_TWO_PI = 2 * np.pi
_TINY = np.sqrt(np.finfo(float).eps)  # lavaan's floor for a cell probability
_BIG = 100.0  # lavaan's stand-in for an infinite threshold in casewise scores
_RHO_BOUND = 0.999  # lavaan's bounds for a polychoric correlation
_POLYSERIAL_BOUND = 0.995


def _half_rule(points: int) -> tuple[np.ndarray, np.ndarray]:
    nodes, weights = np.polynomial.legendre.leggauss(2 * points)
    return nodes[nodes < 0], weights[nodes < 0]


# Genz's Gauss-Legendre rules: 6, 12 and 20 points for |rho| < .3, < .75 and above.
_RULES = (_half_rule(3), _half_rule(6), _half_rule(10))


def bivariate_normal_cdf(h: np.ndarray, k: np.ndarray, rho: np.ndarray) -> np.ndarray:
    """``P(X <= h, Y <= k)`` for standard bivariate normal ``X, Y`` with correlation ``rho``.

    Vectorised over broadcast arguments (finite ``h`` and ``k``), with Genz's (2004) algorithm
    ``BVND`` as in R's ``pbivnorm`` (which lavaan uses): about 1e-15 absolute accuracy.

    Examples
    --------
    >>> float(bivariate_normal_cdf(0.0, 0.0, 0.5))  # 1/4 + asin(.5)/(2 pi) = 1/3
    0.3333333333333333
    """
    h, k, rho = np.broadcast_arrays(*(np.asarray(x, dtype=float) for x in (h, k, rho)))
    shape = h.shape
    # Genz's BVU works with upper tails: P(X > -h, Y > -k).
    h, k, rho = -h.ravel(), -k.ravel(), rho.ravel()
    out = np.empty_like(h)
    size = np.abs(rho)
    product = h * k
    moderate = size < 0.925
    bands = (size < 0.3, (size >= 0.3) & (size < 0.75), size >= 0.75)
    for (nodes, weights), band in zip(_RULES, bands, strict=True):
        mask = moderate & band
        if not mask.any():
            continue
        hm, km, hk = h[mask], k[mask], product[mask][:, None]
        half_square = ((hm * hm + km * km) / 2)[:, None]
        angle = np.arcsin(rho[mask])[:, None]
        total = np.zeros(len(hm))
        for sign in (1.0, -1.0):
            sn = np.sin(angle * (sign * nodes + 1) / 2)
            total += (weights * np.exp((sn * hk - half_square) / (1 - sn * sn))).sum(axis=1)
        out[mask] = total * angle[:, 0] / (2 * _TWO_PI) + special.ndtr(-hm) * special.ndtr(-km)
    strong = ~moderate
    if strong.any():
        out[strong] = _bvu_strong(h[strong], k[strong], rho[strong], product[strong])
    return out.reshape(shape)


def _bvu_strong(h: np.ndarray, k: np.ndarray, rho: np.ndarray, hk: np.ndarray) -> np.ndarray:
    """Genz's BVU for |rho| >= .925 (an expansion around the singular case)."""
    nodes, weights = _RULES[2]
    negative = rho < 0
    k = np.where(negative, -k, k)
    hk = np.where(negative, -hk, hk)
    value = np.zeros(len(h))
    inner = np.abs(rho) < 1
    if inner.any():
        r, hh, kk, hki = rho[inner], h[inner], k[inner], hk[inner]
        a_sq = (1 - r) * (1 + r)
        a = np.sqrt(a_sq)
        b_sq = (hh - kk) ** 2
        c = (4 - hki) / 8
        d = (12 - hki) / 16
        bvn = (
            a
            * np.exp(-(b_sq / a_sq + hki) / 2)
            * (1 - c * (b_sq - a_sq) * (1 - d * b_sq / 5) / 3 + c * d * a_sq * a_sq / 5)
        )
        b = np.sqrt(b_sq)
        with np.errstate(over="ignore", invalid="ignore"):
            tail = (
                np.exp(-hki / 2)
                * np.sqrt(_TWO_PI)
                * special.ndtr(-b / a)
                * b
                * (1 - c * b_sq * (1 - d * b_sq / 5) / 3)
            )
        bvn -= np.where(hki > -160, tail, 0.0)
        half = (a / 2)[:, None]
        b2, hk2, c2, d2 = b_sq[:, None], hki[:, None], c[:, None], d[:, None]
        xs = (half * (nodes + 1)) ** 2
        rs = np.sqrt(1 - xs)
        terms = np.exp(-b2 / (2 * xs) - hk2 / (1 + rs)) / rs - np.exp(-(b2 / xs + hk2) / 2) * (
            1 + c2 * xs * (1 + d2 * xs)
        )
        bvn += (half * weights * terms).sum(axis=1)
        xs = a_sq[:, None] * (1 - nodes) ** 2 / 4
        rs = np.sqrt(1 - xs)
        terms = np.exp(-(b2 / xs + hk2) / 2) * (
            np.exp(-hk2 * xs / (2 * (1 + rs) ** 2)) / rs - (1 + c2 * xs * (1 + d2 * xs))
        )
        bvn += (half * weights * terms).sum(axis=1)
        value[inner] = -bvn / _TWO_PI
    return np.where(
        negative,
        -value + np.maximum(0.0, special.ndtr(-h) - special.ndtr(-k)),
        value + special.ndtr(-np.maximum(h, k)),
    )


def _bivariate_density(h: np.ndarray, k: np.ndarray, rho: np.ndarray) -> np.ndarray:
    one_minus = 1 - rho * rho
    return np.exp(-(h * h - 2 * rho * h * k + k * k) / (2 * one_minus)) / (
        _TWO_PI * np.sqrt(one_minus)
    )


def _density_slope(h: np.ndarray, k: np.ndarray, rho: np.ndarray) -> np.ndarray:
    """d log phi2(h, k; rho) / d rho (Olsson 1979, A2, corrected as in lavaan)."""
    r = 1 - rho * rho
    return (h * k * r - rho * (h * h - 2 * rho * h * k + k * k) + rho * r) / (r * r)


def pair_indices(p: int) -> tuple[np.ndarray, np.ndarray]:
    """Row and column of every pair below the diagonal, column by column (R's ``vech``)."""
    rows, cols = np.tril_indices(p, -1)
    order = np.lexsort((rows, cols))
    return rows[order], cols[order]


@dataclass(frozen=True)
class OrdinalMoments:
    """Thresholds, means, variances and correlations of a set of items, with their NACOV.

    Attributes
    ----------
    names : tuple of str
        Variables in order.
    ordered : ndarray of bool
        Which variables are ordered.
    levels : tuple of ndarray
        The answer codes of each ordered item in order (empty for continuous variables); the
        thresholds separate consecutive codes.
    thresholds : tuple of ndarray
        Per variable: its thresholds (empty for continuous variables).
    mean, var : ndarray
        Means and variances (N divisor) of continuous variables; 0 and 1 for ordered ones.
    cor : ndarray
        Polychoric / polyserial / Pearson correlation matrix.
    n : int
        Number of observations.
    gamma : ndarray
        N times the asymptotic covariance matrix of :attr:`statistics` (lavaan's ``NACOV``).
    empty_cells : tuple of (str, str)
        Pairs of ordered items whose two-way table has empty cells.
    """

    names: tuple[str, ...]
    ordered: np.ndarray
    levels: tuple[np.ndarray, ...]
    thresholds: tuple[np.ndarray, ...]
    mean: np.ndarray
    var: np.ndarray
    cor: np.ndarray
    n: int
    gamma: np.ndarray
    empty_cells: tuple[tuple[str, str], ...]

    @property
    def cov(self) -> np.ndarray:
        """``cor`` with continuous variables on their own scale (lavaan's sample ``cov``)."""
        sd = np.sqrt(self.var)
        return self.cor * np.outer(sd, sd)

    @cached_property
    def statistics(self) -> np.ndarray:
        """The statistics in lavaan's ``WLS.obs`` order (see the module docstring)."""
        head = [
            th if self.ordered[j] else -self.mean[j : j + 1] for j, th in enumerate(self.thresholds)
        ]
        rows, cols = pair_indices(len(self.names))
        return np.concatenate([*head, self.var[~self.ordered], self.cov[rows, cols]])


def ordinal_moments(
    values: np.ndarray, *, ordered: Sequence[bool] | np.ndarray, names: Sequence[str]
) -> OrdinalMoments:
    """Two-stage thresholds, means, variances and correlations of complete data, with NACOV.

    Parameters
    ----------
    values : ndarray of shape (n, p)
        Complete observations (no NaN); ordered items hold their answer codes.
    ordered : sequence of bool
        Which of the ``p`` columns are ordered items.
    names : sequence of str
        Column names, for messages.

    Returns
    -------
    OrdinalMoments

    Raises
    ------
    AnalysisError
        An ordered item with a single answer category or more than :data:`MAX_CATEGORIES`,
        or two binary items that are perfectly associated.

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> latent = rng.standard_normal((400, 1))
    >>> items = 1 + (0.8 * latent + 0.6 * rng.standard_normal((400, 2)) > [-0.5, 0.3])
    >>> moments = ordinal_moments(items, ordered=[True, True], names=["a", "b"])
    >>> moments.thresholds[0].round(2), round(float(moments.cor[0, 1]), 2)
    (array([-0.43]), 0.62)
    """
    values = np.asarray(values, dtype=float)
    n, p = values.shape
    is_ordered = np.asarray(ordered, dtype=bool)
    names = tuple(names)
    items = _Univariate(values, is_ordered, names)
    rows, cols = pair_indices(p)
    kind = is_ordered[rows].astype(int) + is_ordered[cols].astype(int)
    cor = np.eye(p)
    scores = _Scores(items, len(rows))

    both = np.flatnonzero(kind == 2)
    empty: list[tuple[str, str]] = []
    if len(both):
        polychoric = _Polychoric(items, rows[both], cols[both])
        cor[rows[both], cols[both]] = polychoric.rho
        polychoric.add_scores(scores, both)
        empty = [(names[cols[k]], names[rows[k]]) for k in both[polychoric.has_empty_cells]]
    mixed = np.flatnonzero(kind == 1)
    if len(mixed):
        continuous = np.where(is_ordered[rows[mixed]], cols[mixed], rows[mixed])
        categorical = np.where(is_ordered[rows[mixed]], rows[mixed], cols[mixed])
        rho, polyserial = _polyserial(items, continuous, categorical)
        cor[rows[mixed], cols[mixed]] = rho
        _add_polyserial_scores(scores, polyserial, mixed, continuous, categorical, rho)
    neither = np.flatnonzero(kind == 0)
    if len(neither):
        a, b = rows[neither], cols[neither]
        rho = np.einsum("ij,ij->j", items.standardized[:, a], items.standardized[:, b]) / n
        cor[a, b] = rho
        _add_pearson_scores(scores, neither, a, b, rho)
    cor += np.tril(cor, -1).T
    return OrdinalMoments(
        names=names,
        ordered=is_ordered,
        levels=items.levels,
        thresholds=items.thresholds,
        mean=items.mean,
        var=items.var,
        cor=cor,
        n=n,
        gamma=scores.nacov(),
        empty_cells=tuple(empty),
    )


class _Univariate:
    """Stage 1: each variable alone, with its casewise scores.

    Column layout of the scores (lavaan's): a block of "threshold" slots, one per threshold of
    an ordered item and one (the mean) per continuous variable, in variable order; then one
    variance slot per continuous variable.
    """

    def __init__(self, values: np.ndarray, ordered: np.ndarray, names: tuple[str, ...]) -> None:
        n, p = values.shape
        self.n, self.p, self.ordered, self.names = n, p, ordered, names
        self.codes = np.full((n, p), -1, dtype=np.intp)
        levels, thresholds = [], []
        self.n_categories = np.zeros(p, dtype=int)
        self.mean = np.zeros(p)
        self.var = np.ones(p)
        for j in range(p):
            if not ordered[j]:
                levels.append(np.empty(0))
                thresholds.append(np.empty(0))
                self.mean[j] = values[:, j].mean()
                self.var[j] = values[:, j].var()
                continue
            observed, codes, counts = _categories(values[:, j], names[j])
            levels.append(observed)
            self.codes[:, j] = codes
            self.n_categories[j] = len(counts)
            thresholds.append(special.ndtri(np.cumsum(counts)[:-1] / n))
        self.levels, self.thresholds = tuple(levels), tuple(thresholds)
        self.sd = np.sqrt(self.var)
        self.standardized = np.where(ordered, 0.0, (values - self.mean) / self.sd)
        self.centered = np.where(ordered, 0.0, values - self.mean)
        slots = np.where(ordered, self.n_categories - 1, 1)
        self.threshold_start = np.concatenate([[0], np.cumsum(slots)[:-1]])
        self.n_threshold_slots = int(slots.sum())
        continuous = np.flatnonzero(~ordered)
        self.var_slot = np.full(p, -1)
        self.var_slot[continuous] = self.n_threshold_slots + np.arange(len(continuous))
        self.size = self.n_threshold_slots + len(continuous)
        width = int(self.n_categories.max(initial=2))
        # Category edges per ordered item: -inf, thresholds, +inf (padded with +inf).
        self.edges = np.full((p, width + 1), np.inf)
        self.edges[:, 0] = -np.inf
        for j in np.flatnonzero(ordered).tolist():
            self.edges[j, 1 : self.n_categories[j]] = thresholds[j]
        finite_edges = np.clip(self.edges, -_BIG, _BIG)
        rows = np.arange(p)
        self.upper = np.where(ordered, finite_edges[rows, self.codes + 1], 0.0)
        self.lower = np.where(ordered, finite_edges[rows, np.maximum(self.codes, 0)], 0.0)

    def scores(self) -> np.ndarray:
        """Casewise scores of the stage-1 estimates (n x ``size``)."""
        out = np.zeros((self.n, self.size))
        for j in range(self.p):
            start = self.threshold_start[j]
            if self.ordered[j]:
                upper, lower = self.upper[:, j], self.lower[:, j]
                probability = special.ndtr(upper) - special.ndtr(lower)
                codes = self.codes[:, j]
                cases = np.arange(self.n)
                top = codes < self.n_categories[j] - 1
                bottom = codes > 0
                out[cases[top], start + codes[top]] = _normal_density(upper[top]) / probability[top]
                out[cases[bottom], start + codes[bottom] - 1] = (
                    -_normal_density(lower[bottom]) / probability[bottom]
                )
            else:
                centered, var = self.centered[:, j], self.var[j]
                out[:, start] = centered / var
                out[:, self.var_slot[j]] = -1 / (2 * var) + centered**2 / (2 * var * var)
        return out

    def threshold_columns(self, j: int) -> np.ndarray:
        """Score columns of variable ``j``'s thresholds (its mean if continuous)."""
        start = self.threshold_start[j]
        count = self.n_categories[j] - 1 if self.ordered[j] else 1
        return np.arange(start, start + count)


def _normal_density(x: np.ndarray) -> np.ndarray:
    return np.exp(-0.5 * x * x) / np.sqrt(_TWO_PI)


def _categories(column: np.ndarray, name: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """An ordered item's answer categories, each case's category (0, 1, ...) and the counts."""
    observed, codes = np.unique(column, return_inverse=True)
    if len(observed) < 2:
        raise AnalysisError(
            f"the ordered item '{name}' has a single answer category in the data used; "
            "it carries no information about the others"
        )
    if len(observed) > MAX_CATEGORIES:
        raise AnalysisError(
            f"'{name}' has {len(observed)} distinct values, too many for an ordered item "
            f"(at most {MAX_CATEGORIES}); treat it as continuous"
        )
    codes = codes.ravel()
    return observed, codes, np.bincount(codes, minlength=len(observed))


class _Scores:
    """Casewise scores of both stages and the pieces of Muthén's sandwich.

    ``B = [[A11, 0], [A21, A22]]``: ``A11`` the cross-products of each variable's own stage-1
    scores, ``A21`` those of each correlation's score with the stage-1 parameters of its pair,
    ``A22`` (diagonal) those of the correlation scores; ``H`` turns correlations involving
    continuous variables into covariances (delta rule).
    """

    def __init__(self, items: _Univariate, n_pairs: int) -> None:
        self.items = items
        self.univariate = items.scores()
        self.correlation = np.zeros((items.n, n_pairs))
        self.a21 = np.zeros((n_pairs, items.size))
        self.h21 = np.zeros((n_pairs, items.size))
        self.h22 = np.ones(n_pairs)

    def nacov(self) -> np.ndarray:
        items = self.items
        a11_inverse = np.zeros((items.size, items.size))
        inner11 = self.univariate.T @ self.univariate
        for j in range(items.p):
            block = items.threshold_columns(j)
            if not items.ordered[j]:
                block = np.append(block, items.var_slot[j])
            a11_inverse[np.ix_(block, block)] = np.linalg.inv(inner11[np.ix_(block, block)])
        a22 = np.einsum("ij,ij->j", self.correlation, self.correlation)
        if np.any(a22 <= 0):
            raise AnalysisError(
                "the sampling variance of a correlation is zero (an item may be constant "
                "within the categories of another); the weight matrix cannot be built"
            )
        # Influence of each case on every statistic: scores times B^-T, then the delta rule.
        first = self.univariate @ a11_inverse
        second = (self.correlation - first @ self.a21.T) / a22
        influence = np.hstack([first, first @ self.h21.T + second * self.h22])
        # lavaan's statistic for a continuous variable's "threshold" is minus its mean.
        influence[:, items.threshold_start[~items.ordered]] *= -1
        return items.n * influence.T @ influence


class _Polychoric:
    """Polychoric correlations of pairs of ordered items, all pairs at once.

    Every pair's two-way table is padded to the largest number of categories (padded cells have
    probability and frequency zero), so the cell probabilities of all pairs come from one call
    of :func:`bivariate_normal_cdf` at the interior corners.
    """

    def __init__(self, items: _Univariate, first: np.ndarray, second: np.ndarray) -> None:
        self.items = items
        self.first, self.second = first, second
        width = items.edges.shape[1] - 1
        self.width = width
        pairs = len(first)
        cells = (
            np.arange(pairs) * width * width
            + items.codes[:, first] * width
            + items.codes[:, second]
        )
        self.freq = (
            np.bincount(cells.ravel(), minlength=pairs * width * width)
            .reshape(pairs, width, width)
            .astype(float)
        )
        self.row_edges = items.edges[first][:, :, None]
        self.column_edges = items.edges[second][:, None, :]
        real = (np.arange(width) < items.n_categories[first][:, None])[:, :, None] & (
            np.arange(width) < items.n_categories[second][:, None]
        )[:, None, :]
        self.has_empty_cells = ((self.freq == 0) & real).any(axis=(1, 2))
        self.rho = self._estimate()

    def _corners(self, rho: np.ndarray, pairs: np.ndarray, *, derivatives: bool):
        """Cell probabilities (and d/d rho, d2/d rho2) of ``pairs`` from the CDF at the corners
        of their tables."""
        a = np.broadcast_to(self.row_edges[pairs], (len(pairs), self.width + 1, self.width + 1))
        b = np.broadcast_to(self.column_edges[pairs], a.shape)
        r = np.broadcast_to(rho[:, None, None], a.shape)
        interior = np.isfinite(a) & np.isfinite(b)
        cdf = np.where(
            (a == -np.inf) | (b == -np.inf),
            0.0,
            np.where(a == np.inf, special.ndtr(b), special.ndtr(a)),
        )
        cdf[interior] = bivariate_normal_cdf(a[interior], b[interior], r[interior])
        probability = _cells(cdf)
        if not derivatives:
            return probability, None, None
        density = np.zeros(a.shape)
        density[interior] = _bivariate_density(a[interior], b[interior], r[interior])
        slope = np.zeros(a.shape)
        slope[interior] = density[interior] * _density_slope(a[interior], b[interior], r[interior])
        return probability, _cells(density), _cells(slope)

    def _estimate(self) -> np.ndarray:
        freq = self.freq.copy()  # with lavaan's correction of 2 x 2 tables
        rho, done = self._two_by_two(freq)

        def loglik(rho: np.ndarray, pairs: np.ndarray) -> np.ndarray:
            return _table_loglik(self._corners(rho, pairs, derivatives=False)[0], freq[pairs])

        def derivatives(rho: np.ndarray, pairs: np.ndarray):
            probability, phi, slope = self._corners(rho, pairs, derivatives=True)
            f = freq[pairs]
            usable = probability > _TINY  # lavaan leaves out cells at the probability floor
            safe = np.where(usable, probability, 1.0)
            ratio = np.where(usable, phi / safe, 0.0)
            curvature = np.where(usable, slope / safe, 0.0) - ratio * ratio
            gradient = (f * ratio).sum(axis=(1, 2))
            return _table_loglik(probability, f), gradient, (f * curvature).sum(axis=(1, 2))

        start = np.where(done, rho, self._starting_values())
        return _newton(start, ~done, loglik, derivatives, bound=_RHO_BOUND)

    def _starting_values(self) -> np.ndarray:
        codes = self.items.codes
        a = codes[:, self.first] - codes[:, self.first].mean(axis=0)
        b = codes[:, self.second] - codes[:, self.second].mean(axis=0)
        r = (a * b).sum(axis=0) / np.sqrt((a * a).sum(axis=0) * (b * b).sum(axis=0))
        return np.where(np.abs(r) < 1, r, 0.0)

    def _two_by_two(self, freq: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """lavaan's rules for pairs of binary items (``zero.add = 0.5`` keeping the margins)."""
        items = self.items
        rho = np.zeros(len(self.first))
        done = np.zeros(len(self.first), dtype=bool)
        binary = (items.n_categories[self.first] == 2) & (items.n_categories[self.second] == 2)
        for k in np.flatnonzero(binary):
            table = freq[k, :2, :2]
            empty = np.flatnonzero(table.ravel() == 0)
            if len(empty) == 2:
                a, b = (self.items.names[j] for j in (self.second[k], self.first[k]))
                raise AnalysisError(
                    f"the binary items '{a}' and '{b}' are perfectly associated (two empty "
                    "cells in their table); their polychoric correlation is not estimable"
                )
            if len(empty) == 1:
                sign = 1.0 if empty[0] in (0, 3) else -1.0  # on the main diagonal or not
                table += sign * 0.5 * np.array([[1.0, -1.0], [-1.0, 1.0]])
            if table[0, 0] * table[1, 1] == table[0, 1] * table[1, 0]:
                done[k] = True
            elif items.thresholds[self.first[k]][0] == 0 == items.thresholds[self.second[k]][0]:
                rho[k], done[k] = -np.cos(_TWO_PI * table[0, 0] / table.sum()), True
        return rho, done

    def add_scores(self, scores: _Scores, pair_columns: np.ndarray) -> None:
        """Casewise correlation scores and their cross-products with the thresholds."""
        items = self.items
        pairs = np.arange(len(self.first))
        probability, phi, _ = self._corners(self.rho, pairs, derivatives=True)
        probability = np.maximum(probability, _TINY)
        rho_score = phi / probability
        first, second = self.first, self.second
        scores.correlation[:, pair_columns] = rho_score[
            pairs, items.codes[:, first], items.codes[:, second]
        ]
        weight = self.freq * rho_score / probability
        r = self.rho[:, None, None]
        root = np.sqrt(1 - r * r)
        edges_first = np.clip(items.edges[first], -_BIG, _BIG)[:, :, None]
        edges_second = np.clip(items.edges[second], -_BIG, _BIG)[:, None, :]
        # d P(cell) / d (upper and lower edge of the first item's category), per cell.
        up1, low1 = edges_first[:, 1:, :], edges_first[:, :-1, :]
        up2, low2 = edges_second[:, :, 1:], edges_second[:, :, :-1]
        for item, (up_a, low_a, up_b, low_b), axis in (
            (first, (up1, low1, up2, low2), 2),
            (second, (up2, low2, up1, low1), 1),
        ):
            at_upper = _normal_density(up_a) * (
                special.ndtr((up_b - r * up_a) / root) - special.ndtr((low_b - r * up_a) / root)
            )
            at_lower = _normal_density(low_a) * (
                special.ndtr((up_b - r * low_a) / root) - special.ndtr((low_b - r * low_a) / root)
            )
            upper_sum = (weight * at_upper).sum(axis=axis)
            lower_sum = (weight * at_lower).sum(axis=axis)
            for k, column in enumerate(pair_columns):
                slots = items.threshold_columns(item[k])
                count = len(slots)
                scores.a21[column, slots] = upper_sum[k, :count] - lower_sum[k, 1 : count + 1]


def _table_loglik(probability: np.ndarray, freq: np.ndarray) -> np.ndarray:
    return (freq * np.log(np.maximum(probability, _TINY))).sum(axis=(1, 2))


def _cells(corners: np.ndarray) -> np.ndarray:
    """Rectangle sums of a function given at the corners of a two-way table."""
    return corners[:, 1:, 1:] - corners[:, :-1, 1:] - corners[:, 1:, :-1] + corners[:, :-1, :-1]


class _Polyserial:
    """The polyserial likelihood of pairs (continuous, ordered), one column per pair.

    With ``z`` the standardized continuous variable and ``t = (edge - rho z) / sqrt(1 - rho²)``
    at the two edges of the ordered answer's category, a case contributes
    ``log(Phi(t_upper) - Phi(t_lower))`` (plus a term free of ``rho``).
    """

    def __init__(self, items: _Univariate, continuous: np.ndarray, ordered: np.ndarray) -> None:
        self.z = items.standardized[:, continuous]
        self.upper = items.upper[:, ordered]
        self.lower = items.lower[:, ordered]

    def probability(self, rho: np.ndarray, pairs: np.ndarray) -> tuple[np.ndarray, ...]:
        """Each case's probability of its answer given ``z`` (floored as lavaan), the two
        standardized edges ``t`` and ``sqrt(1 - rho²)``, for the ``pairs`` given."""
        root = np.sqrt(1 - rho * rho)
        z = self.z[:, pairs]
        t_upper = (self.upper[:, pairs] - rho * z) / root
        t_lower = (self.lower[:, pairs] - rho * z) / root
        probability = np.maximum(special.ndtr(t_upper) - special.ndtr(t_lower), np.finfo(float).eps)
        return probability, t_upper, t_lower, root

    def loglik(self, rho: np.ndarray, pairs: np.ndarray) -> np.ndarray:
        return np.log(self.probability(rho, pairs)[0]).sum(axis=0)

    def derivatives(self, rho: np.ndarray, pairs: np.ndarray):
        """The log-likelihood and its first and second derivatives in ``rho``."""
        probability, t_upper, t_lower, root = self.probability(rho, pairs)
        z = self.z[:, pairs]
        first = second = 0.0
        for edge, t, sign in (
            (self.upper[:, pairs], t_upper, 1.0),
            (self.lower[:, pairs], t_lower, -1.0),
        ):
            dt = (rho * edge - z) / root**3
            d2t = (edge * root**2 + 3 * rho * (rho * edge - z)) / root**5
            density = _normal_density(t)
            first = first + sign * density * dt
            second = second + sign * density * (d2t - t * dt * dt)
        score = first / probability
        curvature = second / probability - score * score
        return np.log(probability).sum(axis=0), score.sum(axis=0), curvature.sum(axis=0)


def _polyserial(
    items: _Univariate, continuous: np.ndarray, ordered: np.ndarray
) -> tuple[np.ndarray, _Polyserial]:
    """Polyserial correlations by Newton steps on all pairs at once (bounds of lavaan's)."""
    model = _Polyserial(items, continuous, ordered)
    codes = items.codes[:, ordered]
    spread = codes.std(axis=0)
    pearson = (model.z * (codes - codes.mean(axis=0))).mean(axis=0) / np.where(
        spread > 0, spread, 1
    )
    density_sum = np.array([_normal_density(items.thresholds[j]).sum() for j in ordered])
    start = pearson * spread / density_sum  # Olsson, Drasgow & Dorans (1982), eq. 38
    start = np.where(np.abs(start) > 0.9, start / 2, start)
    active = np.ones(len(start), dtype=bool)
    rho = _newton(start, active, model.loglik, model.derivatives, bound=_POLYSERIAL_BOUND)
    return rho, model


def _newton(start, active, loglik, derivatives, *, bound: float) -> np.ndarray:
    """Maximise one-parameter log-likelihoods, one per pair, all at once.

    Newton steps (a small step uphill where the curvature is not negative), halved for the
    pairs whose log-likelihood would drop, clipped to ``[-bound, bound]``; a pair stops when
    its step falls below 1e-11. ``loglik(rho, pairs)`` and ``derivatives(rho, pairs)``
    (log-likelihood, gradient, second derivative) evaluate the ``pairs`` given.
    """
    rho = start.copy()
    active = active.copy()
    for _ in range(100):
        pairs = np.flatnonzero(active)
        if not len(pairs):
            break
        current = rho[pairs]
        value, gradient, hessian = derivatives(current, pairs)
        concave = hessian < 0
        step = np.where(
            concave, -gradient / np.where(concave, hessian, 1.0), 0.1 * np.sign(gradient)
        )
        length = np.ones(len(pairs))
        for _ in range(30):
            candidate = np.clip(current + length * step, -bound, bound)
            worse = loglik(candidate, pairs) < value - 1e-12 * np.abs(value)
            if not worse.any():
                break
            length[worse] /= 2
        rho[pairs] = candidate
        active[pairs] = np.abs(candidate - current) > 1e-11
    return rho


def _add_polyserial_scores(
    scores: _Scores,
    model: _Polyserial,
    columns: np.ndarray,
    continuous: np.ndarray,
    ordered: np.ndarray,
    rho: np.ndarray,
) -> None:
    """lavaan's ``lav_bvmix_cor_scores``: the correlation's score and its cross-products with
    the continuous variable's mean and variance and the ordered item's thresholds."""
    items = scores.items
    probability, t_upper, t_lower, root = model.probability(rho, np.arange(len(rho)))
    density_upper, density_lower = _normal_density(t_upper), _normal_density(t_lower)
    rho_score = (
        density_upper * (model.upper * rho - model.z)
        - density_lower * (model.lower * rho - model.z)
    ) / (probability * root**3)
    scores.correlation[:, columns] = rho_score
    difference = (density_upper - density_lower) / probability
    sd = items.sd[continuous]
    mean_score = (model.z + rho / root * difference) / sd
    var_score = (model.z**2 - 1 + rho * model.z / root * difference) / (2 * sd**2)
    codes = items.codes[:, ordered]
    for k, column in enumerate(columns):
        a, b = continuous[k], ordered[k]
        scores.a21[column, items.threshold_start[a]] = rho_score[:, k] @ mean_score[:, k]
        scores.a21[column, items.var_slot[a]] = rho_score[:, k] @ var_score[:, k]
        weight = rho_score[:, k] / (root[k] * probability[:, k])
        slots = items.threshold_columns(b)
        at_upper = np.bincount(codes[:, k], weight * density_upper[:, k], len(slots) + 1)
        at_lower = np.bincount(codes[:, k], weight * density_lower[:, k], len(slots) + 1)
        scores.a21[column, slots] = at_upper[:-1] - at_lower[1:]
        scores.h21[column, items.var_slot[a]] = rho[k] / (2 * sd[k])
        scores.h22[column] = sd[k]


def _add_pearson_scores(
    scores: _Scores, columns: np.ndarray, first: np.ndarray, second: np.ndarray, rho: np.ndarray
) -> None:
    """lavaan's ``lav_bvreg_cor_scores`` for pairs of continuous variables."""
    items = scores.items
    for k, column in enumerate(columns):
        a, b, r = first[k], second[k], rho[k]
        x, y = items.centered[:, a], items.centered[:, b]
        var_x, var_y = items.var[a], items.var[b]
        sd_x, sd_y = items.sd[a], items.sd[b]
        one_minus = 1 - r * r
        cross = x * y / (sd_x * sd_y)
        quadratic = x * x / var_x - 2 * r * cross + y * y / var_y
        rho_score = r / one_minus + cross / one_minus - quadratic * r / one_minus**2
        scores.correlation[:, column] = rho_score
        partials = {
            items.threshold_start[a]: (x / var_x - r * y / (sd_x * sd_y)) / one_minus,
            items.threshold_start[b]: (y / var_y - r * x / (sd_x * sd_y)) / one_minus,
            items.var_slot[a]: (x * x / var_x - r * cross) / (2 * var_x * one_minus) - 0.5 / var_x,
            items.var_slot[b]: (y * y / var_y - r * cross) / (2 * var_y * one_minus) - 0.5 / var_y,
        }
        for slot, partial in partials.items():
            scores.a21[column, slot] = rho_score @ partial
        scores.h21[column, items.var_slot[a]] = sd_y * r / (2 * sd_x)
        scores.h21[column, items.var_slot[b]] = sd_x * r / (2 * sd_y)
        scores.h22[column] = sd_x * sd_y
