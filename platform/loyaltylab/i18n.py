"""UI language: Babel catalogs, negotiated from the user's setting or Accept-Language.

Catalogs are read from the ``.po`` files under ``locale/`` and compiled in memory at start-up, so
there is no build step to forget. The current locale lives in a context variable set per request.
"""

from __future__ import annotations

import io
from contextvars import ContextVar
from functools import cache
from pathlib import Path
from typing import Any

from babel import Locale
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

LOCALE_DIR = Path(__file__).parent / "locale"
SUPPORTED_LOCALES = ("en", "zh_CN")
DEFAULT_LOCALE = "en"
LOCALE_NAMES = {"en": "English", "zh_CN": "中文"}
SESSION_KEY = "lang"

_current_locale: ContextVar[str] = ContextVar("locale", default=DEFAULT_LOCALE)


@cache
def translations(locale: str) -> NullTranslations:
    po_path = LOCALE_DIR / locale / "LC_MESSAGES" / "messages.po"
    if not po_path.exists():
        return NullTranslations()
    with po_path.open("rb") as handle:
        catalog = read_po(handle, locale=locale)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(buffer)


def normalise_locale(value: str | None) -> str | None:
    """Map tags such as ``zh``, ``zh-CN``, ``zh_Hans_CN`` or ``en-GB`` to a supported locale."""
    if not value:
        return None
    tag = value.strip().replace("-", "_").lower()
    if tag.startswith("zh"):
        return "zh_CN"
    if tag.startswith("en"):
        return "en"
    return None


def negotiate_locale(*, user_locale: str | None, cookie: str | None, accept_language: str) -> str:
    for choice in (user_locale, cookie):
        locale = normalise_locale(choice)
        if locale:
            return locale
    weighted: list[tuple[float, str]] = []
    for part in accept_language.split(","):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        locale = normalise_locale(tag)
        if locale and quality > 0:
            weighted.append((quality, locale))
    if weighted:
        return max(weighted, key=lambda pair: pair[0])[1]
    return DEFAULT_LOCALE


def set_locale(locale: str) -> None:
    _current_locale.set(locale)


def get_locale() -> str:
    return _current_locale.get()


def html_lang(locale: str | None = None) -> str:
    """The BCP-47 tag for ``<html lang>``."""
    return (locale or get_locale()).replace("_", "-")


def gettext(message: str, **params: Any) -> str:
    text = translations(get_locale()).ugettext(message)
    return text % params if params else text


def ngettext(singular: str, plural: str, n: int, **params: Any) -> str:
    text = translations(get_locale()).ungettext(singular, plural, n)
    params.setdefault("num", n)
    return text % params


_ = gettext


def N_(message: str) -> str:
    """Mark a msgid for extraction without translating it yet (it is translated when shown)."""
    return message


# Enum values are stable identifiers; these are their msgids, visible to extraction.
ROLE_LABELS = {
    "owner": N_("Owner"),
    "researcher": N_("Researcher"),
    "client": N_("Client"),
}


def role_label(role: str) -> str:
    """The translated name of a membership role (``Role`` member or its value)."""
    value = str(role)
    return gettext(ROLE_LABELS[value]) if value in ROLE_LABELS else value


def locale_display(locale: str) -> Locale:
    return Locale.parse(locale)
