"""The runtime dependency list in pyproject.toml is exactly what the packages import.

Every ``import`` statement in platform/loyaltylab, surveys, analysis and reports (at module level
or inside a function, so lazy imports in the CLI count too) is mapped to the distribution that
provides it with ``importlib.metadata.packages_distributions()`` and compared with
``[project] dependencies``: nothing imported may be missing from the list, and nothing on the list
may go unimported unless it is loaded by name (see ``LOADED_WITHOUT_IMPORT``).
"""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from functools import cache
from importlib.metadata import packages_distributions
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = [
    ROOT / "platform" / "loyaltylab",
    ROOT / "surveys",
    ROOT / "analysis",
    ROOT / "reports",
    ROOT / "languages",
]
FIRST_PARTY = {"loyaltylab", "surveys", "analysis", "reports", "languages"}

# Runtime dependencies that our code needs but never names in an import statement.
LOADED_WITHOUT_IMPORT = {
    "python-multipart": "FastAPI imports it to parse the forms of Form() parameters",
    "psycopg": "SQLAlchemy loads it for postgresql+psycopg:// database URLs (db.py)",
    "redis": "huey's RedisHuey imports it when LOYALTYLAB_REDIS_URL is set (jobs/queue.py)",
}


def normalise(name: str) -> str:
    """PEP 503 normal form of a distribution name: ``Python_Docx`` -> ``python-docx``."""
    return re.sub(r"[-_.]+", "-", name).lower()


def requirement_name(requirement: str) -> str:
    """``uvicorn[standard]>=0.30,<1`` -> ``uvicorn``."""
    match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", requirement)
    assert match, requirement
    return normalise(match.group(1))


def declared(group: str | None = None) -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    requirements = (
        project["dependencies"] if group is None else project["optional-dependencies"][group]
    )
    return {requirement_name(r) for r in requirements}


@cache
def _providers() -> dict[str, list[str]]:
    return dict(packages_distributions())


@cache  # parsing every module takes seconds; the tests only read the result
def third_party_imports() -> dict[str, set[str]]:
    """Top-level module name -> the files importing it, for every non-stdlib, non-own import."""
    found: dict[str, set[str]] = {}
    for package in PACKAGES:
        for path in package.rglob("*.py"):
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
            for node in ast.walk(tree):
                if isinstance(node, ast.Import):
                    modules = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    modules = [node.module]
                else:
                    continue
                for module in modules:
                    top = module.partition(".")[0]
                    if top not in sys.stdlib_module_names and top not in FIRST_PARTY:
                        found.setdefault(top, set()).add(str(path.relative_to(ROOT)))
    return found


@cache
def imported_distributions() -> dict[str, set[str]]:
    """Distribution -> the modules of it that the packages import."""
    providers = _providers()
    unknown = sorted(m for m in third_party_imports() if m not in providers)
    assert unknown == [], f"imported modules no installed distribution provides: {unknown}"
    found: dict[str, set[str]] = {}
    for module in third_party_imports():
        for distribution in providers[module]:
            found.setdefault(normalise(distribution), set()).add(module)
    return found


def test_the_walk_sees_lazy_imports_inside_functions() -> None:
    imports = third_party_imports()
    # cli.py imports uvicorn only inside the `serve` command.
    assert "platform/loyaltylab/cli.py" in imports["uvicorn"]
    assert {"numpy", "pandas", "fastapi", "sqlmodel"} <= imports.keys()


def test_every_imported_module_comes_from_a_runtime_dependency() -> None:
    runtime = declared()
    providers = _providers()
    missing = {
        module: sorted(files)
        for module, files in sorted(third_party_imports().items())
        if not any(normalise(d) in runtime for d in providers[module])
    }
    assert missing == {}, (
        "imported by the packages but not in [project] dependencies (add the distribution "
        f"that provides each): {missing}"
    )


def test_every_runtime_dependency_is_imported_or_loaded_by_name() -> None:
    unused = declared() - imported_distributions().keys() - LOADED_WITHOUT_IMPORT.keys()
    assert unused == set(), (
        f"in [project] dependencies but imported nowhere: {sorted(unused)}; move them to an "
        "optional-dependency group, or to LOADED_WITHOUT_IMPORT with the reason"
    )
    stale = LOADED_WITHOUT_IMPORT.keys() - declared()
    assert stale == set(), f"LOADED_WITHOUT_IMPORT names what is not a dependency: {stale}"


def test_crosscheck_and_development_tools_stay_out_of_the_runtime() -> None:
    tooling = declared("crosscheck") | declared("dev")
    assert tooling & declared() == set()
    imported = {d: m for d, m in imported_distributions().items() if d in tooling}
    assert imported == {}, f"the packages import test-only distributions: {imported}"
