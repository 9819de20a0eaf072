"""``loyaltylab worker`` and the consumer that ``loyaltylab serve`` embeds."""

from __future__ import annotations

import typer
from huey.consumer import Consumer

from loyaltylab.jobs.queue import DEFAULT_QUEUE, JobQueue, start_consumer
from loyaltylab.settings import Settings, get_settings

EMBEDDED_WORKERS = 2


def worker(
    workers: int = typer.Option(2, min=1, help="Jobs run at the same time by this process."),
    queue: str = typer.Option(DEFAULT_QUEUE, help="Queue name (the same for app and workers)."),
) -> None:
    """Run background jobs (reports, bootstrap analyses) until stopped with Ctrl-C or SIGTERM."""
    from loyaltylab.logging_setup import configure_logging

    configure_logging()
    settings = get_settings()
    job_queue = JobQueue(settings, name=queue)
    where = "Redis" if settings.redis_url else "the SQLite queue"
    typer.echo(f"LoyaltyLab worker: {workers} thread(s) on {where}, queue {queue!r}")
    job_queue.huey.create_consumer(
        workers=workers, worker_type="thread", periodic=False, max_delay=1.0
    ).run()


def embedded_consumer(settings: Settings) -> Consumer | None:
    """Threads consuming the SQLite queue inside ``serve``; None when Redis workers do the work."""
    if settings.redis_url:
        return None
    return start_consumer(JobQueue(settings), workers=EMBEDDED_WORKERS)
