"""UI language: Babel catalogs, negotiated from the user's setting or Accept-Language.

Catalogs are read from the ``.po`` files under ``locale/`` and compiled in memory on first use,
so there is no build step to forget. The current locale lives in a context variable set per
request. Language tags follow :mod:`languages`: catalog locales (``en``, ``zh_CN``) inside, BCP 47
only at the edges (:func:`html_lang`, Accept-Language).
"""

from __future__ import annotations

from contextvars import ContextVar
from pathlib import Path
from typing import Any

from babel import Locale
from babel.support import NullTranslations

import languages
from languages import DEFAULT_LOCALE

LOCALE_DIR = Path(__file__).parent / "locale"
LOCALE_NAMES = {"en": "English", "zh_CN": "中文"}
SESSION_KEY = "lang"

_current_locale: ContextVar[str] = ContextVar("locale", default=DEFAULT_LOCALE)


def translations(locale: str) -> NullTranslations:
    """The web interface's catalog (domain ``messages``) of ``locale``."""
    return languages.translations(LOCALE_DIR, "messages", locale)


def negotiate_locale(*, user_locale: str | None, cookie: str | None, accept_language: str) -> str:
    for choice in (user_locale, cookie):
        locale = languages.locale_of(choice)
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
        locale = languages.locale_of(tag)
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
    return languages.bcp47(locale or get_locale())


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
