"""The database layer: one transaction per request, committed before the response is sent."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlmodel import Session, func, select

from loyaltylab.accounts.models import Organisation, User
from loyaltylab.db import SessionDep


def test_a_failed_commit_is_never_acknowledged(app: FastAPI, session: Session) -> None:
    existing = User(email="taken@example.org", password_hash="x")
    session.add(existing)
    session.commit()

    @app.get("/test-only/duplicate-user")
    def add_duplicate(db: SessionDep) -> dict[str, bool]:
        # Not flushed here: the unique constraint fails only when the dependency commits.
        db.add(Organisation(name="Should not survive"))
        db.add(User(email="taken@example.org", password_hash="y"))
        return {"saved": True}

    client = TestClient(app, raise_server_exceptions=False)
    response = client.get("/test-only/duplicate-user")
    assert response.status_code == 500
    session.expire_all()
    assert session.exec(select(func.count()).select_from(Organisation)).one() == 0


def test_a_handler_error_rolls_back_everything(app: FastAPI, session: Session) -> None:
    @app.get("/test-only/fails-after-write")
    def fails(db: SessionDep) -> None:
        db.add(Organisation(name="Half done"))
        db.flush()
        raise RuntimeError("boom")

    client = TestClient(app, raise_server_exceptions=False)
    assert client.get("/test-only/fails-after-write").status_code == 500
    assert session.exec(select(func.count()).select_from(Organisation)).one() == 0


def test_sqlite_runs_in_wal_mode_with_foreign_keys(engine) -> None:
    if engine.dialect.name != "sqlite":
        pytest.skip("SQLite pragmas")
    with engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert connection.execute(text("PRAGMA busy_timeout")).scalar() >= 5000
