"""Descriptives and NPS against psych::describe, e1071 and the R computation of the NPS."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.descriptives import (
    answer_counts,
    construct_scores,
    describe,
    mardia,
    net_promoter_score,
)
from analysis.prepare import reverse_key

HERE = Path(__file__).parent
REFERENCE = json.loads((HERE / "reference" / "stats_reference.json").read_text())
CONSTRUCTS = {
    "SAT": ["sat1", "sat2", "sat3", "sat4"],
    "VAL": ["val1", "val2", "val3"],
    "TRU": ["tru1", "tru2", "tru3"],
    "LOY": ["loy1", "loy2", "loy3"],
}


@pytest.fixture(scope="module")
def survey() -> pd.DataFrame:
    raw = pd.read_csv(HERE / "data" / "loyalty_segments.csv")
    return reverse_key(raw, ["sat4"], scale_min=1, scale_max=7)


@pytest.fixture(scope="module")
def items_and_scores(survey) -> pd.DataFrame:
    items = [item for items in CONSTRUCTS.values() for item in items]
    return pd.concat([survey[items], construct_scores(survey, CONSTRUCTS)], axis=1)


@pytest.mark.parametrize("skew_type", [1, 2, 3])
def test_describe_matches_psych_and_e1071(items_and_scores, skew_type):
    table = describe(items_and_scores, scale_min=1, scale_max=7, skew_type=skew_type)
    table = table.set_index("variable")
    for expected in REFERENCE["descriptives"]:
        row = table.loc[expected["variable"]]
        assert row["n"] == expected["n"]
        for column in ("mean", "sd", "median", "min", "max", "top2_pct", "bottom2_pct"):
            assert row[column] == pytest.approx(expected[column], abs=1e-10), column
        assert row["skew"] == pytest.approx(expected["skew"][skew_type - 1], abs=1e-10)
        assert row["kurtosis"] == pytest.approx(expected["kurtosis"][skew_type - 1], abs=1e-10)


def test_default_estimator_is_psych_describe(items_and_scores):
    table = describe(items_and_scores).set_index("variable")
    for expected in REFERENCE["descriptives"]:
        assert table.loc[expected["variable"], "skew"] == pytest.approx(expected["psych_skew"])
        assert table.loc[expected["variable"], "kurtosis"] == pytest.approx(
            expected["psych_kurtosis"]
        )


def test_construct_score_is_mean_of_available_items():
    data = pd.DataFrame({"a": [1.0, np.nan, np.nan], "b": [3.0, 4.0, np.nan]})
    scores = construct_scores(data, {"A": ["a", "b"]})
    assert scores["A"].tolist()[:2] == [2.0, 4.0]
    assert np.isnan(scores["A"].iloc[2])


def test_answer_counts_list_every_scale_point(survey):
    counts = answer_counts(survey, columns=["sat1"], scale_min=1, scale_max=7)
    answered = counts[counts["value"].notna()]
    assert answered["value"].tolist() == [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0]
    assert answered["n"].sum() == survey["sat1"].notna().sum()
    assert answered["pct"].sum() == pytest.approx(100.0)
    assert counts.loc[counts["value"].isna(), "n"].item() == survey["sat1"].isna().sum()
    observed = survey["sat1"].value_counts()
    assert answered.set_index("value")["n"].to_dict() == {
        float(v): int(observed.get(v, 0)) for v in range(1, 8)
    }


def test_nps_matches_r(survey):
    result = net_promoter_score(survey, column="ltr").iloc[0]
    expected = REFERENCE["nps"]
    assert result["n"] == expected["n"]
    for column in ("promoters_pct", "detractors_pct", "nps", "se", "ci_lower", "ci_upper"):
        assert result[column] == pytest.approx(expected[column], abs=1e-9), column
    assert result["promoters_pct"] + result["passives_pct"] + result["detractors_pct"] == (
        pytest.approx(100.0)
    )


def test_nps_interval_is_clipped_and_degenerate_at_all_promoters():
    result = net_promoter_score(pd.DataFrame({"ltr": [10, 9, 10]}), column="ltr").iloc[0]
    assert result["nps"] == 100.0
    assert result["se"] == 0.0
    assert result["ci_upper"] == 100.0


@pytest.mark.parametrize("bad", [11, -1, 7.5])
def test_nps_rejects_values_off_the_0_10_scale(bad):
    with pytest.raises(ValueError, match="0 to 10"):
        net_promoter_score(pd.DataFrame({"ltr": [5, bad]}), column="ltr")


def test_describe_validates_input(survey):
    with pytest.raises(ValueError, match="unknown column"):
        describe(survey, columns=["nope"])
    with pytest.raises(ValueError, match="non-numeric"):
        describe(survey, columns=["tier"])
    with pytest.raises(ValueError, match="both scale_min and scale_max"):
        describe(survey, columns=["sat1"], scale_min=1)
    with pytest.raises(ValueError, match="skew_type"):
        describe(survey, columns=["sat1"], skew_type=4)


@pytest.mark.parametrize("dataset", ["loyalty", "holzinger_swineford"])
def test_mardia_matches_psych(survey, dataset):
    expected = REFERENCE["reliability"][dataset]["mardia"]
    if dataset == "loyalty":
        items = [item for items in CONSTRUCTS.values() for item in items]
        data = survey[items]
    else:
        data = pd.read_csv(HERE / "data" / "holzinger_swineford.csv")[
            [f"x{i}" for i in range(1, 10)]
        ]
    ours = mardia(data)
    assert (ours["n"], ours["n_vars"]) == (expected["n.obs"], expected["n.var"])
    names = {"b1p": "b1p", "b2p": "b2p", "skew": "skew", "small_skew": "small.skew",
             "p_skew": "p.skew", "p_small": "p.small", "kurtosis": "kurtosis",
             "p_kurtosis": "p.kurt"}  # fmt: skip
    for ours_name, psych_name in names.items():
        assert ours[ours_name] == pytest.approx(expected[psych_name], rel=1e-9, abs=1e-12)


def test_mardia_refuses_what_it_cannot_compute():
    with pytest.raises(ValueError, match="at least two variables"):
        mardia(pd.DataFrame({"a": [1.0, 2, 3]}))
    with pytest.raises(ValueError, match="more complete rows"):
        mardia(pd.DataFrame({"a": [1.0, 2], "b": [2.0, 1], "c": [1.0, 1]}))
