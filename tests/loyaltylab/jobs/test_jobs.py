"""Report jobs through a real huey consumer, on the embedded SQLite queue and on Redis."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from loyaltylab.deps import OrgContext
from loyaltylab.jobs.models import JobStatus
from loyaltylab.jobs.queue import JobQueue, start_consumer
from loyaltylab.reports_web import service
from loyaltylab.settings import Settings
from loyaltylab.studies.models import Study
from loyaltylab.workflows import job_queue
from tests.loyaltylab.reports_support import queued_report, wait_for_job


def test_a_report_job_reports_progress_and_saves_its_files(
    session: Session, engine: Engine, ctx: OrgContext, study: Study, queue: JobQueue
) -> None:
    report = queued_report(session, ctx, study, queue)
    seen = []
    final = wait_for_job(
        engine,
        report.job_id,
        lambda job: seen.append((job.status, job.percent)) or not job.status.active,
    )
    assert final.status is JobStatus.done, final.error
    assert (final.percent, final.stage) == (100, "done")
    assert final.started_at and final.finished_at and final.finished_at >= final.started_at
    assert any(status is JobStatus.running and 0 < percent < 100 for status, percent in seen)
    session.refresh(report)
    assert set(service.file_sizes(session, report)) == {"html", "xlsx", "bundle"}
    assert service.report_file(session, report, "xlsx").content.startswith(b"PK")
    assert {row["op"] for row in report.result["estimates"]} >= {"=~", "~"}
    assert report.generated_at is not None


@pytest.mark.slow
def test_a_running_bootstrap_job_can_be_cancelled(
    session: Session, engine: Engine, ctx: OrgContext, study: Study, queue: JobQueue
) -> None:
    report = queued_report(session, ctx, study, queue, bootstrap="400")
    running = wait_for_job(engine, report.job_id, lambda job: job.stage.startswith("bootstrap"))
    assert running.status is JobStatus.running
    job = service.cancel(session, report)
    session.commit()
    assert job.cancel_requested
    final = wait_for_job(engine, report.job_id)
    assert final.status is JobStatus.cancelled
    assert final.percent < 100
    session.refresh(report)
    assert service.file_sizes(session, report) == {}
    assert report.generated_at is None


def test_a_queued_job_cancelled_before_a_consumer_takes_it_never_runs(
    session: Session,
    engine: Engine,
    ctx: OrgContext,
    study: Study,
    tmp_path: Path,
    settings: Settings,
) -> None:
    idle = job_queue(settings, name="idle", sqlite_path=tmp_path / "idle.db")
    report = queued_report(session, ctx, study, idle)
    assert len(idle.huey) == 1  # enqueued on commit, waiting for a consumer
    service.cancel(session, report)
    session.commit()
    consumer = start_consumer(idle, workers=1)
    try:
        final = wait_for_job(engine, report.job_id, lambda job: len(idle.huey) == 0)
    finally:
        consumer.stop(graceful=True)
        idle.close()
    assert final.status is JobStatus.cancelled
    assert final.started_at is None
    session.refresh(report)
    assert service.file_sizes(session, report) == {}
