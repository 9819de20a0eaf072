"""the study's analysis settings

Method (CB-SEM with ML, MLR or WLSMV, or PLS-SEM with its options) and missing-value codes per
questionnaire, in ``study.analysis_settings``; an empty object means the defaults (ML).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ADD COLUMN, not batch mode (see 0005: a batch copy would cascade deletes on SQLite).
    op.add_column(
        "study", sa.Column("analysis_settings", sa.JSON(), nullable=False, server_default="{}")
    )


def downgrade() -> None:
    op.drop_column("study", "analysis_settings")
