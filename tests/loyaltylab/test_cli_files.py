"""The command line on real files: the platform's own exports, a UTF-8 CSV whose character
crosses the sniffing window, ``--reverse`` with the scale ``report`` assumes, the reverse-keyed
hint, and ``report`` writing several formats and the bundle from one analysis."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from sqlmodel import Session
from typer.testing import CliRunner

from analysis import io as data_io
from analysis.files import DETECTION_BYTES
from loyaltylab.cli import app
from loyaltylab.questionnaires import service as questionnaires
from loyaltylab.questionnaires.models import QuestionnaireVersion
from loyaltylab.reports_web import service
from loyaltylab.studies.models import Study
from reports.exports import csv_bytes, write_sav, xlsx_bytes
from tests.loyaltylab.reports_support import fielded_waves
from tests.loyaltylab.test_cli_analyze import DATA, MODEL

RUNNER = CliRunner()


def run(*args: object):
    return RUNNER.invoke(app, [str(arg) for arg in args])


@pytest.fixture
def model_file(tmp_path: Path) -> Path:
    path = tmp_path / "model.lavaan"
    path.write_text(MODEL, encoding="utf-8")
    return path


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("kind", ["csv", "xlsx", "sav"])
def test_analyze_reads_the_platforms_own_exports(
    session: Session, study: Study, tmp_path: Path, kind: str
) -> None:
    waves = fielded_waves(session, study, names=("2026-Q2", "2026-Q3"), completes=60)
    version = session.get(QuestionnaireVersion, waves[-1].questionnaire_version_id)
    definition = questionnaires.definition_of(version)
    data = service.export_frame(session, waves)
    # A "not applicable" answer as the export writes it: a missing value for the analysis.
    data["sat1"] = data["sat1"].astype(object)
    data.loc[0, "sat1"] = "na"
    path = tmp_path / f"export.{kind}"
    if kind == "csv":
        path.write_bytes(csv_bytes(data))
    elif kind == "xlsx":
        path.write_bytes(xlsx_bytes(data, definition=definition))
    else:
        write_sav(data, path, definition=definition, categories=service.category_columns(data))
    model = tmp_path / "model.lavaan"
    model.write_text(service.full_model(definition), encoding="utf-8")
    out = tmp_path / "result.json"
    result = run("analyze", path, "--model", model, "--reverse", "sat5", "--json", out)
    assert result.exit_code == 0, result.output
    analysed = json.loads(out.read_text(encoding="utf-8"))
    assert (analysed["n_rows"], analysed["n_used"]) == (120, 119)
    assert analysed["fit"]["cfi"] > 0.9


@pytest.mark.parametrize("inside", [1, 2])
def test_a_bom_csv_whose_character_crosses_the_sniffing_window(
    tmp_path: Path, model_file: Path, inside: int
) -> None:
    survey = pd.read_csv(DATA).assign(comment="")
    body = survey.to_csv(index=False, lineterminator="\r\n").encode("utf-8")
    # Pad the first comment so that a three-byte character has ``inside`` bytes in the window
    # read to detect the encoding (the byte-order mark counts too).
    first_row_end = body.index(b"\r\n", body.index(b"\r\n") + 2)
    room = DETECTION_BYTES - 3 - first_row_end - inside
    comment = "x" * room + "满意"
    lines = survey.to_csv(index=False, lineterminator="\r\n").split("\r\n")
    lines[1] += comment
    content = "\ufeff" + "\r\n".join(lines)
    raw = content.encode("utf-8")
    start = DETECTION_BYTES - inside
    assert raw[start : start + 3].decode("utf-8") == "满"
    path = tmp_path / "export.csv"
    path.write_bytes(raw)
    assert data_io.read_table(path).shape == (len(survey), survey.shape[1])
    result = run("analyze", path, "--model", model_file, "--reverse", "sat4")
    assert result.exit_code == 0, result.output


def test_reverse_takes_the_scale_report_assumes(tmp_path: Path, model_file: Path) -> None:
    default = tmp_path / "default.json"
    given = tmp_path / "given.json"
    assert run("analyze", DATA, "--model", model_file, "--reverse", "sat4", "--json", default)
    first = run("analyze", DATA, "--model", model_file, "--reverse", "sat4", "--json", default)
    second = run(
        "analyze", DATA, "--model", model_file, "--reverse", "sat4",
        "--scale-min", "1", "--scale-max", "7", "--json", given,
    )  # fmt: skip
    assert first.exit_code == second.exit_code == 0, first.output
    assert json.loads(default.read_text()) == json.loads(given.read_text())
    # Answers on 1-5 read on the default 1-7 scale: said so, not silently reverse-keyed wrong.
    five = pd.read_csv(DATA)
    for item in ("sat1", "sat2", "sat3", "sat4"):
        five[item] = five[item].clip(1, 5)
    path = tmp_path / "five.csv"
    five.to_csv(path, index=False)
    warned = run("analyze", path, "--model", model_file, "--reverse", "sat4")
    assert "warning: the reverse-keyed items' answers run from 1 to 5" in warned.output


def test_an_item_running_against_its_construct_gets_a_reverse_keyed_hint(
    tmp_path: Path, model_file: Path
) -> None:
    survey = pd.read_csv(DATA)  # sat4 is reverse-worded and not recoded here
    path = tmp_path / "survey.csv"
    survey.to_csv(path, index=False)
    plain = run("analyze", path, "--model", model_file)
    assert plain.exit_code == 0, plain.output
    hints = [line for line in plain.output.splitlines() if line.startswith("hint:")]
    assert len(hints) == 1 and hints[0].startswith("hint: sat4 correlates -")
    assert "with the rest of SAT: reverse-keyed?" in hints[0]
    recoded = run("analyze", path, "--model", model_file, "--reverse", "sat4")
    assert "hint:" not in recoded.output


@pytest.mark.slow
def test_report_writes_several_formats_and_the_bundle_from_one_analysis(
    tmp_path: Path, model_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import analysis.pipeline

    calls = []
    real = analysis.pipeline.analyze
    monkeypatch.setattr(
        analysis.pipeline, "analyze", lambda *a, **k: calls.append(1) or real(*a, **k)
    )
    output = tmp_path / "tracker.pdf"
    bundle = tmp_path / "tracker-bundle.zip"
    result = run(
        "report", DATA, "--model", model_file, "--reverse", "sat4", "--nps", "ltr",
        "--format", "pdf,docx,xlsx", "-o", output, "--bundle", bundle,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert len(calls) == 1
    assert output.read_bytes().startswith(b"%PDF")
    for name in ("tracker.docx", "tracker.xlsx"):
        assert zipfile.is_zipfile(tmp_path / name), name
    with zipfile.ZipFile(io.BytesIO(bundle.read_bytes())) as archive:
        results = json.loads(archive.read("reproducibility/results.json"))
        options = json.loads(archive.read("reproducibility/options.json"))
    assert options["reverse"] == ["sat4"] and results["n_used"] > 500
    for name in ("tracker.pdf", "tracker.docx", "tracker.xlsx", "tracker-bundle.zip"):
        assert f"wrote {tmp_path / name}" in result.output
    bad = run("report", DATA, "--model", model_file, "--format", "pdf,pptx", "-o", output)
    assert bad.exit_code == 2 and "--format must be one or more of" in bad.output


@pytest.mark.slow
def test_report_names_the_groups_of_an_spss_file_by_their_value_labels(
    tmp_path: Path, model_file: Path
) -> None:
    import pyreadstat
    from openpyxl import load_workbook

    survey = pd.read_csv(DATA)
    codes = {"bronze": 1.0, "silver": 2.0, "gold": 3.0}
    survey["tier"] = survey["tier"].map(codes)
    path = tmp_path / "survey.sav"
    labels = {1.0: "Bronze card", 2.0: "Silver card", 3.0: "Gold card"}
    pyreadstat.write_sav(survey, str(path), variable_value_labels={"tier": labels})
    output = tmp_path / "report.xlsx"
    result = run(
        "report", path, "--model", model_file, "--reverse", "sat4", "--group", "tier",
        "--format", "xlsx", "-o", output,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    workbook = load_workbook(output)
    sheet = workbook[next(name for name in workbook.sheetnames if name.endswith("By tier"))]
    assert [cell.value for cell in sheet[3]][1:4] == ["Bronze card", "Silver card", "Gold card"]


def test_report_refuses_a_bootstrap_with_nothing_to_bootstrap(tmp_path: Path) -> None:
    model = tmp_path / "model.lavaan"
    model.write_text(MODEL.replace("ind := a*b", ""), encoding="utf-8")
    result = run(
        "report", DATA, "--model", model, "--reverse", "sat4", "--bootstrap", "200",
        "-o", tmp_path / "report.pdf",
    )  # fmt: skip
    assert result.exit_code == 2
    assert "the model defines no indirect effect to bootstrap" in result.output
    assert not (tmp_path / "report.pdf").exists()
