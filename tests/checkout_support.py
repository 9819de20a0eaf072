"""What the tests may not do: write into the checkout. The files a run added or changed there."""

from __future__ import annotations

import subprocess
from pathlib import Path

CHECKOUT = Path(__file__).resolve().parents[1]
# What running Python and its tools leave in a checkout by design (not the tests' doing).
TOOL_LEFTOVERS = (
    ".venv/",
    ".pytest_cache/",
    ".ruff_cache/",
    ".mypy_cache/",
    ".hypothesis/",
    "__pycache__/",
    "*.pyc",
    "*.egg-info/",
    ".coverage*",
)


def checkout_files(root: Path = CHECKOUT) -> dict[str, tuple[int, int]] | None:
    """Untracked (ignored ones included) and modified files of a git checkout, with their
    modification time and size; None outside a git checkout (an unpacked sdist)."""
    excludes = [f"--exclude={pattern}" for pattern in TOOL_LEFTOVERS]
    try:
        listed = subprocess.run(
            ["git", "-C", str(root), "ls-files", "-z", "--others", "--modified", *excludes],
            capture_output=True,
            check=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    files = {}
    for name in filter(None, listed.decode().split("\0")):
        try:
            stat = (root / name).stat()
        except FileNotFoundError:  # a tracked file deleted in the working tree
            files[name] = (0, -1)
            continue
        files[name] = (stat.st_mtime_ns, stat.st_size)
    return files
