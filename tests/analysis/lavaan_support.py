"""How closely the SEM engine must agree with lavaan (single- and multiple-group tests)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

# Required agreement with lavaan.
EST_TOL, SE_TOL, INDEX_TOL, CHISQ_REL, IC_TOL = 1e-4, 1e-4, 0.001, 0.001, 0.5
# Estimates of multiple-group FIML fits, where lavaan's optimizer stops a little short.
FIML_EST_TOL = 5e-4

# lavaan fitMeasures() name -> our fit dictionary's name.
FIT_NAMES = {
    "chisq": "chisq",
    "df": "df",
    "pvalue": "pvalue",
    "baseline.chisq": "baseline_chisq",
    "baseline.df": "baseline_df",
    "cfi": "cfi",
    "tli": "tli",
    "rmsea": "rmsea",
    "rmsea.ci.lower": "rmsea_ci_lower",
    "rmsea.ci.upper": "rmsea_ci_upper",
    "rmsea.pvalue": "rmsea_pvalue",
    "srmr": "srmr",
    "logl": "loglik",
    "unrestricted.logl": "unrestricted_loglik",
    "aic": "aic",
    "bic": "bic",
    "npar": "npar",
    "ntotal": "ntotal",
}


def assert_fit_matches(fit: dict[str, float], lavaan: dict[str, float]) -> None:
    """Every fit measure within its tolerance of lavaan's ``fitMeasures()``."""
    assert set(FIT_NAMES.values()) <= set(fit)
    for name in ("df", "npar", "ntotal", "baseline.df"):
        assert fit[FIT_NAMES[name]] == lavaan[name], name
    for name in ("chisq", "baseline.chisq"):
        assert fit[FIT_NAMES[name]] == pytest.approx(lavaan[name], rel=CHISQ_REL), name
    for name in ("cfi", "tli", "rmsea", "rmsea.ci.lower", "rmsea.ci.upper", "srmr"):
        assert fit[FIT_NAMES[name]] == pytest.approx(lavaan[name], abs=INDEX_TOL), name
    for name in ("pvalue", "rmsea.pvalue"):
        assert fit[FIT_NAMES[name]] == pytest.approx(lavaan[name], abs=0.002), name
    for name in ("logl", "unrestricted.logl", "aic", "bic"):
        assert fit[FIT_NAMES[name]] == pytest.approx(lavaan[name], abs=IC_TOL), name


DATA = Path(__file__).parent / "data"


def load_data(name: str) -> pd.DataFrame:
    """A data set of the lavaan references, recoded as the R scripts recode it."""
    frame = pd.read_csv(DATA / f"{name}.csv")
    if name == "loyalty_sim":
        frame["sat4"] = 8 - frame["sat4"]  # reverse-keyed item, recoded as in the R script
    return frame
