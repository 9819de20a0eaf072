"""Crash safety: ``loyaltylab serve`` is killed with SIGKILL while respondents complete the
questionnaire, restarted on the same database, and nothing acknowledged is lost or doubled.

A respondent whose request failed because the server died sends the same request
again (the same form, so the same submission key) once the server is back, as a browser's
reload or a second tap would.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from loyaltylab.fieldwork.models import Response
from loyaltylab.studies.models import Study
from tests.loyaltylab.cli_support import free_port
from tests.loyaltylab.fieldwork_support import open_wave
from tests.loyaltylab.respondent_load import QUESTIONNAIRE, Fieldwork, completes_by_name

RESPONDENTS = 20
IN_FLIGHT = 5
KILL_AFTER = 6
"""Acknowledged completes before the server is killed (the others are mid-questionnaire)."""
STARTUP_SECONDS = 60


def _serve(env: dict[str, str], port: int, cwd: Path) -> subprocess.Popen:
    server = subprocess.Popen(
        [sys.executable, "-m", "loyaltylab", "serve", "--port", str(port)],
        env=env,
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + STARTUP_SECONDS
    while True:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                return server
        except httpx.TransportError:
            pass
        if server.poll() is not None or time.monotonic() > deadline:
            server.kill()
            raise RuntimeError(f"the server did not start (exit code {server.poll()})")
        time.sleep(0.1)


@pytest.fixture
def server_env(settings, tmp_path: Path) -> Iterator[dict[str, str]]:
    yield {
        **os.environ,
        "LOYALTYLAB_DATABASE_URL": settings.database_url,
        "LOYALTYLAB_SECRET_KEY": settings.secret_key,
        "LOYALTYLAB_VAR_DIR": str(tmp_path / "var"),
        "LOYALTYLAB_ENV": "development",
    }


@pytest.mark.slow
def test_a_killed_server_keeps_every_acknowledged_complete_exactly_once(
    session: Session, study: Study, engine: Engine, server_env: dict[str, str], tmp_path: Path
) -> None:
    wave = open_wave(session, study, QUESTIONNAIRE, "crash")
    port = free_port()
    server_env["LOYALTYLAB_BASE_URL"] = f"http://127.0.0.1:{port}"
    fieldwork = Fieldwork(base=f"http://127.0.0.1:{port}", slug=wave.public_slug)
    names = [f"respondent-{number:02d}" for number in range(RESPONDENTS)]
    began = time.monotonic()
    server = _serve(server_env, port, tmp_path)
    pool = ThreadPoolExecutor(IN_FLIGHT)
    try:
        running = [pool.submit(fieldwork.respond, name) for name in names]
        while fieldwork.acknowledged_count < KILL_AFTER:
            assert not any(job.done() and job.exception() for job in running)
            assert time.monotonic() - began < STARTUP_SECONDS + 30, "respondents too slow"
            time.sleep(0.01)
        server.send_signal(signal.SIGKILL)
        server.wait()
        acknowledged_before_the_kill = fieldwork.acknowledged_so_far()
        server = _serve(server_env, port, tmp_path)
        # Before anyone sends anything again: what was acknowledged is there, once.
        stored = completes_by_name(engine, wave)
        assert {name: stored.get(name) for name in acknowledged_before_the_kill} == {
            name: 1 for name in acknowledged_before_the_kill
        }
        fieldwork.server_back.set()
        for job in running:
            job.result()
        # Committed submits sent again with their submission keys (a double tap, a reload).
        for name in acknowledged_before_the_kill:
            consent, *pages = fieldwork.submit_again(name)
            assert consent.status_code == 303 and "/page/0" in consent.headers["location"]
            assert all(reply.status_code == 303 for reply in pages)
    finally:
        fieldwork.server_back.set()  # when something failed: no thread is left waiting
        server.kill()
        server.wait()
        pool.shutdown(cancel_futures=True)
    assert len(acknowledged_before_the_kill) < RESPONDENTS  # the kill came mid-load
    assert fieldwork.retried, "no request was cut off by the kill"
    # Every respondent finished; the repeated requests added nothing.
    assert completes_by_name(engine, wave) == dict.fromkeys(names, 1)
    with Session(engine) as check:
        started = check.exec(select(Response.id).where(Response.wave_id == wave.id)).all()
    assert len(started) == RESPONDENTS
