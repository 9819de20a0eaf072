"""Respondent requests in process: the CPU one request costs the whole app, without HTTP.

Seeds a fresh SQLite database with the ingest benchmark's questionnaire (30 required 7-point
items on one page), then drives the real ASGI application (every middleware, the routing, the
worker thread, the commit) with respondents who open the public link, consent, read the page,
answer it and read the thank-you page: the five requests of ``bench/ingest.py``. No sockets, no
HTTP parsing and no load generator share the CPU, so the figure moves far less with the load
of the machine than a server's does; the driver's own work (building the ASGI messages,
reading the forms' tokens) is included and is the same in both trees.

Prints the CPU time per respondent request and per ``/healthz`` request, and the SQL
statements each request of a respondent runs.

Usage: ``python bench/respond_cpu.py [--respondents 300] [--tree CHECKOUT]``;
``bench/compare.py`` runs it against two checkouts side by side.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import secrets
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[1]

FIELDS = re.compile(r'name="(csrf_token|submission_key)" value="([^"]+)"')
ITEMS = 30
HOST = b"127.0.0.1:8000"
WARM_UP = 30


class Driver:
    """Sends requests to an ASGI app as a server would, keeping one respondent's cookies."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def call(
        self, method: str, path: str, cookies: dict[str, str], form: dict[str, str] | None = None
    ) -> tuple[int, dict[bytes, bytes], str]:
        body = urlencode(form).encode() if form is not None else b""
        headers = [(b"host", HOST), (b"accept", b"text/html"), (b"accept-language", b"zh-CN")]
        if form is not None:
            headers.append((b"content-type", b"application/x-www-form-urlencoded"))
            headers.append((b"content-length", str(len(body)).encode()))
        if cookies:
            cookie = "; ".join(f"{name}={value}" for name, value in cookies.items())
            headers.append((b"cookie", cookie.encode()))
        path, _, query = path.partition("?")
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": method,
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "query_string": query.encode(),
            "root_path": "",
            "headers": headers,
            "client": ("127.0.0.1", 50000),
            "server": ("127.0.0.1", 8000),
            "state": {},
        }
        pending = [{"type": "http.request", "body": body, "more_body": False}]

        async def receive() -> dict[str, Any]:
            return pending.pop() if pending else {"type": "http.disconnect"}

        status = 0
        response_headers: list[tuple[bytes, bytes]] = []
        chunks: list[bytes] = []

        async def send(message: dict[str, Any]) -> None:
            nonlocal status, response_headers
            if message["type"] == "http.response.start":
                status, response_headers = message["status"], message.get("headers", [])
            else:
                chunks.append(message.get("body", b""))

        await self.app(scope, receive, send)
        for name, value in response_headers:
            if name == b"set-cookie":
                text = value.decode("latin-1")
                cookie, _, rest = text.partition("=")
                if "01 jan 1970" in text.lower() or "max-age=0" in text.lower():
                    cookies.pop(cookie, None)
                else:
                    cookies[cookie] = rest.split(";", 1)[0]
        return status, dict(response_headers), b"".join(chunks).decode()


async def respondent(driver: Driver, slug: str, trace: list[tuple[str, int]] | None) -> None:
    """The five requests of bench/ingest.py; ``trace`` gets (request, SQL statements) pairs."""
    cookies: dict[str, str] = {}
    answers = {f"q{i + 1}": str(1 + i % 7) for i in range(ITEMS)}
    steps = [
        ("GET", f"/s/{slug}", None),
        ("POST", f"/s/{slug}/start", {"consent": "yes"}),
        ("GET", None, None),
        ("POST", f"/s/{slug}/page/0", {**answers, "action": "next"}),
        ("GET", None, None),
    ]
    tokens: dict[str, str] = {}
    location = ""
    for method, path, form in steps:
        before = len(STATEMENTS)
        status, headers, text = await driver.call(
            method, path or location, cookies, {**tokens, **form} if form is not None else None
        )
        if trace is not None:
            trace.append((f"{method} {(path or location).replace(slug, '{slug}')}", before))
        if status == 303:
            location = headers[b"location"].decode()
        elif status == 200:
            tokens = dict(FIELDS.findall(text))
        else:
            raise RuntimeError(f"{method} {path or location}: {status}")
    if not location.endswith("/done") or 'role="status"' not in text:
        raise RuntimeError("the respondent did not reach the thank-you page")


STATEMENTS: list[str] = []


def _note_statement(_connection: Any, _cursor: Any, statement: str, *_args: Any) -> None:
    STATEMENTS.append(statement.split()[0])


async def run(respondents: int) -> None:
    from seed import open_wave, rating_definition
    from sqlalchemy import event
    from sqlmodel import Session, SQLModel

    import loyaltylab.db
    import loyaltylab.models  # registers every table
    from loyaltylab.app import create_app
    from loyaltylab.settings import Settings

    with tempfile.TemporaryDirectory() as directory:
        settings = Settings(
            env="production",
            database_url=f"sqlite:///{directory}/respond.db",
            secret_key=secrets.token_urlsafe(32),
            base_url="http://127.0.0.1:8000",
            var_dir=directory,
        )
        app = create_app(settings)
        engine = app.state.engine
        SQLModel.metadata.create_all(engine)
        with Session(engine) as session:
            slug = open_wave(session, rating_definition(ITEMS, per_page=ITEMS)).public_slug
        driver = Driver(app)
        for _ in range(WARM_UP):
            await respondent(driver, slug, None)
            await driver.call("GET", "/healthz", {})

        began = time.process_time()
        for _ in range(respondents):
            await respondent(driver, slug, None)
        per_request = (time.process_time() - began) / (respondents * 5)

        began = time.process_time()
        health = respondents * 5
        for _ in range(health):
            await driver.call("GET", "/healthz", {})
        per_health = (time.process_time() - began) / health

        # Counted on one more respondent only: the listener costs every statement some time.
        # On SQLite the steps try connections that never wait first (a checkout from before
        # them has only the one engine).
        without_waiting = getattr(loyaltylab.db, "without_waiting", None)
        for each in [engine, *([without_waiting(engine)] if without_waiting else [])]:
            event.listen(each, "before_cursor_execute", _note_statement)
        trace: list[tuple[str, int]] = []
        await respondent(driver, slug, trace)
        engine.dispose()

    print(f"respondent CPU   {per_request * 1000:8.3f} ms per request ({respondents} respondents)")
    print(f"/healthz CPU     {per_health * 1000:8.3f} ms per request")
    ends = [start for _, start in trace[1:]] + [len(STATEMENTS)]
    for (label, start), end in zip(trace, ends, strict=True):
        kinds = " ".join(STATEMENTS[start:end])
        print(f"  {label:28} {end - start:2d} SQL statements: {kinds}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--respondents", type=int, default=300)
    parser.add_argument(
        "--tree", type=Path, default=ROOT, help="the checkout whose app is measured (default: this)"
    )
    args = parser.parse_args()
    tree = args.tree.resolve()
    # The measured checkout's packages first; the seeding helpers are this script's.
    sys.path[:0] = [str(tree / "platform"), str(tree), str(Path(__file__).parent)]
    asyncio.run(run(args.respondents))


if __name__ == "__main__":
    main()
