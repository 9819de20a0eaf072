"""Which pages a respondent goes through, where a returning one continues, and which language a
contact's list gives (the fieldwork service's rules without a database)."""

from __future__ import annotations

from typing import Any

import pytest

from loyaltylab.fieldwork import service
from loyaltylab.fieldwork.models import Response
from loyaltylab.respond import service as respondent
from surveys.definition import QuestionnaireDefinition
from tests.surveys.conftest import options, texts

ASKED = {"item": "complained", "op": "eq", "value": "yes"}


def question(code: str, **extra: Any) -> dict[str, Any]:
    return {"type": "short_text", "code": code, "label": texts(code, code), **extra}


def section(code: str, *items: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"code": code, "title": texts(code, code), "items": list(items), **extra}


DEFINITION = QuestionnaireDefinition.model_validate(
    {
        "title": texts("Survey", "调查"),
        "languages": ["zh-CN", "en"],
        "sections": [
            section(
                "about",
                {
                    "type": "single_choice",
                    "code": "complained",
                    "label": texts("Complained?", "投诉过?"),
                    "options": options("yes", "no"),
                },
            ),
            section(
                "welcome", {"type": "instruction", "code": "hello", "label": texts("Hi", "您好")}
            ),
            section(
                "complaint",
                {"type": "instruction", "code": "sorry", "label": texts("Sorry", "抱歉")},
                question("what", condition=ASKED),
                question("when", condition=ASKED),
            ),
            section("by_section", question("how"), condition=ASKED),
            section("end", question("more")),
        ],
    }
)


@pytest.mark.parametrize(
    ("answers", "pages"),
    [
        ({}, [0, 1, 4]),  # unanswered: the conditional questions are hidden
        ({"complained": "no"}, [0, 1, 4]),
        ({"complained": "yes"}, [0, 1, 2, 3, 4]),
    ],
)
def test_a_page_with_no_question_to_show_is_skipped(answers, pages):
    # "welcome" has instructions only and is shown; "complaint" has questions, all hidden.
    assert respondent.shown_pages(DEFINITION, answers) == pages
    assert respondent.first_page(DEFINITION, answers) == 0


def response_at(page: int, answers: dict[str, Any]) -> Response:
    codes = service.variable_codes(DEFINITION)
    return Response(current_page=page, answer_values=[answers.get(code) for code in codes])


def test_a_returning_respondent_continues_on_the_furthest_page_still_shown():
    assert respondent.resume_page(DEFINITION, response_at(3, {"complained": "yes"})) == 3
    # Back on page 0 they changed their answer: pages 2 and 3 are gone; page 1 is where to go.
    assert respondent.resume_page(DEFINITION, response_at(3, {"complained": "no"})) == 1
    assert respondent.resume_page(DEFINITION, response_at(0, {})) == 0
