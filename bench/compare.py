"""Two checkouts measured side by side: "before" and "after" in one run on one machine.

Runs this checkout's ``bench/respond_cpu.py`` (the app in process) and ``bench/ingest.py`` (the
real server over HTTP) against each checkout in turn, ``--repeats`` times, alternating, so a
change in the machine's load falls on both alike; then prints the median of every figure and
the ratio after/before. Each checkout runs with its own ``.venv`` when it has one.

Usage: ``python bench/compare.py BEFORE [AFTER] [--repeats 3] [--respondents 400]
[--concurrency 10] [--in-process-only]``; AFTER defaults to this checkout.
"""

from __future__ import annotations

import argparse
import re
import statistics
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent

# (label, pattern of the figure in the script's output, unit)
IN_PROCESS = [
    ("respondent CPU", r"respondent CPU\s+([\d.]+) ms", "ms/request"),
    ("/healthz CPU", r"/healthz CPU\s+([\d.]+) ms", "ms/request"),
]
OVER_HTTP = [
    ("server CPU", r"server CPU\s+([\d.]+) ms", "ms/request"),
    ("server /healthz", r"/healthz CPU\s+([\d.]+) ms per request \(server\)", "ms/request"),
    ("/healthz rate", r"/healthz\s+([\d.]+) requests/s", "requests/s"),
    ("completes", r"completes/s\s+([\d.]+)", "per s"),
    ("latency p50", r"latency p50\s+([\d.]+) ms", "ms"),
    ("latency p99", r"latency p99\s+([\d.]+) ms", "ms"),
]


def python_of(tree: Path) -> str:
    venv = tree / ".venv" / "bin" / "python"
    return str(venv) if venv.exists() else sys.executable


def measure(tree: Path, script: str, options: list[str], figures: list) -> dict[str, float]:
    command = [python_of(tree), str(BENCH / script), "--tree", str(tree), *options]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        sys.exit(f"{' '.join(command)} failed:\n{done.stdout}\n{done.stderr}")
    found = {}
    for label, pattern, _unit in figures:
        match = re.search(pattern, done.stdout)
        if match:
            found[label] = float(match.group(1))
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("before", type=Path)
    parser.add_argument("after", type=Path, nargs="?", default=ROOT)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--respondents", type=int, default=400)
    parser.add_argument("--concurrency", type=int, default=10)
    parser.add_argument("--healthz", type=int, default=5000)
    parser.add_argument("--in-process-only", action="store_true")
    args = parser.parse_args()
    trees = {"before": args.before.resolve(), "after": args.after.resolve()}

    runs = [("respond_cpu.py", ["--respondents", str(args.respondents)], IN_PROCESS)]
    if not args.in_process_only:
        load = ["--respondents", str(args.respondents), "--concurrency", str(args.concurrency)]
        runs.append(("ingest.py", [*load, "--healthz", str(args.healthz)], OVER_HTTP))

    results: dict[str, dict[str, list[float]]] = {name: {} for name in trees}
    for repeat in range(args.repeats):
        # Alternating, and the other way round every second time: neither checkout always
        # runs on the machine the other one warmed (or loaded).
        order = list(trees) if repeat % 2 == 0 else list(reversed(trees))
        for script, options, figures in runs:
            for name in order:
                for label, value in measure(trees[name], script, options, figures).items():
                    results[name].setdefault(label, []).append(value)
                print(f"repeat {repeat + 1}: {script} {name} done", file=sys.stderr, flush=True)

    for name, tree in trees.items():
        print(f"{name:7} {tree}")
    print(f"medians of {args.repeats} alternating runs")
    print(f"{'figure':16} {'before':>10} {'after':>10} {'after/before':>13}  unit")
    for _script, _options, figures in runs:
        for label, _pattern, unit in figures:
            before = results["before"].get(label)
            after = results["after"].get(label)
            if not before or not after:
                continue
            b, a = statistics.median(before), statistics.median(after)
            print(f"{label:16} {b:10.2f} {a:10.2f} {a / b:13.2f}  {unit}")
    print("every run:", {name: figures for name, figures in results.items()})


if __name__ == "__main__":
    main()
