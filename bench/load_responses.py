"""How fast 100,000 responses x 40 items load into a DataFrame (target: <= 2 s).

Usage: ``python bench/load_responses.py [--responses N] [--items K] [--postgres URL]``.
Runs on a fresh SQLite file and, with ``--postgres`` (or ``LOYALTYLAB_TEST_POSTGRES_URL``),
on a fresh schema of that PostgreSQL database. Rows are inserted in bulk, then loaded through
:func:`loyaltylab.fieldwork.data.responses_dataframe`, the loader analysis and exports use.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert, make_url, text
from sqlmodel import Session, SQLModel

sys.path[:0] = [str(Path(__file__).resolve().parents[1] / "platform"), str(Path(__file__).parent)]

from seed import open_wave, rating_definition  # noqa: E402

import loyaltylab.models  # noqa: E402, F401
from loyaltylab.db import make_engine  # noqa: E402
from loyaltylab.fieldwork.data import responses_dataframe  # noqa: E402
from loyaltylab.fieldwork.models import Response  # noqa: E402

SCHEMA = "bench_load_responses"


def fill(engine, n_responses: int, n_items: int) -> int:
    with Session(engine) as session:
        wave = open_wave(session, rating_definition(n_items, per_page=10))
        wave_id, version_id, organisation_id = (
            wave.id,
            wave.questionnaire_version_id,
            wave.organisation_id,
        )
    rng = random.Random(1)
    started = datetime(2026, 7, 1, tzinfo=UTC)
    batch = []
    with engine.begin() as connection:
        for number in range(n_responses):
            start = started + timedelta(seconds=number)
            batch.append(
                {
                    "organisation_id": organisation_id,
                    "wave_id": wave_id,
                    "questionnaire_version_id": version_id,
                    "channel": "web",
                    "language": "zh-CN",
                    "status": "complete",
                    "excluded": False,
                    "current_page": 0,
                    "answer_values": [rng.randint(1, 7) for _ in range(n_items)],
                    "started_at": start,
                    "updated_at": start,
                    "submitted_at": start + timedelta(seconds=300),
                    "duration_seconds": 300.0,
                }
            )
            if len(batch) == 10_000:
                connection.execute(insert(Response), batch)
                batch = []
        if batch:
            connection.execute(insert(Response), batch)
    return wave_id


def measure(url: str, label: str, n_responses: int, n_items: int) -> float:
    engine = make_engine(url)
    SQLModel.metadata.create_all(engine)
    wave_id = fill(engine, n_responses, n_items)
    timings = []
    for _ in range(3):
        with Session(engine) as session:
            began = time.perf_counter()
            frame = responses_dataframe(session, [wave_id])
            timings.append(time.perf_counter() - began)
    engine.dispose()
    assert frame.shape == (n_responses, 11 + n_items), frame.shape
    best, worst = min(timings), max(timings)
    print(
        f"{label:<11} {n_responses:,} responses x {n_items} items -> DataFrame {frame.shape}: "
        f"best {best:.2f} s, worst {worst:.2f} s (of 3)"
    )
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--responses", type=int, default=100_000)
    parser.add_argument("--items", type=int, default=40)
    parser.add_argument("--postgres", default=os.environ.get("LOYALTYLAB_TEST_POSTGRES_URL"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        measure(f"sqlite:///{directory}/bench.db", "SQLite", args.responses, args.items)
    if args.postgres:
        admin = make_engine(args.postgres)
        with admin.begin() as connection:
            connection.execute(text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
            connection.execute(text(f"CREATE SCHEMA {SCHEMA}"))
        url = make_url(args.postgres).update_query_dict({"options": f"-csearch_path={SCHEMA}"})
        try:
            measure(
                url.render_as_string(hide_password=False), "PostgreSQL", args.responses, args.items
            )
        finally:
            with admin.begin() as connection:
                connection.execute(text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
            admin.dispose()


if __name__ == "__main__":
    main()
