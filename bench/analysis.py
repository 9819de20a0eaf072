"""Benchmarks of the statistics engine, reported as ratios measured in one run.

Bootstrap: 1,000 nonparametric resamples of the 4-construct, 13-item loyalty SEM
(SAT -> VAL -> LOY with TRU, N = 800) with ``analysis.bootstrap.bootstrap_sem`` versus lavaan
``sem(..., se = "bootstrap", bootstrap = 1000)`` on the same data (when ``Rscript`` with lavaan
is installed; lavaan's time is measured inside R with ``system.time``, so R's start-up is not
counted against it).

Robust FIML: one MLR fit with FIML (Huber-White SEs from the FIML casewise scores, the
Yuan-Bentler scaled test and the FIML-corrected robust RMSEA/CFI) of the ACSI model on the
simulated 0-10 ratings, N = 1,500 with 3% missing answers (tests/analysis/data/acsi_ratings.csv),
against lavaan ``sem(..., estimator = "MLR", missing = "ml")`` timed inside R; best of a few runs
each (target: at least 3x faster than lavaan).

Pipeline: ``analysis.pipeline.analyze`` without bootstrap on 10,000 respondents (target ≤ 1 s),
also expressed as a number of single SEM fits on the same data.

Run: ``.venv/bin/python bench/analysis.py [--n-boot 1000] [--jobs N] [--repeat 3]``
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "tests" / "analysis" / "reference"
SIMULATION = REFERENCE / "make_loyalty_sim.py"
SEGMENTS = ROOT / "tests" / "analysis" / "data" / "loyalty_segments.csv"
ACSI_RATINGS = ROOT / "tests" / "analysis" / "data" / "acsi_ratings.csv"


def _script(path: Path):
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _simulation():
    return _script(SIMULATION)


def loyalty_survey(n: int = 800) -> pd.DataFrame:
    """The simulated loyalty survey (complete answers, reverse-keyed item recoded)."""
    data = _simulation().simulate(n=n, missing_share=0.0).drop(columns="respondent")
    data["sat4"] = 8 - data["sat4"]
    return data


LOYALTY_MODEL = _simulation().MODEL
ITEMS = [item for items in _simulation().LOADINGS.values() for item in items]


def _analysis_module(name: str):
    """Import ``analysis.<name>``; run as a script, this file's folder would shadow the package."""
    here = Path(__file__).resolve().parent
    sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != here]
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    return importlib.import_module(f"analysis.{name}")


def time_ours(data: pd.DataFrame, n_boot: int, n_jobs: int | None) -> float:
    bootstrap_sem = _analysis_module("bootstrap").bootstrap_sem
    start = time.perf_counter()
    result = bootstrap_sem(data, LOYALTY_MODEL, n_boot=n_boot, seed=2024, n_jobs=n_jobs)
    elapsed = time.perf_counter() - start
    ind = result.loc["ind"]
    print(
        f"  ind = {ind['est']:.4f}, 95% percentile CI [{ind['ci_lower']:.4f}, "
        f"{ind['ci_upper']:.4f}], {int(ind['n_ok'])}/{n_boot} resamples converged"
    )
    return elapsed


def _lavaan_seconds(data: pd.DataFrame, model: str, call: str) -> float | None:
    """Seconds of the lavaan ``call`` (an R expression using ``model`` and ``d``), timed
    inside R so that R's start-up is not counted; None without R/lavaan."""
    if shutil.which("Rscript") is None:
        return None
    with tempfile.TemporaryDirectory() as folder:
        csv = Path(folder) / "data.csv"
        data.to_csv(csv, index=False)
        script = (
            "suppressPackageStartupMessages(library(lavaan)); set.seed(2024);"
            f"d <- read.csv('{csv}'); model <- '{model}';"
            f"t <- system.time(fit <- {call});"
            "cat(t[['elapsed']], '\\n')"
        )
        run = subprocess.run(
            ["Rscript", "-e", script], capture_output=True, text=True, check=False, timeout=3600
        )
    if run.returncode != 0:
        print("  lavaan not available:", run.stderr.strip().splitlines()[-1:])
        return None
    return float(run.stdout.split()[-1])


def time_lavaan(data: pd.DataFrame, n_boot: int) -> float | None:
    """Seconds lavaan needs for the same bootstrap, or None without R/lavaan."""
    call = f"sem(model, data = d, se = 'bootstrap', bootstrap = {n_boot})"
    return _lavaan_seconds(data, LOYALTY_MODEL, call)


def time_robust_fiml(repeat: int) -> tuple[float, float | None, dict[str, float]]:
    """Best-of-``repeat`` seconds of one MLR+FIML fit of the ACSI model, ours and lavaan's,
    and our scaled fit (to show both fitted the same thing)."""
    fit_sem = _analysis_module("sem").fit_sem
    model = _script(REFERENCE / "make_acsi_ratings.py").MODEL
    data = pd.read_csv(ACSI_RATINGS).drop(columns=["respondent", "channel"])
    options = {"estimator": "MLR", "missing": "fiml"}
    fit_sem(data, model, **options)  # warm-up: imports and caches
    ours = best_of(repeat, lambda: fit_sem(data, model, **options))
    fit = fit_sem(data, model, **options).fit
    call = "sem(model, data = d, estimator = 'MLR', missing = 'ml')"
    runs = [_lavaan_seconds(data, model, call) for _ in range(repeat)]
    lavaan = None if None in runs else min(runs)
    return ours, lavaan, fit


def best_of(repeat: int, run) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times)


def time_full_pipeline(n: int = 10_000, repeat: int = 5) -> tuple[float, float]:
    """Best-of-``repeat`` seconds of ``analysis.pipeline.analyze`` (no bootstrap) at N = ``n``,
    and of one SEM fit alone on the same data as the unit of comparison."""
    analyze = _analysis_module("pipeline").analyze
    fit_sem = _analysis_module("sem").fit_sem
    survey = pd.read_csv(SEGMENTS).sample(n, replace=True, random_state=1).reset_index(drop=True)
    complete = survey.dropna(subset=ITEMS).copy()
    complete["sat4"] = 8 - complete["sat4"]
    options = dict(reverse=["sat4"], scale_min=1, scale_max=7, group="tier", nps="ltr")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        analyze(survey, model=LOYALTY_MODEL, **options)  # warm-up: imports and caches
        pipeline = best_of(repeat, lambda: analyze(survey, model=LOYALTY_MODEL, **options))
        single = best_of(repeat, lambda: fit_sem(complete[ITEMS], LOYALTY_MODEL))
    return pipeline, single


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-boot", type=int, default=1000)
    parser.add_argument("--jobs", type=int, default=None, help="worker processes (default: all)")
    parser.add_argument("--repeat", type=int, default=3, help="runs of the single fits")
    args = parser.parse_args()
    ours, lavaan, fit = time_robust_fiml(args.repeat)
    print("MLR + FIML, ACSI model (6 factors, 18 items, 0-10 ratings), N = 1,500, 3% missing")
    print(
        f"  chi2 = {fit['chisq']:.3f}, scaled {fit['chisq_scaled']:.3f} "
        f"(scaling {fit['chisq_scaling_factor']:.4f}), robust CFI {fit['cfi_robust']:.4f}"
    )
    print(f"  LoyaltyLab: {ours:.3f} s (best of {args.repeat})")
    if lavaan is not None:
        print(f"  lavaan:     {lavaan:.3f} s (best of {args.repeat})")
        print(f"  ratio (lavaan / LoyaltyLab): {lavaan / ours:.1f}x")
    data = loyalty_survey()
    cores = args.jobs or os.cpu_count()
    print(f"SEM bootstrap: {args.n_boot} resamples, N = {len(data)}, 13 items, {cores} core(s)")
    ours = time_ours(data, args.n_boot, args.jobs)
    print(f"  LoyaltyLab: {ours:.2f} s")
    lavaan = time_lavaan(data, args.n_boot)
    if lavaan is not None:
        print(f"  lavaan:     {lavaan:.2f} s")
        print(f"  ratio (lavaan / LoyaltyLab): {lavaan / ours:.1f}x")
    pipeline, single = time_full_pipeline()
    print(
        f"Full pipeline without bootstrap (N = 10,000): {pipeline:.3f} s, "
        f"= {pipeline / single:.1f} single SEM fits ({single:.3f} s each)"
    )


if __name__ == "__main__":
    main()
