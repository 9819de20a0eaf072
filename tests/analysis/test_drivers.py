"""Drivers: satisfaction trap against R's lm, quadrant and IPA logic on constructed data."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.descriptives import construct_scores
from analysis.drivers import importance_performance, loyalty_quadrants, satisfaction_trap
from analysis.prepare import reverse_key

HERE = Path(__file__).parent
REFERENCE = json.loads((HERE / "reference" / "stats_reference.json").read_text())


@pytest.fixture(scope="module")
def scores() -> pd.DataFrame:
    raw = pd.read_csv(HERE / "data" / "loyalty_segments.csv")
    recoded = reverse_key(raw, ["sat4"], scale_min=1, scale_max=7)
    return construct_scores(
        recoded,
        {"SAT": ["sat1", "sat2", "sat3", "sat4"], "VAL": ["val1", "val2", "val3"],
         "LOY": ["loy1", "loy2", "loy3"]},
    )  # fmt: skip


def test_satisfaction_trap_matches_lm(scores):
    trap = satisfaction_trap(scores, satisfaction="SAT", loyalty="LOY")
    expected = REFERENCE["satisfaction_trap"]
    assert trap.n == expected["n"]
    assert trap.r_squared == pytest.approx(expected["r_squared"], abs=1e-10)
    for column in ("estimate", "se", "t", "pvalue"):
        assert trap.coefficients[column].to_numpy() == pytest.approx(
            np.array(expected[column]), rel=1e-8, abs=1e-12
        )
    assert trap.coefficients["term"].tolist() == ["intercept", "linear", "quadratic"]


def test_satisfaction_trap_detects_a_ceiling():
    rng = np.random.default_rng(7)
    sat = rng.uniform(1, 7, 400)
    loyalty = 7 - 6 * np.exp(-0.6 * (sat - 1)) + rng.normal(0, 0.3, 400)
    trap = satisfaction_trap(pd.DataFrame({"S": sat, "L": loyalty}), satisfaction="S", loyalty="L")
    assert trap.diminishing_returns
    linear = pd.DataFrame({"S": sat, "L": 1 + 0.8 * sat + rng.normal(0, 0.3, 400)})
    assert not satisfaction_trap(linear, satisfaction="S", loyalty="L").diminishing_returns


def test_loyalty_quadrants_split_above_the_midpoint():
    scores = pd.DataFrame({"ATL": [7, 6, 6, 2, 4, 4, 1, np.nan], "BHL": [7, 5, 2, 6, 4, 5, 1, 7]})
    table = loyalty_quadrants(
        scores, attitudinal="ATL", behavioural="BHL", scale_min=1, scale_max=7
    ).set_index("segment")
    # Midpoint 4 counts as low; the row missing ATL is left out.
    assert table["n"].to_dict() == {
        "absolute loyalty": 2,
        "latent loyalty": 1,
        "inertia loyalty": 2,
        "no loyalty": 2,
    }
    assert table["pct"].sum() == pytest.approx(100.0)
    assert table.loc["latent loyalty", ["attitudinal", "behavioural"]].tolist() == ["high", "low"]


def test_importance_performance_rescales_means(scores):
    importance = {"SAT": 0.55, "VAL": 0.35}
    table = importance_performance(scores, importance=importance, scale_min=1, scale_max=7)
    table = table.set_index("construct")
    for construct in importance:
        expected = (scores[construct].mean() - 1) / 6 * 100
        assert table.loc[construct, "performance"] == pytest.approx(expected)
        assert table.loc[construct, "importance"] == importance[construct]
    assert list(table.index) == ["SAT", "VAL"]


def test_importance_performance_quadrants():
    scores = pd.DataFrame({"A": [6.0], "B": [2.0], "C": [6.5], "D": [2.5]})
    importance = {"A": 0.6, "B": 0.5, "C": 0.1, "D": 0.2}
    table = importance_performance(scores, importance=importance, scale_min=1, scale_max=7)
    assert table.set_index("construct")["quadrant"].to_dict() == {
        "A": "keep up the good work",
        "B": "concentrate here",
        "C": "possible overkill",
        "D": "low priority",
    }


def test_driver_validation(scores):
    with pytest.raises(ValueError, match="scale_min and scale_max"):
        importance_performance(scores, importance={"SAT": 1.0}, scale_min=None, scale_max=7)
    with pytest.raises(ValueError, match="unknown column"):
        importance_performance(scores, importance={"QUAL": 1.0}, scale_min=1, scale_max=7)
    with pytest.raises(ValueError, match="different columns"):
        satisfaction_trap(scores, satisfaction="SAT", loyalty="SAT")
    with pytest.raises(ValueError, match="three distinct values"):
        satisfaction_trap(
            pd.DataFrame({"S": [1, 2, 1, 2, 1], "L": [1, 2, 3, 4, 5]}),
            satisfaction="S",
            loyalty="L",
        )


def test_derived_importance_is_the_pairwise_complete_pearson_r() -> None:
    from scipy import stats

    from analysis.drivers import derived_importance

    rng = np.random.default_rng(5)
    sat = rng.normal(60, 15, 80)
    val = rng.normal(50, 20, 80)
    nps = 0.08 * sat + 0.02 * val + rng.normal(0, 1, 80)
    frame = pd.DataFrame({"SAT": sat, "VAL": val, "NPS": nps, "FLAT": 3.0})
    frame.loc[[3, 10, 40], "SAT"] = np.nan
    frame.loc[[10, 41], "NPS"] = np.nan
    result = derived_importance(frame, outcome="NPS", drivers=["SAT", "VAL", "FLAT"])
    for driver in ("SAT", "VAL"):
        pair = frame[[driver, "NPS"]].dropna()
        # What R's cor(use = "pairwise.complete.obs") gives.
        expected = stats.pearsonr(pair[driver], pair["NPS"]).statistic
        assert result[driver] == pytest.approx(expected, abs=1e-12)
    assert result.index.tolist() == ["SAT", "VAL", "FLAT"]
    assert np.isnan(result["FLAT"])  # no variation, no correlation
    assert np.isnan(derived_importance(frame.head(2), outcome="NPS", drivers=["VAL"])["VAL"])
    with pytest.raises(ValueError, match="cannot also be a driver"):
        derived_importance(frame, outcome="NPS", drivers=["NPS"])
