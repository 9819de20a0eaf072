"""Nonparametric bootstrap of SEM results: percentile CIs of defined and standardized parameters.

Rows are resampled with replacement and the model is refitted from the full-sample estimate
(warm start). Resample ``i`` always draws from the ``i``-th child of
``numpy.random.SeedSequence(seed)``, so results depend on the seed only, not on the number of
worker processes.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from itertools import pairwise
from typing import Literal

import numpy as np
import pandas as pd

from analysis._parallel import fill_rows
from analysis.sem.engine import CompleteData, MissingData, fisher_scoring
from analysis.sem.fitting import Estimator, fit_sem, prepare_data, sample_moments
from analysis.sem.partable import build_table
from analysis.syntax import ModelSpec, parse_model

__all__ = ["bootstrap_sem"]


def bootstrap_sem(
    data: pd.DataFrame,
    model: str | ModelSpec,
    *,
    n_boot: int = 1000,
    seed: int | None = None,
    n_jobs: int | None = None,
    missing: Literal["listwise", "fiml"] = "listwise",
    std_lv: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> pd.DataFrame:
    """Percentile bootstrap confidence intervals for an SEM.

    Parameters
    ----------
    data : DataFrame
        The data, as for :func:`analysis.sem.fit_sem`.
    model : str or ModelSpec
        lavaan model syntax or a parsed model.
    n_boot : int
        Number of bootstrap resamples.
    seed : int, optional
        Seed for reproducible resamples (same result for any ``n_jobs``).
    n_jobs : int, optional
        Worker processes; default every core (``os.cpu_count()``); 1 runs in this process.
    missing : {"listwise", "fiml"}
        Missing-data handling of every refit (listwise resamples the complete rows).
    std_lv : bool
        Identify factors by unit variances, as in :func:`analysis.sem.fit_sem`.
    progress : callable, optional
        Called in this process as ``progress(done, total)`` as resamples finish.

    Returns
    -------
    DataFrame
        Index: defined parameters by name (``ind``), standardized regressions as ``"LOY~SAT"``
        and standardized loadings as ``"SAT=~sat1"``. Columns ``est`` (full-sample value:
        unstandardized for defined parameters, std.all otherwise), ``ci_lower`` and
        ``ci_upper`` (2.5% and 97.5% percentiles) and ``n_ok`` (converged resamples).

    References
    ----------
    Efron, B., & Tibshirani, R. J. (1993). *An introduction to the bootstrap*. Chapman & Hall.

    Preacher, K. J., & Hayes, A. F. (2008). Asymptotic and resampling strategies for assessing
    and comparing indirect effects in multiple mediator models. *Behavior Research Methods*,
    40(3), 879-891.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(3)
    >>> x = rng.standard_normal(200)
    >>> m = 0.5 * x + rng.standard_normal(200)
    >>> y = 0.4 * m + rng.standard_normal(200)
    >>> frame = pd.DataFrame({"x": x, "m": m, "y": y})
    >>> boot = bootstrap_sem(frame, "m ~ a*x\\ny ~ b*m\\nind := a*b", n_boot=50, seed=1, n_jobs=1)
    >>> list(boot.index)
    ['ind', 'm~x', 'y~m']
    >>> bool(boot.loc["ind", "ci_lower"] < boot.loc["ind", "est"] < boot.loc["ind", "ci_upper"])
    True
    """
    if not isinstance(n_boot, int) or n_boot < 1:
        raise ValueError(f"n_boot must be a positive integer, not {n_boot!r}")
    if n_jobs is not None and (not isinstance(n_jobs, int) or n_jobs < 1):
        raise ValueError(f"n_jobs must be a positive integer or None, not {n_jobs!r}")
    spec = parse_model(model) if isinstance(model, str) else model
    full = fit_sem(data, spec, missing=missing, std_lv=std_lv)
    estimator = full._estimator
    values = prepare_data(data, spec, missing=missing).values
    targets = _targets(estimator)
    estimates = full.estimates
    est = np.concatenate(
        [
            estimates.loc[estimates["op"] == ":=", "est"].to_numpy(),
            estimates["std_all"].to_numpy()[targets.std_rows],
        ]
    )
    job = _Job(
        spec=spec,
        meanstructure=estimator.table.meanstructure,
        std_lv=std_lv,
        missing=missing,
        values=values,
        theta=full._theta,
        metric=full._metric,
    )
    children = np.random.SeedSequence(seed).spawn(n_boot)
    workers = min(n_jobs or os.cpu_count() or 1, n_boot)
    draws = np.full((n_boot, len(est)), np.nan)
    # Few, large chunks keep inter-process overhead small; several per worker for progress.
    n_chunks = min(n_boot, workers * 4 if workers > 1 else 20)
    chunks = [
        (a, b) for a, b in pairwise(np.linspace(0, n_boot, n_chunks + 1).astype(int)) if b > a
    ]
    fill_rows(
        draws,
        job.run,
        {(a, b): (children[a:b],) for a, b in chunks},
        workers=workers,
        preload=__name__,
        progress=progress,
    )
    ok = ~np.isnan(draws).any(axis=1)
    good = draws[ok]
    if len(good):
        lower, upper = np.percentile(good, [2.5, 97.5], axis=0)
    else:
        lower = upper = np.full(len(est), np.nan)
    return pd.DataFrame(
        {"est": est, "ci_lower": lower, "ci_upper": upper, "n_ok": int(ok.sum())},
        index=pd.Index(targets.names, name="parameter"),
    )


class _Targets:
    def __init__(self, names: list[str], std_rows: np.ndarray, std_positions: np.ndarray):
        self.names = names
        self.std_rows = std_rows  # rows of the parameter table
        self.std_positions = std_positions  # positions among the model's non-":=" rows


def _targets(estimator: Estimator) -> _Targets:
    table = estimator.table
    names = [d.name for d in estimator.spec.defined]
    rows, positions = [], []
    for position, row in enumerate(estimator.model.rows):
        if table.op[row] in ("~", "=~"):
            names.append(f"{table.lhs[row]}{table.op[row]}{table.rhs[row]}")
            rows.append(row)
            positions.append(position)
    return _Targets(names, np.array(rows, dtype=int), np.array(positions, dtype=int))


class _Job:
    """Everything a worker needs to refit resamples; pickled once per chunk."""

    def __init__(self, *, spec, meanstructure, std_lv, missing, values, theta, metric):
        self.spec = spec
        self.meanstructure = meanstructure
        self.std_lv = std_lv
        self.missing = missing
        self.values = values
        self.theta = theta
        self.metric = metric

    def run(self, seeds: list[np.random.SeedSequence]) -> np.ndarray:
        estimator = Estimator(
            self.spec,
            build_table(self.spec, meanstructure=self.meanstructure, std_lv=self.std_lv),
        )
        targets = _targets(estimator)
        model = estimator.model
        n = len(self.values)
        n_out = len(estimator.spec.defined) + len(targets.std_positions)
        out = np.full((len(seeds), n_out), np.nan)
        has_exo = estimator.n_exo > 0
        fixed = None
        for i, child in enumerate(seeds):
            sample = self.values[np.random.default_rng(child).integers(0, n, n)]
            data: CompleteData | MissingData
            if self.missing == "fiml":
                data = MissingData(sample)
                observed = ~np.isnan(sample)
                if (observed.sum(axis=0) < 2).any():
                    continue
                cov = mean = None
                if has_exo or fixed is None:
                    x_cov, x_mean = _exo_moments(sample, estimator)
                    fixed = estimator.fixed_values(x_cov, x_mean)
                metric = self.metric
            else:
                cov, mean = sample_moments(sample)
                complete = CompleteData(cov, mean, n, meanstructure=self.meanstructure)
                if not np.isfinite(complete.logdet):
                    continue
                data = complete
                if has_exo or fixed is None:
                    fixed = estimator.fixed_values(cov, mean)
                metric = None
            theta, _, converged, _ = fisher_scoring(
                model, data, self.theta, fixed, max_iter=200, metric=metric
            )
            if not converged and metric is not None:
                theta, _, converged, _ = fisher_scoring(model, data, theta, fixed, max_iter=200)
            if not converged:
                continue
            row_values = model.row_values(theta, fixed)
            mom = model.moments(theta, fixed)
            std = estimator.standardized(mom, row_values)[targets.std_positions]
            defined = estimator.defined(row_values)[0]
            out[i] = np.concatenate([defined, std])
        return out


def _exo_moments(sample: np.ndarray, estimator: Estimator) -> tuple[np.ndarray, np.ndarray]:
    p = sample.shape[1]
    cov, mean = np.eye(p), np.zeros(p)
    x = estimator._exo_x
    if len(x):
        x_cov, x_mean = sample_moments(sample[:, x])
        cov[np.ix_(x, x)] = x_cov
        mean[x] = x_mean
    return cov, mean
