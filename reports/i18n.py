"""The report's own texts: the gettext domain ``reports`` (``reports/locale/<locale>/LC_MESSAGES/
reports.po``), keyed by stable message ids such as ``sec_summary``, with ``{name}`` placeholders.

Translators maintain it with the web app's catalogs: ``python -m loyaltylab.i18n_tools update``
and ``check``.
"""

from __future__ import annotations

from pathlib import Path

from languages import KeyCatalog, locale_of

# The report's language option, as the request, the CLI and stored reports spell it; resolved
# to a catalog locale (``zh`` -> ``zh_CN``) by the one rule of :mod:`languages`.
LANGUAGES = ("en", "zh")
LOCALE_DIR = Path(__file__).parent / "locale"
CATALOG = KeyCatalog(LOCALE_DIR, "reports")


def translate(key: str, language: str, /, **values: object) -> str:
    """The ``key`` string in ``language`` (``en`` or ``zh``), formatted with ``values``."""
    if language not in LANGUAGES:
        raise ValueError(f"report language must be one of {', '.join(LANGUAGES)}, not {language!r}")
    return CATALOG.format(key, language, **values)


def language_for(tag: str | None) -> str:
    """The report language for a language tag in any spelling (``zh_CN``, ``zh-CN`` -> ``zh``);
    English for any language the report is not written in."""
    return "zh" if locale_of(tag) == "zh_CN" else "en"


def has_key(key: str) -> bool:
    return CATALOG.has(key)
