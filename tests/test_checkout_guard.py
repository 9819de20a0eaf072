"""The guard of tests/conftest.py: a run that leaves files in the checkout fails."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.checkout_support import checkout_files


def _git(root: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=True)


def test_the_guard_sees_ignored_new_and_changed_files_but_not_tool_caches(tmp_path: Path) -> None:
    _git(tmp_path, "init", "-q")
    (tmp_path / ".gitignore").write_text("var/\n.venv/\n__pycache__/\n")
    (tmp_path / "app.py").write_text("x = 1\n")
    _git(tmp_path, "add", ".")
    _git(tmp_path, "-c", "user.name=t", "-c", "user.email=t@example.org", "commit", "-qm", "c")
    before = checkout_files(tmp_path)
    assert before == {}
    (tmp_path / "var").mkdir()
    (tmp_path / "var" / "jobs.db").write_bytes(b"queue")  # ignored by git, still written
    (tmp_path / "app.py").write_text("x = 2\n")
    for cache in (".venv/lib", "__pycache__"):
        (tmp_path / cache).mkdir(parents=True)
        (tmp_path / cache / "f").write_text("")
    assert set(checkout_files(tmp_path)) == {"var/jobs.db", "app.py"}


def test_outside_a_git_checkout_there_is_nothing_to_compare(tmp_path: Path) -> None:
    assert checkout_files(tmp_path / "not-a-checkout") is None
