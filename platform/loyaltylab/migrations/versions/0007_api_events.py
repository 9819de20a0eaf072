"""the REST API's keys; event-triggered invitations: a wave's delay and cool-down, the contacts'
reported events

Revision ID: 0007
Revises: 0005
Create Date: 2026-12-06

Columns are added with ALTER TABLE ADD COLUMN, never batch mode: on SQLite a batch operation
recreates the table, and with foreign keys on, dropping ``wave`` would cascade to its responses.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0007"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _text(length: int) -> sqlmodel.sql.sqltypes.AutoString:
    return sqlmodel.sql.sqltypes.AutoString(length=length)


def upgrade() -> None:
    op.add_column(
        "wave", sa.Column("event_delay_minutes", sa.Integer(), nullable=False, server_default="60")
    )
    op.add_column(
        "wave", sa.Column("event_cooldown_days", sa.Integer(), nullable=False, server_default="90")
    )
    op.create_table(
        "contact_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("wave_id", sa.Integer(), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=False),
        sa.Column("event", _text(64), nullable=False),
        sa.Column("event_id", _text(200), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "scheduled",
                "sent",
                "cooled_down",
                "opted_out",
                "cancelled",
                name="eventstatus",
                native_enum=False,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("reason", _text(40), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("send_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("invitation_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["contact_id"], ["contact.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["invitation_id"], ["wave_invitation.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["organisation_id"], ["organisation.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["wave_id"], ["wave.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("organisation_id", "event_id", name="uq_contact_event_org_event_id"),
    )
    op.create_index("ix_contact_event_contact_id", "contact_event", ["contact_id"])
    op.create_index("ix_contact_event_organisation_id", "contact_event", ["organisation_id"])
    op.create_index("ix_contact_event_wave_id", "contact_event", ["wave_id"])
    op.create_index("ix_contact_event_status_send_at", "contact_event", ["status", "send_at"])
    op.create_table(
        "api_key",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("name", _text(100), nullable=False),
        sa.Column("prefix", _text(16), nullable=False),
        sa.Column("key_hash", _text(64), nullable=False),
        sa.Column(
            "scope",
            sa.Enum("read", "write", name="apiscope", native_enum=False, length=20),
            nullable=False,
        ),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("window_started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("window_calls", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["created_by"], ["user_account.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["organisation_id"], ["organisation.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_api_key_key_hash", "api_key", ["key_hash"], unique=True)
    op.create_index("ix_api_key_organisation_id", "api_key", ["organisation_id"])


def downgrade() -> None:
    op.drop_index("ix_api_key_organisation_id", table_name="api_key")
    op.drop_index("ix_api_key_key_hash", table_name="api_key")
    op.drop_table("api_key")
    op.drop_index("ix_contact_event_status_send_at", table_name="contact_event")
    op.drop_index("ix_contact_event_wave_id", table_name="contact_event")
    op.drop_index("ix_contact_event_organisation_id", table_name="contact_event")
    op.drop_index("ix_contact_event_contact_id", table_name="contact_event")
    op.drop_table("contact_event")
    op.drop_column("wave", "event_cooldown_days")
    op.drop_column("wave", "event_delay_minutes")
