"""PDF rendering: the report's HTML printed by WeasyPrint with the CJK font embedded."""

from __future__ import annotations

import logging

from reports.document import ReportDocument
from reports.fonts import report_font
from reports.htmlpage import render_html


def render_pdf(document: ReportDocument) -> bytes:
    """A4 PDF with cover, contents with page numbers, running header and page numbers.

    WeasyPrint resolves ``Noto Sans CJK SC`` through fontconfig and embeds the subset used;
    :func:`reports.fonts.report_font` fails first with a clear message when it is missing.
    """
    report_font()
    from weasyprint import HTML

    # WeasyPrint logs every unsupported CSS property at WARNING; the report's CSS is ours.
    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    logging.getLogger("fontTools").setLevel(logging.ERROR)
    html = HTML(string=render_html(document), base_url=None)
    return html.write_pdf(
        uncompressed_pdf=False,
        pdf_identifier=b"loyaltylab-report",
        custom_metadata=False,
    )
