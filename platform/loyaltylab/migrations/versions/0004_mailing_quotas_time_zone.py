"""researcher journey: invitation links and mailings, contact language and opt-out, mail texts,
answer quotas, exclusion reasons, company names by language, organisation time zone

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06

Every change adds a column or a table except one: the personal-link hashes move from
``wave_invitation.token_hash`` to ``invitation_link`` (an invitation now has a link per mailing,
all valid). No table is recreated: on SQLite a recreated ``wave_invitation`` would be dropped
with foreign keys on, which sets every response's ``invitation_id`` to NULL.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON_DOCUMENT = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def _text(length: int) -> sqlmodel.sql.sqltypes.AutoString:
    return sqlmodel.sql.sqltypes.AutoString(length=length)


def upgrade() -> None:
    op.add_column(
        "organisation", sa.Column("time_zone", _text(64), nullable=False, server_default="UTC")
    )
    op.add_column(
        "study", sa.Column("company_names", sa.JSON(), nullable=False, server_default="{}")
    )
    op.add_column("contact", sa.Column("name", _text(200), nullable=True))
    op.add_column("contact", sa.Column("language", _text(20), nullable=True))
    op.add_column("contact", sa.Column("opted_out_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column(
        "wave",
        sa.Column(
            "quota_source",
            sa.Enum("contact", "answer", name="quotasource", native_enum=False, length=20),
            nullable=False,
            server_default="contact",
        ),
    )
    op.add_column(
        "wave", sa.Column("mail_texts", JSON_DOCUMENT, nullable=False, server_default="{}")
    )
    op.add_column(
        "wave_invitation", sa.Column("emailed_at", sa.DateTime(timezone=True), nullable=True)
    )
    op.add_column(
        "wave_invitation", sa.Column("reminded_at", sa.DateTime(timezone=True), nullable=True)
    )
    op.add_column("response", sa.Column("exclusion_reason", _text(200), nullable=True))
    op.add_column(
        "outbox_message",
        sa.Column("sender_name", _text(200), nullable=False, server_default=""),
    )
    op.add_column("outbox_message", sa.Column("unsubscribe_url", _text(500), nullable=True))

    op.create_table(
        "invitation_link",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("invitation_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", _text(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["invitation_id"], ["wave_invitation.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["organisation_id"], ["organisation.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_invitation_link_invitation_id", "invitation_link", ["invitation_id"])
    op.create_index("ix_invitation_link_organisation_id", "invitation_link", ["organisation_id"])
    op.create_index("ix_invitation_link_token_hash", "invitation_link", ["token_hash"], unique=True)
    op.execute(
        "INSERT INTO invitation_link (organisation_id, invitation_id, token_hash, created_at) "
        "SELECT organisation_id, id, token_hash, created_at FROM wave_invitation"
    )
    op.drop_index("ix_wave_invitation_token_hash", table_name="wave_invitation")
    op.drop_column("wave_invitation", "token_hash")


def downgrade() -> None:
    # The first link of each invitation becomes its one link again; later links end.
    op.add_column("wave_invitation", sa.Column("token_hash", _text(64), nullable=True))
    op.execute(
        "UPDATE wave_invitation SET token_hash = (SELECT token_hash FROM invitation_link "
        "WHERE invitation_link.invitation_id = wave_invitation.id ORDER BY id LIMIT 1)"
    )
    op.create_index("ix_wave_invitation_token_hash", "wave_invitation", ["token_hash"], unique=True)
    op.drop_index("ix_invitation_link_token_hash", table_name="invitation_link")
    op.drop_index("ix_invitation_link_organisation_id", table_name="invitation_link")
    op.drop_index("ix_invitation_link_invitation_id", table_name="invitation_link")
    op.drop_table("invitation_link")
    op.drop_column("outbox_message", "unsubscribe_url")
    op.drop_column("outbox_message", "sender_name")
    op.drop_column("response", "exclusion_reason")
    op.drop_column("wave_invitation", "reminded_at")
    op.drop_column("wave_invitation", "emailed_at")
    op.drop_column("wave", "mail_texts")
    op.drop_column("wave", "quota_source")
    op.drop_column("contact", "opted_out_at")
    op.drop_column("contact", "language")
    op.drop_column("contact", "name")
    op.drop_column("study", "company_names")
    op.drop_column("organisation", "time_zone")
