"""Measurement invariance across groups (waves, segments): configural, metric and scalar.

The measurement model is fitted three times in all groups at once (:func:`fit_multigroup`):
with the same factor structure only (configural), with equal loadings (metric), and with equal
loadings and intercepts (scalar). Each level is compared with the one before by the change in
CFI (Cheung & Rensvold, 2002: a drop of more than .01 signals non-invariance), with the change
in RMSEA (Chen, 2007) and the chi-square difference test reported beside it. Construct means
(and so indices) are comparable across groups only under scalar invariance; relations between
constructs already under metric invariance.

References
----------
Cheung, G. W., & Rensvold, R. B. (2002). Evaluating goodness-of-fit indexes for testing
measurement invariance. *Structural Equation Modeling*, 9(2), 233-255.

Chen, F. F. (2007). Sensitivity of goodness of fit indexes to lack of measurement invariance.
*Structural Equation Modeling*, 14(3), 464-504.

Putnick, D. L., & Bornstein, M. H. (2016). Measurement invariance conventions and reporting:
The state of the art and future directions for psychological research. *Developmental Review*,
41, 71-90.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from analysis._checks import check_constructs, require_columns
from analysis.sem.multigroup import fit_multigroup
from analysis.syntax import measurement_syntax

__all__ = ["INVARIANCE_LEVELS", "measurement_invariance"]

# Level -> parameters held equal across groups (lavaan's group.equal).
INVARIANCE_LEVELS: dict[str, tuple[str, ...]] = {
    "configural": (),
    "metric": ("loadings",),
    "scalar": ("loadings", "intercepts"),
}
COLUMNS = [
    "level",
    "npar",
    "chisq",
    "df",
    "pvalue",
    "cfi",
    "tli",
    "rmsea",
    "srmr",
    "bic",
    "delta_chisq",
    "delta_df",
    "delta_pvalue",
    "delta_cfi",
    "delta_rmsea",
    "holds",
]


def measurement_invariance(
    data: pd.DataFrame,
    *,
    constructs: Mapping[str, Sequence[str]],
    group: str,
    group_order: Sequence[Hashable] | None = None,
    min_cfi: float = 0.90,
    max_rmsea: float = 0.08,
    max_cfi_drop: float = 0.01,
) -> pd.DataFrame:
    """Test configural, metric and scalar invariance of a measurement model across groups.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per respondent with the items (numeric, reverse-keyed items already recoded if
        loadings are to read positive) and the ``group`` column. Rows with a missing item are
        left out of their group (listwise deletion).
    constructs : mapping of str to sequence of str
        Construct -> its items; every construct needs at least two items.
    group : str
        Column holding each row's group, e.g. the wave.
    group_order : sequence, optional
        The groups to compare, the reference group first; by default all groups in order of
        first appearance.
    min_cfi, max_rmsea : float
        The configural model holds when its fit is at least acceptable: CFI ≥ ``min_cfi`` and
        RMSEA ≤ ``max_rmsea`` (Hu & Bentler, 1999).
    max_cfi_drop : float
        A stricter level holds when CFI falls by no more than this from the level before and
        that level held (Cheung & Rensvold, 2002).

    Returns
    -------
    pandas.DataFrame
        One row per level (``configural``, ``metric``, ``scalar``): ``npar, chisq, df, pvalue,
        cfi, tli, rmsea, srmr, bic`` of the fitted model; ``delta_chisq, delta_df,
        delta_pvalue`` (chi-square difference test against the level before), ``delta_cfi`` and
        ``delta_rmsea`` (this level minus the level before; NaN for configural); ``holds``.

    Raises
    ------
    ValueError
        Unknown columns, constructs with fewer than two items, fewer than two groups, a group
        with too few complete rows, or a model that cannot be estimated.

    References
    ----------
    Cheung, G. W., & Rensvold, R. B. (2002). Evaluating goodness-of-fit indexes for testing
    measurement invariance. *Structural Equation Modeling*, 9(2), 233-255.

    Hu, L., & Bentler, P. M. (1999). Cutoff criteria for fit indexes in covariance structure
    analysis. *Structural Equation Modeling*, 6(1), 1-55.

    Examples
    --------
    >>> rng = np.random.default_rng(3)
    >>> f = rng.standard_normal(600)
    >>> data = pd.DataFrame({f"q{i}": 0.8 * f + 0.6 * rng.standard_normal(600) for i in range(4)})
    >>> data["wave"] = np.repeat(["2026-Q1", "2026-Q2"], 300)
    >>> table = measurement_invariance(data, constructs={"SAT": ["q0", "q1", "q2", "q3"]},
    ...                                group="wave")
    >>> table["level"].tolist(), table["holds"].tolist()
    (['configural', 'metric', 'scalar'], [True, True, True])
    """
    constructs = check_constructs(constructs, min_items=2)
    items = [item for members in constructs.values() for item in members]
    require_columns(data, items)
    require_columns(data, [group], numeric=False)
    for name, value in (("min_cfi", min_cfi), ("max_rmsea", max_rmsea)):
        if not 0 < value < 1:
            raise ValueError(f"{name} must lie between 0 and 1, not {value}")
    if not 0 <= max_cfi_drop < 1:
        raise ValueError(f"max_cfi_drop must lie in [0, 1), not {max_cfi_drop}")
    model = measurement_syntax(constructs)
    rows: list[dict[str, Any]] = []
    previous: dict[str, Any] | None = None
    for level, equal in INVARIANCE_LEVELS.items():
        fit = fit_multigroup(data, model, group=group, equal=equal, group_order=group_order).fit
        row: dict[str, Any] = {"level": level} | {name: fit[name] for name in COLUMNS[1:10]}
        if previous is None:
            row |= dict.fromkeys(COLUMNS[10:15], np.nan)
            row["holds"] = bool(fit["cfi"] >= min_cfi and fit["rmsea"] <= max_rmsea)
        else:
            delta_chisq = fit["chisq"] - previous["chisq"]
            delta_df = fit["df"] - previous["df"]
            row |= {
                "delta_chisq": delta_chisq,
                "delta_df": delta_df,
                "delta_pvalue": float(stats.chi2.sf(max(delta_chisq, 0.0), delta_df)),
                "delta_cfi": fit["cfi"] - previous["cfi"],
                "delta_rmsea": fit["rmsea"] - previous["rmsea"],
            }
            row["holds"] = bool(previous["holds"] and row["delta_cfi"] >= -max_cfi_drop)
        rows.append(row)
        previous = row
    return pd.DataFrame(rows, columns=COLUMNS)
