"""Backing up and restoring the embedded SQLite database (``loyaltylab backup`` / ``restore``).

The backup uses SQLite's online backup API in one step: it reads one consistent snapshot while
the app keeps writing (WAL readers do not block writers), so every response committed before it
began is in the copy. It is written next to the target and renamed into place, so a failed or
interrupted backup never leaves a half-written file under the chosen name.

A restore checks that the file is a LoyaltyLab database at a migration this version knows, and
refuses to overwrite a database that holds data unless forced. PostgreSQL is backed up with its
own tools (``pg_dump``/``pg_restore``, docs/deploy.md).
"""

from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from alembic.script import ScriptDirectory
from sqlalchemy.engine import make_url

from loyaltylab.migrate import alembic_config

SQLITE_HEADER = b"SQLite format 3\x00"
POSTGRES_HELP = (
    "The database is PostgreSQL: back it up with pg_dump and restore it with pg_restore, e.g.\n"
    '  pg_dump --format=custom --no-owner --file=loyaltylab.dump "$PGURL"\n'
    "  pg_restore --no-owner --dbname=loyaltylab_restore loyaltylab.dump\n"
    "($PGURL is the database URL without +psycopg; see docs/deploy.md, 'Backups and restore')."
)


class BackupError(ValueError):
    """A backup or restore that cannot be done; the message says why, for the operator.

    Not a domain error (``loyaltylab.errors``): only the command line raises and prints it,
    in English, for the operator; no web request backs up or restores."""


@dataclass(frozen=True)
class DatabaseSummary:
    revision: str
    responses: int
    size: int


def sqlite_path(database_url: str) -> Path:
    """The file of a SQLite URL; BackupError (with the PostgreSQL advice) for other databases."""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite":
        raise BackupError(POSTGRES_HELP)
    if not url.database or url.database == ":memory:":
        raise BackupError("The database is in memory: there is nothing to back up.")
    return Path(url.database)


def known_revisions() -> set[str]:
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    return {revision.revision for revision in script.walk_revisions()}


def head_revision() -> str:
    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head() or ""


def _connect_read_only(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"file:{path}?mode=ro", uri=True)


def summarise(path: Path) -> DatabaseSummary:
    """Check that ``path`` is an intact LoyaltyLab database at a known migration."""
    if not path.is_file():
        raise BackupError(f"{path} does not exist.")
    with path.open("rb") as handle:
        if handle.read(len(SQLITE_HEADER)) != SQLITE_HEADER:
            raise BackupError(f"{path} is not a SQLite database.")
    connection = _connect_read_only(path)
    try:
        (integrity,) = connection.execute("PRAGMA integrity_check").fetchone()
        if integrity != "ok":
            raise BackupError(f"{path} is damaged: {integrity}")
        try:
            rows = connection.execute("SELECT version_num FROM alembic_version").fetchall()
            (responses,) = connection.execute("SELECT count(*) FROM response").fetchone()
        except sqlite3.DatabaseError:
            raise BackupError(f"{path} is not a LoyaltyLab database.") from None
    finally:
        connection.close()
    if len(rows) != 1 or rows[0][0] not in known_revisions():
        found = ", ".join(row[0] for row in rows) or "none"
        raise BackupError(
            f"{path} is at migration {found}, which this version of LoyaltyLab does not know."
        )
    return DatabaseSummary(revision=rows[0][0], responses=responses, size=path.stat().st_size)


def _copy(source: sqlite3.Connection, target: Path, *, journal_mode: str) -> None:
    """Copy ``source``'s database into ``target`` and close both; the copy is left in
    ``journal_mode``."""
    copy = sqlite3.connect(target)
    try:
        # pages=-1: the whole database in one step, under one read transaction (a snapshot).
        source.backup(copy, pages=-1)
        copy.execute(f"PRAGMA journal_mode={journal_mode}")
    finally:
        copy.close()
        source.close()


def backup(database_url: str, target: Path, *, force: bool = False) -> DatabaseSummary:
    """Copy the live database to ``target``; the summary of the copy."""
    source_path = sqlite_path(database_url)
    if not source_path.is_file():
        raise BackupError(f"There is no database at {source_path}.")
    if target.exists() and not force:
        raise BackupError(f"{target} exists: choose another name, or --force to replace it.")
    partial = target.with_name(f".{target.name}.partial")
    partial.unlink(missing_ok=True)
    # Read-write like the app (a read-only connection cannot join a WAL database whose -shm the
    # app has not created); the backup only reads. The timeout waits out a checkpoint.
    # A self-contained file: no -wal beside it to lose when it is copied elsewhere.
    _copy(sqlite3.connect(source_path, timeout=30), partial, journal_mode="DELETE")
    try:
        summary = summarise(partial)
    except BackupError:
        partial.unlink(missing_ok=True)
        raise
    os.replace(partial, target)
    return summary


def _holds_data(connection: sqlite3.Connection) -> bool:
    tables = [
        name
        for (name,) in connection.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        )
    ]
    return any(
        connection.execute(f'SELECT 1 FROM "{table}" LIMIT 1').fetchone() for table in tables
    )


def restore(backup_file: Path, database_url: str, *, force: bool = False) -> DatabaseSummary:
    """Replace the database's content with the backup's (the app must be stopped)."""
    target_path = sqlite_path(database_url)
    summary = summarise(backup_file)
    if target_path.is_file():
        target = sqlite3.connect(target_path)
        try:
            holds_data = _holds_data(target)
        finally:
            target.close()
        if holds_data and not force:
            raise BackupError(
                f"The database at {target_path} holds data: restoring would replace it. "
                "Back it up first, then run restore again with --force."
            )
    target_path.parent.mkdir(parents=True, exist_ok=True)
    # Through SQLite, not a file copy: the target's WAL and locks are honoured.
    _copy(_connect_read_only(backup_file), target_path, journal_mode="WAL")
    return summary
