"""FIML specifics (agreement with lavaan ``missing = "ml"`` is checked in test_sem.py)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.sem import fit_sem
from analysis.sem.engine import MissingData

HERE = Path(__file__).parent
HS_MODEL = "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9"
ITEMS = [f"x{i}" for i in range(1, 10)]


def reference(name: str) -> dict:
    return json.loads((HERE / "reference" / f"{name}.json").read_text())


@pytest.fixture(scope="module")
def hs_missing() -> pd.DataFrame:
    return pd.read_csv(HERE / "data" / "holzinger_swineford_missing.csv")


def test_rows_without_any_answer_are_dropped_like_lavaan(hs_missing):
    lavaan = reference("holzinger_swineford_missing_fiml")
    result = fit_sem(hs_missing, HS_MODEL, missing="fiml")
    assert (result.n_rows, result.n_used) == (lavaan["norig"], lavaan["nobs"]) == (301, 291)
    assert result.fit["ntotal"] == 291


def test_fiml_uses_the_incomplete_rows(hs_missing):
    listwise = fit_sem(hs_missing, HS_MODEL)
    fiml = fit_sem(hs_missing, HS_MODEL, missing="fiml")
    complete = int(hs_missing[ITEMS].notna().all(axis=1).sum())
    assert listwise.n_used == complete < fiml.n_used
    lavaan = pd.DataFrame(reference("holzinger_swineford_missing_fiml")["estimates"])
    # The listwise estimates differ from lavaan's FIML ones by more than the tolerance...
    assert (
        np.abs(listwise.estimates["est"] - lavaan["est"].iloc[: len(listwise.estimates)]).max()
        > 0.01
    )
    # ...while FIML adds intercepts and matches them.
    assert (fiml.estimates["op"] == "~1").sum() == 9 + 3
    np.testing.assert_allclose(fiml.estimates["est"], lavaan["est"], atol=0.002)


def test_missing_covariate_rows_are_dropped_with_a_warning(hs_missing):
    lavaan = reference("holzinger_swineford_missing_covariates_fiml")
    with pytest.warns(RuntimeWarning, match="exogenous covariates"):
        result = fit_sem(hs_missing, lavaan["model"], missing="fiml")
    assert result.n_used == lavaan["nobs"] == 300
    assert any("exogenous" in note for note in result.warnings)


def test_em_saturated_moments():
    rng = np.random.default_rng(4)
    cov = np.array([[1.0, 0.5, 0.3], [0.5, 1.0, 0.4], [0.3, 0.4, 1.0]])
    values = rng.multivariate_normal([0, 1, 2], cov, size=400)
    complete = MissingData(values)
    sigma, mu = complete.saturated_moments()
    np.testing.assert_allclose(mu, values.mean(axis=0), atol=1e-10)
    np.testing.assert_allclose(sigma, np.cov(values.T, bias=True), atol=1e-10)

    holes = values.copy()
    holes[rng.random(holes.shape) < 0.15] = np.nan
    holes = holes[~np.isnan(holes).all(axis=1)]
    data = MissingData(holes)
    sigma, mu = data.saturated_moments()
    # The EM solution is the maximum: the score of the observed-data likelihood vanishes.
    _, (W, v, _) = data.evaluate_moments(sigma, mu, derivatives=True)
    assert np.abs(W).max() < 1e-7 and np.abs(v).max() < 1e-7
    # Any perturbation lowers the likelihood.
    nudged = sigma + 0.01 * np.eye(3)
    assert data.loglik(nudged, mu) < data.loglik(sigma, mu)
    assert data.loglik(sigma, mu + 0.01) < data.loglik(sigma, mu)


def test_fiml_on_complete_data_equals_ml_with_means():
    data = pd.read_csv(HERE / "data" / "political_democracy.csv")
    model = reference("political_democracy")["model"]
    ml = fit_sem(data, model)
    fiml = fit_sem(data, model, missing="fiml")
    shared = fiml.estimates[fiml.estimates["op"] != "~1"].reset_index(drop=True)
    np.testing.assert_allclose(shared["est"], ml.estimates["est"], atol=1e-5)
    assert fiml.fit["chisq"] == pytest.approx(ml.fit["chisq"], rel=1e-6)
    # Standard errors differ: observed (FIML) versus expected (ML) information, as in lavaan.
    assert not np.allclose(shared["se"], ml.estimates["se"], atol=1e-4, equal_nan=True)
