"""Our SEM engine against semopy, with lavaan's numbers deciding where the two differ.

Estimates, standard errors, chi-square, CFI and TLI agree (semopy with a tight optimiser
tolerance). semopy's RMSEA divides by N - 1, its log-likelihood, AIC and BIC are on the scale
of the fit function, its GFI is the NFI, its CFI is not clipped at 1, its std.all of residual
covariances is not a correlation, it fits incomplete data pairwise at the full N, and its
fit statistics for FIML are meaningless; ours are lavaan's (docs/crosschecks.md).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import pytest

from analysis.sem import SemResult, fit_sem
from tests.crosscheck.support import DATA, r_reference, reference_library

semopy = reference_library("semopy")

CROSSCHECK = r_reference("crosscheck_reference")
TIGHT = {"ftol": 1e-12}  # semopy's default SLSQP tolerance leaves estimates ~0.007 off
Key = tuple[str, str, str]


def data(name: str) -> pd.DataFrame:
    return pd.read_csv(DATA / f"{name}.csv")


def without_defined_parameters(model: str) -> str:
    """semopy has no ``:=`` (NotImplementedError): the rest of the model is fitted."""
    return "\n".join(line for line in model.splitlines() if ":=" not in line)


def semopy_fit(model: str, frame: pd.DataFrame, *, means: bool = False) -> Any:
    fitted = (semopy.ModelMeans if means else semopy.Model)(model)
    fitted.fit(frame, options=TIGHT)
    return fitted


def semopy_stats(fitted: Any) -> pd.Series:
    return semopy.calc_stats(fitted).iloc[0]


def semopy_table(inspected: pd.DataFrame, ours: SemResult) -> dict[Key, dict[str, float]]:
    """semopy's ``inspect()`` rows under lavaan's names: ``x1 ~ visual`` is ``visual =~ x1``."""
    our_keys = set(
        zip(ours.estimates["lhs"], ours.estimates["op"], ours.estimates["rhs"], strict=True)
    )
    table = {}
    for row in inspected.to_dict("records"):
        lhs, op, rhs = row["lval"], row["op"], row["rval"]
        if op == "~" and rhs == "1":
            key = (lhs, "~1", "")
        elif op == "~":
            key = (rhs, "=~", lhs) if (rhs, "=~", lhs) in our_keys else (lhs, "~", rhs)
        else:
            key = (lhs, "~~", rhs) if (lhs, "~~", rhs) in our_keys else (rhs, "~~", lhs)
        se = row["Std. Err"]
        table[key] = {
            "est": float(row["Estimate"]),
            "se": math.nan if se == "-" else float(se),
            "std_all": float(row.get("Est. Std", math.nan)),
        }
    return table


def differences(ours: SemResult, theirs: dict[Key, dict[str, float]], column: str) -> np.ndarray:
    rows = ours.estimates[ours.estimates["op"] != ":="]
    reported = np.array([(r.lhs, r.op, r.rhs) in theirs for r in rows.itertuples()])
    # semopy leaves out only fixed rows (a latent mean fixed at 0), every free one is there.
    assert rows.loc[~reported, "se"].isna().all()
    assert reported.sum() == len(theirs)
    rows = rows[reported]
    ours_values = rows[column].to_numpy(dtype=float)
    their_values = np.array([theirs[(r.lhs, r.op, r.rhs)][column] for r in rows.itertuples()])
    both = ~(np.isnan(ours_values) | np.isnan(their_values))
    return np.abs(ours_values - their_values)[both]


@pytest.fixture(scope="module", params=["holzinger_swineford", "political_democracy"])
def complete_data_fits(request):
    reference = r_reference(request.param)
    model = without_defined_parameters(reference["model"])
    frame = data(request.param)
    ours = fit_sem(frame, model)
    theirs = semopy_fit(model, frame)
    return reference, ours, theirs


def test_ml_estimates_standard_errors_and_chi_square_agree(complete_data_fits):
    reference, ours, theirs = complete_data_fits
    table = semopy_table(theirs.inspect(std_est=True), ours)
    assert differences(ours, table, "est").max() < 1e-4
    assert differences(ours, table, "se").max() < 2e-5
    stats = semopy_stats(theirs)
    assert ours.fit["chisq"] == pytest.approx(stats["chi2"], rel=1e-8)
    assert ours.fit["df"] == stats["DoF"]
    assert ours.fit["cfi"] == pytest.approx(stats["CFI"], abs=1e-7)
    assert ours.fit["tli"] == pytest.approx(stats["TLI"], abs=1e-7)
    assert ours.fit["chisq"] == pytest.approx(reference["fit"]["chisq"], rel=1e-8)


def test_rmsea_semopy_divides_by_n_minus_1_lavaan_and_we_by_n(complete_data_fits):
    reference, ours, theirs = complete_data_fits
    stats = semopy_stats(theirs)
    chisq, df, n = stats["chi2"], stats["DoF"], ours.n_used
    assert stats["RMSEA"] == pytest.approx(math.sqrt((chisq / df - 1) / (n - 1)), rel=1e-9)
    assert ours.fit["rmsea"] == pytest.approx(math.sqrt((chisq / df - 1) / n), rel=1e-6)
    assert ours.fit["rmsea"] == pytest.approx(reference["fit"]["rmsea"], abs=1e-8)
    assert stats["RMSEA"] - reference["fit"]["rmsea"] > 1e-4


def test_semopy_loglik_aic_bic_are_on_the_fit_function_scale(complete_data_fits):
    reference, ours, theirs = complete_data_fits
    stats = semopy_stats(theirs)
    n, k = ours.n_used, ours.fit["npar"]
    # semopy's "LogLik" is the ML discrepancy F = chi-square / N, positive; AIC = 2 (k - F).
    assert stats["LogLik"] == pytest.approx(ours.fit["chisq"] / n, rel=1e-8)
    assert stats["AIC"] == pytest.approx(2 * (k - stats["LogLik"]), rel=1e-12)
    assert stats["BIC"] == pytest.approx(k * math.log(n) - 2 * stats["LogLik"], rel=1e-12)
    for ours_name, lavaan_name in [("loglik", "logl"), ("aic", "aic"), ("bic", "bic")]:
        assert ours.fit[ours_name] == pytest.approx(reference["fit"][lavaan_name], abs=1e-4)


def test_semopy_aic_prefers_a_one_factor_model_that_fits_far_worse():
    frame = data("holzinger_swineford")
    three = CROSSCHECK["fit"]["holzinger_swineford"]
    one = CROSSCHECK["fit"]["holzinger_swineford_one_factor"]
    ours = {name: fit_sem(frame, m["model"]).fit for name, m in [("three", three), ("one", one)]}
    theirs = {
        name: semopy_stats(semopy_fit(m["model"], frame))
        for name, m in [("three", three), ("one", one)]
    }
    assert ours["three"]["aic"] == pytest.approx(three["fit"]["aic"], abs=1e-4)
    assert ours["one"]["aic"] == pytest.approx(one["fit"]["aic"], abs=1e-4)
    assert ours["one"]["aic"] - ours["three"]["aic"] > 200  # lavaan's verdict, and ours
    assert theirs["one"]["AIC"] < theirs["three"]["AIC"]  # semopy's: the wrong model
    assert theirs["one"]["BIC"] < theirs["three"]["BIC"]
    assert ours["one"]["bic"] > ours["three"]["bic"]


def test_semopy_gfi_is_the_nfi():
    reference = CROSSCHECK["fit"]["holzinger_swineford"]
    stats = semopy_stats(semopy_fit(reference["model"], data("holzinger_swineford")))
    assert stats["GFI"] == pytest.approx(1 - stats["chi2"] / stats["chi2 Baseline"], rel=1e-12)
    assert stats["GFI"] == pytest.approx(stats["NFI"], rel=1e-12)
    assert stats["NFI"] == pytest.approx(reference["fit"]["nfi"], abs=1e-7)
    assert reference["fit"]["gfi"] - stats["GFI"] > 0.03  # lavaan's GFI: .943, semopy's .907


def test_chi_square_below_df_semopy_cfi_exceeds_1_lavaan_and_ours_clip_it():
    reference = CROSSCHECK["fit"]["value_loyalty"]
    frame = data("loyalty_sim")
    ours = fit_sem(frame, reference["model"])
    complete = frame.dropna(subset=[c for c in frame if c.startswith(("val", "loy"))])
    stats = semopy_stats(semopy_fit(reference["model"], complete))
    assert ours.fit["chisq"] < ours.fit["df"]
    assert ours.fit["chisq"] == pytest.approx(stats["chi2"], rel=1e-7)
    assert stats["CFI"] > 1.001
    assert ours.fit["cfi"] == reference["fit"]["cfi"] == 1
    # TLI is not clipped by lavaan either: all three agree.
    assert ours.fit["tli"] == pytest.approx(reference["fit"]["tli"], abs=1e-8)
    assert stats["TLI"] == pytest.approx(reference["fit"]["tli"], abs=1e-8)


def test_semopy_fits_incomplete_data_pairwise_at_the_full_n():
    reference = CROSSCHECK["fit"]["value_loyalty"]
    frame = data("loyalty_sim")
    ours = fit_sem(frame, reference["model"])
    theirs = semopy_fit(reference["model"], frame)
    assert ours.n_used == reference["fit"]["ntotal"] == 663  # listwise, as lavaan
    assert theirs.n_samples == len(frame) == 800
    assert semopy_stats(theirs)["chi2"] - ours.fit["chisq"] > 0.5


def test_std_all_of_residual_covariances_is_a_correlation_in_lavaan_and_ours():
    reference = r_reference("political_democracy")
    model = without_defined_parameters(reference["model"])
    frame = data("political_democracy")
    ours = fit_sem(frame, model)
    table = semopy_table(semopy_fit(model, frame).inspect(std_est=True), ours)
    lavaan = {(r["lhs"], r["op"], r["rhs"]): r["std.all"] for r in reference["estimates"]}
    covariances = ours.estimates[
        (ours.estimates["op"] == "~~") & (ours.estimates["lhs"] != ours.estimates["rhs"])
    ]
    observed = covariances[covariances["lhs"].str.match(r"[xy]\d")]
    assert len(observed) == 6
    for row in observed.itertuples():
        key = (row.lhs, row.op, row.rhs)
        assert row.std_all == pytest.approx(lavaan[key], abs=1e-5)
        assert abs(table[key]["std_all"] - lavaan[key]) > 0.05
    y1_y5 = ("y1", "~~", "y5")
    assert (round(lavaan[y1_y5], 3), round(table[y1_y5]["std_all"], 3)) == (0.296, 0.092)


# semopy's RMSEA takes the square root of its (negative) chi-square / df - 1 for this fit.
@pytest.mark.filterwarnings("ignore:invalid value encountered in sqrt:RuntimeWarning")
def test_fiml_estimates_agree_semopy_needs_the_observed_information_for_lavaans_se():
    reference = CROSSCHECK["fiml"]
    frame = data("holzinger_swineford_missing")
    ours = fit_sem(frame, reference["model"], missing="fiml")
    theirs = semopy_fit(reference["model"], frame, means=True)
    lavaan = pd.DataFrame(reference["estimates"]).fillna({"rhs": ""})
    lavaan_se = {(r.lhs, r.op, r.rhs): r.se for r in lavaan.itertuples() if r.se > 0}
    assert ours.n_used == reference["nobs"]
    default = semopy_table(theirs.inspect(), ours)
    observed = semopy_table(theirs.inspect(information="observed"), ours)
    assert differences(ours, default, "est").max() < 1e-4
    for key, se in lavaan_se.items():
        [our_se] = ours.estimates.loc[
            (ours.estimates["lhs"] == key[0])
            & (ours.estimates["op"] == key[1])
            & (ours.estimates["rhs"] == key[2]),
            "se",
        ]
        assert our_se == pytest.approx(se, rel=1e-3)
        assert observed[key]["se"] == pytest.approx(se, rel=1e-3)
    ratios = [default[key]["se"] / se for key, se in lavaan_se.items()]
    # semopy's default (the expected information) gives every standard error 2-10 % too small.
    assert max(ratios) < 0.99 and min(ratios) < 0.91
    # semopy's fit statistics for FIML count the means as parameters but not as data.
    stats = semopy_stats(theirs)
    assert ours.fit["df"] == reference["fit"]["df"] == 2
    assert stats["DoF"] < 0
    assert ours.fit["chisq"] == pytest.approx(reference["fit"]["chisq"], rel=1e-4)
    assert abs(stats["chi2"] - reference["fit"]["chisq"]) > 1
