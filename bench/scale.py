"""Scaling benchmark: the same request mix against 1 and then 2 app processes on PostgreSQL.

Seeds a fresh PostgreSQL schema (an organisation, an owner, an open wave), then for each
setting starts ``loyaltylab serve --workers N`` on a loopback port and drives a fixed number of
requests with httpx from one asyncio client: a third each of the login page (anonymous), the
authenticated studies list and a respondent's public-link page. Prints requests/s, p50 and p99
per setting, the ratio and the load average; the schema is dropped afterwards.

Bounded: ``--requests`` per setting (default 1200) and ``--deadline`` seconds per setting.
Loopback only. Usage::

    LOYALTYLAB_TEST_POSTGRES_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test \\
        python bench/scale.py [--requests 1200] [--concurrency 16]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import secrets
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx
from sqlalchemy import make_url, text
from sqlmodel import Session, SQLModel

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "platform"), str(Path(__file__).parent)]

from seed import open_wave, rating_definition  # noqa: E402

import loyaltylab.models  # noqa: E402, F401
from loyaltylab.accounts.models import Membership, Role, User  # noqa: E402
from loyaltylab.db import make_engine  # noqa: E402
from loyaltylab.security import hash_password  # noqa: E402

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
EMAIL, PASSWORD = "owner@bench.example", "bench passphrase 2026"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def schema_url(base: str, schema: str) -> str:
    url = make_url(base)
    if url.drivername == "postgresql":
        url = url.set(drivername="postgresql+psycopg")
    return url.update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(
        hide_password=False
    )


def seed(url: str) -> str:
    engine = make_engine(url)
    SQLModel.metadata.create_all(engine)
    with Session(engine) as session:
        wave = open_wave(session, rating_definition(12, per_page=6))
        user = User(email=EMAIL, name="Owner", password_hash=hash_password(PASSWORD))
        session.add(user)
        session.flush()
        session.add(
            Membership(user_id=user.id, organisation_id=wave.organisation_id, role=Role.owner)
        )
        session.commit()
        slug = wave.public_slug
    engine.dispose()
    return slug


def wait_ready(base: str, server: subprocess.Popen, limit: float = 60) -> None:
    began = time.monotonic()
    while time.monotonic() - began < limit:
        if server.poll() is not None:
            raise RuntimeError("the server exited during start-up")
        try:
            if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError("the server did not start in time")


async def drive(base: str, slug: str, requests: int, concurrency: int, deadline: float):
    async with (
        httpx.AsyncClient(base_url=base, timeout=30) as anonymous,
        httpx.AsyncClient(base_url=base, timeout=30) as signed_in,
    ):
        page = await signed_in.get("/login")
        token = CSRF.search(page.text).group(1)
        login = await signed_in.post(
            "/login", data={"email": EMAIL, "password": PASSWORD, "csrf_token": token}
        )
        if login.status_code != 303:
            raise RuntimeError(f"sign-in failed: {login.status_code}")
        mix = [(anonymous, "/login"), (signed_in, "/studies"), (anonymous, f"/s/{slug}")]
        latencies: list[float] = []
        failures = 0
        gate = asyncio.Semaphore(concurrency)
        stop_at = time.perf_counter() + deadline

        async def one(number: int) -> None:
            nonlocal failures
            client, path = mix[number % len(mix)]
            async with gate:
                if time.perf_counter() > stop_at:
                    return
                began = time.perf_counter()
                response = await client.get(path)
                latencies.append(time.perf_counter() - began)
                failures += response.status_code != 200

        began = time.perf_counter()
        await asyncio.gather(*(one(n) for n in range(requests)))
        return latencies, failures, time.perf_counter() - began


def run_setting(url: str, slug: str, workers: int, args: argparse.Namespace) -> dict:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT / "platform"),
        "LOYALTYLAB_DATABASE_URL": url,
        "LOYALTYLAB_SECRET_KEY": "bench-" + secrets.token_hex(24),
        "LOYALTYLAB_BASE_URL": base,
    }
    command = [sys.executable, "-m", "loyaltylab", "serve", "--workers", str(workers)]
    command += ["--host", "127.0.0.1", "--port", str(port)]
    # Not a pipe: an unread pipe fills up and blocks the server's logging.
    server = subprocess.Popen(
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        wait_ready(base, server)
        asyncio.run(drive(base, slug, 60, args.concurrency, args.deadline))  # warm-up
        latencies, failures, seconds = asyncio.run(
            drive(base, slug, args.requests, args.concurrency, args.deadline)
        )
    finally:
        server.terminate()
        server.wait(timeout=30)
    ordered = sorted(latencies)
    return {
        "workers": workers,
        "requests": len(latencies),
        "failures": failures,
        "rate": len(latencies) / seconds,
        "p50": statistics.median(ordered) * 1000,
        "p99": ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))] * 1000,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1200)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--deadline", type=float, default=60.0, help="seconds per setting")
    args = parser.parse_args()
    admin_url = os.environ.get("LOYALTYLAB_TEST_POSTGRES_URL")
    if not admin_url:
        sys.exit("Set LOYALTYLAB_TEST_POSTGRES_URL to a PostgreSQL database to use.")
    schema = f"bench_scale_{os.getpid()}"
    admin = make_engine(admin_url)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        url = schema_url(admin_url, schema)
        slug = seed(url)
        results = [run_setting(url, slug, workers, args) for workers in (1, 2)]
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()
    print(f"{os.cpu_count()} CPUs, load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print("mix: GET /login, GET /studies (signed in), GET /s/{slug}; concurrency", args.concurrency)
    for r in results:
        print(
            f"{r['workers']} process(es): {r['requests']} requests ({r['failures']} failed), "
            f"{r['rate']:.0f} req/s, p50 {r['p50']:.1f} ms, p99 {r['p99']:.1f} ms"
        )
    print(f"ratio 2/1 processes: {results[1]['rate'] / results[0]['rate']:.2f}x")


if __name__ == "__main__":
    main()
