"""Measurement invariance: fits agree with lavaan, and the decisions follow the data."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from analysis.invariance import measurement_invariance

HERE = Path(__file__).parent
CASES = {
    case["name"]: case
    for case in json.loads((HERE / "reference" / "multigroup.json").read_text())["cases"]
}
LOYALTY = {
    "SAT": ["sat1", "sat2", "sat3", "sat4"],
    "VAL": ["val1", "val2", "val3"],
    "TRU": ["tru1", "tru2", "tru3"],
    "LOY": ["loy1", "loy2", "loy3"],
}


def loyalty_waves() -> pd.DataFrame:
    frame = pd.read_csv(HERE / "data" / "loyalty_segments.csv")
    frame["sat4"] = 8 - frame["sat4"]
    frame["wave"] = "W" + frame["wave"].astype(str)
    return frame


def test_levels_agree_with_lavaan():
    table = measurement_invariance(loyalty_waves(), constructs=LOYALTY, group="wave")
    assert table["level"].tolist() == ["configural", "metric", "scalar"]
    lavaan = [CASES[f"loyalty_{level}"]["fit"] for level in table["level"]]
    for name in ("chisq", "df", "npar", "cfi", "tli", "rmsea", "srmr", "bic"):
        expected = [fit[name] for fit in lavaan]
        np.testing.assert_allclose(table[name], expected, rtol=1e-3, atol=1e-3, err_msg=name)
    # lavTestLRT's chi-square difference test, from lavaan's own chi-squares.
    delta = lavaan[2]["chisq"] - lavaan[1]["chisq"]
    df = lavaan[2]["df"] - lavaan[1]["df"]
    assert table.loc[2, "delta_chisq"] == pytest.approx(delta, rel=1e-3)
    assert table.loc[2, "delta_df"] == df
    assert table.loc[2, "delta_pvalue"] == pytest.approx(stats.chi2.sf(delta, df), abs=1e-3)
    assert table.loc[1, "delta_cfi"] == pytest.approx(lavaan[1]["cfi"] - lavaan[0]["cfi"], abs=1e-3)
    assert np.isnan(table.loc[0, ["delta_chisq", "delta_cfi", "delta_rmsea"]].astype(float)).all()


ACSI_CONSTRUCTS = {
    name: [f"{name.lower()}{i}" for i in (1, 2, 3)]
    for name in ("CE", "PQ", "PV", "SAT", "COMP", "LOY")
}
REFERENCE = json.loads((HERE / "reference" / "multigroup.json").read_text())


@pytest.fixture(scope="module")
def acsi_robust_fiml():
    """The ACSI channels under MLR with FIML, fully invariant and with pv2's intercept free."""
    data = pd.read_csv(HERE / "data" / "acsi_ratings.csv")
    options = {"constructs": ACSI_CONSTRUCTS, "group": "channel", "missing": "fiml"}
    full = measurement_invariance(data, estimator="MLR", **options)
    partial = measurement_invariance(data, estimator="MLR", partial=["pv2~1"], **options)
    return full, partial


@pytest.mark.slow
def test_robust_fiml_levels_agree_with_lavaan(acsi_robust_fiml):
    full, partial = acsi_robust_fiml
    for table, scalar in ((full, "acsi_scalar_mlr_fiml"), (partial, "acsi_partial_mlr_fiml")):
        names = ["acsi_configural_mlr_fiml", "acsi_metric_mlr_fiml", scalar]
        for row, name in zip(table.to_dict("records"), names, strict=True):
            lavaan = CASES[name]["fit"]
            for column in ("chisq", "df", "chisq_scaled", "chisq_scaling_factor", "cfi_robust",
                           "tli_robust", "rmsea_robust", "cfi", "srmr"):  # fmt: skip
                expected = lavaan[column.replace("_", ".")]
                assert row[column] == pytest.approx(expected, rel=1e-5, abs=1e-6), (name, column)
    # The Satorra-Bentler (2001) scaled differences are lavTestLRT's.
    lrt = REFERENCE["acsi_mlr_fiml_differences"]
    for table, row, name in ((full, 1, "metric_vs_configural"), (full, 2, "scalar_vs_metric"),
                             (partial, 2, "partial_vs_metric")):  # fmt: skip
        assert table.loc[row, "delta_chisq"] == pytest.approx(lrt[name]["chisq"], rel=1e-5)
        assert table.loc[row, "delta_df"] == lrt[name]["df"]
        assert table.loc[row, "delta_pvalue"] == pytest.approx(lrt[name]["pvalue"], abs=1e-6)


@pytest.mark.slow
def test_freeing_the_shifted_intercept_restores_scalar_invariance(acsi_robust_fiml):
    """pv2 reads 1.2 points higher in stores at the same perceived value (the simulation):
    scalar invariance fails on the robust CFI and returns when its intercept is free."""
    full, partial = acsi_robust_fiml
    assert full["holds"].tolist() == [True, True, False]
    assert partial["holds"].tolist() == [True, True, True]
    assert full.loc[2, "delta_pvalue"] < 1e-10 < partial.loc[2, "delta_pvalue"]
    # The decisions use the robust indices.
    assert full.loc[2, "delta_cfi"] == pytest.approx(
        full.loc[2, "cfi_robust"] - full.loc[1, "cfi_robust"]
    )


def simulated_waves(*, loading_shift: float = 0.0, intercept_shift: float = 0.0, seed: int = 11):
    """Two waves of a two-factor survey; wave B may change one item's loading or intercept."""
    rng = np.random.default_rng(seed)
    frames = []
    for wave, factor_mean in (("A", 0.0), ("B", 0.3)):
        n = 800
        factors = rng.multivariate_normal([factor_mean, factor_mean], [[1, 0.5], [0.5, 1]], n)
        columns = {}
        for f, prefix in enumerate(("sat", "loy")):
            for i in range(4):
                loading, intercept = 0.8, 4.0
                if wave == "B" and prefix == "sat" and i == 1:
                    loading += loading_shift
                    intercept += intercept_shift
                noise = 0.6 * rng.standard_normal(n)
                columns[f"{prefix}{i}"] = intercept + loading * factors[:, f] + noise
        frames.append(pd.DataFrame(columns).assign(wave=wave))
    return pd.concat(frames, ignore_index=True)


CONSTRUCTS = {"SAT": [f"sat{i}" for i in range(4)], "LOY": [f"loy{i}" for i in range(4)]}


def test_the_same_measurement_in_both_waves_is_invariant():
    table = measurement_invariance(simulated_waves(), constructs=CONSTRUCTS, group="wave")
    assert table["holds"].tolist() == [True, True, True]
    assert (table["delta_cfi"].iloc[1:].abs() < 0.01).all()


def test_a_shifted_intercept_breaks_scalar_invariance_only():
    data = simulated_waves(intercept_shift=0.8)
    table = measurement_invariance(data, constructs=CONSTRUCTS, group="wave")
    assert table["holds"].tolist() == [True, True, False]
    assert table.loc[2, "delta_cfi"] < -0.01
    assert table.loc[2, "delta_pvalue"] < 0.001


def test_a_changed_loading_breaks_metric_invariance_and_so_scalar():
    data = simulated_waves(loading_shift=-0.6)
    table = measurement_invariance(data, constructs=CONSTRUCTS, group="wave")
    assert table["holds"].tolist() == [True, False, False]
    assert table.loc[1, "delta_cfi"] < -0.01


def test_group_order_picks_the_groups():
    data = pd.concat([simulated_waves(), simulated_waves(seed=12).assign(wave="C")])
    two = measurement_invariance(data, constructs=CONSTRUCTS, group="wave", group_order=["A", "C"])
    three = measurement_invariance(data, constructs=CONSTRUCTS, group="wave")
    # Per group: 36 variances and covariances + 8 means, less 6 loadings, 8 residual variances,
    # 2 factor variances, 1 factor covariance and 8 intercepts.
    per_group = 8 * 9 // 2 + 8 - (6 + 8 + 2 + 1 + 8)
    assert two.loc[0, "df"] == 2 * per_group
    assert three.loc[0, "df"] == 3 * per_group


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"constructs": {"SAT": ["sat0"]}}, "at least 2 items"),
        ({"constructs": {"SAT": ["sat0", "nope"]}}, "unknown column"),
        ({"group": "region"}, "unknown column"),
        ({"max_cfi_drop": 1.5}, "max_cfi_drop"),
        ({"min_cfi": 0}, "min_cfi"),
    ],
)
def test_bad_input_is_refused(options, message):
    arguments = {"constructs": CONSTRUCTS, "group": "wave"} | options
    with pytest.raises(ValueError, match=message):
        measurement_invariance(simulated_waves(), **arguments)
