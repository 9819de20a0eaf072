"""Which pages a respondent goes through: display logic applied in questionnaire order.

Pure functions of a questionnaire and the answers given so far; the respondent flow
(``loyaltylab.respond.service``) stores the answers and the page reached.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from surveys.conditions import evaluate
from surveys.definition import (
    InstructionItem,
    Item,
    MatrixItem,
    MatrixRow,
    QuestionnaireDefinition,
    shown_rows,
)


def walk(
    definition: QuestionnaireDefinition, answers: Mapping[str, Any]
) -> tuple[list[int], dict[str, Any]]:
    """Display logic in questionnaire order: the shown sections and the answers that count.

    An answer to a question that is hidden (e.g. after an earlier answer changed) never counts.
    A section is shown when its condition holds and it has a question to show: one whose
    questions are all hidden is skipped, instructions and all (a section of instructions
    only is shown).
    """
    context: dict[str, Any] = {}
    shown = []
    for index, section in enumerate(definition.sections):
        section_visible = evaluate(section.condition, context)
        questions = visible_questions = 0
        for item in section.items:
            if isinstance(item, InstructionItem):
                continue
            questions += 1
            visible = section_visible and evaluate(item.condition, context)
            rows = shown_rows(item, context) if isinstance(item, MatrixItem) else [item]
            # A matrix whose rows are all hidden is not shown either.
            visible = visible and bool(rows)
            visible_questions += visible
            for code in (row.code for row in rows):
                if visible and code in answers:
                    context[code] = answers[code]
        if section_visible and (visible_questions or not questions):
            shown.append(index)
    return shown, context


def shown_pages(definition: QuestionnaireDefinition, answers: Mapping[str, Any]) -> list[int]:
    """Indexes of the sections shown for ``answers`` (the pages a respondent goes through)."""
    return walk(definition, answers)[0]


def item_shown(item: Item | MatrixRow, answers: Mapping[str, Any]) -> bool:
    """Whether an item (or a matrix row) of a shown page is displayed, given the answers that
    count so far."""
    return evaluate(item.condition, answers)


def first_page(definition: QuestionnaireDefinition, answers: Mapping[str, Any]) -> int:
    """The page a respondent starts on (the first shown for ``answers``)."""
    pages = shown_pages(definition, answers)
    return pages[0] if pages else 0
