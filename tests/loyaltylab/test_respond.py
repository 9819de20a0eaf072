"""The respondent pages over HTTP: flow, display logic, resume, bad input, status pages."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import Session, select

from surveys.fieldwork import service
from surveys.fieldwork.data import responses_dataframe
from surveys.fieldwork.models import Response, SubmissionKey, Wave

ABOUT_NO = {"complained": "no", "visits": "3"}
LOYALTY = {"nps": "9", "sat1": "4", "channels": ["web", "app"], "region": "north", "attn": "app"}


def stored(session: Session) -> list[Response]:
    session.expire_all()
    return list(session.exec(select(Response).order_by(Response.id)))


def test_nothing_is_stored_before_consent(client, session, wave, respondent):
    person = respondent(client, f"/s/{wave.public_slug}")
    page = person.get()
    assert page.status_code == 200 and "<fieldset" not in page.text
    refused = person.post("/start", {})
    assert refused.status_code == 400 and 'href="#f-consent"' in refused.text
    assert stored(session) == []


def test_public_link_complete_with_logic_skip(client, session, wave, respondent):
    person = respondent(client, f"/s/{wave.public_slug}")
    assert person.consent().headers["location"].endswith("/page/0")
    # "no" hides the complaint page: next leads straight to page 2.
    assert person.answer(0, ABOUT_NO).headers["location"].endswith("/page/2")
    done = person.answer(2, LOYALTY)
    assert done.headers["location"].endswith("/done")
    assert "感谢" in client.get(done.headers["location"]).text
    [response] = stored(session)
    assert response.status == "complete" and response.channel == "web"
    assert response.duration_seconds is not None and response.submitted_at is not None
    frame = responses_dataframe(session, [wave.id])
    row = frame.iloc[0]
    assert row["nps"] == 9 and row["channels"] == ["web", "app"] and row["visits"] == 3
    assert frame["ch1"].isna().all()


def test_back_and_resume_with_the_cookie(client, session, wave, respondent):
    person = respondent(client, f"/s/{wave.public_slug}")
    person.consent()
    person.answer(0, {"complained": "yes", "visits": "60"})
    # Back from the complaint page keeps what was valid and goes to page 0.
    back = person.answer(1, {"ch1": "2"}, action="back")
    assert back.headers["location"].endswith("/page/0")
    assert 'value="60"' in person.get("/page/0").text
    # A later visit to the public link resumes where the respondent stopped, welcomed back.
    resumed = client.get(f"/s/{wave.public_slug}", follow_redirects=False)
    assert resumed.headers["location"].endswith("/page/1?welcome=1")
    welcomed = client.get(resumed.headers["location"])
    assert 'value="2" checked' in welcomed.text and "欢迎回来" in welcomed.text
    assert "欢迎回来" not in person.get("/page/1").text  # only on arrival
    [response] = stored(session)
    assert response.status == "partial"
    assert responses_dataframe(session, [wave.id]).empty
    assert len(responses_dataframe(session, [wave.id], include_partial=True)) == 1


def test_page_errors_store_nothing_and_link_to_fields(client, session, wave, respondent):
    person = respondent(client, f"/s/{wave.public_slug}")
    person.consent()
    person.answer(0, ABOUT_NO)
    before = stored(session)[0].answer_values
    bad = person.answer(2, {**LOYALTY, "nps": "11", "channels": ["web", "app", "store"]})
    assert bad.status_code == 400
    assert 'href="#f-nps"' in bad.text and 'href="#f-channels"' in bad.text
    assert 'id="f-nps"' in bad.text
    missing = person.answer(2, {"sat1": "3"})
    assert missing.status_code == 400 and "请回答此题" in missing.text
    # Answering an item that display logic hides (why: visits < 50) is refused too.
    hidden = person.answer(2, {**LOYALTY, "why": "sneaky"})
    assert hidden.status_code == 400 and 'href="#f-why"' in hidden.text
    [response] = stored(session)
    assert response.answer_values == before and response.status == "partial"


def test_repeated_submission_key_changes_nothing(client, session, wave, respondent):
    person = respondent(client, f"/s/{wave.public_slug}")
    person.consent()
    person.get("/page/0")
    form = dict(person.last_form)
    first = person.post("/page/0", {**ABOUT_NO, "action": "next"}, form=form)
    again = person.post("/page/0", {"complained": "yes", "action": "next"}, form=form)
    assert first.headers["location"] == again.headers["location"]
    [response] = stored(session)
    assert (
        service.answers_of(
            response, service.definition_for(session, response.questionnaire_version_id)
        )["complained"]
        == "no"
    )
    assert len(session.exec(select(SubmissionKey)).all()) == 2  # consent + page 0


def test_missing_or_forged_csrf_is_refused(client, session, wave, respondent):
    person = respondent(client, f"/s/{wave.public_slug}")
    person.get()
    forged = person.post("/start", {"consent": "yes", "csrf_token": "forged"})
    missing = client.post(
        f"/s/{wave.public_slug}/start",
        data={"consent": "yes", "submission_key": person.last_form["submission_key"]},
    )
    assert forged.status_code == 403 and missing.status_code == 403
    assert stored(session) == []


def test_body_over_256_kb_is_refused(client, session, wave, respondent):
    person = respondent(client, f"/s/{wave.public_slug}")
    person.consent()
    person.get("/page/2")
    huge = person.post("/page/2", {"improve": "x" * (300 * 1024)})
    assert huge.status_code == 413
    assert stored(session)[0].answer_values == []


def test_tampered_token_and_unknown_slug(client, wave):
    tampered = client.get("/i/not-a-real-token", headers={"accept-language": "en"})
    assert tampered.status_code == 404 and "This link is not valid" in tampered.text
    assert client.get(f"/s/{wave.public_slug}x").status_code == 404


def test_personal_link_single_use_and_quota(client, session, study, wave, respondent):
    gold, other = service.add_contacts(
        session,
        study_id=study.id,
        organisation_id=study.organisation_id,
        rows=[
            {"external_id": "C1", "attributes": {"tier": "gold"}},
            {"external_id": "C2", "attributes": {"tier": "gold"}},
        ],
    )
    links = service.issue_invitations(session, wave, [gold, other])
    session.commit()
    person = respondent(client, f"/i/{links[0].token}")
    person.consent()
    person.answer(0, ABOUT_NO)
    person.answer(2, LOYALTY)
    used = client.get(f"/i/{links[0].token}")
    assert used.status_code == 409 and "此链接已被使用" in used.text
    # The gold quota (1) is now full: the second gold contact sees the "full" page.
    full = client.get(f"/i/{links[1].token}")
    assert full.status_code == 410 and "名额已满" in full.text
    [response] = stored(session)
    assert response.channel == "invitation" and response.quota_cell == "gold"
    frame = responses_dataframe(session, [wave.id])
    assert frame["contact"].tolist() == [gold.pseudonym]


def test_expired_and_closed(client, session, study, wave, respondent):
    [contact] = service.add_contacts(
        session,
        study_id=study.id,
        organisation_id=study.organisation_id,
        rows=[{"external_id": "E"}],
    )
    [link] = service.issue_invitations(
        session, wave, [contact], expires_at=service.utcnow() - timedelta(minutes=1)
    )
    session.commit()
    assert client.get(f"/i/{link.token}").status_code == 410
    person = respondent(client, f"/s/{wave.public_slug}")
    person.consent()
    person.get("/page/0")
    live = session.get(Wave, wave.id)
    service.close_wave(session, live)
    session.commit()
    closed = person.post("/page/0", {**ABOUT_NO, "action": "next"})
    assert closed.status_code == 410
    assert client.get(f"/s/{wave.public_slug}", follow_redirects=False).status_code in (303, 410)


def test_language_switch_before_and_after_consent(client, session, wave, respondent):
    person = respondent(client, f"/s/{wave.public_slug}")
    person.get()
    person.post("/language", {"language": "en", "next": f"/s/{wave.public_slug}"})
    assert "Start the survey" in person.get().text
    person.post("/start", {"consent": "yes"})
    assert stored(session)[0].language == "en"
    person.post("/language", {"language": "zh-CN", "next": f"/s/{wave.public_slug}/page/0"})
    assert "下一页" in person.get("/page/0").text
