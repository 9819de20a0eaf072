"""XLSX rendering with openpyxl: one sheet per table, numbers stored as numbers."""

from __future__ import annotations

import io
import re

from openpyxl import Workbook
from openpyxl.cell.cell import Cell
from openpyxl.styles import Alignment, Border, Font, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.hyperlink import Hyperlink
from openpyxl.worksheet.worksheet import Worksheet

from reports.document import CellFormat, ReportDocument, Table, xml_safe

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
_SHEET_NAME_MAX = 31
_RULE = Side(style="thin", color="1F2A37")


def set_text(cell: Cell, text: str) -> None:
    """Store ``text`` as a literal string: a leading ``=`` never becomes a formula."""
    cell.value = xml_safe(text)
    cell.data_type = "s"


def sheet_name(number: int, title: str, taken: set[str]) -> str:
    """``"<number> <title>"`` as Excel allows a sheet name: at most 31 characters (cut at a
    word where the title is longer), without ``[]:*?/\\``, unique without regard to case."""
    text = _SHEET_NAME_FORBIDDEN.sub(" ", f"{number} {title}" if number else title)
    text = " ".join(text.split()).strip("'")
    if len(text) > _SHEET_NAME_MAX:
        cut = text.rfind(" ", 0, _SHEET_NAME_MAX + 1)
        text = text[: cut if cut > len(str(number)) else _SHEET_NAME_MAX].rstrip()
    name, counter = text, 2
    while name.lower() in taken:
        suffix = f" ({counter})"
        name, counter = text[: _SHEET_NAME_MAX - len(suffix)].rstrip() + suffix, counter + 1
    taken.add(name.lower())
    return name


def _link(cell: Cell, text: str, sheet: str) -> None:
    """A cell that opens ``sheet`` when clicked."""
    set_text(cell, text)
    cell.hyperlink = Hyperlink(ref=cell.coordinate, location=f"'{sheet}'!A1", display=text)
    cell.style = "Hyperlink"


def render_xlsx(document: ReportDocument) -> bytes:
    """A workbook: a contents sheet (title-page facts, then every table with a link to its
    sheet), then one sheet per table named by its number and a few words."""
    workbook = Workbook()
    contents = workbook.active
    taken: set[str] = set()
    contents.title = sheet_name(0, document.labels["contents"], taken)
    set_text(contents.cell(1, 1), document.title)
    contents.cell(1, 1).font = Font(bold=True, size=14)
    for row, (label, value) in enumerate(document.facts, start=3):
        set_text(contents.cell(row, 1), label)
        set_text(contents.cell(row, 2), value)
    start = len(document.facts) + 4
    set_text(contents.cell(start, 1), document.labels["contents"])
    contents.cell(start, 1).font = Font(bold=True)
    for offset, table in enumerate(document.tables(), start=1):
        name = sheet_name(table.number, table.short_title or table.title, taken)
        sheet = workbook.create_sheet(name)
        _link(contents.cell(start + offset, 1), f"{document.labels['table']} {table.number}", name)
        set_text(contents.cell(start + offset, 2), table.title)
        _table_sheet(sheet, table, document.labels)
        _link(sheet.cell(2, 1), document.labels["back"], contents.title)
    contents.column_dimensions["A"].width = max(
        [12, *(len(label) + 2 for label, _value in document.facts)]
    )
    contents.column_dimensions["B"].width = 60
    workbook.properties.creator = "LoyaltyLab"
    workbook.properties.created = workbook.properties.modified = document.created.replace(
        tzinfo=None
    )
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _table_sheet(sheet: Worksheet, table: Table, labels: dict[str, str]) -> None:
    """The table's title, a link back (row 2, set by the caller), header and rows, then the note."""
    set_text(sheet.cell(1, 1), f"{labels['table']} {table.number}. {table.title}")
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
        sheet.column_dimensions[get_column_letter(column_index)].width = min(max(width + 2, 8), 60)
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
        set_text(sheet.cell(note_row, 1), f"{labels['note']} {table.note}")
        sheet.cell(note_row, 1).font = Font(italic=True, size=9)
    sheet.freeze_panes = "B4"
