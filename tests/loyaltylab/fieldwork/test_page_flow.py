"""Where a returning respondent continues (the respondent flow's rule, without a database)."""

from __future__ import annotations

from typing import Any

from loyaltylab.fieldwork import service
from loyaltylab.fieldwork.models import Response
from loyaltylab.respond import service as respondent
from tests.surveys.conftest import page_logic_questionnaire

DEFINITION = page_logic_questionnaire()


def response_at(page: int, answers: dict[str, Any]) -> Response:
    codes = service.variable_codes(DEFINITION)
    return Response(current_page=page, answer_values=[answers.get(code) for code in codes])


def test_a_returning_respondent_continues_on_the_furthest_page_still_shown():
    assert respondent.resume_page(DEFINITION, response_at(3, {"complained": "yes"})) == 3
    # Back on page 0 they changed their answer: pages 2 and 3 are gone; page 1 is where to go.
    assert respondent.resume_page(DEFINITION, response_at(3, {"complained": "no"})) == 1
    assert respondent.resume_page(DEFINITION, response_at(0, {})) == 0
