"""Preparing responses: numeric check, reverse keying, listwise and FIML row handling."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.errors import NonNumericDataError, UnknownVariableError
from analysis.prepare import coerce_numeric, prepare, reverse_key

HERE = Path(__file__).parent
ITEMS = ["sat1", "sat2", "sat3", "sat4", "val1", "val2", "val3", "tru1", "tru2", "tru3",
         "loy1", "loy2", "loy3"]  # fmt: skip


@pytest.fixture(scope="module")
def survey() -> pd.DataFrame:
    return pd.read_csv(HERE / "data" / "loyalty_sim.csv")


def test_listwise_keeps_complete_cases_and_counts_reasons(survey):
    prepared = prepare(survey, ITEMS, reverse=["sat4"], scale_min=1, scale_max=7)
    complete = survey[ITEMS].notna().all(axis=1)
    assert prepared.n_rows == len(survey)
    assert prepared.n_used == complete.sum() == 538  # lavaan's nobs for this file
    assert prepared.dropped["n"].sum() == prepared.n_dropped == (~complete).sum()
    single = survey[ITEMS].isna().sum(axis=1).eq(1) & survey["sat3"].isna()
    reasons = dict(zip(prepared.dropped["reason"], prepared.dropped["n"], strict=True))
    assert reasons["missing sat3"] == single.sum()
    assert f"{single.sum()} rows: missing sat3" in prepared.drop_summary()
    assert list(prepared.dropped["n"]) == sorted(prepared.dropped["n"], reverse=True)


def test_reverse_keying_uses_the_scale_not_the_data(survey):
    prepared = prepare(survey, ITEMS, reverse=["sat4"], scale_min=1, scale_max=7)
    kept = survey.loc[prepared.data.index]
    assert (prepared.data["sat4"] == 8 - kept["sat4"]).all()
    assert (prepared.data["sat1"] == kept["sat1"]).all()
    assert prepared.reversed_items == ("sat4",)
    # A 5-point item whose answers only span 2..4 still recodes by the scale: 6 - x.
    small = pd.DataFrame({"q": [2, 3, 4]})
    assert reverse_key(small, ["q"], scale_min=1, scale_max=5)["q"].tolist() == [4, 3, 2]


def test_fiml_keeps_partial_rows_and_drops_empty_ones(survey):
    data = survey.copy()
    data.loc[[0, 1], ITEMS] = np.nan
    prepared = prepare(data, ITEMS, missing="fiml")
    assert prepared.n_used == len(data) - 2
    assert prepared.drop_summary() == ["2 rows: all items missing"]
    assert prepared.data[ITEMS].isna().any(axis=1).sum() > 0


def test_numeric_text_is_converted_and_words_are_rejected():
    data = pd.DataFrame({"a": ["1", " 2 ", ""], "b": ["4", "agree", "5"], "c": [True, False, True]})
    converted = coerce_numeric(data, ["a"])
    assert converted["a"].tolist()[:2] == [1.0, 2.0] and np.isnan(converted["a"].iloc[2])
    with pytest.raises(NonNumericDataError) as error:
        coerce_numeric(data, ["a", "b", "c"])
    assert error.value.columns == ("b", "c")
    assert "'b'" in str(error.value) and "'a'" not in str(error.value)


def test_unknown_items_and_bad_options(survey):
    with pytest.raises(UnknownVariableError, match="sat9"):
        prepare(survey, ["sat1", "sat9"])
    with pytest.raises(ValueError, match="scale_min and scale_max"):
        prepare(survey, ITEMS, reverse=["sat4"])
    with pytest.raises(ValueError, match="missing must be"):
        prepare(survey, ITEMS, missing="pairwise")
    with pytest.raises(ValueError, match="not among the items"):
        prepare(survey, ["sat1", "sat2"], reverse=["sat4"], scale_min=1, scale_max=7)


def test_out_of_scale_answers_are_not_silently_recoded():
    data = pd.DataFrame({"q": [1, 5, 9]})
    with pytest.raises(ValueError, match=r"outside the scale 1-7: q \(1, e.g. 9\)"):
        prepare(data, ["q"], reverse=["q"], scale_min=1, scale_max=7)


def test_answers_outside_the_scale_are_refused_with_column_and_count(survey):
    data = survey.copy()
    data.loc[:13, "sat2"] = 9  # "don't know" coded 9 on a 1-7 scale
    data.loc[:2, "loy1"] = 0
    with pytest.raises(ValueError) as error:
        prepare(data, ITEMS, scale_min=1, scale_max=7)
    assert "sat2 (14, e.g. 9)" in str(error.value) and "loy1 (3, e.g. 0)" in str(error.value)
    assert "missing-value codes" in str(error.value)
    # Without a scale nothing can be checked: the codes are analysed as answers.
    assert prepare(data, ITEMS).data["sat2"].max() == 9


def test_missing_value_codes_become_missing_answers(survey):
    data = survey.copy()
    data.loc[:13, "sat2"] = 9
    data.loc[20:24, "val1"] = 99
    prepared = prepare(data, ITEMS, scale_min=1, scale_max=7, missing="fiml", missing_codes=[9, 99])
    assert prepared.data.loc[:13, "sat2"].isna().all()
    assert prepared.data.loc[20:24, "val1"].isna().all()
    assert prepared.recoded.to_dict("records") == [
        {"item": "sat2", "code": 9.0, "n": 14},
        {"item": "val1", "code": 99.0, "n": 5},
    ]
    listwise = prepare(data, ITEMS, scale_min=1, scale_max=7, missing_codes=[9, 99])
    assert listwise.n_used < prepare(survey, ITEMS).n_used
