"""outbox delivery attempts: retries with backoff, failures shown to the researcher

Revision ID: 0006
Revises: 0010 (the ids were handed out before the branches merged)
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0006"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ADD COLUMN, not batch mode (see 0005: a batch copy would cascade-delete on SQLite).
    op.add_column(
        "outbox_message",
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
    )
    op.add_column(
        "outbox_message",
        sa.Column(
            "last_error",
            sqlmodel.sql.sqltypes.AutoString(length=500),
            nullable=False,
            server_default="",
        ),
    )
    op.add_column(
        "outbox_message", sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True)
    )
    op.add_column(
        "outbox_message", sa.Column("failed_at", sa.DateTime(timezone=True), nullable=True)
    )


def downgrade() -> None:
    for column in ("failed_at", "next_attempt_at", "last_error", "attempts"):
        op.drop_column("outbox_message", column)
