"""Jobs left running by a dead worker: the sweep, its periodic task, the command, and what the
pages say while a report is being generated or after its job was given up.

Time is controlled through explicit timestamps (``started_at``, the sweep's ``now``), never by
sleeping.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import typer
from fastapi.testclient import TestClient
from pydantic import ValidationError
from sqlalchemy.engine import Engine
from sqlmodel import Session
from typer.testing import CliRunner

from loyaltylab.accounts.models import Organisation
from loyaltylab.deps import OrgContext
from loyaltylab.jobs import worker
from loyaltylab.jobs.models import Job, JobKind, JobStatus
from loyaltylab.jobs.queue import (
    TIMED_OUT,
    JobProgress,
    JobQueue,
    fail_stuck_jobs,
    start_consumer,
)
from loyaltylab.reports_web import service
from loyaltylab.reports_web.models import Report
from loyaltylab.settings import Settings, get_settings
from loyaltylab.studies.models import Study
from loyaltylab.workflows import job_queue
from tests.loyaltylab.reports_support import queued_report, wait_for_job

NOW = datetime(2026, 5, 4, 12, 0, tzinfo=UTC)
LIMIT = 30 * 60


def _job(session: Session, organisation: Organisation, status: JobStatus, **fields: Any) -> Job:
    job = Job(
        organisation_id=organisation.id, kind=JobKind.report, subject_id=0, status=status, **fields
    )
    session.add(job)
    session.commit()
    return job


def _aware(moment: datetime | None) -> datetime | None:
    # SQLite gives back naive UTC times.
    return moment.replace(tzinfo=UTC) if moment and not moment.tzinfo else moment


def test_only_jobs_running_past_the_limit_are_failed(
    session: Session, organisation: Organisation
) -> None:
    stuck = _job(session, organisation, JobStatus.running, started_at=NOW - timedelta(minutes=31))
    young = _job(session, organisation, JobStatus.running, started_at=NOW - timedelta(minutes=29))
    long_queued = _job(session, organisation, JobStatus.queued, created_at=NOW - timedelta(days=1))
    ended = [
        _job(session, organisation, status, started_at=NOW - timedelta(days=1))
        for status in (JobStatus.done, JobStatus.failed, JobStatus.cancelled)
    ]

    assert fail_stuck_jobs(session, timeout_seconds=LIMIT, now=NOW) == [stuck.id]
    session.commit()
    session.expire_all()
    failed = session.get(Job, stuck.id)
    assert (failed.status, failed.stage, failed.cancel_requested) == (
        JobStatus.failed,
        TIMED_OUT,
        True,
    )
    assert "more than 30 minutes" in failed.error
    assert _aware(failed.finished_at) == NOW
    assert session.get(Job, young.id).status is JobStatus.running
    assert session.get(Job, long_queued.id).status is JobStatus.queued
    assert [session.get(Job, job.id).status for job in ended] == [
        JobStatus.done,
        JobStatus.failed,
        JobStatus.cancelled,
    ]
    # Again, a minute later: nothing new is stuck, and the failure is not rewritten.
    assert fail_stuck_jobs(session, timeout_seconds=LIMIT, now=NOW + timedelta(minutes=1)) == []
    assert _aware(session.get(Job, stuck.id).finished_at) == NOW
    # Later still, the young job has run too long as well.
    later = NOW + timedelta(minutes=2)
    assert fail_stuck_jobs(session, timeout_seconds=LIMIT, now=later) == [young.id]


def test_the_limit_is_a_setting(monkeypatch: pytest.MonkeyPatch, settings: Settings) -> None:
    base = {"env": "test", "database_url": settings.database_url, "secret_key": "k" * 40}
    assert Settings(**base).job_timeout_seconds == 30 * 60
    monkeypatch.setenv("LOYALTYLAB_JOB_TIMEOUT_SECONDS", "7200")
    assert Settings(**base).job_timeout_seconds == 7200
    monkeypatch.setenv("LOYALTYLAB_JOB_TIMEOUT_SECONDS", "5")  # shorter than the sweep's minute
    with pytest.raises(ValidationError):
        Settings(**base)


@pytest.fixture
def idle_queue(settings: Settings, tmp_path: Path) -> Iterator[JobQueue]:
    """A queue no consumer takes from: its jobs stay where the test puts them."""
    queue = job_queue(settings, name="idle", sqlite_path=tmp_path / "idle.db")
    yield queue
    queue.close()


def test_every_consumer_runs_the_sweep_each_minute(
    idle_queue: JobQueue, session: Session, organisation: Organisation, engine: Engine
) -> None:
    due = idle_queue.huey.read_periodic(datetime(2026, 5, 4, 12, 7))
    [sweep] = [task for task in due if task.name == "loyaltylab.sweep_stuck_jobs"]
    stuck = _job(
        session,
        organisation,
        JobStatus.running,
        started_at=datetime.now(UTC) - timedelta(hours=2),
    )
    idle_queue.huey.execute(sweep)  # what a consumer's scheduler does with the due task
    session.expire_all()
    assert session.get(Job, stuck.id).status is JobStatus.failed
    consumer = start_consumer(idle_queue, workers=1)
    try:
        assert consumer.periodic  # the embedded consumer of `serve` schedules it
    finally:
        consumer.stop(graceful=True)


def test_the_sweep_command(
    monkeypatch: pytest.MonkeyPatch,
    settings: Settings,
    session: Session,
    organisation: Organisation,
    tmp_path: Path,
) -> None:
    stuck = _job(
        session, organisation, JobStatus.running, started_at=datetime.now(UTC) - timedelta(hours=1)
    )
    monkeypatch.setenv("LOYALTYLAB_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("LOYALTYLAB_VAR_DIR", str(tmp_path / "var"))
    get_settings.cache_clear()
    app = typer.Typer()
    app.command()(worker.sweep_jobs)
    try:
        first = CliRunner().invoke(app, [])
        again = CliRunner().invoke(app, [])
    finally:
        get_settings.cache_clear()
    assert first.exit_code == 0, first.output
    assert f"1 stuck job(s) marked failed: job {stuck.id}." in first.output
    assert "0 stuck job(s) marked failed." in again.output
    session.expire_all()
    assert session.get(Job, stuck.id).stage == TIMED_OUT


# --- a report's job ----------------------------------------------------------------------------


@pytest.mark.slow
def test_a_worker_that_was_only_slow_does_not_overwrite_the_failure(
    session: Session,
    engine: Engine,
    ctx: OrgContext,
    study: Study,
    settings: Settings,
    tmp_path: Path,
) -> None:
    queue = job_queue(settings, name="slow", sqlite_path=tmp_path / "slow.db")
    consumer = start_consumer(queue, workers=1)
    try:
        report = queued_report(session, ctx, study, queue, bootstrap="400")
        running = wait_for_job(engine, report.job_id, lambda job: job.stage.startswith("boot"))
        assert running.status is JobStatus.running
        assert queue.sweep(now=datetime.now(UTC) + timedelta(seconds=LIMIT + 60)) == [report.job_id]
    finally:
        consumer.stop(graceful=True)  # waits for the job's thread to give up
        queue.close()
    session.expire_all()
    job = session.get(Job, report.job_id)
    assert (job.status, job.stage) == (JobStatus.failed, TIMED_OUT)
    assert service.file_sizes(session, session.get(Report, report.id)) == {}
    with pytest.raises(Exception) as stopped:  # its progress calls stop it from now on
        JobProgress(engine, job.id, settings)(1.0, "save")
    assert type(stopped.value).__name__ == "JobCancelled"


def _die_and_sweep(session: Session, report: Report, queue: JobQueue) -> Job:
    """A worker took the report's job 45 minutes ago and died; the sweep gives the job up."""
    job = session.get(Job, report.job_id)
    job.status, job.started_at = JobStatus.running, datetime.now(UTC) - timedelta(minutes=45)
    session.add(job)
    session.commit()
    assert queue.sweep() == [job.id]
    return job


def test_a_given_up_report_says_why_in_the_readers_language(
    researcher: TestClient, session: Session, ctx: OrgContext, study: Study, idle_queue: JobQueue
) -> None:
    report = queued_report(session, ctx, study, idle_queue)
    _die_and_sweep(session, report, idle_queue)
    expected = {
        "en": ("The report could not be generated", "after running for more than 45 minutes"),
        "zh-CN": ("报告生成失败", "运行超过 45 分钟仍未完成"),
    }
    retry = {"en": "Regenerate with the current responses", "zh-CN": "用当前回答重新生成"}
    for language, (heading, reason) in expected.items():
        researcher.headers["accept-language"] = language
        detail = researcher.get(f"/reports/{report.id}").text
        assert heading in detail and reason in detail
        assert retry[language] in detail  # and it can be tried again
    status = researcher.get(f"/reports/{report.id}/status.json").json()
    assert (status["status"], status["active"]) == ("failed", False)
    assert status["stage_label"] == "已放弃：运行时间过长"


NOTICE = {
    "en": "Report being generated — reload to see it.",
    "zh-CN": "报告正在生成——请刷新页面查看。",
}


def test_pages_say_a_report_is_being_generated_until_it_ends(
    researcher: TestClient, session: Session, ctx: OrgContext, study: Study, idle_queue: JobQueue
) -> None:
    report = queued_report(session, ctx, study, idle_queue)
    [wave_id] = report.wave_ids
    pages = [f"/waves/{wave_id}", f"/studies/{study.id}/reports"]
    for language, notice in NOTICE.items():
        researcher.headers["accept-language"] = language
        for page in pages:
            text = researcher.get(page).text
            assert notice in text, (language, page)
            assert f'<a href="{page}">' in text, page  # the reload link: no JavaScript needed
        # The report's own page follows the job itself (no "reload" message beside it).
        detail = researcher.get(f"/reports/{report.id}").text
        assert "data-job-status" in detail and notice not in detail
    wave_page = researcher.get(f"/waves/{wave_id}").text
    assert f'<a href="/reports/{report.id}">Loyalty report</a>' in wave_page
    _die_and_sweep(session, report, idle_queue)
    for language, notice in NOTICE.items():
        researcher.headers["accept-language"] = language
        for page in pages:
            assert notice not in researcher.get(page).text, (language, page)
        assert "data-job-status" not in researcher.get(f"/reports/{report.id}").text
