"""Crash safety: ``loyaltylab serve`` is killed with SIGKILL while respondents complete the
questionnaire, restarted on the same database, and nothing acknowledged is lost or doubled.

Each respondent writes its own name in the first question, so the database tells whose response
each row is. A respondent whose request failed because the server died sends the same request
again (the same form, so the same submission key) once the server is back, as a browser's
reload or a second tap would.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from loyaltylab.studies.models import Study
from surveys.fieldwork.models import Response, ResponseStatus, Wave
from tests.loyaltylab.conftest import open_wave, texts
from tests.loyaltylab.test_cli import free_port

RESPONDENTS = 30
IN_FLIGHT = 6
KILL_AFTER = 8
"""Acknowledged completes before the server is killed (the others are mid-questionnaire)."""
STARTUP_SECONDS = 60
HIDDEN_FIELDS = re.compile(r'name="(csrf_token|submission_key)" value="([^"]+)"')
SCALE = {"points": 5, "anchors": [texts("Disagree", "不同意"), texts("Agree", "同意")]}
QUESTIONNAIRE = {
    "title": texts("Crash test", "崩溃测试"),
    "languages": ["en", "zh-CN"],
    "sections": [
        {
            "code": "who",
            "title": texts("You", "您"),
            "items": [
                {
                    "type": "short_text",
                    "code": "name",
                    "label": texts("Name", "姓名"),
                    "required": True,
                }
            ],
        },
        {
            "code": "rating",
            "title": texts("Rating", "评分"),
            "items": [
                {
                    "type": "likert",
                    "code": "sat",
                    "label": texts("Satisfied", "满意"),
                    "required": True,
                    "scale": SCALE,
                }
            ],
        },
    ],
}


@dataclass
class Fieldwork:
    """What the respondents' threads share with the test."""

    base: str
    slug: str
    server_back: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)
    acknowledged: list[str] = field(default_factory=list)
    """Respondents who saw the thank-you redirect, in order."""
    retried: set[str] = field(default_factory=set)
    """Respondents who sent a request again because the server died under it."""

    def respond(self, name: str) -> None:
        """Consent, answer both pages, follow the redirect to the thank-you page."""
        with httpx.Client(base_url=self.base, timeout=30) as browser:
            page = self._send(browser, name, "GET", f"/s/{self.slug}")
            reply = self._send(
                browser, name, "POST", f"/s/{self.slug}/start", {**_hidden(page), "consent": "yes"}
            )
            for number, answers in enumerate(({"name": name}, {"sat": "4"})):
                assert reply.status_code == 303, reply.text
                page = self._send(browser, name, "GET", reply.headers["location"])
                assert page.status_code == 200, page.text
                form = {**_hidden(page), **answers, "action": "next"}
                reply = self._send(browser, name, "POST", f"/s/{self.slug}/page/{number}", form)
            assert reply.status_code == 303 and reply.headers["location"].endswith("/done")
        with self.lock:
            self.acknowledged.append(name)

    def _send(
        self, browser: httpx.Client, name: str, method: str, path: str, form: dict | None = None
    ) -> httpx.Response:
        while True:
            try:
                return browser.request(method, path, data=form, follow_redirects=False)
            except httpx.TransportError:
                with self.lock:
                    self.retried.add(name)
                if not self.server_back.wait(STARTUP_SECONDS * 2):
                    raise


def _hidden(page: httpx.Response) -> dict[str, str]:
    return dict(HIDDEN_FIELDS.findall(page.text))


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


def _completes_by_name(engine: Engine, wave: Wave) -> dict[str, int]:
    """How many complete responses each respondent has (by the name it answered)."""
    counts: dict[str, int] = {}
    with Session(engine) as session:
        for values in session.exec(
            select(Response.answer_values).where(
                Response.wave_id == wave.id, Response.status == ResponseStatus.complete
            )
        ):
            name = next(value for value in values if isinstance(value, str))
            counts[name] = counts.get(name, 0) + 1
    return counts


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
    try:
        with ThreadPoolExecutor(IN_FLIGHT) as pool:
            running = [pool.submit(fieldwork.respond, name) for name in names]
            while len(fieldwork.acknowledged) < KILL_AFTER:
                assert not any(job.done() and job.exception() for job in running)
                assert time.monotonic() - began < STARTUP_SECONDS + 30, "respondents too slow"
                time.sleep(0.01)
            server.send_signal(signal.SIGKILL)
            server.wait()
            with fieldwork.lock:
                acknowledged_before_the_kill = list(fieldwork.acknowledged)
            server = _serve(server_env, port, tmp_path)
            # Before anyone sends anything again: what was acknowledged is there, once.
            stored = _completes_by_name(engine, wave)
            assert {name: stored.get(name) for name in acknowledged_before_the_kill} == {
                name: 1 for name in acknowledged_before_the_kill
            }
            fieldwork.server_back.set()
            for job in running:
                job.result()
    finally:
        server.kill()
        server.wait()
    assert len(acknowledged_before_the_kill) < RESPONDENTS  # the kill came mid-load
    assert fieldwork.retried, "no request was cut off by the kill"
    # Every respondent finished; the repeated requests added nothing.
    assert _completes_by_name(engine, wave) == dict.fromkeys(names, 1)
    with Session(engine) as check:
        started = check.exec(select(Response.id).where(Response.wave_id == wave.id)).all()
    assert len(started) == RESPONDENTS
