"""DOCX rendering with python-docx: real Word tables (APA rules) and embedded PNG charts."""

from __future__ import annotations

import io

from docx import Document
from docx.enum.section import WD_SECTION
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt, RGBColor

from reports.document import Figure, Paragraph, ReportDocument, Table, xml_safe
from reports.fonts import CJK_FAMILY

LATIN_FONT = "Calibri"
ACCENT = RGBColor(0x1D, 0x4E, 0x89)
MUTED = RGBColor(0x6B, 0x72, 0x80)


def _set_fonts(style_element, size: float | None = None) -> None:
    """Latin text in Calibri, East-Asian text in Noto Sans CJK SC (Word picks per script)."""
    font = style_element.font
    font.name = LATIN_FONT
    if size is not None:
        font.size = Pt(size)
    properties = style_element.element.get_or_add_rPr()
    fonts = properties.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        properties.append(fonts)
    fonts.set(qn("w:eastAsia"), CJK_FAMILY)
    fonts.set(qn("w:ascii"), LATIN_FONT)
    fonts.set(qn("w:hAnsi"), LATIN_FONT)


def _border(cell, edges: dict[str, int]) -> None:
    """Set top/bottom borders of a cell (eighths of a point); APA tables have no vertical rules."""
    properties = cell._tc.get_or_add_tcPr()
    borders = properties.find(qn("w:tcBorders"))
    if borders is None:
        borders = OxmlElement("w:tcBorders")
        properties.append(borders)
    for edge, size in edges.items():
        element = OxmlElement(f"w:{edge}")
        element.set(qn("w:val"), "single")
        element.set(qn("w:sz"), str(size))
        element.set(qn("w:color"), "1F2A37")
        borders.append(element)


def _caption(document, number_label: str, title: str) -> None:
    paragraph = document.add_paragraph()
    paragraph.paragraph_format.space_before = Pt(10)
    paragraph.paragraph_format.space_after = Pt(0)
    paragraph.paragraph_format.keep_with_next = True
    paragraph.add_run(xml_safe(number_label)).bold = True
    paragraph = document.add_paragraph()
    paragraph.paragraph_format.keep_with_next = True
    paragraph.paragraph_format.space_after = Pt(4)
    paragraph.add_run(xml_safe(title)).italic = True


def _note(document, label: str, text: str) -> None:
    if not text:
        return
    paragraph = document.add_paragraph()
    paragraph.paragraph_format.space_after = Pt(8)
    run = paragraph.add_run(xml_safe(label) + " ")
    run.italic = True
    run.font.size = Pt(8)
    paragraph.add_run(xml_safe(text)).font.size = Pt(8)


def _table(document, table: Table, labels: dict[str, str]) -> None:
    _caption(document, f"{labels['table']} {table.number}", table.title)
    rows = table.formatted_rows()
    word_table = document.add_table(rows=len(rows) + 1, cols=len(table.columns))
    word_table.alignment = WD_TABLE_ALIGNMENT.CENTER
    last = len(rows)
    for row_index, values in enumerate([[c.header for c in table.columns], *rows]):
        for column_index, value in enumerate(values):
            cell = word_table.cell(row_index, column_index)
            paragraph = cell.paragraphs[0]
            paragraph.paragraph_format.space_after = Pt(0)
            numeric = table.columns[column_index].fmt != "text"
            if numeric:
                paragraph.alignment = WD_ALIGN_PARAGRAPH.RIGHT
            run = paragraph.add_run(xml_safe(value))
            run.font.size = Pt(8.5)
            run.bold = row_index == 0
            edges: dict[str, int] = {}
            if row_index == 0:
                edges = {"top": 8, "bottom": 6}
            if row_index == last:
                edges["bottom"] = 8
            if edges:
                _border(cell, edges)
    header = word_table.rows[0]._tr.get_or_add_trPr()
    repeat = OxmlElement("w:tblHeader")
    repeat.set(qn("w:val"), "true")
    header.append(repeat)
    _note(document, labels["note"], table.note)


def _figure(document, figure: Figure, labels: dict[str, str]) -> None:
    _caption(document, f"{labels['figure']} {figure.number}", figure.title)
    document.add_picture(io.BytesIO(figure.png), width=Cm(min(figure.width_cm, 16)))
    _note(document, labels["note"], figure.note)


def _paragraph(document, block: Paragraph) -> None:
    if block.style == "bullet":
        document.add_paragraph(xml_safe(block.text), style="List Bullet")
        return
    paragraph = document.add_paragraph()
    run = paragraph.add_run(xml_safe(block.text))
    if block.style == "lead":
        run.bold = True
    elif block.style == "note":
        run.font.size = Pt(8.5)
        run.font.color.rgb = MUTED
    elif block.style == "code":
        run.font.name = "Consolas"
        run.font.size = Pt(8.5)


def render_docx(document: ReportDocument) -> bytes:
    """An editable Word document: title page, one heading per section, tables and charts."""
    word = Document()
    properties = word.core_properties
    properties.title = xml_safe(document.title)
    properties.author = "LoyaltyLab"
    properties.language = "zh-CN" if document.language == "zh" else "en"
    properties.created = properties.modified = document.created.replace(tzinfo=None)
    properties.last_modified_by = "LoyaltyLab"
    properties.revision = 1
    _set_fonts(word.styles["Normal"], 10)
    for name, size in (("Title", 26), ("Heading 1", 15), ("List Bullet", 10)):
        _set_fonts(word.styles[name], size)
        if name != "List Bullet":
            word.styles[name].font.color.rgb = ACCENT
    section = word.sections[0]
    section.page_height, section.page_width = Cm(29.7), Cm(21.0)
    section.left_margin = section.right_margin = Cm(2.2)

    kicker = word.add_paragraph()
    kicker.paragraph_format.space_before = Pt(120)
    run = kicker.add_run(xml_safe(document.subtitle).upper())
    run.font.color.rgb = MUTED
    word.add_paragraph(xml_safe(document.title), style="Title")
    facts = word.add_table(rows=len(document.facts), cols=2)
    for row, (label, value) in zip(facts.rows, document.facts, strict=True):
        row.cells[0].paragraphs[0].add_run(xml_safe(label)).font.color.rgb = MUTED
        row.cells[1].paragraphs[0].add_run(xml_safe(value))
    word.add_paragraph().add_run().add_break(WD_BREAK.PAGE)

    for number, chapter in enumerate(document.sections, start=1):
        if number > 1:
            word.add_section(WD_SECTION.NEW_PAGE)
        word.add_heading(xml_safe(f"{number}. {chapter.title}"), level=1)
        for block in chapter.blocks:
            if isinstance(block, Table):
                _table(word, block, document.labels)
            elif isinstance(block, Figure):
                _figure(word, block, document.labels)
            else:
                _paragraph(word, block)
    buffer = io.BytesIO()
    word.save(buffer)
    return buffer.getvalue()
