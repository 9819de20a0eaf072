"""``analyze(..., estimator="pls")``: the PLS analysis of a survey and its JSON document."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from analysis.pipeline import analyze
from analysis.pls import bootstrap_pls, fit_pls

HERE = Path(__file__).parent
LAVAAN_MODEL = json.loads((HERE / "reference" / "loyalty_listwise.json").read_text())["model"]
# PLS estimates every construct through its paths: trust predicts loyalty here.
MODEL = LAVAAN_MODEL.replace("LOY ~ c*SAT + b*VAL", "LOY ~ c*SAT + b*VAL + TRU")
PLS_KEYS = {
    "n_rows", "n_used", "dropped", "missing", "estimator", "pls", "warnings", "estimates",
    "weights", "loadings", "outer", "cross_loadings", "effects", "r2", "r2_adj", "reliability",
    "gof", "htmt", "htmt2", "fornell_larcker", "f2", "q2", "vif", "correlations",
    "descriptives", "scale", "indices", "importance_performance", "plspredict", "nps", "groups",
    "bootstrap",
}  # fmt: skip


@pytest.fixture(scope="module")
def survey() -> pd.DataFrame:
    return pd.read_csv(HERE / "data" / "loyalty_segments.csv")


@pytest.fixture(scope="module")
def result(survey):
    return analyze(
        survey, model=MODEL, reverse=["sat4"], scale_min=1, scale_max=7, group="tier",
        nps="ltr", estimator="pls", bootstrap=300, seed=5,
    )  # fmt: skip


@pytest.fixture(scope="module")
def document(result) -> dict:
    return json.loads(json.dumps(result.to_dict(), allow_nan=False))


def test_document_keys_and_the_ones_shared_with_covariance_based_sem(survey, document):
    assert set(document) == PLS_KEYS
    covariance_based = analyze(survey, model=MODEL, reverse=["sat4"], scale_min=1, scale_max=7)
    shared = set(document) & set(covariance_based.to_dict())
    assert shared >= {"estimates", "r2", "reliability", "htmt", "fornell_larcker",
                      "descriptives", "correlations", "estimator", "n_used"}  # fmt: skip
    cb = covariance_based.to_dict()
    assert set(document["estimates"][0]) >= set(cb["estimates"][0])
    assert set(document["htmt"]) == set(cb["htmt"])
    assert document["descriptives"] == cb["descriptives"]  # the same item-mean scores
    for construct, values in document["reliability"].items():
        assert {"alpha", "ave", "cr"} <= set(values)
        # PLS reports alpha of the standardized items (SmartPLS, seminr, plspm), CB-SEM the
        # raw-score alpha (psych); they differ in the third decimal here.
        assert values["alpha"] == pytest.approx(cb["reliability"][construct]["alpha"], abs=0.005)


def test_pls_numbers_are_those_of_the_prepared_data(survey, result, document):
    items = survey.dropna(subset=list(result.pls.model.items)).copy()
    items["sat4"] = 8 - items["sat4"]  # reverse-keyed on the 1-7 scale
    fit = fit_pls(items, MODEL)
    assert document["n_used"] == fit.n == len(items)
    r2 = fit.r2().set_index("construct")["r2"]
    assert document["r2"] == pytest.approx(r2.to_dict(), abs=1e-12)
    loadings = fit.outer().set_index("item")["loading"]
    rows = [r for r in document["estimates"] if r["op"] == "=~"]
    assert {r["rhs"]: r["est"] for r in rows} == pytest.approx(loadings.to_dict(), abs=1e-12)
    assert all(r["std_all"] == r["est"] for r in document["estimates"])
    boot = bootstrap_pls(fit, n_boot=300, seed=5)
    paths = boot.paths.set_index(["to", "from"])
    for row in (r for r in document["estimates"] if r["op"] == "~"):
        expected = paths.loc[(row["lhs"], row["rhs"])]
        assert (row["se"], row["z"], row["ci_lower"], row["bca_upper"]) == pytest.approx(
            (expected["se"], expected["t"], expected["ci_lower"], expected["bca_upper"]), rel=1e-9
        )
    indirect = next(r for r in document["estimates"] if r["op"] == ":=")
    assert indirect["lhs"] == "ind" and indirect["se"] > 0
    assert document["bootstrap"]["n_ok"] == 300


def test_pls_sections(document):
    assert document["pls"] == {
        "scheme": "path", "scaled": True, "consistent": False, "tolerance": 1e-7,
        "max_iterations": 300, "iterations": document["pls"]["iterations"],
        "omission_distance": 7,
    }  # fmt: skip
    assert set(document["weights"]) == {"SAT", "VAL", "TRU", "LOY"}
    assert set(document["q2"]) == set(document["r2"]) == {"VAL", "LOY"}
    assert set(document["f2"]["LOY"]) == {"SAT", "VAL", "TRU"}
    assert set(document["vif"]) == {"outer", "inner"}
    effect = next(e for e in document["effects"] if (e["from"], e["to"]) == ("SAT", "LOY"))
    assert effect["total"] == pytest.approx(effect["direct"] + effect["indirect"])
    assert effect["total_ci_lower"] < effect["total"] < effect["total_ci_upper"]
    assert 0 <= min(document["indices"].values()) <= max(document["indices"].values()) <= 100
    ipma = document["importance_performance"]
    assert ipma["target"] == "LOY"
    assert {row["construct"] for row in ipma["constructs"]} == {"SAT", "VAL", "TRU"}
    assert document["plspredict"]["folds"] == 10 and document["plspredict"]["seed"] == 5
    assert document["groups"]["column"] == "tier"
    assert document["scale"] == {"min": 1, "max": 7}


def test_composites_and_consistent_pls_through_analyze(survey):
    model = MODEL.replace("TRU =~", "TRU <~")
    result = analyze(survey, model=model, reverse=["sat4"], scale_min=1, scale_max=7,
                     estimator="pls", consistent=True, pls_scheme="factorial")  # fmt: skip
    document = result.to_dict()
    assert document["pls"]["consistent"] and document["pls"]["scheme"] == "factorial"
    ops = {(r["lhs"], r["op"]) for r in document["estimates"]}
    assert ("TRU", "<~") in ops and ("SAT", "=~") in ops
    assert document["reliability"]["TRU"]["rho_a"] is None  # composite: not a reliability
    assert "bootstrap" not in document


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"estimator": "gls"}, "estimator must be 'ML' or 'pls', not 'gls'"),
        ({"consistent": True}, "the PLS options (scheme, unscaled, consistent) need estimator"),
        ({"estimator": "pls", "missing": "fiml"}, "use missing 'listwise'"),
        ({"estimator": "pls", "invariance": ["tier"]}, "measurement invariance is tested with"),
        ({"estimator": "pls", "ordered": True}, "PLS treats items as metric"),
        ({"estimator": "pls", "pls_scheme": "star"}, "scheme must be one of centroid"),
    ],
)
def test_option_errors(survey, options, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        analyze(survey, model=MODEL, **options)


def test_a_construct_without_paths_is_refused_with_its_line(survey):
    with pytest.raises(ValueError, match="line 4: construct 'TRU' is in no path"):
        analyze(survey, model=LAVAAN_MODEL, estimator="pls")


def test_progress_stages(survey):
    stages = []
    analyze(survey, model=MODEL, estimator="pls", bootstrap=260, seed=1, progress=stages.append)
    # Chunks of resamples finish in any order; the count only grows.
    assert stages[:5] == ["prepare", "pls", "quality", "prediction", "scores"]
    assert stages[5:] in (["bootstrap 250/260", "bootstrap 260/260"],
                          ["bootstrap 10/260", "bootstrap 260/260"])  # fmt: skip
