"""Our group comparisons, correlations, Holm, alpha and OLS against pingouin (and R to decide).

docs/crosschecks.md records what agrees and where pingouin differs: its correlation intervals
are rounded to two decimals, its Hedges' g uses the approximate small-sample correction, and
its listwise alpha interval counts the rows it dropped.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.compare import compare_groups
from analysis.correlation import correlations
from analysis.drivers import satisfaction_trap
from analysis.reliability import cronbach_alpha
from tests.crosscheck.support import (
    CONSTRUCTS,
    loyalty_items,
    loyalty_scores,
    r_reference,
    reference_library,
)

pg = reference_library("pingouin")

STATS = r_reference("stats_reference")
CROSSCHECK = r_reference("crosscheck_reference")
SAME = 1e-9  # two implementations of one formula in double precision


@pytest.fixture(scope="module")
def scores() -> pd.DataFrame:
    return loyalty_scores()


@pytest.fixture(scope="module")
def by_tier(scores):
    return compare_groups(scores, group="tier", variables=list(CONSTRUCTS))


def test_welch_anova_agrees(scores, by_tier):
    tests = by_tier.tests.set_index("variable")
    for variable in CONSTRUCTS:
        [theirs] = pg.welch_anova(data=scores, dv=variable, between="tier").to_dict("records")
        ours = tests.loc[variable]
        assert ours["statistic"] == pytest.approx(theirs["F"], rel=SAME)
        assert (ours["df1"], ours["df2"]) == pytest.approx((theirs["ddof1"], theirs["ddof2"]))
        assert ours["pvalue"] == pytest.approx(theirs["p_unc"], rel=1e-9)
        assert ours["eta_squared"] == pytest.approx(theirs["np2"], rel=SAME)


def test_welch_t_test_agrees(scores):
    pair = scores[scores["tier"].isin(["bronze", "gold"])]
    ours = compare_groups(pair, group="tier", variables=list(CONSTRUCTS)).tests
    for variable, row in ours.set_index("variable").iterrows():
        bronze = pair.loc[pair["tier"] == "bronze", variable]
        gold = pair.loc[pair["tier"] == "gold", variable]
        [theirs] = pg.ttest(bronze, gold, correction=True).to_dict("records")
        assert row["statistic"] == pytest.approx(theirs["T"], rel=SAME)
        assert row["df2"] == pytest.approx(theirs["dof"], rel=SAME)
        assert row["pvalue"] == pytest.approx(theirs["p_val"], rel=1e-9)


def test_games_howell_agrees_and_the_exact_hedges_correction_matches_r(scores, by_tier):
    ours = by_tier.posthoc.set_index(["variable", "group_a", "group_b"])
    r_pairs = {
        (expected["variable"], pair["group_a"], pair["group_b"]): pair
        for expected in STATS["compare"]["tier"]
        for pair in expected["games_howell"]
    }
    for variable in CONSTRUCTS:
        theirs = pg.pairwise_gameshowell(data=scores, dv=variable, between="tier")
        for pair in theirs.to_dict("records"):
            row = ours.loc[(variable, pair["A"], pair["B"])]
            for our_name, their_name in [("diff", "diff"), ("se", "se"), ("t", "T"), ("df", "df")]:
                assert row[our_name] == pytest.approx(pair[their_name], rel=SAME), our_name
            # Both integrate the studentized range (R's ptukey returns 0 where p is near 1e-14).
            assert row["pvalue"] == pytest.approx(pair["pval"], rel=1e-9, abs=1e-12)
            # pingouin's g is Cohen's d times J = 1 - 3 / (4 (n_a + n_b) - 9) ...
            a = scores.loc[scores["tier"] == pair["A"], variable]
            b = scores.loc[scores["tier"] == pair["B"], variable]
            pooled_sd = np.sqrt(
                ((a.size - 1) * a.var() + (b.size - 1) * b.var()) / (a.size + b.size - 2)
            )
            cohen_d = (a.mean() - b.mean()) / pooled_sd
            assert pair["hedges"] == pytest.approx(
                cohen_d * (1 - 3 / (4 * (a.size + b.size) - 9)), rel=1e-12
            )
            # ... ours (and R's effectsize) the exact Gamma-function correction.
            r_g = r_pairs[(variable, pair["A"], pair["B"])]["hedges"]["g"]
            assert row["hedges_g"] == pytest.approx(r_g, abs=1e-12)
            assert 1e-9 < abs(pair["hedges"] - r_g) < 2e-7


@pytest.mark.parametrize("method", ["pearson", "spearman"])
def test_pairwise_correlations_and_holm_agree_intervals_are_rounded_by_pingouin(method):
    # The 13 items with their missing answers (each pair uses its own complete rows) and the
    # respondent number, which is unrelated to them: its p-values take Holm's cap at 1.
    columns = ["respondent", *(item for group in CONSTRUCTS.values() for item in group)]
    items = loyalty_items()[columns]
    ours = correlations(items, methods=[method], adjust="holm")
    theirs = pg.pairwise_corr(items, method=method, padjust="holm")
    assert len(ours) == len(theirs) == 91
    assert (ours["x"].tolist(), ours["y"].tolist()) == (theirs["X"].tolist(), theirs["Y"].tolist())
    assert ours["n"].tolist() == theirs["n"].tolist()
    assert ours["n"].nunique() > 1
    np.testing.assert_allclose(ours["r"], theirs["r"], rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(ours["pvalue"], theirs["p_unc"], rtol=1e-9, atol=1e-300)
    np.testing.assert_allclose(ours["pvalue_adj"], theirs["p_corr"], rtol=1e-9, atol=1e-300)
    assert (ours["pvalue_adj"] == 1.0).sum() > 5
    # pingouin rounds the Fisher-z interval to two decimals; ours keeps full precision.
    their_ci = np.vstack(theirs["CI95"].to_numpy())
    np.testing.assert_array_equal(their_ci, ours[["ci_lower", "ci_upper"]].round(2).to_numpy())


def test_correlation_intervals_match_r_where_pingouin_rounds(scores):
    ours = correlations(scores, columns=list(CONSTRUCTS), methods=["pearson"])
    theirs = pg.pairwise_corr(scores, columns=list(CONSTRUCTS), method="pearson")
    r_rows = [row for row in STATS["correlations"] if row["method"] == "pearson"]
    r_ci = np.array([[row["ci_lower"], row["ci_upper"]] for row in r_rows])
    np.testing.assert_allclose(ours[["ci_lower", "ci_upper"]].to_numpy(), r_ci, atol=1e-12)
    rounding_error = np.abs(np.vstack(theirs["CI95"].to_numpy()) - r_ci)
    assert 0.001 < rounding_error.max() <= 0.005


def test_alpha_listwise_interval_counts_the_complete_rows_pingouin_counts_all():
    items = loyalty_items()
    ours = cronbach_alpha(items, constructs=CONSTRUCTS).set_index("construct")
    for construct, columns in CONSTRUCTS.items():
        r = CROSSCHECK["alpha"][construct]
        row = ours.loc[construct]
        alpha, (lower, upper) = pg.cronbach_alpha(items[columns], nan_policy="listwise")
        # The coefficient agrees: both drop the incomplete rows.
        assert row["n"] == r["n_complete"] < r["n_rows"]
        assert row["alpha"] == pytest.approx(alpha, rel=SAME)
        assert alpha == pytest.approx(r["complete_cases"]["alpha"], rel=SAME)
        # Feldt's F has n - 1 degrees of freedom, n the respondents whose answers enter alpha:
        # ours is psych::alpha() of the complete rows, to the last digit.
        assert row["alpha_ci_lower"] == pytest.approx(r["complete_cases"]["ci_lower"], abs=1e-12)
        assert row["alpha_ci_upper"] == pytest.approx(r["complete_cases"]["ci_upper"], abs=1e-12)
        # pingouin keeps n = all rows (as psych with use = "complete.obs") and rounds to .001.
        assert (lower, upper) == pytest.approx(
            (round(r["complete_obs"]["ci_lower"], 3), round(r["complete_obs"]["ci_upper"], 3)),
            abs=1e-12,
        )
        assert (lower, upper) != pytest.approx(
            (row["alpha_ci_lower"], row["alpha_ci_upper"]), abs=5e-4
        )


def test_pingouins_default_alpha_is_pairwise_as_psych_ours_is_listwise():
    items = loyalty_items()
    ours = cronbach_alpha(items, constructs=CONSTRUCTS).set_index("construct")["alpha"]
    for construct, columns in CONSTRUCTS.items():
        r = CROSSCHECK["alpha"][construct]
        pairwise, _ = pg.cronbach_alpha(items[columns])
        assert pairwise == pytest.approx(r["pairwise"]["alpha"], rel=SAME)
        assert 1e-4 < abs(ours[construct] - pairwise) < 0.005


def test_ols_of_the_satisfaction_trap_agrees(scores):
    ours = satisfaction_trap(scores, satisfaction="SAT", loyalty="LOY")
    centred = scores["SAT"] - ours.centre
    design = pd.DataFrame({"linear": centred, "quadratic": centred**2})
    theirs = pg.linear_regression(design, scores["LOY"])
    coefficients = ours.coefficients
    np.testing.assert_allclose(coefficients["estimate"], theirs["coef"], rtol=1e-10)
    np.testing.assert_allclose(coefficients["se"], theirs["se"], rtol=1e-10)
    np.testing.assert_allclose(coefficients["t"], theirs["T"], rtol=1e-10)
    np.testing.assert_allclose(coefficients["pvalue"], theirs["pval"], rtol=1e-9, atol=1e-300)
    assert ours.r_squared == pytest.approx(theirs["r2"].iloc[0], rel=1e-12)
    np.testing.assert_allclose(
        coefficients["estimate"], STATS["satisfaction_trap"]["estimate"], rtol=1e-10
    )
