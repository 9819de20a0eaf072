"""The demo's open wave: a new user tries the respondent form through its public link, while
the demo client's view stays that of the loyalty study."""

from __future__ import annotations

from sqlmodel import Session, func, select

from loyaltylab.demo import DEMO_PASSWORDS, STUDY_NAME, TRY_STUDY_NAME, seed_demo
from loyaltylab.fieldwork import service as fieldwork
from loyaltylab.fieldwork.models import Response, Wave, WaveStatus
from loyaltylab.questionnaires.models import Questionnaire, QuestionnaireVersion
from loyaltylab.studies.models import Study
from surveys.definition import MatrixItem
from tests.web_support import log_in

COUNTED = (Study, Questionnaire, QuestionnaireVersion, Wave, Response)


def _counts(session: Session) -> dict[str, int]:
    return {
        table.__name__: session.exec(select(func.count()).select_from(table)).one()
        for table in COUNTED
    }


def test_demo_has_one_open_wave_to_try_that_the_client_does_not_see(
    client, session: Session, respondent
) -> None:
    first = seed_demo(session)
    session.commit()
    before = _counts(session)
    second = seed_demo(session)
    session.commit()
    assert _counts(session) == before  # a second seeding adds nothing
    assert second.try_path == first.try_path

    (wave,) = session.exec(select(Wave).where(Wave.status == WaveStatus.open)).all()
    assert first.try_path == f"/s/{wave.public_slug}" and fieldwork.is_accepting(wave)
    study = session.get(Study, wave.study_id)
    assert study.name == TRY_STUDY_NAME and study.client_organisation_id is None
    version = session.get(QuestionnaireVersion, wave.questionnaire_version_id)
    assert version.is_published
    definition = fieldwork.definition_for(session, version.id)
    assert definition.languages == ["zh-CN", "en"]

    # The public link answers with the consent page, and the form takes a complete response.
    person = respondent(client, first.try_path)
    consent = person.get()
    assert consent.status_code == 200 and 'name="consent"' in consent.text
    assert definition.introduction["zh-CN"] in consent.text
    assert person.consent().headers["location"].endswith("/page/0")
    (satisfaction,) = definition.sections[0].items
    assert isinstance(satisfaction, MatrixItem)
    agreed = {row.code: "6" for row in satisfaction.rows}
    assert person.answer(0, agreed).headers["location"].endswith("/page/1")
    done = person.answer(1, {"nps": "9", "improve": "更多座位"})
    assert done.headers["location"].endswith("/done")
    session.expire_all()
    (response,) = session.exec(select(Response).where(Response.wave_id == wave.id)).all()
    assert response.status == "complete"

    # The demo client sees the loyalty study only.
    log_in(client, "client@contoso.example", DEMO_PASSWORDS["client"])
    assert client.get(f"/studies/{study.id}").status_code == 404
    assert client.get(f"/studies/{study.id}/dashboard").status_code == 404
    studies = client.get("/studies")
    assert studies.status_code == 200
    assert STUDY_NAME in studies.text and TRY_STUDY_NAME not in studies.text
