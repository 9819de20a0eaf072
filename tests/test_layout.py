"""Guards the repository layout: `platform/` must never become a package, and imports follow the
contracts of pyproject.toml."""

from __future__ import annotations

import ast
import importlib.util
import subprocess
import sys
import sysconfig
from pathlib import Path

from importlinter.cli import lint_imports

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
    ]:
        spec = importlib.util.find_spec(name)
        assert spec is not None and spec.origin is not None, name
        assert Path(spec.origin).resolve().parent == folder.resolve()


def test_import_contracts_hold() -> None:
    """The import rules of docs/architecture.md (pyproject.toml's [tool.importlinter]): the
    layers loyaltylab -> reports -> surveys -> analysis, pure libraries without web framework or
    ORM, phone interviews through the respondent's public steps. grimp reads every import
    statement, those inside functions too."""
    assert lint_imports(config_filename=str(ROOT / "pyproject.toml"), no_cache=True) == 0


def test_questionnaire_library_tests_run_without_the_web_app() -> None:
    """tests/surveys tests the pure library: no import of the web app or the ORM, anywhere in
    a module (import-linter checks packages, not the tests)."""
    offenders = [
        f"{path.relative_to(ROOT)}:{node.lineno}"
        for path in (ROOT / "tests" / "surveys").rglob("*.py")
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Import | ast.ImportFrom)
        and any(
            name.split(".")[0] in {"loyaltylab", "sqlmodel", "sqlalchemy", "fastapi"}
            for name in (
                [alias.name for alias in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
            )
        )
    ]
    assert offenders == []
