"""Which pages a respondent goes through (surveys.pages)."""

from __future__ import annotations

import pytest

from surveys.pages import first_page, shown_pages
from tests.surveys.conftest import page_logic_questionnaire

DEFINITION = page_logic_questionnaire()


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
    assert shown_pages(DEFINITION, answers) == pages
    assert first_page(DEFINITION, answers) == 0
