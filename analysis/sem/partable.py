"""The full parameter table of a model, built from the user's syntax with lavaan's defaults.

Mirrors ``lavaan::lavaanify()`` for ``sem()``/``cfa()``: user rows in syntax order, then
default residual and latent variances, covariances of exogenous factors and of endogenous
variables that predict nothing, fixed exogenous covariates (``fixed.x = TRUE``), intercepts when
there is a mean structure, and defined parameters last. Marker loadings are fixed to 1 (or
factor variances to 1 with ``std_lv``), single indicators get a zero residual variance, and rows
sharing a label share one free parameter.

With ordered items (``thresholds``) it mirrors lavaan's categorical table (delta
parameterization): free thresholds (``|`` rows) after the user's rows, the items' residual
variances and intercepts fixed (the variances are filled in by the model: one minus the
variance explained), and their scale factors (``~*~`` rows, fixed to 1) before the intercepts.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from itertools import combinations

import numpy as np

from analysis.errors import IdentificationError, ModelSyntaxError
from analysis.syntax import ModelSpec, ParameterRow

__all__ = ["ParameterTable", "build_table"]


@dataclass(frozen=True)
class ParameterTable:
    """lavaan-style parameter table.

    Attributes
    ----------
    lhs, op, rhs, label : tuple of str
        One entry per row, as in ``parameterEstimates()``.
    free : ndarray of int
        Index into the free-parameter vector, ``-1`` for fixed rows (and for ``:=`` rows).
    value : ndarray of float
        Fixed values (NaN for free rows, and for exogenous rows filled from the data).
    start : ndarray of float
        User starting values (NaN when none).
    exo : ndarray of bool
        Rows fixed at sample values of exogenous covariates (``fixed.x``).
    user : ndarray of bool
        Rows written by the user.
    observed, latent, exogenous_observed : tuple of str
        Variable names; RAM position of a variable is its index in ``observed + latent``.
    meanstructure : bool
        Whether intercepts are modelled.
    n_free : int
        Number of distinct free parameters (equal labels counted once).
    """

    lhs: tuple[str, ...]
    op: tuple[str, ...]
    rhs: tuple[str, ...]
    label: tuple[str, ...]
    free: np.ndarray
    value: np.ndarray
    start: np.ndarray
    exo: np.ndarray
    user: np.ndarray
    observed: tuple[str, ...]
    latent: tuple[str, ...]
    exogenous_observed: tuple[str, ...]
    meanstructure: bool
    n_free: int

    @property
    def variables(self) -> tuple[str, ...]:
        return self.observed + self.latent

    def __len__(self) -> int:
        return len(self.lhs)


@dataclass
class _Row:
    lhs: str
    op: str
    rhs: str
    user: bool
    free: bool = True
    value: float = np.nan
    label: str = ""
    start: float = np.nan
    exo: bool = False
    explicit_free: bool = False


def _lavaan_key(lhs: str, op: str, rhs: str) -> tuple[str, str, str]:
    if op == "~~":
        first, second = sorted((lhs, rhs))
        return first, op, second
    return lhs, op, rhs


def build_table(
    spec: ModelSpec,
    *,
    meanstructure: bool,
    std_lv: bool,
    thresholds: Mapping[str, int] | None = None,
) -> ParameterTable:
    """Expand a parsed model into lavaan's full parameter table (``sem()`` defaults).

    ``thresholds`` maps each ordered item to its number of thresholds (answer categories
    minus one); the table then follows lavaan's categorical conventions (see the module
    docstring).
    """
    thresholds = dict(thresholds or {})
    rows = list(spec.rows)
    composite = next((written for written in rows if written.op == "<~"), None)
    if composite is not None:
        raise ModelSyntaxError(
            f"the composite '{composite.lhs} <~ ...' needs partial least squares "
            "(estimator 'pls'); this estimator fits common factors ('=~') only",
            line=composite.line,
        )
    _check_thresholds(rows, thresholds)
    lv = list(spec.latent_variables)
    ov = list(spec.observed_variables)
    lv_set = set(lv)
    v_ind = list(dict.fromkeys(r.rhs for r in rows if r.op == "=~"))
    ov_ind = [name for name in v_ind if name not in lv_set]
    eqs_y = list(dict.fromkeys(r.lhs for r in rows if r.op == "~"))
    eqs_x = list(dict.fromkeys(r.rhs for r in rows if r.op == "~"))
    ov_y_reg = [name for name in eqs_y if name not in lv_set and name not in ov_ind]
    ov_x = [n for n in eqs_x if n not in lv_set and n not in ov_ind and n not in ov_y_reg]
    # lavaan treats an "exogenous" covariate with a user variance/covariance/intercept as random.
    mentioned = {r.lhs for r in rows if r.op in ("~~", "~1")} | {
        r.rhs for r in rows if r.op == "~~"
    }
    ov_x = [name for name in ov_x if name not in mentioned]
    ov_nox = [name for name in ov if name not in ov_x]
    lv_x = [name for name in lv if name not in v_ind and name not in eqs_y]
    ov_y = [n for n in ov if n in eqs_y and n not in v_ind and n not in eqs_x and n not in lv_set]
    lv_y = [n for n in lv if n in eqs_y and n not in v_ind and n not in eqs_x]

    ordered = [name for name in ov if name in thresholds]
    defaults: list[tuple[str, str, str]] = [
        (name, "|", f"t{k}") for name in ordered for k in range(1, thresholds[name] + 1)
    ]
    defaults += [(name, "~~", name) for name in (*ov_nox, *lv)]
    defaults += [(a, "~~", b) for a, b in combinations(lv_x, 2)]
    defaults += [(a, "~~", b) for a, b in combinations([*lv_y, *ov_y], 2)]
    defaults += [(ov_x[j], "~~", ov_x[i]) for j in range(len(ov_x)) for i in range(j, len(ov_x))]
    defaults += [(name, "~*~", name) for name in ordered]
    if meanstructure:
        defaults += [(name, "~1", "") for name in (*ov, *lv)]

    user_keys = {_lavaan_key(r.lhs, r.op, r.rhs) for r in rows}
    table = [_Row(r.lhs, r.op, r.rhs, user=True) for r in rows]
    table += [_Row(*key, user=False) for key in defaults if _lavaan_key(*key) not in user_keys]

    def fix(row: _Row, value: float) -> None:
        row.free, row.value = False, value

    indicator_count = {factor: len(items) for factor, items in spec.latent.items()}
    indicator_of: dict[str, list[str]] = {}
    for r in rows:
        if r.op == "=~":
            indicator_of.setdefault(r.rhs, []).append(r.lhs)
    single = {
        items[0]
        for factor, items in spec.latent.items()
        if indicator_count[factor] == 1 and len(indicator_of[items[0]]) == 1
    }
    first_loading_seen: set[str] = set()
    for row in table:
        if std_lv and row.op == "~~" and row.lhs == row.rhs and row.lhs in lv_set:
            fix(row, 1.0)
        if row.op == "=~" and not std_lv and row.lhs not in first_loading_seen:
            first_loading_seen.add(row.lhs)
            fix(row, 1.0)
        if row.op == "~*~":
            fix(row, 1.0)
        if not row.user:
            variance_or_intercept = row.op == "~1" or (row.op == "~~" and row.lhs == row.rhs)
            if variance_or_intercept and row.lhs in thresholds:
                fix(row, 0.0)  # an ordered item's residual variance is set by the model
            if row.op == "~~" and row.lhs == row.rhs and row.lhs in single:
                fix(row, 0.0)
            if row.op == "~1" and row.lhs in lv_set:
                fix(row, 0.0)
            if row.op in ("~~", "~1") and row.lhs in ov_x and (row.op == "~1" or row.rhs in ov_x):
                row.free, row.exo = False, True

    for row, written in zip(table, rows, strict=False):
        _apply_modifiers(row, written)

    _check_single_indicator_factors(spec, table)

    # One free parameter per distinct label; unlabelled free rows get their own.
    free_index = np.full(len(table), -1)
    by_label: dict[str, int] = {}
    n_free = 0
    for i, row in enumerate(table):
        if not row.free:
            continue
        if row.label and row.label in by_label:
            free_index[i] = by_label[row.label]
            continue
        free_index[i] = n_free
        if row.label:
            by_label[row.label] = n_free
        n_free += 1
    for row in table:
        if row.label in by_label and not row.free:
            raise ModelSyntaxError(
                f"label '{row.label}' is shared by a fixed and a free parameter "
                f"('{row.lhs} {row.op} {row.rhs}')"
            )

    for parameter in spec.defined:
        table.append(
            _Row(
                parameter.name,
                ":=",
                parameter.expression.text.replace(" ", ""),
                user=True,
                free=False,
                label=parameter.name,
            )
        )
        free_index = np.append(free_index, -1)

    return ParameterTable(
        lhs=tuple(r.lhs for r in table),
        op=tuple(r.op for r in table),
        rhs=tuple(r.rhs for r in table),
        label=tuple(r.label for r in table),
        free=free_index,
        value=np.array([np.nan if r.free or r.exo else r.value for r in table], dtype=float),
        start=np.array([r.start for r in table], dtype=float),
        exo=np.array([r.exo for r in table], dtype=bool),
        user=np.array([r.user for r in table], dtype=bool),
        observed=tuple(ov),
        latent=tuple(lv),
        exogenous_observed=tuple(ov_x),
        meanstructure=meanstructure,
        n_free=n_free,
    )


def _check_thresholds(rows: list[ParameterRow], thresholds: Mapping[str, int]) -> None:
    """Threshold rows must name an ordered item and one of its thresholds."""
    for row in rows:
        if row.op != "|":
            continue
        if row.lhs not in thresholds:
            raise ModelSyntaxError(
                f"'{row.lhs} | {row.rhs}': thresholds belong to ordered items, and "
                f"'{row.lhs}' is not declared ordered",
                line=row.line,
            )
        if int(row.rhs[1:]) > thresholds[row.lhs]:
            raise ModelSyntaxError(
                f"'{row.lhs} | {row.rhs}': '{row.lhs}' has {thresholds[row.lhs]} threshold(s) "
                f"({thresholds[row.lhs] + 1} answer categories in the data)",
                line=row.line,
            )


def _apply_modifiers(row: _Row, written: ParameterRow) -> None:
    row.label = written.label
    if written.start is not None:
        row.start = written.start
    if written.fixed is not None:
        row.free, row.value = False, written.fixed
    elif written.free:
        row.free, row.value, row.explicit_free = True, np.nan, True


def _check_single_indicator_factors(spec: ModelSpec, table: list[_Row]) -> None:
    """A factor with one indicator and no other relation cannot be told apart from its item."""
    for factor, items in spec.latent.items():
        if len(items) != 1:
            continue
        involved = any(
            (factor in (row.lhs, row.rhs) and row.op in ("~", "~~") and row.lhs != row.rhs)
            or (row.op == "=~" and row.rhs == factor)
            for row in table
        )
        if not involved:
            raise IdentificationError(
                f"factor '{factor}' has a single indicator ('{items[0]}') and no other relation "
                "in the model, so it is not identified; give it more items or model the item "
                "directly"
            )
