"""constraint names follow the metadata's naming convention

The models now name every constraint by one rule (``loyaltylab.tables``), so that a
later migration can name the constraint it alters or drops. On PostgreSQL the constraints that
0001-0010 and 0006 created without a name carry the server's own names (``study_pkey``,
``wave_study_id_fkey``, ``membership_user_id_organisation_id_key``): rename them to the rule's.
0002 named its two foreign keys to the client company by a shorter rule: renamed as well.
SQLite keeps no name for constraints created without one and cannot rename one (a batch copy of
the table would cascade deletes with foreign keys enforced); its later batch migrations name
unnamed constraints by the rule.

Revision ID: 0012
Revises: 0006
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Both rules as they were when this revision was written (a migration never follows later code):
# (earlier name, convention name) per kind of constraint. The earlier name is the server's,
# except for the foreign keys 0002 named itself.
_NAMED_BY_0002 = {
    ("membership", "client_organisation_id"),
    ("invitation", "client_organisation_id"),
}


def _primary(table: str) -> tuple[str, str]:
    return f"{table}_pkey", f"pk_{table}"


def _foreign(table: str, column: str, referred: str) -> tuple[str, str]:
    if (table, column) in _NAMED_BY_0002:
        return f"fk_{table}_client_organisation_id", f"fk_{table}_{column}_{referred}"
    return f"{table}_{column}_fkey", f"fk_{table}_{column}_{referred}"


def _unique(table: str, columns: Sequence[str]) -> tuple[str, str]:
    joined = "_".join(columns)
    return f"{table}_{joined}_key", f"uq_{table}_{joined}"


def _names(bind: sa.engine.Connection) -> list[tuple[str, str, str, str]]:
    """(table, current name, earlier name, convention name) of every primary key, foreign key
    and unique constraint."""
    inspector = sa.inspect(bind)
    found = []
    for table in inspector.get_table_names():
        if table == "alembic_version":
            continue
        primary = inspector.get_pk_constraint(table)
        if primary.get("name"):
            found.append((table, primary["name"], *_primary(table)))
        for foreign in inspector.get_foreign_keys(table):
            names = _foreign(table, foreign["constrained_columns"][0], foreign["referred_table"])
            found.append((table, foreign["name"], *names))
        for unique in inspector.get_unique_constraints(table):
            found.append((table, unique["name"], *_unique(table, unique["column_names"])))
    return found


def _rename(table: str, old: str, new: str) -> None:
    op.execute(f'ALTER TABLE "{table}" RENAME CONSTRAINT "{old}" TO "{new}"')


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, name, earlier_name, convention_name in _names(op.get_bind()):
        if name == earlier_name:  # those created with a name of the models' own keep it
            _rename(table, name, convention_name)


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, name, earlier_name, convention_name in _names(op.get_bind()):
        if name == convention_name and convention_name != earlier_name:
            _rename(table, name, earlier_name)
