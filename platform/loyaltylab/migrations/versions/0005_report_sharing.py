"""reports shared with the commissioning client

A report reaches the client's users once a researcher shares it (``report.shared_at``) or the
study shares every new report (``study.share_reports``).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ALTER TABLE ADD COLUMN, not batch mode: on SQLite a batch operation copies the table
    # and drops the old one, and with foreign keys enforced that drop cascades to every wave,
    # response and report of the study.
    op.add_column("report", sa.Column("shared_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column(
        "study",
        sa.Column("share_reports", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    # Reports made for the client when a wave closed were meant for it: shared already.
    op.execute(sa.text("UPDATE report SET shared_at = created_at WHERE created_by IS NULL"))


def downgrade() -> None:
    op.drop_column("study", "share_reports")
    op.drop_column("report", "shared_at")
