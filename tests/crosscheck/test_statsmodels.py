"""Our Welch tests, Holm adjustment and OLS against statsmodels (docs/crosschecks.md)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.compare import compare_groups, wave_change
from analysis.correlation import correlations
from analysis.drivers import satisfaction_trap
from tests.crosscheck.support import CONSTRUCTS, loyalty_items, loyalty_scores, reference_library

reference_library("statsmodels")
from statsmodels.regression.linear_model import OLS  # noqa: E402
from statsmodels.stats.multitest import multipletests  # noqa: E402
from statsmodels.stats.oneway import anova_oneway  # noqa: E402
from statsmodels.stats.weightstats import ttest_ind  # noqa: E402

SAME = 1e-9


@pytest.fixture(scope="module")
def scores() -> pd.DataFrame:
    return loyalty_scores()


def test_welch_anova_agrees(scores):
    ours = compare_groups(scores, group="tier", variables=list(CONSTRUCTS)).tests
    for variable, row in ours.set_index("variable").iterrows():
        theirs = anova_oneway(
            scores[variable], scores["tier"], use_var="unequal", welch_correction=True
        )
        assert row["statistic"] == pytest.approx(theirs.statistic, rel=SAME)
        assert (row["df1"], row["df2"]) == pytest.approx(tuple(theirs.df), rel=SAME)
        assert row["pvalue"] == pytest.approx(theirs.pvalue, rel=1e-9)


def test_wave_to_wave_welch_t_agrees(scores):
    ours = wave_change(scores, wave="wave", variables=list(CONSTRUCTS))
    for row in ours.to_dict("records"):
        later = scores.loc[scores["wave"] == row["wave_to"], row["variable"]]
        earlier = scores.loc[scores["wave"] == row["wave_from"], row["variable"]]
        t, pvalue, df = ttest_ind(later, earlier, usevar="unequal")
        assert (row["t"], row["df"]) == pytest.approx((t, df), rel=SAME)
        assert row["pvalue"] == pytest.approx(pvalue, rel=1e-9)


def test_holm_adjustment_agrees():
    columns = ["respondent", *(item for group in CONSTRUCTS.values() for item in group)]
    ours = correlations(loyalty_items()[columns], methods=["pearson"], adjust="holm")
    reject, adjusted, *_ = multipletests(ours["pvalue"], method="holm")
    np.testing.assert_allclose(ours["pvalue_adj"], adjusted, rtol=1e-12, atol=1e-300)
    assert 0 < reject.sum() < len(reject)


def test_ols_of_the_satisfaction_trap_agrees(scores):
    ours = satisfaction_trap(scores, satisfaction="SAT", loyalty="LOY")
    centred = (scores["SAT"] - ours.centre).to_numpy()
    design = np.column_stack([np.ones(len(centred)), centred, centred**2])
    theirs = OLS(scores["LOY"].to_numpy(), design).fit()
    coefficients = ours.coefficients
    np.testing.assert_allclose(coefficients["estimate"], theirs.params, rtol=1e-10)
    np.testing.assert_allclose(coefficients["se"], theirs.bse, rtol=1e-10)
    np.testing.assert_allclose(coefficients["t"], theirs.tvalues, rtol=1e-10)
    np.testing.assert_allclose(coefficients["pvalue"], theirs.pvalues, rtol=1e-9, atol=1e-300)
    assert ours.r_squared == pytest.approx(theirs.rsquared, rel=1e-12)
    assert ours.n == theirs.nobs
