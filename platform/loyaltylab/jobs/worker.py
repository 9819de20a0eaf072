"""``loyaltylab worker`` and the consumer that ``loyaltylab serve`` embeds.

The queue (huey, Redis, the database) is imported when a command runs, so that the CLI's
``--help`` does not load it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from loyaltylab.jobs import DEFAULT_QUEUE

if TYPE_CHECKING:
    from huey.consumer import Consumer

    from loyaltylab.settings import Settings

EMBEDDED_WORKERS = 2


def worker(
    workers: int = typer.Option(2, min=1, help="Jobs run at the same time by this process."),
    queue: str = typer.Option(DEFAULT_QUEUE, help="Queue name (the same for app and workers)."),
) -> None:
    """Run background jobs (reports, bootstrap analyses) until stopped with Ctrl-C or SIGTERM.

    Once a minute it also marks failed the jobs left running by a worker that died.
    """
    from loyaltylab.jobs.queue import JobQueue, use_queue
    from loyaltylab.logging_setup import configure_logging
    from loyaltylab.settings import get_settings

    configure_logging()
    settings = get_settings()
    job_queue = JobQueue(settings, name=queue)
    use_queue(job_queue)  # what its jobs enqueue (a report's webhook) goes to the same queue
    where = "Redis" if settings.redis_url else "the SQLite queue"
    typer.echo(f"LoyaltyLab worker: {workers} thread(s) on {where}, queue {queue!r}")
    job_queue.huey.create_consumer(
        workers=workers, worker_type="thread", periodic=True, max_delay=1.0
    ).run()


def sweep_jobs() -> None:
    """Mark failed the background jobs running for longer than LOYALTYLAB_JOB_TIMEOUT_SECONDS
    (default 30 minutes): their worker has died. Workers do this every minute as well."""
    from loyaltylab import models  # noqa: F401  (registers every table)
    from loyaltylab.db import make_engine
    from loyaltylab.jobs.queue import sweep_stuck_jobs
    from loyaltylab.settings import get_settings

    settings = get_settings()
    engine = make_engine(settings.database_url)
    try:
        failed = sweep_stuck_jobs(engine, settings)
    finally:
        engine.dispose()
    listed = f": job {', '.join(map(str, failed))}" if failed else ""
    typer.echo(f"{len(failed)} stuck job(s) marked failed{listed}.")


def embedded_consumer(settings: Settings) -> Consumer | None:
    """Threads consuming the SQLite queue inside ``serve``; None when Redis workers do the work."""
    from loyaltylab.jobs.queue import JobQueue, start_consumer, use_queue

    if settings.redis_url:
        return None
    queue = JobQueue(settings)
    use_queue(queue)
    return start_consumer(queue, workers=EMBEDDED_WORKERS)
