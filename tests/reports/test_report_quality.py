"""What a client reads in the report: response rates, plain-language summary, layout of the PDF
and Word pages, Excel sheets and the SPSS file, checked by opening what is produced."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from matplotlib.text import Text

from reports import charts
from reports.build import Fieldwork, ReportRequest, build_report
from reports.document import ReportDocument, Table
from reports.exports import NOT_APPLICABLE_CODE, write_sav
from reports.render import render
from reports.run import analyse
from reports.text import text_width
from reports.word import CELL_PADDING_CM, CHARACTER_CM, column_widths
from surveys.definition import QuestionnaireDefinition
from tests.reports.test_reports import DATA, MODEL, _definition
from tests.reports.test_reports import _request as report_request

LONG_CATEGORIES = [
    "1 Strongly disagree",
    "2 Disagree",
    "3 Somewhat disagree",
    "4 Neither agree nor disagree",
    "5 Somewhat agree",
    "6 Agree",
    "7 Strongly agree",
]
LONG_LABEL = (
    "loy4 I would stay with Contoso even if a competitor offered me a similar deal at a "
    "noticeably lower price"
)
TIER_LABELS = {"gold": "Gold card holders", "silver": "Silver card holders", "bronze": "Bronze"}


def _definition_with_tiers() -> QuestionnaireDefinition:
    """The report tests' questionnaire plus the customer tier as a dropdown question."""
    data = _definition().model_dump()
    data["sections"][0]["items"].append(
        {
            "type": "dropdown",
            "code": "tier",
            "label": {"en": "Card", "zh-CN": "会员卡"},
            "options": [
                {"value": code, "label": {"en": label, "zh-CN": f"{label}(中文)"}}
                for code, label in TIER_LABELS.items()
            ],
        }
    )
    return QuestionnaireDefinition.model_validate(data)


def _request(language: str = "en", **changes: object) -> ReportRequest:
    """The report tests' request with the demo's fieldwork and the tiers' labels."""
    fieldwork = Fieldwork(
        invitations=300, invited_completes=240, public_completes=360, responses=630, completes=600
    )
    request = replace(
        report_request(language),
        study="Acme loyalty tracker",
        client="",
        fieldwork=fieldwork,
        definition=_definition_with_tiers(),
    )
    return replace(request, **changes)


@pytest.fixture(scope="module")
def data() -> pd.DataFrame:
    return pd.read_csv(DATA)


@pytest.fixture(scope="module")
def result(data: pd.DataFrame) -> dict:
    return analyse(data, _request())


@pytest.fixture(scope="module")
def document(data: pd.DataFrame, result: dict) -> ReportDocument:
    return build_report(data, result, _request())


def _table(document: ReportDocument, key: str) -> Table:
    return next(table for table in document.tables() if table.key == key)


def _summary(document: ReportDocument) -> list[str]:
    return [block.text for block in document.sections[0].blocks]


# --- response rate ----------------------------------------------------------------------------


def test_the_response_rate_is_personal_completes_over_invitations_never_above_100() -> None:
    # The demo: 300 invited, 240 answered their link, 360 answered the public link.
    fieldwork = _request().fieldwork
    assert fieldwork.response_rate == pytest.approx(80.0)
    assert Fieldwork(invitations=300, completes=600).response_rate is None


def test_the_fieldwork_table_reports_public_link_completes_apart(document) -> None:
    rows = dict(_table(document, "fieldwork").formatted_rows())
    assert rows["Personal invitations sent"] == "300"
    assert rows["Completed through personal invitations"] == "240"
    assert rows["Response rate of the invitations (%)"] == "80.0"
    assert rows["Completed through the public link"] == "360"
    assert rows["Complete responses in all"] == "600"


# --- the executive summary --------------------------------------------------------------------


def test_the_summary_names_indirect_and_total_effects_in_words(document) -> None:
    summary = _summary(document)
    indirect = next(text for text in summary if text.startswith("Indirect effect"))
    assert indirect.startswith(
        "Indirect effect of Satisfaction on Loyalty through Perceived value: "
    )
    assert any(text.startswith("Total effect of Satisfaction on Loyalty: ") for text in summary)
    for text in summary:
        assert ":=" not in text and "a*b" not in text and "ind =" not in text
    # The table keeps the lavaan definition beside the words, for researchers.
    assert _table(document, "indirect").formatted_rows()[0][:2] == [
        "Indirect effect of Satisfaction on Loyalty through Perceived value",
        "ind := a*b",
    ]


def test_the_top_box_facets_leave_out_reverse_worded_items(document) -> None:
    topbox = next(text for text in _summary(document) if "(top-two box)" in text)
    assert "“Service” " in topbox
    assert "Fell short" not in topbox  # sat4, reverse-worded


def test_segments_are_named_by_their_labels(document) -> None:
    by_tier = next(text for text in _summary(document) if text.startswith("By tier: "))
    assert "highest for Gold card holders" in by_tier and "lowest for Bronze" in by_tier
    assert "gold" not in by_tier
    assert [c.header for c in _table(document, "group").columns][1:4] == [
        "Bronze",
        "Gold card holders",
        "Silver card holders",
    ]
    waves = next(text for text in _summary(document) if text.startswith("From wave 1 to wave 3"))
    assert "Loyalty rose from" in waves


def test_a_chinese_summary_uses_the_chinese_labels(data, result) -> None:
    document = build_report(data, result, _request("zh"))
    summary = "\n".join(_summary(document))
    assert "满意度经由感知价值对忠诚度的间接效应" in summary
    assert "Gold card holders(中文)" in summary and "gold" not in summary


@pytest.mark.parametrize(
    ("model_lines", "expected"),
    [
        (["ind := a*b"], "Indirect effect of Satisfaction on Loyalty through Perceived value"),
        (["total := c + a*b"], "Total effect of Satisfaction on Loyalty"),
        (["direct := c"], "Direct effect of Satisfaction on Loyalty"),
        (["contrast := a - b"], "Defined effect contrast"),
        (["odd := a*c"], "Defined effect odd"),
    ],
)
def test_defined_parameters_in_words(
    data: pd.DataFrame, model_lines: list[str], expected: str
) -> None:
    model = "\n".join(
        [line for line in MODEL.strip().splitlines() if ":=" not in line] + model_lines
    )
    request = ReportRequest(model=model, reverse=("sat4",))
    document = build_report(data, analyse(data, request), request)
    assert _table(document, "indirect").formatted_rows()[0][0] == expected


# --- charts: nothing cut off --------------------------------------------------------------------


def _texts_outside(figure) -> list[str]:
    """What is drawn (labels, ticks, legend entries) past the figure's edges, in inches."""
    drawn = figure.get_tightbbox(figure.canvas.get_renderer())
    width, height = figure.get_size_inches()
    inside = drawn.x0 >= -0.01 and drawn.y0 >= -0.01
    inside = inside and drawn.x1 <= width + 0.01 and drawn.y1 <= height + 0.01
    return [] if inside else [f"drawn over {drawn.bounds}, figure {width} x {height}"]


def _shown(figure) -> set[str]:
    """Every text drawn, with its line breaks as spaces."""
    return {" ".join(t.get_text().split()) for t in figure.findobj(Text) if t.get_visible()}


@pytest.mark.parametrize("language_sample", ["latin", "chinese"])
def test_distribution_chart_wraps_labels_and_legend_instead_of_cutting(
    language_sample: str,
) -> None:
    labels = [LONG_LABEL, "sat1 Overall satisfied"]
    categories = LONG_CATEGORIES
    if language_sample == "chinese":
        labels = [
            "loy4 即使竞争对手以明显更低的价格提供类似的服务,我也会继续选择这家公司",
            "sat1 满意",
        ]
        categories = [f"{i} 非常非常不同意的回答选项" for i in range(1, 8)]
    shares = np.full((2, 7), 100 / 7)
    figure = charts.distribution_chart(labels, shares, categories)
    assert _texts_outside(figure) == []
    shown = _shown(figure)
    assert not any("…" in text for text in shown)
    if language_sample == "latin":
        assert {LONG_LABEL, *LONG_CATEGORIES} <= shown
    else:
        joined = "".join(text.replace(" ", "") for text in shown)
        assert labels[0].replace(" ", "") in joined


def test_ipa_and_trend_charts_keep_long_names_whole() -> None:
    long = "Customer satisfaction with the after-sales service"
    ipa = charts.ipa_chart(
        [long, "Perceived value"],
        [0.66, 0.40],
        [70.0, 68.8],
        ("Importance", "Performance"),
        {key: key for key in charts.IPA_QUADRANTS},
    )
    assert _texts_outside(ipa) == [] and long in _shown(ipa)
    trend = charts.trend_chart(["2026-Q2", "2026-Q3"], {long: [69.1, 70.8]}, "Index")
    assert _texts_outside(trend) == [] and f"{long} (71)" in _shown(trend)
    # The whole index scale, as the dashboard draws it: a change of 2 points looks like one.
    assert trend.axes[0].get_ylim() == (0, 100)


# --- PDF: whole words, one body size ------------------------------------------------------------


def _split(text: str) -> list[str]:
    """Words as compared: no-break spaces count as spaces (pdftotext prints them so), case
    ignored (the cover's kicker is upper-cased), bidirectional marks dropped."""
    text = re.sub("[\u202a-\u202e]", "", text.replace("\u00a0", " ").lower())
    return [word for word in re.split(r"\s+", text) if word]


def _words(document: ReportDocument) -> set[str]:
    """Every word the document holds."""
    texts = [document.title, document.subtitle, *document.labels.values()]
    texts += [text for fact in document.facts for text in fact]
    for number, section in enumerate(document.sections, start=1):
        texts += [f"{number}. {section.title}"]
        for block in section.blocks:
            texts += [getattr(block, "text", ""), getattr(block, "title", "")]
            texts += [getattr(block, "note", "")]
            if isinstance(block, Table):
                texts += [column.header for column in block.columns]
                texts += [cell for row in block.formatted_rows() for cell in row]
    return {word for text in texts for word in _split(text)}


def test_no_word_is_broken_across_lines_in_the_pdf(document, tmp_path: Path) -> None:
    path = tmp_path / "report.pdf"
    path.write_bytes(render(document, "pdf"))
    text = subprocess.run(
        ["pdftotext", "-raw", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    known = _words(document)
    # A line may end after a word's own hyphen ("full-" + "information"): typeset that way, the
    # pieces rejoin into a word the document holds.
    text = re.sub(r"(?<=\w)-\n(?=\w)", "-", text)
    # A word broken inside ("acceptabl" + "e", "." + "001") leaves pieces the document lacks.
    broken = [
        word
        for word in _split(text)
        if word not in known and not re.fullmatch(r"[\d.…•]+", word)  # pages, leaders, bullets
    ]
    assert broken == []


@pytest.mark.browser
def test_the_report_body_has_one_font_size(chromium, document) -> None:
    page = chromium.new_page()
    page.set_content(render(document, "html").decode("utf-8"))
    page.emulate_media(media="print")
    sizes = page.evaluate(
        """() => [...document.querySelectorAll('.chapter > p, .chapter li')]
                 .map(element => getComputedStyle(element).fontSize)"""
    )
    page.close()
    assert len(sizes) > 20 and set(sizes) == {sizes[0]}


# --- Word -----------------------------------------------------------------------------------------


def test_word_has_contents_running_header_and_page_numbers(document) -> None:
    import docx
    from docx.oxml.ns import qn

    word = docx.Document(io.BytesIO(render(document, "docx")))
    body = word.element.body
    bookmarks = {element.get(qn("w:name")) for element in body.iter(qn("w:bookmarkStart"))}
    references = [
        element.text.split()[1]
        for element in body.iter(qn("w:instrText"))
        if element.text.strip().startswith("PAGEREF")
    ]
    assert len(references) == len(document.sections) and set(references) <= bookmarks
    contents = [p.text for p in word.paragraphs if p.text.startswith("1. ")]
    assert contents[0].startswith("1. Executive summary\t")
    first, *chapters = word.sections
    assert first.different_first_page_header_footer  # the title page goes without
    assert len(chapters) == len(document.sections)
    for index, section in enumerate(word.sections):
        assert section.different_first_page_header_footer == (index == 0)
        assert section.header.paragraphs[0].text == "Acme loyalty tracker · Research report"
        footer = section.footer.paragraphs[0]._p
        assert any(t.text.strip() == "PAGE" for t in footer.iter(qn("w:instrText")))


def test_word_columns_fit_their_longest_word_and_number() -> None:
    cells = [
        ["Construct", "Item", "Wording", "B", "p", "Verdict"],
        ["Customer satisfaction", "sat5\u00a0(R)", "My experience fell " * 5, "0.820", "< .001",
         "acceptable"],
    ]  # fmt: skip
    widths = column_widths(cells, [True, True, True, False, False, True])
    assert sum(widths) == pytest.approx(16.6)
    assert widths[2] == max(widths)  # the wording takes what is left
    # Room for "satisfaction", "sat5 (R)" (a no-break space), "< .001" (a number) and
    # "acceptable" on one line each.
    for column, text in ((0, "satisfaction"), (1, "sat5 (R)"), (4, "< .001"), (5, "acceptable")):
        assert widths[column] >= CHARACTER_CM * len(text) + CELL_PADDING_CM


def test_word_columns_of_chinese_wording_leave_the_numbers_whole() -> None:
    # Chinese wording breaks between any two characters: it must not squeeze the numbers.
    header = ["代码", "题项内容", "n", "M", "SD", "偏度", "峰度", "前两项 %"]
    wording = "与付出的金钱、时间和精力相比,我获得的利益更多,而且多得多。"
    row = ["val2", wording, "1,200", "5.15", "1.28", "−0.38", "−0.29", "41.2"]
    widths = column_widths([header, row], [True, True] + [False] * 6)
    for column in range(2, 8):
        needed = max(text_width(header[column]), text_width(row[column]))
        assert widths[column] >= CHARACTER_CM * needed + CELL_PADDING_CM, header[column]


@pytest.mark.skipif(not shutil.which("soffice"), reason="LibreOffice is not installed")
def test_word_pages_as_libreoffice_prints_them(document, tmp_path: Path) -> None:
    source = tmp_path / "report.docx"
    source.write_bytes(render(document, "docx"))
    subprocess.run(
        ["soffice", "--headless", "--convert-to", "pdf", "--outdir", str(tmp_path), str(source)],
        check=True,
        capture_output=True,
        timeout=180,
        env={"HOME": str(tmp_path), "PATH": "/usr/bin:/bin"},
    )
    text = subprocess.run(
        ["pdftotext", "-layout", str(tmp_path / "report.pdf"), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    pages = text.split("\f")
    # Contents with page numbers; the study in the header from page 2 on.
    assert re.search(r"1\. Executive summary\.+ ?3", pages[1])
    assert all("Acme loyalty tracker · Research report" in page for page in pages[1:-1] if page)
    assert "Acme loyalty tracker · Research report" not in pages[0]


# --- Excel ----------------------------------------------------------------------------------------


def test_excel_sheets_have_readable_names_and_a_contents_sheet(document) -> None:
    from openpyxl import load_workbook

    workbook = load_workbook(io.BytesIO(render(document, "xlsx")))
    contents, *sheets = workbook.worksheets
    assert contents.title == "Contents"
    tables = document.tables()
    assert [sheet.title for sheet in sheets] == [f"{t.number} {t.short_title}" for t in tables]
    assert all(len(sheet.title) <= 31 for sheet in sheets)
    reliability, by_tier = _table(document, "reliability").number, _table(document, "group").number
    assert f"{reliability} Reliability" in workbook.sheetnames
    assert f"{by_tier} By tier" in workbook.sheetnames
    links = [cell.hyperlink.location for row in contents.iter_rows() for cell in row if
             cell.hyperlink]  # fmt: skip
    assert links == [f"'{sheet.title}'!A1" for sheet in sheets]
    for sheet in sheets:
        assert sheet["A2"].hyperlink.location == "'Contents'!A1"


def test_long_sheet_names_are_cut_at_a_word() -> None:
    from reports.workbook import sheet_name

    taken: set[str] = set()
    name = sheet_name(12, "Importance–performance of the drivers of customer loyalty", taken)
    assert name == "12 Importance–performance of"
    assert sheet_name(12, "Importance–performance of the drivers", taken).endswith(" (2)")


# --- SPSS -----------------------------------------------------------------------------------------


def test_spss_file_has_labels_levels_dates_and_nps_anchors(tmp_path: Path) -> None:
    import pyreadstat

    definition = _definition_with_tiers().model_dump()
    matrix = definition["sections"][0]["items"][0]
    matrix["scale"]["not_applicable"] = {"en": "Does not apply", "zh-CN": "不适用"}
    definition = QuestionnaireDefinition.model_validate(definition)
    export = pd.DataFrame(
        {
            "response_id": [1, 2, 3, 4],
            "wave": ["2026-Q2", "2026-Q2", "2026-Q3", "2026-Q3"],
            "channel": ["invitation", "web", "web", "invitation"],
            "contact": ["a1b2", None, None, "c3d4"],
            "excluded": [False, False, True, False],
            "started_at": ["2026-04-11T03:14:50Z"] * 3 + [None],
            "sat1": ["5", "na", "7", None],
            "ltr": [9, 3, 10, 0],
            "tier": ["gold", "bronze", None, "silver"],
            "contact_region": ["north", "south", None, "north"],
            "improve": ["Faster tills", "", None, "More parking"],
        }
    )
    path = tmp_path / "data.sav"
    write_sav(
        export,
        path,
        definition=definition,
        language="en",
        categories=("wave", "channel", "contact_region"),
    )
    frame, meta = pyreadstat.read_sav(str(path), user_missing=True)
    labels, levels = meta.variable_value_labels, meta.variable_measure
    assert labels["tier"] == {1.0: "Gold card holders", 2.0: "Silver card holders", 3.0: "Bronze"}
    assert frame["tier"].map(labels["tier"]).fillna("").tolist() == [
        "Gold card holders", "Bronze", "", "Silver card holders",
    ]  # fmt: skip
    regions = frame["contact_region"].map(labels["contact_region"]).fillna("")
    assert regions.tolist() == ["north", "south", "", "north"]
    assert frame["wave"].map(labels["wave"]).tolist() == export["wave"].tolist()
    assert labels["excluded"] == {0.0: "No", 1.0: "Yes"}
    assert labels["ltr"] == {0.0: "Not at all likely", 10.0: "Extremely likely"}
    assert labels["sat1"][NOT_APPLICABLE_CODE] == "Does not apply"
    assert meta.missing_ranges["sat1"] == [{"lo": NOT_APPLICABLE_CODE, "hi": NOT_APPLICABLE_CODE}]
    assert frame["sat1"].tolist()[:3] == [5.0, NOT_APPLICABLE_CODE, 7.0]
    assert (levels["sat1"], levels["ltr"], levels["tier"], levels["contact_region"]) == (
        "ordinal", "scale", "nominal", "nominal",
    )  # fmt: skip
    assert levels["response_id"] == "nominal" and levels["started_at"] == "scale"
    assert meta.original_variable_types["started_at"] == "DATETIME20"
    assert frame["started_at"][0] == pd.Timestamp("2026-04-11 03:14:50")
    assert meta.original_variable_types["sat1"] == "F2.0"
    assert meta.original_variable_types["improve"].startswith("A")
    assert frame["improve"].tolist()[0] == "Faster tills"
