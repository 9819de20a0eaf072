"""The job queue: huey on SQLite (embedded) or Redis (scale-out), and the job runner.

A job's state lives in the ``job`` table, not in huey: huey only carries the job id to a
consumer. The consumer claims the job (queued -> running), calls its handler with a
:class:`JobProgress` callback, and the handler saves its results and calls :func:`complete`
in one transaction. Cancelling sets ``cancel_requested``; the next progress call sees it and
raises :class:`JobCancelled`, which unwinds the handler without saving anything.

A worker that dies (killed, machine restarted) leaves its job ``running``. Every consumer runs
:meth:`JobQueue.sweep` once a minute (a huey periodic task): jobs running for longer than
``job_timeout_seconds`` are marked failed, and cancelled too, so that a worker which was only
slow stops at its next progress call instead of overwriting the failure.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

from huey import RedisHuey, SqliteHuey, crontab
from huey.api import Huey
from huey.consumer import Consumer
from sqlalchemy import event, update
from sqlalchemy.engine import Engine
from sqlmodel import Session

from loyaltylab.db import make_engine
from loyaltylab.i18n import N_
from loyaltylab.jobs import DEFAULT_QUEUE
from loyaltylab.jobs.models import Job, JobKind, JobStatus
from loyaltylab.settings import Settings, get_settings, var_dir
from loyaltylab.timeutil import utcnow

logger = logging.getLogger("loyaltylab.jobs")

PROGRESS_INTERVAL_SECONDS = 0.25
Handler = Callable[[Engine, int, "JobProgress"], None]
TIMED_OUT = "timed_out"
"""The stage of a job the sweep gave up on."""
TIMED_OUT_ERROR = N_(
    "The job was given up after running for more than %(minutes)s minutes: the worker running "
    "it has probably stopped."
)


class JobCancelled(Exception):
    """Raised inside a running job once someone asked to cancel it."""


class JobProgress:
    """``progress(fraction, stage)`` for a running job.

    Writes percent and stage at most every 0.25 s (one UPDATE, which also tells whether a
    cancel was requested) and raises :class:`JobCancelled` when it was.
    """

    def __init__(self, engine: Engine, job_id: int, settings: Settings | None = None) -> None:
        self.engine = engine
        self.job_id = job_id
        self.settings = settings or get_settings()
        """The queue's settings, for handlers that link to the app or send mail."""
        self._last = 0.0

    def __call__(self, fraction: float, stage: str) -> None:
        now = time.monotonic()
        if now - self._last < PROGRESS_INTERVAL_SECONDS and fraction < 1:
            return
        self._last = now
        percent = max(0, min(99, int(fraction * 100)))  # 100 only once the results are saved
        with Session(self.engine) as session:
            updated = session.execute(
                update(Job)
                .where(Job.id == self.job_id, Job.cancel_requested.is_(False))
                .values(percent=percent, stage=stage[:200])
            ).rowcount
            session.commit()
        if not updated:
            raise JobCancelled


def complete(session: Session, job_id: int) -> None:
    """Mark the job done in the transaction that saves its results (raises if cancelled first)."""
    done = session.execute(
        update(Job)
        .where(Job.id == job_id, Job.status == JobStatus.running, Job.cancel_requested.is_(False))
        .values(status=JobStatus.done, percent=100, stage="done", finished_at=utcnow())
    ).rowcount
    if not done:
        raise JobCancelled


def fail_stuck_jobs(
    session: Session, *, timeout_seconds: int, now: datetime | None = None
) -> list[int]:
    """Mark failed the jobs running for more than ``timeout_seconds`` (their worker has died,
    or is far slower than a job may be); the ids of those marked. Flushes only.

    ``cancel_requested`` is set as well: if the worker is alive after all, its next progress
    call stops it, and neither its results nor its ending overwrite the failure.
    """
    now = now or utcnow()
    cutoff = now - timedelta(seconds=timeout_seconds)
    error = TIMED_OUT_ERROR % {"minutes": timeout_seconds // 60}
    return list(
        session.execute(
            update(Job)
            .where(Job.status == JobStatus.running, Job.started_at < cutoff)
            .values(
                status=JobStatus.failed,
                stage=TIMED_OUT,
                error=error,
                cancel_requested=True,
                finished_at=now,
            )
            .returning(Job.id)
            # Plain SQL: jobs loaded in this session are not re-evaluated (SQLite's naive times).
            .execution_options(synchronize_session=False)
        ).scalars()
    )


def sweep_stuck_jobs(
    engine: Engine, settings: Settings, *, now: datetime | None = None
) -> list[int]:
    """:func:`fail_stuck_jobs` with the configured timeout, in a transaction of its own."""
    with Session(engine) as session:
        failed = fail_stuck_jobs(session, timeout_seconds=settings.job_timeout_seconds, now=now)
        session.commit()
    for job_id in failed:
        logger.warning(
            "job %s ran for more than %s s (its worker has probably died): marked failed",
            job_id,
            settings.job_timeout_seconds,
        )
    return failed


def _handler(kind: JobKind) -> Handler:
    if kind is JobKind.report:
        from loyaltylab.reports_web.generate import generate_report

        return generate_report
    raise ValueError(f"no handler for jobs of kind {kind!r}")


def make_huey(
    settings: Settings, *, name: str = DEFAULT_QUEUE, sqlite_path: Path | None = None
) -> Huey:
    """RedisHuey when ``redis_url`` is set, else SqliteHuey at ``sqlite_path`` (``var/jobs.db``)."""
    if settings.redis_url:
        return RedisHuey(name, results=False, url=settings.redis_url)
    path = sqlite_path or var_dir() / "jobs.db"
    path.parent.mkdir(parents=True, exist_ok=True)
    return SqliteHuey(name, results=False, filename=str(path.resolve()))


class JobQueue:
    """Submits jobs (from the web app) and runs them (in a consumer)."""

    def __init__(
        self, settings: Settings, *, name: str = DEFAULT_QUEUE, sqlite_path: Path | None = None
    ) -> None:
        self.settings = settings
        self.huey = make_huey(settings, name=name, sqlite_path=sqlite_path)
        self._task = self.huey.task(name="loyaltylab.run_job")(self.run)
        # Every minute, in each consumer started with periodic tasks (the sweep is idempotent).
        self.huey.periodic_task(crontab(), name="loyaltylab.sweep_stuck_jobs")(self.sweep)
        self.huey.periodic_task(crontab(), name="loyaltylab.send_event_invitations")(
            self.send_event_invitations
        )
        self._deliver_webhook = self.huey.task(name="loyaltylab.deliver_webhook")(
            self.deliver_webhook
        )
        self.huey.periodic_task(crontab(), name="loyaltylab.requeue_webhooks")(
            self.requeue_webhooks
        )
        self._engine: Engine | None = None

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            self._engine = make_engine(self.settings.database_url)
        return self._engine

    def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()

    def submit(
        self,
        session: Session,
        *,
        kind: JobKind,
        organisation_id: int,
        subject_id: int,
        created_by: int | None,
    ) -> Job:
        """Add a queued job; it is handed to the queue once the session commits, so a consumer
        never looks for a job row that is not there yet (and a rolled-back one never runs)."""
        job = Job(
            kind=kind, organisation_id=organisation_id, subject_id=subject_id, created_by=created_by
        )
        session.add(job)
        session.flush()
        job_id = job.id
        event.listen(session, "after_commit", lambda _session: self._task(job_id), once=True)
        return job

    def run(self, job_id: int) -> None:
        """The huey task: claim the job, run its handler, record how it ended."""
        with Session(self.engine) as session:
            claimed = session.execute(
                update(Job)
                .where(Job.id == job_id, Job.status == JobStatus.queued)
                .values(status=JobStatus.running, started_at=utcnow(), stage="starting")
            ).rowcount
            job = session.get(Job, job_id)
            kind = job.kind if job is not None else None
            session.commit()
        if not claimed or kind is None:
            return  # cancelled while queued, or delivered twice
        try:
            _handler(kind)(self.engine, job_id, JobProgress(self.engine, job_id, self.settings))
        except JobCancelled:
            self._end(job_id, JobStatus.cancelled, stage="cancelled")
        except ValueError as error:
            # The analysis explains bad data (too few responses, a model that does not fit).
            self._end(job_id, JobStatus.failed, stage="failed", error=str(error))
        except Exception as error:
            logger.exception("job %s failed", job_id)
            self._end(job_id, JobStatus.failed, stage="failed", error=type(error).__name__)

    def _end(self, job_id: int, status: JobStatus, *, stage: str, error: str = "") -> None:
        with Session(self.engine) as session:
            session.execute(
                update(Job)
                # Still running: a job the sweep has failed meanwhile keeps its reason.
                .where(Job.id == job_id, Job.status == JobStatus.running)
                .values(status=status, stage=stage, error=error[:2000], finished_at=utcnow())
            )
            session.commit()

    def sweep(self, now: datetime | None = None) -> list[int]:
        """The periodic task: fail the jobs that have run too long."""
        return sweep_stuck_jobs(self.engine, self.settings, now=now)

    def send_event_invitations(self, now: datetime | None = None) -> list[int]:
        """The periodic task: e-mail the event-triggered invitations that are due."""
        from loyaltylab.fieldwork.events import send_due_invitations

        return send_due_invitations(self.engine, self.settings, now=now)

    def enqueue_webhook(self, delivery_id: int, *, delay: float = 0) -> None:
        """Send a webhook delivery now, or after ``delay`` seconds (a retry's backoff)."""
        if delay > 0:
            self._deliver_webhook.schedule((delivery_id,), delay=delay)
        else:
            self._deliver_webhook(delivery_id)

    def deliver_webhook(self, delivery_id: int) -> None:
        """The huey task: one attempt at a delivery; a failure schedules the next one."""
        from loyaltylab.webhooks.delivery import attempt_delivery

        attempt_delivery(self.engine, self.settings, delivery_id, retry=self.enqueue_webhook)

    def requeue_webhooks(self, now: datetime | None = None) -> list[int]:
        """The periodic task: queue again the deliveries whose attempt is long overdue (the
        process died between its commit and the hand-over, or the queue lost the task)."""
        from loyaltylab.webhooks.delivery import claim_overdue_deliveries

        overdue = claim_overdue_deliveries(self.engine, now=now)
        for delivery_id in overdue:
            self.enqueue_webhook(delivery_id)
        return overdue


_process_queue: JobQueue | None = None
_process_queue_guard = threading.Lock()


def use_queue(queue: JobQueue | None) -> None:
    """Make ``queue`` the one :func:`process_queue` returns (a worker's, a test's); None
    forgets it."""
    global _process_queue
    with _process_queue_guard:
        _process_queue = queue


def process_queue() -> JobQueue:
    """The queue for work handed over after a commit where no queue is passed around (webhook
    deliveries): the one given to :func:`use_queue`, else one made from the settings, once."""
    global _process_queue
    with _process_queue_guard:
        if _process_queue is None:
            _process_queue = JobQueue(get_settings())
        return _process_queue


def cancel(session: Session, job: Job) -> None:
    """A queued job is cancelled at once; a running one stops at its next progress call."""
    if not job.status.active:
        return
    job.cancel_requested = True
    if job.status is JobStatus.queued:
        job.status = JobStatus.cancelled
        job.stage = "cancelled"
        job.finished_at = utcnow()
    session.add(job)
    session.flush()


class ThreadConsumer(Consumer):
    """A huey consumer running in threads of a process that owns its signals (uvicorn, tests)."""

    def _set_signal_handlers(self) -> None:
        pass


def start_consumer(queue: JobQueue, *, workers: int = 2) -> Consumer:
    """Start consuming ``queue`` in background threads, with its periodic sweep;
    ``consumer.stop()`` ends them."""
    consumer = ThreadConsumer(
        queue.huey, workers=workers, worker_type="thread", periodic=True, max_delay=1.0
    )
    consumer.start()
    return consumer
