"""PLS-SEM estimation against R plspm and seminr (published test outputs and fresh runs)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.errors import ConvergenceError, ModelSyntaxError
from analysis.pls import fit_pls, pls_model
from tests.analysis.pls_support import (
    ECSI_MODEL,
    MOBI_SATISFACTION,
    TOL,
    ecsi,
    mobi,
    published,
    reference,
)


def by_item(result) -> pd.DataFrame:
    return result.outer().set_index("item")


def path(result, source: str, target: str) -> float:
    paths = result.paths()
    return float(paths.loc[(paths["from"] == source) & (paths["to"] == target), "path"].iloc[0])


@pytest.fixture(scope="module")
def ecsi_centroid():
    """plspm's tutorial model: centroid scheme, items centred only (``scaled = FALSE``)."""
    return fit_pls(ecsi(), ECSI_MODEL, scheme="centroid", scaled=False)


# R plspm, published outputs (plspm-python's test suite) ------------------------------------


def test_ecsi_matches_plspm_paths_effects_loadings_r2_ave_and_gof(ecsi_centroid):
    fit = ecsi_centroid
    into_sat = published("plspm", "satisfaction.inner-model.csv")["Estimate"]
    for source, value in into_sat.items():
        assert path(fit, source, "SAT") == pytest.approx(value, abs=TOL)
    expected = published("plspm", "satisfaction.effects.csv").set_index(["from", "to"])
    effects = fit.effects().set_index(["from", "to"])
    for column in ("direct", "indirect", "total"):
        pd.testing.assert_series_equal(
            effects[column], expected.loc[effects.index, column], atol=TOL, check_names=False
        )
    # Every pair plspm lists with an effect is one of ours; the others have none.
    assert set(expected.index[expected["total"] != 0]) == set(effects.index)
    outer = published("plspm", "satisfaction.outer-model.csv")
    ours = by_item(fit)
    np.testing.assert_allclose(ours["loading"], outer.loc[ours.index, "loading"], atol=TOL)
    # plspm scales scores to unit population variance: its weights are larger by √(n/(n-1)).
    np.testing.assert_allclose(
        ours["weight"] * np.sqrt(250 / 249), outer.loc[ours.index, "weight"], atol=TOL
    )
    summary = published("plspm", "satisfaction.inner-summary.csv")
    r2 = fit.r2().set_index("construct")["r2"]
    np.testing.assert_allclose(r2, summary.loc[r2.index, "r_squared"], atol=TOL)
    reliability = fit.reliability().set_index("construct")
    np.testing.assert_allclose(reliability["ave"], summary.loc[reliability.index, "ave"], atol=TOL)
    assert fit.gof == pytest.approx(0.609741624338411, abs=1e-7)
    alpha = published("plspm", "satisfaction_unidim.csv")["cronbach_alpha"]
    np.testing.assert_allclose(reliability["alpha"], alpha[reliability.index], atol=TOL)
    cross = published("plspm", "satisfaction.crossloadings.csv")
    pd.testing.assert_frame_equal(
        fit.cross_loadings(), cross.loc[ours.index, list(fit.model.constructs)],
        atol=TOL, check_names=False,
    )  # fmt: skip


@pytest.mark.parametrize(("scheme", "name"), [("path", "path"), ("factorial", "factorial")])
def test_ecsi_other_schemes_match_plspm(scheme, name):
    fit = fit_pls(ecsi(), ECSI_MODEL, scheme=scheme, scaled=False)
    outer = published("plspm", f"satisfaction.outer-model-{name}.csv")
    ours = by_item(fit)
    np.testing.assert_allclose(ours["loading"], outer.loc[ours.index, "loading"], atol=TOL)
    np.testing.assert_allclose(
        ours["weight"] * np.sqrt(250 / 249), outer.loc[ours.index, "weight"], atol=TOL
    )


def test_ecsi_in_mode_b_matches_plspm_r2():
    composites = ECSI_MODEL.replace("=~", "<~")
    fit = fit_pls(ecsi(), composites, scheme="centroid", scaled=False)
    expected = published("plspm", "satisfaction.modeb.inner-summary.csv")["r_squared"]
    r2 = fit.r2().set_index("construct")["r2"]
    np.testing.assert_allclose(r2, expected[r2.index], atol=TOL)


def test_mobi_with_a_composite_matches_seminr_through_plspm_python():
    model = """
    Expectation =~ CUEX1 + CUEX2 + CUEX3
    Quality <~ PERQ1 + PERQ2 + PERQ3 + PERQ4 + PERQ5 + PERQ6 + PERQ7
    Loyalty =~ CUSL1 + CUSL2 + CUSL3
    Image =~ IMAG1 + IMAG2 + IMAG3 + IMAG4 + IMAG5
    Loyalty ~ Expectation + Quality + CUSCO
    Expectation ~ Image
    """
    fit = fit_pls(mobi(), model)
    outer = published("plspm", "seminr-mobi-basic-outer-model.csv")
    ours = by_item(fit)
    np.testing.assert_allclose(ours["weight"], outer.loc[ours.index, "weight"], atol=TOL)
    np.testing.assert_allclose(ours["loading"], outer.loc[ours.index, "loading"], atol=TOL)
    paths = published("plspm", "seminr-mobi-basic-paths.csv")
    # The single item CUSCO is seminr's construct "Complaints".
    assert path(fit, "CUSCO", "Loyalty") == pytest.approx(paths.loc["Complaints", "Loyalty"])
    for source, target in [("Expectation", "Loyalty"), ("Quality", "Loyalty"),
                           ("Image", "Expectation")]:  # fmt: skip
        assert path(fit, source, target) == pytest.approx(paths.loc[source, target], abs=TOL)


# seminr, published outputs (its test suite) --------------------------------------------------


@pytest.mark.parametrize(
    ("scheme", "prefix"), [("path", "inner_weights"), ("factorial", "factorial")]
)
def test_mobi_weights_and_paths_match_seminr(scheme, prefix):
    fit = fit_pls(mobi(), MOBI_SATISFACTION, scheme=scheme)
    weights = published("seminr", f"{prefix}_weights.csv").sum(axis=1)
    ours = by_item(fit)
    np.testing.assert_allclose(ours["weight"], weights[ours.index], atol=TOL)
    coefficients = published("seminr", f"{prefix}_coefficients.csv")["Satisfaction"]
    for source in ("Image", "Expectation", "Value"):
        assert path(fit, source, "Satisfaction") == pytest.approx(coefficients[source], abs=TOL)


def test_mobi_quality_criteria_match_seminr():
    fit = fit_pls(mobi(), MOBI_SATISFACTION)
    expected = published("seminr", "reliability.csv")
    ours = fit.reliability().set_index("construct")
    for column, theirs in [("alpha", "alpha"), ("rho_c", "rhoC"), ("ave", "AVE"),
                           ("rho_a", "rhoA")]:  # fmt: skip
        np.testing.assert_allclose(ours[column], expected.loc[ours.index, theirs], atol=TOL)
    r2 = published("seminr", "rsquared1.csv")["Satisfaction"]
    row = fit.r2().iloc[0]
    assert (row["r2"], row["r2_adj"]) == pytest.approx((r2["Rsq"], r2["AdjRsq"]), abs=TOL)
    htmt = published("seminr", "htmt.csv")
    for row in fit.htmt().itertuples():
        assert row.htmt == pytest.approx(htmt.loc[row.construct_a, row.construct_b], abs=TOL)
    cross = published("seminr", "cross_loadings.csv")
    pd.testing.assert_frame_equal(fit.cross_loadings(), cross, atol=TOL, check_names=False)
    f2 = fit.f_squared().set_index("from")["f2"]
    assert f2["Image"] == pytest.approx(published("seminr", "fsquared1.csv").iloc[0, 0], abs=TOL)
    vif = published("seminr", "flat_item_vifs1.csv").iloc[0]
    items = by_item(fit)["vif"]
    for key, value in vif.items():
        assert items[key.split("*")[1]] == pytest.approx(value, abs=TOL)
    antecedents = published("seminr", "flat_vif_antecedents1.csv").iloc[0]
    inner = fit.inner_vif().set_index("from")["vif"]
    for key, value in antecedents.items():
        assert inner[key.split("*")[1]] == pytest.approx(value, abs=TOL)
    # √AVE on the diagonal, construct correlations below it.
    fl = published("seminr", "fl_table.csv", index_col=None).to_numpy()
    lower = np.tril_indices(4)
    np.testing.assert_allclose(fit.fornell_larcker().to_numpy()[lower], fl[lower], atol=TOL)


def test_single_path_f_squared_and_second_vif_model_match_seminr():
    two = fit_pls(mobi(), "Image =~ IMAG1 + IMAG2 + IMAG3 + IMAG4 + IMAG5\n"
                  "Satisfaction =~ CUSA1 + CUSA2 + CUSA3\nSatisfaction ~ Image")  # fmt: skip
    f2 = two.f_squared()["f2"].iloc[0]
    assert f2 == pytest.approx(published("seminr", "fsquared2.csv").iloc[0, 0], abs=TOL)
    bigger = fit_pls(mobi(), MOBI_SATISFACTION + "Value ~ Image + Expectation")
    vif = bigger.inner_vif().set_index(["to", "from"])["vif"]
    for key, value in published("seminr", "flat_vif_antecedents2.csv").iloc[0].items():
        target, source = key.split("*")
        assert vif[(target, source)] == pytest.approx(value, abs=TOL)


def test_consistent_pls_matches_seminr():
    fit = fit_pls(mobi(), MOBI_SATISFACTION, scheme="factorial", consistent=True)
    coefficients = published("seminr", "path_coef1.csv")["Satisfaction"]
    for source in ("Image", "Expectation", "Value"):
        assert path(fit, source, "Satisfaction") == pytest.approx(coefficients[source], abs=TOL)
    loadings = published("seminr", "loadings1.csv").sum(axis=1)
    ours = by_item(fit)
    np.testing.assert_allclose(ours["loading"], loadings[ours.index], atol=TOL)
    rho = published("seminr", "rho1.csv")["rhoA"]
    reliability = fit.reliability().set_index("construct")
    np.testing.assert_allclose(reliability["rho_a"], rho[reliability.index], atol=TOL)
    r2 = published("seminr", "rsquaredplsc.csv")["Satisfaction"]
    row = fit.r2().iloc[0]
    assert (row["r2"], row["r2_adj"]) == pytest.approx((r2["Rsq"], r2["AdjRsq"]), abs=TOL)


# Fresh runs of plspm and seminr (pls_reference.R) ----------------------------------------------


def _pairs(records: list[dict], value: str) -> dict[tuple[str, str], float]:
    return {(r["from"], r["to"]): r[value] for r in records}


def test_ecsi_standardized_centroid_matches_plspm():
    expected = reference()["ecsi"]["centroid_scaled"]
    fit = fit_pls(ecsi(), ECSI_MODEL, scheme="centroid")
    ours = by_item(fit)
    for item, loading in expected["loadings"].items():
        assert ours.loc[item, "loading"] == pytest.approx(loading, abs=TOL)
    for (source, target), value in _pairs(expected["paths"], "path").items():
        assert path(fit, source, target) == pytest.approx(value, abs=TOL)
    assert fit.gof == pytest.approx(expected["gof"], abs=TOL)


MOBI_CASES = [
    ("composite_path", "composite_model", {}),
    ("composite_factorial", "composite_model", {"scheme": "factorial"}),
    ("plsc_path", "reflective_model", {"consistent": True}),
]


@pytest.mark.parametrize(("case", "model", "options"), MOBI_CASES)
def test_mobi_ecsi_model_matches_seminr(case, model, options):
    """The full mobi ECSI model (Quality a composite, Complaints a single item) in seminr."""
    expected = reference()["mobi"][case]
    text = reference()["mobi"][model]
    fit = fit_pls(mobi(), text, **options)
    ours = by_item(fit)
    for column in ("weight", "loading"):
        for item, value in expected[f"{column}s"].items():
            assert ours.loc[item, column] == pytest.approx(value, abs=TOL), (column, item)
    for (source, target), value in _pairs(expected["paths"], "path").items():
        assert path(fit, source, target) == pytest.approx(value, abs=TOL)
    effects = fit.effects().set_index(["from", "to"])["total"]
    assert _pairs(expected["total"], "total") == pytest.approx(effects.to_dict(), abs=TOL)
    r2 = fit.r2().set_index("construct")
    for construct, values in expected["r2"].items():
        assert r2.loc[construct, "r2"] == pytest.approx(values["r2"], abs=TOL)
        assert r2.loc[construct, "r2_adj"] == pytest.approx(values["r2_adj"], abs=TOL)
    reliability = fit.reliability().set_index("construct")
    for construct, values in expected["reliability"].items():
        if reliability.loc[construct, "mode"] == "B":
            continue  # seminr prints 1 or loadings-based values for composites; we leave them out
        for ours_name, theirs in (("alpha", "alpha"), ("rho_c", "rhoC"), ("ave", "AVE"),
                                  ("rho_a", "rhoA")):  # fmt: skip
            assert reliability.loc[construct, ours_name] == pytest.approx(values[theirs], abs=TOL)
    htmt = fit.htmt().set_index(["construct_a", "construct_b"])["htmt"]
    for (a, b), value in _pairs(expected["htmt"], "htmt").items():
        assert htmt.get((a, b), htmt.get((b, a))) == pytest.approx(value, abs=TOL)
    f2 = fit.f_squared().set_index(["from", "to"])["f2"]
    assert _pairs(expected["f2"], "f2") == pytest.approx(f2.to_dict(), abs=TOL)
    vif = by_item(fit)["vif"]
    for items in expected["vif_items"].values():
        for item, value in items.items():
            assert vif[item] == pytest.approx(value, abs=TOL)
    if fit.settings.consistent:
        return  # our inner VIFs come from the corrected correlations the PLSc paths use
    inner = fit.inner_vif().set_index(["to", "from"])["vif"]
    for target, sources in expected["vif_antecedents"].items():
        for source, value in sources.items():
            # seminr leaves the VIF of a single predictor out; it is 1.
            assert inner[(target, source)] == pytest.approx(1.0 if value is None else value)


def test_htmt2_matches_semtools():
    fit = fit_pls(mobi(), reference()["mobi"]["reflective_model"])
    ours = fit.htmt(geometric=True).set_index(["construct_a", "construct_b"])["htmt"]
    expected = _pairs(reference()["mobi"]["htmt2"], "htmt2")
    assert len(expected) == 15  # the six multi-item constructs
    for (a, b), value in expected.items():
        assert ours.get((a, b), ours.get((b, a))) == pytest.approx(value, abs=1e-10)


# Behaviour -----------------------------------------------------------------------------------


def test_missing_answers_are_left_out_listwise():
    data = mobi().copy()
    data.loc[[3, 7], "CUSA2"] = np.nan
    fit = fit_pls(data, MOBI_SATISFACTION)
    assert (fit.n_rows, fit.n) == (250, 248)
    assert path(fit, "Image", "Satisfaction") == pytest.approx(
        path(fit_pls(data.dropna(), MOBI_SATISFACTION), "Image", "Satisfaction"), abs=1e-12
    )


def test_scaling_items_changes_nothing_when_they_are_standardized():
    data = mobi()
    standardized = (data - data.mean()) / data.std()
    scaled = fit_pls(data, MOBI_SATISFACTION)
    centred = fit_pls(standardized, MOBI_SATISFACTION, scaled=False)
    np.testing.assert_allclose(scaled.outer()["weight"], centred.outer()["weight"], atol=1e-9)


def test_estimates_table_lists_the_model_with_labels_and_defined_parameters():
    model = MOBI_SATISFACTION.replace("Satisfaction ~ Image", "Satisfaction ~ a*Image")
    model += "Value ~ b*Image\nboth := a + b\n"
    fit = fit_pls(mobi(), model)
    table = fit.estimates()
    assert list(table.columns) == ["lhs", "op", "rhs", "label", "est"]
    assert table["op"].tolist() == ["=~"] * 13 + ["~"] * 4 + [":="]
    values = fit.parameter_values()
    assert values["both"] == pytest.approx(values["a"] + values["b"])
    row = table[table["label"] == "a"].iloc[0]
    assert (row["lhs"], row["rhs"], row["est"]) == ("Satisfaction", "Image", values["a"])


def test_warnings_name_weak_loadings_and_inadmissible_plsc():
    fit = fit_pls(mobi(), reference()["mobi"]["composite_model"])
    weak = "loading of CUSL2 on Loyalty is 0.202, below .708: the construct explains less"
    assert any(warning.startswith(weak) for warning in fit.warnings)
    # A's items share little (a1 and a2 differ by a large common term) but their sum tracks B
    # closely: rho_A of A is small and the corrected A-B correlation far above 1.
    rng = np.random.default_rng(5)
    common, apart = rng.standard_normal(400), rng.standard_normal(400) * 0.9
    data = pd.DataFrame(
        {
            "a1": common + apart,
            "a2": common - apart,
            "b1": common + rng.standard_normal(400) * 0.3,
            "b2": common + rng.standard_normal(400) * 0.3,
        }
    )
    plsc = fit_pls(data, "A =~ a1 + a2\nB =~ b1 + b2\nB ~ A", consistent=True)
    assert "a consistent construct correlation exceeds 1 in absolute value" in plsc.warnings


@pytest.mark.parametrize(
    ("model", "message"),
    [
        ("A =~ x1 + x2\nB =~ x3\nB ~~ A", "covariances ('~~') have no place"),
        ("A =~ 1*x1 + x2\nB =~ x3\nB ~ A", "fixed values, NA* and start() are not available"),
        ("A =~ x1 + x2\nB =~ x2 + x3\nB ~ A", "'x2' is an indicator of both 'A' and 'B'"),
        ("A =~ x1 + x2\nB =~ A + x3\nB ~ A", "higher-order constructs"),
        ("A =~ x1\nB =~ x2\nC =~ x3\nB ~ A", "construct 'C' is in no path"),
        ("A =~ x1\nB =~ x2\nB ~ A\nA ~ B", "feedback loop through 'A', 'B'"),
        ("A =~ x1\nB =~ x2\nB ~ a*A + a*x3", "label 'a' is used twice"),
        ("A =~ x1\nB =~ x2", "at least one path"),
        ("A =~ x1\nB =~ x2\nB ~ A + nothing", "'nothing' in a path is neither a construct"),
    ],
)
def test_model_errors_are_clear(model, message):
    data = pd.DataFrame(
        np.random.default_rng(0).standard_normal((30, 3)), columns=["x1", "x2", "x3"]
    )
    with pytest.raises(ModelSyntaxError, match=message.replace("(", r"\(").replace(")", r"\)")
                       .replace("*", r"\*")):  # fmt: skip
        fit_pls(data, model)


def test_data_and_option_errors_are_clear():
    data = mobi()
    with pytest.raises(ValueError, match="scheme must be one of centroid, factorial, path"):
        fit_pls(data, MOBI_SATISFACTION, scheme="centriod")
    constant = data.assign(CUSA1=5)
    with pytest.raises(ValueError, match="these items have no variance: 'CUSA1'"):
        fit_pls(constant, MOBI_SATISFACTION)
    with pytest.raises(ValueError, match="unknown column"):
        fit_pls(data.drop(columns="CUSA3"), MOBI_SATISFACTION)
    twin = data.assign(PERV2=data["PERV1"] * 2)
    with pytest.raises(ValueError, match="indicators of composite 'Value' are linearly dependent"):
        fit_pls(twin, MOBI_SATISFACTION.replace("Value =~", "Value <~"))
    with pytest.raises(ConvergenceError, match="did not settle within 2 iterations"):
        fit_pls(data, MOBI_SATISFACTION, max_iter=2)


def test_pls_model_reads_lavaan_syntax_with_composites_and_single_items():
    model = pls_model("Q <~ q1 + q2\nS =~ s1 + s2\nS ~ Q + age")
    assert [(b.construct, b.mode, b.items, b.implicit) for b in model.blocks] == [
        ("Q", "B", ("q1", "q2"), False),
        ("S", "A", ("s1", "s2"), False),
        ("age", "A", ("age",), True),
    ]
    assert model.paths == (("Q", "S"), ("age", "S"))
    assert model.exogenous == ("Q", "age")
