"""The researcher's fieldwork forms as a browser submits them: with the fields, and the CSRF
token, of the form itself (not the top bar's), read from the page.

``page_forms`` and ``submit`` are shared with the other tests of wave forms.
"""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from loyaltylab.fieldwork import service as fieldwork
from loyaltylab.fieldwork.models import Channel, Wave
from loyaltylab.questionnaires.models import QuestionnaireVersion
from loyaltylab.respond import service as respondent
from loyaltylab.studies.models import Study
from tests.loyaltylab.forms_support import page_forms, submit

TOP_BAR_FORMS = ("/logout", "/language")


def test_every_fieldwork_form_carries_its_own_csrf_token(
    researcher: TestClient, study: Study, wave: Wave, session: Session
) -> None:
    claim = respondent.claim_submission(session, "forms-test", organisation_id=wave.organisation_id)
    response = respondent.start_response(
        session, wave, channel=Channel.phone, language="en", claim=claim
    )
    session.commit()
    pages = [
        "/studies/new",
        f"/studies/{study.id}/edit",
        f"/studies/{study.id}/waves",
        f"/studies/{study.id}/contacts",
        f"/waves/{wave.id}",
        f"/waves/{wave.id}/responses",
        f"/waves/{wave.id}/responses/{response.id}",
        f"/waves/{wave.id}/emails",
        f"/waves/{wave.id}/phone",
        f"/waves/{wave.id}/edit",
    ]
    for page in pages:
        forms = page_forms(researcher.get(page).text)
        own = {action: f for action, f in forms.items() if action not in TOP_BAR_FORMS}
        assert own, f"{page} has no form of its own"
        for action, fields in own.items():
            assert fields.get("csrf_token"), f"{page}: the form posting to {action} has no token"
    assert f"/waves/{wave.id}/responses/exclusion" in page_forms(
        researcher.get(f"/waves/{wave.id}/responses").text
    )


def test_a_wave_is_created_and_opened_through_its_own_forms(
    researcher: TestClient, study: Study, version: QuestionnaireVersion, session: Session
) -> None:
    fieldwork.add_contacts(
        session,
        study_id=study.id,
        organisation_id=study.organisation_id,
        rows=[{"external_id": "C1", "attributes": {"tier": "gold"}}],
    )
    session.commit()
    page = f"/studies/{study.id}/waves"
    created = submit(
        researcher, page, page, name="2026-Q4", quota_attribute="tier", quotas="gold: 5"
    )
    assert created.status_code == 303
    wave = session.exec(select(Wave)).one()
    assert (wave.name, wave.questionnaire_version_id, wave.quotas) == (
        "2026-Q4",
        version.id,
        {"gold": 5},
    )
    detail = f"/waves/{wave.id}"
    opened = submit(researcher, detail, f"/waves/{wave.id}/status", action="open")
    assert opened.status_code == 303
    session.refresh(wave)
    assert wave.status == "open"
