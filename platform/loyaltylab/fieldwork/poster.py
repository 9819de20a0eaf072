"""A wave's QR poster: an A4 PDF for shop counters and receipts, in the questionnaire's
languages (not the researcher's), with the public link as a QR code and as text."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import segno

from loyaltylab import i18n
from loyaltylab.i18n import N_
from loyaltylab.web import templates
from reports.fonts import report_font
from surveys.definition import QuestionnaireDefinition, text_for

STYLE_SHEET = Path(__file__).with_name("poster.css")
INVITATION = N_("We would like to hear from you")
SCAN = N_("Scan the code with your phone's camera to take the survey.")
OR_OPEN = N_("Or open this address:")
BY = N_("A survey by %(organisation)s")


@dataclass(frozen=True)
class PosterText:
    """The poster's words in one of the questionnaire's languages."""

    language: str
    title: str
    invitation: str
    scan: str
    or_open: str
    by: str


def poster_texts(definition: QuestionnaireDefinition, organisation: str) -> list[PosterText]:
    """One block per questionnaire language, its first (main) language first."""
    blocks = []
    for language in definition.languages:
        translate = i18n.translations(i18n.normalise_locale(language) or "en").ugettext
        blocks.append(
            PosterText(
                language=language,
                title=text_for(definition.title, language, definition.languages),
                invitation=translate(INVITATION),
                scan=translate(SCAN),
                or_open=translate(OR_OPEN),
                by=translate(BY) % {"organisation": organisation},
            )
        )
    return blocks


def poster_pdf(definition: QuestionnaireDefinition, *, url: str, organisation: str) -> bytes:
    """The A4 poster as PDF bytes (WeasyPrint, the CJK font embedded)."""
    report_font()  # a clear error when the CJK font is missing, before WeasyPrint guesses
    from weasyprint import CSS, HTML

    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    logging.getLogger("fontTools").setLevel(logging.ERROR)
    # High error correction: a poster gets creased, stained and photographed at an angle.
    qr = segno.make(url, error="h").svg_data_uri(scale=10, border=0, dark="#111827")
    html = templates.env.get_template("fieldwork/poster.html").render(
        texts=poster_texts(definition, organisation),
        url=url,
        qr=qr,
        lang=definition.languages[0],
    )
    # The style sheet is given to WeasyPrint, not linked: the template stays free of inline
    # styles, which the pages' Content-Security-Policy forbids.
    return HTML(string=html, base_url=None).write_pdf(
        stylesheets=[CSS(filename=str(STYLE_SHEET))], custom_metadata=False
    )
