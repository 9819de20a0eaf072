"""Report and export pages through the app, with the report job run by a real consumer."""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy.engine import Engine
from sqlmodel import Session

from loyaltylab.accounts.models import Organisation, Role
from loyaltylab.jobs.queue import JobQueue, start_consumer
from loyaltylab.settings import Settings
from loyaltylab.studies.models import Study
from loyaltylab.workflows import job_queue
from tests.loyaltylab.reports_support import fielded_waves, wait_for_job

PDF, ZIP = b"%PDF", b"PK"


@pytest.fixture
def consumer(app: FastAPI, settings: Settings, tmp_path: Path) -> Iterator[JobQueue]:
    queue = job_queue(settings, name="web", sqlite_path=tmp_path / "jobs.db")
    app.state.job_queue = queue
    running = start_consumer(queue, workers=1)
    yield queue
    running.stop(graceful=True)
    queue.close()


@pytest.fixture
def waves(session: Session, study: Study) -> list[Any]:
    return fielded_waves(session, study, names=("2026-Q2", "2026-Q3"), completes=120)


def _create(client: TestClient, csrf: Callable, study: Study, **fields: Any) -> Any:
    """Submit the new-report form with the CSRF token of that form itself."""
    page = client.get(f"/studies/{study.id}/reports").text
    form = page[page.index(f'action="/studies/{study.id}/reports"') :]
    token = re.search(r'name="csrf_token" value="([^"]+)"', form)[1]
    return client.post(
        f"/studies/{study.id}/reports",
        data={"csrf_token": token, **fields},
        follow_redirects=False,
    )


@pytest.mark.slow
def test_create_generate_view_and_download_a_report(
    researcher: TestClient,
    csrf: Callable,
    study: Study,
    waves: list[Any],
    consumer: JobQueue,
    engine: Engine,
    app: FastAPI,
    make_member: Callable,
    client_organisation: Organisation,
    login: Callable,
) -> None:
    client = researcher
    page = client.get(f"/studies/{study.id}/reports")
    assert "No reports yet." in page.text and 'name="wave_ids"' in page.text

    response = _create(
        client,
        csrf,
        study,
        title="Q2+Q3 tracker",
        language="zh",
        formats=["pdf", "docx", "xlsx"],
        wave_ids=[str(waves[0].id), str(waves[1].id)],
        bootstrap="20",
    )
    assert response.status_code == 303
    url = response.headers["location"]
    report_id = int(url.rsplit("/", 1)[1])
    progress = client.get(url)
    assert "data-job-status" in progress.text and 'http-equiv="refresh"' in progress.text

    status = client.get(f"{url}/status.json").json()
    job = wait_for_job(engine, int(_job_id(engine, report_id)))
    assert job.status == "done", job.error
    assert status["url"] == url and "percent" in status
    done = client.get(f"{url}/status.json").json()
    assert (done["status"], done["percent"], done["active"]) == ("done", 100, False)

    page = client.get(url)
    assert "data-job-status" not in page.text and 'http-equiv="refresh"' not in page.text
    assert "240" in page.text  # responses included: 2 waves x 120 completes, partials left out
    assert f"/reports/{report_id}/files/bundle" in page.text

    files = {kind: client.get(f"{url}/files/{kind}") for kind in ("pdf", "docx", "xlsx", "bundle")}
    assert files["pdf"].content.startswith(PDF)
    assert files["pdf"].headers["content-disposition"].startswith("attachment")
    assert files["docx"].content.startswith(ZIP) and files["xlsx"].content.startswith(ZIP)
    with zipfile.ZipFile(io.BytesIO(files["bundle"].content)) as bundle:
        assert "reproducibility/results.json" in bundle.namelist()
        data_csv = bundle.read("reproducibility/data.csv").decode("utf-8-sig")
    assert len(data_csv.strip().splitlines()) == 241

    view = client.get(f"{url}/view")
    assert f'src="/reports/{report_id}/files/html"' in view.text
    html = client.get(f"{url}/files/html")
    assert html.headers["content-type"].startswith("text/html")
    assert "sandbox" in html.headers["content-security-policy"]
    assert html.headers["x-frame-options"] == "SAMEORIGIN"
    assert "Q2+Q3" in html.text or "2026-Q2" in html.text
    assert 'lang="zh' in html.text

    listing = client.get(f"/studies/{study.id}/reports")
    assert "Q2+Q3 tracker" in listing.text

    # The commissioning client reads the report once it is shared, never the raw data.
    client_org_user = TestClient(app, base_url="https://testserver")
    make_member(client_organisation, email="cfo@contoso.example", role=Role.client)
    login(client_org_user, "cfo@contoso.example")
    assert client_org_user.get(url).status_code == 404
    shared = client.post(f"{url}/share", data={"csrf_token": csrf(client, url), "shared": "1"})
    assert shared.status_code == 200 and "The report is shared with the client." in shared.text
    assert client_org_user.get(url).status_code == 200
    assert client_org_user.get(f"{url}/files/pdf").content.startswith(PDF)
    assert client_org_user.get(f"{url}/files/bundle").status_code == 404
    assert "/files/bundle" not in client_org_user.get(url).text
    for export in ("data.csv", "data.xlsx", "data.sav", "codebook.csv"):
        assert client_org_user.get(f"/studies/{study.id}/exports/{export}").status_code == 404
    token = csrf(client_org_user, f"/studies/{study.id}/reports")
    for action in ("regenerate", "cancel"):
        refused = client_org_user.post(f"{url}/{action}", data={"csrf_token": token})
        assert refused.status_code == 404
    assert 'name="wave_ids"' not in client_org_user.get(f"/studies/{study.id}/reports").text


def _job_id(engine: Engine, report_id: int) -> int:
    from loyaltylab.reports_web.models import Report

    with Session(engine) as session:
        return session.get(Report, report_id).job_id


def test_the_new_report_form_spaces_its_fields(
    researcher: TestClient, study: Study, waves: list[Any]
) -> None:
    # Without the stacked layout each label sat on the control above it.
    page = researcher.get(f"/studies/{study.id}/reports").text
    assert f'<form method="post" action="/studies/{study.id}/reports" class="stack"' in page


def test_the_form_refuses_bad_choices_in_the_readers_language(
    researcher: TestClient, csrf: Callable, study: Study, waves: list[Any], consumer: JobQueue
) -> None:
    wave = str(waves[0].id)
    cases = [
        ({"language": "en", "formats": ["pdf"], "bootstrap": "0"}, "Choose at least one wave"),
        ({"language": "en", "wave_ids": [wave], "bootstrap": "0"}, "Choose at least one file"),
        (
            {"language": "en", "formats": ["pdf"], "wave_ids": [wave], "bootstrap": "-3"},
            "Enter a whole number of resamples",
        ),
        (
            {"language": "fr", "formats": ["pdf"], "wave_ids": [wave], "bootstrap": "0"},
            "Choose the report language",
        ),
    ]
    for fields, message in cases:
        response = _create(researcher, csrf, study, **fields)
        assert response.status_code == 400 and message in response.text
    assert "No reports yet." in researcher.get(f"/studies/{study.id}/reports").text
    researcher.cookies.set("lang", "zh_CN")
    response = _create(researcher, csrf, study, language="en", formats=["pdf"], bootstrap="0")
    assert response.status_code == 400


def test_data_exports_for_the_owning_organisation(
    researcher: TestClient, study: Study, waves: list[Any], tmp_path: Path
) -> None:
    base = f"/studies/{study.id}/exports"
    csv = researcher.get(f"{base}/data.csv")
    assert csv.content.startswith(b"\xef\xbb\xbf")
    lines = csv.content.decode("utf-8-sig").strip().splitlines()
    assert len(lines) == 241 and lines[0].startswith("response_id,wave,")
    one_wave = researcher.get(f"{base}/data.csv?wave={waves[1].id}").content.decode("utf-8-sig")
    assert len(one_wave.strip().splitlines()) == 121 and "2026-Q2" not in one_wave

    workbook = load_workbook(io.BytesIO(researcher.get(f"{base}/data.xlsx").content))
    assert workbook.sheetnames == ["data", "codebook"]
    assert workbook["data"].max_row == 241

    import pyreadstat

    sav = tmp_path / "data.sav"
    sav.write_bytes(researcher.get(f"{base}/data.sav").content)
    frame, meta = pyreadstat.read_sav(str(sav))
    assert len(frame) == 240
    labelled = [name for name, label in meta.column_names_to_labels.items() if label]
    assert labelled and meta.variable_value_labels

    book = researcher.get(f"{base}/codebook.csv").content.decode("utf-8-sig")
    assert "response_id" not in book.splitlines()[0] and len(book.splitlines()) > 10
    assert researcher.get(f"{base}/data.csv?wave=999999").status_code == 404


def test_every_stage_of_the_analysis_is_labelled_as_analysis() -> None:
    """The job page labels stages by code: a pipeline stage missing from the map would show as
    'build' while the analysis runs."""
    from pathlib import Path

    import pandas as pd

    from analysis.pipeline import analyze
    from loyaltylab.reports_web.generate import _stage

    data = pd.read_csv(Path(__file__).parents[2] / "analysis" / "data" / "loyalty_segments.csv")
    stages: list[str] = []
    analyze(
        data,
        model="SAT =~ sat1 + sat2 + sat3\nLOY =~ loy1 + loy2 + loy3\nLOY ~ SAT",
        scale_min=1,
        scale_max=7,
        group="tier",
        invariance=["wave"],
        progress=stages.append,
    )
    assert {"prepare", "groups", "invariance"} <= set(stages)
    assert {stage: _stage(stage) for stage in stages} == dict.fromkeys(stages, "analysis")
