"""A researcher generates a report in headless Chromium, watches its progress and downloads the
PDF: the real app under uvicorn (``live_url``) with a huey consumer of its queue, as the embedded
one ``loyaltylab serve`` starts."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from sqlmodel import Session

from loyaltylab.accounts.models import Organisation, Role, User
from loyaltylab.jobs.queue import JobQueue, start_consumer
from loyaltylab.settings import Settings
from loyaltylab.studies.models import Study
from loyaltylab.workflows import job_queue
from tests.loyaltylab.reports_support import fielded_waves
from tests.web_support import TEST_PASSWORD

pytestmark = [
    pytest.mark.browser,
    pytest.mark.parametrize("database_url", ["sqlite"], indirect=True),
]


@pytest.fixture
def consumer(app: FastAPI, settings: Settings, tmp_path: Path) -> Iterator[JobQueue]:
    """The app's job queue, consumed in background threads while the test runs."""
    queue = app.state.job_queue = job_queue(settings, sqlite_path=tmp_path / "jobs.db")
    running = start_consumer(queue, workers=1)
    yield queue
    running.stop(graceful=True)
    queue.close()


@pytest.fixture
def researcher(organisation: Organisation, make_member: Callable) -> User:
    return make_member(organisation, email="researcher@northwind.example", role=Role.researcher)


def test_generate_watch_progress_and_download_the_pdf(
    chromium,
    screenshot,
    consumer: JobQueue,
    live_url: str,
    session: Session,
    study: Study,
    researcher: User,
    tmp_path: Path,
) -> None:
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    fielded_waves(session, study, names=("2026-Q2", "2026-Q3"), completes=120)
    errors: list[str] = []
    context = chromium.new_context(base_url=live_url, accept_downloads=True)
    page = context.new_page()
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))

    page.goto("/login")
    page.fill("input[name=email]", researcher.email)
    page.fill("input[name=password]", TEST_PASSWORD)
    with page.expect_navigation():
        page.click("form[action='/login'] button[type=submit]")
    page.goto(f"/studies/{study.id}")
    page.click("text=Research reports and data exports")
    page.fill("#f-title", "Tracker Q2-Q3")
    page.check("input[name=wave_ids][value='1']")
    page.select_option("#f-language", "en")
    page.check("input[name=formats][value=docx]")
    page.fill("#f-bootstrap", "60")
    screenshot(page, "reports-form")
    page.click("button:has-text('Generate report')")

    # The progress page, kept up to date by report-progress.js polling status.json.
    page.locator("[data-progress]").wait_for(timeout=10_000)
    screenshot(page, "reports-progress")
    seen, panels = set(), set()
    deadline = time.monotonic() + 60
    while page.locator("[data-progress]").count() and time.monotonic() < deadline:
        with contextlib.suppress(PlaywrightTimeout, TypeError, ValueError):
            value = int(page.locator("[data-progress]").get_attribute("value", timeout=500))
            seen.add(value)
            panels.add((value > 0, page.locator("[data-status]").inner_text(timeout=500)))
        time.sleep(0.2)
    assert any(0 < value < 100 for value in seen), seen
    # One state: once the bar moves, the heading says so too (not a stale "Queued").
    assert (True, "Generating") in panels and (True, "Queued") not in panels, panels
    page.locator("text=Read the report").wait_for(timeout=10_000)
    screenshot(page, "reports-done")

    with page.expect_download() as info:
        page.click("a[href$='/files/pdf']")
    pdf = tmp_path / "report.pdf"
    info.value.save_as(pdf)
    assert pdf.read_bytes().startswith(b"%PDF") and pdf.stat().st_size > 10_000
    assert info.value.suggested_filename.endswith(".pdf")

    page.click("text=Read the report")
    frame = page.frame_locator("iframe.report-frame")
    frame.locator("h1, h2").first.wait_for(timeout=10_000)
    screenshot(page, "reports-view")
    context.close()
    assert errors == []
