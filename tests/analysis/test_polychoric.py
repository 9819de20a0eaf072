"""Two-stage sample statistics of ordered items against lavaan 0.6-14 (ordinal_reference.R)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import special, stats

from analysis.errors import AnalysisError
from analysis.sem.polychoric import (
    MAX_CATEGORIES,
    bivariate_normal_cdf,
    ordinal_moments,
    pair_indices,
)

HERE = Path(__file__).parent
REFERENCE = HERE / "reference"
DATA = HERE / "data"


def test_bivariate_normal_cdf_matches_closed_forms_and_scipy():
    rng = np.random.default_rng(7)
    h, k = rng.normal(0, 1.5, (2, 60))
    # Every branch of Genz's algorithm: |rho| < .3, < .75, < .925 and the expansion beyond.
    rho = np.concatenate([rng.uniform(-0.999, 0.999, 50), [0.0, 0.2, -0.5, 0.9, 0.95, -0.99, 0.9999,
                                                          -0.9999, 0.93, 0.3]])  # fmt: skip
    ours = bivariate_normal_cdf(h, k, rho)
    reference = [
        stats.multivariate_normal(cov=[[1, r], [r, 1]]).cdf([a, b])
        for a, b, r in zip(h, k, rho, strict=True)
    ]
    assert ours == pytest.approx(reference, abs=1e-6)
    # Exact values: independence, the orthant probability and perfect correlation.
    assert bivariate_normal_cdf(h, k, 0.0) == pytest.approx(special.ndtr(h) * special.ndtr(k))
    assert bivariate_normal_cdf(0.0, 0.0, rho) == pytest.approx(0.25 + np.arcsin(rho) / (2 * np.pi))
    assert bivariate_normal_cdf(h, k, 1.0) == pytest.approx(special.ndtr(np.minimum(h, k)))
    assert bivariate_normal_cdf(h, k, -1.0) == pytest.approx(
        np.maximum(special.ndtr(h) + special.ndtr(k) - 1, 0), abs=1e-12
    )
    assert bivariate_normal_cdf(h[:3, None], k[None, :4], 0.5).shape == (3, 4)


def _reference_cases():
    for name, data in (
        ("ordinal_skewed", "ordinal_skewed"),
        ("ordinal_mixed", "ordinal_skewed"),
        ("loyalty_ordinal", "loyalty_ordinal"),
    ):
        reference = json.loads((REFERENCE / f"{name}.json").read_text())
        frame = pd.read_csv(DATA / f"{data}.csv")[reference["sample"]["names"]]
        yield pytest.param(frame, reference["ordered"], reference["sample"], id=name)
    binary = json.loads((REFERENCE / "ordinal_binary.json").read_text())
    frame = pd.DataFrame(binary["data"])
    yield pytest.param(frame, list(frame.columns), binary, id="ordinal_binary")


@pytest.mark.parametrize(("frame", "ordered", "sample"), list(_reference_cases()))
def test_sample_statistics_match_lavaan(frame, ordered, sample):
    """Thresholds, polychoric/polyserial/Pearson correlations, WLS.obs and Gamma (NACOV)."""
    moments = ordinal_moments(
        frame.to_numpy(dtype=float),
        ordered=[column in ordered for column in frame.columns],
        names=list(frame.columns),
    )
    # lavaan's own optimiser (nlminb) stops within about 1e-7 of the maximum.
    assert np.concatenate(moments.thresholds) == pytest.approx(sample["thresholds"], abs=1e-7)
    assert moments.cov == pytest.approx(np.array(sample["cov"]), rel=1e-6, abs=1e-6)
    assert moments.statistics == pytest.approx(sample["wls_obs"], rel=1e-6, abs=1e-6)
    gamma = np.array(sample["gamma"])
    assert moments.gamma == pytest.approx(gamma, abs=1e-5 * np.abs(gamma).max())


def test_empty_cells_are_reported_and_binary_zero_cell_corrected():
    binary = json.loads((REFERENCE / "ordinal_binary.json").read_text())
    frame = pd.DataFrame(binary["data"])
    moments = ordinal_moments(frame.to_numpy(float), ordered=[True] * 5, names=frame.columns)
    # b1 = 1 implies b2 = 1: one empty cell, which lavaan fills with 0.5 keeping the margins.
    assert ("b1", "b2") in moments.empty_cells
    assert pd.crosstab(frame["b1"], frame["b2"]).loc[1, 0] == 0
    assert moments.cor[0, 1] == pytest.approx(binary["cov"][0][1], abs=1e-7)
    assert moments.cor[0, 1] < 0.99  # not the boundary an uncorrected table would give


def test_codes_only_order_matters():
    """Ordered items' values are categories: any increasing recoding gives the same result."""
    frame = pd.read_csv(DATA / "ordinal_skewed.csv")[["y1", "y2", "y3", "x1"]]
    recoded = frame.assign(y1=frame["y1"] * 10 - 3, y2=np.exp(frame["y2"]))
    ordered = [True, True, True, False]
    a = ordinal_moments(frame.to_numpy(float), ordered=ordered, names=frame.columns)
    b = ordinal_moments(recoded.to_numpy(float), ordered=ordered, names=frame.columns)
    assert a.cor == pytest.approx(b.cor, abs=1e-12)
    assert a.gamma == pytest.approx(b.gamma, rel=1e-9, abs=1e-12)
    assert b.levels[0].tolist() == [7, 17, 27, 37, 47]


def test_layout_of_the_statistics():
    rows, cols = pair_indices(4)
    assert rows.tolist() == [1, 2, 3, 2, 3, 3]
    assert cols.tolist() == [0, 0, 0, 1, 1, 2]
    frame = pd.read_csv(DATA / "ordinal_skewed.csv")[["y1", "x1", "y2"]]
    moments = ordinal_moments(frame.to_numpy(float), ordered=[True, False, True], names="abc")
    # y1's 4 thresholds, minus x1's mean, y2's thresholds, x1's variance, 3 covariances.
    assert len(moments.statistics) == 4 + 1 + 4 + 1 + 3
    assert moments.statistics[4] == pytest.approx(-frame["x1"].mean())
    assert moments.statistics[9] == pytest.approx(frame["x1"].var(ddof=0))
    assert moments.gamma.shape == (13, 13)
    assert np.allclose(moments.gamma, moments.gamma.T)


def test_bad_ordered_items_raise_clear_errors():
    rng = np.random.default_rng(3)
    constant = np.column_stack([np.ones(50), rng.integers(1, 4, 50)])
    with pytest.raises(AnalysisError, match="'a' has a single answer category"):
        ordinal_moments(constant, ordered=[True, True], names=["a", "b"])
    continuous = np.column_stack([rng.normal(size=50), rng.integers(1, 4, 50)])
    with pytest.raises(
        AnalysisError, match=f"too many for an ordered item .at most {MAX_CATEGORIES}"
    ):
        ordinal_moments(continuous, ordered=[True, True], names=["a", "b"])
    same = rng.integers(0, 2, 80)
    with pytest.raises(AnalysisError, match="perfectly associated"):
        ordinal_moments(np.column_stack([same, 1 - same]), ordered=[True, True], names="ab")
