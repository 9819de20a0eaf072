"""the study's contact for respondents (named on the consent page)

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("study", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "contact_name",
                sqlmodel.sql.sqltypes.AutoString(length=200),
                nullable=False,
                server_default="",
            )
        )
        batch_op.add_column(
            sa.Column(
                "contact_email",
                sqlmodel.sql.sqltypes.AutoString(length=320),
                nullable=False,
                server_default="",
            )
        )


def downgrade() -> None:
    # Plain ALTER TABLE DROP COLUMN, not batch mode: on SQLite a batch operation copies the
    # table and drops the old one, and with foreign keys enforced that drop cascades to every
    # wave, response and questionnaire of the study (tests/loyaltylab/test_migration_data.py).
    op.drop_column("study", "contact_email")
    op.drop_column("study", "contact_name")
