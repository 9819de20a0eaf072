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
from collections.abc import Callable, Mapping
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
from loyaltylab.mail import deliver_all
from loyaltylab.settings import Settings, get_settings, var_dir
from loyaltylab.timeutil import utcnow

logger = logging.getLogger("loyaltylab.jobs")

PROGRESS_INTERVAL_SECONDS = 0.25
Handler = Callable[[Engine, int, "JobProgress"], None]
Task = Callable[["JobQueue", int], None]
"""Work on one row handed over by id (a webhook delivery), with the queue to schedule more."""
Periodic = Callable[["JobQueue", datetime | None], object]
"""Work done every minute by each consumer (``now`` is None there; tests pass a time)."""
TIMED_OUT = "timed_out"
"""The stage of a job the sweep gave up on."""
TIMED_OUT_ERROR = N_(
    "The job was given up after running for more than %(minutes)s minutes: the worker running "
    "it has probably stopped."
)


class JobCancelled(Exception):
    """Raised inside a running job once someone asked to cancel it.

    Not a domain error (``loyaltylab.errors``): control flow inside the worker, which catches it
    and marks the job cancelled; no request sees it."""


class JobProgress:
    """``progress(fraction, stage)`` for a running job.

    Writes percent and stage at most every 0.25 s (one UPDATE, which also tells whether a
    cancel was requested) and raises :class:`JobCancelled` when it was.
    """

    def __init__(
        self,
        engine: Engine,
        job_id: int,
        settings: Settings | None = None,
        *,
        send_mail: Callable[[list[int]], None] | None = None,
    ) -> None:
        self.engine = engine
        self.job_id = job_id
        self.settings = settings or get_settings()
        """The queue's settings, for handlers that link to the app or send mail."""
        self.send_mail = send_mail or (lambda ids: deliver_all(engine, ids, self.settings))
        """Sends committed outbox messages (in a job: :meth:`JobQueue.send_mail`, with retries)."""
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
    """Submits jobs (from the web app) and runs them (in a consumer).

    ``handlers`` (by job kind), ``tasks`` (by name, on one id) and ``periodic`` work come from
    where the app is assembled (:mod:`loyaltylab.workflows`): the queue knows no domain, so the
    domains that submit jobs may import it without a cycle.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        handlers: Mapping[JobKind, Handler],
        tasks: Mapping[str, Task] | None = None,
        periodic: Mapping[str, Periodic] | None = None,
        name: str = DEFAULT_QUEUE,
        sqlite_path: Path | None = None,
    ) -> None:
        self.settings = settings
        self.handlers = dict(handlers)
        self.huey = make_huey(settings, name=name, sqlite_path=sqlite_path)
        self._task = self.huey.task(name="loyaltylab.run_job")(self.run)
        self._mail_task = self.huey.task(name="loyaltylab.send_mail")(self.send_mail)
        # Every minute, in each consumer started with periodic tasks (the sweep is idempotent).
        self.huey.periodic_task(crontab(), name="loyaltylab.sweep_stuck_jobs")(self.sweep)
        self._tasks = {
            task_name: self.huey.task(name=task_name)(self._bound_task(task))
            for task_name, task in (tasks or {}).items()
        }
        for task_name, every_minute in (periodic or {}).items():
            self.huey.periodic_task(crontab(), name=task_name)(self._bound_periodic(every_minute))
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
            handler = self.handlers[kind]
            progress = JobProgress(self.engine, job_id, self.settings, send_mail=self.send_mail)
            handler(self.engine, job_id, progress)
        except JobCancelled:
            self._end(job_id, JobStatus.cancelled, stage="cancelled")
        except ValueError as error:
            # The analysis explains bad data (too few responses, a model that does not fit).
            self._end(job_id, JobStatus.failed, stage="failed", error=str(error))
        except Exception as error:
            logger.exception("job %s failed", job_id)
            self._end(job_id, JobStatus.failed, stage="failed", error=type(error).__name__)

    def send_mail(self, message_ids: list[int]) -> None:
        """Try to deliver committed outbox messages now (in the caller: the web process after
        its response, or a worker); each failure worth retrying goes back on the queue, to be
        tried again after its backoff delay (persisted in SQLite or Redis, so a restart keeps
        it)."""
        for message_id, delay in deliver_all(self.engine, message_ids, self.settings).items():
            self._mail_task.schedule(args=([message_id],), delay=delay)

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

    def enqueue(self, task_name: str, subject_id: int, *, delay: float = 0) -> None:
        """Run the registered task ``task_name`` on ``subject_id`` (a webhook delivery's id) now,
        or after ``delay`` seconds (a retry's backoff)."""
        task = self._tasks[task_name]
        if delay > 0:
            task.schedule((subject_id,), delay=delay)
        else:
            task(subject_id)

    def _bound_task(self, task: Task) -> Callable[[int], None]:
        def run_task(subject_id: int) -> None:
            task(self, subject_id)

        return run_task

    def _bound_periodic(self, every_minute: Periodic) -> Callable[[], None]:
        def run_periodic() -> None:
            every_minute(self, None)

        return run_periodic


_process_queue: JobQueue | None = None
_process_queue_guard = threading.Lock()
_queue_factory: Callable[[Settings], JobQueue] | None = None


def use_queue(queue: JobQueue | None) -> None:
    """Make ``queue`` the one :func:`process_queue` returns (a worker's, a test's); None
    forgets it."""
    global _process_queue
    with _process_queue_guard:
        _process_queue = queue


def process_queue() -> JobQueue:
    """The queue for work handed over after a commit where no queue is passed around (webhook
    deliveries): the one given to :func:`use_queue`, else one made from the settings by the
    factory :mod:`loyaltylab.workflows` registers with :func:`make_queues_with`, once."""
    global _process_queue
    with _process_queue_guard:
        if _process_queue is None:
            if _queue_factory is None:
                raise RuntimeError("no job queue: import loyaltylab.workflows, or call use_queue")
            _process_queue = _queue_factory(get_settings())
        return _process_queue


def make_queues_with(factory: Callable[[Settings], JobQueue]) -> None:
    """How :func:`process_queue` makes its queue (with the app's handlers) when none was given."""
    global _queue_factory
    _queue_factory = factory


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
