"""Structured problems found in a questionnaire, an import or a set of answers.

A problem carries a stable message id (``code``), where it was found (``where``, a path of
``(kind, value)`` pairs such as ``(("section", 2), ("item", "sat3"))``) and the parameters of its
message. The web layer may translate by id; :meth:`Problem.message` renders English or Chinese
from the package's message catalog so that every caller has a clear message without further
work.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from languages import KeyCatalog

Where = tuple[tuple[str, str | int], ...]

LOCALE_DIR = Path(__file__).parent / "locale"
# The messages of this package, by code: the gettext domain ``surveys``
# (``surveys/locale/<locale>/LC_MESSAGES/surveys.po``). Contexts: none for problem codes,
# ``expected``, ``field``, ``where`` and ``separator`` for the words a message is built from,
# ``change`` for the differences between questionnaire versions (:mod:`surveys.versions`).
CATALOG = KeyCatalog(LOCALE_DIR, "surveys")


def _render_param(value: Any, locale: str) -> str:
    if isinstance(value, (list, tuple)):
        return CATALOG.text("list", locale, context="separator").join(str(v) for v in value)
    return str(value)


@dataclass(frozen=True)
class Problem:
    """One thing wrong, with a stable message id, a location and message parameters."""

    code: str
    where: Where = ()
    params: Mapping[str, Any] = field(default_factory=dict)

    def message(self, locale: str = "en") -> str:
        """The message in ``locale`` (any language tag; English for a language without one)."""
        params = {key: _render_param(value, locale) for key, value in self.params.items()}
        field_name = self.params.get("field")
        if isinstance(field_name, str) and CATALOG.has(field_name, context="field"):
            params["field"] = CATALOG.text(field_name, locale, context="field")
        expected = self.params.get("expected")
        if isinstance(expected, str) and CATALOG.has(expected, context="expected"):
            params["expected"] = CATALOG.format(expected, locale, context="expected", **params)
        return CATALOG.format(self.code, locale, **params)

    def location(self, locale: str = "en") -> str:
        parts = []
        for kind, value in self.where:
            if kind == "field" and CATALOG.has(str(value), context="field"):
                parts.append(CATALOG.text(str(value), locale, context="field"))
            elif CATALOG.has(kind, context="where"):
                parts.append(CATALOG.text(kind, locale, context="where").format(value))
            else:
                parts.append(f"{kind} {value}")
        return CATALOG.text("location", locale, context="separator").join(parts)

    def describe(self, locale: str = "en") -> str:
        """Location and message in one line, e.g. for a CLI or a log."""
        location = self.location(locale)
        return f"{location}: {self.message(locale)}" if location else self.message(locale)

    def located(self, *prefix: tuple[str, str | int]) -> Problem:
        """The same problem placed under ``prefix`` (e.g. a sheet and row)."""
        return Problem(self.code, (*prefix, *self.where), self.params)

    def to_dict(self, locale: str = "en") -> dict[str, Any]:
        """A JSON-friendly form with the message rendered in ``locale``."""
        return {
            "code": self.code,
            "where": [list(part) for part in self.where],
            "params": dict(self.params),
            "location": self.location(locale),
            "message": self.message(locale),
        }
