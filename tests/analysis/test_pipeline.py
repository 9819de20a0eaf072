"""The whole analysis against lavaan, psych, semTools and base R; the JSON document's shape."""

import json
import math
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.compare import compare_groups
from analysis.errors import IdentificationError, NonNumericDataError, UnknownVariableError
from analysis.invariance import measurement_invariance
from analysis.pipeline import analyze, invariance_across
from analysis.prepare import prepare

HERE = Path(__file__).parent
STATS = json.loads((HERE / "reference" / "stats_reference.json").read_text())
LAVAAN = json.loads((HERE / "reference" / "loyalty_listwise.json").read_text())
LAVAAN_FIML = json.loads((HERE / "reference" / "loyalty_fiml.json").read_text())
MODEL = LAVAAN["model"]
CONSTRUCTS = {
    "SAT": ["sat1", "sat2", "sat3", "sat4"],
    "VAL": ["val1", "val2", "val3"],
    "TRU": ["tru1", "tru2", "tru3"],
    "LOY": ["loy1", "loy2", "loy3"],
}
AGREEMENT = 0.002
TOP_LEVEL = {
    "n_rows", "n_used", "dropped", "missing", "estimator", "test", "se", "estimation",
    "ordered", "missing_codes", "warnings", "fit", "measurement_fit", "estimates", "r2",
    "reliability", "htmt", "htmt2", "fornell_larcker", "correlations", "descriptives", "mardia",
    "modindices", "common_method",
}  # fmt: skip


@pytest.fixture(scope="module")
def survey() -> pd.DataFrame:
    return pd.read_csv(HERE / "data" / "loyalty_segments.csv")


@pytest.fixture(scope="module")
def result(survey):
    return analyze(
        survey, model=MODEL, reverse=["sat4"], scale_min=1, scale_max=7, group="tier", nps="ltr"
    )


@pytest.fixture(scope="module")
def document(result) -> dict:
    # Round-trips through strict JSON: no NaN, no numpy types.
    return json.loads(json.dumps(result.to_dict(), allow_nan=False))


def test_document_shape(document):
    assert set(document) == TOP_LEVEL | {"nps", "groups", "importance_performance"}
    assert (document["estimator"], document["test"], document["se"]) == (
        "ML",
        "standard",
        "standard",
    )
    assert document["ordered"] == []
    assert document["n_rows"] == 800
    assert document["n_used"] == LAVAAN["nobs"] == 538
    assert sum(row["n"] for row in document["dropped"]) == 800 - 538
    assert {row["op"] for row in document["estimates"]} == {"=~", "~", "~~", ":="}
    assert all(
        set(row) == {"lhs", "op", "rhs", "label", "est", "se", "z", "pvalue", "ci_lower",
                     "ci_upper", "std_all"}
        for row in document["estimates"]
    )  # fmt: skip
    assert set(document["reliability"]["SAT"]) == {
        "alpha", "alpha_ci_lower", "alpha_ci_upper", "omega", "cr", "ave", "n_items",
    }  # fmt: skip
    assert set(document["htmt"]) == {"SAT", "VAL", "TRU", "LOY"}
    assert document["htmt"]["SAT"]["VAL"] == document["htmt"]["VAL"]["SAT"]


def test_model_fit_and_estimates_agree_with_lavaan(document):
    for name in ("chisq", "df", "cfi", "tli", "rmsea", "srmr"):
        assert document["fit"][name] == pytest.approx(LAVAAN["fit"][name], abs=AGREEMENT), name
    measurement = STATS["reliability"]["loyalty"]["measurement_fit"]
    for name in ("chisq", "df", "cfi", "tli", "rmsea", "srmr"):
        assert document["measurement_fit"][name] == pytest.approx(
            measurement[name], abs=AGREEMENT
        ), name
    ours = {(r["lhs"], r["op"], r["rhs"]): r for r in document["estimates"]}
    for expected in LAVAAN["estimates"]:
        row = ours[(expected["lhs"], expected["op"], expected["rhs"])]
        assert row["est"] == pytest.approx(expected["est"], abs=AGREEMENT)
        assert row["std_all"] == pytest.approx(expected["std.all"], abs=AGREEMENT)
    for variable, value in LAVAAN["r2"].items():
        assert document["r2"][variable] == pytest.approx(value, abs=AGREEMENT)


def test_reliability_and_validity_agree_with_psych_and_semtools(document):
    reference = STATS["reliability"]["loyalty"]
    for construct, expected in reference["constructs"].items():
        ours = document["reliability"][construct]
        assert ours["n_items"] == expected["n_items"]
        for key in ("alpha", "alpha_ci_lower", "alpha_ci_upper", "omega", "cr", "ave"):
            assert ours[key] == pytest.approx(expected[key], abs=AGREEMENT), (construct, key)
    names = reference["htmt_names"]
    for i, a in enumerate(names):
        for j, b in enumerate(names):
            if i != j:
                assert document["htmt"][a][b] == pytest.approx(reference["htmt"][i][j], abs=1e-9)
    latent = reference["latent_names"]
    for i, a in enumerate(latent):
        assert document["fornell_larcker"][a][a] == pytest.approx(
            math.sqrt(reference["constructs"][a]["ave"]), abs=AGREEMENT
        )
        for j, b in enumerate(latent):
            if i != j:
                assert document["fornell_larcker"][a][b] == pytest.approx(
                    reference["latent_correlations"][i][j], abs=AGREEMENT
                )


def test_scores_correlations_descriptives_use_the_rows_analysed(result, survey):
    used = survey.loc[result.scores.index]
    assert len(used) == 538
    sat = (used[["sat1", "sat2", "sat3"]].sum(axis=1) + 8 - used["sat4"]) / 4
    assert result.scores["SAT"].to_numpy() == pytest.approx(sat.to_numpy())
    pearson = result.correlations.set_index(["method", "x", "y"]).loc[("pearson", "SAT", "LOY")]
    assert pearson["r"] == pytest.approx(np.corrcoef(sat, result.scores["LOY"])[0, 1])
    descriptives = result.descriptives.set_index(["kind", "variable"])
    assert descriptives.loc[("item", "sat4"), "mean"] == pytest.approx(8 - used["sat4"].mean())
    assert descriptives.loc[("construct", "LOY"), "n"] == 538


def test_nps_and_groups(document):
    for key in ("n", "nps", "ci_lower", "ci_upper"):
        assert document["nps"][key] == pytest.approx(STATS["nps"][key], abs=1e-9)
    assert {row["group"] for row in document["nps"]["by_group"]} == {"bronze", "silver", "gold"}
    groups = document["groups"]
    assert groups["column"] == "tier"
    assert {row["variable"] for row in groups["tests"]} == {"SAT", "VAL", "TRU", "LOY"}
    assert all(row["test"] == "welch_anova" for row in groups["tests"])
    assert len(groups["posthoc"]) == 4 * 3


def test_invariance_across_waves_and_segments_is_stored_with_the_groups_compared(survey):
    result = analyze(survey, model=MODEL, reverse=["sat4"], scale_min=1, scale_max=7,
                     group="tier", invariance=["wave", "tier", "wave"])  # fmt: skip
    document = json.loads(json.dumps(result.to_dict(), allow_nan=False))
    assert set(document) == TOP_LEVEL | {"groups", "invariance", "importance_performance"}
    assert list(document["invariance"]) == ["wave", "tier"]
    waves = document["invariance"]["wave"]
    # The rows analysed (complete answers, sat4 recoded), in natural group order.
    assert waves["groups"] == [{"group": "1", "n": 187}, {"group": "2", "n": 189},
                               {"group": "3", "n": 162}]  # fmt: skip
    assert sum(row["n"] for row in waves["groups"]) == document["n_used"]
    assert waves["needed"] == 50 and waves["problem"] is None
    items = [item for members in CONSTRUCTS.values() for item in members]
    prepared = prepare(survey, items, reverse=["sat4"], scale_min=1, scale_max=7).data
    expected = measurement_invariance(prepared, constructs=CONSTRUCTS, group="wave")
    assert [row["level"] for row in waves["levels"]] == ["configural", "metric", "scalar"]
    for name in ("chisq", "df", "cfi", "rmsea", "srmr", "delta_cfi", "delta_pvalue"):
        first = 1 if name.startswith("delta") else 0
        ours = [row[name] for row in waves["levels"]][first:]
        assert ours == pytest.approx(expected[name].tolist()[first:], rel=1e-9), name
    assert waves["levels"][0]["delta_cfi"] is None  # NaN for the configural model
    assert [row["holds"] for row in waves["levels"]] == expected["holds"].tolist()
    assert waves["highest_level"] == "scalar"
    tiers = document["invariance"]["tier"]
    assert [row["group"] for row in tiers["groups"]] == ["bronze", "gold", "silver"]
    assert tiers["problem"] is None and len(tiers["levels"]) == 3


def test_invariance_says_why_it_was_not_tested(survey):
    few = survey[(survey["wave"] != 3) | (survey.index % 10 == 0)]
    options = {"model": MODEL, "reverse": ["sat4"], "scale_min": 1, "scale_max": 7}
    tested = analyze(few, **options, invariance="wave").invariance["wave"]
    assert tested.problem == "too_few_answers" and tested.group == "3"
    assert tested.sizes["3"] < tested.needed == 50 and tested.table is None
    document = tested.to_dict()
    assert document["levels"] == [] and document["highest_level"] is None
    one = analyze(survey[survey["wave"] == 1], **options, invariance="wave").invariance["wave"]
    assert one.problem == "one_group" and one.sizes == {"1": 187}
    constant = survey.assign(sat1=survey["sat1"].where(survey["wave"] != 3, 4))
    broken = analyze(constant, **options, invariance="wave").invariance["wave"]
    assert broken.problem == "not_estimable" and "sat1" in broken.detail


def test_invariance_in_a_given_order_of_groups(survey):
    items = [item for members in CONSTRUCTS.values() for item in members]
    prepared = prepare(survey, items, reverse=["sat4"], scale_min=1, scale_max=7).data
    natural = invariance_across(prepared, constructs=CONSTRUCTS, group="wave")
    ordered = invariance_across(prepared, constructs=CONSTRUCTS, group="wave", order=[3, 1, 2])
    assert list(ordered.sizes) == ["3", "1", "2"] and ordered.sizes == natural.sizes
    # The reference group changes the latent means, not the fit.
    pd.testing.assert_frame_equal(ordered.table, natural.table, rtol=1e-5)
    two = invariance_across(prepared, constructs=CONSTRUCTS, group="wave", order=[2, 1])
    assert list(two.sizes) == ["2", "1"]
    assert two.table.loc[0, "df"] == natural.table.loc[0, "df"] * 2 / 3


def test_duplicate_index_labels_do_not_misalign_groups(survey, result):
    shuffled = survey.set_index(pd.Index([0] * len(survey)))
    again = analyze(shuffled, model=MODEL, reverse=["sat4"], scale_min=1, scale_max=7,
                    group="tier")  # fmt: skip
    assert again.groups.summary.equals(result.groups.summary)


def test_importance_performance_uses_total_effects(result):
    ipa = result.importance_performance.set_index("construct")
    assert result.target == "LOY"
    estimates = result.model.estimates.set_index(["lhs", "op", "rhs"])["std_all"]
    direct = estimates[("LOY", "~", "SAT")]
    indirect = estimates[("VAL", "~", "SAT")] * estimates[("LOY", "~", "VAL")]
    assert ipa.loc["SAT", "importance"] == pytest.approx(direct + indirect, abs=1e-9)
    assert ipa.loc["VAL", "importance"] == pytest.approx(estimates[("LOY", "~", "VAL")])
    assert "TRU" not in ipa.index  # no path from TRU to LOY in this model
    assert ipa.loc["SAT", "performance"] == pytest.approx(
        (result.scores["SAT"].mean() - 1) / 6 * 100
    )


def test_fiml_uses_every_answered_row(survey):
    result = analyze(survey, model=MODEL, reverse=["sat4"], scale_min=1, scale_max=7,
                     missing="fiml")  # fmt: skip
    assert result.n_used == LAVAAN_FIML["nobs"] == 800
    assert result.model.fit["chisq"] == pytest.approx(LAVAAN_FIML["fit"]["chisq"], abs=0.01)
    document = result.to_dict()
    assert document["missing"] == "fiml" and "nps" not in document and "groups" not in document


def test_nan_becomes_null_and_two_item_constructs_have_no_omega(survey):
    model = "SAT =~ sat1 + sat2 + sat3\nVAL =~ val1 + val2\nVAL ~ SAT"
    document = analyze(survey, model=model).to_dict()
    assert document["reliability"]["VAL"]["omega"] is None
    assert document["reliability"]["SAT"]["omega"] is not None
    json.dumps(document, allow_nan=False)
    top2 = [row["top2_pct"] for row in document["descriptives"]]
    assert top2 and all(value is None for value in top2)  # no scale range given


def test_bootstrap_intervals_are_reported(survey):
    stages = []
    result = analyze(survey, model=MODEL, reverse=["sat4"], scale_min=1, scale_max=7,
                     bootstrap=30, seed=5, progress=stages.append)  # fmt: skip
    boot = result.to_dict()["bootstrap"]
    assert {"ind", "total", "LOY~SAT"} <= set(boot)
    assert boot["ind"]["n_ok"] == 30
    assert boot["ind"]["ci_lower"] < boot["ind"]["ci_upper"]
    assert stages[:3] == ["prepare", "measurement model", "structural model"]
    assert stages[-1] == "bootstrap 30/30"


def test_bad_input(survey):
    with pytest.raises(UnknownVariableError, match="sat9"):
        analyze(survey, model="SAT =~ sat1 + sat2 + sat9")
    with pytest.raises(NonNumericDataError, match="tier"):
        analyze(survey, model="SAT =~ sat1 + sat2 + tier")
    with pytest.raises(ValueError, match="scale_min and scale_max"):
        analyze(survey, model=MODEL, reverse=["sat4"])
    with pytest.raises(ValueError, match="unknown column"):
        analyze(survey, model=MODEL, group="segment")
    with pytest.raises(ValueError, match="unknown column"):
        analyze(survey, model=MODEL, invariance=["segment"])
    with pytest.raises(ValueError, match="no construct"):
        analyze(survey, model="loy1 ~ sat1 + val1")
    with pytest.raises(ValueError, match="bootstrap"):
        analyze(survey, model=MODEL, bootstrap=-1)


def test_document_reports_estimation_htmt2_mardia_modindices_and_harman(document, result):
    assert document["estimation"] == {
        "estimator": "ML",
        "se": "standard",
        "test": "standard",
        "information": "expected",
    }
    reference = STATS["reliability"]["loyalty"]
    names = reference["htmt_names"]
    for i, a in enumerate(names):
        for j, b in enumerate(names):
            if i != j:
                assert document["htmt2"][a][b] == pytest.approx(reference["htmt2"][i][j], 1e-9)
    assert document["mardia"]["b2p"] == pytest.approx(reference["mardia"]["b2p"], rel=1e-9)
    assert document["mardia"]["n"] == reference["mardia"]["n.obs"] == document["n_used"]
    assert document["modindices"] == result.model.modindices(minimum=3.84).to_dict("records")
    assert all(row["mi"] >= 3.84 for row in document["modindices"])
    harman = document["common_method"]
    # One factor for 13 items of four constructs fits far worse than the measurement model.
    assert harman["delta_df"] == 6 and harman["delta_pvalue"] < 1e-10
    assert harman["single_factor"]["cfi"] < 0.8 < document["measurement_fit"]["cfi"]
    assert 0 < harman["first_factor_share"] < 0.5 and not harman["single_factor_dominates"]
    assert "do not show that common-method bias is absent" in harman["note"]


def test_robust_estimation_runs_through_every_model(survey):
    result = analyze(survey, model=MODEL, reverse=["sat4"], scale_min=1, scale_max=7,
                     estimator="MLR", missing="fiml")  # fmt: skip
    document = json.loads(json.dumps(result.to_dict(), allow_nan=False))
    assert document["estimation"]["estimator"] == "MLR"
    assert document["estimation"]["se"] == "robust.huber.white"
    for fit in (document["fit"], document["measurement_fit"]):
        assert {"chisq_scaled", "chisq_scaling_factor", "cfi_robust", "rmsea_robust"} <= set(fit)
    assert "chisq_scaled" in document["common_method"]["single_factor"]
    assert result.measurement_model.estimator == result.model.estimator == "MLR"


def test_warnings_name_the_model_they_come_from(result):
    measurement = replace(result.measurement_model, warnings=["Heywood case: a"])
    structural = replace(result.model, warnings=["Heywood case: b"])
    document = replace(result, measurement_model=measurement, model=structural).to_dict()
    assert document["warnings"] == [
        {"model": "measurement", "message": "Heywood case: a"},
        {"model": "structural", "message": "Heywood case: b"},
    ]
    # A model of constructs only is its own measurement model: its warnings are listed once.
    alone = replace(result, measurement_model=measurement, model=measurement).to_dict()
    assert alone["warnings"] == [{"model": "measurement", "message": "Heywood case: a"}]


def test_negative_degrees_of_freedom_are_counted_in_the_users_model(survey):
    # Eight free loadings... on two items each: the user's model is not identified; the
    # message counts its own parameters, not those of the automatic measurement model.
    model = "SAT =~ sat1 + sat2\nVAL =~ val1 + val2\nVAL ~ SAT\nsat1 ~~ val1\nsat2 ~~ val2"
    with pytest.raises(IdentificationError) as error:
        analyze(survey, model=model)
    message = str(error.value)
    assert "the model has 11 free parameters" in message and "df = -1" in message
    assert "measurement model" not in message


def test_missing_value_codes_and_out_of_scale_answers(survey):
    coded = survey.assign(sat2=survey["sat2"].fillna(9))
    with pytest.raises(ValueError, match=r"sat2 \(\d+, e.g. 9\)"):
        analyze(coded, model=MODEL, reverse=["sat4"], scale_min=1, scale_max=7)
    result = analyze(coded, model=MODEL, reverse=["sat4"], scale_min=1, scale_max=7,
                     missing_codes=[9])  # fmt: skip
    assert result.n_used == 538
    assert result.to_dict()["missing_codes"] == [
        {"item": "sat2", "code": 9.0, "n": int(survey["sat2"].isna().sum())}
    ]


def test_partial_invariance_names_are_checked_before_fitting(survey):
    with pytest.raises(ValueError, match="not in the model: loy9~1"):
        analyze(survey, model=MODEL, invariance=["wave"], partial=["loy9~1"])


ORDINAL = json.loads((HERE / "reference" / "loyalty_ordinal.json").read_text())


@pytest.fixture(scope="module")
def ordinal_document() -> dict:
    survey = pd.read_csv(HERE / "data" / "loyalty_ordinal.csv")
    result = analyze(survey, model=ORDINAL["model"], ordered=True, scale_min=1, scale_max=5)
    return json.loads(json.dumps(result.to_dict(), allow_nan=False))


def test_ordered_items_are_analysed_by_wlsmv(ordinal_document):
    """The JSON says what was used and carries lavaan's scaled/robust measures and thresholds."""
    document = ordinal_document
    assert set(document) == TOP_LEVEL | {"importance_performance"}
    assert (document["estimator"], document["test"], document["se"]) == (
        "WLSMV", "scaled.shifted", "robust.sem",
    )  # fmt: skip
    assert document["ordered"] == ORDINAL["sample"]["names"]
    fit = document["fit"]
    for name in ("chisq", "chisq.scaled", "chisq.scaling.factor", "cfi.scaled", "tli.scaled",
                 "rmsea.scaled", "cfi.robust", "rmsea.robust", "srmr"):  # fmt: skip
        assert fit[name.replace(".", "_")] == pytest.approx(ORDINAL["fit"][name], abs=AGREEMENT)
    assert fit["chisq_shift_parameters"] == pytest.approx(ORDINAL["shift_parameter"], abs=0.01)
    assert fit["loglik"] is None  # no likelihood with DWLS
    thresholds = [row for row in document["estimates"] if row["op"] == "|"]
    assert len(thresholds) == 44
    expected = {(r["lhs"], r["rhs"]): r for r in ORDINAL["estimates"] if r["op"] == "|"}
    for row in thresholds:
        reference = expected[(row["lhs"], row["rhs"])]
        assert row["est"] == pytest.approx(reference["est"], abs=AGREEMENT)
        assert row["se"] == pytest.approx(reference["se"], abs=AGREEMENT)
    assert set(document["reliability"]["SAT"]) == {
        "alpha", "alpha_ci_lower", "alpha_ci_upper", "omega", "cr", "ave", "n_items",
        "alpha_ordinal", "omega_categorical",
    }  # fmt: skip
    reference = json.loads((HERE / "reference" / "ordinal_reliability.json").read_text())
    for construct, value in reference["loyalty_ordinal"]["omega_categorical"].items():
        reliability = document["reliability"][construct]
        assert reliability["omega_categorical"] == pytest.approx(value, abs=AGREEMENT)
        assert reliability["alpha_ordinal"] > reliability["alpha"]


def test_what_ordered_items_rule_out():
    survey = pd.read_csv(HERE / "data" / "loyalty_ordinal.csv")
    options = {"model": ORDINAL["model"], "ordered": ["sat1", "sat2"]}
    with pytest.raises(ValueError, match="bootstrap intervals are not available"):
        analyze(survey, **options, bootstrap=100)
    with pytest.raises(ValueError, match="FIML needs continuous items"):
        analyze(survey, **options, missing="fiml")
    with pytest.raises(ValueError, match="unknown column"):
        analyze(survey, model=ORDINAL["model"], ordered=["sat9"])
    waves = survey.assign(wave=np.arange(len(survey)) % 2 + 1)
    tested = analyze(waves, **options, invariance="wave").invariance["wave"]
    assert tested.problem == "not_estimable" and "ordered items" in tested.detail
    assert tested.sizes == {"1": 300, "2": 300}


def test_ordinal_document_has_the_robust_branchs_sections(ordinal_document):
    """With ordered items the common sections hold WLSMV's numbers or say what is not done."""
    document = ordinal_document
    assert document["estimation"] == {
        "estimator": "WLSMV", "se": "robust.sem", "test": "scaled.shifted",
        "information": "expected",
    }  # fmt: skip
    assert document["modindices"] is None  # the ML indices do not apply to DWLS
    harman = document["common_method"]
    assert harman["delta_chisq"] is None and harman["delta_pvalue"] is None
    assert harman["delta_df"] == harman["single_factor"]["df"] - harman["measurement"]["df"] > 0
    assert harman["single_factor"]["cfi_scaled"] < harman["measurement"]["cfi_scaled"]
    assert "DIFFTEST" in harman["note"] and 0 < harman["first_factor_share"] < 1
    assert document["mardia"]["n"] == document["n_used"]
    assert set(document["htmt2"]) == set(document["htmt"])
    assert all(set(warning) == {"model", "message"} for warning in document["warnings"])


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"estimator": "MLR", "ordered": True}, "ordered items are fitted by WLSMV, not MLR"),
        ({"estimator": "ML", "ordered": ["sat1"]}, "ordered items are fitted by WLSMV, not ML"),
        ({"estimator": "WLSMV"}, "WLSMV is the estimator of ordered items"),
        ({"estimator": "WLSMV", "ordered": True, "missing": "fiml"}, "FIML needs continuous"),
        ({"estimator": "MLM", "missing": "fiml"}, "MLM .* needs complete data"),
        ({"estimator": "ULS"}, "estimator must be one of ML, MLR, MLM, WLSMV or pls"),
    ],
)
def test_contradictory_estimator_options_are_refused(options, message):
    survey = pd.read_csv(HERE / "data" / "loyalty_ordinal.csv")
    with pytest.raises(ValueError, match=message):
        analyze(survey, model=ORDINAL["model"], **options)


def test_ordered_items_imply_wlsmv_and_naming_it_changes_nothing():
    survey = pd.read_csv(HERE / "data" / "loyalty_ordinal.csv")
    model = "SAT =~ sat1 + sat2 + sat3\nLOY =~ loy1 + loy2 + loy3\nLOY ~ SAT"
    implied = analyze(survey, model=model, ordered=True)
    named = analyze(survey, model=model, ordered=True, estimator="wlsmv")
    assert implied.model.estimator == named.model.estimator == "WLSMV"
    assert implied.model.fit == named.model.fit


def test_the_construct_scores_are_compared_across_every_column_asked() -> None:
    data = pd.read_csv(HERE / "data" / "loyalty_segments.csv")
    result = analyze(data, model=MODEL, compare=["wave", "tier"])
    document = result.to_dict()
    assert list(document["comparisons"]) == ["wave", "tier"]
    by_tier = compare_groups(
        result.scores.assign(tier=data.loc[result.scores.index, "tier"]),
        group="tier",
        variables=list(result.scores.columns),
    )
    stored = pd.DataFrame(document["comparisons"]["tier"]["tests"])
    assert stored["pvalue"].tolist() == pytest.approx(by_tier.tests["pvalue"].tolist(), rel=1e-12)
    assert stored["test"].tolist() == by_tier.tests["test"].tolist()
    with pytest.raises(ValueError):
        analyze(data, model=MODEL, compare=["no_such_column"])
