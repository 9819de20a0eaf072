"""bootstrap_sem: percentile CIs against lavaan's bootstrap, reproducibility, progress."""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.bootstrap import bootstrap_sem
from analysis.errors import UnknownVariableError
from analysis.sem import fit_sem

HERE = Path(__file__).parent
REFERENCE = json.loads((HERE / "reference" / "loyalty_bootstrap.json").read_text())
MODEL = REFERENCE["model"]


@pytest.fixture(scope="module")
def loyalty() -> pd.DataFrame:
    frame = pd.read_csv(HERE / "data" / "loyalty_sim.csv")
    frame["sat4"] = 8 - frame["sat4"]
    return frame


@pytest.fixture(scope="module")
def boot(loyalty) -> pd.DataFrame:
    return bootstrap_sem(loyalty, MODEL, n_boot=1000, seed=11)


@pytest.mark.slow
def test_layout(boot, loyalty):
    paths = ["VAL~SAT", "LOY~SAT", "LOY~VAL"]
    loadings = [f"SAT=~sat{i}" for i in range(1, 5)]
    assert list(boot.columns) == ["est", "ci_lower", "ci_upper", "n_ok"]
    assert list(boot.index[:2]) == ["ind", "total"]
    assert set(paths + loadings) <= set(boot.index)
    assert len(boot) == 2 + 3 + 13
    assert (boot["n_ok"] == 1000).all()
    assert (boot["ci_lower"] < boot["est"]).all() and (boot["est"] < boot["ci_upper"]).all()
    # Point estimates are the full-sample ones: unstandardized for :=, std.all for paths.
    estimates = fit_sem(loyalty, MODEL).estimates.set_index(["lhs", "op", "rhs"])
    assert boot.loc["ind", "est"] == pytest.approx(estimates.loc[("ind", ":=", "a*b"), "est"])
    assert boot.loc["LOY~VAL", "est"] == pytest.approx(
        estimates.loc[("LOY", "~", "VAL"), "std_all"]
    )


@pytest.mark.slow
def test_percentile_intervals_agree_with_lavaan(boot):
    # lavaan: se = "bootstrap", bootstrap = 2000, boot.ci.type = "perc" (Monte Carlo error of a
    # 2.5% quantile from 1,000 resamples is about .004 here).
    for row in REFERENCE["estimates"]:
        ours = boot.loc[row["lhs"]]
        assert ours["est"] == pytest.approx(row["est"], abs=0.002)
        assert ours["ci_lower"] == pytest.approx(row["ci.lower"], abs=0.015)
        assert ours["ci_upper"] == pytest.approx(row["ci.upper"], abs=0.02)


def test_same_seed_same_result_for_any_number_of_workers(loyalty):
    calls: list[tuple[int, int]] = []
    serial = bootstrap_sem(loyalty, MODEL, n_boot=60, seed=5, n_jobs=1)
    parallel = bootstrap_sem(
        loyalty, MODEL, n_boot=60, seed=5, n_jobs=2, progress=lambda d, t: calls.append((d, t))
    )
    pd.testing.assert_frame_equal(serial, parallel)
    assert calls[-1] == (60, 60)
    assert [done for done, _ in calls] == sorted(done for done, _ in calls)
    other = bootstrap_sem(loyalty, MODEL, n_boot=60, seed=6, n_jobs=1)
    assert not np.allclose(other["ci_lower"], serial["ci_lower"])


def test_fiml_bootstrap_uses_incomplete_rows(loyalty):
    boot = bootstrap_sem(loyalty, MODEL, n_boot=40, seed=2, n_jobs=1, missing="fiml")
    full = fit_sem(loyalty, MODEL, missing="fiml").estimates.set_index(["lhs", "op", "rhs"])
    assert boot.loc["ind", "est"] == pytest.approx(full.loc[("ind", ":=", "a*b"), "est"])
    assert (boot["n_ok"] == 40).all()
    assert boot.loc["ind", "ci_lower"] < boot.loc["ind", "est"] < boot.loc["ind", "ci_upper"]


def test_bad_arguments(loyalty):
    with pytest.raises(ValueError, match="n_boot"):
        bootstrap_sem(loyalty, MODEL, n_boot=0)
    with pytest.raises(ValueError, match="n_jobs"):
        bootstrap_sem(loyalty, MODEL, n_boot=10, n_jobs=0)
    with pytest.raises(UnknownVariableError):
        bootstrap_sem(loyalty, "F =~ a1 + a2 + a3", n_boot=10)


def test_an_exception_from_progress_stops_the_bootstrap_promptly(loyalty):
    """A cancelled job (its progress callback raises) does not wait for the queued chunks."""

    def cancel(done: int, total: int) -> None:
        raise KeyboardInterrupt("cancelled")

    start = time.perf_counter()
    bootstrap_sem(loyalty, MODEL, n_boot=400, seed=1, n_jobs=2)
    full = time.perf_counter() - start
    start = time.perf_counter()
    with pytest.raises(KeyboardInterrupt):
        bootstrap_sem(loyalty, MODEL, n_boot=400, seed=1, n_jobs=2, progress=cancel)
    cancelled = time.perf_counter() - start
    # 8 chunks on 2 workers: stopping after the first leaves at most the 2 running ones.
    assert cancelled < 0.7 * full
