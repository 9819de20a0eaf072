"""The ``loyaltylab`` command, run for real in subprocesses."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from sqlmodel import Session, func, select

from loyaltylab.accounts.models import Membership, Organisation, User
from loyaltylab.db import make_engine
from loyaltylab.demo import DEMO_PASSWORDS
from loyaltylab.fieldwork.models import Response, ResponseStatus, Wave
from loyaltylab.security import verify_password
from loyaltylab.studies.models import Study
from tests.loyaltylab.cli_support import free_port, loyaltylab

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def cli_env(empty_database_url: str, tmp_path: Path) -> dict[str, str]:
    return {
        **os.environ,
        "LOYALTYLAB_DATABASE_URL": empty_database_url,
        "LOYALTYLAB_VAR_DIR": str(tmp_path / "var"),
        "LOYALTYLAB_ENV": "development",
    }


@pytest.mark.slow
def test_migrate_then_serve_answers_healthz(cli_env: dict[str, str]) -> None:
    migrated = loyaltylab("migrate", env=cli_env)
    assert migrated.returncode == 0, migrated.stderr
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "loyaltylab", "serve", "--port", str(port)],
        env=cli_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        # Generous: on a loaded machine the imports alone (pandas, scipy, matplotlib) have
        # taken over 30 s; a server that exits stops the wait at once.
        deadline = time.monotonic() + 120
        while True:
            try:
                health = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
                ready = httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1)
                login = httpx.get(f"http://127.0.0.1:{port}/login", timeout=2)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise
                time.sleep(0.2)
        assert health.status_code == 200
        assert ready.status_code == 200
        assert login.status_code == 200 and 'name="password"' in login.text
    finally:
        server.terminate()
        output, _ = server.communicate(timeout=10)
    # The access log names the route and the request id.
    assert "GET /healthz 200" in output


@pytest.mark.slow
def test_demo_is_idempotent_and_prints_working_logins(cli_env: dict[str, str]) -> None:
    assert loyaltylab("migrate", env=cli_env).returncode == 0
    first = loyaltylab("demo", env=cli_env)
    second = loyaltylab("demo", env=cli_env)
    assert first.returncode == 0, first.stderr
    assert second.returncode == 0, second.stderr
    for role, password in DEMO_PASSWORDS.items():
        assert password in second.stdout and role in second.stdout
    engine = make_engine(cli_env["LOYALTYLAB_DATABASE_URL"])
    with Session(engine) as session:
        assert session.exec(select(func.count()).select_from(Organisation)).one() == 2
        assert session.exec(select(func.count()).select_from(Membership)).one() == 3
        # The loyalty study with its two closed waves, and the short survey with its open wave.
        assert session.exec(select(func.count()).select_from(Study)).one() == 2
        assert session.exec(select(func.count()).select_from(Wave)).one() == 3
        (slug,) = session.exec(select(Wave.public_slug).where(Wave.status == "open")).all()
        completes = select(func.count()).where(Response.status == ResponseStatus.complete)
        assert session.exec(completes).one() == 1200
        owner = session.exec(select(User).where(User.email == "owner@northwind.example")).one()
        assert verify_password(owner.password_hash, DEMO_PASSWORDS["owner"])
    engine.dispose()
    # The default base URL, which `make run` serves on.
    link = f"Try the respondent form: http://127.0.0.1:8000/s/{slug}\n"
    assert link in first.stdout and link in second.stdout


def test_demo_refused_in_production(cli_env: dict[str, str]) -> None:
    env = {
        **cli_env,
        "LOYALTYLAB_ENV": "production",
        "LOYALTYLAB_SECRET_KEY": secrets.token_urlsafe(48),
    }
    result = loyaltylab("demo", env=env)
    assert result.returncode == 2
    assert "production" in result.stderr


def test_create_user_reads_the_password_from_stdin(cli_env: dict[str, str]) -> None:
    assert loyaltylab("migrate", env=cli_env).returncode == 0
    created = loyaltylab(
        "create-user",
        "ana@agency.example",
        "--organisation",
        "Agency",
        env=cli_env,
        stdin="a long enough password\n",
    )
    assert created.returncode == 0, created.stderr
    too_short = loyaltylab(
        "create-user", "bo@agency.example", "-o", "Agency", env=cli_env, stdin="short\n"
    )
    assert too_short.returncode == 2
    engine = make_engine(cli_env["LOYALTYLAB_DATABASE_URL"])
    with Session(engine) as session:
        user = session.exec(select(User).where(User.email == "ana@agency.example")).one()
        assert verify_password(user.password_hash, "a long enough password")
        assert session.exec(select(User).where(User.email == "bo@agency.example")).first() is None
    engine.dispose()


def test_sweep_jobs_fails_the_jobs_whose_worker_died(cli_env: dict[str, str]) -> None:
    from datetime import UTC, datetime, timedelta

    from loyaltylab.jobs.models import Job, JobKind, JobStatus

    assert loyaltylab("migrate", env=cli_env).returncode == 0
    engine = make_engine(cli_env["LOYALTYLAB_DATABASE_URL"])
    with Session(engine) as session:
        organisation = Organisation(name="Agency")
        session.add(organisation)
        session.flush()
        started = datetime.now(UTC) - timedelta(hours=2)
        jobs = [
            Job(
                organisation_id=organisation.id,
                kind=JobKind.report,
                subject_id=0,
                status=JobStatus.running,
                started_at=moment,
            )
            for moment in (started, datetime.now(UTC))
        ]
        session.add_all(jobs)
        session.commit()
        stuck, alive = (job.id for job in jobs)
    result = loyaltylab("sweep-jobs", env=cli_env)
    assert result.returncode == 0, result.stderr
    assert f"1 stuck job(s) marked failed: job {stuck}." in result.stdout
    with Session(engine) as session:
        assert session.get(Job, stuck).status is JobStatus.failed
        assert session.get(Job, alive).status is JobStatus.running
    engine.dispose()
