"""Migrating a fielded database: personal links sent before the migration keep working and keep
their response; existing studies, organisations and waves get their new settings' defaults."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import text
from sqlmodel import Session

from loyaltylab.accounts.models import Organisation
from loyaltylab.db import make_engine
from loyaltylab.fieldwork import service
from loyaltylab.fieldwork.models import QuotaSource, Response, Wave
from loyaltylab.migrate import upgrade
from loyaltylab.studies.models import Study

TOKEN = "a-personal-link-mailed-before-the-upgrade"
# One fielded invitation as the initial schema stores it: the link's hash on the invitation.
ROWS = [
    "INSERT INTO organisation (id, name, kind, created_at) VALUES (1, 'Northwind', 'research', :t)",
    "INSERT INTO study (id, organisation_id, name, company_name, description, release_open_text,"
    " created_at, updated_at) VALUES (1, 1, 'Loyalty', 'Contoso', '', false, :t, :t)",
    "INSERT INTO questionnaire (id, organisation_id, study_id, title, created_at, updated_at)"
    " VALUES (1, 1, 1, 'Survey', :t, :t)",
    "INSERT INTO questionnaire_version (id, questionnaire_id, number, status, definition,"
    " created_at) VALUES (1, 1, 1, 'published', '{}', :t)",
    "INSERT INTO wave (id, organisation_id, study_id, questionnaire_version_id, name, status,"
    " public_slug, quotas, created_at) VALUES (1, 1, 1, 1, 'Q3', 'open', 'slug', '{}', :t)",
    "INSERT INTO contact (id, organisation_id, study_id, external_id, pseudonym, attributes,"
    " created_at) VALUES (1, 1, 1, 'C1', 'p1', '{}', :t)",
    "INSERT INTO wave_invitation (id, organisation_id, wave_id, contact_id, token_hash,"
    " created_at) VALUES (1, 1, 1, 1, :hash, :t)",
    "INSERT INTO response (id, organisation_id, wave_id, questionnaire_version_id, channel,"
    " contact_id, invitation_id, language, status, excluded, current_page, answer_values,"
    " started_at, updated_at) VALUES (1, 1, 1, 1, 'invitation', 1, 1, 'en', 'partial', false,"
    " 1, '[]', :t, :t)",
]


def test_links_mailed_before_the_migration_still_lead_to_their_response(
    empty_database_url: str,
) -> None:
    upgrade(empty_database_url, "0001")
    engine = make_engine(empty_database_url)
    with engine.begin() as connection:
        for statement in ROWS:
            connection.execute(
                text(statement),
                {"t": datetime(2026, 7, 1, tzinfo=UTC), "hash": service.token_hash(TOKEN)},
            )
    engine.dispose()
    upgrade(empty_database_url)
    engine = make_engine(empty_database_url)
    with Session(engine) as session:
        invitation = service.invitation_by_token(session, TOKEN)
        assert invitation is not None and invitation.id == 1
        # Recreating wave_invitation with foreign keys on would have emptied this.
        assert session.get(Response, 1).invitation_id == 1
        assert session.get(Study, 1).company_names == {}
        assert session.get(Organisation, 1).time_zone == "UTC"
        wave = session.get(Wave, 1)
        assert (wave.quota_source, wave.mail_texts) == (QuotaSource.contact, {})
    engine.dispose()
