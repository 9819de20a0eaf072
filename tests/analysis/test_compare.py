"""Group and wave comparisons against base R (oneway.test, t.test, ptukey, pt/pf noncentral)."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.compare import compare_groups, hedges_g, wave_change
from analysis.descriptives import construct_scores
from analysis.prepare import reverse_key

HERE = Path(__file__).parent
REFERENCE = json.loads((HERE / "reference" / "stats_reference.json").read_text())["compare"]
CONSTRUCTS = {
    "SAT": ["sat1", "sat2", "sat3", "sat4"],
    "VAL": ["val1", "val2", "val3"],
    "TRU": ["tru1", "tru2", "tru3"],
    "LOY": ["loy1", "loy2", "loy3"],
}
TOLERANCE = 1e-6


@pytest.fixture(scope="module")
def scores() -> pd.DataFrame:
    raw = pd.read_csv(HERE / "data" / "loyalty_segments.csv")
    recoded = reverse_key(raw, ["sat4"], scale_min=1, scale_max=7)
    return construct_scores(recoded, CONSTRUCTS).assign(tier=raw["tier"], wave=raw["wave"])


@pytest.fixture(scope="module")
def by_tier(scores):
    return compare_groups(scores, group="tier", variables=list(CONSTRUCTS))


def test_welch_anova_and_effect_sizes_match_r(by_tier):
    tests = by_tier.tests.set_index("variable")
    for expected in REFERENCE["tier"]:
        row = tests.loc[expected["variable"]]
        assert row["test"] == "welch_anova"
        assert row["k"] == 3
        for ours, theirs in [("statistic", "statistic"), ("df1", "df1"), ("df2", "df2")]:
            assert row[ours] == pytest.approx(expected[theirs], abs=TOLERANCE)
        assert row["pvalue"] == pytest.approx(expected["pvalue"], rel=1e-5, abs=1e-12)
        for column in (
            "eta_squared",
            "eta_squared_ci_lower",
            "eta_squared_ci_upper",
            "omega_squared",
        ):
            assert row[column] == pytest.approx(expected[column], abs=TOLERANCE), column


def test_games_howell_matches_ptukey(by_tier):
    posthoc = by_tier.posthoc.set_index(["variable", "group_a", "group_b"])
    assert len(posthoc) == 4 * 3
    for expected_variable in REFERENCE["tier"]:
        for expected in expected_variable["games_howell"]:
            row = posthoc.loc[
                (expected_variable["variable"], expected["group_a"], expected["group_b"])
            ]
            for column in ("diff", "se", "t", "df"):
                assert row[column] == pytest.approx(expected[column], abs=TOLERANCE), column
            assert row["pvalue"] == pytest.approx(expected["pvalue"], abs=1e-4)
            assert row["hedges_g"] == pytest.approx(expected["hedges"]["g"], abs=TOLERANCE)
            assert row["hedges_g_ci_lower"] == pytest.approx(
                expected["hedges"]["ci_lower"], abs=1e-5
            )
            assert row["hedges_g_ci_upper"] == pytest.approx(
                expected["hedges"]["ci_upper"], abs=1e-5
            )


def test_two_groups_use_welch_t_and_hedges_g(scores):
    two = scores[scores["tier"].isin(["gold", "bronze"])]
    result = compare_groups(two, group="tier", variables=list(CONSTRUCTS)).tests
    result = result.set_index("variable")
    for expected in REFERENCE["gold_bronze"]:
        row = result.loc[expected["variable"]]
        assert row["test"] == "welch_t"
        # Groups sort alphabetically: bronze minus gold, as in the R reference.
        assert row["statistic"] == pytest.approx(expected["statistic"], abs=TOLERANCE)
        assert row["df2"] == pytest.approx(expected["df"], abs=TOLERANCE)
        assert np.isnan(row["df1"])
        assert row["pvalue"] == pytest.approx(expected["pvalue"], rel=1e-5, abs=1e-12)
        assert row["hedges_g"] == pytest.approx(expected["hedges"]["g"], abs=TOLERANCE)
        assert row["hedges_g_ci_lower"] == pytest.approx(expected["hedges"]["ci_lower"], abs=1e-5)
        assert row["hedges_g_ci_upper"] == pytest.approx(expected["hedges"]["ci_upper"], abs=1e-5)
        assert row["eta_squared"] == pytest.approx(expected["eta_squared"], abs=TOLERANCE)


def test_wave_change_matches_t_test(scores):
    table = wave_change(scores, wave="wave", variables=list(CONSTRUCTS))
    table = table.set_index(["variable", "wave_from"])
    for steps in REFERENCE["waves"]:
        for expected in steps:
            row = table.loc[(expected["variable"], expected["wave_from"])]
            assert row["wave_to"] == expected["wave_to"]
            assert row["change"] == pytest.approx(expected["change"], abs=1e-12)
            assert row["t"] == pytest.approx(expected["t"], abs=TOLERANCE)
            assert row["df"] == pytest.approx(expected["df"], abs=TOLERANCE)
            assert row["pvalue"] == pytest.approx(expected["pvalue"], rel=1e-5, abs=1e-12)
            assert row["hedges_g"] == pytest.approx(expected["hedges"]["g"], abs=TOLERANCE)


def test_wave_order_can_be_given():
    data = pd.DataFrame({"wave": ["spring"] * 3 + ["autumn"] * 3, "SAT": [4, 5, 6, 6, 7, 5]})
    table = wave_change(data, wave="wave", variables=["SAT"], order=["spring", "autumn"])
    assert table.loc[0, ["wave_from", "wave_to"]].tolist() == ["spring", "autumn"]
    assert table.loc[0, "change"] == pytest.approx(1.0)
    with pytest.raises(ValueError, match="not in column"):
        wave_change(data, wave="wave", variables=["SAT"], order=["spring", "winter"])


def test_summary_and_small_groups(scores):
    data = scores.copy()
    data.loc[data.index[0], "tier"] = "platinum"  # a group of one: summarised, not tested
    result = compare_groups(data, group="tier", variables=["SAT"])
    summary = result.summary.set_index("group")
    assert summary.loc["platinum", "n"] == 1
    assert result.tests.loc[0, "k"] == 3
    gold = data.loc[data["tier"] == "gold", "SAT"]
    assert summary.loc["gold", "mean"] == pytest.approx(gold.mean())
    assert summary.loc["gold", "sd"] == pytest.approx(gold.std())


def test_hedges_g_sign_and_degenerate_cases():
    g, lower, upper = hedges_g([1, 2, 3], [4, 5, 6])
    assert g < 0 and lower < g < upper
    assert all(np.isnan(v) for v in hedges_g([1], [2, 3]))
    assert all(np.isnan(v) for v in hedges_g([2, 2], [2, 2]))


def test_validation(scores):
    with pytest.raises(ValueError, match="unknown column"):
        compare_groups(scores, group="segment", variables=["SAT"])
    with pytest.raises(ValueError, match="both the group"):
        compare_groups(scores, group="SAT", variables=["SAT"])
    with pytest.raises(ValueError, match="confidence"):
        compare_groups(scores, group="tier", variables=["SAT"], confidence=95)


def test_a_group_without_spread_gives_nan_not_an_error():
    data = pd.DataFrame({"g": list("aaabbbccc"), "y": [1, 2, 3, 4, 4, 4, 5, 7, 6]})
    row = compare_groups(data, group="g", variables=["y"]).tests.iloc[0]
    assert row["test"] == "welch_anova" and np.isnan(row["statistic"])
