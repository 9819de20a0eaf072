"""Reliability against psych::alpha, semTools::compRelSEM/AVE and lavaan's standardized loadings."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.prepare import prepare
from analysis.reliability import (
    categorical_omega,
    composite_reliability,
    cronbach_alpha,
    item_total,
    omega_total,
    ordinal_alpha,
    reliability,
)
from analysis.sem import fit_sem
from analysis.syntax import parse_model

HERE = Path(__file__).parent
REFERENCE = json.loads((HERE / "reference" / "stats_reference.json").read_text())["reliability"]
AGREEMENT = 0.002  # required agreement with psych / semTools
DATASETS = {
    "loyalty": (
        "loyalty_segments.csv",
        {"SAT": ["sat1", "sat2", "sat3", "sat4"], "VAL": ["val1", "val2", "val3"],
         "TRU": ["tru1", "tru2", "tru3"], "LOY": ["loy1", "loy2", "loy3"]},
    ),
    "holzinger_swineford": (
        "holzinger_swineford.csv",
        {"visual": ["x1", "x2", "x3"], "textual": ["x4", "x5", "x6"], "speed": ["x7", "x8", "x9"]},
    ),
}  # fmt: skip


@pytest.fixture(scope="module", params=list(DATASETS))
def case(request):
    file, constructs = DATASETS[request.param]
    raw = pd.read_csv(HERE / "data" / file)
    items = [item for members in constructs.values() for item in members]
    reverse = ["sat4"] if request.param == "loyalty" else []
    data = prepare(raw, items, reverse=reverse, scale_min=1, scale_max=7).data
    return data, constructs, REFERENCE[request.param]


def test_alpha_and_feldt_interval_match_psych(case):
    data, constructs, reference = case
    table = cronbach_alpha(data, constructs=constructs).set_index("construct")
    for name, expected in reference["constructs"].items():
        row = table.loc[name]
        assert row["n"] == expected["n"] and row["n_items"] == expected["n_items"]
        for column in ("alpha", "alpha_ci_lower", "alpha_ci_upper"):
            assert row[column] == pytest.approx(expected[column], abs=1e-9), column
        assert row["alpha_ok"] == (expected["alpha"] >= 0.70)


def test_item_rest_correlation_and_alpha_if_deleted_match_psych(case):
    data, constructs, reference = case
    table = item_total(data, constructs=constructs).set_index("item")
    for expected_construct in reference["constructs"].values():
        for expected in expected_construct["items"]:
            row = table.loc[expected["item"]]
            assert row["r_drop"] == pytest.approx(expected["r_drop"], abs=1e-9)
            assert row["alpha_if_deleted"] == pytest.approx(expected["alpha_if_deleted"], abs=1e-9)


def test_omega_matches_comprelsem(case):
    data, constructs, reference = case
    table = omega_total(data, constructs=constructs).set_index("construct")
    for name, expected in reference["constructs"].items():
        assert table.loc[name, "omega"] == pytest.approx(expected["omega"], abs=AGREEMENT)


def test_cr_and_ave_formulas_on_lavaan_loadings(case):
    _, _, reference = case
    loadings = pd.DataFrame(
        [
            {"factor": name, "item": item["item"], "std_all": item["std_loading"]}
            for name, construct in reference["constructs"].items()
            for item in construct["items"]
        ]
    )
    table = composite_reliability(loadings).set_index("construct")
    for name, expected in reference["constructs"].items():
        assert table.loc[name, "cr"] == pytest.approx(expected["cr_formula"], abs=1e-12)
        assert table.loc[name, "ave"] == pytest.approx(expected["ave_formula"], abs=1e-12)
        assert table.loc[name, "sqrt_ave"] == pytest.approx(np.sqrt(expected["ave_formula"]))
        # semTools on z-scored items computes the same standardized quantities.
        assert table.loc[name, "cr"] == pytest.approx(expected["cr"], abs=1e-5)
        assert table.loc[name, "ave"] == pytest.approx(expected["ave"], abs=1e-5)


def test_full_table_from_the_measurement_model_matches_r(case):
    data, constructs, reference = case
    table = reliability(data, constructs=constructs).set_index("construct")
    assert list(table.index) == list(constructs)
    for name, expected in reference["constructs"].items():
        row = table.loc[name]
        for column in ("alpha", "omega", "cr", "ave"):
            assert row[column] == pytest.approx(expected[column], abs=AGREEMENT), column
        assert row["cr_ok"] == (row["cr"] >= 0.70)
        assert row["ave_ok"] == (row["ave"] >= 0.50)
        assert row["cr_redundant"] == (row["cr"] > 0.95)


def test_flags_follow_the_thresholds():
    loadings = pd.DataFrame(
        {
            "factor": ["weak"] * 3 + ["redundant"] * 3,
            "item": list("abcdef"),
            "std_all": [0.5, 0.55, 0.6, 0.97, 0.98, 0.96],
        }
    )
    table = composite_reliability(loadings).set_index("construct")
    assert table.loc["weak", ["cr_ok", "ave_ok", "cr_redundant"]].tolist() == [False, False, False]
    assert table.loc["redundant", ["cr_ok", "ave_ok", "cr_redundant"]].tolist() == [
        True,
        True,
        True,
    ]


def test_two_item_construct_has_no_omega():
    data = pd.DataFrame({"a": [1, 2, 3, 4, 5], "b": [2, 1, 4, 3, 5]})
    assert np.isnan(omega_total(data, constructs={"A": ["a", "b"]})["omega"].iloc[0])


def test_validation():
    data = pd.DataFrame({"a": [1, 2, 3], "b": [2, 1, 3]})
    with pytest.raises(ValueError, match="at least 2 items"):
        cronbach_alpha(data, constructs={"A": ["a"]})
    with pytest.raises(ValueError, match="unknown column"):
        item_total(data, constructs={"A": ["a", "z"]})
    with pytest.raises(ValueError, match="factor, item, std_all"):
        composite_reliability(pd.DataFrame({"loading": [0.7]}))


ORDINAL = json.loads((HERE / "reference" / "ordinal_reliability.json").read_text())


@pytest.mark.parametrize("name", ["loyalty_ordinal", "ordinal_skewed"])
def test_ordinal_alpha_and_categorical_omega_match_psych_and_semtools(name):
    """Ordinal alpha (psych::alpha of psych::polychoric) and categorical omega
    (semTools::compRelSEM of the WLSMV measurement model)."""
    reference = ORDINAL[name]
    data = pd.read_csv(HERE / "data" / f"{name}.csv")
    constructs = {k: list(v) for k, v in parse_model(reference["model"]).latent.items()}
    alpha = ordinal_alpha(data, constructs=constructs).set_index("construct")["alpha_ordinal"]
    assert alpha.to_dict() == pytest.approx(reference["alpha_ordinal"], abs=AGREEMENT)
    fit = fit_sem(data, reference["model"], ordered=True)
    omega = categorical_omega(fit).set_index("construct")["omega_categorical"]
    assert omega.to_dict() == pytest.approx(reference["omega_categorical"], abs=AGREEMENT)
    # The ordinal versions exceed Cronbach's alpha of the raw 5-point codes.
    raw = cronbach_alpha(data, constructs=constructs).set_index("construct")["alpha"]
    assert (alpha > raw).all()

    table = reliability(data, constructs=constructs, ordered=list(data.columns))
    assert table.set_index("construct")["omega_categorical"].to_dict() == pytest.approx(
        reference["omega_categorical"], abs=AGREEMENT
    )
    # CR and AVE come from the WLSMV loadings (of the latent responses).
    cr = composite_reliability(fit.standardized_loadings()).set_index("construct")["cr"]
    assert table.set_index("construct")["cr"].to_dict() == pytest.approx(cr.to_dict())


def test_ordinal_reliability_needs_ordered_items():
    data = pd.read_csv(HERE / "data" / "ordinal_skewed.csv")
    with pytest.raises(ValueError, match="needs a model fitted with ordered items"):
        categorical_omega(fit_sem(data, "F =~ y1 + y2 + y3"))
    mixed = fit_sem(
        data, "F1 =~ y1 + y2 + y3\nF2 =~ y5 + x1 + x2", ordered=["y1", "y2", "y3", "y5"]
    )
    omega = categorical_omega(mixed).set_index("construct")["omega_categorical"]
    assert 0 < omega["F1"] < 1 and np.isnan(omega["F2"])  # semTools gives none for mixed items
    table = reliability(
        data,
        constructs={"F1": ["y1", "y2", "y3"], "F2": ["y5", "x1", "x2"]},
        ordered=["y1", "y2", "y3", "y5"],
    ).set_index("construct")
    assert np.isnan(table.loc["F2", "alpha_ordinal"]) and table.loc["F1", "alpha_ordinal"] > 0.5
    plain = reliability(data, constructs={"F1": ["y1", "y2", "y3"]})
    assert "alpha_ordinal" not in plain.columns
