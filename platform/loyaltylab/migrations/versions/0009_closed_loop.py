"""the closed loop: alert rules, alerts, follow-up cases with notes, action plans, case handlers

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06 06:05:31.531042
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0009"
# Joins the event-triggered invitations (0007) and the channels and webhooks (0008), which the
# closed loop uses, into one head.
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "alert_rule",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("wave_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "nps",
                "construct",
                "choice",
                "words",
                name="alertkind",
                native_enum=False,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("target", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("threshold", sa.Float(), nullable=True),
        sa.Column("values", sa.JSON(), nullable=False),
        sa.Column("sla_hours", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["organisation_id"], ["organisation.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["wave_id"], ["wave.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("alert_rule", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_alert_rule_organisation_id"), ["organisation_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_alert_rule_wave_id"), ["wave_id"], unique=False)

    op.create_table(
        "improvement_action",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("study_id", sa.Integer(), nullable=False),
        sa.Column("baseline_wave_id", sa.Integer(), nullable=True),
        sa.Column("construct_code", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("description", sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
        sa.Column("owner", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "planned", "in_progress", "done", name="actionstatus", native_enum=False, length=20
            ),
            nullable=False,
        ),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["baseline_wave_id"], ["wave.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["created_by"], ["user_account.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["organisation_id"], ["organisation.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["study_id"], ["study.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("improvement_action", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_improvement_action_organisation_id"), ["organisation_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_improvement_action_study_id"), ["study_id"], unique=False
        )

    op.create_table(
        "followup_case",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("client_organisation_id", sa.Integer(), nullable=True),
        sa.Column("study_id", sa.Integer(), nullable=False),
        sa.Column("wave_id", sa.Integer(), nullable=False),
        sa.Column("response_id", sa.Integer(), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=True),
        sa.Column("assignee_id", sa.Integer(), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "open", "in_progress", "closed", name="casestatus", native_enum=False, length=20
            ),
            nullable=False,
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("followup_wave_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["assignee_id"], ["user_account.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(
            ["client_organisation_id"], ["organisation.id"], ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(["contact_id"], ["contact.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["followup_wave_id"], ["wave.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["organisation_id"], ["organisation.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["response_id"], ["response.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["study_id"], ["study.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["wave_id"], ["wave.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("response_id"),
    )
    with op.batch_alter_table("followup_case", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_followup_case_assignee_id"), ["assignee_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_followup_case_client_organisation_id"),
            ["client_organisation_id"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_followup_case_contact_id"), ["contact_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_followup_case_organisation_id"), ["organisation_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_followup_case_study_id"), ["study_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_followup_case_wave_id"), ["wave_id"], unique=False)

    op.create_table(
        "alert",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("rule_id", sa.Integer(), nullable=False),
        sa.Column("wave_id", sa.Integer(), nullable=False),
        sa.Column("response_id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["followup_case.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["organisation_id"], ["organisation.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["response_id"], ["response.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["rule_id"], ["alert_rule.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["wave_id"], ["wave.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("rule_id", "response_id", name="uq_alert_rule_response"),
    )
    with op.batch_alter_table("alert", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_alert_case_id"), ["case_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_alert_organisation_id"), ["organisation_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_alert_response_id"), ["response_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_alert_rule_id"), ["rule_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_alert_wave_id"), ["wave_id"], unique=False)

    op.create_table(
        "case_note",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("text", sqlmodel.sql.sqltypes.AutoString(length=4000), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["author_id"], ["user_account.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["case_id"], ["followup_case.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["organisation_id"], ["organisation.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("case_note", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_case_note_case_id"), ["case_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_case_note_organisation_id"), ["organisation_id"], unique=False
        )

    # Plain ALTER TABLE ADD COLUMN, not batch mode: on SQLite a batch operation copies the table
    # and drops the old one, and with foreign keys enforced that drop cascades.
    op.add_column(
        "membership",
        sa.Column("case_handler", sa.Boolean(), nullable=False, server_default=sa.false()),
    )


def downgrade() -> None:
    op.drop_column("membership", "case_handler")

    with op.batch_alter_table("case_note", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_case_note_organisation_id"))
        batch_op.drop_index(batch_op.f("ix_case_note_case_id"))

    op.drop_table("case_note")
    with op.batch_alter_table("alert", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_alert_wave_id"))
        batch_op.drop_index(batch_op.f("ix_alert_rule_id"))
        batch_op.drop_index(batch_op.f("ix_alert_response_id"))
        batch_op.drop_index(batch_op.f("ix_alert_organisation_id"))
        batch_op.drop_index(batch_op.f("ix_alert_case_id"))

    op.drop_table("alert")
    with op.batch_alter_table("followup_case", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_followup_case_wave_id"))
        batch_op.drop_index(batch_op.f("ix_followup_case_study_id"))
        batch_op.drop_index(batch_op.f("ix_followup_case_organisation_id"))
        batch_op.drop_index(batch_op.f("ix_followup_case_contact_id"))
        batch_op.drop_index(batch_op.f("ix_followup_case_client_organisation_id"))
        batch_op.drop_index(batch_op.f("ix_followup_case_assignee_id"))

    op.drop_table("followup_case")
    with op.batch_alter_table("improvement_action", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_improvement_action_study_id"))
        batch_op.drop_index(batch_op.f("ix_improvement_action_organisation_id"))

    op.drop_table("improvement_action")
    with op.batch_alter_table("alert_rule", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_alert_rule_wave_id"))
        batch_op.drop_index(batch_op.f("ix_alert_rule_organisation_id"))

    op.drop_table("alert_rule")
