"""The test password, member creation, signing in, CSRF tokens and a live server for browser
tests."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import Session

from loyaltylab import models as _all_tables  # noqa: F401  (registers every table)
from loyaltylab.accounts.models import Membership, Organisation, Role, User
from loyaltylab.app import SERVER_OPTIONS
from loyaltylab.db import without_waiting
from loyaltylab.security import hash_password

TEST_PASSWORD = "correct horse battery staple"


def create_member(
    session: Session,
    organisation: Organisation,
    *,
    email: str,
    role: Role = Role.owner,
    password: str = TEST_PASSWORD,
) -> User:
    user = User(email=email, name=email.split("@")[0], password_hash=hash_password(password))
    session.add(user)
    session.flush()
    session.add(Membership(user_id=user.id, organisation_id=organisation.id, role=role))
    session.commit()
    return user


CSRF_PATTERN = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_from(client: TestClient, path: str) -> str:
    """The CSRF token of the form on a page, as a browser would read it."""
    response = client.get(path)
    match = CSRF_PATTERN.search(response.text)
    if not match:
        raise LookupError(f"no CSRF field on {path} (status {response.status_code})")
    return match.group(1)


def log_in(client: TestClient, email: str, password: str = TEST_PASSWORD) -> None:
    token = csrf_from(client, "/login")
    response = client.post(
        "/login",
        data={"email": email, "password": password, "csrf_token": token},
        follow_redirects=False,
    )
    if response.status_code != 303:
        raise RuntimeError(f"log-in as {email} failed: {response.status_code}")


PHONE = {"width": 390, "height": 844}


def serve_in_thread(application: FastAPI) -> Iterator[str]:
    """Serve an app with uvicorn on a free localhost port; yields its base URL."""
    server = uvicorn.Server(
        uvicorn.Config(application, host="127.0.0.1", port=0, log_level="warning", **SERVER_OPTIONS)
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=5)


@contextmanager
def sql_statements(engine: Engine) -> Iterator[list[str]]:
    """The SQL statements run while the block runs: through ``engine`` and, on SQLite, through
    the connections the respondent steps try first (:func:`loyaltylab.db.without_waiting`)."""
    statements: list[str] = []

    def record(_connection, _cursor, statement, *_args) -> None:
        statements.append(statement)

    engines = [engine, without_waiting(engine)] if engine.dialect.name == "sqlite" else [engine]
    for each in engines:
        event.listen(each, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        for each in engines:
            event.remove(each, "before_cursor_execute", record)
