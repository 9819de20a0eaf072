"""Ingest benchmark: N concurrent respondents complete a 30-item questionnaire over HTTP.

Starts the real server (uvicorn, SQLite, 2 workers) on a fresh database, then drives
respondents with httpx exactly as a browser without JavaScript would: open the public link,
consent, then GET and POST every page (3 pages of 10 items), and read the thank-you page. It
prints completes per second, p50/p99 latency per request, acknowledged (thank-you page seen)
versus stored complete responses, and the bare ``/healthz`` rate measured in the same run.

Usage: ``python bench/ingest.py [--respondents 600] [--concurrency 50]``
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from sqlalchemy import func
from sqlmodel import Session, SQLModel, select

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "platform"), str(Path(__file__).parent)]

from seed import open_wave, rating_definition  # noqa: E402

import loyaltylab.models  # noqa: E402, F401
from loyaltylab.db import make_engine  # noqa: E402
from surveys.fieldwork.models import Response, ResponseStatus  # noqa: E402

FIELDS = re.compile(r'name="(csrf_token|submission_key)" value="([^"]+)"')
ITEMS, PER_PAGE = 30, 10


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


async def respondent(base: str, slug: str, latencies: list[float]) -> bool:
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:

        async def call(method: str, path: str, data: dict | None = None) -> httpx.Response:
            began = time.perf_counter()
            response = await client.request(method, path, data=data)
            latencies.append(time.perf_counter() - began)
            return response

        page = await call("GET", f"/s/{slug}")
        form = dict(FIELDS.findall(page.text))
        response = await call("POST", f"/s/{slug}/start", {**form, "consent": "yes"})
        for number in range(ITEMS // PER_PAGE):
            page = await call("GET", response.headers["location"])
            form = dict(FIELDS.findall(page.text))
            answers = {
                f"q{i + 1}": str(1 + i % 7)
                for i in range(number * PER_PAGE, (number + 1) * PER_PAGE)
            }
            response = await call(
                "POST", f"/s/{slug}/page/{number}", {**form, **answers, "action": "next"}
            )
        if response.status_code != 303 or not response.headers["location"].endswith("/done"):
            return False
        done = await call("GET", response.headers["location"])
        return done.status_code == 200 and 'role="status"' in done.text


async def drive(
    base: str, slug: str, respondents: int, concurrency: int
) -> tuple[int, list[float], float]:
    latencies: list[float] = []
    gate = asyncio.Semaphore(concurrency)

    async def one() -> bool:
        async with gate:
            try:
                return await respondent(base, slug, latencies)
            except httpx.HTTPError:
                return False

    began = time.perf_counter()
    results = await asyncio.gather(*(one() for _ in range(respondents)))
    return sum(results), latencies, time.perf_counter() - began


async def healthz_rate(base: str, requests: int, concurrency: int) -> float:
    async with httpx.AsyncClient(base_url=base) as client:
        gate = asyncio.Semaphore(concurrency)

        async def one() -> None:
            async with gate:
                await client.get("/healthz")

        began = time.perf_counter()
        await asyncio.gather(*(one() for _ in range(requests)))
        return requests / (time.perf_counter() - began)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--respondents", type=int, default=600)
    parser.add_argument("--concurrency", type=int, default=50)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        url = f"sqlite:///{directory}/ingest.db"
        engine = make_engine(url)
        SQLModel.metadata.create_all(engine)
        with Session(engine) as session:
            slug = open_wave(session, rating_definition(ITEMS, per_page=PER_PAGE)).public_slug
        port = free_port()
        log = open(Path(directory) / "server.log", "w")  # noqa: SIM115 (lives as long as the server)
        env = {
            **os.environ,
            "PYTHONPATH": str(ROOT / "platform"),
            "LOYALTYLAB_DATABASE_URL": url,
            "LOYALTYLAB_SECRET_KEY": "bench-" + "k" * 40,
            "LOYALTYLAB_BASE_URL": f"http://127.0.0.1:{port}",
            "LOYALTYLAB_VAR_DIR": directory,
        }
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "loyaltylab.asgi:app",
                "--workers",
                "2",
                "--port",
                str(port),
                "--no-access-log",
                "--log-level",
                "warning",
            ],
            env=env,
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            for _ in range(100):
                try:
                    if httpx.get(f"{base}/healthz").status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.1)
            health = asyncio.run(healthz_rate(base, 3000, args.concurrency))
            acknowledged, latencies, elapsed = asyncio.run(
                drive(base, slug, args.respondents, args.concurrency)
            )
        finally:
            server.terminate()
            server.wait(timeout=30)
        log.close()
        errors = (Path(directory) / "server.log").read_text().count("Traceback")
        with Session(engine) as session:
            stored = session.exec(
                select(func.count()).where(Response.status == ResponseStatus.complete)
            ).one()
        latencies.sort()
        requests_per_complete = len(latencies) / max(args.respondents, 1)
        print(
            f"respondents {args.respondents}, concurrency {args.concurrency}, "
            f"{ITEMS} items on {ITEMS // PER_PAGE} pages, {requests_per_complete:.0f} requests each"
        )
        print(
            f"completes/s      {acknowledged / elapsed:8.1f}"
            f"   ({len(latencies) / elapsed:.0f} requests/s)"
        )
        print(f"latency p50      {statistics.median(latencies) * 1000:8.1f} ms")
        print(f"latency p99      {latencies[int(len(latencies) * 0.99) - 1] * 1000:8.1f} ms")
        print(f"acknowledged     {acknowledged:8d}")
        print(f"stored complete  {stored:8d}")
        print(f"/healthz         {health:8.0f} requests/s (same server, same run)")
        print(
            f"ratio            {len(latencies) / elapsed / health:8.2f}"
            " of the bare /healthz request rate"
        )
        print(f"server errors    {errors:8d}")
        if stored != acknowledged:
            sys.exit("acknowledged and stored responses differ")


if __name__ == "__main__":
    main()
