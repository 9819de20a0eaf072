"""Bootstrap inference for PLS path models: standard errors, t values, percentile and BCa
intervals of weights, loadings, paths, indirect and total effects, R², HTMT and defined
parameters.

Resample ``b`` draws its rows from ``SeedSequence(seed)``'s ``b``-th child, and resamples are
estimated in chunks of a fixed size, each stacked into one vectorised PLS estimation
(:mod:`analysis.pls.algorithm`); so the result depends on the seed only, not on the number of
worker processes (up to the last bit or two, which BLAS may round differently for arrays at
different memory addresses).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import combinations

import numpy as np
import pandas as pd
from scipy import stats
from threadpoolctl import threadpool_limits

from analysis._checks import check_confidence
from analysis._parallel import fill_rows
from analysis.pls import algorithm
from analysis.pls.algorithm import Estimates
from analysis.pls.estimation import PlsResult

__all__ = ["PlsBootstrap", "bootstrap_pls"]

CHUNK = 250
"""Resamples estimated together; fixed, so that results do not depend on the worker count."""
_JACKKNIFE_CHUNK = 500


@dataclass(frozen=True)
class PlsBootstrap:
    """Bootstrap results of a PLS path model.

    Every table has its identifying columns followed by ``original`` (the full-sample
    estimate), ``mean`` and ``se`` (mean and standard deviation of the resample estimates),
    ``t`` (original / se), ``pvalue`` (two-sided, t distribution with n - 1 degrees of
    freedom), ``ci_lower, ci_upper`` (percentile interval), ``bca_lower, bca_upper``
    (bias-corrected and accelerated interval) and ``acceleration`` (the BCa acceleration, from
    the leave-one-out jackknife).

    Attributes
    ----------
    n_boot : int
        Resamples drawn.
    n_ok : int
        Resamples estimated (the others did not converge or had an item without variance).
    seed : int or None
    confidence : float
    weights, loadings : pandas.DataFrame
        ``construct, item`` + statistics; loadings are consistent ones under PLSc.
    paths, indirect, total : pandas.DataFrame
        ``from, to`` + statistics.
    r2 : pandas.DataFrame
        ``construct`` + statistics.
    htmt, htmt2 : pandas.DataFrame
        ``construct_a, construct_b`` + statistics.
    defined : pandas.DataFrame
        ``name`` + statistics of the ``:=`` parameters.
    draws : ndarray (n_boot, m)
        Every resample's estimates (NaN rows failed), columns in the order of the tables
        above.
    """

    n_boot: int
    n_ok: int
    seed: int | None
    confidence: float
    weights: pd.DataFrame
    loadings: pd.DataFrame
    paths: pd.DataFrame
    indirect: pd.DataFrame
    total: pd.DataFrame
    r2: pd.DataFrame
    htmt: pd.DataFrame
    htmt2: pd.DataFrame
    defined: pd.DataFrame
    draws: np.ndarray


class _Plan:
    """Which numbers each resample yields, and the tables they go to."""

    def __init__(self, result: PlsResult) -> None:
        model, layout = result.model, result.layout
        names = model.constructs
        self.layout = layout
        self.settings = result.settings
        self.model = model
        self.pairs = list(combinations(range(layout.k), 2))
        self.effect_pairs = result.effect_pairs
        # Pairs joined by a route of two or more paths.
        longer = algorithm.total_effects(layout.adjacency[None])[0] @ layout.adjacency
        self.indirect_pairs = [(a, b) for a, b in self.effect_pairs if longer[a, b]]
        items = pd.DataFrame(
            {"construct": [names[j] for j in layout.block], "item": list(model.items)}
        )
        self.tables: list[tuple[str, pd.DataFrame]] = [
            ("weights", items),
            ("loadings", items),
            ("paths", _pairs_frame(layout.path_index, names, "from", "to")),
            ("indirect", _pairs_frame(self.indirect_pairs, names, "from", "to")),
            ("total", _pairs_frame(self.effect_pairs, names, "from", "to")),
            ("r2", pd.DataFrame({"construct": [names[j] for j in layout.endogenous]})),
            ("htmt", _pairs_frame(self.pairs, names, "construct_a", "construct_b")),
            ("htmt2", _pairs_frame(self.pairs, names, "construct_a", "construct_b")),
            ("defined", pd.DataFrame({"name": [d.name for d in model.defined]})),
        ]

    def statistics(self, covariance: np.ndarray, estimates: Estimates) -> np.ndarray:
        """Every statistic of every sample: ``(B, m)``."""
        layout = self.layout
        correlation = algorithm.correlations(covariance)
        indirect = estimates.total - estimates.path_matrix
        ratios = [algorithm.htmt(correlation, layout, geometric=g) for g in (False, True)]
        columns = [
            estimates.weights,
            estimates.loadings,
            _take(estimates.path_matrix, layout.path_index),
            _take(indirect, self.indirect_pairs),
            _take(estimates.total, self.effect_pairs),
            estimates.r2[:, layout.endogenous],
            *(_take(ratio, self.pairs) for ratio in ratios),
            self._defined(estimates),
        ]
        values = np.concatenate(columns, axis=1)
        values[~estimates.converged] = np.nan
        return values

    def _defined(self, estimates: Estimates) -> np.ndarray:
        samples = len(estimates.weights)
        if not self.model.defined:
            return np.empty((samples, 0))
        names = self.model.constructs
        items = self.model.items
        sources = {
            label: (
                estimates.path_matrix[:, names.index(rhs), names.index(lhs)]
                if op == "~"
                else (estimates.loadings if op == "=~" else estimates.weights)[:, items.index(rhs)]
            )
            for label, (lhs, op, rhs) in self.model.labels.items()
        }
        out = np.full((samples, len(self.model.defined)), np.nan)
        for b in range(samples):
            values = {label: float(column[b]) for label, column in sources.items()}
            for i, parameter in enumerate(self.model.defined):
                try:
                    values[parameter.name] = out[b, i] = parameter.expression.evaluate(values)
                except (ValueError, ZeroDivisionError, OverflowError):
                    values[parameter.name] = out[b, i] = np.nan
        return out


def _pairs_frame(
    pairs: Sequence[tuple[int, int]], names: Sequence[str], first: str, second: str
) -> pd.DataFrame:
    return pd.DataFrame(
        {first: [names[a] for a, _ in pairs], second: [names[b] for _, b in pairs]},
        columns=[first, second],
    )


def _take(matrix: np.ndarray, pairs: Sequence[tuple[int, int]]) -> np.ndarray:
    if not pairs:
        return np.empty((len(matrix), 0))
    first, second = np.array(pairs).T
    return matrix[:, first, second]


class _Job:
    """What a worker needs to estimate a chunk of resamples (pickled with each chunk)."""

    def __init__(self, values: np.ndarray, plan: _Plan, entropy: int) -> None:
        self.values = values
        self.plan = plan
        self.entropy = entropy

    def counts(self, start: int, stop: int) -> np.ndarray:
        n = len(self.values)
        counts = np.empty((stop - start, n))
        for row, b in enumerate(range(start, stop)):
            # The b-th child of SeedSequence(seed), created directly: no list of children needed.
            rng = np.random.default_rng(np.random.SeedSequence(self.entropy, spawn_key=(b,)))
            counts[row] = np.bincount(rng.integers(0, n, n), minlength=n)
        return counts

    def run(self, start: int, stop: int) -> np.ndarray:
        with threadpool_limits(limits=1, user_api="blas"):
            covariance = algorithm.moments(self.values, self.counts(start, stop))[1]
            return _estimate_statistics(covariance, self.plan)


def _estimate_statistics(covariance: np.ndarray, plan: _Plan) -> np.ndarray:
    """Statistics of a stack of samples; samples that cannot be estimated give NaN rows."""
    variances = np.einsum("bii->bi", covariance)
    usable = (variances > 1e-12 * variances.max(axis=1, keepdims=True)).all(axis=1)
    out = np.full((len(covariance), _width(plan)), np.nan)
    if not usable.any():
        return out
    try:
        out[usable] = _statistics_of(covariance[usable], plan)
    except np.linalg.LinAlgError:
        # A singular block or predictor matrix in some sample: estimate them one by one.
        for b in np.flatnonzero(usable):
            with contextlib.suppress(np.linalg.LinAlgError):
                out[b] = _statistics_of(covariance[b : b + 1], plan)[0]
    return out


def _statistics_of(covariance: np.ndarray, plan: _Plan) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        estimates = plan.settings.estimate(covariance, plan.layout)
        return plan.statistics(covariance, estimates)


def _width(plan: _Plan) -> int:
    return sum(len(frame) for _, frame in plan.tables)


def bootstrap_pls(
    result: PlsResult,
    *,
    n_boot: int = 5000,
    seed: int | None = None,
    n_jobs: int | None = None,
    confidence: float = 0.95,
    progress: Callable[[int, int], None] | None = None,
) -> PlsBootstrap:
    """Nonparametric bootstrap of a fitted PLS path model.

    Rows are resampled with replacement and every resample is estimated with the fit's
    settings (scheme, scaling, PLSc). Percentile intervals are the ``(1 - confidence) / 2``
    and ``(1 + confidence) / 2`` quantiles of the resample estimates (linear interpolation,
    R's type 7); BCa intervals shift and stretch those quantiles by the bias correction
    ``z0`` (share of resample estimates below the original) and the acceleration ``a``
    (skewness of the leave-one-out jackknife estimates) (Efron & Tibshirani, 1993, ch. 14).

    Parameters
    ----------
    result : PlsResult
        The fitted model (its complete rows are resampled).
    n_boot : int
        Resamples; 5,000 or more for final results (Hair et al., 2022).
    seed : int, optional
        Seed for reproducible results, whatever ``n_jobs``.
    n_jobs : int, optional
        Worker processes; default every core; 1 runs in this process.
    confidence : float
        Confidence level of the intervals.
    progress : callable, optional
        ``progress(done, total)`` after each chunk of resamples.

    Returns
    -------
    PlsBootstrap

    References
    ----------
    Efron, B., & Tibshirani, R. J. (1993). *An introduction to the bootstrap*. Chapman & Hall.

    Hair, J. F., Hult, G. T. M., Ringle, C. M., & Sarstedt, M. (2022). *A primer on partial
    least squares structural equation modeling (PLS-SEM)* (3rd ed.). Sage.

    Streukens, S., & Leroi-Werelds, S. (2016). Bootstrapping and PLS-SEM: A step-by-step guide
    to get more out of your bootstrap results. *European Management Journal*, 34(6), 618-632.

    Examples
    --------
    >>> from analysis.pls import fit_pls
    >>> rng = np.random.default_rng(2)
    >>> x = rng.standard_normal(150)
    >>> y = 0.5 * x + rng.standard_normal(150)
    >>> data = pd.DataFrame({"x1": x + rng.standard_normal(150) * .5, "x2": x,
    ...                      "y1": y, "y2": y + rng.standard_normal(150) * .5})
    >>> fit = fit_pls(data, "X =~ x1 + x2\\nY =~ y1 + y2\\nY ~ X")
    >>> boot = bootstrap_pls(fit, n_boot=200, seed=1, n_jobs=1)
    >>> row = boot.paths.iloc[0]
    >>> bool(row["ci_lower"] < row["original"] < row["ci_upper"]), boot.n_ok
    (True, 200)
    """
    if not isinstance(n_boot, int | np.integer) or isinstance(n_boot, bool) or n_boot < 2:
        raise ValueError(f"n_boot must be a whole number of resamples >= 2, not {n_boot!r}")
    if n_jobs is not None and (not isinstance(n_jobs, int) or n_jobs < 1):
        raise ValueError(f"n_jobs must be a positive whole number or None, not {n_jobs!r}")
    check_confidence(confidence)
    n_boot = int(n_boot)
    plan = _Plan(result)
    entropy = np.random.SeedSequence(seed).entropy
    assert isinstance(entropy, int)  # a seed or None gives one integer (a sequence is refused)
    job = _Job(result.values, plan, entropy)
    chunks = [(a, min(a + CHUNK, n_boot)) for a in range(0, n_boot, CHUNK)]
    draws = np.full((n_boot, _width(plan)), np.nan)
    fill_rows(
        draws,
        job.run,
        {chunk: chunk for chunk in chunks},
        workers=min(n_jobs or os.cpu_count() or 1, len(chunks)),
        preload=__name__,
        progress=progress,
    )
    original = _estimate_statistics(result.covariance[None], plan)[0]
    jackknife = _jackknife(result.values, plan)
    summary = _summarize(draws, original, jackknife, confidence, n=result.n)
    tables, start = {}, 0
    for name, frame in plan.tables:
        stop = start + len(frame)
        tables[name] = pd.concat(
            [frame.reset_index(drop=True), summary.iloc[start:stop].reset_index(drop=True)],
            axis=1,
        )
        start = stop
    return PlsBootstrap(
        n_boot=n_boot,
        n_ok=int(np.isfinite(draws).all(axis=1).sum()),
        seed=seed,
        confidence=confidence,
        draws=draws,
        **tables,
    )


def _jackknife(values: np.ndarray, plan: _Plan) -> np.ndarray:
    """Leave-one-out estimates ``(n, m)`` for the BCa acceleration."""
    n = len(values)
    centred = values - values.mean(axis=0)
    products = centred.T @ centred
    out = []
    with threadpool_limits(limits=1, user_api="blas"):
        for start in range(0, n, _JACKKNIFE_CHUNK):
            rows = centred[start : start + _JACKKNIFE_CHUNK]
            # Leaving row i out of centred data: S = (T - x x' n/(n-1)) / (n-2).
            outer = rows[:, :, None] * rows[:, None, :]
            covariance = (products - outer * (n / (n - 1))) / (n - 2)
            out.append(_estimate_statistics(covariance, plan))
    return np.concatenate(out)


def _summarize(
    draws: np.ndarray, original: np.ndarray, jackknife: np.ndarray, confidence: float, *, n: int
) -> pd.DataFrame:
    ok = np.sort(draws[np.isfinite(draws).all(axis=1)], axis=0)
    tail = (1 - confidence) / 2
    with np.errstate(invalid="ignore", divide="ignore"):
        if len(ok) > 1:
            mean, se = ok.mean(axis=0), ok.std(axis=0, ddof=1)
            lower, upper = (_quantiles(ok, np.full(len(original), q)) for q in (tail, 1 - tail))
        else:
            mean = se = lower = upper = np.full(len(original), np.nan)
        # A single item's weight and loading are 1 in every resample: no t value for them.
        fixed = se <= 1e-10 * np.maximum(np.abs(original), 1.0)
        t = np.where(fixed, np.nan, original / se)
        pvalue = 2 * stats.t.sf(np.abs(t), df=n - 1)
        acceleration = _acceleration(jackknife)
        bca_lower, bca_upper = _bca(ok, original, acceleration, tail)
    return pd.DataFrame(
        {
            "original": original,
            "mean": mean,
            "se": se,
            "t": t,
            "pvalue": pvalue,
            "ci_lower": lower,
            "ci_upper": upper,
            "bca_lower": bca_lower,
            "bca_upper": bca_upper,
            "acceleration": acceleration,
        }
    )


def _quantiles(ordered: np.ndarray, levels: np.ndarray) -> np.ndarray:
    """Quantile ``levels[j]`` of each sorted column ``j`` (linear interpolation, R type 7);
    NaN where the level is NaN."""
    position = (len(ordered) - 1) * levels
    valid = np.isfinite(position)
    below = np.floor(np.where(valid, position, 0)).astype(int)
    above = np.minimum(below + 1, len(ordered) - 1)
    columns = np.arange(ordered.shape[1])
    low, high = ordered[below, columns], ordered[above, columns]
    return np.where(valid, low + (position - below) * (high - low), np.nan)


def _acceleration(jackknife: np.ndarray) -> np.ndarray:
    """Skewness of the leave-one-out estimates: ``Σd³ / (6 (Σd²)^1.5)``, ``d = mean - θ₍ᵢ₎``."""
    jack = jackknife[np.isfinite(jackknife).all(axis=1)]
    deviation = jack.mean(axis=0) - jack
    acceleration = (deviation**3).sum(axis=0) / (6 * ((deviation**2).sum(axis=0)) ** 1.5)
    return np.where(np.isfinite(acceleration), acceleration, 0.0)


def _bca(
    draws: np.ndarray, original: np.ndarray, acceleration: np.ndarray, tail: float
) -> tuple[np.ndarray, np.ndarray]:
    """Bias-corrected and accelerated bounds from sorted resample estimates (NaN where
    undefined)."""
    if len(draws) < 2:
        return np.full(len(original), np.nan), np.full(len(original), np.nan)
    below = (draws < original).mean(axis=0) + 0.5 * (draws == original).mean(axis=0)
    z0 = stats.norm.ppf(below)
    bounds = []
    for z in (stats.norm.ppf(tail), stats.norm.ppf(1 - tail)):
        levels = stats.norm.cdf(z0 + (z0 + z) / (1 - acceleration * (z0 + z)))
        bounds.append(_quantiles(draws, levels))
    return bounds[0], bounds[1]
