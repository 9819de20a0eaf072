"""The language-neutral report model: sections of headings, paragraphs, tables and figures.

A :class:`ReportDocument` is built once from the analysis results (:mod:`reports.build`) with
every string already translated, then handed to one renderer per format. Table cells keep
their numeric values plus a column format, so HTML/PDF/DOCX print APA-style numbers while the
XLSX workbook stores real numbers.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

CellFormat = Literal["text", "int", "dec1", "dec2", "dec3", "coef", "coef3", "p", "pct"]
"""How a column prints: ``coef``/``coef3``/``p`` drop the leading zero (APA, values bounded by
1), ``p`` prints ``< .001`` below .001, ``pct`` one decimal."""

# Characters XML 1.0 forbids (DOCX/XLSX refuse them); everything else, including emoji and
# right-to-left text, is kept as it is.
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def xml_safe(text: str) -> str:
    """``text`` without the control characters XML cannot carry."""
    return _XML_ILLEGAL.sub("", text)


def _decimal(value: float, places: int, *, leading_zero: bool) -> str:
    text = f"{value:.{places}f}"
    if not leading_zero:
        text = text.replace("0.", ".", 1)
    return text.replace("-", "\u2212", 1)


def format_number(value: object, fmt: CellFormat) -> str:
    """A cell as printed in the report (en dash for missing values)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "\u2013"
    if fmt == "text" or isinstance(value, str):
        return str(value)
    number = float(value)  # type: ignore[arg-type]
    if fmt == "int":
        return f"{number:,.0f}"
    if fmt == "p":
        return "< .001" if number < 0.001 else _decimal(number, 3, leading_zero=False)
    if fmt in ("coef", "coef3"):
        return _decimal(number, 2 if fmt == "coef" else 3, leading_zero=False)
    if fmt == "pct":
        return _decimal(number, 1, leading_zero=True)
    return _decimal(number, {"dec1": 1, "dec2": 2, "dec3": 3}[fmt], leading_zero=True)


def stars(pvalue: float | None) -> str:
    """``*`` p < .05, ``**`` p < .01, ``***`` p < .001."""
    if pvalue is None or math.isnan(pvalue):
        return ""
    return "***" if pvalue < 0.001 else "**" if pvalue < 0.01 else "*" if pvalue < 0.05 else ""


@dataclass(frozen=True)
class Column:
    header: str
    fmt: CellFormat = "text"


@dataclass
class Table:
    """An APA table: numbered title above, notes below."""

    key: str
    title: str
    columns: list[Column]
    rows: list[list[object]]
    note: str = ""
    number: int = 0
    short_title: str = ""
    """A few words for a spreadsheet tab (Excel allows 31 characters with the number)."""

    def without_empty_text_columns(self) -> Table:
        """Drop text columns with no content (e.g. item wording when no questionnaire is known)."""
        keep = [
            i
            for i, column in enumerate(self.columns)
            if column.fmt != "text" or any(row[i] not in ("", None) for row in self.rows)
        ]
        self.columns = [self.columns[i] for i in keep]
        self.rows = [[row[i] for i in keep] for row in self.rows]
        return self

    def formatted_rows(self) -> list[list[str]]:
        return [
            [
                format_number(value, column.fmt)
                for value, column in zip(row, self.columns, strict=True)
            ]
            for row in self.rows
        ]


@dataclass
class Figure:
    key: str
    title: str
    png: bytes
    width_cm: float = 16.0
    note: str = ""
    number: int = 0


@dataclass
class Paragraph:
    text: str
    style: Literal["body", "lead", "bullet", "note", "code"] = "body"


Block = Paragraph | Table | Figure


@dataclass
class Section:
    key: str
    title: str
    blocks: list[Block] = field(default_factory=list)


@dataclass
class ReportDocument:
    language: str
    title: str
    subtitle: str
    facts: list[tuple[str, str]]
    """Title-page facts (label, value): client, waves, dates, sample."""
    sections: list[Section]
    created: datetime
    labels: dict[str, str] = field(default_factory=dict)
    """Translated renderer words (``table``, ``figure``, ``note``, ``contents``, ``page``,
    ``back``)."""

    def tables(self) -> list[Table]:
        return [b for s in self.sections for b in s.blocks if isinstance(b, Table)]

    def figures(self) -> list[Figure]:
        return [b for s in self.sections for b in s.blocks if isinstance(b, Figure)]

    def number_blocks(self) -> None:
        """Number tables and figures in reading order (APA: Table 1, Figure 1)."""
        for number, table in enumerate(self.tables(), start=1):
            table.number = number
        for number, figure in enumerate(self.figures(), start=1):
            figure.number = number
