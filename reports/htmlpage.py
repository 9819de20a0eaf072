"""HTML rendering (Jinja2, autoescaped); the PDF renderer prints this HTML with WeasyPrint."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from functools import cache
from importlib import resources

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from reports.document import Column, Figure, Paragraph, ReportDocument, Table
from reports.fonts import CJK_FAMILY

FONT_STACK = f'"{CJK_FAMILY}", "DejaVu Sans", sans-serif'


@dataclass(frozen=True)
class _View:
    """A block as the template sees it: a kind plus ready-to-print strings."""

    kind: str
    text: str = ""
    title: str = ""
    number: int = 0
    note: str = ""
    columns: tuple[Column, ...] = ()
    cells: tuple[tuple[str, ...], ...] = ()
    src: str = ""
    width_cm: float = 0


def _view(block: Paragraph | Table | Figure) -> _View:
    if isinstance(block, Paragraph):
        return _View(block.style, text=block.text)
    if isinstance(block, Table):
        return _View(
            "table",
            title=block.title,
            number=block.number,
            note=block.note,
            columns=tuple(block.columns),
            cells=tuple(tuple(row) for row in block.formatted_rows()),
        )
    source = "data:image/png;base64," + base64.b64encode(block.png).decode("ascii")
    return _View(
        "figure",
        title=block.title,
        number=block.number,
        note=block.note,
        src=source,
        width_cm=block.width_cm,
    )


@cache
def _stylesheet() -> str:
    text = resources.files("reports").joinpath("templates/report.css").read_text("utf-8")
    return text.replace("{{ font_stack }}", FONT_STACK)


@cache
def _environment() -> Environment:
    return Environment(
        loader=PackageLoader("reports", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render_html(document: ReportDocument) -> str:
    """The whole report as one self-contained HTML page (charts inline as data URIs)."""
    environment = _environment()
    # Our own stylesheet, not user text: it goes in unescaped.
    css = Markup(_stylesheet())
    sections = [
        {"key": s.key, "title": s.title, "blocks": [_view(b) for b in s.blocks]}
        for s in document.sections
    ]
    return environment.get_template("report.html").render(
        doc=document,
        sections=sections,
        css=css,
        html_lang="zh-CN" if document.language == "zh" else "en",
    )
