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

import numpy as np
import pandas as pd

from analysis._checks import check_constructs, require_columns
from analysis.sem.fitmeasures import chisq_difference
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
    "chisq_scaled",
    "chisq_scaling_factor",
    "cfi_robust",
    "tli_robust",
    "rmsea_robust",
    "delta_chisq",
    "delta_df",
    "delta_pvalue",
    "delta_cfi",
    "delta_rmsea",
    "holds",
]
_FIT_COLUMNS = COLUMNS[1:15]
_DELTA_COLUMNS = COLUMNS[15:20]


def measurement_invariance(
    data: pd.DataFrame,
    *,
    constructs: Mapping[str, Sequence[str]],
    group: str,
    group_order: Sequence[Hashable] | None = None,
    min_cfi: float = 0.90,
    max_rmsea: float = 0.08,
    max_cfi_drop: float = 0.01,
    partial: Sequence[str] = (),
    missing: str = "listwise",
    estimator: str = "ML",
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
    partial : sequence of str
        Parameters left free across groups at the metric and scalar levels (partial
        invariance; lavaan's ``group.partial``), e.g. ``["loy2~1"]`` for an item whose
        intercept differs between groups (Byrne, Shavelson & Muthén, 1989).
    missing : {"listwise", "fiml"}
        Missing answers: listwise deletion or multiple-group FIML.
    estimator : {"ML", "MLR", "MLM"}
        With a robust estimator the decisions use the robust CFI and RMSEA
        (Brosseau-Liard & Savalei) and the difference test is the Satorra-Bentler (2001)
        scaled difference.

    Returns
    -------
    pandas.DataFrame
        One row per level (``configural``, ``metric``, ``scalar``): ``npar, chisq, df, pvalue,
        cfi, tli, rmsea, srmr, bic`` of the fitted model, ``chisq_scaled,
        chisq_scaling_factor`` (robust estimators) and ``cfi_robust, tli_robust,
        rmsea_robust`` (robust estimators and FIML), NaN where lavaan reports none;
        ``delta_chisq, delta_df, delta_pvalue`` (chi-square difference test against
        the level before, scaled with a robust estimator), ``delta_cfi`` and ``delta_rmsea``
        (this level minus the level before, of the indices the decisions use; NaN for
        configural); ``holds``.

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

    Byrne, B. M., Shavelson, R. J., & Muthén, B. (1989). Testing for the equivalence of factor
    covariance and mean structures: The issue of partial measurement invariance.
    *Psychological Bulletin*, 105(3), 456-466.

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
    robust = str(estimator).upper() != "ML"
    cfi_name, rmsea_name = ("cfi_robust", "rmsea_robust") if robust else ("cfi", "rmsea")
    rows = []
    previous_fit: dict[str, float] | None = None
    for level, equal in INVARIANCE_LEVELS.items():
        fit = fit_multigroup(
            data,
            model,
            group=group,
            equal=equal,
            partial=partial if equal else (),
            group_order=group_order,
            missing=missing,
            estimator=estimator,
        ).fit
        row = {"level": level} | {name: fit.get(name, np.nan) for name in _FIT_COLUMNS}
        if previous_fit is None:
            row |= dict.fromkeys(_DELTA_COLUMNS, np.nan)
            holds = bool(fit[cfi_name] >= min_cfi and fit[rmsea_name] <= max_rmsea)
        else:
            delta_chisq, delta_df, delta_pvalue = chisq_difference(fit, previous_fit)
            delta_cfi = fit[cfi_name] - previous_fit[cfi_name]
            row |= {
                "delta_chisq": delta_chisq,
                "delta_df": delta_df,
                "delta_pvalue": delta_pvalue,
                "delta_cfi": delta_cfi,
                "delta_rmsea": fit[rmsea_name] - previous_fit[rmsea_name],
            }
            # A level holds only if every less restricted level held too.
            holds = bool(holds and delta_cfi >= -max_cfi_drop)
        row["holds"] = holds
        rows.append(row)
        previous_fit = fit
    return pd.DataFrame(rows, columns=COLUMNS)
