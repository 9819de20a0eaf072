"""Benchmark: a complete PDF report for N = 2,000 respondents, without and with bootstrap.

Run ``.venv/bin/python bench/report.py`` (optionally ``--resamples 1000``). The respondents are
the simulated loyalty survey (tests/analysis/reference/make_loyalty_sim.py) drawn at N = 2,000.
Targets on a 2-core machine: ≤ 10 s without bootstrap, ≤ 30 s with 1,000 resamples.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
# Run as a script, this folder comes first on sys.path and its analysis.py would shadow the package.
sys.path[:] = [str(ROOT), *(p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench")]
# The lavaan reference model of the simulated survey (with the indirect and total effects).
MODEL = json.loads(
    (ROOT / "tests" / "analysis" / "reference" / "loyalty_listwise.json").read_text("utf-8")
)["model"]


def _simulate(n: int) -> Any:
    path = ROOT / "tests" / "analysis" / "reference" / "make_loyalty_sim.py"
    spec = importlib.util.spec_from_file_location("make_loyalty_sim", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.simulate(n=n)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--resamples", type=int, default=1000)
    arguments = parser.parse_args()

    from reports.build import ReportRequest

    # Timed as a report job runs in a warm worker: library imports happen once per process
    # (they are printed separately), not once per report.
    started = time.perf_counter()
    import weasyprint  # noqa: F401

    import reports.charts  # noqa: F401

    print(f"imports (once per process): {time.perf_counter() - started:.2f} s")
    from reports.run import make_report

    data = _simulate(arguments.n)
    print(f"N = {len(data):,}, {data.shape[1] - 1} items")
    with tempfile.TemporaryDirectory() as folder:
        for resamples, limit in ((0, 10.0), (arguments.resamples, 30.0)):
            request = ReportRequest(model=MODEL, reverse=("sat4",), bootstrap=resamples, seed=1)
            started = time.perf_counter()
            output = make_report(data, request, "pdf")
            elapsed = time.perf_counter() - started
            (Path(folder) / f"bench_{resamples}.pdf").write_bytes(output.content)
            verdict = "ok" if elapsed <= limit else "OVER"
            print(
                f"PDF, bootstrap {resamples:>5}: {elapsed:6.2f} s "
                f"(limit {limit:.0f} s, {verdict}), {len(output.content) / 1024:.0f} KB"
            )


if __name__ == "__main__":
    main()
