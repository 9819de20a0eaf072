"""Common-method bias: Harman's single-factor test, as a CFA compared with the measurement model.

If one factor (a shared method, e.g. answering every item on the same 0-10 scale in one sitting)
accounted for the answers, a CFA with all items on a single factor would fit about as well as
the measurement model with its constructs; and, in Harman's original exploratory form, the
first unrotated factor would carry most of the items' variance. The test is weak and widely
criticised: it detects only method variance so large that it swamps the constructs, so passing
it does not show that common-method bias is absent (Podsakoff et al., 2003). Report it with
that caveat, alongside procedural remedies or a marker-variable design.

References
----------
Podsakoff, P. M., MacKenzie, S. B., Lee, J.-Y., & Podsakoff, N. P. (2003). Common method biases
in behavioral research: A critical review of the literature and recommended remedies. *Journal
of Applied Psychology*, 88(5), 879-903.

Fuller, C. M., Simmering, M. J., Atinc, G., Atinc, Y., & Babin, B. J. (2016). Common methods
variance detection in business research. *Journal of Business Research*, 69(8), 3192-3198.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from analysis._checks import check_constructs, require_columns
from analysis.sem import SemResult, fit_sem
from analysis.sem.fitmeasures import chisq_difference
from analysis.syntax import measurement_syntax

__all__ = ["HARMAN_NOTE", "ORDINAL_NOTE", "HarmanTest", "harman_single_factor"]

HARMAN_NOTE = (
    "Harman's single-factor test detects only method variance large enough to swamp the "
    "constructs: a poor single-factor fit and a first factor below 50% of the variance do not "
    "show that common-method bias is absent (Podsakoff et al., 2003)."
)
ORDINAL_NOTE = (
    " With ordered items (WLSMV) the chi-square difference of scaled-shifted statistics "
    "(lavaan's DIFFTEST) is not computed: compare the models' scaled fit indices; the first "
    "factor's share is that of the polychoric correlations."
)
_FIT_KEYS = ("chisq", "df", "pvalue", "cfi", "tli", "rmsea", "srmr")
_ROBUST_KEYS = (
    "chisq_scaled", "chisq_scaling_factor", "cfi_scaled", "rmsea_scaled", "cfi_robust",
    "rmsea_robust",
)  # fmt: skip


@dataclass(frozen=True)
class HarmanTest:
    """Harman's single-factor test.

    Attributes
    ----------
    single_factor, measurement : dict
        Fit of the one-factor CFA and of the measurement model: ``chisq, df, pvalue, cfi,
        tli, rmsea, srmr`` and, with a robust estimator or WLSMV, ``chisq_scaled,
        chisq_scaling_factor, cfi_scaled, rmsea_scaled, cfi_robust, rmsea_robust``.
    delta_chisq, delta_df, delta_pvalue : float
        Chi-square difference test of the one-factor model against the measurement model
        (Satorra-Bentler scaled with a robust estimator; NaN statistic and p-value with
        ordered items).
    first_factor_share : float
        Share of the items' total (standardized) variance carried by the first unrotated
        principal component of the complete rows (of their polychoric correlations with
        ordered items), the figure Harman's test is usually reported with (flag > .50).
    n : int
        Rows used by the fits.
    note : str
        The test's known weakness, for the report.
    """

    single_factor: dict[str, float]
    measurement: dict[str, float]
    delta_chisq: float
    delta_df: float
    delta_pvalue: float
    first_factor_share: float
    n: int
    note: str = HARMAN_NOTE

    @property
    def single_factor_dominates(self) -> bool:
        """The classic flag: the first factor carries most of the variance."""
        return self.first_factor_share > 0.5

    def to_dict(self) -> dict:
        return {
            "single_factor": dict(self.single_factor),
            "measurement": dict(self.measurement),
            "delta_chisq": self.delta_chisq,
            "delta_df": self.delta_df,
            "delta_pvalue": self.delta_pvalue,
            "first_factor_share": self.first_factor_share,
            "single_factor_dominates": self.single_factor_dominates,
            "n": self.n,
            "note": self.note,
        }


def harman_single_factor(
    data: pd.DataFrame,
    *,
    constructs: Mapping[str, Sequence[str]],
    measurement: SemResult | None = None,
    missing: Literal["listwise", "fiml"] = "listwise",
    estimator: str | None = None,
    ordered: Sequence[str] = (),
) -> HarmanTest:
    """Harman's single-factor test of common-method variance.

    Fits a CFA with every item on one factor and compares it with the measurement model
    (every construct a factor, freely correlated), which it is nested in.

    Parameters
    ----------
    data : pandas.DataFrame
        The items, reverse-keyed items already recoded.
    constructs : mapping of str to sequence of str
        Construct -> its items (two or more constructs).
    measurement : SemResult, optional
        The measurement model already fitted to the same data with the same options (fitted
        here otherwise).
    missing, estimator : str
        As in :func:`analysis.sem.fit_sem`.
    ordered : sequence of str
        Items analysed as ordered (WLSMV), as in :func:`analysis.sem.fit_sem`; the difference
        test is then not computed (see :data:`ORDINAL_NOTE`).

    Returns
    -------
    HarmanTest

    Raises
    ------
    ValueError
        Fewer than two constructs, unknown or non-numeric items, or a model that cannot be
        estimated.

    References
    ----------
    Podsakoff, P. M., MacKenzie, S. B., Lee, J.-Y., & Podsakoff, N. P. (2003). Common method
    biases in behavioral research. *Journal of Applied Psychology*, 88(5), 879-903.

    Examples
    --------
    >>> rng = np.random.default_rng(2)
    >>> f = rng.multivariate_normal([0, 0], [[1, 0.2], [0.2, 1]], 500)
    >>> items = {f"a{i}": 0.8 * f[:, 0] + 0.6 * rng.standard_normal(500) for i in range(3)}
    >>> items |= {f"b{i}": 0.8 * f[:, 1] + 0.6 * rng.standard_normal(500) for i in range(3)}
    >>> test = harman_single_factor(pd.DataFrame(items),
    ...                             constructs={"A": ["a0", "a1", "a2"], "B": ["b0", "b1", "b2"]})
    >>> test.delta_df, test.delta_pvalue < 0.001, test.single_factor_dominates
    (1.0, True, False)
    """
    constructs = check_constructs(constructs, min_items=2)
    if len(constructs) < 2:
        raise ValueError("Harman's test compares one factor with two or more constructs")
    items = list(dict.fromkeys(item for members in constructs.values() for item in members))
    require_columns(data, items)
    ordered = list(ordered)
    if measurement is None:
        measurement = fit_sem(
            data,
            measurement_syntax(constructs),
            missing=missing,
            estimator=estimator,
            ordered=ordered,
        )
    single = fit_sem(
        data,
        measurement_syntax({"METHOD": items}),
        missing=missing,
        estimator=estimator,
        ordered=ordered,
    )
    if single.ordinal_statistics is None:
        delta_chisq, delta_df, delta_pvalue = chisq_difference(single.fit, measurement.fit)
        correlations = data[items].dropna().corr().to_numpy()
        note = HARMAN_NOTE
    else:
        delta_chisq, delta_pvalue = math.nan, math.nan
        delta_df = single.fit["df"] - measurement.fit["df"]
        correlations = single.ordinal_statistics.cor
        note = HARMAN_NOTE + ORDINAL_NOTE
    first = float(np.linalg.eigvalsh(correlations)[-1]) / len(items)
    return HarmanTest(
        single_factor=_fit_summary(single.fit),
        measurement=_fit_summary(measurement.fit),
        delta_chisq=float(delta_chisq),
        delta_df=float(delta_df),
        delta_pvalue=float(delta_pvalue),
        first_factor_share=first,
        n=single.n_used,
        note=note,
    )


def _fit_summary(fit: Mapping[str, float]) -> dict[str, float]:
    return {key: fit[key] for key in (*_FIT_KEYS, *_ROBUST_KEYS) if key in fit}
