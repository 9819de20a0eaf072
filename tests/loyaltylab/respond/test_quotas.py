"""Quotas as respondents meet them: on a question's answer (public-link respondents count), on a
contact attribute, and checked again when a response completes."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from loyaltylab.fieldwork import service
from loyaltylab.fieldwork.models import QuotaSource, Response, ResponseStatus, Wave
from loyaltylab.questionnaires.models import QuestionnaireVersion
from loyaltylab.studies.models import Study

ABOUT_YES = {"complained": "yes", "visits": "3"}
ABOUT_NO = {"complained": "no", "visits": "3"}
COMPLAINT = {"ch1": "4", "ch2": "5"}
LOYALTY = {"nps": "9", "attn": "app"}


def _answer_quota_wave(session: Session, study: Study, version: QuestionnaireVersion) -> Wave:
    wave = service.create_wave(
        session,
        service.WaveSettings(
            name="Complainers",
            quota_source=QuotaSource.answer,
            quota_attribute="complained",
            quotas={"yes": 1, "no": 2},
        ),
        study_id=study.id,
        organisation_id=study.organisation_id,
        version_id=version.id,
    )
    service.open_wave(session, wave)
    session.commit()
    return wave


def _statuses(session: Session) -> list[tuple[str | None, ResponseStatus]]:
    session.expire_all()
    return [
        (response.quota_cell, response.status)
        for response in session.exec(select(Response).order_by(Response.id))
    ]


def test_a_quota_on_an_answer_counts_public_link_respondents(
    client: TestClient,
    session: Session,
    study: Study,
    version: QuestionnaireVersion,
    respondent,
    app,
) -> None:
    wave = _answer_quota_wave(session, study, version)
    first = respondent(TestClient(app, base_url="https://testserver"), f"/s/{wave.public_slug}")
    first.consent()
    assert first.answer(0, ABOUT_YES).status_code == 303
    first.answer(1, COMPLAINT)
    assert first.answer(2, LOYALTY).headers["location"].endswith("/done")
    # The "yes" group is full: the next complainer is told so when answering, and not counted.
    second = respondent(TestClient(app, base_url="https://testserver"), f"/s/{wave.public_slug}")
    second.consent()
    full = second.answer(0, ABOUT_YES)
    assert full.status_code == 410 and "名额已满" in full.text
    # Someone who did not complain goes on.
    third = respondent(TestClient(app, base_url="https://testserver"), f"/s/{wave.public_slug}")
    third.consent()
    third.answer(0, ABOUT_NO)
    assert third.answer(2, LOYALTY).headers["location"].endswith("/done")
    statuses = _statuses(session)
    assert statuses[0] == ("yes", ResponseStatus.complete)
    assert statuses[1] == (None, ResponseStatus.partial)  # the full group's answer is not kept
    assert statuses[2] == ("no", ResponseStatus.complete)
    assert service.completes_by_cell(session, wave.id) == {"yes": 1, "no": 1}


def test_a_quota_is_checked_again_when_a_response_completes(
    session: Session, study: Study, version: QuestionnaireVersion, respondent, app
) -> None:
    """Two complainers get past the question while one place is left: only the first to
    finish is counted; the other is told the group is full and stays partial."""
    wave = _answer_quota_wave(session, study, version)
    people = []
    public_link = f"/s/{wave.public_slug}"
    for _ in range(2):
        person = respondent(TestClient(app, base_url="https://testserver"), public_link)
        person.consent()
        assert person.answer(0, ABOUT_YES).status_code == 303
        person.answer(1, COMPLAINT)
        people.append(person)
    assert people[0].answer(2, LOYALTY).headers["location"].endswith("/done")
    late = people[1].answer(2, LOYALTY)
    assert late.status_code == 410 and "名额已满" in late.text
    assert _statuses(session) == [
        ("yes", ResponseStatus.complete),
        ("yes", ResponseStatus.partial),
    ]
    # Nothing the late respondent saved before is lost.
    late_response = session.exec(select(Response).order_by(Response.id.desc())).first()
    definition = service.definition_for(session, wave.questionnaire_version_id)
    assert service.answers_of(late_response, definition)["ch2"] == 5


def test_a_contact_attribute_quota_is_checked_again_at_completion(
    session: Session, study: Study, wave: Wave, respondent, app
) -> None:
    """The wave's quota is one gold contact: two gold contacts start, one is counted."""
    contacts = service.add_contacts(
        session,
        study_id=study.id,
        organisation_id=study.organisation_id,
        rows=[{"external_id": f"G{n}", "attributes": {"tier": "gold"}} for n in (1, 2)],
    )
    links = service.issue_invitations(session, wave, contacts)
    session.commit()
    people = []
    for link in links:
        person = respondent(TestClient(app, base_url="https://testserver"), f"/i/{link.token}")
        assert person.consent().status_code == 303
        person.answer(0, ABOUT_NO)
        people.append(person)
    assert people[1].answer(2, LOYALTY).headers["location"].endswith("/done")
    assert people[0].answer(2, LOYALTY).status_code == 410
    assert sorted(status for _cell, status in _statuses(session)) == [
        ResponseStatus.complete,
        ResponseStatus.partial,
    ]
    assert service.completes_by_cell(session, wave.id) == {"gold": 1}


def test_answer_quotas_show_on_the_wave_page(
    client: TestClient,
    session: Session,
    study: Study,
    version: QuestionnaireVersion,
    owner,
    login,
) -> None:
    wave = _answer_quota_wave(session, study, version)
    login(client, owner.email)
    page = client.get(f"/waves/{wave.id}").text
    assert "Quotas by the answer to Did you complain in the last 12 months?" in page
    assert '<th scope="row">yes</th><td>0</td><td>1</td>' in page
