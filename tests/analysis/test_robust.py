"""Robust ML (MLR, MLM) against lavaan 0.6 (fixtures written by reference/robust_reference.R)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.sem import fit_sem
from analysis.sem.options import resolve_options
from tests.analysis.lavaan_support import EST_TOL, SE_TOL, assert_fit_matches, load_data

pytestmark = pytest.mark.filterwarnings("ignore:.*exogenous covariates:RuntimeWarning")

HERE = Path(__file__).parent
REFERENCE = json.loads((HERE / "reference" / "robust.json").read_text())
CASES = {case["name"]: case for case in REFERENCE["cases"]}
MISSING = {"listwise": "listwise", "ml": "fiml"}

# lavaan name -> ours, for the measures of the robust estimators.
SCALED_NAMES = (
    "chisq.scaled", "df.scaled", "pvalue.scaled", "chisq.scaling.factor",
    "baseline.chisq.scaled", "baseline.df.scaled", "baseline.pvalue.scaled",
    "baseline.chisq.scaling.factor", "cfi.scaled", "tli.scaled", "rmsea.scaled",
    "rmsea.ci.lower.scaled", "rmsea.ci.upper.scaled", "rmsea.pvalue.scaled",
)  # fmt: skip
ROBUST_NAMES = (
    "cfi.robust", "tli.robust", "rmsea.robust", "rmsea.ci.lower.robust",
    "rmsea.ci.upper.robust", "rmsea.pvalue.robust",
)  # fmt: skip


@pytest.fixture(scope="module", params=sorted(CASES))
def case(request):
    reference = CASES[request.param]
    result = fit_sem(
        load_data(reference["data"]),
        reference["model"],
        estimator=reference["estimator"],
        missing=MISSING[reference["missing"]],
    )
    return reference, pd.DataFrame(reference["estimates"]), result


def test_options_are_lavaans(case):
    reference, _, result = case
    assert result.estimator == reference["estimator"]
    assert result.options.se == reference["options"]["se"]
    assert result.options.test == reference["options"]["test"]
    assert result.options.information == reference["options"]["information"][0]


def test_estimates_and_robust_standard_errors(case):
    reference, expected, result = case
    ours = result.estimates
    assert ours[["lhs", "op", "rhs"]].values.tolist() == (
        expected[["lhs", "op", "rhs"]].values.tolist()
    )
    assert (result.n_used, result.n_rows) == (reference["nobs"], reference["norig"])
    np.testing.assert_allclose(ours["est"], expected["est"], atol=EST_TOL, rtol=0)
    np.testing.assert_allclose(ours["std_all"], expected["std.all"], atol=EST_TOL, rtol=0)
    free = expected["se"] > 0
    np.testing.assert_allclose(ours["se"][free], expected["se"][free], atol=SE_TOL, rtol=0)
    np.testing.assert_allclose(ours["pvalue"][free], expected["pvalue"][free], atol=1e-4)


def test_fit_measures(case):
    reference, _, result = case
    lavaan = reference["fit"]
    assert_fit_matches(result.fit, lavaan)
    robust = result.options.test != "standard"
    for name in SCALED_NAMES if robust else ():
        ours = result.fit[name.replace(".", "_")]
        assert ours == pytest.approx(lavaan[name], rel=1e-6, abs=1e-6), name
    # Under FIML even normal-theory ML has robust (FIML-corrected) RMSEA and CFI.
    has_robust = robust or reference["missing"] == "ml"
    for name in ROBUST_NAMES:
        if has_robust:
            ours = result.fit[name.replace(".", "_")]
            assert ours == pytest.approx(lavaan[name], rel=1e-6, abs=1e-6), name
        else:
            assert name.replace(".", "_") not in result.fit


def test_robust_standard_errors_differ_from_normal_theory():
    """On skewed 0-10 ratings the sandwich standard errors are larger than ML's."""
    data = load_data("acsi_ratings")
    model = CASES["acsi_mlr"]["model"]
    ml = fit_sem(data, model)
    mlr = fit_sem(data, model, estimator="MLR")
    loadings = ml.estimates["op"].eq("=~") & ml.estimates["se"].notna()
    np.testing.assert_allclose(mlr.estimates["est"], ml.estimates["est"], atol=1e-12)
    ratio = mlr.estimates.loc[loadings, "se"] / ml.estimates.loc[loadings, "se"]
    assert ratio.median() > 1.05
    assert mlr.fit["chisq"] == ml.fit["chisq"]
    assert mlr.fit["chisq_scaled"] < ml.fit["chisq"]


def test_vcov_and_coef_carry_lavaans_names():
    reference = CASES["loyalty_mlr"]
    result = fit_sem(load_data("loyalty_sim"), reference["model"], estimator="MLR")
    vcov = result.vcov()
    assert list(vcov.index) == reference["vcov_names"] == list(result.coef().index)
    np.testing.assert_allclose(vcov.to_numpy(), np.array(reference["vcov"]), atol=1e-6)
    free = result.estimates[result.estimates["se"].notna() & (result.estimates["op"] != ":=")]
    np.testing.assert_allclose(
        np.sqrt(np.diag(vcov))[: len(free)], free["se"].drop_duplicates(), atol=1e-12
    )


def test_conf_int_levels():
    result = fit_sem(load_data("loyalty_sim"), CASES["loyalty_mlr"]["model"], estimator="MLR")
    ci95 = result.conf_int()
    np.testing.assert_allclose(ci95["ci_lower"], result.estimates["ci_lower"], equal_nan=True)
    ci90 = result.conf_int(0.90)
    free = ci90["se"].notna()
    width90 = (ci90["ci_upper"] - ci90["ci_lower"])[free]
    width95 = (ci95["ci_upper"] - ci95["ci_lower"])[free]
    np.testing.assert_allclose(width90 / width95, 1.6448536 / 1.9599640, rtol=1e-6)
    with pytest.raises(ValueError, match="level"):
        result.conf_int(95)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"estimator": "WLS"}, "estimator must be one of ML, MLR, MLM"),
        ({"estimator": "MLM", "missing": "fiml"}, "complete data"),
        ({"estimator": "ML", "se": "robust.sem", "missing": "fiml"}, "complete data"),
        ({"se": "sandwich"}, "se must be one of"),
        ({"test": "bollen.stine"}, "test must be one of"),
    ],
)
def test_bad_options_are_refused(options, message):
    with pytest.raises(ValueError, match=message):
        fit_sem(load_data("loyalty_sim"), "SAT =~ sat1 + sat2 + sat3", **options)


def test_option_defaults_follow_lavaan():
    mlr = resolve_options(estimator="mlr", missing="listwise")
    assert (mlr.se, mlr.test, mlr.information) == (
        "robust.huber.white",
        "yuan.bentler.mplus",
        "observed",
    )
    mlm = resolve_options(estimator="MLM", missing="listwise")
    assert (mlm.se, mlm.test, mlm.information) == ("robust.sem", "satorra.bentler", "expected")
    ml_fiml = resolve_options(missing="fiml")
    assert (ml_fiml.se, ml_fiml.information) == ("standard", "observed")
    # An ML fit with a robust test keeps ML's standard errors.
    mixed = resolve_options(test="satorra.bentler", missing="listwise")
    assert (mixed.estimator, mixed.se, mixed.test) == ("ML", "standard", "satorra.bentler")


def test_saturated_model_has_no_scaling_factor():
    result = fit_sem(load_data("loyalty_sim"), "SAT =~ sat1 + sat2 + sat3", estimator="MLR")
    assert result.fit["df"] == 0
    fit = result.fit
    assert math.isnan(fit["chisq_scaling_factor"]) and math.isnan(fit["pvalue_scaled"])
    # As lavaan: the scaled CFI is 1, the robust CFI and scaled RMSEA undefined.
    assert fit["chisq_scaled"] == pytest.approx(0.0, abs=1e-9)
    assert fit["cfi_scaled"] == pytest.approx(1.0, abs=1e-12)
    assert fit["rmsea_robust"] == 0.0
    assert math.isnan(fit["cfi_robust"]) and math.isnan(fit["rmsea_scaled"])


def test_modification_indices_match_lavaan(case):
    reference, _, result = case
    ours = result.modindices()
    lavaan = pd.DataFrame(reference["modindices"])
    assert list(ours.columns) == ["lhs", "op", "rhs", "mi", "epc", "sepc_all"]
    assert ours["mi"].is_monotonic_decreasing
    keys = ["lhs", "op", "rhs"]
    # The same parameters (lavaan leaves out those whose freeing is not identified)...
    assert sorted(map(tuple, ours[keys].values)) == sorted(map(tuple, lavaan[keys].values))
    merged = ours.merge(lavaan, on=keys, suffixes=("", "_lavaan"))
    # ...with the same index, expected change and standardized change.
    np.testing.assert_allclose(merged["mi"], merged["mi_lavaan"], atol=0.01)
    np.testing.assert_allclose(merged["epc"], merged["epc_lavaan"], atol=1e-3)
    # (Freeing a fixed covariate's covariance changes nothing: mi 0, lavaan gives no sepc.)
    informative = merged["mi_lavaan"] > 1e-8
    np.testing.assert_allclose(
        merged.loc[informative, "sepc_all"], merged.loc[informative, "sepc.all"], atol=1e-3
    )


def test_modification_indices_find_the_omitted_cross_loading():
    result = fit_sem(load_data("acsi_ratings"), CASES["acsi_mlr"]["model"], estimator="MLR")
    top = result.modindices(minimum=3.84)
    assert (top["mi"] >= 3.84).all()
    assert tuple(top.iloc[0][["lhs", "op", "rhs"]]) == ("PQ", "=~", "pv3")
    assert top.iloc[0]["sepc_all"] > 0.3
