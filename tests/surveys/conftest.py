"""Fixtures of the questionnaire tests: a small bilingual questionnaire with every item type."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from surveys.definition import QuestionnaireDefinition
from tests.surveys.questionnaire_support import small_questionnaire


@pytest.fixture
def data() -> dict[str, Any]:
    return small_questionnaire()


@pytest.fixture
def build() -> Callable[..., QuestionnaireDefinition]:
    """``build(change)``: the small questionnaire after ``change(data)`` edits its JSON data."""

    def make(change: Callable[[dict[str, Any]], None] | None = None) -> QuestionnaireDefinition:
        data = small_questionnaire()
        if change is not None:
            change(data)
        return QuestionnaireDefinition.model_validate(data)

    return make


@pytest.fixture
def definition(build: Callable[..., QuestionnaireDefinition]) -> QuestionnaireDefinition:
    return build()
