"""A researcher generates a report in headless Chromium, watches its progress and downloads the
PDF: the real app under uvicorn, the embedded huey consumer ``loyaltylab serve`` starts."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from sqlmodel import Session, SQLModel

from loyaltylab.accounts.models import Organisation, OrganisationKind, Role
from loyaltylab.app import create_app
from loyaltylab.db import make_engine
from loyaltylab.jobs.queue import JobQueue, start_consumer
from loyaltylab.settings import Settings
from loyaltylab.studies.models import Study
from tests.conftest import ARTIFACTS, TEST_PASSWORD, create_member
from tests.loyaltylab.reports_support import fielded_waves

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"no Chromium at {CHROMIUM}"),
]
EMAIL = "researcher@northwind.example"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int]]:
    """uvicorn on a free port with a study of two fielded waves, and a consumer of its queue."""
    folder = tmp_path_factory.mktemp("reports-browser")
    database_url = f"sqlite:///{folder / 'browser.db'}"
    engine = make_engine(database_url)
    SQLModel.metadata.create_all(engine)
    with Session(engine, expire_on_commit=False) as session:
        organisation = Organisation(name="Northwind Research", kind=OrganisationKind.research)
        session.add(organisation)
        session.commit()
        create_member(session, organisation, email=EMAIL, role=Role.researcher)
        study = Study(
            organisation_id=organisation.id, name="Loyalty tracker", company_name="Contoso"
        )
        session.add(study)
        session.commit()
        fielded_waves(session, study, names=("2026-Q2", "2026-Q3"), completes=120)
        study_id = study.id
    engine.dispose()
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    settings = Settings(
        env="test", database_url=database_url, secret_key="browser-" + "r" * 40, base_url=base_url
    )
    app = create_app(settings)
    app.state.job_queue = JobQueue(settings, sqlite_path=folder / "jobs.db")
    consumer = start_consumer(app.state.job_queue, workers=1)
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    yield base_url, study_id
    server.should_exit = True
    thread.join(timeout=5)
    consumer.stop(graceful=True)
    app.state.job_queue.close()
    app.state.engine.dispose()


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"reports-{name}.png"), full_page=True)


def test_generate_watch_progress_and_download_the_pdf(
    live_server: tuple[str, int], tmp_path: Path
) -> None:
    sync_api = pytest.importorskip("playwright.sync_api")
    base_url, study_id = live_server
    errors: list[str] = []
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        context = browser.new_context(base_url=base_url, accept_downloads=True)
        page = context.new_page()
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))

        page.goto("/login")
        page.fill("input[name=email]", EMAIL)
        page.fill("input[name=password]", TEST_PASSWORD)
        with page.expect_navigation():
            page.click("form[action='/login'] button[type=submit]")
        page.goto(f"/studies/{study_id}")
        page.click("text=Research reports and data exports")
        page.fill("#f-title", "Tracker Q2-Q3")
        page.check("input[name=wave_ids][value='1']")
        page.select_option("#f-language", "en")
        page.check("input[name=formats][value=docx]")
        page.fill("#f-bootstrap", "60")
        shot(page, "form")
        page.click("button:has-text('Generate report')")

        # The progress page, kept up to date by report-progress.js polling status.json.
        page.locator("[data-progress]").wait_for(timeout=10_000)
        shot(page, "progress")
        seen = set()
        deadline = time.monotonic() + 60
        while page.locator("[data-progress]").count() and time.monotonic() < deadline:
            with contextlib.suppress(sync_api.TimeoutError, TypeError, ValueError):
                seen.add(int(page.locator("[data-progress]").get_attribute("value", timeout=500)))
            time.sleep(0.2)
        assert any(0 < value < 100 for value in seen), seen
        page.locator("text=Read the report").wait_for(timeout=10_000)
        shot(page, "done")

        with page.expect_download() as info:
            page.click("a[href$='/files/pdf']")
        pdf = tmp_path / "report.pdf"
        info.value.save_as(pdf)
        assert pdf.read_bytes().startswith(b"%PDF") and pdf.stat().st_size > 10_000
        assert info.value.suggested_filename.endswith(".pdf")

        page.click("text=Read the report")
        frame = page.frame_locator("iframe.report-frame")
        frame.locator("h1, h2").first.wait_for(timeout=10_000)
        shot(page, "view")
        browser.close()
    assert errors == []
