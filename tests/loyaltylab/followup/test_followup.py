"""The closed loop: alert rules on a wave, follow-up cases for the client's case handlers, the
case-handler right, action plans judged on the dashboard, and the dashboard's case figures."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import numpy as np
import pandas as pd
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from scipy import stats
from sqlmodel import Session, select

from loyaltylab.accounts.models import Membership, Organisation, OrganisationKind, Role, User
from loyaltylab.actions.models import ImprovementAction
from loyaltylab.fieldwork import service as fieldwork
from loyaltylab.fieldwork.events import send_due_invitations
from loyaltylab.fieldwork.models import Channel, Response, ResponseStatus, Wave, WaveStatus
from loyaltylab.followup import service
from loyaltylab.followup.models import Alert, AlertKind, AlertRule, CaseStatus, FollowUpCase
from loyaltylab.mail import OutboxMessage
from loyaltylab.studies.models import Study
from loyaltylab.webhooks.models import WebhookDelivery, WebhookSubscription
from surveys.definition import QuestionnaireDefinition
from surveys.library import create_from_template
from tests.loyaltylab.fieldwork_support import Respondent, fielded_wave, open_wave, publish
from tests.loyaltylab.followup_support import QUESTIONNAIRE


@pytest.fixture
def loop_wave(session: Session, study: Study) -> Wave:
    return open_wave(session, study, QUESTIONNAIRE, "2026-Q3")


def _case_handler(
    session: Session, make_member: Callable, company: Organisation, email: str
) -> User:
    """A client user of ``company`` with the case-handler right."""
    user = make_member(company, email=email, role=Role.client)
    membership = session.exec(select(Membership).where(Membership.user_id == user.id)).one()
    membership.case_handler = True
    session.add(membership)
    session.commit()
    return user


@pytest.fixture
def handler(session: Session, client_organisation: Organisation, make_member: Callable) -> User:
    """The case handler of the study's company."""
    return _case_handler(session, make_member, client_organisation, "cases@contoso.example")


def _answer(client: TestClient, wave: Wave, **answers: Any) -> None:
    respondent = Respondent(client, f"/s/{wave.public_slug}")
    respondent.consent()
    done = respondent.answer(0, answers)
    assert done.status_code == 303 and done.headers["location"].endswith("/done"), done.text


def _signed_in(app: FastAPI, login: Callable, email: str) -> TestClient:
    browser = TestClient(app, base_url="https://testserver")
    login(browser, email)
    return browser


def _add_rule(browser: TestClient, csrf: Callable, wave: Wave, **fields: Any) -> Any:
    token = csrf(browser, f"/waves/{wave.id}/alerts")
    return browser.post(
        f"/waves/{wave.id}/alerts", data={"csrf_token": token, **fields}, follow_redirects=False
    )


@pytest.fixture
def researcher(app: FastAPI, owner: User, login: Callable) -> TestClient:
    """The study's owner, signed in."""
    return _signed_in(app, login, owner.email)


@pytest.fixture
def nps_rule(researcher: TestClient, loop_wave: Wave, csrf: Callable) -> None:
    """The researcher's rule on the wave: a detractor (0-6 on ltr) raises an alert."""
    _add_rule(researcher, csrf, loop_wave, kind="nps", nps_item="ltr")


@pytest.fixture
def detractor_case(
    client: TestClient, session: Session, loop_wave: Wave, handler: User, nps_rule: None
) -> FollowUpCase:
    """The case of a detractor who may be contacted, assigned to the case handler."""
    _answer(client, loop_wave, ltr="1", may_contact="yes")
    return session.exec(select(FollowUpCase)).one()


# --- matching ---


def test_english_words_match_whole_words_and_chinese_phrases_anywhere() -> None:
    words = ["refund", "rude", "投诉", "退款"]
    assert service.words_found("The staff were RUDE to me.", words) == ["rude"]
    assert service.words_found("Prudent pricing", words) == []  # "rude" inside a word
    assert service.words_found("我要投诉,还要退款", words) == ["投诉", "退款"]
    assert service.words_found("Refund-policy unclear", words) == ["refund"]
    assert service.words_found("", words) == []


def test_a_construct_mean_turns_reverse_keyed_items_round() -> None:
    definition = QuestionnaireDefinition.model_validate(QUESTIONNAIRE)
    # sat1 = 2, sat2 (reverse, 5 points) = 5 -> 1: mean 1.5
    assert service.construct_mean(definition, {"sat1": 2, "sat2": 5}, "SAT") == 1.5
    assert service.construct_mean(definition, {"sat1": 4}, "SAT") == 4
    assert service.construct_mean(definition, {}, "SAT") is None


def test_the_library_templates_ask_for_permission_to_contact() -> None:
    for template in ("svl", "acsi", "dual_drive", "complaint_handling"):
        definition = create_from_template(template, company_name="Contoso")
        code = definition.contact_permission_code()
        assert code == "contact_permission", template
        dumped = definition.model_dump(mode="json")
        roles = [
            item.get("role")
            for section in dumped["sections"]
            for item in section["items"]
            if "role" in item
        ]
        # Only the permission question carries a role: other stored items are unchanged.
        assert roles == ["contact_permission"]


# --- alerts and cases ---


def test_a_detractor_who_may_be_contacted_gets_a_case_for_the_case_handler(
    app: FastAPI,
    client: TestClient,
    session: Session,
    loop_wave: Wave,
    researcher: TestClient,
    handler: User,
    login: Callable,
    csrf: Callable,
) -> None:
    added = _add_rule(
        researcher, csrf, loop_wave, kind="nps", nps_item="ltr", nps_threshold="6", sla_hours="48"
    )
    assert added.status_code == 303
    _answer(client, loop_wave, ltr="3", may_contact="yes", why="Slow delivery")
    _answer(TestClient(app, base_url="https://testserver"), loop_wave, ltr="2", may_contact="no")
    _answer(TestClient(app, base_url="https://testserver"), loop_wave, ltr="9", may_contact="yes")

    alerts = session.exec(select(Alert).where(Alert.wave_id == loop_wave.id)).all()
    assert len(alerts) == 2  # both detractors, not the promoter
    cases = session.exec(select(FollowUpCase)).all()
    assert len(cases) == 1  # only the one who agreed to be contacted
    case = cases[0]
    assert case.assignee_id == handler.id and case.status == CaseStatus.open
    created = service.as_utc(case.created_at)
    assert service.as_utc(case.due_at) - created == timedelta(hours=48)
    mail = session.exec(select(OutboxMessage).where(OutboxMessage.to == handler.email)).one()
    assert f"/cases/{case.id}" in mail.body

    reader = _signed_in(app, login, handler.email)
    listing = reader.get("/cases")
    assert listing.status_code == 200 and f"/cases/{case.id}" in listing.text
    page = reader.get(f"/cases/{case.id}")
    assert page.status_code == 200
    # The answers, labelled in the reader's language.
    assert "Would you recommend us?" in page.text and "Slow delivery" in page.text
    zh = reader.post("/language", data={"lang": "zh-CN", "csrf_token": csrf(reader, "/cases")})
    assert zh.status_code in (200, 303)
    assert "您会推荐我们吗?" in reader.get(f"/cases/{case.id}").text


def test_a_rule_added_later_checks_the_responses_already_in(
    app: FastAPI,
    client: TestClient,
    session: Session,
    loop_wave: Wave,
    researcher: TestClient,
    handler: User,
    csrf: Callable,
) -> None:
    _answer(client, loop_wave, ltr="8", complain="yes", may_contact="yes")
    _answer(
        TestClient(app, base_url="https://testserver"),
        loop_wave,
        ltr="8",
        complain="no",
        may_contact="yes",
    )
    added = _add_rule(
        researcher,
        csrf,
        loop_wave,
        kind="choice",
        choice_item="complain",
        choice_values="yes",
        sla_hours="24",
    )
    assert added.status_code == 303
    assert "1 existing responses meet it" in researcher.get(f"/waves/{loop_wave.id}/alerts").text
    case = session.exec(select(FollowUpCase)).one()
    assert service.as_utc(case.due_at) - service.as_utc(case.created_at) == timedelta(hours=24)
    # Adding the same kind of rule again raises a second alert, never a second case.
    _add_rule(researcher, csrf, loop_wave, kind="words", words="complain, 投诉")
    assert len(session.exec(select(FollowUpCase)).all()) == 1


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        (
            {"kind": "nps", "nps_item": "ltr", "nps_threshold": "11"},
            "nps_threshold",
            "Enter a score from 0 to 10.",
        ),
        ({"kind": "nps", "nps_item": "nope"}, "nps_item", "Choose a question of this wave."),
        (
            {"kind": "construct", "construct_code": "SAT", "construct_threshold": "x"},
            "construct_threshold",
            "Enter a number.",
        ),
        (
            {"kind": "choice", "choice_item": "complain"},
            "choice_values",
            "Choose at least one answer.",
        ),
        ({"kind": "words", "words": " , "}, "words", "Enter at least one word or phrase."),
        (
            {"kind": "words", "words": "rude", "sla_hours": "0"},
            "sla_hours",
            "Enter whole hours from 1 to 2160.",
        ),
    ],
)
def test_bad_rules_are_refused_on_the_form(
    session: Session,
    loop_wave: Wave,
    researcher: TestClient,
    csrf: Callable,
    fields: dict[str, str],
    field: str,
    message: str,
) -> None:
    refused = _add_rule(researcher, csrf, loop_wave, **fields)
    assert refused.status_code == 400
    assert message in refused.text
    assert session.exec(select(AlertRule)).all() == []


def test_the_construct_rule_and_the_words_rule_raise_alerts(
    client: TestClient,
    session: Session,
    loop_wave: Wave,
    researcher: TestClient,
    csrf: Callable,
) -> None:
    _add_rule(
        researcher, csrf, loop_wave, kind="construct", construct_code="SAT", construct_threshold="2"
    )
    _add_rule(researcher, csrf, loop_wave, kind="words", text_item="why", words="rude, 退款")
    # SAT: (1 + (6 - 5)) / 2 = 1 -> alert; the Chinese answer names a refund -> alert.
    _answer(client, loop_wave, sat1="1", sat2="5", ltr="7", why="我想要退款")
    rules = {rule.kind: rule.id for rule in session.exec(select(AlertRule)).all()}
    raised = {alert.rule_id for alert in session.exec(select(Alert)).all()}
    assert raised == {rules[AlertKind.construct], rules[AlertKind.words]}
    # No permission question answered: alerts, but no case.
    assert session.exec(select(FollowUpCase)).all() == []


def test_cases_are_hidden_from_other_tenants_and_clients_without_the_right(
    app: FastAPI,
    session: Session,
    loop_wave: Wave,
    detractor_case: FollowUpCase,
    client_organisation: Organisation,
    make_member: Callable,
    login: Callable,
    csrf: Callable,
) -> None:
    case = detractor_case
    plain = make_member(client_organisation, email="reader@contoso.example", role=Role.client)
    reader = _signed_in(app, login, plain.email)
    assert reader.get(f"/cases/{case.id}").status_code == 404
    assert reader.get("/cases").status_code == 403
    assert reader.get(f"/waves/{loop_wave.id}/alerts").status_code == 404

    other_company = Organisation(name="Fabrikam", kind=OrganisationKind.client)
    session.add(other_company)
    session.commit()
    stranger = _case_handler(session, make_member, other_company, "cases@fabrikam.example")
    outsider = _signed_in(app, login, stranger.email)
    assert outsider.get(f"/cases/{case.id}").status_code == 404
    assert f"/cases/{case.id}" not in outsider.get("/cases").text
    token = csrf(outsider, "/cases")
    changed = outsider.post(
        f"/cases/{case.id}", data={"csrf_token": token, "status": "closed"}, follow_redirects=False
    )
    assert changed.status_code == 404
    session.refresh(case)
    assert case.status == CaseStatus.open


def test_the_case_handler_closes_the_case_with_a_note(
    app: FastAPI,
    session: Session,
    detractor_case: FollowUpCase,
    handler: User,
    login: Callable,
    csrf: Callable,
) -> None:
    case = detractor_case
    reader = _signed_in(app, login, handler.email)
    token = csrf(reader, f"/cases/{case.id}")
    refused = reader.post(f"/cases/{case.id}", data={"csrf_token": token, "status": "solved"})
    assert refused.status_code == 400 and "Choose a status." in refused.text
    closed = reader.post(
        f"/cases/{case.id}",
        data={"csrf_token": token, "status": "closed", "note": "Called back, voucher sent"},
        follow_redirects=False,
    )
    assert closed.status_code == 303
    session.refresh(case)
    assert case.status == CaseStatus.closed and case.closed_at is not None
    assert "Called back, voucher sent" in reader.get(f"/cases/{case.id}").text


def test_owners_give_and_take_the_case_handler_right(
    app: FastAPI,
    session: Session,
    owner: User,
    organisation: Organisation,
    managed_client: Organisation,
    make_member: Callable,
    login: Callable,
    csrf: Callable,
) -> None:
    member = make_member(organisation, email="agent@contoso.example", role=Role.client)
    membership = session.exec(select(Membership).where(Membership.user_id == member.id)).one()
    membership.client_organisation_id = managed_client.id
    session.add(membership)
    session.commit()
    browser = _signed_in(app, login, owner.email)
    token = csrf(browser, "/org/members")
    given = browser.post(
        f"/org/members/{membership.id}/case-handler",
        data={"csrf_token": token, "case_handler": "1"},
        follow_redirects=False,
    )
    assert given.status_code == 303
    session.refresh(membership)
    assert membership.case_handler
    assert [u.email for u in service.case_handlers(session, managed_client.id)] == [member.email]
    own = session.exec(select(Membership).where(Membership.user_id == owner.id)).one()
    refused = browser.post(
        f"/org/members/{own.id}/case-handler", data={"csrf_token": token, "case_handler": "1"}
    )
    assert refused.status_code == 400
    taken = browser.post(
        f"/org/members/{membership.id}/case-handler",
        data={"csrf_token": token},
        follow_redirects=False,
    )
    assert taken.status_code == 303
    session.refresh(membership)
    assert not membership.case_handler


# --- dashboard: case figures and action plans ---


def test_an_action_shows_the_index_before_and_after_with_welchs_test(
    app: FastAPI, session: Session, study: Study, owner: User, login: Callable, csrf: Callable
) -> None:
    version = publish(session, study, QUESTIONNAIRE)
    rng = np.random.default_rng(3)
    # Variables: sat1, sat2, complain, ltr, why, may_contact.
    before_rows = [
        [int(rng.integers(1, 4)), int(rng.integers(2, 6)), None, 5, None, None] for _ in range(30)
    ]
    after_rows = [
        [int(rng.integers(2, 6)), int(rng.integers(1, 4)), None, 8, None, None] for _ in range(35)
    ]
    first = fielded_wave(session, study, version.id, "2026-Q1", before_rows)
    fielded_wave(session, study, version.id, "2026-Q2", after_rows)
    browser = _signed_in(app, login, owner.email)
    token = csrf(browser, f"/studies/{study.id}/dashboard")
    refused = browser.post(
        f"/studies/{study.id}/actions",
        data={
            "csrf_token": token,
            "construct_code": "SAT",
            "description": " ",
            "baseline_wave": str(first.id),
        },
    )
    assert refused.status_code == 400 and "Describe the action." in refused.text
    made = browser.post(
        f"/studies/{study.id}/actions",
        data={
            "csrf_token": token,
            "construct_code": "SAT",
            "description": "Train the staff",
            "owner": "Service lead",
            "due_on": "2026-05-01",
            "baseline_wave": str(first.id),
        },
        follow_redirects=False,
    )
    assert made.status_code == 303
    action = session.exec(select(ImprovementAction)).one()

    def index(rows: list[list]) -> np.ndarray:
        values = np.array([[r[0], r[1]] for r in rows], dtype=float)
        return (((values[:, 0] - 1) / 4 * 100) + ((5 - values[:, 1]) / 4 * 100)) / 2

    before, after = index(before_rows), index(after_rows)
    welch = stats.ttest_ind(after, before, equal_var=False)
    from loyaltylab.actions import service as actions
    from loyaltylab.dashboard.service import build_dashboard, fielded_waves

    waves = fielded_waves(session, study)
    dashboard = build_dashboard(session, study, segment=None, with_open_text=False, language="en")
    (outcome,) = actions.outcomes([action], dashboard.results, waves)
    assert outcome.before.value == pytest.approx(before.mean())
    assert outcome.after.value == pytest.approx(after.mean())
    half = stats.t.ppf(0.975, len(after) - 1) * after.std(ddof=1) / np.sqrt(len(after))
    assert outcome.after.ci_upper == pytest.approx(after.mean() + half)
    assert outcome.change == pytest.approx(after.mean() - before.mean())
    assert outcome.pvalue == pytest.approx(welch.pvalue)
    assert outcome.verdict == ("improved" if welch.pvalue < 0.05 else "no_change")
    page = browser.get(f"/studies/{study.id}/dashboard")
    assert "Train the staff" in page.text and f"{after.mean():.1f}" in page.text
    # The status form on the dashboard.
    changed = browser.post(
        f"/studies/{study.id}/actions/{action.id}/status",
        data={"csrf_token": token, "status": "done"},
        follow_redirects=False,
    )
    assert changed.status_code == 303
    session.refresh(action)
    assert action.status == "done"


def test_an_action_without_a_later_wave_is_pending(session: Session, study: Study) -> None:
    version = publish(session, study, QUESTIONNAIRE)
    wave = fielded_wave(session, study, version.id, "2026-Q1", [[3, 3, None, 5, None, None]] * 3)
    from loyaltylab.actions import service as actions
    from loyaltylab.dashboard.service import build_dashboard, fielded_waves

    action = ImprovementAction(
        organisation_id=study.organisation_id,
        study_id=study.id,
        baseline_wave_id=wave.id,
        construct_code="SAT",
        description="x",
    )
    dashboard = build_dashboard(session, study, segment=None, with_open_text=False, language="en")
    (outcome,) = actions.outcomes([action], dashboard.results, fielded_waves(session, study))
    assert outcome.before is not None and outcome.after is None
    assert outcome.verdict == "pending"


def test_case_figures_count_open_cases_time_to_close_and_the_deadline(
    session: Session, study: Study
) -> None:
    version = publish(session, study, QUESTIONNAIRE)
    wave = fielded_wave(session, study, version.id, "2026-Q1", [[3, 3, None, 2, None, "yes"]] * 4)
    responses = session.exec(select(Response).where(Response.wave_id == wave.id)).all()
    start = service.utcnow()
    # Closed after 10 h and 30 h with a 24 h deadline; one in progress; one open.
    plans = [
        (10, CaseStatus.closed),
        (30, CaseStatus.closed),
        (None, CaseStatus.in_progress),
        (None, CaseStatus.open),
    ]
    for response, (hours, status) in zip(responses, plans, strict=True):
        session.add(
            FollowUpCase(
                organisation_id=study.organisation_id,
                study_id=study.id,
                wave_id=wave.id,
                response_id=response.id,
                status=status,
                created_at=start,
                due_at=start + timedelta(hours=24),
                closed_at=start + timedelta(hours=hours) if hours else None,
            )
        )
    session.commit()
    (figures,) = service.case_figures(session, study, [wave])
    assert (figures.cases, figures.open, figures.closed) == (4, 2, 2)
    assert figures.median_hours_to_close == pytest.approx(20)
    assert figures.closed_within_sla == pytest.approx(0.5)


def test_closing_a_case_sends_the_complaint_handling_survey_once(
    app: FastAPI,
    engine: Any,
    settings: Any,
    session: Session,
    study: Study,
    loop_wave: Wave,
    handler: User,
    nps_rule: None,
    login: Callable,
    csrf: Callable,
) -> None:
    followup_wave = open_wave(session, study, QUESTIONNAIRE, "Complaint follow-up")
    (contact,) = fieldwork.add_contacts(
        session,
        study_id=study.id,
        organisation_id=study.organisation_id,
        rows=[{"external_id": "C-7", "email": "wang.fang@example.com", "name": "Wang Fang"}],
    )
    (issued,) = fieldwork.issue_invitations(session, loop_wave, [contact])
    session.commit()
    respondent = Respondent(TestClient(app, base_url="https://testserver"), f"/i/{issued.token}")
    respondent.consent()
    assert respondent.answer(0, {"ltr": "4", "may_contact": "yes"}).status_code == 303
    case = session.exec(select(FollowUpCase)).one()
    assert case.contact_id == contact.id

    reader = _signed_in(app, login, handler.email)
    page = reader.get(f"/cases/{case.id}")
    assert "wang.fang@example.com" in page.text and "Complaint follow-up" in page.text
    token = csrf(reader, f"/cases/{case.id}")
    closed = reader.post(
        f"/cases/{case.id}",
        data={"csrf_token": token, "status": "closed", "followup_wave": str(followup_wave.id)},
        follow_redirects=False,
    )
    assert closed.status_code == 303
    assert "Complaint follow-up" in reader.get(f"/cases/{case.id}").text  # the flash
    delay = timedelta(minutes=followup_wave.event_delay_minutes)
    assert send_due_invitations(engine, settings, now=service.utcnow() + delay)
    sent = session.exec(
        select(OutboxMessage).where(OutboxMessage.to == "wang.fang@example.com")
    ).all()
    assert len(sent) == 1
    # A closed case sends nothing more.
    again = reader.post(
        f"/cases/{case.id}",
        data={"csrf_token": token, "status": "closed", "followup_wave": str(followup_wave.id)},
    )
    assert again.status_code == 400
    assert "The follow-up survey is sent when the case is closed." in again.text


def test_an_alert_is_announced_to_the_organisations_webhooks(
    session: Session, settings: Any, study: Study, loop_wave: Wave
) -> None:
    session.add(
        WebhookSubscription(
            organisation_id=study.organisation_id,
            url="https://crm.example.com/hooks",
            events=["alert.created"],
            secret="s" * 32,
        )
    )
    rule = AlertRule(
        organisation_id=study.organisation_id,
        wave_id=loop_wave.id,
        kind=AlertKind.nps,
        target="ltr",
        threshold=6,
    )
    response = Response(
        organisation_id=study.organisation_id,
        wave_id=loop_wave.id,
        questionnaire_version_id=loop_wave.questionnaire_version_id,
        channel=Channel.web,
        language="en",
        status=ResponseStatus.complete,
        # sat1, sat2, complain, ltr, why, may_contact
        answer_values=[None, None, None, 2, None, "yes"],
    )
    session.add_all([rule, response])
    session.flush()
    (alert,) = service.check_response(session, response, settings, rules=[rule])
    delivery = session.exec(select(WebhookDelivery)).one()
    body = json.loads(delivery.body)
    assert body["type"] == "alert.created"
    assert body["data"]["alert_id"] == alert.id and body["data"]["case_id"] == alert.case_id
    assert alert.case_id is not None
    # Checked again (a repeated completion), the response raises nothing new.
    assert service.check_response(session, response, settings, rules=[rule]) == []
    session.rollback()  # nothing is committed, so nothing is sent


def test_the_designer_keeps_and_sets_the_contact_permission_role(
    app: FastAPI,
    session: Session,
    organisation: Organisation,
    study: Study,
    make_member: Callable,
    login: Callable,
    csrf: Callable,
) -> None:
    from loyaltylab.questionnaires import service as questionnaires

    questionnaire = questionnaires.create_questionnaire(
        session, organisation_id=organisation.id, study_id=study.id
    )
    session.commit()
    make_member(organisation, email="designer@northwind.example", role=Role.researcher)
    editor = _signed_in(app, login, "designer@northwind.example")
    url = f"/questionnaires/{questionnaire.id}/items/contact_permission"
    form = editor.get(url).text
    assert (
        'name="contact_permission" value="1" aria-describedby="f-contact_permission-hint" checked'
        in form
    )
    item = questionnaires.draft_definition(session, organisation.id, questionnaire.id).find_item(
        "contact_permission"
    )[2]
    fields = {
        "csrf_token": csrf(editor, url),
        "code": "contact_permission",
        "label-en": item.label["en"],
        "label-zh-CN": item.label["zh-CN"],
        "option_value": [option.value for option in item.options],
        "option_label-en": [option.label["en"] for option in item.options],
        "option_label-zh-CN": [option.label["zh-CN"] for option in item.options],
    }

    def role_after(data: dict[str, Any]) -> str | None:
        assert editor.post(url, data=data, follow_redirects=False).status_code == 303
        session.rollback()
        definition = questionnaires.draft_definition(session, organisation.id, questionnaire.id)
        return definition.find_item("contact_permission")[2].role

    assert role_after(fields) is None
    assert role_after({**fields, "contact_permission": "1"}) == "contact_permission"


def test_the_importance_performance_map_leads_to_a_planned_action(
    app: FastAPI, session: Session, study: Study, owner: User, login: Callable
) -> None:
    from analysis.trends import respondent_indices
    from loyaltylab.dashboard.service import build_dashboard
    from loyaltylab.fieldwork.data import responses_dataframe
    from tests.loyaltylab.reports_support import fielded_waves

    (wave,) = fielded_waves(session, study, completes=120)
    wave.status = WaveStatus.closed  # fielded: the dashboard shows it
    session.add(wave)
    session.commit()
    dashboard = build_dashboard(session, study, segment=None, with_open_text=False, language="en")
    priorities = dashboard.priorities.set_index("construct")
    assert dashboard.priorities_wave == wave.name and len(priorities) >= 2
    # Importance by hand: r of each respondent's 0-100 index with the 0-10 recommendation.
    definition = fieldwork.definition_for(session, wave.questionnaire_version_id)
    data = responses_dataframe(session, [wave.id])
    items = definition.construct_items()
    ranges = {code: (1, 7) for codes in items.values() for code in codes}
    scores = respondent_indices(
        data, constructs=items, scale_ranges=ranges, reverse=definition.reverse_keyed()
    )
    for construct, row in priorities.iterrows():
        pair = pd.concat([scores[construct], data["nps"]], axis=1).dropna().to_numpy(float)
        assert row["importance"] == pytest.approx(stats.pearsonr(pair[:, 0], pair[:, 1])[0])
        assert row["performance"] == pytest.approx(scores[construct].mean())
    browser = _signed_in(app, login, owner.email)
    page = browser.get(f"/studies/{study.id}/dashboard?plan=VAL")
    assert "Where to act" in page.text and "?plan=SAT#actions" in page.text
    assert '<details class="add-action" open>' in page.text
    assert '<option value="VAL" selected>' in page.text
