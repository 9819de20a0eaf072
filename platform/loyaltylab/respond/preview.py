"""The designer's preview: every page of a questionnaire as respondents see it.

The preview is the respondent form itself (``respond/form.py``, ``respond/_questions.html``,
``respond.css``), written into a document the designer shows in a frame the size of a phone,
so the two cannot differ and the phone's layout is the one a phone gets. Nothing is sent:
the pages have no form and their buttons do nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request
from fastapi.responses import HTMLResponse

from loyaltylab.middleware import CONTENT_SECURITY_POLICY
from loyaltylab.respond import form as questions
from loyaltylab.respond.steps import static_prefix
from loyaltylab.respond.texts import LANGUAGE_NAMES, text
from loyaltylab.web import render
from surveys.definition import QuestionnaireDefinition, Section, text_for

# Shown in a frame of the designer's own pages, and only there.
FRAME_HEADERS = {
    "content-security-policy": CONTENT_SECURITY_POLICY.replace(
        "frame-ancestors 'none'", "frame-ancestors 'self'"
    ),
    "x-frame-options": "SAMEORIGIN",
    "cache-control": "no-store",
}


@dataclass
class PreviewPage:
    """A section as the page a respondent would see, numbered among all sections."""

    section: Section
    entries: list[questions.Entry]
    number: int


def preview_response(
    request: Request, definition: QuestionnaireDefinition, language: str
) -> HTMLResponse:
    """The preview document of ``definition`` in ``language`` (one of its languages)."""

    def t(texts: dict[str, str]) -> str:
        return text_for(texts or {}, language, definition.languages)

    pages = [
        PreviewPage(
            section,
            questions.page_entries(section, t=t, values={}, errors={}, seed="preview"),
            number,
        )
        for number, section in enumerate(definition.sections, start=1)
    ]
    context = {
        "definition": definition,
        "language": language,
        "static": static_prefix(request),
        "t": t,
        "ui": lambda key, **params: text(key, language, **params),
        "title": t(definition.title),
        "language_names": LANGUAGE_NAMES,
        "pages": pages,
        "errors": {},
    }
    response = render(request, "respond/preview.html", context)
    response.headers.update(FRAME_HEADERS)
    return response
