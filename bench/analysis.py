"""Benchmarks of the statistics engine, reported as ratios measured in one run.

Bootstrap: 1,000 nonparametric resamples of the 4-construct, 13-item loyalty SEM
(SAT -> VAL -> LOY with TRU, N = 800) with ``analysis.bootstrap.bootstrap_sem`` versus lavaan
``sem(..., se = "bootstrap", bootstrap = 1000)`` on the same data (when ``Rscript`` with lavaan
is installed; lavaan's time is measured inside R with ``system.time``, so R's start-up is not
counted against it).

Pipeline: ``analysis.pipeline.analyze`` without bootstrap on 10,000 respondents (target ≤ 1 s),
also expressed as a number of single SEM fits on the same data.

WLSMV: one fit of the 11-item ordinal loyalty SEM (5-point items, N = 600,
``tests/analysis/data/loyalty_ordinal.csv``) with ``fit_sem(..., ordered=True)`` versus lavaan
``sem(..., ordered = names(d))`` on the same file, both the best of ``--repeat`` fits (lavaan
timed inside R; target ≥ 3× faster than lavaan).

PLS: one PLS-SEM fit of the ECSI model (6 constructs, 27 items, N = 250, R plspm's
``satisfaction``) with ``analysis.pls.fit_pls`` (best of ``--repeat``; target < 20 ms) and
5,000 bootstrap resamples with ``analysis.pls.bootstrap_pls`` on every core (target < 3 s);
with ``--plspm PATH`` (a checkout of github.com/gastonstat/plspm) also R plspm's
``plspm.fit`` on the same model and its bootstrap (``get_boots``) of ``--plspm-boot``
resamples, timed inside R.

Run: ``.venv/bin/python bench/analysis.py [--n-boot 1000] [--jobs N] [--only wlsmv|pls]
[--plspm PATH]``
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import pandas as pd
from threadpoolctl import threadpool_limits

ROOT = Path(__file__).resolve().parents[1]
SIMULATION = ROOT / "tests" / "analysis" / "reference" / "make_loyalty_sim.py"
SEGMENTS = ROOT / "tests" / "analysis" / "data" / "loyalty_segments.csv"
ORDINAL = ROOT / "tests" / "analysis" / "data" / "loyalty_ordinal.csv"
# The model lavaan's reference fit used (tests/analysis/reference/ordinal_reference.R).
ORDINAL_MODEL = json.loads(
    (ROOT / "tests" / "analysis" / "reference" / "loyalty_ordinal.json").read_text()
)["model"]
ECSI = ROOT / "tests" / "analysis" / "data" / "ecsi_satisfaction.csv"
PLS_REFERENCE = ROOT / "tests" / "analysis" / "reference"
# plspm's ECSI model, as its reference run wrote it (tests/analysis/reference/pls_reference.R).
ECSI_MODEL = json.loads((PLS_REFERENCE / "pls_reference.json").read_text())["ecsi"]["model"]


def _simulation():
    spec = importlib.util.spec_from_file_location("make_loyalty_sim", SIMULATION)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


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


def time_lavaan(data: pd.DataFrame, n_boot: int) -> float | None:
    """Seconds lavaan needs for the same bootstrap, or None without R/lavaan."""
    if shutil.which("Rscript") is None:
        return None
    with tempfile.TemporaryDirectory() as folder:
        csv = Path(folder) / "loyalty.csv"
        data.to_csv(csv, index=False)
        output = _rscript(
            "suppressPackageStartupMessages(library(lavaan)); set.seed(2024);"
            f"d <- read.csv('{csv}'); model <- '{LOYALTY_MODEL}';"
            "t <- system.time(fit <- sem(model, data = d, se = 'bootstrap', "
            f"bootstrap = {n_boot}));"
            "cat(t[['elapsed']], '\\n')"
        )
    return None if output is None else float(output[-1])


def _rscript(script: str) -> list[str] | None:
    """The words ``Rscript -e script`` printed, or None (and why) if it failed."""
    run = subprocess.run(
        ["Rscript", "-e", script], capture_output=True, text=True, check=False, timeout=3600
    )
    if run.returncode != 0:
        print("  lavaan not available:", run.stderr.strip().splitlines()[-1:])
        return None
    return run.stdout.split()


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


def time_wlsmv(repeat: int) -> tuple[float, float]:
    """Best-of-``repeat`` seconds of one WLSMV fit (11 ordinal items, N = 600), and of its
    sample-statistics stage (thresholds, polychorics, NACOV)."""
    fit_sem = _analysis_module("sem").fit_sem
    ordinal_moments = _analysis_module("sem.polychoric").ordinal_moments
    data = pd.read_csv(ORDINAL)
    values = data.to_numpy(dtype=float)
    result = fit_sem(data, ORDINAL_MODEL, ordered=True)  # warm-up: imports and caches
    fit = result.fit
    print(
        f"  scaled chi2({fit['df']:.0f}) = {fit['chisq_scaled']:.3f}, "
        f"CFI.scaled = {fit['cfi_scaled']:.4f}, RMSEA.scaled = {fit['rmsea_scaled']:.4f}"
    )
    whole = best_of(repeat, lambda: fit_sem(data, ORDINAL_MODEL, ordered=True))
    with threadpool_limits(limits=1, user_api="blas"):  # as inside fit_sem
        stage = best_of(
            repeat,
            lambda: ordinal_moments(values, ordered=[True] * values.shape[1], names=data.columns),
        )
    return whole, stage


def time_lavaan_wlsmv(repeat: int) -> float | None:
    """Best-of-``repeat`` seconds of lavaan's WLSMV fit of the same model, timed inside R."""
    if shutil.which("Rscript") is None:
        return None
    output = _rscript(
        "suppressPackageStartupMessages(library(lavaan));"
        f"d <- read.csv('{ORDINAL}'); model <- '{ORDINAL_MODEL}';"
        "fit <- sem(model, data = d, ordered = names(d));"
        f"t <- sapply(seq_len({repeat}), function(i) system.time("
        "sem(model, data = d, ordered = names(d)))[['elapsed']]);"
        "cat(min(t), fitMeasures(fit, 'chisq.scaled'), '\\n')"
    )
    if output is None:
        return None
    seconds, chisq = map(float, output[-2:])
    print(f"  lavaan scaled chi2 = {chisq:.3f}")
    return seconds


def bench_wlsmv(repeat: int) -> None:
    print(f"WLSMV: 11 ordinal items, N = 600, best of {repeat} fits")
    ours, stage = time_wlsmv(repeat)
    print(f"  LoyaltyLab: {ours * 1000:.1f} ms (sample statistics {stage * 1000:.1f} ms)")
    lavaan = time_lavaan_wlsmv(repeat)
    if lavaan is not None:
        print(f"  lavaan:     {lavaan * 1000:.1f} ms")
        print(f"  ratio (lavaan / LoyaltyLab): {lavaan / ours:.1f}x")


def cpu_seconds() -> float:
    """CPU time of this process and of its finished worker processes."""
    own, children = (resource.getrusage(who) for who in (resource.RUSAGE_SELF,
                                                          resource.RUSAGE_CHILDREN))  # fmt: skip
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def time_pls(repeat: int, n_boot: int, jobs: int | None) -> tuple[float, float, float, float]:
    """Best-of-``repeat`` seconds of one PLS fit (path scheme; centroid with centred items as
    plspm), and the wall-clock and CPU seconds of ``n_boot`` bootstrap resamples (best of two
    runs): on a shared machine the CPU time says what the wall clock would be alone."""
    pls = _analysis_module("pls")
    bootstrap_pls = _analysis_module("pls.bootstrap").bootstrap_pls
    data = pd.read_csv(ECSI)
    fit = pls.fit_pls(data, ECSI_MODEL)  # warm-up: imports
    print(f"  GoF = {fit.gof:.4f}, R2(LOY) = {fit.r2()['r2'].iloc[-1]:.4f}")
    ours = best_of(repeat, lambda: pls.fit_pls(data, ECSI_MODEL))
    plspm_like = best_of(
        repeat, lambda: pls.fit_pls(data, ECSI_MODEL, scheme="centroid", scaled=False)
    )
    runs = []
    for _ in range(2):
        wall, cpu = time.perf_counter(), cpu_seconds()
        bootstrap_pls(fit, n_boot=n_boot, seed=2024, n_jobs=jobs)
        runs.append((time.perf_counter() - wall, cpu_seconds() - cpu))
    boot_wall, boot_cpu = min(runs)
    return ours, plspm_like, boot_wall, boot_cpu


def time_plspm(source: Path, repeat: int, n_boot: int) -> tuple[float, float] | None:
    """Best-of-``repeat`` seconds of R plspm's ``plspm.fit`` (centroid, centred items) and
    the CPU seconds of its bootstrap of ``n_boot`` resamples, timed inside R."""
    if shutil.which("Rscript") is None:
        return None
    output = _rscript(
        f"source('{PLS_REFERENCE / 'plspm_source.R'}'); env <- plspm_from_source('{source}');"
        f"d <- read.csv('{ECSI}');"
        "path <- rbind(c(0,0,0,0,0,0), c(1,0,0,0,0,0), c(0,1,0,0,0,0), c(0,1,1,0,0,0),"
        "c(1,1,1,1,0,0), c(1,0,0,0,1,0)); dimnames(path) <- rep(list(names(d)[c(1,6,11,16,20,24)]),"
        "2); blocks <- list(1:5, 6:10, 11:15, 16:19, 20:23, 24:27);"
        f"fit <- sapply(seq_len({repeat}), function(i) system.time(env$plspm.fit(d, path, blocks,"
        "scaled = FALSE))[['elapsed']]);"
        "specs <- list(scaling = NULL, modes = rep('A', 6), scheme = 'centroid', scaled = FALSE,"
        "tol = 1e-6, maxiter = 100, plscomp = NULL); set.seed(1);"
        f"used <- system.time(env$get_boots(d, path, blocks, specs, {n_boot}));"
        "boot <- used[['user.self']] + used[['sys.self']];"
        "cat(min(fit), boot, '\\n')"
    )
    if output is None:
        return None
    fit, boot = map(float, output[-2:])
    return fit, boot


def bench_pls(repeat: int, n_boot: int, jobs: int | None, plspm: Path | None, plspm_boot: int):
    cores = jobs or os.cpu_count()
    print(f"PLS-SEM: ECSI model (6 constructs, 27 items), N = 250, {cores} core(s)")
    fit, plspm_like, boot, boot_cpu = time_pls(repeat, n_boot, jobs)
    print(f"  LoyaltyLab fit: {fit * 1000:.1f} ms path scheme, {plspm_like * 1000:.1f} ms "
          f"centroid/centred (best of {repeat}; target < 20 ms)")  # fmt: skip
    print(f"  LoyaltyLab bootstrap: {n_boot} resamples in {boot:.2f} s wall clock, "
          f"{boot_cpu:.2f} CPU seconds in all processes (target < 3 s for 5,000; "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")  # fmt: skip
    if plspm is None:
        return
    timed = time_plspm(plspm, repeat, plspm_boot)
    if timed is not None:
        r_fit, r_boot = timed
        print(f"  R plspm fit: {r_fit * 1000:.1f} ms (ratio {r_fit / plspm_like:.0f}x)")
        print(f"  R plspm bootstrap: {plspm_boot} resamples in {r_boot:.2f} CPU seconds "
              f"({r_boot / plspm_boot * 1e3:.2f} ms each; ratio of CPU per resample "
              f"{r_boot / plspm_boot / (boot_cpu / n_boot):.0f}x)")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-boot", type=int, default=1000)
    parser.add_argument("--jobs", type=int, default=None, help="worker processes (default: all)")
    parser.add_argument("--repeat", type=int, default=20, help="WLSMV fits timed (best of)")
    parser.add_argument(
        "--only", choices=["bootstrap", "pipeline", "wlsmv", "pls"], help="run one benchmark only"
    )
    parser.add_argument("--pls-boot", type=int, default=5000, help="PLS bootstrap resamples")
    parser.add_argument("--plspm", type=Path, help="plspm source checkout, to time R plspm")
    parser.add_argument("--plspm-boot", type=int, default=500, help="R plspm resamples")
    args = parser.parse_args()
    if args.only in (None, "pls"):
        bench_pls(args.repeat, args.pls_boot, args.jobs, args.plspm, args.plspm_boot)
    if args.only == "pls":
        return
    if args.only in (None, "wlsmv"):
        bench_wlsmv(args.repeat)
    if args.only == "wlsmv":
        return
    if args.only == "pipeline":
        report_pipeline()
        return
    data = loyalty_survey()
    cores = args.jobs or os.cpu_count()
    print(f"SEM bootstrap: {args.n_boot} resamples, N = {len(data)}, 13 items, {cores} core(s)")
    ours = time_ours(data, args.n_boot, args.jobs)
    print(f"  LoyaltyLab: {ours:.2f} s")
    lavaan = time_lavaan(data, args.n_boot)
    if lavaan is not None:
        print(f"  lavaan:     {lavaan:.2f} s")
        print(f"  ratio (lavaan / LoyaltyLab): {lavaan / ours:.1f}x")
    if args.only is None:
        report_pipeline()


def report_pipeline() -> None:
    pipeline, single = time_full_pipeline()
    print(
        f"Full pipeline without bootstrap (N = 10,000): {pipeline:.3f} s, "
        f"= {pipeline / single:.1f} single SEM fits ({single:.3f} s each)"
    )


if __name__ == "__main__":
    main()
