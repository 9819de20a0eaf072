"""``loyaltylab --help`` and ``loyaltylab analyze --help`` answer at once: they load neither the
web app, the database nor the statistics (they took 1.7 s when they did).

What is loaded is asserted rather than how long it takes: a CPU-time limit failed on a busy machine
while nothing had changed (0.28 s idle, 0.55 s under the parallel suite)."""

from __future__ import annotations

import json
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
