"""The fit-measure functions' own conventions (their agreement with lavaan is checked through
every fit in test_sem.py, test_multigroup.py and test_robust.py)."""

from __future__ import annotations

import math

import pytest

from analysis.sem import fitmeasures as fm


def test_rmsea_uses_n_and_the_group_factor():
    # sqrt((X2/N)/df - 1/N), times sqrt(G) for G groups (Steiger, 1998).
    assert fm.rmsea(150.0, 50, 400) == pytest.approx(math.sqrt(150 / 400 / 50 - 1 / 400))
    assert fm.rmsea(150.0, 50, 400, groups=3) == pytest.approx(
        math.sqrt(3) * fm.rmsea(150.0, 50, 400)
    )
    assert fm.rmsea(40.0, 50, 400) == 0.0  # chi-square below df
    assert fm.rmsea(0.0, 0, 400) == 0.0
    assert math.isnan(fm.rmsea(10.0, math.nan, 400))


def test_robust_rmsea_is_the_scaled_one_times_root_c():
    chisq, df, n, c = 180.0, 60, 500, 1.4
    robust = fm.rmsea(chisq, df, n, c_hat=c)
    assert robust == pytest.approx(fm.rmsea(chisq / c, df, n) * math.sqrt(c))
    lower, upper = fm.rmsea_ci(chisq / c, df, n, c_hat=c)
    plain_lower, plain_upper = fm.rmsea_ci(chisq / c, df, n)
    assert (lower, upper) == pytest.approx((plain_lower * math.sqrt(c), plain_upper * math.sqrt(c)))
    assert lower < robust < upper


def test_rmsea_interval_and_close_fit():
    lower, upper = fm.rmsea_ci(85.3, 24, 301)
    assert 0 < lower < fm.rmsea(85.3, 24, 301) < upper
    assert fm.rmsea_ci(10.0, 24, 301) == (0.0, 0.0)  # perfect fit: both limits at zero
    assert fm.rmsea_ci(5.0, 0, 301) == (0.0, 0.0)
    assert 0 < fm.rmsea_close_pvalue(85.3, 24, 301) < 0.01
    assert math.isnan(fm.rmsea_close_pvalue(0.0, 0, 301))


def test_cfi_is_clipped_and_tli_is_not():
    assert fm.cfi(20.0, 30, 900.0, 36) == 1.0
    assert fm.tli(20.0, 30, 900.0, 36) > 1.0
    assert fm.cfi(130.0, 30, 900.0, 36) == pytest.approx(1 - 100 / 864)
    assert fm.tli(130.0, 30, 900.0, 36) == pytest.approx(1 - (100 * 36) / (864 * 30))
    assert fm.cfi(950.0, 30, 900.0, 36) == 0.0


def test_robust_cfi_uses_both_scaling_factors():
    # Brosseau-Liard & Savalei (2014): c df replaces df in model and baseline.
    value = fm.cfi(130.0, 30, 900.0, 36, c_hat=1.2, c_hat_baseline=1.5)
    assert value == pytest.approx(1 - (130 - 36) / (900 - 54))
    # Without a baseline factor (or with df = 0) lavaan falls back to the plain index.
    assert fm.cfi(130.0, 30, 900.0, 36, c_hat=1.2) == fm.cfi(130.0, 30, 900.0, 36)


def test_information_criteria():
    assert fm.aic(-1000.0, 20) == 2040.0
    assert fm.bic(-1000.0, 20, 500) == pytest.approx(2000 + 20 * math.log(500))


def test_scaled_measures_divide_by_the_scaling_factor():
    out = fm.scaled_measures(
        chisq=120.0,
        df=40,
        trace=48.0,
        baseline_chisq=1500.0,
        baseline_df=55,
        baseline_trace=77.0,
        n=600,
        groups=1,
    )
    assert out["chisq_scaling_factor"] == 1.2
    assert out["chisq_scaled"] == pytest.approx(100.0)
    assert out["baseline_chisq_scaling_factor"] == pytest.approx(1.4)
    assert out["cfi_scaled"] == fm.cfi(100.0, 40, 1500 / 1.4, 55)
    # lavaan's scaled RMSEA: the unscaled statistic against tr(U Gamma) degrees of freedom.
    assert out["rmsea_scaled"] == pytest.approx(fm.rmsea(120.0, 48.0, 600))


def test_test_measures_name_a_corrected_statistic_by_its_suffix():
    plain = fm.test_measures(chisq=130.0, df=30, baseline_chisq=900.0, baseline_df=36, n=400)
    scaled = fm.test_measures(
        chisq=130.0, df=30, baseline_chisq=900.0, baseline_df=36, n=400, suffix="_scaled"
    )
    assert scaled == {name + "_scaled": value for name, value in plain.items()}
    assert plain["cfi"] == fm.cfi(130.0, 30, 900.0, 36)
    assert plain["rmsea_ci_lower"] == fm.rmsea_ci(130.0, 30, 400)[0]
    assert plain["baseline_pvalue"] == fm.chisq_pvalue(900.0, 36)


def test_robust_rmsea_may_count_other_degrees_of_freedom():
    # WLSMV's robust RMSEA (Savalei, 2021) counts the correlations' df, CFI/TLI the model's.
    common = {"chisq": 150.0, "df": 30, "c_hat": 1.3, "baseline_chisq": 900.0,
              "baseline_df": 36, "c_hat_baseline": 1.6, "n": 499, "groups": 1}  # fmt: skip
    out = fm.robust_measures(**common, rmsea_df=24)
    same_df = fm.robust_measures(**common)
    assert out["cfi_robust"] == same_df["cfi_robust"]
    assert out["rmsea_robust"] == fm.rmsea(150.0, 24, 499, c_hat=1.3) != same_df["rmsea_robust"]
    assert out["rmsea_ci_upper_robust"] == fm.rmsea_ci(150.0 / 1.3, 24, 499, c_hat=1.3)[1]


def test_no_difference_test_of_scaled_shifted_statistics():
    shifted = {"chisq": 90.0, "df": 20, "chisq_scaling_factor": 0.6, "chisq_shift_parameters": 5}
    restricted = shifted | {"chisq": 400.0, "df": 23}
    with pytest.raises(ValueError, match="DIFFTEST"):
        fm.chisq_difference(restricted, shifted)
