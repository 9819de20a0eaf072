"""The respondent pages over HTTP: flow, display logic, resume, bad input, status pages."""

from __future__ import annotations

import copy
import re
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from loyaltylab.fieldwork import service
from loyaltylab.fieldwork.data import responses_dataframe
from loyaltylab.fieldwork.models import Response, SubmissionKey, Wave, utcnow
from loyaltylab.questionnaires import service as questionnaires
from loyaltylab.respond import form
from tests.loyaltylab.fieldwork_support import FIELDWORK_QUESTIONNAIRE, open_wave, texts

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
        session, wave, [contact], expires_at=utcnow() - timedelta(minutes=1)
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
    # On a page the language buttons submit the page's form: what was answered is kept.
    page = person.get("/page/0").text
    assert '<button type="submit" name="language" value="en" lang="en" form="r-page">' in page
    switched = person.post("/page/0", {"language": "en", "complained": "yes", "visits": "6x"})
    assert switched.headers["location"] == f"/s/{wave.public_slug}/page/0"
    english = person.get("/page/0").text
    assert "Next" in english and 'value="yes" checked' in english
    [response] = stored(session)
    assert response.language == "en" and response.current_page == 0


def item_logic_only() -> dict:
    """The test questionnaire with the complaint page's condition on its matrix instead: the
    page itself is always allowed, but empty for someone who did not complain."""
    data = copy.deepcopy(FIELDWORK_QUESTIONNAIRE)
    complaint = data["sections"][1]
    complaint["items"][0]["condition"] = complaint.pop("condition")
    complaint["items"].insert(0, {"type": "instruction", "code": "sorry", "label": texts("x", "x")})
    return data


def test_a_page_whose_questions_are_all_hidden_is_skipped_and_not_counted(
    client, session, study, respondent
):
    wave = open_wave(session, study, item_logic_only(), "Item logic")
    person = respondent(client, f"/s/{wave.public_slug}")
    person.consent()
    assert "第 1 页，共 2 页" in person.get("/page/0").text  # the complaint page is not counted
    assert person.answer(0, ABOUT_NO).headers["location"].endswith("/page/2")
    assert "第 2 页，共 2 页" in person.get("/page/2").text
    assert person.get("/page/1").status_code == 200  # redirected back to page 2
    # Someone who complained sees it, and it counts.
    other = respondent(TestClient(client.app, base_url="https://testserver"), person.base)
    other.consent()
    assert other.answer(0, {"complained": "yes"}).headers["location"].endswith("/page/1")
    page = other.get("/page/1")
    assert "第 2 页，共 3 页" in page.text and 'name="ch1"' in page.text


def test_the_error_summary_names_each_question_and_opens_the_page(
    client, session, wave, respondent
):
    person = respondent(client, f"/s/{wave.public_slug}")
    person.consent()
    person.answer(0, {"complained": "yes"})
    refused = person.answer(1, {"ch2": "3"})
    assert refused.status_code == 400
    summary = refused.text.split('class="r-error-summary"')[1].split("</div>")[0]
    opening = refused.text.split('<div class="r-error-summary"')[1].split(">")[0]
    assert 'role="alert"' in opening and "autofocus" in opening
    # Each problem names its question (here a matrix statement) and links to its field.
    assert '<a href="#f-ch1"><span class="r-summary-question">投诉很方便</span>' in summary
    assert summary.count("请回答此题") == 1 and "解决方案合理" not in summary
    assert 'id="f-ch1"' in refused.text and 'aria-describedby="f-ch1-error"' in refused.text
    long_label = "很" * 200
    assert form._shortened(long_label) == "很" * 79 + "…"


def test_back_comes_before_next_and_enter_still_goes_forward(client, wave, respondent):
    person = respondent(client, f"/s/{wave.public_slug}")
    person.consent()
    person.answer(0, {"complained": "yes"})
    page = person.get("/page/1").text
    button = re.compile(
        r'<button type="submit"(?: form="r-page")? name="action" value="(\w+)" class="([\w-]+)"'
    )
    buttons = button.findall(page)
    # The first submit button of the page's form (Enter in a text field) is a hidden "next",
    # ahead of the language buttons that submit it too; on screen Back, then Next.
    assert page.index('class="r-default"') < page.index('name="language"')
    assert buttons[:3] == [("next", "r-default"), ("back", "r-secondary"), ("next", "r-primary")]
    assert buttons[3] == ("save", "r-link")


def test_save_and_continue_later_without_javascript(client, session, wave, respondent):
    person = respondent(client, f"/s/{wave.public_slug}")
    person.consent()
    person.answer(0, {"complained": "yes", "visits": "60"})
    # Required statements unanswered: saving for later does not insist.
    saved = person.answer(1, {"ch1": "4"}, action="save")
    assert saved.headers["location"] == f"{person.base}/saved"
    page = client.get(saved.headers["location"])
    assert "您的回答已保存" in page.text
    link = re.search(r'id="r-resume-link" type="text" readonly value="([^"]+)"', page.text)[1]
    assert link.startswith(f"https://loyaltylab.example{person.base}/resume/")
    [response] = stored(session)
    assert response.status == "partial" and 4 in response.answer_values
    # On another device, the link carries the answers over, with a welcome back.
    elsewhere = TestClient(client.app, base_url="https://testserver")
    arrived = elsewhere.get(link.removeprefix("https://loyaltylab.example"))
    assert "欢迎回来" in arrived.text
    assert 'id="f-ch1-3" name="ch1" value="4" checked' in arrived.text
    assert elsewhere.get(f"{person.base}/resume/forged").status_code == 404


def test_autosave_keeps_what_is_valid_and_a_repeated_key_changes_nothing(
    client, session, wave, respondent
):
    person = respondent(client, f"/s/{wave.public_slug}")
    person.consent()
    page = person.get("/page/0").text
    key = re.search(r'data-autosave-key="([^"]+)"', page)[1]
    form_fields = person.last_form

    def autosave(data: dict, submission_key: str):
        return client.post(
            f"{person.base}/page/0",
            data={**form_fields, **data, "action": "autosave", "submission_key": submission_key},
            follow_redirects=False,
        )

    first = autosave({"complained": "yes", "visits": "60"}, key)
    assert first.status_code == 200 and first.json()["saved"] is True
    [response] = stored(session)
    assert response.current_page == 0 and {"yes", 60} <= set(response.answer_values)
    # A number half typed is not stored: the stored one stays.
    second = autosave({"complained": "yes", "visits": "6x"}, first.json()["key"])
    assert second.json() == {"saved": True, "key": second.json()["key"], "unsaved": ["visits"]}
    assert 60 in stored(session)[0].answer_values
    # The same key again (a reply lost on the way) stores nothing and hands out a new key.
    again = autosave({"complained": "no", "visits": "1"}, first.json()["key"])
    assert again.json()["saved"] is False and again.json()["key"] != first.json()["key"]
    assert {"yes", 60} <= set(stored(session)[0].answer_values)
    # Without the CSRF token nothing is saved.
    forged = client.post(
        f"{person.base}/page/0",
        data={"complained": "no", "action": "autosave", "submission_key": "k" * 30},
    )
    assert forged.status_code == 403 and "yes" in stored(session)[0].answer_values
    # The autosaved answers are what the page shows, and Next still moves on.
    assert 'value="60"' in person.get("/page/0").text
    assert person.answer(0, {"complained": "yes", "visits": "60"}).status_code == 303


def test_link_messages_say_what_happened(client, session, study, version, wave, respondent):
    person = respondent(client, f"/s/{wave.public_slug}")
    person.consent()
    person.answer(0, ABOUT_NO)
    person.answer(2, LOYALTY)
    finished = client.get(person.base, headers={"accept-language": "en"})
    assert finished.status_code == 409 and "已完成本次调查" in finished.text
    assert "个人链接" not in finished.text
    draft = service.create_wave(
        session,
        service.WaveSettings(name="Next quarter"),
        study_id=study.id,
        organisation_id=study.organisation_id,
        version_id=version.id,
    )
    session.commit()
    not_yet = client.get(f"/s/{draft.public_slug}")
    assert not_yet.status_code == 403 and "本次调查尚未开始" in not_yet.text
    draft.opens_at = utcnow() + timedelta(days=3)
    service.open_wave(session, draft)
    session.commit()
    assert "本次调查尚未开始" in client.get(f"/s/{draft.public_slug}").text
    draft.opens_at = None
    service.close_wave(session, draft)
    session.commit()
    assert "本次调查已结束" in client.get(f"/s/{draft.public_slug}").text


def test_the_consent_page_names_who_runs_the_survey_and_says_things_once(
    client, session, study, respondent
):
    questionnaire = questionnaires.create_questionnaire(
        session, organisation_id=study.organisation_id, study_id=study.id, template="svl"
    )
    version = questionnaires.publish(session, study.organisation_id, questionnaire.id, user_id=None)
    session.commit()
    wave = service.create_wave(
        session,
        service.WaveSettings(name="Library"),
        study_id=study.id,
        organisation_id=study.organisation_id,
        version_id=version.id,
    )
    service.open_wave(session, wave)
    session.commit()
    person = respondent(client, f"/s/{wave.public_slug}")
    for language, aggregate in (("en", "aggregate"), ("zh-CN", "汇总")):
        page = client.get(person.base, headers={"accept-language": language}).text
        assert "Northwind Research" in page
        assert page.count(aggregate) == 1  # the introduction leaves privacy to the note
        text = re.sub(r"<[^>]+>", " ", page.split("<main")[1])
        sentences = [s.strip() for s in re.split(r"[.。!?:]\s*", text) if len(s.strip()) > 8]
        assert len(sentences) == len(set(sentences)), sentences
    assert (
        "Your answers are used for research only"
        in client.get(person.base, headers={"accept-language": "en"}).text
    )
    # The study's own contact and privacy note, in the respondent's language.
    study.contact_name, study.contact_email = "Li Wei", "li.wei@northwind.example"
    session.add(study)
    service.set_consent_texts(
        session,
        study_id=study.id,
        organisation_id=study.organisation_id,
        texts={"zh-CN": "我们只保存您的答案。\n\n数据保存两年。"},
    )
    session.commit()
    page = client.get(person.base, headers={"accept-language": "zh-CN"}).text
    assert 'Li Wei · <a href="mailto:li.wei@northwind.example">' in page
    assert "<p>我们只保存您的答案。</p><p>数据保存两年。</p>" in page
    assert "仅用于研究" not in page  # the study's note replaces the standard one


def test_a_personal_link_speaks_the_contacts_language(client, session, study, wave, respondent):
    contacts = service.add_contacts(
        session,
        study_id=study.id,
        organisation_id=study.organisation_id,
        rows=[
            {"external_id": "EN", "language": "en"},
            {"external_id": "ZH", "language": "zh"},
        ],
    )
    english, chinese = service.issue_invitations(session, wave, contacts)
    session.commit()
    chinese_browser = {"accept-language": "zh-CN,zh;q=0.9"}
    assert "Start the survey" in client.get(f"/i/{english.token}", headers=chinese_browser).text
    person = respondent(client, f"/i/{english.token}")
    person.consent()
    assert stored(session)[0].language == "en"
    english_browser = {"accept-language": "en"}
    assert "开始答卷" in client.get(f"/i/{chinese.token}", headers=english_browser).text


def test_the_designer_preview_is_the_respondent_form(
    client, session, version, wave, respondent, owner, login
):
    person = respondent(client, f"/s/{wave.public_slug}")
    person.consent()
    answering = person.get("/page/0").text
    login(client, owner.email)
    preview = client.get(
        f"/questionnaires/{version.questionnaire_id}/preview/respondent?lang=zh-CN"
    ).text

    def questions(page: str, start: str) -> str:
        return page.split(start, 1)[1].split('<div class="r-actions">', 1)[0].strip()

    shown = questions(
        answering, f'name="submission_key" value="{person.last_form["submission_key"]}">'
    )
    previewed = questions(preview, '<h1 id="r-page-about">关于您</h1>')
    assert 'name="complained"' in shown and previewed == shown
    # Items and pages under a condition are there too, marked.
    assert 'name="ch1"' in preview and "Only shown when" in preview  # in the researcher's UI


def test_a_question_that_depends_on_the_same_page_appears_with_its_problem(
    client, session, study, respondent
):
    data = copy.deepcopy(FIELDWORK_QUESTIONNAIRE)
    data["sections"][0]["items"].append(
        {
            "type": "short_text",
            "code": "often",
            "label": texts("Why so often?", "为什么这么频繁?"),
            "required": True,
            "condition": {"item": "visits", "op": "ge", "value": 50},
        }
    )
    wave = open_wave(session, study, data, "Same page")
    person = respondent(client, f"/s/{wave.public_slug}")
    person.consent()
    assert 'name="often"' not in person.get("/page/0").text  # hidden until visits are known
    refused = person.answer(0, {"complained": "no", "visits": "60"})
    assert refused.status_code == 400
    assert 'id="f-often"' in refused.text and 'href="#f-often"' in refused.text
    assert 'name="visits" type="text" value="60"' in refused.text
    # Fewer visits: the question goes away again, and so does the problem.
    assert person.answer(0, {"complained": "no", "visits": "3"}).status_code == 303
