"""The closed loop in headless Chromium, on a phone in Chinese and on a desktop in English: a
researcher adds an alert rule, a detractor answers and agrees to be contacted, the case appears
for the client's case handler, who closes it with a note and sends the complaint-handling survey
(the invitation appears in the outbox)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from loyaltylab.accounts.models import Membership, Organisation, Role
from loyaltylab.fieldwork import service as fieldwork
from loyaltylab.fieldwork.events import send_due_invitations
from loyaltylab.followup.models import CaseStatus, FollowUpCase
from loyaltylab.mail import OutboxMessage
from loyaltylab.settings import Settings
from loyaltylab.studies.models import Study
from loyaltylab.timeutil import utcnow
from tests.loyaltylab.fieldwork_support import open_wave
from tests.loyaltylab.followup_support import QUESTIONNAIRE
from tests.web_support import PHONE, TEST_PASSWORD, create_member

pytestmark = pytest.mark.browser
DESKTOP = {"width": 1366, "height": 900}
TEXTS = {
    "zh_CN": {
        "add": "添加规则",
        "start": "开始答卷",
        "consent": "我已阅读以上内容，同意参与本次调查。",
        "may_contact": "可以",
        "submit": "提交",
        "status": "状态",
        "closed": "已关闭",
        "note": "备注",
        "send": "关闭时发送以下问卷",
        "save": "保存",
        "question": "您会推荐我们吗?",
        "what": "将采取的措施",
        "action": "培训客服人员",
        "plan": "加入计划",
        "pending": "等待下一轮次",
    },
    "en": {
        "add": "Add rule",
        "start": "Start the survey",
        "consent": "I have read the above and agree to take part.",
        "may_contact": "Yes",
        "submit": "Submit",
        "status": "Status",
        "closed": "Closed",
        "note": "Note",
        "send": "When closing, send the survey of",
        "save": "Save",
        "question": "Would you recommend us?",
        "what": "What will be done",
        "action": "Train the service staff",
        "plan": "Add to the plan",
        "pending": "Waiting for the next wave",
    },
}


@pytest.fixture
def loop(session: Session, study: Study, client_organisation: Organisation) -> dict[str, Any]:
    """A researcher, the client's case handler, the surveyed wave with a contact's personal link
    and an open complaint-handling wave of the same study."""
    researcher = create_member(
        session,
        session.get(Organisation, study.organisation_id),
        email="res@northwind.example",
        role=Role.researcher,
    )
    handler = create_member(
        session, client_organisation, email="cases@contoso.example", role=Role.client
    )
    membership = session.exec(select(Membership).where(Membership.user_id == handler.id)).one()
    membership.case_handler = True
    session.add(membership)
    wave = open_wave(session, study, QUESTIONNAIRE, "2026-Q3")
    followup = open_wave(session, study, QUESTIONNAIRE, "Complaint follow-up")
    (contact,) = fieldwork.add_contacts(
        session,
        study_id=study.id,
        organisation_id=study.organisation_id,
        rows=[{"external_id": "C-1001", "email": "li.wei@example.com", "name": "Li Wei"}],
    )
    (issued,) = fieldwork.issue_invitations(session, wave, [contact])
    session.commit()
    return {
        "researcher": researcher,
        "handler": handler,
        "wave": wave,
        "followup": followup,
        "contact": contact,
        "token": issued.token,
    }


def _log_in(page: Any, base: str, email: str, locale: str) -> None:
    page.goto(f"{base}/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", TEST_PASSWORD)
    with page.expect_navigation():
        page.click("form[action='/login'] button[type=submit]")
    if locale != "en":
        with page.expect_navigation():
            page.click(f"form.lang-switch button[value={locale}]")


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize(("locale", "viewport"), [("zh_CN", PHONE), ("en", DESKTOP)])
def test_a_detractor_becomes_a_case_that_is_closed_with_a_follow_up_survey(
    chromium: Any,
    live_url: str,
    engine: Engine,
    settings: Settings,
    session: Session,
    loop: dict[str, Any],
    locale: str,
    viewport: dict[str, int],
    tmp_path: Path,
) -> None:
    text = TEXTS[locale]
    errors: list[str] = []

    def shoot(page: Any, name: str) -> None:
        page.screenshot(path=str(tmp_path / f"{locale}-{name}.png"), full_page=True)

    def new_page() -> Any:
        context = chromium.new_context(viewport=viewport, locale=locale.replace("_", "-"))
        page = context.new_page()
        page.on("pageerror", lambda error: errors.append(str(error)))
        return page

    # The researcher adds a detractor rule (NPS <= 6, due after 48 h).
    researcher = new_page()
    _log_in(researcher, live_url, loop["researcher"].email, locale)
    researcher.goto(f"{live_url}/waves/{loop['wave'].id}")
    researcher.locator(f"a[href='/waves/{loop['wave'].id}/alerts']").click()
    researcher.wait_for_url("**/alerts")
    detractors = researcher.locator("form:has(input[name=kind][value=nps])")
    detractors.locator("input[name=nps_threshold]").fill("6")
    with researcher.expect_navigation():
        detractors.get_by_role("button", name=text["add"]).click()
    assert researcher.locator("li.alert-rule").count() == 1
    shoot(researcher, "01-alert-rule")

    # The detractor answers through the personal link and agrees to be contacted.
    respondent = new_page()
    respondent.goto(f"{live_url}/i/{loop['token']}")
    respondent.get_by_label(text["consent"]).check()
    respondent.get_by_role("button", name=text["start"]).click()
    respondent.locator("#f-ltr-3").click()
    respondent.locator("input[name=may_contact][value=yes]").check()
    shoot(respondent, "02-detractor")
    with respondent.expect_navigation():
        respondent.get_by_role("button", name=text["submit"]).click()
    assert respondent.url.endswith("/done")

    case = session.exec(select(FollowUpCase)).one()
    assert case.assignee_id == loop["handler"].id

    # The client's case handler finds the case, reads the answers and closes it with a note.
    handler = new_page()
    _log_in(handler, live_url, loop["handler"].email, locale)
    handler.goto(f"{live_url}/cases")
    shoot(handler, "03-cases")
    handler.locator(f"a[href='/cases/{case.id}']").click()
    handler.wait_for_url(f"**/cases/{case.id}")
    assert handler.locator("dl.answers dt", has_text=text["question"]).is_visible()
    assert handler.get_by_text("li.wei@example.com").is_visible()
    handler.get_by_label(text["status"]).select_option("closed")
    handler.get_by_role("textbox", name=text["note"]).fill(
        "Called back; voucher sent. 已回电并寄出代金券。"
    )
    handler.get_by_label(text["send"]).select_option(str(loop["followup"].id))
    shoot(handler, "04-case")
    with handler.expect_navigation():
        handler.get_by_role("button", name=text["save"]).click()
    assert handler.locator(".tag", has_text=text["closed"]).first.is_visible()
    assert handler.get_by_text("已回电并寄出代金券").is_visible()
    shoot(handler, "05-closed")

    session.expire_all()
    case = session.get(FollowUpCase, case.id)
    assert case.status == CaseStatus.closed and case.followup_wave_id == loop["followup"].id
    # The job queue's periodic task sends the invitation once the wave's delay has passed.
    delay = timedelta(minutes=loop["followup"].event_delay_minutes)
    send_due_invitations(engine, settings, now=utcnow() + delay)
    invitations = session.exec(
        select(OutboxMessage).where(OutboxMessage.to == "li.wei@example.com")
    ).all()
    assert len(invitations) == 1

    # On the dashboard the researcher sees the wave's cases and plans an action after it.
    researcher.goto(f"{live_url}/studies/{loop['wave'].study_id}/dashboard")
    figures = researcher.locator("table.case-figures tbody tr")
    assert figures.count() == 1 and "100%" in figures.inner_text()
    researcher.locator("details.add-action summary").click()
    researcher.get_by_label(text["what"]).fill(text["action"])
    with researcher.expect_navigation():
        researcher.get_by_role("button", name=text["plan"]).click()
    plan = researcher.locator("li.action-row")
    assert plan.count() == 1 and text["action"] in plan.inner_text()
    assert text["pending"] in plan.inner_text()
    shoot(researcher, "06-dashboard")
    assert not errors
