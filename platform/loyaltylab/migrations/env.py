"""Alembic environment: runs migrations on the engine LoyaltyLab itself would use."""

from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

import loyaltylab.models  # noqa: F401  (registers every table)
from loyaltylab.db import make_engine

target_metadata = SQLModel.metadata


def run_migrations() -> None:
    url = context.config.get_main_option("sqlalchemy.url")
    engine = make_engine(url)
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            # SQLite can't ALTER most things: batch mode recreates tables instead.
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


run_migrations()
