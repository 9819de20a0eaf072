"""One entry point for every report format."""

from __future__ import annotations

from collections.abc import Callable

from reports.document import ReportDocument

FORMATS = ("html", "pdf", "docx", "xlsx")


def render(document: ReportDocument, fmt: str) -> bytes:
    """The report as ``html`` (UTF-8), ``pdf``, ``docx`` or ``xlsx`` bytes."""
    renderers: dict[str, Callable[[ReportDocument], bytes]] = {
        "html": lambda d: _html(d).encode("utf-8"),
        "pdf": _pdf,
        "docx": _docx,
        "xlsx": _xlsx,
    }
    if fmt not in renderers:
        raise ValueError(f"report format must be one of {', '.join(FORMATS)}, not {fmt!r}")
    return renderers[fmt](document)


def _html(document: ReportDocument) -> str:
    from reports.htmlpage import render_html

    return render_html(document)


def _pdf(document: ReportDocument) -> bytes:
    from reports.pdf import render_pdf

    return render_pdf(document)


def _docx(document: ReportDocument) -> bytes:
    from reports.word import render_docx

    return render_docx(document)


def _xlsx(document: ReportDocument) -> bytes:
    from reports.workbook import render_xlsx

    return render_xlsx(document)
