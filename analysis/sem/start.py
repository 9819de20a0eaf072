"""Starting values close to the solution, so that Fisher scoring needs few iterations.

Loadings come from covariance triads of each factor's items (in the spirit of lavaan's FABIN
estimates), the factor covariance matrix from the items' covariances divided by their loadings,
regressions from the normal equations of that matrix, and (residual) variances from what is
left; anything unusual falls back to lavaan's simple values (loadings 1, latent variances .05,
residual variances half the observed ones, regressions and covariances 0).

References
----------
Hägglund, G. (1982). Factor analysis by instrumental variables methods. *Psychometrika*,
47(2), 209-222.
"""

from __future__ import annotations

from itertools import combinations

import numpy as np

from analysis.sem.partable import ParameterTable

__all__ = ["starting_values"]


def _triad_loadings(cov: np.ndarray, items: list[int]) -> np.ndarray | None:
    """Loadings on a unit-variance factor from covariance triads (None if fewer than 3 items)."""
    if len(items) < 3:
        return None
    loadings = np.empty(len(items))
    for a, j in enumerate(items):
        others = [k for k in items if k != j]
        estimates = [
            cov[j, k] * cov[j, m] / cov[k, m]
            for k, m in combinations(others, 2)
            if abs(cov[k, m]) > 1e-12
        ]
        value = np.mean(estimates) if estimates else 0.0
        loadings[a] = np.sqrt(max(value, 0.01 * cov[j, j]))
    # Signs: relative to the first item.
    first = items[0]
    for a, j in enumerate(items[1:], start=1):
        if cov[first, j] < 0:
            loadings[a] = -loadings[a]
    return loadings


def starting_values(
    table: ParameterTable, fixed: np.ndarray, cov: np.ndarray, mean: np.ndarray
) -> np.ndarray:
    """Starting values of the free parameters for sample covariance ``cov`` and means ``mean``."""
    ov = {name: i for i, name in enumerate(table.observed)}
    lv = list(table.latent)
    n_rows = len(table)
    value = np.where(np.isnan(fixed), np.nan, fixed)
    ops, lhs, rhs = table.op, table.lhs, table.rhs

    # Measurement part: loadings and factor variances on each factor's own scale.
    scale: dict[str, float] = {}  # factor variance
    loading_of: dict[tuple[str, str], float] = {}
    for factor in lv:
        rows = [i for i in range(n_rows) if ops[i] == "=~" and lhs[i] == factor]
        items = [rhs[i] for i in rows]
        if not all(name in ov for name in items):
            continue
        unit = _triad_loadings(cov, [ov[name] for name in items])
        if unit is None:
            unit = np.sqrt(np.maximum(np.diag(cov)[[ov[n] for n in items]], 1e-8)) * 0.7
        # Match whichever loading is fixed (the marker), else the fixed factor variance.
        reference = next((a for a, i in enumerate(rows) if table.free[i] < 0), None)
        var_row = next(
            (i for i in range(n_rows) if ops[i] == "~~" and lhs[i] == rhs[i] == factor), None
        )
        if reference is not None and fixed[rows[reference]] != 0:
            c = fixed[rows[reference]] / unit[reference]
        elif var_row is not None and table.free[var_row] < 0 and fixed[var_row] > 0:
            c = 1 / np.sqrt(fixed[var_row])
        else:
            c = 1.0
        scale[factor] = 1 / c**2
        for item_loading, name in zip(unit, items, strict=True):
            loading_of[(factor, name)] = item_loading * c

    # Covariances of factors (and of observed variables in the structural part).
    def indicators(name: str) -> list[tuple[int, float]]:
        if name in ov:
            return [(ov[name], 1.0)]
        return [(ov[item], lam) for (f, item), lam in loading_of.items() if f == name]

    structural = [n for n in table.variables if n in scale or n in ov]
    phi: dict[tuple[str, str], float] = {}
    for a in structural:
        for b in structural:
            if a == b and a in scale:
                phi[(a, a)] = scale[a]
                continue
            pairs = [
                cov[i, j] / (li * lj)
                for i, li in indicators(a)
                for j, lj in indicators(b)
                if i != j and abs(li * lj) > 1e-8
            ]
            if a == b and a in ov:
                phi[(a, a)] = cov[ov[a], ov[a]]
            elif pairs:
                phi[(a, b)] = float(np.mean(pairs))

    predictors_of: dict[str, list[str]] = {}
    for i in range(n_rows):
        if ops[i] == "~":
            predictors_of.setdefault(lhs[i], []).append(rhs[i])
    beta: dict[tuple[str, str], float] = {}
    residual: dict[str, float] = {}
    for outcome, predictors in predictors_of.items():
        names = [outcome, *predictors]
        if not all((a, b) in phi for a in names for b in names):
            continue
        Pxx = np.array([[phi[(a, b)] for b in predictors] for a in predictors])
        Pxy = np.array([phi[(a, outcome)] for a in predictors])
        try:
            coef = np.linalg.solve(Pxx, Pxy)
        except np.linalg.LinAlgError:
            continue
        for name, c in zip(predictors, coef, strict=True):
            beta[(outcome, name)] = float(c)
        total = phi[(outcome, outcome)]
        residual[outcome] = max(total - float(coef @ Pxy), 0.1 * total)

    for i in range(n_rows):
        if table.free[i] < 0 or ops[i] == ":=":
            continue
        op, a, b = ops[i], lhs[i], rhs[i]
        if not np.isnan(table.start[i]):
            value[i] = table.start[i]
        elif op == "=~":
            value[i] = loading_of.get((a, b), 1.0)
        elif op == "~":
            value[i] = beta.get((a, b), 0.0)
        elif op == "~1":
            value[i] = mean[ov[a]] if a in ov else 0.0
        elif a == b and a in residual:
            value[i] = residual[a]
        elif a == b and a in ov:
            explained = sum(loading_of.get((f, a), 0.0) ** 2 * scale.get(f, 0.0) for f in lv)
            value[i] = max(cov[ov[a], ov[a]] - explained, 0.1 * cov[ov[a], ov[a]])
        elif a == b:
            value[i] = scale.get(a, 0.05)
        elif a in scale and b in scale:
            value[i] = phi.get((a, b), 0.0)
        else:
            value[i] = 0.0
    theta = np.zeros(table.n_free)
    seen = np.zeros(table.n_free, dtype=bool)
    for i in range(n_rows):
        k = table.free[i]
        if k >= 0 and not seen[k]:
            theta[k] = value[i]
            seen[k] = True
    return theta
