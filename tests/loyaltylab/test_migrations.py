"""The Alembic migrations build exactly the schema the models describe, on both databases."""

from __future__ import annotations

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import (
    ForeignKeyConstraint,
    Inspector,
    PrimaryKeyConstraint,
    UniqueConstraint,
    inspect,
    text,
)
from sqlmodel import SQLModel

import loyaltylab.models  # noqa: F401
from loyaltylab.db import make_engine
from loyaltylab.migrate import alembic_config, upgrade


def test_migrations_match_the_models(empty_database_url: str) -> None:
    upgrade(empty_database_url)
    _assert_models_match(empty_database_url)


def _assert_models_match(empty_database_url: str) -> None:
    engine = make_engine(empty_database_url)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, SQLModel.metadata)
    engine.dispose()
    assert differences == [], "models and migrations disagree: generate a migration"


def test_migrating_twice_changes_nothing(empty_database_url: str) -> None:
    upgrade(empty_database_url)
    upgrade(empty_database_url)
    engine = make_engine(empty_database_url)
    tables = set(inspect(engine).get_table_names())
    with engine.connect() as connection:
        version = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    engine.dispose()
    assert set(SQLModel.metadata.tables) <= tables
    assert version is not None


def _constraint_names(inspector: Inspector, table: str) -> set[str]:
    names = {inspector.get_pk_constraint(table)["name"]}
    names |= {foreign["name"] for foreign in inspector.get_foreign_keys(table)}
    names |= {unique["name"] for unique in inspector.get_unique_constraints(table)}
    return names


def test_constraints_are_named_by_the_convention(empty_database_url: str) -> None:
    """The names a later migration would drop or alter are the ones the metadata gives."""
    if not empty_database_url.startswith("postgresql"):
        pytest.skip("SQLite keeps no name for constraints created without one")
    upgrade(empty_database_url)
    engine = make_engine(empty_database_url)
    inspector = inspect(engine)
    found = {table: _constraint_names(inspector, table) for table in SQLModel.metadata.tables}
    engine.dispose()
    expected = {
        table.name: {
            constraint.name
            for constraint in table.constraints
            if isinstance(
                constraint, PrimaryKeyConstraint | ForeignKeyConstraint | UniqueConstraint
            )
        }
        for table in SQLModel.metadata.sorted_tables
    }
    assert found == expected


def test_the_constraint_renaming_goes_back_and_forth(empty_database_url: str) -> None:
    upgrade(empty_database_url)
    command.downgrade(alembic_config(empty_database_url), "0005")
    upgrade(empty_database_url)
    _assert_models_match(empty_database_url)
