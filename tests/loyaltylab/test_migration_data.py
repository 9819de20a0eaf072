"""Migrations keep the data: going down to 0001 and back up loses no study, wave, response or
report (on SQLite a table rebuilt in batch mode would cascade its deletion to every child row)."""

from __future__ import annotations

from sqlalchemy import text
from sqlmodel import Session, select

from loyaltylab.db import make_engine
from loyaltylab.demo import STUDY_NAME, seed_demo
from loyaltylab.fieldwork.models import Wave
from loyaltylab.migrate import upgrade
from loyaltylab.reports_web.models import Report
from loyaltylab.studies.models import Study

COUNTED = (
    "membership",
    "study",
    "questionnaire",
    "wave",
    "response",
    "wave_invitation",
    "contact",
    "report",
)


def _counts(url: str) -> dict[str, int]:
    engine = make_engine(url)
    with engine.connect() as connection:
        counts = {
            table: connection.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
            for table in COUNTED
        }
    engine.dispose()
    return counts


def test_down_to_0001_and_up_again_keeps_every_row(empty_database_url: str) -> None:
    from alembic import command

    from loyaltylab.migrate import alembic_config

    upgrade(empty_database_url)
    engine = make_engine(empty_database_url)
    with Session(engine) as session:
        seed_demo(session)
        study = session.exec(select(Study).where(Study.name == STUDY_NAME)).one()
        wave = session.exec(select(Wave).where(Wave.study_id == study.id)).first()
        # The report a closed wave makes for the client (no researcher created it).
        session.add(
            Report(
                organisation_id=study.organisation_id,
                study_id=study.id,
                questionnaire_version_id=wave.questionnaire_version_id,
                title="Closed wave",
                language="en",
                wave_ids=[wave.id],
            )
        )
        session.commit()
    engine.dispose()
    before = _counts(empty_database_url)
    assert before["response"] > 1000 and before["report"] == 1

    command.downgrade(alembic_config(empty_database_url), "0001")
    assert _counts(empty_database_url) == before
    upgrade(empty_database_url)
    assert _counts(empty_database_url) == before

    engine = make_engine(empty_database_url)
    with Session(engine) as session:
        (report,) = session.exec(select(Report)).all()
        assert report.shared_at is not None  # made for the client: shared
        study = session.exec(select(Study).where(Study.name == STUDY_NAME)).one()
        assert study.share_reports is False
    engine.dispose()
