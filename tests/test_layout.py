"""Guards the repository layout: `platform/` must never become a package."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import sysconfig
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_platform_folder_is_not_a_package() -> None:
    assert (ROOT / "platform" / "loyaltylab" / "__init__.py").is_file()
    assert not (ROOT / "platform" / "__init__.py").exists(), (
        "platform/__init__.py would shadow Python's stdlib module 'platform'"
    )


def test_stdlib_platform_resolves_to_the_standard_library() -> None:
    # A fresh interpreter started in the repository root, with the pytest pythonpath, as the
    # app's processes are: `platform` must still be the stdlib module there.
    code = "import platform, pandas; print(platform.__file__); print(platform.python_version())"
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={"PYTHONPATH": str(ROOT / "platform") + ":" + str(ROOT)},
        capture_output=True,
        text=True,
        check=True,
    )
    module_file = Path(result.stdout.splitlines()[0]).resolve()
    assert module_file.parent == Path(sysconfig.get_paths()["stdlib"]).resolve()


def test_top_level_packages_import_from_the_expected_places() -> None:
    for name, folder in [
        ("loyaltylab", ROOT / "platform" / "loyaltylab"),
        ("surveys", ROOT / "surveys"),
        ("analysis", ROOT / "analysis"),
        ("reports", ROOT / "reports"),
        ("languages", ROOT / "languages"),
    ]:
        spec = importlib.util.find_spec(name)
        assert spec is not None and spec.origin is not None, name
        assert Path(spec.origin).resolve().parent == folder.resolve()


def test_analysis_stays_a_pure_library() -> None:
    offenders = [
        f"{path.relative_to(ROOT)}: {line.strip()}"
        for path in (ROOT / "analysis").rglob("*.py")
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.startswith(("import ", "from "))
        and line.split()[1].split(".")[0]
        in {"loyaltylab", "surveys", "reports", "sqlmodel", "sqlalchemy", "fastapi"}
    ]
    assert offenders == []


def test_surveys_and_reports_do_not_import_the_web_app() -> None:
    offenders = [
        f"{path.relative_to(ROOT)}: {line.strip()}"
        for package in ("surveys", "reports")
        for path in (ROOT / package).rglob("*.py")
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.startswith(("import loyaltylab", "from loyaltylab"))
    ]
    assert offenders == []


def test_languages_imports_nothing_of_the_project() -> None:
    """Every package resolves language tags and texts with it, so it depends on none of them."""
    offenders = [
        f"{path.relative_to(ROOT)}: {line.strip()}"
        for path in (ROOT / "languages").rglob("*.py")
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip().startswith(("import ", "from "))
        and line.split()[1].split(".")[0] in {"loyaltylab", "surveys", "reports", "analysis"}
    ]
    assert offenders == []
