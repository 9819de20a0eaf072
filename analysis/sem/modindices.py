"""Modification indices: the score test of every parameter the model leaves fixed.

As lavaan's ``modindices()``: the model is extended by every parameter it could have (cross
loadings, residual covariances, regressions, covariances of factors, intercepts with a mean
structure) and by freeing its fixed parameters, all at their current values. With ``g`` the
gradient of the fit function (per observation) and ``I`` the expected information of the
extended model at the estimates, a parameter's index is

    mi = N g^2 / V,   V = I_11 - I_12 I_22^-1 I_21,

(Saris, Satorra & Sörbom, 1987), its expected parameter change ``epc = -g / V`` and
``sepc_all`` that change standardized like ``std.all``. A parameter whose freeing would leave
the model unidentified (``V`` about zero, e.g. a marker loading) gets no index.

References
----------
Sörbom, D. (1989). Model modification. *Psychometrika*, 54(3), 371-384.

Saris, W. E., Satorra, A., & Sörbom, D. (1987). The detection and correction of specification
errors in structural equation models. *Sociological Methodology*, 17, 105-129.
"""

from __future__ import annotations

from dataclasses import replace
from itertools import combinations_with_replacement

import numpy as np
import pandas as pd

from analysis.sem.engine import MissingData, RamModel
from analysis.sem.partable import ParameterTable
from analysis.sem.robust import H1Layout, PatternMoments, expected_information

__all__ = ["MI_COLUMNS", "modification_indices"]

MI_COLUMNS = ["lhs", "op", "rhs", "mi", "epc", "sepc_all"]
# lavaan's threshold below which V is taken as zero (the parameter is not identified).
_V_TOLERANCE = np.finfo(float).eps ** (1 / 3)


def _candidates(table: ParameterTable, spec) -> list[tuple[str, str, str]]:
    """lavaan's ``lav_partable_full``: every parameter a model of these variables could have."""
    observed = list(table.observed)
    latent = list(table.latent)
    exogenous = set(table.exogenous_observed)
    not_x = [name for name in observed if name not in exogenous]
    indicators = {item for items in spec.latent.values() for item in items}
    in_regressions = list(
        dict.fromkeys([*spec.regressions, *(p for ps in spec.regressions.values() for p in ps)])
    )
    rows = [
        (factor, "=~", item) for factor in latent for item in not_x if item not in in_regressions
    ]
    others = {name for name in observed if name not in indicators}
    rows += [
        (a, "~~", b)
        for a, b in combinations_with_replacement(not_x, 2)
        if a not in others and b not in others
    ]
    x = [name for name in observed if name in exogenous]
    rows += [(a, "~~", b) for a, b in combinations_with_replacement(x, 2)]
    rows += [(a, "~~", b) for a, b in combinations_with_replacement(latent, 2)]
    rows += [
        (y, "~", z)
        for y in in_regressions
        for z in in_regressions
        if y != z and not (y in indicators and z in latent)
    ]
    if table.meanstructure:
        rows += [(name, "~1", "") for name in (*observed, *latent)]
    return rows


def _key(lhs: str, op: str, rhs: str) -> tuple[str, str, str]:
    """A row's identity: ``a ~~ b`` is ``b ~~ a``."""
    if op == "~~":
        lhs, rhs = sorted((lhs, rhs))
    return (lhs, op, rhs)


def _extended_table(table: ParameterTable, spec) -> tuple[ParameterTable, np.ndarray, int]:
    """The model's rows (without ``:=``) followed by the candidates it lacks, every row a
    free parameter of its own. Returns the table, the model rows' positions and how many
    rows the model has."""
    model_rows = np.flatnonzero(np.array(table.op) != ":=")
    present = {_key(table.lhs[i], table.op[i], table.rhs[i]) for i in model_rows}
    added = [row for row in _candidates(table, spec) if _key(*row) not in present]
    lhs = [table.lhs[i] for i in model_rows] + [r[0] for r in added]
    op = [table.op[i] for i in model_rows] + [r[1] for r in added]
    rhs = [table.rhs[i] for i in model_rows] + [r[2] for r in added]
    m = len(lhs)
    extended = replace(
        table,
        lhs=tuple(lhs),
        op=tuple(op),
        rhs=tuple(rhs),
        label=("",) * m,
        free=np.arange(m),
        value=np.full(m, np.nan),
        start=np.full(m, np.nan),
        exo=np.zeros(m, dtype=bool),
        user=np.zeros(m, dtype=bool),
        n_free=m,
    )
    return extended, model_rows, len(model_rows)


def modification_indices(
    table: ParameterTable,
    spec,
    row_values: np.ndarray,
    data,
    moments,
    n: int,
    *,
    minimum: float = 0.0,
) -> pd.DataFrame:
    """Modification indices of a fitted single-group model (see the module docstring).

    Parameters
    ----------
    table : ParameterTable
        The fitted model's parameter table.
    spec : ModelSpec
        Its parsed syntax.
    row_values : ndarray
        Value of every non-``:=`` row at the estimates.
    data : CompleteData or MissingData
        The sample the model was fitted to.
    moments : Moments
        Implied moments at the estimates (for the standardization).
    n : int
        Sample size.
    minimum : float
        Leave out indices below this value.

    Returns
    -------
    DataFrame
        ``lhs, op, rhs, mi, epc, sepc_all``, largest index first.
    """
    extended, model_rows, n_model = _extended_table(table, spec)
    model = RamModel(extended)
    theta = np.concatenate([row_values, np.zeros(len(extended) - n_model)])
    mom = model.moments(theta, extended.value)
    _, parts = data.evaluate(mom, derivatives=True)
    d_sigma, d_mu = model.jacobian(mom)
    gradient = data.gradient(parts, d_sigma, d_mu) / 2
    # The expected information leaves out the moments of fixed exogenous covariates, as
    # lavaan's h1 information does (it zeroes them).
    exogenous = [table.observed.index(name) for name in table.exogenous_observed]
    layout = H1Layout(len(table.observed), meanstructure=table.meanstructure, exogenous=exogenous)
    patterns = PatternMoments.of(data) if isinstance(data, MissingData) else None
    delta = layout.delta(d_sigma, d_mu)
    information = delta.T @ expected_information(layout, mom.sigma, patterns) @ delta

    free = table.free[model_rows]
    original = np.flatnonzero(free >= 0)
    extra = np.flatnonzero(np.concatenate([free < 0, np.ones(len(extended) - n_model, bool)]))
    # Columns of shared (equal-labelled) parameters add up to the model's own parameters.
    k = np.zeros((len(extended), table.n_free))
    k[original, free[original]] = 1.0
    reduced = k.T @ information @ k
    cross = information[extra] @ k
    v = np.diag(information)[extra] - np.einsum(
        "ij,ji->i", cross, np.linalg.solve(reduced, cross.T)
    )
    g = gradient[extra]
    with np.errstate(divide="ignore", invalid="ignore"):
        v = np.where(v < _V_TOLERANCE, np.nan, v)
        mi = n * g**2 / v
        epc = -g / v
    sepc = _standardized_change(extended, extra, epc, theta, moments)
    frame = pd.DataFrame(
        {
            "lhs": [extended.lhs[i] for i in extra],
            "op": [extended.op[i] for i in extra],
            "rhs": [extended.rhs[i] for i in extra],
            "mi": mi,
            "epc": epc,
            "sepc_all": sepc,
        }
    )
    frame = frame[frame["mi"].notna() & (frame["mi"] >= minimum)]
    return frame.sort_values("mi", ascending=False, kind="stable").reset_index(drop=True)


def _standardized_change(
    table: ParameterTable, rows: np.ndarray, epc: np.ndarray, values: np.ndarray, moments
) -> np.ndarray:
    """lavaan's ``sepc.all``: each change standardized as ``std.all`` standardizes the
    parameter (variances by their current value, covariances by the residual variances)."""
    position = {name: i for i, name in enumerate(table.variables)}
    total = np.einsum("ij,jk,ik->i", moments.E, moments.S, moments.E)
    sd = np.sqrt(total)
    residual = np.diag(moments.S)
    exogenous = set(table.exogenous_observed)
    out = np.full(len(rows), np.nan)
    for k, i in enumerate(rows):
        op, a, b = table.op[i], position[table.lhs[i]], position.get(table.rhs[i], -1)
        change = epc[k]
        if op == "=~":
            out[k] = change * sd[a] / sd[b]
        elif op == "~":
            out[k] = change * sd[b] / sd[a]
        elif op == "~1":
            out[k] = change / sd[a]
        elif a != b:
            out[k] = change / np.sqrt(residual[a] * residual[b])
        elif table.lhs[i] in exogenous:
            out[k] = change / total[a]
        else:
            # A variance's change is replaced by its current value (lavaan's cov.std).
            value = values[i]
            out[k] = (
                0.0
                if abs(value) < np.sqrt(np.finfo(float).eps)
                else (np.sign(change) * abs(value) / total[a])
            )
    return out
