"""Editing a wave after creation: the edit page, its rules, and who may use it.

Forms are submitted as a browser would: with the fields (and CSRF token) of the form itself,
read from the page, changed where the test says so.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from loyaltylab.accounts.models import Organisation, OrganisationKind, Role
from loyaltylab.fieldwork import service as fieldwork
from loyaltylab.fieldwork.models import Channel, Response, Wave, WaveStatus
from loyaltylab.questionnaires.models import QuestionnaireVersion
from loyaltylab.respond import service as respondent
from loyaltylab.studies.models import Study
from tests.loyaltylab.fieldwork_support import FIELDWORK_QUESTIONNAIRE, publish
from tests.loyaltylab.forms_support import page_forms, submit


@pytest.fixture
def contacts(session: Session, study: Study) -> None:
    """Contacts with the attributes the quotas of these tests are on."""
    fieldwork.add_contacts(
        session,
        study_id=study.id,
        organisation_id=study.organisation_id,
        rows=[
            {"external_id": "C1", "attributes": {"tier": "gold", "region": "north"}},
            {"external_id": "C2", "attributes": {"tier": "silver", "region": "south"}},
        ],
    )
    session.commit()


@pytest.fixture
def draft(session: Session, study: Study, version: QuestionnaireVersion, contacts: None) -> Wave:
    created = fieldwork.create_wave(
        session,
        fieldwork.WaveSettings(
            name="2026-Q3",
            opens_at=datetime(2026, 7, 1, 9, 0, tzinfo=UTC),
            closes_at=datetime(2026, 9, 30, 18, 0, tzinfo=UTC),
            target=400,
            quota_attribute="tier",
            quotas={"gold": 200, "silver": 150},
        ),
        study_id=study.id,
        organisation_id=study.organisation_id,
        version_id=version.id,
    )
    session.commit()
    return created


def _fresh(session: Session, wave: Wave) -> Wave:
    session.expire_all()
    return session.get(Wave, wave.id)


def _aware(moment: datetime | None) -> datetime | None:
    return moment.replace(tzinfo=UTC) if moment and not moment.tzinfo else moment


def test_a_draft_wave_is_edited_and_keeps_its_public_link(
    researcher: TestClient,
    study: Study,
    draft: Wave,
    session: Session,
) -> None:
    other = publish(session, study, FIELDWORK_QUESTIONNAIRE)  # a second published version
    detail = researcher.get(f"/waves/{draft.id}").text
    assert f'href="/waves/{draft.id}/edit"' in detail
    edit = f"/waves/{draft.id}/edit"
    shown = page_forms(researcher.get(edit).text)[edit]
    assert shown["name"] == "2026-Q3" and shown["target"] == "400"
    assert (shown["opens_at"], shown["closes_at"]) == ("2026-07-01T09:00", "2026-09-30T18:00")
    assert (shown["quota_source"], shown["quota_attribute"]) == ("contact", "tier")
    assert shown["quotas"] == "gold: 200\nsilver: 150"
    assert shown["version_id"] == str(draft.questionnaire_version_id)
    slug = draft.public_slug

    saved = submit(
        researcher,
        edit,
        edit,
        name=" 2026-Q3 (retail) ",
        version_id=str(other.id),
        opens_at="2026-07-15T08:30",
        closes_at="2026-10-15T20:00",
        target="650",
        quota_attribute="region",
        quotas="north: 300\nsouth: 250",
    )
    assert saved.status_code == 303 and saved.headers["location"] == f"/waves/{draft.id}"
    wave = _fresh(session, draft)
    assert wave.name == "2026-Q3 (retail)"
    assert wave.questionnaire_version_id == other.id
    assert _aware(wave.opens_at) == datetime(2026, 7, 15, 8, 30, tzinfo=UTC)
    assert _aware(wave.closes_at) == datetime(2026, 10, 15, 20, 0, tzinfo=UTC)
    assert wave.target == 650
    assert (wave.quota_attribute, wave.quotas) == ("region", {"north": 300, "south": 250})
    assert (wave.public_slug, wave.status) == (slug, WaveStatus.draft)
    assert "The wave has been saved." in researcher.get(f"/waves/{draft.id}").text

    cleared = submit(researcher, edit, edit, opens_at="", closes_at="", target="", quotas="")
    assert cleared.status_code == 303
    wave = _fresh(session, draft)
    assert (wave.opens_at, wave.closes_at, wave.target, wave.quotas) == (None, None, None, {})


@pytest.mark.parametrize("status", [WaveStatus.open, WaveStatus.closed])
def test_an_opened_wave_keeps_its_questionnaire_version(
    researcher: TestClient, study: Study, draft: Wave, session: Session, status: WaveStatus
) -> None:
    other = publish(session, study, FIELDWORK_QUESTIONNAIRE)
    fieldwork.open_wave(session, draft)
    if status is WaveStatus.closed:
        fieldwork.close_wave(session, draft)
    session.commit()
    edit = f"/waves/{draft.id}/edit"
    page = researcher.get(edit).text
    assert "version_id" not in page_forms(page)[edit]  # no field to change it
    assert "frozen once the wave has been opened" in page
    assert "Contoso customer survey · v1" in page

    tampered = submit(researcher, edit, edit, name="Renamed", version_id=str(other.id))
    assert tampered.status_code == 400
    assert "can only change while the wave is a draft" in tampered.text
    wave = _fresh(session, draft)
    assert (wave.name, wave.questionnaire_version_id) == ("2026-Q3", draft.questionnaire_version_id)

    renamed = submit(researcher, edit, edit, name="Renamed", target="500")
    assert renamed.status_code == 303
    wave = _fresh(session, draft)
    assert (wave.name, wave.target, wave.status) == ("Renamed", 500, status)
    assert wave.questionnaire_version_id == draft.questionnaire_version_id


def test_a_version_change_loses_to_a_concurrent_opening(
    engine: Any, study: Study, draft: Wave, session: Session
) -> None:
    """The edit read the wave as a draft; another request opened it before the edit's write."""
    other = publish(session, study, FIELDWORK_QUESTIONNAIRE)
    with Session(engine) as editing:
        stale = editing.get(Wave, draft.id)
        assert stale.status == WaveStatus.draft
        with Session(engine) as opening:
            fieldwork.open_wave(opening, opening.get(Wave, draft.id))
            opening.commit()
        with pytest.raises(fieldwork.InvalidWave) as refused:
            fieldwork.update_wave(
                editing, stale, fieldwork.WaveSettings(name=stale.name), version_id=other.id
            )
        assert refused.value.problems == {"version_id": fieldwork.VersionFrozen.reason}
        editing.rollback()
    assert _fresh(session, draft).questionnaire_version_id == draft.questionnaire_version_id


@pytest.fixture
def sibling(session: Session, study: Study, version: QuestionnaireVersion) -> Wave:
    created = fieldwork.create_wave(
        session,
        fieldwork.WaveSettings(name="2026-Q2"),
        study_id=study.id,
        organisation_id=study.organisation_id,
        version_id=version.id,
    )
    session.commit()
    return created


FOREIGN_VERSION = object()
BAD_INPUT = [
    ({"name": "  "}, "name", "Give the wave a name.", "请为调查轮次命名。"),
    ({"name": "x" * 101}, "name", "at most 100 characters", "最多 100 个字符"),
    ({"name": "2026-Q2"}, "name", "Another wave of this study already has this name.", "同名"),
    (
        {"opens_at": "2026-09-01T09:00", "closes_at": "2026-08-01T09:00"},
        "closes_at",
        "A wave must close after it opens.",
        "关闭时间必须晚于开放时间",
    ),
    ({"opens_at": "next monday"}, "opens_at", "such as 2026-07-01 09:00", "2026-07-01 09:00"),
    ({"target": "0"}, "target", "greater than zero", "大于零"),
    ({"target": "many"}, "target", "greater than zero", "大于零"),
    ({"quotas": "gold 200"}, "quotas", "gold: 200", "gold: 200"),
    ({"quotas": "tier=gold: 2\nregion=north: 3"}, "quotas", "one attribute or question", "同一个"),
    (
        {"quota_attribute": "colour", "quotas": "red: 3"},
        "quotas",
        "No contact of this study has the attribute colour",
        "没有联系人具有属性 colour",
    ),
    (
        {"quota_source": "answer", "quota_attribute": "tier", "quotas": "gold: 3"},
        "quotas",
        "The questionnaire has no question tier",
        "问卷中没有",
    ),
    (
        {"quota_source": "answer", "quota_attribute": "complained", "quotas": "maybe: 3"},
        "quotas",
        "question complained: yes, no.",
        "complained 的答案之一：yes, no",
    ),
    ({"version_id": FOREIGN_VERSION}, "version_id", "Choose a published", "请选择"),
]


@pytest.mark.parametrize(("changes", "field", "english", "chinese"), BAD_INPUT)
def test_bad_input_is_refused_in_the_readers_language_with_the_values_kept(
    researcher: TestClient,
    session: Session,
    organisation: Organisation,
    draft: Wave,
    sibling: Wave,
    changes: dict[str, Any],
    field: str,
    english: str,
    chinese: str,
) -> None:
    if changes.get("version_id") is FOREIGN_VERSION:
        elsewhere = Study(organisation_id=organisation.id, name="Another study of Northwind")
        session.add(elsewhere)
        session.commit()
        changes = {"version_id": str(publish(session, elsewhere, FIELDWORK_QUESTIONNAIRE).id)}
    before = _fresh(session, draft).model_dump()
    edit = f"/waves/{draft.id}/edit"
    typed = {"target": "450", **changes}  # a valid change alongside: it must not be saved either
    for language, message in (("en", english), ("zh-CN", chinese)):
        researcher.headers["accept-language"] = language
        refused = submit(researcher, edit, edit, **typed)
        assert refused.status_code == 400, typed
        assert message in refused.text
        assert f'href="#f-{field}"' in refused.text  # the error summary leads to the field
        kept = page_forms(refused.text)[edit]
        for name, value in typed.items():
            if name != "version_id":
                assert kept[name] == value.replace("\r\n", "\n")
        assert _fresh(session, draft).model_dump() == before


def test_a_name_taken_in_the_study_is_refused_on_creation_too(
    researcher: TestClient, study: Study, sibling: Wave, session: Session
) -> None:
    page = f"/studies/{study.id}/waves"
    refused = submit(researcher, page, page, name="2026-Q2", target="80")
    assert refused.status_code == 400
    assert "Another wave of this study already has this name." in refused.text
    assert page_forms(refused.text)[page]["target"] == "80"
    assert session.exec(select(Wave)).all() == [sibling]


def test_every_problem_is_shown_at_once_each_at_its_field_and_named_in_the_summary(
    researcher: TestClient, draft: Wave, session: Session
) -> None:
    before = _fresh(session, draft).model_dump()
    edit = f"/waves/{draft.id}/edit"
    refused = submit(
        researcher,
        edit,
        edit,
        name=" ",
        opens_at="soon",
        target="many",
        quota_attribute="colour",
        quotas="red: 3",
    )
    assert refused.status_code == 400
    summary = refused.text.split('class="error-summary"', 1)[1].split("</div>", 1)[0]
    assert "There are 4 problems" in summary
    for field, label in (
        ("name", "Wave name"),
        ("opens_at", "Opens at"),
        ("target", "Target sample size"),
        ("quotas", "Quota per group"),
    ):
        assert f'<a href="#f-{field}"><strong>{label}</strong>: ' in summary
        assert f'id="f-{field}-error"' in refused.text
    assert _fresh(session, draft).model_dump() == before


def test_quotas_stay_on_their_attribute_once_the_wave_has_responses(
    researcher: TestClient, wave: Wave, session: Session, contacts: None
) -> None:
    claim = respondent.claim_submission(session, "edit-quota", organisation_id=wave.organisation_id)
    respondent.start_response(session, wave, channel=Channel.web, language="en", claim=claim)
    session.commit()
    edit = f"/waves/{wave.id}/edit"
    moved = submit(researcher, edit, edit, quota_attribute="region", quotas="north: 30")
    assert moved.status_code == 400 and "stay on the same attribute" in moved.text
    assert _fresh(session, wave).quota_attribute == "tier"
    counted = submit(researcher, edit, edit, quotas="gold: 30\nsilver: 20")
    assert counted.status_code == 303
    assert _fresh(session, wave).quotas == {"gold": 30, "silver": 20}
    assert session.exec(select(Response)).one().wave_id == wave.id


def test_another_organisation_gets_404_and_a_client_403(
    app: FastAPI,
    draft: Wave,
    session: Session,
    client_organisation: Organisation,
    make_member: Callable,
    login: Callable,
    csrf: Callable,
) -> None:
    other = Organisation(name="Fabrikam Insights", kind=OrganisationKind.research)
    session.add(other)
    session.commit()
    make_member(other, email="owner@fabrikam.example", role=Role.owner)
    make_member(client_organisation, email="viewer@contoso.example", role=Role.client)
    edit = f"/waves/{draft.id}/edit"
    for email, status in (("owner@fabrikam.example", 404), ("viewer@contoso.example", 403)):
        browser = TestClient(app, base_url="https://testserver")
        login(browser, email)
        assert browser.get(edit).status_code == status
        token = csrf(browser, "/studies")
        posted = browser.post(
            edit, data={"csrf_token": token, "name": "Taken over"}, follow_redirects=False
        )
        assert posted.status_code == status
        assert f'href="{edit}"' not in browser.get(f"/waves/{draft.id}").text
    assert _fresh(session, draft).name == "2026-Q3"


def test_a_wave_fields_only_its_own_studys_published_versions(
    session: Session, study: Study, version: QuestionnaireVersion
) -> None:
    sibling = Study(organisation_id=study.organisation_id, name="Another study")
    session.add(sibling)
    session.commit()
    sibling_version = publish(session, sibling, FIELDWORK_QUESTIONNAIRE)
    other = Organisation(name="Fabrikam", kind=OrganisationKind.research)
    session.add(other)
    session.commit()
    for study_id, organisation_id, version_id in (
        (study.id, study.organisation_id, sibling_version.id),
        (study.id, other.id, version.id),
        (study.id, study.organisation_id, version.id + sibling_version.id + 1),
    ):
        with pytest.raises(fieldwork.FieldworkError):
            fieldwork.create_wave(
                session,
                fieldwork.WaveSettings(name="2027-Q1"),
                study_id=study_id,
                organisation_id=organisation_id,
                version_id=version_id,
            )
    wave = fieldwork.create_wave(
        session,
        fieldwork.WaveSettings(name="2027-Q1"),
        study_id=study.id,
        organisation_id=study.organisation_id,
        version_id=version.id,
    )
    assert wave.questionnaire_version_id == version.id
