"""DOCX rendering with python-docx: real Word tables (APA rules) and embedded PNG charts, a
table of contents, the study in the running header and page numbers in the footer."""

from __future__ import annotations

import io

from docx import Document
from docx.enum.section import WD_SECTION
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK, WD_TAB_ALIGNMENT, WD_TAB_LEADER
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt, RGBColor

from reports.document import Figure, Paragraph, ReportDocument, Table, xml_safe
from reports.fonts import CJK_FAMILY
from reports.text import longest_word, text_width

LATIN_FONT = "Calibri"
ACCENT = RGBColor(0x1D, 0x4E, 0x89)
MUTED = RGBColor(0x6B, 0x72, 0x80)
BODY_PT, TABLE_PT = 10, 8.5
PAGE_WIDTH_CM, MARGIN_CM = 21.0, 2.2
TEXT_WIDTH_CM = PAGE_WIDTH_CM - 2 * MARGIN_CM
# A little over the width of an average bold letter of 8.5-point Calibri, and a cell's left and
# right padding together.
CHARACTER_CM, CELL_PADDING_CM = 0.19, 0.45
SHORT_LABEL = 12
"""Letters (a CJK character counts two) of a text cell short enough never to wrap."""


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


def column_widths(
    cells: list[list[str]], wrapping: list[bool], total_cm: float = TEXT_WIDTH_CM
) -> list[float]:
    """Column widths (cm) for a table of ``cells`` (header row first) across ``total_cm``.

    A column that may wrap (``wrapping``: text) is at least as wide as its longest word (and
    a short label, such as a Chinese construct name, keeps its line) and the others as their
    longest cell, so no word or number breaks inside a cell; the width left over goes to the
    columns with longer text (the item wording), in proportion to what they would need on one
    line. Tables span the text width, as in the PDF.
    """
    columns = list(zip(*cells, strict=True))
    longest = [max(text_width(text) for text in column) for column in columns]
    shortest = [
        max(max(longest_word(text) for text in column), min(widest, SHORT_LABEL))
        if wraps
        else widest
        for column, wraps, widest in zip(columns, wrapping, longest, strict=True)
    ]
    minimum = [CHARACTER_CM * width + CELL_PADDING_CM for width in shortest]
    wanted = [CHARACTER_CM * width + CELL_PADDING_CM for width in longest]
    if sum(minimum) >= total_cm:
        return [total_cm * width / sum(minimum) for width in minimum]
    if sum(wanted) <= total_cm:
        return [total_cm * width / sum(wanted) for width in wanted]
    spare = total_cm - sum(minimum)
    extra = [want - least for want, least in zip(wanted, minimum, strict=True)]
    return [least + spare * more / sum(extra) for least, more in zip(minimum, extra, strict=True)]


def _table(document, table: Table, labels: dict[str, str]) -> None:
    _caption(document, f"{labels['table']} {table.number}", table.title)
    rows = table.formatted_rows()
    cells = [[c.header for c in table.columns], *rows]
    word_table = document.add_table(rows=len(rows) + 1, cols=len(table.columns))
    word_table.alignment = WD_TABLE_ALIGNMENT.CENTER
    word_table.autofit = False
    wrapping = [column.fmt == "text" for column in table.columns]
    widths = [Cm(width) for width in column_widths(cells, wrapping)]
    for column, width in zip(word_table.columns, widths, strict=True):
        column.width = width
    last = len(rows)
    for row_index, values in enumerate(cells):
        for column_index, value in enumerate(values):
            cell = word_table.cell(row_index, column_index)
            cell.width = widths[column_index]
            paragraph = cell.paragraphs[0]
            paragraph.paragraph_format.space_after = Pt(0)
            numeric = table.columns[column_index].fmt != "text"
            if numeric:
                paragraph.alignment = WD_ALIGN_PARAGRAPH.RIGHT
            run = paragraph.add_run(xml_safe(value))
            run.font.size = Pt(TABLE_PT)
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
        run.font.color.rgb = MUTED
    elif block.style == "code":
        run.font.name = "Consolas"
        run.font.size = Pt(8.5)


def _field(paragraph, instruction: str, shown: str = "") -> None:
    """A Word field (``PAGE``, ``PAGEREF``...) showing ``shown`` until it is computed."""
    for kind in ("begin", "instr", "separate"):
        if kind == "instr":
            element = OxmlElement("w:instrText")
            element.set(qn("xml:space"), "preserve")
            element.text = f" {instruction} "
        else:
            element = OxmlElement("w:fldChar")
            element.set(qn("w:fldCharType"), kind)
        paragraph.add_run()._r.append(element)
    if shown:
        paragraph.add_run(shown)
    end = OxmlElement("w:fldChar")
    end.set(qn("w:fldCharType"), "end")
    paragraph.add_run()._r.append(end)


def _bookmark(paragraph, number: int, name: str) -> None:
    start = OxmlElement("w:bookmarkStart")
    start.set(qn("w:id"), str(number))
    start.set(qn("w:name"), name)
    end = OxmlElement("w:bookmarkEnd")
    end.set(qn("w:id"), str(number))
    paragraph._p.insert(0, start)
    paragraph._p.append(end)


def _contents(word, document: ReportDocument) -> None:
    """The table of contents: each chapter with its page number, a PAGEREF field to a bookmark
    on the chapter's heading, which LibreOffice computes as it lays the pages out and Word
    when it opens the file (``updateFields``)."""
    heading = word.add_paragraph(xml_safe(document.labels["contents"]), style="TOC Heading")
    heading.paragraph_format.space_after = Pt(12)
    for number, chapter in enumerate(document.sections, start=1):
        entry = word.add_paragraph()
        entry.paragraph_format.tab_stops.add_tab_stop(
            Cm(TEXT_WIDTH_CM), WD_TAB_ALIGNMENT.RIGHT, WD_TAB_LEADER.DOTS
        )
        entry.paragraph_format.space_after = Pt(4)
        entry.add_run(xml_safe(f"{number}. {chapter.title}") + "\t")
        _field(entry, f"PAGEREF {_bookmark_name(number)} \\h")
    update = OxmlElement("w:updateFields")
    update.set(qn("w:val"), "true")
    word.settings.element.append(update)


def _bookmark_name(number: int) -> str:
    return f"_Toc_chapter_{number}"


def _running_texts(section, document: ReportDocument) -> None:
    """The study and report kind in the header, the page number in the footer; not on the
    title page."""
    section.different_first_page_header_footer = True
    header = section.header.paragraphs[0]
    header.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    run = header.add_run(xml_safe(f"{document.title} · {document.subtitle}"))
    run.font.size = Pt(8)
    run.font.color.rgb = MUTED
    footer = section.footer.paragraphs[0]
    footer.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _field(footer, "PAGE", "1")
    for run in footer.runs:
        run.font.size = Pt(8)
        run.font.color.rgb = MUTED


def render_docx(document: ReportDocument) -> bytes:
    """An editable Word document: title page, contents, one heading per section, tables and
    charts, the study in the running header and page numbers in the footer."""
    word = Document()
    properties = word.core_properties
    properties.title = xml_safe(document.title)
    properties.author = "LoyaltyLab"
    properties.language = "zh-CN" if document.language == "zh" else "en"
    properties.created = properties.modified = document.created.replace(tzinfo=None)
    properties.last_modified_by = "LoyaltyLab"
    properties.revision = 1
    _set_fonts(word.styles["Normal"], BODY_PT)
    for name, size in (
        ("Title", 26),
        ("Heading 1", 15),
        ("TOC Heading", 15),
        ("List Bullet", BODY_PT),
    ):
        _set_fonts(word.styles[name], size)
        if name != "List Bullet":
            word.styles[name].font.color.rgb = ACCENT
    section = word.sections[0]
    section.page_height, section.page_width = Cm(29.7), Cm(PAGE_WIDTH_CM)
    section.left_margin = section.right_margin = Cm(MARGIN_CM)
    _running_texts(section, document)

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
    _contents(word, document)

    for number, chapter in enumerate(document.sections, start=1):
        # A new section copies the previous one's settings, the title page's "different
        # first page" too: switched off, so every chapter's first page has the header.
        word.add_section(WD_SECTION.NEW_PAGE).different_first_page_header_footer = False
        heading = word.add_heading(xml_safe(f"{number}. {chapter.title}"), level=1)
        _bookmark(heading, number, _bookmark_name(number))
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
