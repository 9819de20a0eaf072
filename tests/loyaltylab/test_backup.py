"""``loyaltylab backup`` while respondents write, and ``loyaltylab restore`` into a fresh
database: every response acknowledged before the backup began is in the restored database."""

from __future__ import annotations

import os
import sqlite3
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from alembic import command
from sqlmodel import Session

from loyaltylab import backup
from loyaltylab.db import make_engine
from loyaltylab.migrate import alembic_config
from loyaltylab.settings import Settings
from loyaltylab.studies.models import Study
from tests.loyaltylab.cli_support import loyaltylab
from tests.loyaltylab.fieldwork_support import open_wave
from tests.loyaltylab.respondent_load import QUESTIONNAIRE, Fieldwork, completes_by_name

RESPONDENTS = 60
IN_FLIGHT = 4
BEFORE_THE_BACKUP = 5


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """Served over plain http to the respondents' threads: no Secure cookies."""
    return settings.model_copy(update={"base_url": "http://127.0.0.1"})


def _env(tmp_path: Path, database_url: str) -> dict[str, str]:
    return {
        **os.environ,
        "LOYALTYLAB_DATABASE_URL": database_url,
        "LOYALTYLAB_VAR_DIR": str(tmp_path / "var"),
        "LOYALTYLAB_ENV": "development",
    }


@pytest.mark.slow
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_backup_during_respondent_writes_restores_every_acknowledged_response(
    settings: Settings, session: Session, study: Study, live_url: str, tmp_path: Path
) -> None:
    command.stamp(alembic_config(settings.database_url), "head")
    wave = open_wave(session, study, QUESTIONNAIRE, "backup")
    fieldwork = Fieldwork(base=live_url, slug=wave.public_slug)
    copy = tmp_path / "backups" / "loyaltylab.sqlite3"
    copy.parent.mkdir()
    with ThreadPoolExecutor(IN_FLIGHT) as pool:
        running = [
            pool.submit(fieldwork.respond, f"r{number:02d}") for number in range(RESPONDENTS)
        ]
        deadline = time.monotonic() + 60
        while fieldwork.acknowledged_count < BEFORE_THE_BACKUP:
            assert time.monotonic() < deadline
            assert not any(job.done() and job.exception() for job in running)
            time.sleep(0.01)
        acknowledged_before = fieldwork.acknowledged_so_far()
        made = loyaltylab("backup", str(copy), env=_env(tmp_path, settings.database_url))
        acknowledged_during = fieldwork.acknowledged_count - len(acknowledged_before)
        for job in running:
            job.result()
    assert made.returncode == 0, made.stderr
    assert acknowledged_during > 0  # the respondents kept writing while it ran
    assert "Backed up" in made.stdout and "migration" in made.stdout
    assert sorted(path.name for path in copy.parent.iterdir()) == [copy.name]  # no leftovers

    fresh_url = f"sqlite:///{tmp_path / 'restored' / 'loyaltylab.db'}"
    restored = loyaltylab("restore", str(copy), env=_env(tmp_path, fresh_url))
    assert restored.returncode == 0, restored.stderr
    engine = make_engine(fresh_url)
    try:
        in_backup = completes_by_name(engine, wave)
    finally:
        engine.dispose()
    assert {name: in_backup.get(name) for name in acknowledged_before} == dict.fromkeys(
        acknowledged_before, 1
    )
    assert set(in_backup.values()) == {1}  # a snapshot: nothing doubled or torn

    again = loyaltylab("restore", str(copy), env=_env(tmp_path, fresh_url))
    assert again.returncode == 2 and "holds data" in again.stderr and "--force" in again.stderr
    forced = loyaltylab("restore", str(copy), "--force", env=_env(tmp_path, fresh_url))
    assert forced.returncode == 0, forced.stderr


def _sqlite_file(path: Path, *statements: str) -> Path:
    connection = sqlite3.connect(path)
    for statement in statements:
        connection.execute(statement)
    connection.commit()
    connection.close()
    return path


def test_restore_checks_the_file_is_a_loyaltylab_database(tmp_path: Path) -> None:
    target = f"sqlite:///{tmp_path / 'target.db'}"
    not_sqlite = tmp_path / "notes.txt"
    not_sqlite.write_text("hello")
    other_app = _sqlite_file(tmp_path / "other.db", "CREATE TABLE t (x)")
    future = _sqlite_file(
        tmp_path / "future.db",
        "CREATE TABLE alembic_version (version_num VARCHAR(32))",
        "INSERT INTO alembic_version VALUES ('9999')",
        "CREATE TABLE response (id INTEGER)",
    )
    for file, reason in [
        (tmp_path / "missing.db", "does not exist"),
        (not_sqlite, "not a SQLite database"),
        (other_app, "not a LoyaltyLab database"),
        (future, "migration 9999"),
    ]:
        with pytest.raises(backup.BackupError, match=reason):
            backup.restore(file, target)
    assert not (tmp_path / "target.db").exists()


def test_backup_and_restore_of_postgresql_point_to_pg_dump(tmp_path: Path) -> None:
    env = _env(tmp_path, "postgresql+psycopg://loyaltylab@db.internal/loyaltylab")
    made = loyaltylab("backup", str(tmp_path / "x.dump"), env=env)
    assert made.returncode == 2 and "pg_dump" in made.stderr
    assert not (tmp_path / "x.dump").exists()
    with pytest.raises(backup.BackupError, match="pg_restore"):
        backup.restore(tmp_path / "x.dump", env["LOYALTYLAB_DATABASE_URL"])
