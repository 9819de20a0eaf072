"""The CLI as a subprocess, a free port for the servers it starts, and the data file and model
the CLI tests analyse."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
from pathlib import Path

DATA = Path(__file__).resolve().parents[1] / "analysis" / "data" / "loyalty_segments.csv"


MODEL = """
SAT =~ sat1 + sat2 + sat3 + sat4
VAL =~ val1 + val2 + val3
LOY =~ loy1 + loy2 + loy3
VAL ~ a*SAT
LOY ~ c*SAT + b*VAL
ind := a*b
"""


def loyaltylab(*args: str, env: dict[str, str], stdin: str | None = None):
    executable = shutil.which("loyaltylab", path=str(Path(sys.executable).parent))
    command = [executable] if executable else [sys.executable, "-m", "loyaltylab"]
    return subprocess.run(
        [*command, *args], env=env, input=stdin, capture_output=True, text=True, timeout=120
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
