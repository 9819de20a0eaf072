"""One language-tag convention and one way to give a text in a language, for every package.

**Tags.** Inside the code a language is a catalog locale, as Babel and the ``locale/``
directories name them: ``en`` or ``zh_CN``. BCP 47 (``zh-CN``) is used only at the edges: the
HTML ``lang`` attribute, HTTP ``Accept-Language`` and the language codes researchers give their
questionnaires (stored with the questionnaire). :func:`locale_of` maps any tag to a supported
locale (``zh``, ``zh-CN``, ``zh_Hans_CN``, ``zh-TW`` -> ``zh_CN``; ``en-GB`` -> ``en``) and
:func:`bcp47` maps a locale back for the edges.

**Texts.** Each package keeps its texts as a gettext domain of its own (a ``.po`` file per
locale under the package's ``locale/`` directory, maintained with ``python -m
loyaltylab.i18n_tools``), read with :class:`KeyCatalog`. One fallback rule everywhere: the text
in the resolved locale, else in English, else the message id itself.

This package imports nothing of the project: the pure libraries (``surveys``, ``reports``) and
the web app all use it.
"""

from __future__ import annotations

import io
import re
import string
from collections.abc import Mapping, Sequence
from functools import cache
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

SUPPORTED_LOCALES = ("en", "zh_CN")
DEFAULT_LOCALE = "en"

__all__ = [
    "DEFAULT_LOCALE",
    "SUPPORTED_LOCALES",
    "KeyCatalog",
    "bcp47",
    "half_width_punctuation",
    "locale_of",
    "placeholders",
    "text_in",
    "translations",
]


def locale_of(tag: str | None) -> str | None:
    """The supported locale for a language tag in any spelling; None when none fits."""
    if not tag:
        return None
    language = tag.strip().replace("-", "_").split("_")[0].lower()
    if language == "zh":
        return "zh_CN"
    if language == "en":
        return "en"
    return None


def bcp47(locale: str) -> str:
    """The BCP 47 tag of a locale (``zh_CN`` -> ``zh-CN``), for HTML and HTTP."""
    return locale.replace("_", "-")


def text_in(texts: Mapping[str, str] | None, tag: str, *, fallbacks: Sequence[str] = ()) -> str:
    """The non-blank text of a multilingual mapping (keyed by language tags in any spelling)
    in the language of ``tag``, else in each of ``fallbacks`` in turn; '' when there is none."""
    for wanted in dict.fromkeys(locale_of(choice) for choice in (tag, *fallbacks)):
        for key, text in (texts or {}).items():
            if wanted is not None and locale_of(key) == wanted and text.strip():
                return text
    return ""


@cache
def translations(locale_dir: Path, domain: str, locale: str) -> NullTranslations:
    """The ``domain`` catalog of ``locale`` under ``locale_dir``, compiled in memory from its
    ``.po`` file on first use (no build step to forget); empty when there is none."""
    po_path = locale_dir / locale / "LC_MESSAGES" / f"{domain}.po"
    if not po_path.exists():
        return NullTranslations()
    with po_path.open("rb") as handle:
        catalog = read_po(handle, locale=locale)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(buffer, domain=domain)


class KeyCatalog:
    """A gettext domain whose message ids are stable keys (``"sec_summary"``), with the English
    text in an ``en`` catalog like any other language's, and ``{name}`` placeholders."""

    def __init__(self, locale_dir: Path, domain: str) -> None:
        self.locale_dir = locale_dir
        self.domain = domain

    def text(self, key: str, tag: str | None, /, *, context: str | None = None) -> str:
        """The text ``key`` in the language ``tag`` (any spelling), English when that language
        has none, the key itself when English has none either."""
        for locale in dict.fromkeys((locale_of(tag) or DEFAULT_LOCALE, DEFAULT_LOCALE)):
            catalog = translations(self.locale_dir, self.domain, locale)
            found = (
                catalog.upgettext(context, key) if context is not None else catalog.ugettext(key)
            )
            if found != key:
                return found
        return key

    def format(
        self, key: str, tag: str | None, /, *, context: str | None = None, **values: object
    ) -> str:
        """:meth:`text` with its ``{name}`` placeholders filled from ``values``."""
        template = self.text(key, tag, context=context)
        return template.format(**values) if values else template

    def has(self, key: str, *, context: str | None = None) -> bool:
        """Whether the English catalog has ``key`` (a text may read as its key: "name")."""
        return (context, key) in _keys(self.locale_dir, self.domain)

    def message_ids(self, *, context: str | None = None) -> list[str]:
        """The English catalog's keys in ``context``, sorted."""
        return sorted(key for found, key in _keys(self.locale_dir, self.domain) if found == context)


@cache
def _keys(locale_dir: Path, domain: str) -> frozenset[tuple[str | None, str]]:
    po_path = locale_dir / DEFAULT_LOCALE / "LC_MESSAGES" / f"{domain}.po"
    with po_path.open("rb") as handle:
        catalog = read_po(handle, locale=DEFAULT_LOCALE)
    return frozenset(
        (message.context, message.id)
        for message in catalog
        if isinstance(message.id, str) and message.id
    )


def placeholders(template: str) -> set[str]:
    """The ``{name}`` fields of a ``str.format`` template (for the catalog checks)."""
    return {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}


# Chinese characters: the CJK ideographs, extension A and the compatibility ideographs.
_HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_HALF_WIDTH_NEXT_TO_HAN = re.compile(rf"[{_HAN}] ?[,;:!?()]|[,;:!?(] ?[{_HAN}]")


def half_width_punctuation(text: str) -> list[str]:
    """The ASCII punctuation written against a Chinese character in ``text``, each in context.

    Chinese text takes the full-width marks (，；：！？（）): ``满意,但`` or ``第 1 页,共 4 页``
    looks like a typo to a Chinese reader. ASCII stays right between Latin letters or digits
    (``9, 99``, ``(Dijkstra & Henseler, 2015)``).
    """
    return [match.group() for match in _HALF_WIDTH_NEXT_TO_HAN.finditer(text)]
