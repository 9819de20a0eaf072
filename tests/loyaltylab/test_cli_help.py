"""``loyaltylab --help`` and ``loyaltylab analyze --help`` answer at once: they load neither the
web app, the database nor the statistics (they took 1.7 s when they did)."""

from __future__ import annotations

import json
import resource
import subprocess
import sys

import pytest

HEAVY = ("pandas", "numpy", "scipy", "sqlmodel", "sqlalchemy", "fastapi", "huey", "analysis")
PROBE = """
import json, sys
from loyaltylab.cli import app
try:
    app(sys.argv[1:], standalone_mode=False)
except SystemExit:
    pass
print(json.dumps(sorted({name.split(".")[0] for name in sys.modules})))
"""


@pytest.mark.parametrize("args", [["--help"], ["analyze", "--help"], ["report", "--help"]])
def test_help_loads_no_heavy_module(args):
    run = subprocess.run(
        [sys.executable, "-c", PROBE, *args], capture_output=True, text=True, check=True
    )
    *help_text, modules = run.stdout.strip().splitlines()
    assert "Usage" in "\n".join(help_text)
    assert not set(HEAVY) & set(json.loads(modules))


@pytest.mark.parametrize("args", [["--help"], ["analyze", "--help"]])
def test_help_answers_in_under_half_a_second(args):
    # CPU time rather than wall time: the machine running the tests may be busy.
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    run = subprocess.run(
        [sys.executable, "-m", "loyaltylab", *args], capture_output=True, text=True, check=True
    )
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    assert "--estimator" in run.stdout or args == ["--help"]
    seconds = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    assert seconds < 0.5
