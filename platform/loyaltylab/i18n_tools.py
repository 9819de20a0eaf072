"""Maintain the UI catalogs: ``python -m loyaltylab.i18n_tools extract|update|check``.

* ``extract`` writes ``locale/messages.pot`` from the templates and the Python code;
* ``update`` merges the template into every locale's ``messages.po`` (new msgids arrive empty);
* ``check`` fails when a msgid is missing, untranslated or fuzzy in a catalog, or when a
  translation's ``%(name)s`` placeholders differ from its msgid's.

The keywords below are the single source of truth for what counts as a msgid, shared with
``tests/loyaltylab/test_i18n.py``. Domain exceptions and ``flash`` take English msgids that are
translated when shown, so their message argument is extracted too.
"""

from __future__ import annotations

import argparse
import io
import sys
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po, write_po

from loyaltylab import i18n

PACKAGE_DIR = Path(__file__).resolve().parent
PROJECT_DIR = PACKAGE_DIR.parents[1]
BABEL_CFG = PROJECT_DIR / "babel.cfg"
POT_PATH = i18n.LOCALE_DIR / "messages.pot"
TRANSLATED_LOCALES = tuple(locale for locale in i18n.SUPPORTED_LOCALES if locale != "en")

KEYWORDS: dict[str, object] = {
    **DEFAULT_KEYWORDS,
    "N_": None,
    "flash": (2,),
    "InvalidInput": None,
    "NotFound": None,
    "PermissionDenied": None,
    "LoginRequired": None,
    "Throttled": None,
    "CsrfFailed": None,
    "PayloadTooLarge": None,
}


def extract() -> Catalog:
    """Every msgid in the package's templates and Python modules."""
    catalog = Catalog(
        project="LoyaltyLab",
        msgid_bugs_address="https://github.com/loyaltylab/loyaltylab/issues",
        creation_date=datetime(2026, 1, 1, tzinfo=UTC),
        fuzzy=False,
    )
    with BABEL_CFG.open() as handle:
        method_map, options_map = parse_mapping_cfg(handle, str(BABEL_CFG))
    found = extract_from_dir(
        PROJECT_DIR,
        method_map=method_map,
        options_map=options_map,
        keywords=KEYWORDS,
        comment_tags=("Translators:",),
        strip_comment_tags=True,
        directory_filter=_within_package,
    )
    for filename, lineno, message, comments, context in found:
        catalog.add(message, None, [(filename, lineno)], auto_comments=comments, context=context)
    return catalog


def _within_package(path: str) -> bool:
    """Walk only the directories on the way to, and inside, the package (not .venv, var, ...)."""
    resolved = Path(path).resolve()
    inside = resolved == PACKAGE_DIR or PACKAGE_DIR in resolved.parents
    on_the_way = resolved in PACKAGE_DIR.parents
    return (inside or on_the_way) and not resolved.name.startswith((".", "__"))


def po_path(locale: str) -> Path:
    return i18n.LOCALE_DIR / locale / "LC_MESSAGES" / "messages.po"


def read_catalog(path: Path, locale: str | None = None) -> Catalog:
    with path.open("rb") as handle:
        return read_po(handle, locale=locale)


def write_catalog(catalog: Catalog, path: Path, *, with_locations: bool = True) -> None:
    buffer = io.BytesIO()
    write_po(
        buffer,
        catalog,
        width=100,
        sort_output=False,
        include_previous=False,
        omit_header=False,
        ignore_obsolete=True,
        include_lineno=with_locations,
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(buffer.getvalue())


def problems(template: Catalog, catalog: Catalog) -> list[str]:
    """What keeps ``catalog`` from translating every msgid of ``template`` correctly."""
    found: list[str] = []
    for message in template:
        if not message.id:
            continue
        translated = catalog.get(message.id, context=message.context)
        if translated is None:
            found.append(f"missing: {message.id!r}")
        elif translated.fuzzy:
            found.append(f"fuzzy: {message.id!r}")
        elif not _all_strings(translated.string):
            found.append(f"untranslated: {message.id!r}")
    for message, errors in catalog.check():
        found.extend(f"{error}: {message.id!r}" for error in errors)
    return found


def _all_strings(value: str | Iterable[str] | None) -> bool:
    if isinstance(value, str):
        return bool(value.strip())
    return bool(value) and all(part.strip() for part in value)


def _update(template: Catalog) -> None:
    for locale in TRANSLATED_LOCALES:
        path = po_path(locale)
        catalog = read_catalog(path, locale) if path.exists() else Catalog(locale=locale)
        catalog.update(template, no_fuzzy_matching=True)
        write_catalog(catalog, path)
        print(f"updated {path.relative_to(PROJECT_DIR)}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m loyaltylab.i18n_tools",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("command", choices=("extract", "update", "check"))
    args = parser.parse_args(argv)
    template = extract()
    if args.command in ("extract", "update"):
        write_catalog(template, POT_PATH)
        print(f"{len(template)} msgids -> {POT_PATH.relative_to(PROJECT_DIR)}")
    if args.command == "update":
        _update(template)
    if args.command == "check":
        failures = 0
        for locale in TRANSLATED_LOCALES:
            found = problems(template, read_catalog(po_path(locale), locale))
            for problem in found:
                print(f"{locale}: {problem}", file=sys.stderr)
            failures += len(found)
        if failures:
            return 1
        print(f"{len(template)} msgids, all translated in {', '.join(TRANSLATED_LOCALES)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
