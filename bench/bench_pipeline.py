"""Time ``analysis.pipeline.analyze`` without bootstrap at N = 10,000 (target: <= 1 s).

Resamples the simulated loyalty survey (tests/analysis/data/loyalty_segments.csv) to 10,000
respondents and reports the best of several runs of the whole pipeline (measurement and
structural model, reliability, validity, correlations, descriptives, NPS, group comparison),
next to one structural-model fit alone as the unit of comparison.

    .venv/bin/python bench/bench_pipeline.py [--n 10000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import time
import warnings
from pathlib import Path

import pandas as pd

from analysis.pipeline import analyze
from analysis.prepare import reverse_key
from analysis.sem import fit_sem

DATA = Path(__file__).resolve().parents[1] / "tests" / "analysis" / "data" / "loyalty_segments.csv"
MODEL = """
SAT =~ sat1 + sat2 + sat3 + sat4
VAL =~ val1 + val2 + val3
TRU =~ tru1 + tru2 + tru3
LOY =~ loy1 + loy2 + loy3
VAL ~ a*SAT
LOY ~ c*SAT + b*VAL + TRU
ind := a*b
"""


def best_of(repeat: int, run) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    survey = pd.read_csv(DATA).sample(args.n, replace=True, random_state=1).reset_index(drop=True)
    complete = reverse_key(survey, ["sat4"], scale_min=1, scale_max=7).dropna()
    options = dict(reverse=["sat4"], scale_min=1, scale_max=7, group="tier", nps="ltr")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        analyze(survey, model=MODEL, **options)  # warm-up: imports and caches
        pipeline = best_of(args.repeat, lambda: analyze(survey, model=MODEL, **options))
        single = best_of(args.repeat, lambda: fit_sem(complete, MODEL))
    print(f"N = {args.n}: whole pipeline {pipeline:.3f} s; one SEM fit {single:.3f} s "
          f"(pipeline = {pipeline / single:.1f} fits)")  # fmt: skip


if __name__ == "__main__":
    main()
