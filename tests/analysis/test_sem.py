"""fit_sem against lavaan 0.6 (fixtures written by reference/lavaan_reference.R)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.errors import (
    AnalysisError,
    IdentificationError,
    ModelSyntaxError,
    NonNumericDataError,
    UnknownVariableError,
)
from analysis.sem import fit_sem
from tests.analysis.lavaan_support import (
    EST_TOL,
    SE_TOL,
    assert_fit_matches,
    load_data,
)

# The covariate fixture drops a row with a missing covariate (tested in test_fiml.py).
pytestmark = pytest.mark.filterwarnings("ignore:.*exogenous covariates:RuntimeWarning")

HERE = Path(__file__).parent
REFERENCE = HERE / "reference"
DATA = HERE / "data"


# fixture name -> (data set, fit_sem options)
CASES = {
    "political_democracy": ("political_democracy", {}),
    "political_democracy_equal": ("political_democracy", {}),
    "political_democracy_fiml": ("political_democracy", {"missing": "fiml"}),
    "political_democracy_path": ("political_democracy", {}),
    "holzinger_swineford_second_order": ("holzinger_swineford", {}),
    "holzinger_swineford": ("holzinger_swineford", {}),
    "holzinger_swineford_stdlv": ("holzinger_swineford", {"std_lv": True}),
    "holzinger_swineford_covariates": ("holzinger_swineford", {}),
    "holzinger_swineford_missing_fiml": ("holzinger_swineford_missing", {"missing": "fiml"}),
    "holzinger_swineford_missing_covariates_fiml": (
        "holzinger_swineford_missing",
        {"missing": "fiml"},
    ),
    "loyalty_listwise": ("loyalty_sim", {}),
    "loyalty_fiml": ("loyalty_sim", {"missing": "fiml"}),
}


@pytest.fixture(scope="module", params=sorted(CASES))
def case(request):
    reference = json.loads((REFERENCE / f"{request.param}.json").read_text())
    data_name, options = CASES[request.param]
    result = fit_sem(load_data(data_name), reference["model"], **options)
    expected = pd.DataFrame(reference["estimates"]).astype(
        {c: float for c in ("est", "se", "z", "pvalue", "ci.lower", "ci.upper", "std.all")}
    )
    return reference, expected, result


def test_rows_match_parameter_estimates(case):
    _, expected, result = case
    ours = result.estimates
    assert list(ours.columns) == [
        "lhs", "op", "rhs", "label", "est", "se", "z", "pvalue", "ci_lower", "ci_upper", "std_all",
    ]  # fmt: skip
    assert ours[["lhs", "op", "rhs"]].values.tolist() == (
        expected[["lhs", "op", "rhs"]].values.tolist()
    )
    if "label" in expected:
        assert ours["label"].tolist() == expected["label"].tolist()


def test_estimates_and_standard_errors(case):
    _, expected, result = case
    ours = result.estimates
    np.testing.assert_allclose(ours["est"], expected["est"], atol=EST_TOL, rtol=0)
    np.testing.assert_allclose(ours["std_all"], expected["std.all"], atol=EST_TOL, rtol=0)
    free = expected["se"] > 0
    np.testing.assert_allclose(ours["se"][free], expected["se"][free], atol=SE_TOL, rtol=0)
    np.testing.assert_allclose(
        ours["ci_lower"][free], expected["ci.lower"][free], atol=SE_TOL * 2, rtol=0
    )
    np.testing.assert_allclose(ours["pvalue"][free], expected["pvalue"][free], atol=0.002, rtol=0)
    # Fixed parameters (markers, fixed covariates, latent means) carry no standard error.
    assert ours.loc[~free, "se"].isna().all()
    assert ours.loc[~free, "z"].isna().all()


def test_fit_measures(case):
    reference, _, result = case
    assert_fit_matches(result.fit, reference["fit"])


def test_r2_and_sample_size(case):
    reference, _, result = case
    assert result.converged
    assert result.r2 == pytest.approx(reference["r2"], abs=EST_TOL)
    assert result.n_used == reference["nobs"]
    assert result.n_rows == reference["norig"]


def test_implied_covariance(case):
    reference, _, result = case
    implied = result.implied_covariance()
    np.testing.assert_allclose(implied.to_numpy(), np.array(reference["implied_cov"]), atol=0.002)


@pytest.fixture(scope="module")
def loyalty():
    reference = json.loads((REFERENCE / "loyalty_listwise.json").read_text())
    result = fit_sem(load_data("loyalty_sim"), reference["model"])
    expected = pd.DataFrame(reference["estimates"]).set_index(["lhs", "op", "rhs"])
    return result, expected


def test_standardized_loadings(loyalty):
    result, expected = loyalty
    loadings = result.standardized_loadings()
    assert list(loadings.columns) == ["factor", "item", "std_all"]
    assert loadings["item"].tolist()[:4] == ["sat1", "sat2", "sat3", "sat4"]
    lavaan = [
        expected.loc[(factor, "=~", item), "std.all"]
        for factor, item in zip(loadings["factor"], loadings["item"], strict=True)
    ]
    np.testing.assert_allclose(loadings["std_all"], lavaan, atol=EST_TOL)


def test_latent_correlations(loyalty):
    result, expected = loyalty
    corr = result.latent_correlations()
    assert list(corr.index) == ["SAT", "VAL", "TRU", "LOY"]
    assert corr.loc["SAT", "TRU"] == pytest.approx(
        expected.loc[("SAT", "~~", "TRU"), "std.all"], abs=EST_TOL
    )
    np.testing.assert_allclose(np.diag(corr), 1.0)
    assert corr.loc["SAT", "VAL"] == pytest.approx(
        expected.loc[("VAL", "~", "SAT"), "std.all"], abs=EST_TOL
    )


def test_total_effects_match_lavaan_defined_total(loyalty):
    result, expected = loyalty
    effects = result.total_effects("LOY")
    assert set(effects.index) == {"SAT", "VAL"}
    # lavaan's std.all of `total := c + a*b` is the standardized total effect of SAT on LOY.
    assert effects["SAT"] == pytest.approx(
        expected.loc[("total", ":=", "c+a*b"), "std.all"], abs=EST_TOL
    )
    assert effects["VAL"] == pytest.approx(
        expected.loc[("LOY", "~", "VAL"), "std.all"], abs=EST_TOL
    )
    raw = result.total_effects("LOY", standardized=False)
    assert raw["SAT"] == pytest.approx(expected.loc[("total", ":=", "c+a*b"), "est"], abs=EST_TOL)
    items = result.total_effects("loy1", standardized=False)
    assert set(items.index) == {"SAT", "VAL", "LOY"}
    with pytest.raises(UnknownVariableError):
        result.total_effects("NOPE")


HS_MODEL = "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9"


def test_unknown_variables_are_listed():
    data = load_data("holzinger_swineford")
    with pytest.raises(UnknownVariableError) as error:
        fit_sem(data, "visual =~ x1 + x2 + q1\nspeed =~ x7 + q2 + x9")
    assert error.value.missing == ("q1", "q2")
    assert "'q1', 'q2'" in str(error.value)


def test_non_numeric_columns_are_rejected():
    data = load_data("holzinger_swineford").assign(x2=lambda d: d["x2"].astype(str))
    with pytest.raises(NonNumericDataError, match="x2"):
        fit_sem(data, HS_MODEL)


def test_empty_columns_are_named():
    data = load_data("holzinger_swineford").assign(x2=np.nan)
    with pytest.raises(AnalysisError, match="no values: x2"):
        fit_sem(data, HS_MODEL)


def test_syntax_errors_surface():
    with pytest.raises(ModelSyntaxError, match="line 2"):
        fit_sem(load_data("holzinger_swineford"), "visual =~ x1 + x2 + x3\nspeed x7")


def test_negative_degrees_of_freedom():
    with pytest.raises(IdentificationError, match="df = -1"):
        fit_sem(load_data("holzinger_swineford"), "F =~ x1 + x2")


def test_isolated_single_indicator_factor():
    with pytest.raises(IdentificationError, match="single indicator"):
        fit_sem(load_data("holzinger_swineford"), "F =~ x1")


def test_singular_information_names_the_parameters():
    model = "A =~ x1 + x2\nB =~ x4 + x5\nA ~~ 0*B"
    with pytest.raises(IdentificationError, match="singular") as error:
        fit_sem(load_data("holzinger_swineford"), model)
    assert "=~" in str(error.value) or "~~" in str(error.value)


def test_listwise_deletion_counts_rows():
    data = load_data("holzinger_swineford")
    data.loc[:9, "x5"] = np.nan
    result = fit_sem(data, HS_MODEL)
    assert (result.n_rows, result.n_used) == (301, 291)


def test_heywood_case_is_reported_not_clipped():
    # Correlations .9, .9, .7 force a loading above 1 and a negative residual variance.
    target = np.array([[1, 0.9, 0.9], [0.9, 1, 0.7], [0.9, 0.7, 1]])
    raw = np.random.default_rng(7).standard_normal((200, 3))
    raw = (raw - raw.mean(0)) @ np.linalg.inv(np.linalg.cholesky(np.cov(raw.T, bias=True)).T)
    data = pd.DataFrame(raw @ np.linalg.cholesky(target).T, columns=["a", "b", "c"])
    with pytest.warns(RuntimeWarning, match="Heywood"):
        result = fit_sem(data, "F =~ a + b + c")
    residual = result.estimates.query("lhs == 'a' and op == '~~'")["est"].item()
    assert residual == pytest.approx(1 - 0.9 * 0.9 / 0.7, abs=1e-6)
    assert any("Heywood" in note and "a" in note for note in result.warnings)
