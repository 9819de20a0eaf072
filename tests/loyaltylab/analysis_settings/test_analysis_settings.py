"""The study's analysis settings: the page, its validation, and what reports and the
dashboard do with them (a report job per estimator, run by a real consumer)."""

from __future__ import annotations

import io
import re
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from docx import Document
from fastapi import FastAPI
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from analysis.pls import fit_pls, satisfaction_index
from analysis.syntax import measurement_syntax
from loyaltylab import workflows
from loyaltylab.accounts.models import Organisation, OrganisationKind, Role
from loyaltylab.analysis_settings.schemas import AnalysisSettings
from loyaltylab.dashboard.service import build_dashboard
from loyaltylab.fieldwork.data import responses_dataframe
from loyaltylab.fieldwork.models import WaveStatus
from loyaltylab.fieldwork.service import definition_for
from loyaltylab.jobs.queue import JobQueue, start_consumer
from loyaltylab.reports_web.models import Report, ReportFile
from loyaltylab.settings import Settings
from loyaltylab.studies.models import Study
from tests.loyaltylab.reports_support import fielded_waves, wait_for_job
from tests.web_support import TEST_PASSWORD


@pytest.fixture
def researcher(
    client: TestClient, organisation: Organisation, make_member: Callable, login: Callable
) -> TestClient:
    make_member(organisation, email="owner@northwind.example", role=Role.owner)
    login(client, "owner@northwind.example")
    return client


@pytest.fixture
def consumer(app: FastAPI, settings: Settings, tmp_path: Path) -> Iterator[JobQueue]:
    queue = workflows.job_queue(settings, name="web", sqlite_path=tmp_path / "jobs.db")
    app.state.job_queue = queue
    running = start_consumer(queue, workers=1)
    yield queue
    running.stop(graceful=True)
    queue.close()


def _post(client: TestClient, csrf: Callable, study: Study, **fields: Any) -> Any:
    url = f"/studies/{study.id}/analysis"
    return client.post(
        url, data={"csrf_token": csrf(client, url), **fields}, follow_redirects=False
    )


def test_settings_are_saved_shown_again_and_validated_in_the_readers_language(
    researcher: TestClient,
    csrf: Callable,
    study: Study,
    session: Session,
    app: FastAPI,
    make_member: Callable,
    login: Callable,
) -> None:
    fielded_waves(session, study, completes=20)
    questionnaire_id = study_questionnaire(session, study)
    codes = f"missing_codes_{questionnaire_id}"
    page = researcher.get(f"/studies/{study.id}/analysis")
    assert page.status_code == 200
    assert re.search(r'value="cbsem" checked', page.text)
    assert re.search(r'<option value="ML" selected', page.text)

    refused = _post(
        researcher, csrf, study, method="pls", pls_scheme="bogus", resamples="9999",
        **{codes: "9, x"},
    )  # fmt: skip
    assert refused.status_code == 400
    for message in (
        "Choose the inner weighting scheme",
        "Enter a whole number of resamples from 0 to 5000",
        "Enter the codes as numbers separated by commas",
    ):
        assert message in refused.text
    assert 'value="9, x"' in refused.text  # what was typed is kept
    on_scale = _post(researcher, csrf, study, method="cbsem", estimator="MLR", **{codes: "3"})
    assert on_scale.status_code == 400
    assert "3 is an answer on this questionnaire&#39;s scale (1 to 7)" in on_scale.text
    session.refresh(study)
    assert study.analysis_settings == {}

    saved = _post(
        researcher, csrf, study, method="pls", pls_scheme="centroid", consistent="1",
        resamples="200", estimator="nonsense-but-ignored-for-pls", **{codes: "9; 99"},
    )  # fmt: skip
    assert saved.status_code == 303
    session.refresh(study)
    settings = AnalysisSettings.of(study.analysis_settings)
    assert (settings.method, settings.pls_scheme, settings.consistent, settings.resamples) == (
        "pls",
        "centroid",
        True,
        200,
    )
    assert settings.missing_codes == {questionnaire_id: (9.0, 99.0)}
    assert settings.analysis_options(questionnaire_id) == {
        "missing_codes": [9.0, 99.0],
        "estimator": "pls",
        "pls_scheme": "centroid",
        "consistent": True,
        "bootstrap": 200,
    }
    shown = researcher.get(f"/studies/{study.id}/analysis").text
    assert re.search(r'value="pls" checked', shown) and 'value="9, 99"' in shown
    assert re.search(r'<option value="centroid" selected', shown)

    researcher.headers["Accept-Language"] = "zh-CN"
    chinese = _post(researcher, csrf, study, method="cbsem", estimator="GLS")
    assert chinese.status_code == 400 and "请选择估计方法：ML、MLR 或 WLSMV。" in chinese.text

    other = Organisation(name="Elsewhere Research", kind=OrganisationKind.research)
    session.add(other)
    session.commit()
    make_member(other, email="owner@elsewhere.example", role=Role.owner)
    stranger = TestClient(app, base_url="https://testserver")
    login(stranger, "owner@elsewhere.example")
    assert stranger.get(f"/studies/{study.id}/analysis").status_code == 404


def study_questionnaire(session: Session, study: Study) -> int:
    from loyaltylab.questionnaires.models import Questionnaire

    return session.exec(select(Questionnaire.id).where(Questionnaire.study_id == study.id)).one()


def _pdf_text(content: bytes, tmp_path: Path) -> str:
    path = tmp_path / "report.pdf"
    path.write_bytes(content)
    return subprocess.run(
        ["pdftotext", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout


def _pdf_images(content: bytes, tmp_path: Path) -> int:
    path = tmp_path / "report.pdf"
    path.write_bytes(content)
    listing = subprocess.run(
        ["pdfimages", "-list", str(path)], capture_output=True, text=True, check=True
    ).stdout
    return len(listing.strip().splitlines()) - 2  # two header lines


@pytest.mark.slow
@pytest.mark.parametrize(
    ("method", "estimator", "stated", "sheet"),
    [
        ("cbsem", "ML", "Estimator: ML (maximum likelihood", "Normality (Mardia)"),
        ("cbsem", "MLR", "Yuan–Bentler scaled χ²", "Modification indices"),
        ("cbsem", "WLSMV", "scaled-shifted", "Common method (Harman)"),
        ("pls", "ML", "PLS path modelling, path inner weighting", "PLS outer model"),
    ],
)
def test_a_report_job_uses_the_settings_and_states_them_in_every_format(
    researcher: TestClient,
    csrf: Callable,
    study: Study,
    session: Session,
    engine: Engine,
    consumer: JobQueue,
    tmp_path: Path,
    method: str,
    estimator: str,
    stated: str,
    sheet: str,
) -> None:
    waves = fielded_waves(session, study, completes=150)
    study.analysis_settings = AnalysisSettings(
        method=method, estimator=estimator, resamples=100
    ).to_dict()
    session.add(study)
    session.commit()
    url = f"/studies/{study.id}/reports"
    response = researcher.post(
        url,
        data={
            "csrf_token": csrf(researcher, url),
            "language": "en",
            "formats": ["pdf", "docx", "xlsx"],
            "wave_ids": [str(waves[0].id)],
            "bootstrap": "0",
        },
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    report_id = int(response.headers["location"].rsplit("/", 1)[1])
    with Session(engine) as fresh:
        job_id = fresh.get(Report, report_id).job_id
    job = wait_for_job(engine, job_id, timeout=240)
    assert job.status == "done", job.error
    with Session(engine) as fresh:
        report = fresh.get(Report, report_id)
        files = {
            row.kind: row.content
            for row in fresh.exec(select(ReportFile).where(ReportFile.report_id == report_id))
        }
        result = report.result
    assert result["estimator"] == ("pls" if method == "pls" else estimator)

    text = _pdf_text(files["pdf"], tmp_path)
    assert stated in " ".join(text.split())
    words = " ".join(
        [p.text for p in Document(io.BytesIO(files["docx"])).paragraphs]
        + [
            cell.text
            for table in Document(io.BytesIO(files["docx"])).tables
            for row in table.rows
            for cell in row.cells
        ]
    )
    sheets = [
        name.split(" ", 1)[1] for name in load_workbook(io.BytesIO(files["xlsx"])).sheetnames[1:]
    ]
    assert sheet in sheets
    assert "Choosing the estimator and the method" in words
    assert "Structural model with standardized coefficients" in text  # the path diagram
    assert _pdf_images(files["pdf"], tmp_path) >= 3  # distributions, NPS, path diagram...
    if method == "pls":
        assert {"PLS outer model", "PLS effects", "R² and Q²", "Satisfaction indices"} <= set(
            sheets
        )
        assert "Outer loadings and weights" in words and "ACSI index" in words
        assert result["bootstrap"]["n_boot"] == 100
    else:
        assert "Heterotrait–monotrait ratios: HTMT below, HTMT2 above the diagonal" in words
        assert "Harman" in words
    if estimator == "MLR":
        assert "CFI robust" in words and "χ² scaling factor" in words
        assert "Free a parameter only when theory justifies it" in words
    if estimator == "WLSMV":
        assert "Ordinal α" in words and "Categorical ω" in words


def test_the_dashboard_trend_uses_the_pls_indices_when_the_study_uses_pls(
    session: Session, study: Study
) -> None:
    waves = fielded_waves(session, study, completes=150)
    for wave in waves:  # fielded, so that the dashboard shows it
        wave.status = WaveStatus.closed
        session.add(wave)
    session.commit()
    mean = build_dashboard(session, study, segment=None, with_open_text=False, language="en")
    assert mean.index_method == "mean" and not mean.results.empty
    study.analysis_settings = AnalysisSettings(method="pls").to_dict()
    session.add(study)
    session.commit()
    weighted = build_dashboard(session, study, segment=None, with_open_text=False, language="en")
    assert weighted.index_method == "pls"

    # One wave, complete answers: the wave's index is the ACSI index of a PLS fit on it.
    definition = definition_for(session, waves[0].questionnaire_version_id)
    constructs = definition.construct_items()
    data = responses_dataframe(session, [waves[0].id])
    items = [item for members in constructs.values() for item in members]
    answers = data[items].apply(pd.to_numeric, errors="coerce")
    for item in definition.reverse_keyed():
        answers[item] = 8 - answers[item]
    fit = fit_pls(answers.dropna(), measurement_syntax(constructs) + "\n" + definition.model)
    expected = satisfaction_index(fit, scale_min=1, scale_max=7)
    rows = weighted.results.set_index("measure")
    plain = mean.results.set_index("measure")
    for construct, index in expected.items():
        assert rows.loc[construct, "value"] == pytest.approx(index, abs=1e-9)
    assert any(abs(rows.loc[c, "value"] - plain.loc[c, "value"]) > 0.01 for c in expected.index)


@pytest.mark.parametrize(
    ("locale", "viewport"),
    [("en-GB", {"width": 390, "height": 844}), ("zh-CN", {"width": 1366, "height": 900})],
)
def test_a_researcher_chooses_pls_in_the_browser(
    chromium,
    live_url: str,
    session: Session,
    study: Study,
    organisation: Organisation,
    make_member: Callable,
    tmp_path: Path,
    locale: str,
    viewport: dict[str, int],
) -> None:
    from playwright.sync_api import expect

    fielded_waves(session, study, completes=10)
    member = make_member(organisation, email="owner@northwind.example", role=Role.owner)
    english = locale == "en-GB"
    context = chromium.new_context(base_url=live_url, viewport=viewport, locale=locale)
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.goto("/login")
    page.locator("#f-email").fill(member.email)
    page.locator("#f-password").fill(TEST_PASSWORD)
    page.locator("form[action='/login'] button[type=submit]").click()
    page.goto(f"/studies/{study.id}")
    page.get_by_role("link", name="Analysis settings" if english else "分析设置").click()
    page.get_by_label("PLS-SEM (composites)" if english else "PLS-SEM（组合构念）").check()
    page.locator("#f-resamples").fill("50000")
    page.locator("form[action$='/analysis'] button[type=submit]").click()
    expect(page.locator(".error-summary")).to_contain_text(
        "Enter a whole number of resamples" if english else "请输入 0 到 5000 之间的整数重抽样次数"
    )
    width = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert width <= 0
    # The PLSc checkbox stands apart from the scheme select above it, as fields do.
    select = page.locator("#f-pls_scheme").bounding_box()
    checkbox = page.locator("#f-consistent").bounding_box()
    assert select is not None and checkbox is not None
    assert checkbox["y"] - (select["y"] + select["height"]) >= 12
    page.screenshot(path=str(Path("/tmp") / f"analysis-settings-{locale}.png"), full_page=True)
    page.locator("#f-resamples").fill("500")
    page.locator("#f-pls_scheme").select_option("centroid")
    page.locator("form[action$='/analysis'] button[type=submit]").click()
    expect(page.locator(".flash")).to_contain_text(
        "The analysis settings have been saved." if english else "分析设置已保存。"
    )
    session.refresh(study)
    assert AnalysisSettings.of(study.analysis_settings).resamples == 500
    context.close()


def test_a_report_the_chosen_method_cannot_make_is_refused_with_the_reason(
    researcher: TestClient, csrf: Callable, study: Study, session: Session, consumer: JobQueue
) -> None:
    waves = fielded_waves(session, study, completes=20, model="LOY ~ SAT")
    url = f"/studies/{study.id}/reports"

    def create(bootstrap: str) -> Any:
        return researcher.post(
            url,
            data={
                "csrf_token": csrf(researcher, url),
                "language": "en",
                "formats": ["pdf"],
                "wave_ids": [str(waves[0].id)],
                "bootstrap": bootstrap,
            },
            follow_redirects=False,
        )

    for settings, bootstrap, message in (
        (AnalysisSettings(estimator="WLSMV"), "20", "With the WLSMV estimator the report has"),
        (AnalysisSettings(method="pls"), "0", "PLS-SEM cannot estimate the questionnaire"),
    ):
        study.analysis_settings = settings.to_dict()
        session.add(study)
        session.commit()
        refused = create(bootstrap)
        assert refused.status_code == 400 and message in refused.text
    assert "construct &#39;VAL&#39; is in no path" in refused.text
    assert session.exec(select(Report)).all() == []
