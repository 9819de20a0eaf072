"""Reports and exports, checked by opening the files produced (PDF, DOCX, XLSX, HTML, SAV, zip)."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from analysis.pipeline import analyze
from reports.build import ReportRequest, build_report
from reports.document import Paragraph, ReportDocument, Table, format_number, stars
from reports.exports import csv_bytes, reproducibility_bundle, write_sav, xlsx_bytes
from reports.render import render
from reports.run import analyse
from tests.reports import simulated
from tests.reports.report_support import (
    DATA,
    EMOJI,
    FORMULA,
    HOSTILE_LABEL,
    MODEL,
    ROOT,
    RTL,
    questionnaire_definition,
    report_request,
)


@pytest.fixture(scope="module")
def data() -> pd.DataFrame:
    return pd.read_csv(DATA)


@pytest.fixture(scope="module")
def result(data: pd.DataFrame) -> dict:
    return analyze(data, **report_request("en").analysis_options()).to_dict()


@pytest.fixture(scope="module")
def artifacts(artifacts_dir: Path) -> Path:
    path = artifacts_dir / "reports"
    path.mkdir(exist_ok=True)
    return path


@pytest.fixture(scope="module")
def reports(data: pd.DataFrame, result: dict, artifacts: Path) -> dict[tuple[str, str], bytes]:
    """One report per format and language, written under ``artifacts``."""
    produced = {}
    for language in ("en", "zh"):
        document = build_report(data, result, report_request(language))
        for fmt in ("html", "pdf", "docx", "xlsx"):
            content = render(document, fmt)
            (artifacts / f"report_{language}.{fmt}").write_bytes(content)
            produced[(language, fmt)] = content
    return produced


def _pdf_text(path: Path) -> str:
    return subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout


def test_chinese_pdf_has_embedded_cjk_font_glyphs_and_pages(reports: dict, artifacts: Path) -> None:
    path = artifacts / "report_zh.pdf"
    text = _pdf_text(path)
    for heading in ("摘要", "信度与效度", "结构模型", "方法附录", "满意度"):
        assert heading in text
    fonts = subprocess.run(
        ["pdffonts", str(path)], capture_output=True, text=True, check=True
    ).stdout
    cjk = [line for line in fonts.splitlines() if "Noto-Sans-CJK-SC" in line]
    assert cjk and all(" yes " in line for line in cjk)  # embedded
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True).stdout
    pages = int(next(line for line in info.splitlines() if line.startswith("Pages:")).split()[1])
    assert pages >= 5
    for old in artifacts.glob("page_zh-*.png"):
        old.unlink()
    subprocess.run(
        ["pdftoppm", "-r", "60", "-png", str(path), str(artifacts / "page_zh")], check=True
    )
    assert len(list(artifacts.glob("page_zh-*.png"))) == pages


def test_pdf_reports_the_analysis_numbers(reports: dict, result: dict, artifacts: Path) -> None:
    text = _pdf_text(artifacts / "report_en.pdf")
    assert f"CFI = {format_number(result['fit']['cfi'], 'coef3')}" in text
    path = next(r for r in result["estimates"] if r["op"] == "~" and r["lhs"] == "VAL")
    assert f"β = {format_number(path['std_all'], 'coef')}" in text
    assert f"{result['nps']['nps']:+.0f}" in text
    assert "Acme <script>" in text  # shown as text, not run


def test_docx_holds_real_tables_and_charts(reports: dict, data: pd.DataFrame, result: dict) -> None:
    import docx

    word = docx.Document(io.BytesIO(reports[("en", "docx")]))
    document = build_report(data, result, report_request("en"))
    # The title page's facts table plus one Word table per report table.
    assert len(word.tables) == len(document.tables()) + 1
    paths = next(t for t in word.tables if t.rows[0].cells[0].text == "Path")
    first = [cell.text for cell in paths.rows[1].cells]
    beta = next(r for r in result["estimates"] if r["op"] == "~")["std_all"]
    assert format_number(beta, "coef3") in first
    assert len(word.inline_shapes) == len(document.figures())
    texts = "\n".join(
        cell.text for table in word.tables for row in table.rows for cell in row.cells
    )
    assert HOSTILE_LABEL in texts and FORMULA in texts


def test_chinese_docx_uses_the_cjk_font(reports: dict) -> None:
    import docx
    from docx.oxml.ns import qn

    word = docx.Document(io.BytesIO(reports[("zh", "docx")]))
    fonts = word.styles["Normal"].element.rPr.find(qn("w:rFonts"))
    assert fonts.get(qn("w:eastAsia")) == "Noto Sans CJK SC"
    assert any("结构路径" in p.text for p in word.paragraphs)


def test_xlsx_has_a_sheet_per_table_with_numbers_and_inert_text(
    reports: dict, data, result
) -> None:
    from openpyxl import load_workbook

    workbook = load_workbook(io.BytesIO(reports[("en", "xlsx")]))
    document = build_report(data, result, report_request("en"))
    assert len(workbook.sheetnames) == len(document.tables()) + 1
    paths = workbook[
        next(name for name in workbook.sheetnames if name.endswith("Structural paths"))
    ]
    beta = next(r for r in result["estimates"] if r["op"] == "~")["std_all"]
    header = [cell.value for cell in paths[3]]
    assert paths.cell(4, header.index("β") + 1).value == pytest.approx(beta)
    items = workbook[next(name for name in workbook.sheetnames if name.endswith(" Items"))]
    cells = [cell for row in items.iter_rows() for cell in row if cell.value == FORMULA]
    assert cells and all(cell.data_type == "s" for cell in cells)


def test_html_escapes_user_text_and_keeps_it_intact(reports: dict) -> None:
    html = reports[("en", "html")].decode("utf-8")
    assert "<script>" not in html
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in html
    assert RTL in html and EMOJI in html
    assert html.count("data:image/png;base64,") >= 5


def _table(document: ReportDocument, key: str) -> Table | None:
    return next((table for table in document.tables() if table.key == key), None)


def test_every_format_shows_measurement_invariance_across_waves_and_segments(
    reports: dict, data: pd.DataFrame, result: dict, artifacts: Path
) -> None:
    from openpyxl import load_workbook

    waves = result["invariance"]["wave"]
    scalar = waves["levels"][2]
    assert waves["highest_level"] == "scalar" and result["invariance"]["tier"]["levels"]
    document = build_report(data, result, report_request("en"))
    table = _table(document, "invariance_wave")
    assert table is not None and table.title == "Measurement invariance across waves"
    assert [column.header for column in table.columns] == [
        "Level", "χ² (df)", "CFI", "ΔCFI", "RMSEA", "Δχ² p", "Holds",
    ]  # fmt: skip
    assert table.formatted_rows()[2] == [
        "Scalar",
        f"{format_number(scalar['chisq'], 'dec2')} ({scalar['df']:.0f})",
        format_number(scalar["cfi"], "coef3"),
        format_number(scalar["delta_cfi"], "coef3"),
        format_number(scalar["rmsea"], "coef3"),
        format_number(scalar["delta_pvalue"], "p"),
        "Yes",
    ]
    assert table.note.startswith("Scalar invariance holds: differences in the indices between")
    assert "Cheung & Rensvold, 2002" in table.note and "(listwise)" in table.note
    assert "wave 1 (n = 187), wave 2 (n = 189), wave 3 (n = 162)" in table.note
    assert _table(document, "invariance_group").title == "Measurement invariance across tier"
    blocks = next(section for section in document.sections if section.key == "groups").blocks
    assert blocks.index(table) == blocks.index(_table(document, "wave")) + 1

    html = reports[("en", "html")].decode("utf-8")
    assert "Measurement invariance across waves" in html and "Scalar invariance holds" in html
    pdf = _pdf_text(artifacts / "report_en.pdf")
    assert "Measurement invariance across waves" in pdf
    assert "Measurement invariance across tier" in pdf
    assert "Cheung & Rensvold" in pdf
    import docx

    word = docx.Document(io.BytesIO(reports[("en", "docx")]))
    levels = [t for t in word.tables if t.rows[0].cells[0].text == "Level"]
    assert len(levels) == 2
    assert [row.cells[0].text for row in levels[1].rows[1:]] == ["Configural", "Metric", "Scalar"]
    workbook = load_workbook(io.BytesIO(reports[("en", "xlsx")]))
    sheet = workbook[
        next(name for name in workbook.sheetnames if name.startswith(f"{table.number} "))
    ]
    header = [cell.value for cell in sheet[3]]
    assert sheet.cell(6, header.index("CFI") + 1).value == pytest.approx(scalar["cfi"])
    assert sheet.cell(6, header.index("Holds") + 1).value == "Yes"
    assert "Scalar invariance holds" in sheet.cell(8, 1).value
    methods = next(section for section in document.sections if section.key == "methods")
    assert any(
        block.text.startswith("Measurement invariance across tier, waves:")
        for block in methods.blocks
        if isinstance(block, Paragraph)
    )
    chinese = _pdf_text(artifacts / "report_zh.pdf")
    assert "各轮次间的测量不变性" in chinese and "按tier分组的测量不变性" in chinese


def _simulated_report(data: pd.DataFrame, language: str = "en") -> ReportDocument:
    request = ReportRequest(model=simulated.MODEL, language=language, wave="wave", group="segment")
    return build_report(data, analyse(data, request), request)


def _invariance_rows(document: ReportDocument, key: str) -> list[list[str]]:
    return _table(document, key).formatted_rows()  # type: ignore[union-attr]


def test_waves_from_one_population_are_scalar_invariant() -> None:
    document = _simulated_report(simulated.two_waves())
    rows = _invariance_rows(document, "invariance_wave")
    assert [row[0] for row in rows] == ["Configural", "Metric", "Scalar"]
    assert [row[-1] for row in rows] == ["Yes", "Yes", "Yes"]
    note = _table(document, "invariance_wave").note
    assert note.startswith(
        "Scalar invariance holds: differences in the indices between waves can be read as real "
        "differences."
    )
    assert "wave 1 (n = 300), wave 2 (n = 300)" in note
    assert _table(document, "invariance_group").title == "Measurement invariance across segment"


def test_a_shifted_intercept_in_wave_two_breaks_scalar_invariance() -> None:
    document = _simulated_report(simulated.two_waves(intercept_shift=1.5))
    rows = _invariance_rows(document, "invariance_wave")
    assert [row[-1] for row in rows] == ["Yes", "Yes", "No"]
    assert float(rows[2][3].replace("−", "-")) < -0.01  # ΔCFI of the scalar model
    assert rows[2][5] == "< .001"  # Δχ² p
    assert _table(document, "invariance_wave").note.startswith(
        "Metric but not scalar invariance: relations between constructs can be compared between "
        "waves, but part of a difference in an index may come from how the items were answered"
    )
    # Segments drawn at random in both waves share the shift: still comparable.
    assert [row[-1] for row in _invariance_rows(document, "invariance_group")] == ["Yes"] * 3
    segments = _table(document, "invariance_group").note
    assert segments.startswith("Scalar invariance holds: differences in the indices between the")


def test_too_few_answers_in_a_wave_says_why_invariance_was_not_tested() -> None:
    data = simulated.two_waves(n=(300, 40))
    data.loc[data.index[-3:], "loy4"] = None  # incomplete answers do not count
    document = _simulated_report(data)
    assert _table(document, "invariance_wave") is None
    assert _table(document, "wave").note.endswith(
        "Measurement invariance between waves was not tested: wave 2 has 37 complete answers to "
        "the construct items, and the test needs at least 50 per wave."
    )
    assert _table(document, "invariance_group") is not None  # segments have enough answers
    html = render(document, "html").decode("utf-8")
    assert "was not tested: wave 2 has 37 complete answers" in html


def test_the_chinese_report_shows_the_chinese_invariance_strings() -> None:
    document = _simulated_report(simulated.two_waves(intercept_shift=1.5), "zh")
    table = _table(document, "invariance_wave")
    assert table.title == "各轮次间的测量不变性"
    assert [column.header for column in table.columns][0::6] == ["层级", "是否成立"]
    rows = table.formatted_rows()
    assert [row[0] for row in rows] == ["形态不变", "度量不变", "尺度不变"]
    assert [row[-1] for row in rows] == ["是", "是", "否"]
    assert table.note.startswith("度量不变成立但尺度不变不成立：构念之间的关系可以在各轮次之间比较")
    assert "轮次 1 (n = 300)、轮次 2 (n = 300)" in table.note and "Cheung & Rensvold" in table.note
    assert _table(document, "invariance_group").title == "按segment分组的测量不变性"
    html = render(document, "html").decode("utf-8")
    assert "各轮次间的测量不变性" in html and "尺度不变" in html
    few = _simulated_report(simulated.two_waves(n=(300, 40)), "zh")
    assert _table(few, "wave").note.endswith(
        "未检验各轮次之间的测量不变性：轮次 2 只有 40 份完整回答（构念题项全部作答），"
        "检验要求每轮至少 50 份。"
    )


def test_the_builder_presents_the_analysis_and_computes_no_test_of_its_own() -> None:
    data = simulated.two_waves(intercept_shift=1.5)
    request = ReportRequest(model=simulated.MODEL, wave="wave")
    result = analyse(data, request)
    stored = build_report(data, result, request)
    assert _table(stored, "invariance_wave") is not None and _table(stored, "wave") is not None
    result.pop("invariance")
    result.pop("comparisons")
    presented = build_report(data, result, request)
    assert _table(presented, "invariance_wave") is None and _table(presented, "wave") is None


def test_csv_export_has_bom_and_neutralises_formulas() -> None:
    frame = pd.DataFrame(
        {
            "id": [1, 2, 3],
            "comment": [FORMULA, "@SUM(A1)", f"ok {EMOJI}"],
            "score": [-1.5, 2.0, 3.0],
        }
    )
    content = csv_bytes(frame)
    assert content.startswith(b"\xef\xbb\xbf")
    back = pd.read_csv(io.BytesIO(content), encoding="utf-8-sig")
    assert back["comment"].tolist() == ["'" + FORMULA, "'@SUM(A1)", f"ok {EMOJI}"]
    assert back["score"].tolist() == [-1.5, 2.0, 3.0]


def test_csv_export_writes_whole_numbers_with_gaps_as_whole_numbers() -> None:
    frame = pd.DataFrame({"tenure": [12, None, 3], "spend": [12.5, None, 3.0]})
    assert frame["tenure"].dtype == "float64"  # a gap makes pandas store floats
    lines = csv_bytes(frame).decode("utf-8-sig").splitlines()
    assert lines == ["tenure,spend", "12,12.5", ",", "3,3.0"]


def test_xlsx_export_keeps_text_literal(data: pd.DataFrame) -> None:
    from openpyxl import load_workbook

    frame = data.head(3).assign(comment=[FORMULA, RTL, EMOJI])
    workbook = load_workbook(io.BytesIO(xlsx_bytes(frame, definition=questionnaire_definition())))
    sheet = workbook["data"]
    column = [cell.value for cell in sheet[1]].index("comment") + 1
    assert [sheet.cell(r, column).value for r in (2, 3, 4)] == [FORMULA, RTL, EMOJI]
    assert sheet.cell(2, column).data_type == "s"
    codebook = workbook["codebook"]
    labels = {row[0].value: row[1].value for row in codebook.iter_rows(min_row=2)}
    assert labels["sat2"] == FORMULA


def test_sav_export_carries_variable_and_value_labels(tmp_path: Path, data: pd.DataFrame) -> None:
    import pyreadstat

    path = tmp_path / "survey.sav"
    write_sav(
        data, path, definition=questionnaire_definition(), language="zh", categories=("tier",)
    )
    frame, meta = pyreadstat.read_sav(str(path))
    assert meta.column_names_to_labels["sat3"] == "我对服务感到满意。"
    assert meta.column_names_to_labels["sat1"] == HOSTILE_LABEL
    assert meta.variable_value_labels["sat1"] == {1.0: "非常不同意", 7.0: "非常同意"}
    assert meta.variable_value_labels["ltr"][10.0] == "极有可能"
    assert frame["sat1"].tolist()[:5] == data["sat1"].tolist()[:5]
    # A text column named a category: numeric codes whose labels are the texts.
    tiers = meta.variable_value_labels["tier"]
    assert frame["tier"].map(tiers).tolist() == data["tier"].tolist()


@pytest.mark.slow
def test_reproducibility_bundle_reproduces_the_numbers(tmp_path: Path, data, result) -> None:
    bundle = reproducibility_bundle(data, report_request("en"), result)
    with zipfile.ZipFile(io.BytesIO(bundle)) as archive:
        names = set(archive.namelist())
        archive.extractall(tmp_path)
    folder = tmp_path / "reproducibility"
    expected = {
        "data.csv",
        "codebook.csv",
        "model.lavaan",
        "options.json",
        "results.json",
        "reproduce.py",
        "README.md",
    }
    assert {f"reproducibility/{name}" for name in expected} == names
    environment = dict(os.environ, PYTHONPATH=str(ROOT))
    run = subprocess.run(
        [sys.executable, "reproduce.py"],
        cwd=folder,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "all numbers match" in run.stdout
    reproduced = json.loads((folder / "reproduced.json").read_text(encoding="utf-8"))
    assert reproduced["fit"]["cfi"] == pytest.approx(result["fit"]["cfi"], rel=1e-9)


def test_cli_writes_a_report_and_rejects_bad_input(tmp_path: Path) -> None:
    from loyaltylab.cli import app

    model = tmp_path / "model.lavaan"
    model.write_text(MODEL, encoding="utf-8")
    output = tmp_path / "report.xlsx"
    runner = CliRunner()
    ok = runner.invoke(
        app,
        [
            "report",
            str(DATA),
            "--model",
            str(model),
            "--format",
            "xlsx",
            "--lang",
            "zh",
            "-o",
            str(output),
            "--reverse",
            "sat4",
            "--nps",
            "ltr",
        ],
    )
    assert ok.exit_code == 0, ok.output
    assert zipfile.is_zipfile(output)
    for arguments in (
        ["--nps", "nonexistent"],
        ["--format", "pptx"],
        ["--lang", "fr"],
    ):
        bad = runner.invoke(
            app,
            ["report", str(DATA), "--model", str(model), "-o", str(tmp_path / "x.pdf"), *arguments],
        )
        assert bad.exit_code == 2
        lines = [line for line in bad.output.splitlines() if line.strip()]
        assert len(lines) == 1 and lines[0].startswith("error:")
        assert "Traceback" not in bad.output


@pytest.mark.parametrize(
    ("value", "fmt", "printed"),
    [
        (0.0004, "p", "< .001"),
        (0.0213, "p", ".021"),
        (-0.514, "coef", "\u2212.51"),
        (12.345, "pct", "12.3"),
        (float("nan"), "dec2", "\u2013"),
        (1234, "int", "1,234"),
    ],
)
def test_apa_number_format(value: float, fmt: str, printed: str) -> None:
    assert format_number(value, fmt) == printed


def test_significance_stars() -> None:
    assert [stars(p) for p in (0.0005, 0.005, 0.03, 0.2)] == ["***", "**", "*", ""]


def test_a_robust_fit_is_labelled_in_the_report_language_and_the_methods_name_the_estimator() -> (
    None
):
    data = simulated.two_waves()
    request = ReportRequest(model=simulated.MODEL, language="zh", wave="wave", estimator="MLR")
    document = build_report(data, analyse(data, request), request)
    fit = _table(document, "fit")
    labels = [row[0] for row in fit.formatted_rows()]
    assert {"校正 χ²", "χ² 校正因子", "稳健 CFI", "稳健 RMSEA 90% 置信区间"} <= set(labels)
    assert not [label for label in labels if "robust" in label or "scaled" in label]
    methods = next(section for section in document.sections if section.key == "methods")
    invariance = next(
        block.text
        for block in methods.blocks
        if isinstance(block, Paragraph) and block.text.startswith("测量不变性")
    )
    assert "以 MLR 估计、按列表删除法剔除有缺失回答的个案" in invariance
    assert "最大似然" not in invariance


def test_construct_correlations_line_up_as_numbers_in_every_format(
    data: pd.DataFrame, result: dict
) -> None:
    document = build_report(data, result, report_request("en"))
    table = _table(document, "correlations")
    assert table is not None and "***" in "".join(table.formatted_rows()[1])
    # Left-aligned text, the first correlation touched the SD column beside it in the PDF.
    assert all(column.fmt != "text" for column in table.columns[1:])
    html = render(document, "html").decode("utf-8")
    figure = html[html.index(f'id="table-{table.number}"') :]
    figure = figure[: figure.index("</figure>")]
    assert '<td class="text">' in figure and '<td class="coef">—</td>' in figure
