"""Respondents completing a two-page questionnaire over HTTP against a live server, from
threads, each writing its own name in the first question so the database tells whose response
each row is. Used by the crash-safety and backup tests."""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field

import httpx
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from loyaltylab.fieldwork.models import Response, ResponseStatus, Wave
from tests.surveys.questionnaire_support import texts

RETRY_WAIT_SECONDS = 120
SENDS = 3
"""Tries of one request: the first, again once the server is back, and once more (a kept-alive
connection to the dead server can fail once after the restart)."""
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
    submits: dict[str, list[tuple[str, dict[str, str]]]] = field(default_factory=dict)
    """Each respondent's POSTs (path and form, submission key included), in order."""
    cookies: dict[str, httpx.Cookies] = field(default_factory=dict)
    """Each respondent's cookies once it finished (its browser's)."""

    @property
    def acknowledged_count(self) -> int:
        with self.lock:
            return len(self.acknowledged)

    def acknowledged_so_far(self) -> list[str]:
        with self.lock:
            return list(self.acknowledged)

    def respond(self, name: str) -> None:
        """Consent, answer both pages, follow the redirect to the thank-you page."""
        with httpx.Client(base_url=self.base, timeout=30) as browser:
            page = self._send(browser, name, "GET", f"/s/{self.slug}")
            consent = {**_hidden(page), "consent": "yes"}
            reply = self._send(browser, name, "POST", f"/s/{self.slug}/start", consent)
            for number, answers in enumerate(({"name": name}, {"sat": "4"})):
                assert reply.status_code == 303, reply.text
                page = self._send(browser, name, "GET", reply.headers["location"])
                assert page.status_code == 200, page.text
                form = {**_hidden(page), **answers, "action": "next"}
                reply = self._send(browser, name, "POST", f"/s/{self.slug}/page/{number}", form)
            assert reply.status_code == 303 and reply.headers["location"].endswith("/done")
        with self.lock:
            self.acknowledged.append(name)
            self.cookies[name] = browser.cookies

    def submit_again(self, name: str) -> list[httpx.Response]:
        """Every POST of a respondent sent again from its browser (a double tap, a reload)."""
        with httpx.Client(base_url=self.base, timeout=30, cookies=self.cookies[name]) as browser:
            return [
                browser.post(path, data=form, follow_redirects=False)
                for path, form in self.submits[name]
            ]

    def _send(
        self, browser: httpx.Client, name: str, method: str, path: str, form: dict | None = None
    ) -> httpx.Response:
        if form is not None:
            with self.lock:
                self.submits.setdefault(name, []).append((path, form))
        for attempt in range(SENDS):
            try:
                return browser.request(method, path, data=form, follow_redirects=False)
            except httpx.TransportError:
                # The server died under the request: send it again once it is back.
                if attempt == SENDS - 1 or not self.server_back.wait(RETRY_WAIT_SECONDS):
                    raise
                with self.lock:
                    self.retried.add(name)
        raise AssertionError("unreachable")


def _hidden(page: httpx.Response) -> dict[str, str]:
    return dict(HIDDEN_FIELDS.findall(page.text))


def completes_by_name(engine: Engine, wave: Wave) -> dict[str, int]:
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
