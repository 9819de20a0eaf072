"""Robust maximum likelihood: sandwich standard errors and scaled test statistics.

lavaan's ``estimator = "MLR"`` and ``"MLM"`` keep the ML estimates and correct their standard
errors and chi-square for non-normal data. Everything here works in the coordinates of the
saturated (h1) model of each group, ``(mu, vech(Sigma))`` without the moments of fixed
exogenous covariates, with the model's Jacobian ``Delta`` in those coordinates:

* ``se = "robust.huber.white"`` (MLR): ``A^-1 B A^-1 / N`` with ``A`` the observed information
  and ``B = sum_g f_g Delta' B1 Delta`` the first-order information of the casewise scores at
  the model-implied moments (the FIML likelihood's scores when data are missing);
* ``se = "robust.sem"`` (MLM): ``E^-1 (sum_g f_g Delta' W Gamma W Delta) E^-1 / N`` with ``E``
  the expected information, ``W`` the normal-theory weight matrix at the implied moments and
  ``Gamma`` the asymptotic covariance of the sample moments (Satorra & Bentler, 1994);
* ``test = "yuan.bentler.mplus"`` (MLR): scaling factor
  ``(sum_g tr(A1^-1 B1) - f_g tr(B0 A^-1)) / df`` with the unstructured h1 information ``A1``
  and first-order information ``B1`` (Yuan & Bentler, 2000; Mplus's approximation);
* ``test = "satorra.bentler"`` (MLM): ``tr(U Gamma) / df``, ``U = W - W Delta E^-1 Delta' W``;
* with missing data, the robust RMSEA and CFI use the FIML-corrected statistic of Zhang &
  Savalei (2023, version V3), as lavaan 0.6-13 and later do.

``f_g = n_g / N`` weights the groups; all informations are per observation ("unit").

References
----------
Satorra, A., & Bentler, P. M. (1994). Corrections to test statistics and standard errors in
covariance structure analysis. In A. von Eye & C. C. Clogg (Eds.), *Latent variables
analysis* (pp. 399-419). Sage.

Yuan, K.-H., & Bentler, P. M. (2000). Three likelihood-based methods for mean and covariance
structure analysis with nonnormal missing data. *Sociological Methodology*, 30(1), 165-200.

Savalei, V. (2010). Expected versus observed information in SEM with incomplete normal and
nonnormal data. *Psychological Methods*, 15(4), 352-367.

Zhang, X., & Savalei, V. (2023). New computations for RMSEA and CFI following FIML and TS
estimation with missing data. *Psychological Methods*, 28(2), 263-283.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import NamedTuple

import numpy as np

from analysis.sem import fitmeasures
from analysis.sem.engine import CompleteData, MissingData, vech_kron

__all__ = [
    "GroupData",
    "H1Layout",
    "Implied",
    "PatternMoments",
    "Patterns",
    "RobustInference",
    "complete_data_chisq",
    "expected_model_information",
    "fiml_corrected_trace",
    "first_order_by_group",
    "robust_inference",
    "satorra_bentler_meat",
    "satorra_bentler_trace",
    "yuan_bentler_mplus_trace",
]


class H1Layout:
    """Coordinates of one group's saturated model: means (with a mean structure), then the
    lower triangle of Sigma column by column (lavaan's ``vech``), leaving out the moments of
    fixed exogenous covariates (lavaan zeroes them)."""

    def __init__(self, p: int, *, meanstructure: bool, exogenous: Iterable[int] = ()) -> None:
        x = set(int(i) for i in exogenous)
        self.p = p
        self.meanstructure = meanstructure
        self.exogenous = np.array(sorted(x), dtype=int)
        self.mean_index = np.array(
            [j for j in range(p) if j not in x] if meanstructure else [], dtype=int
        )
        pairs = [(i, j) for j in range(p) for i in range(j, p) if not (i in x and j in x)]
        self.rows = np.array([i for i, _ in pairs], dtype=int)
        self.cols = np.array([j for _, j in pairs], dtype=int)
        # vech coordinates of a symmetric matrix count off-diagonal elements twice.
        self.half = np.where(self.rows == self.cols, 0.5, 1.0)
        self.k = len(self.mean_index) + len(pairs)

    def delta(self, d_sigma: np.ndarray, d_mu: np.ndarray) -> np.ndarray:
        """Jacobian ``(k, q)`` of the implied moments in these coordinates."""
        parts = [d_mu[:, self.mean_index].T] if self.meanstructure else []
        parts.append(d_sigma[:, self.rows, self.cols].T)
        return np.vstack(parts)

    def selection(self, variances: bool = True) -> np.ndarray:
        """Jacobian of the independence (baseline) model: a free variance (and mean) per
        variable not fixed as exogenous."""
        diagonal = np.flatnonzero(self.rows == self.cols)
        free = [*range(len(self.mean_index)), *(len(self.mean_index) + diagonal)]
        out = np.zeros((self.k, len(free)))
        out[free, np.arange(len(free))] = 1.0
        return out

    def vech_kron(self, a: np.ndarray, b: np.ndarray, weights=None) -> np.ndarray:
        """``D' (A kron B) D`` in these vech coordinates (see :func:`engine.vech_kron`)."""
        return vech_kron(a, b, self.rows, self.cols, weights)


class PatternMoments(NamedTuple):
    """Sufficient statistics of data grouped by missing-data pattern: each pattern's mask of
    observed variables, row count, and mean and covariance (N divisor) embedded in p x p."""

    masks: np.ndarray
    counts: np.ndarray
    means: np.ndarray
    covs: np.ndarray

    @property
    def n(self) -> float:
        return float(self.counts.sum())

    @classmethod
    def of(cls, data: CompleteData | MissingData) -> PatternMoments:
        """The statistics of a fit's data (complete data: one pattern)."""
        if isinstance(data, MissingData):
            return cls(data.masks, data.counts, data.means, data.covs)
        p = len(data.cov)
        return cls(np.ones((1, p), dtype=bool), np.array([data.n], float), data.mean[None],
                   data.cov[None])  # fmt: skip

    def inverses(self, sigma: np.ndarray) -> np.ndarray:
        """Per pattern, the inverse of Sigma's observed block embedded in p x p (zeros
        elsewhere): the inverse of Sigma with ones on the missing variables' diagonal."""
        mask = self.masks.astype(float)
        filler = np.zeros_like(self.covs)
        diagonal = np.arange(self.masks.shape[1])
        filler[:, diagonal, diagonal] = 1 - mask
        outer = mask[:, :, None] * mask[:, None, :]
        return np.linalg.inv(sigma[None] * outer + filler) - filler


class Patterns:
    """Rows grouped by missing-data pattern (a single pattern for complete data)."""

    def __init__(self, values: np.ndarray) -> None:
        self.values = values
        self.n, self.p = values.shape
        observed = ~np.isnan(values)
        masks, inverse = np.unique(observed, axis=0, return_inverse=True)
        self.masks = masks
        self.rows = [np.flatnonzero(inverse.ravel() == k) for k in range(len(masks))]
        self.counts = np.array([len(r) for r in self.rows], dtype=float)

    @cached_property
    def filled(self) -> np.ndarray:
        return np.where(np.isnan(self.values), 0.0, self.values)

    @cached_property
    def moments(self) -> PatternMoments:
        """Each pattern's mean and covariance (N divisor) of its rows, embedded in p x p."""
        means, covs = [], []
        for rows, mask in zip(self.rows, self.masks, strict=True):
            block = self.filled[rows]
            mean = block.mean(axis=0)
            centered = (block - mean) * mask
            means.append(mean * mask)
            covs.append(centered.T @ centered / len(rows))
        return PatternMoments(self.masks, self.counts, np.array(means), np.array(covs))


def casewise_scores(
    layout: H1Layout, patterns: Patterns, sigma: np.ndarray, mu: np.ndarray
) -> np.ndarray:
    """Scores ``(n, k)`` of each row's normal log-likelihood (of its observed part) with
    respect to the h1 coordinates, at ``sigma`` and ``mu``."""
    scores = np.empty((patterns.n, layout.k))
    inverses = patterns.moments.inverses(sigma)
    r, c = layout.rows, layout.cols
    n_mean = len(layout.mean_index)
    for inverse, rows, mask in zip(inverses, patterns.rows, patterns.masks, strict=True):
        z = ((patterns.filled[rows] - mu) * mask) @ inverse
        if n_mean:
            scores[rows, :n_mean] = z[:, layout.mean_index]
        scores[np.ix_(rows, np.arange(n_mean, layout.k))] = layout.half * (
            z[:, r] * z[:, c] - inverse[r, c]
        )
    return scores


def observed_information(
    layout: H1Layout, moments: PatternMoments, sigma: np.ndarray, mu: np.ndarray
) -> np.ndarray:
    """Unit observed information ``(k, k)`` of the (incomplete-data) normal likelihood in
    the h1 coordinates at any ``sigma``, ``mu``: minus its Hessian over N (lavaan's
    ``lav_mvnorm_missing_logl_hessian_samplestats``); for complete data at the sample moments
    it equals the expected information."""
    inverse = moments.inverses(sigma)
    masks, counts = moments.masks.astype(float), moments.counts
    resid = (moments.means - mu) * masks
    t = np.einsum("sij,sj->si", inverse, resid)
    second = moments.covs + resid[:, :, None] * resid[:, None, :]
    observed_sigma = sigma[None] * (masks[:, :, None] * masks[:, None, :])
    tee = inverse @ (2 * second - observed_sigma) @ inverse
    h22 = layout.vech_kron(inverse, tee, 0.5 * counts)
    if not layout.meanstructure:
        return h22 / moments.n
    r, c, m = layout.rows, layout.cols, layout.mean_index
    h11 = np.tensordot(counts, inverse, axes=1)[np.ix_(m, m)]
    h21 = layout.half[:, None] * (
        np.einsum("s,sx,sxj->xj", counts, t[:, c], inverse[:, r][:, :, m])
        + np.einsum("s,sx,sxj->xj", counts, t[:, r], inverse[:, c][:, :, m])
    )
    top = np.hstack([h11, h21.T])
    bottom = np.hstack([h21, h22])
    return np.vstack([top, bottom]) / moments.n


def expected_information(
    layout: H1Layout, sigma: np.ndarray, moments: PatternMoments | None = None
) -> np.ndarray:
    """Unit expected information of normal data in the h1 coordinates at ``sigma``: the
    normal-theory weight matrix ``W`` for complete data; with missing-data patterns, their
    average (lavaan's ``lav_mvnorm_missing_information_expected``)."""
    if moments is None:
        inverse, weights = np.linalg.inv(sigma)[None], np.ones(1)
    else:
        inverse, weights = moments.inverses(sigma), moments.counts / moments.n
    cov_part = layout.vech_kron(inverse, inverse, 0.5 * weights)
    if not layout.meanstructure:
        return cov_part
    m = layout.mean_index
    k_mean = len(m)
    out = np.zeros((layout.k, layout.k))
    out[:k_mean, :k_mean] = np.tensordot(weights, inverse, axes=1)[np.ix_(m, m)]
    out[k_mean:, k_mean:] = cov_part
    return out


def adf_gamma(layout: H1Layout, values: np.ndarray) -> np.ndarray:
    """Asymptotic covariance ``Gamma`` of the sample moments (fourth-order moments, N
    divisor; lavaan's ``lav_samplestats_Gamma``), complete data only. With fixed exogenous
    covariates the moments are those of the outcomes' residuals from their regression on the
    covariates (lavaan's ``fixed.x = TRUE``)."""

    def moments_by_row(rows: np.ndarray) -> np.ndarray:
        centered = rows - rows.mean(axis=0)
        parts = [rows[:, layout.mean_index]] if layout.meanstructure else []
        parts.append(centered[:, layout.rows] * centered[:, layout.cols])
        return np.hstack(parts)

    u = moments_by_row(values)
    x = layout.exogenous
    if len(x):
        y = np.setdiff1d(np.arange(layout.p), x)
        design = np.column_stack([np.ones(len(values)), values[:, x]])
        fitted = values.copy()
        fitted[:, y] = design @ np.linalg.lstsq(design, values[:, y], rcond=None)[0]
        u = u - moments_by_row(fitted)
    u = u - u.mean(axis=0)
    return u.T @ u / len(values)


@dataclass
class GroupData:
    """One group's data and saturated estimates (sample moments, or EM estimates under FIML);
    ``weight`` is ``n_g / N``."""

    layout: H1Layout
    patterns: Patterns
    h1_cov: np.ndarray
    h1_mean: np.ndarray
    weight: float

    @cached_property
    def h1_information(self) -> np.ndarray:
        """``A1``: observed information of the saturated model at its estimates."""
        return observed_information(self.layout, self.patterns.moments, self.h1_cov, self.h1_mean)

    @cached_property
    def h1_first_order(self) -> np.ndarray:
        """``B1``: first-order information of the saturated model at its estimates."""
        return _first_order(self.layout, self.patterns, self.h1_cov, self.h1_mean)

    @cached_property
    def complete_information(self) -> np.ndarray:
        """Information the saturated model would have with complete data (``Wc``)."""
        return expected_information(self.layout, self.h1_cov)

    @cached_property
    def gamma(self) -> np.ndarray:
        return adf_gamma(self.layout, self.patterns.values)


@dataclass
class Implied:
    """A model's implied moments in one group and its Jacobian ``(k, q)`` in h1 coordinates
    (``mu`` is the sample mean when the model has no mean structure)."""

    sigma: np.ndarray
    mu: np.ndarray
    delta: np.ndarray


def _first_order(layout: H1Layout, patterns: Patterns, sigma, mu) -> np.ndarray:
    scores = casewise_scores(layout, patterns, sigma, mu)
    return scores.T @ scores / len(scores)


def first_order_by_group(
    groups: Sequence[GroupData], implied: Sequence[Implied]
) -> list[np.ndarray]:
    """``B0_g = Delta' B1(implied) Delta`` per group: the first-order information of the
    casewise scores at the model-implied moments (the meat of MLR's sandwich is
    ``sum_g f_g B0_g``)."""
    return [
        m.delta.T @ _first_order(g.layout, g.patterns, m.sigma, m.mu) @ m.delta
        for g, m in zip(groups, implied, strict=True)
    ]


def expected_model_information(
    groups: Sequence[GroupData], implied: Sequence[Implied]
) -> np.ndarray:
    """Unit expected information ``sum_g f_g Delta' W Delta`` (complete data)."""
    return sum(
        g.weight * m.delta.T @ expected_information(g.layout, m.sigma) @ m.delta
        for g, m in zip(groups, implied, strict=True)
    )


def satorra_bentler_meat(groups: Sequence[GroupData], implied: Sequence[Implied]) -> np.ndarray:
    """``sum_g f_g Delta' W Gamma W Delta``: the meat of MLM's sandwich."""
    weighted_deltas = [
        (g, expected_information(g.layout, m.sigma) @ m.delta)
        for g, m in zip(groups, implied, strict=True)
    ]
    return sum(g.weight * wd.T @ g.gamma @ wd for g, wd in weighted_deltas)


def yuan_bentler_mplus_trace(
    groups: Sequence[GroupData],
    first_order: Sequence[np.ndarray],
    observed_inverse: np.ndarray,
) -> float:
    """``tr(U Gamma)`` of lavaan's ``yuan.bentler.mplus`` test:
    ``sum_g tr(A1^-1 B1) - f_g tr(B0_g A^-1)``, with ``A^-1`` the inverse unit observed
    information of the model and ``B0_g`` from :func:`first_order_by_group`."""
    total = 0.0
    for g, b0 in zip(groups, first_order, strict=True):
        h1 = np.trace(np.linalg.solve(g.h1_information, g.h1_first_order))
        total += h1 - g.weight * np.sum(b0 * observed_inverse.T)
    return float(total)


def satorra_bentler_trace(
    groups: Sequence[GroupData], implied: Sequence[Implied], expected_inverse: np.ndarray
) -> float:
    """``tr(U Gamma)`` of the Satorra-Bentler test, ``U = W - W Delta E^-1 Delta' W``."""
    total = 0.0
    for g, m in zip(groups, implied, strict=True):
        w = expected_information(g.layout, m.sigma)
        wd = w @ m.delta
        total += np.sum(w * g.gamma) - g.weight * np.sum((wd.T @ g.gamma @ wd) * expected_inverse.T)
    return float(total)


def _discrepancy(sigma: np.ndarray, mu: np.ndarray, cov: np.ndarray, mean: np.ndarray) -> float:
    """Normal-theory ML discrepancy with a mean structure (zero at ``sigma = cov``)."""
    inverse = np.linalg.inv(sigma)
    resid = mean - mu
    return float(
        np.linalg.slogdet(sigma)[1]
        - np.linalg.slogdet(cov)[1]
        + np.sum(inverse * cov)
        - len(cov)
        + resid @ inverse @ resid
    )


def complete_data_chisq(
    groups: Sequence[GroupData], implied: Sequence[Implied], n_total: int
) -> float:
    """The ML chi-square the implied moments would have if the saturated (EM) estimates were
    complete-data sample moments: lavaan's ``XX3`` under FIML."""
    return n_total * sum(
        g.weight * _discrepancy(m.sigma, m.mu, g.h1_cov, g.h1_mean)
        for g, m in zip(groups, implied, strict=True)
    )


def fiml_corrected_trace(
    groups: Sequence[GroupData], implied: Sequence[Implied], *, scaled: bool
) -> float:
    """Trace of the FIML-corrected statistic (Zhang & Savalei, 2023; lavaan's
    ``lav_fit_fiml_corrected``), with ``U = Wm - Wm Delta (Delta' Wm Delta)^-1 Delta' Wm``,
    ``Wm`` the observed and ``Wc`` the complete-data information of the saturated model,
    every matrix block-diagonal over groups with the groups' weights:
    ``tr(U Wm^-1 Wc Wm^-1 U Gamma)``, ``Gamma = Wm^-1 Jm Wm^-1`` (version V3, beside a scaled
    test) or ``tr(Wc Wm^-1 U Wm^-1)`` (V6, normal-theory ML)."""
    information = sum(
        g.weight * m.delta.T @ g.h1_information @ m.delta
        for g, m in zip(groups, implied, strict=True)
    )
    inverse = np.linalg.inv(information)
    weighted_wd = [
        g.weight * g.h1_information @ m.delta for g, m in zip(groups, implied, strict=True)
    ]
    wm_inverse = [np.linalg.inv(g.h1_information) for g in groups]

    def u_block(i: int, j: int) -> np.ndarray:
        block = -weighted_wd[i] @ inverse @ weighted_wd[j].T
        if i == j:
            block = block + groups[i].weight * groups[i].h1_information
        return block

    if not scaled:
        return float(
            sum(
                np.trace(g.complete_information @ w @ u_block(i, i) @ w) / g.weight
                for i, (g, w) in enumerate(zip(groups, wm_inverse, strict=True))
            )
        )
    # lavaan's weights: Wm^-1 / f, Wc f and Gamma / f per group block.
    middle = [
        w @ g.complete_information @ w / g.weight for g, w in zip(groups, wm_inverse, strict=True)
    ]
    gamma = [w @ g.h1_first_order @ w / g.weight for g, w in zip(groups, wm_inverse, strict=True)]
    total = 0.0
    for i in range(len(groups)):
        for j in range(len(groups)):
            total += np.trace(u_block(i, j) @ middle[j] @ u_block(j, i) @ gamma[i])
    return float(total)


@dataclass(frozen=True)
class RobustInference:
    """Robust standard errors (the covariance matrix of the estimates, or None when the
    standard errors are normal-theory ones) and the scaled and robust fit measures."""

    vcov: np.ndarray | None
    fit: dict[str, float]


def _baseline_implied(
    groups: Sequence[GroupData], baseline: Sequence[tuple[np.ndarray, np.ndarray]]
) -> list[Implied]:
    """The independence models' implied moments, each group with its own parameters."""
    selections = [g.layout.selection() for g in groups]
    total = sum(s.shape[1] for s in selections)
    implied, offset = [], 0
    for g, selection, (sigma, mean) in zip(groups, selections, baseline, strict=True):
        delta = np.zeros((g.layout.k, total))
        delta[:, offset : offset + selection.shape[1]] = selection
        offset += selection.shape[1]
        implied.append(Implied(sigma, mean, delta))
    return implied


def _scaling_trace(
    test: str,
    groups: Sequence[GroupData],
    implied: Sequence[Implied],
    bread_inverse: np.ndarray,
    first_order: Sequence[np.ndarray] | None = None,
) -> float:
    if test == "satorra.bentler":
        return satorra_bentler_trace(groups, implied, bread_inverse)
    if first_order is None:
        first_order = first_order_by_group(groups, implied)
    return yuan_bentler_mplus_trace(groups, first_order, bread_inverse)


def _baseline_bread_inverse(
    information: str, groups: Sequence[GroupData], implied: Sequence[Implied]
) -> np.ndarray:
    """Inverse unit information of the independence model at its estimates; the model is
    linear in its parameters, so its observed information is ``Delta' H Delta``."""
    if information == "expected":
        matrix = expected_model_information(groups, implied)
    else:
        matrix = sum(
            g.weight
            * m.delta.T
            @ observed_information(g.layout, g.patterns.moments, m.sigma, m.mu)
            @ m.delta
            for g, m in zip(groups, implied, strict=True)
        )
    return np.linalg.inv(matrix)


def robust_inference(
    options,
    groups: Sequence[GroupData],
    implied: Sequence[Implied],
    baseline: Sequence[tuple[np.ndarray, np.ndarray]],
    *,
    bread_inverse: np.ndarray,
    n: int,
    fit: dict[str, float],
    fiml: bool,
) -> RobustInference:
    """Robust standard errors and test statistics of a fitted model.

    Parameters
    ----------
    options : EstimationOptions
        The ``se``, ``test`` and ``information`` to use.
    groups, implied : sequences
        Each group's data and the model's implied moments and Jacobian there.
    baseline : sequence of (cov, mean)
        Each group's independence-model moments (for the baseline test).
    bread_inverse : ndarray
        Inverse unit information of the model (observed or expected, per ``options``).
    n : int
        Total sample size.
    fit : dict
        The model's normal-theory fit measures (``chisq``, ``df``, ``baseline_chisq``...).
    fiml : bool
        Whether the data are incomplete (FIML): the robust indices are then FIML-corrected.
    """
    first_order = None  # MLR's B0_g, computed once for its standard errors and its test
    vcov = None
    if options.se == "robust.huber.white":
        first_order = first_order_by_group(groups, implied)
        meat = sum(g.weight * b0 for g, b0 in zip(groups, first_order, strict=True))
        vcov = bread_inverse @ meat @ bread_inverse / n
    elif options.se == "robust.sem":
        vcov = bread_inverse @ satorra_bentler_meat(groups, implied) @ bread_inverse / n
    if options.test == "standard" and not fiml:
        return RobustInference(vcov, {})

    df, baseline_df = fit["df"], fit["baseline_df"]
    n_groups = len(groups)
    baseline_model = _baseline_implied(groups, baseline)
    measures: dict[str, float] = {}
    if options.test != "standard":
        trace = _scaling_trace(options.test, groups, implied, bread_inverse, first_order)
        baseline_inverse = _baseline_bread_inverse(options.information, groups, baseline_model)
        baseline_trace = _scaling_trace(options.test, groups, baseline_model, baseline_inverse)
        measures = fitmeasures.scaled_measures(
            chisq=fit["chisq"],
            df=df,
            trace=trace,
            baseline_chisq=fit["baseline_chisq"],
            baseline_df=baseline_df,
            baseline_trace=baseline_trace,
            n=n,
            groups=n_groups,
        )
    if fiml:
        # Robust RMSEA/CFI of incomplete data: from the FIML-corrected statistics.
        scaled = options.test != "standard"
        robust = {
            "chisq": complete_data_chisq(groups, implied, n),
            "c_hat": fiml_corrected_trace(groups, implied, scaled=scaled) / df,
            "baseline_chisq": complete_data_chisq(groups, baseline_model, n),
            "c_hat_baseline": fiml_corrected_trace(groups, baseline_model, scaled=scaled)
            / baseline_df,
        }
    else:
        robust = {
            "chisq": fit["chisq"],
            "c_hat": measures["chisq_scaling_factor"],
            "baseline_chisq": fit["baseline_chisq"],
            "c_hat_baseline": measures["baseline_chisq_scaling_factor"],
        }
    measures |= fitmeasures.robust_measures(
        df=df, baseline_df=baseline_df, n=n, groups=n_groups, **robust
    )
    return RobustInference(vcov, measures)
