"""XLSX rendering with openpyxl: one sheet per table, numbers stored as numbers."""

from __future__ import annotations

import io
import re

from openpyxl import Workbook
from openpyxl.cell.cell import Cell
from openpyxl.styles import Alignment, Border, Font, Side
from openpyxl.utils import get_column_letter

from reports.document import CellFormat, ReportDocument, xml_safe

_NUMBER_FORMATS: dict[CellFormat, str] = {
    "int": "#,##0",
    "dec1": "0.0",
    "dec2": "0.00",
    "dec3": "0.000",
    "coef": "0.00",
    "coef3": "0.000",
    "p": "0.000",
    "pct": "0.0",
}
_SHEET_NAME_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")
_RULE = Side(style="thin", color="1F2A37")


def set_text(cell: Cell, text: str) -> None:
    """Store ``text`` as a literal string: a leading ``=`` never becomes a formula."""
    cell.value = xml_safe(text)
    cell.data_type = "s"


def _sheet_name(number: int, title: str, taken: set[str]) -> str:
    base = _SHEET_NAME_FORBIDDEN.sub(" ", f"{number} {title}").strip("' ")[:31].rstrip()
    name, counter = base, 2
    while name.lower() in taken:
        suffix = f" ({counter})"
        name, counter = base[: 31 - len(suffix)] + suffix, counter + 1
    taken.add(name.lower())
    return name


def render_xlsx(document: ReportDocument) -> bytes:
    """A workbook: a cover sheet with the title-page facts, then one sheet per table."""
    workbook = Workbook()
    cover = workbook.active
    cover.title = document.title[:31] and _sheet_name(0, document.labels["contents"], set())
    set_text(cover.cell(1, 1), document.title)
    cover.cell(1, 1).font = Font(bold=True, size=14)
    for row, (label, value) in enumerate(document.facts, start=3):
        set_text(cover.cell(row, 1), label)
        set_text(cover.cell(row, 2), value)
    taken = {cover.title.lower()}
    start = len(document.facts) + 4
    for offset, table in enumerate(document.tables()):
        sheet = workbook.create_sheet(_sheet_name(table.number, table.title, taken))
        set_text(cover.cell(start + offset, 1), f"{document.labels['table']} {table.number}")
        set_text(cover.cell(start + offset, 2), table.title)
        set_text(sheet.cell(1, 1), f"{document.labels['table']} {table.number}. {table.title}")
        sheet.cell(1, 1).font = Font(bold=True)
        for column_index, column in enumerate(table.columns, start=1):
            cell = sheet.cell(3, column_index)
            set_text(cell, column.header)
            cell.font = Font(bold=True)
            cell.border = Border(top=_RULE, bottom=_RULE)
            cell.alignment = Alignment(horizontal="left" if column.fmt == "text" else "right")
            width = max(
                [len(column.header)] + [len(str(row[column_index - 1] or "")) for row in table.rows]
            )
            sheet.column_dimensions[get_column_letter(column_index)].width = min(
                max(width + 2, 8), 60
            )
        for row_index, row in enumerate(table.rows, start=4):
            for column_index, (value, column) in enumerate(
                zip(row, table.columns, strict=True), start=1
            ):
                cell = sheet.cell(row_index, column_index)
                if isinstance(value, int | float) and not isinstance(value, bool):
                    if value == value:  # NaN stays an empty cell
                        cell.value = value
                        cell.number_format = _NUMBER_FORMATS.get(column.fmt, "General")
                elif value is not None:
                    set_text(cell, str(value))
        if table.note:
            note_row = len(table.rows) + 5
            set_text(sheet.cell(note_row, 1), f"{document.labels['note']} {table.note}")
            sheet.cell(note_row, 1).font = Font(italic=True, size=9)
        sheet.freeze_panes = "B4"
    workbook.properties.creator = "LoyaltyLab"
    workbook.properties.created = workbook.properties.modified = document.created.replace(
        tzinfo=None
    )
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
