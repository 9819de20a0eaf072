"""Published questionnaire versions as the respondent flow reads them: parsed once, cached, and
the order in which a response stores its answers.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlmodel import Session

from loyaltylab.fieldwork.models import (
    Response,
)
from loyaltylab.questionnaires.models import QuestionnaireVersion, VersionStatus
from surveys.definition import (
    QuestionnaireDefinition,
)

DEFINITION_CACHE_SIZE = 256


@dataclass(frozen=True)
class _Layout:
    """What the respondent flow derives from a definition on every request."""

    codes: tuple[str, ...]
    codes_by_page: dict[int, frozenset[str]]
    memo: dict[Any, Any] = field(default_factory=dict)
    """What callers derive from the definition and keep with it (:func:`definition_memo`)."""


def _derive(definition: QuestionnaireDefinition) -> _Layout:
    variables = definition.variables()
    pages: dict[int, set[str]] = {}
    for variable in variables:
        pages.setdefault(variable.section_index, set()).add(variable.code)
    return _Layout(
        tuple(variable.code for variable in variables),
        {page: frozenset(codes) for page, codes in pages.items()},
    )


class _VersionCache:
    """Parsed published versions (frozen, so never stale), most recently used last, bounded.

    Each entry keeps the layout derived from its definition, found again by the definition's
    identity; a definition not in the cache (a draft) is derived on every call.
    """

    def __init__(self, size: int) -> None:
        self.size = size
        self._entries: OrderedDict[tuple[str, int], tuple[QuestionnaireDefinition, _Layout]] = (
            OrderedDict()
        )
        self._layouts: dict[int, tuple[QuestionnaireDefinition, _Layout]] = {}
        self._lock = threading.Lock()

    def get(self, key: tuple[str, int]) -> QuestionnaireDefinition | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            self._entries.move_to_end(key)
            return entry[0]

    def put(self, key: tuple[str, int], definition: QuestionnaireDefinition) -> None:
        entry = (definition, _derive(definition))
        with self._lock:
            previous = self._entries.pop(key, None)
            if previous is not None:
                self._layouts.pop(id(previous[0]), None)
            self._entries[key] = entry
            self._layouts[id(definition)] = entry
            while len(self._entries) > self.size:
                _, (evicted, _) = self._entries.popitem(last=False)
                self._layouts.pop(id(evicted), None)

    def layout(self, definition: QuestionnaireDefinition) -> _Layout:
        # Checked by identity: a cached entry holds its definition, so while it is cached no
        # other object can have its id.
        entry = self._layouts.get(id(definition))
        if entry is not None and entry[0] is definition:
            return entry[1]
        return _derive(definition)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._layouts.clear()

    def __len__(self) -> int:
        return len(self._entries)


definition_cache = _VersionCache(DEFINITION_CACHE_SIZE)


def definition_for(session: Session, version_id: int) -> QuestionnaireDefinition:
    """The parsed definition of a version; published versions are frozen, so cached.

    The cache holds the ``DEFINITION_CACHE_SIZE`` most recently used published versions, keyed
    by database too: one process may talk to several (tests, benchmarks, tools). A draft is
    parsed on every call (the designer changes it).
    """
    key = (str(session.get_bind().url), version_id)
    cached = definition_cache.get(key)
    if cached is not None:
        return cached
    version = session.get(QuestionnaireVersion, version_id)
    if version is None:
        raise LookupError(f"questionnaire version {version_id} does not exist")
    definition = QuestionnaireDefinition.model_validate(version.definition)
    if version.status == VersionStatus.published:
        definition_cache.put(key, definition)
    return definition


def variable_codes(definition: QuestionnaireDefinition) -> list[str]:
    """The order of a response's ``answer_values``."""
    return list(definition_cache.layout(definition).codes)


class StoredAnswers(Protocol):
    """A response as read: the ORM object, or the respondent steps' row of it."""

    answer_values: list[Any]


def answers_of(response: StoredAnswers, definition: QuestionnaireDefinition) -> dict[str, Any]:
    """A response's answers as variable code -> typed answer (unanswered left out)."""
    codes = definition_cache.layout(definition).codes
    return {
        code: value
        for code, value in zip(codes, response.answer_values, strict=False)
        if value is not None
    }


def store_answers(
    response: Response, definition: QuestionnaireDefinition, answers: Mapping[str, Any]
) -> None:
    response.answer_values = [
        answers.get(code) for code in definition_cache.layout(definition).codes
    ]


def page_codes(definition: QuestionnaireDefinition, page: int) -> set[str]:
    """The variable codes asked on a page."""
    return set(definition_cache.layout(definition).codes_by_page.get(page, ()))


def definition_memo(definition: QuestionnaireDefinition) -> dict[Any, Any]:
    """A dictionary kept with a cached (published, so frozen) definition for what callers
    derive from it, such as a page's questions as HTML; for a definition not in the cache (a
    draft) a new, empty one on every call, so nothing derived from a draft is kept."""
    return definition_cache.layout(definition).memo
