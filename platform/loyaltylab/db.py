"""Engine and session: SQLite (WAL, foreign keys, busy timeout) or PostgreSQL via psycopg 3."""

from __future__ import annotations

import sqlite3
import threading
import weakref
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy import event
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, create_engine

SQLITE_BUSY_TIMEOUT_MS = 10_000


def _sqlite_pragmas(busy_timeout_ms: int) -> Callable[[Any, Any], None]:
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout={busy_timeout_ms}")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        # NORMAL is the setting for WAL: a commit survives the application crashing, only a
        # power loss can undo the last commits (never corrupting the file); FULL would fsync
        # every commit.
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    return on_connect


def _sqlite_engine(url: URL, busy_timeout_ms: int) -> Engine:
    engine = create_engine(
        url, connect_args={"check_same_thread": False, "timeout": busy_timeout_ms / 1000}
    )
    event.listen(engine, "connect", _sqlite_pragmas(busy_timeout_ms))
    return engine


def make_engine(database_url: str) -> Engine:
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        if url.database and url.database != ":memory:":
            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        return _sqlite_engine(url, SQLITE_BUSY_TIMEOUT_MS)
    if url.get_backend_name() == "postgresql" and url.drivername == "postgresql":
        url = url.set(drivername="postgresql+psycopg")
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)


_impatient: weakref.WeakKeyDictionary[Engine, Engine] = weakref.WeakKeyDictionary()
_impatient_guard = threading.Lock()


def without_waiting(engine: Engine) -> Engine:
    """The same SQLite database through connections that never wait for a lock: a statement
    that would have to wait fails at once with SQLITE_BUSY (see :func:`is_busy`).

    For work on the event loop, which must never sleep in SQLite's busy handler: the
    transaction it would wait for may be one whose commit this very loop has yet to schedule
    (a request's session ends in a worker thread the loop starts), so the wait could only end
    at the busy timeout. Such work tries here and, when the database is busy, goes to a thread
    that waits with ``engine``.
    """
    with _impatient_guard:
        impatient = _impatient.get(engine)
        if impatient is None:
            impatient = _impatient[engine] = _sqlite_engine(engine.url, busy_timeout_ms=0)
    return impatient


def is_busy(error: OperationalError) -> bool:
    """Whether SQLite refused a statement because another connection holds the lock (any
    SQLITE_BUSY: its extended codes keep the primary code in the low byte)."""
    code = getattr(error.orig, "sqlite_errorcode", None)
    return code is not None and code & 0xFF == sqlite3.SQLITE_BUSY


_writers: weakref.WeakKeyDictionary[Engine, threading.Lock] = weakref.WeakKeyDictionary()
_writers_guard = threading.Lock()


def serialized_writes(engine: Engine) -> AbstractContextManager[Any]:
    """Hold around a whole write transaction: on SQLite the threads of a process take turns.

    SQLite has one writer at a time. Without this, every waiting thread sleeps in SQLite's busy
    handler, whose naps grow to 100 ms and are not served in order: under load some writers
    waited seconds or hit the busy timeout ("database is locked"). A lock wakes the next thread
    as soon as the writer is done; only the processes' one writer each still meet in SQLite.
    Other databases lock rows, not the database: nothing to do.
    """
    if engine.dialect.name != "sqlite":
        return nullcontext()
    with _writers_guard:
        lock = _writers.get(engine)
        if lock is None:
            lock = _writers[engine] = threading.Lock()
    return lock


class TurnTakingSession(Session):
    """A session that writes in turns: it takes :func:`serialized_writes` at its first write
    (a flush or an INSERT/UPDATE/DELETE) and gives it back when its transaction ends.

    Reading, validating and rendering stay outside the turn; only the write transaction is
    serialised.
    """


def _take_turn(session: Session) -> None:
    if "write_turn" not in session.info:
        turn = serialized_writes(session.get_bind())
        turn.__enter__()
        session.info["write_turn"] = turn


@event.listens_for(TurnTakingSession, "before_flush")
def _turn_before_flush(session: Session, _context: Any, _instances: Any) -> None:
    _take_turn(session)


@event.listens_for(TurnTakingSession, "do_orm_execute")
def _turn_before_dml(state: Any) -> None:
    if state.is_insert or state.is_update or state.is_delete:
        _take_turn(state.session)


@event.listens_for(TurnTakingSession, "after_transaction_end")
def _turn_after_transaction(session: Session, transaction: Any) -> None:
    if transaction.parent is None:
        turn = session.info.pop("write_turn", None)
        if turn is not None:
            turn.__exit__(None, None, None)


def get_session(request: Request) -> Iterator[Session]:
    """One transaction per request: services flush, this commits once or rolls back."""
    with Session(request.app.state.engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


# scope="function": the commit runs when the handler returns, before the response is sent, so
# nothing is acknowledged that was not committed (a failed commit becomes an error response).
SessionDep = Annotated[Session, Depends(get_session, scope="function")]
