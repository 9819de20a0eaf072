"""A researcher fields a new bilingual study in headless Chromium against the real app.

One walk: the organisation's time zone -> a study with its company named in both languages ->
a questionnaire from a template, published -> contacts with a language column -> a wave with
quotas (every form error shown at once first) -> its e-mail texts -> invitations and reminders
in each contact's language -> a contact answers through the invitation's link and finishes
through the reminder's -> the responses page (search, one response, bulk exclusion with a
reason) -> the monitoring chart. Then the key pages on a 390 x 844 phone, in Chinese and in
English, without sideways scrolling. Screenshots go to ``LOYALTYLAB_SCREENSHOTS`` when it is set.
"""

from __future__ import annotations

import re

import pytest
from sqlmodel import Session, select

from loyaltylab.accounts.models import Role
from loyaltylab.fieldwork.models import Response
from loyaltylab.mail import OutboxMessage
from loyaltylab.studies.models import Study

DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}
PASSWORD = "correct horse battery staple"
CONTACTS = (
    "external_id,name,email,language,tier\n"
    "C1,王芳,wang@example.cn,中文,gold\n"
    "C2,Ann Lee,ann@example.com,en,silver\n"
    "C3,李伟,li@example.cn,zh-CN,silver\n"
).encode()

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.parametrize("database_url", ["sqlite"], indirect=True),
]


def no_sideways_scrolling(page) -> None:
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    # What sticks out (a wide table scrolls inside its own wrapper, which is fine).
    culprits = page.evaluate(
        """() => [...document.querySelectorAll("body *")]
        .filter(e => e.getBoundingClientRect().right > document.documentElement.clientWidth + 1
                     && !e.closest(".table-wrap"))
        .slice(0, 5).map(e => `${e.tagName}.${e.className}: ${e.textContent.slice(0, 40)}`)"""
    )
    assert overflow <= 0, f"{page.url} is {overflow}px wider than the phone: {culprits}"
    # A button with a long label must wrap inside its card, not run over the card's edge
    # (which the card's own padding can hide from the page's width).
    sticking_out = page.evaluate(
        """() => [...document.querySelectorAll(".card .button")]
        .filter(b => b.getBoundingClientRect().right
                     > b.closest(".card").getBoundingClientRect().right)
        .map(b => b.textContent.trim())"""
    )
    assert sticking_out == [], f"{page.url}: buttons run out of their card: {sticking_out}"


def answer_page(page) -> None:
    """Choose an answer for every question of a respondent page (the fourth option, or the
    last of shorter lists)."""
    page.evaluate(
        """() => {
        const groups = {};
        for (const input of document.querySelectorAll("input[type=radio]")) {
            (groups[input.name] = groups[input.name] || []).push(input);
        }
        for (const inputs of Object.values(groups)) {
            inputs[Math.min(3, inputs.length - 1)].checked = true;
        }
    }"""
    )


def _link(body: str, kind: str) -> str:
    """The path of the ``/i/`` (personal) or ``/o/`` (opt-out) link in an e-mail."""
    return re.search(rf"https?://[^/\s]+(/{kind}/\S+)", body).group(1)


def test_a_researcher_fields_a_bilingual_study(
    chromium, live_url, session: Session, organisation, make_member, screenshot
) -> None:
    from playwright.sync_api import expect

    make_member(organisation, email="owner@northwind.example", role=Role.owner)
    context = chromium.new_context(base_url=live_url, viewport=DESKTOP, locale="en-GB")
    page = context.new_page()
    page.set_default_timeout(10_000)
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(str(error)))

    page.goto("/login")
    page.get_by_label("E-mail address").fill("owner@northwind.example")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()

    # The organisation works in Shanghai: every time is shown and typed there.
    nav = page.get_by_role("navigation", name="Main")
    nav.get_by_role("link", name="Settings").click()
    page.get_by_role("combobox", name="Time zone").select_option("Asia/Shanghai")
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".flash")).to_contain_text("The settings have been saved.")

    # A study: every problem of the form at once, then the company in both languages.
    nav.get_by_role("link", name="Studies").click()
    page.get_by_role("link", name="New study").click()
    page.get_by_label("In English", exact=True).fill("x" * 201)
    page.get_by_role("button", name="Create study").click()
    summary = page.locator(".error-summary")
    expect(summary).to_contain_text("There are 2 problems")
    expect(summary).to_contain_text("Study name: This field is required.")
    expect(summary).to_contain_text("Company surveyed, in English: Use at most 200 characters.")
    screenshot(page, "01-study-form-errors")
    page.get_by_label("Study name").fill("Fabrikam coffee loyalty 2026")
    page.get_by_label("In English", exact=True).fill("Fabrikam Coffee")
    page.get_by_label("In Chinese", exact=True).fill("Fabrikam咖啡")
    page.get_by_label("Or add a new client organisation").fill("Fabrikam Group")
    page.get_by_role("button", name="Create study").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Fabrikam coffee loyalty 2026")
    expect(page.locator(".facts")).to_contain_text("Fabrikam Group")
    screenshot(page, "02-study-new")

    # The next step leads to the questionnaire, then to publishing it, then to a wave.
    page.locator(".next-step").get_by_role("link", name="Create the questionnaire").click()
    page.get_by_role("button", name="Create questionnaire").click()
    page.get_by_role("button", name="Publish version 1").click()
    expect(page.locator(".flash")).to_contain_text("Version 1 has been published.")
    page.locator(".next-step").get_by_role("link", name="Create a wave").click()
    expect(page.get_by_role("heading", name="New wave")).to_be_visible()
    expect(page.get_by_label("Questionnaire")).to_contain_text("Fabrikam Coffee")

    # Contacts with a language column.
    page.get_by_role("link", name="Contacts").first.click()
    page.get_by_label("File", exact=True).set_input_files(
        {"name": "contacts.csv", "mimeType": "text/csv", "buffer": CONTACTS}
    )
    page.get_by_role("button", name="Upload").click()
    expect(page.locator(".flash")).to_contain_text("Contacts imported: 3.")
    screenshot(page, "03-contacts")

    # A wave with quotas: every mistake shown at once, each at its field.
    page.get_by_role("link", name="Waves").last.click()
    page.get_by_label("Wave name").fill("")
    page.get_by_label("Closes at").fill("2026-12-31T18:00")
    page.get_by_label("Target sample size").fill("many")
    page.get_by_label("Contact attribute or question").fill("colour")
    page.get_by_label("Quota per group").fill("red: 2")
    page.get_by_role("button", name="Create wave").click()
    summary = page.locator(".error-summary")
    expect(summary).to_contain_text("There are 3 problems")
    for text in (
        "Wave name: Give the wave a name.",
        "Target sample size: The target sample size must be a whole number",
        "Quota per group: No contact of this study has the attribute colour",
    ):
        expect(summary).to_contain_text(text)
    expect(page.locator("#f-quotas-error")).to_be_visible()
    screenshot(page, "04-wave-form-errors")
    page.get_by_label("Wave name").fill("2026-Q4")
    page.get_by_label("Target sample size").fill("3")
    page.get_by_label("Contact attribute or question").fill("tier")
    page.get_by_label("Quota per group").fill("gold: 1\nsilver: 2")
    page.get_by_role("button", name="Create wave").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("2026-Q4")
    expect(page.get_by_text("2026-12-31 18:00").first).to_be_visible()
    page.get_by_role("button", name="Open the wave").click()
    expect(page.locator(".flash")).to_contain_text("The wave is open.")

    # The e-mail texts, previewed as Ann Lee and 王芳 would get them.
    page.get_by_role("link", name="E-mail texts and preview").click()
    previews = page.locator(".fw-preview")
    expect(previews.filter(has_text="Dear Ann Lee,").first).to_be_visible()
    expect(previews.filter(has_text="尊敬的王芳：").first).to_be_visible()
    screenshot(page, "05-email-texts")
    page.get_by_role("link", name="Back to the wave").click()

    page.get_by_role("button", name=re.compile("E-mail the invitation")).click()
    expect(page.locator(".flash")).to_contain_text("Invitations e-mailed: 3.")
    page.get_by_role("button", name="E-mail a reminder").click()
    expect(page.locator(".flash")).to_contain_text("Reminders e-mailed: 3.")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Outbox").click()
    expect(page.locator(".fw-mail").first).to_contain_text("Northwind Research")
    screenshot(page, "06-outbox")
    mails = session.exec(select(OutboxMessage).order_by(OutboxMessage.id)).all()
    to_wang = [m for m in mails if m.to == "wang@example.cn"]
    to_ann = [m for m in mails if m.to == "ann@example.com"]
    assert (
        to_wang[0].subject == "您对 Fabrikam咖啡 的看法"
        and "Fabrikam Coffee" not in to_wang[0].body
    )
    assert to_ann[1].subject == "Reminder: your opinion of Fabrikam Coffee"
    assert "Dear Ann Lee," in to_ann[1].body and "31, 2026 6:00 PM (UTC+08:00)" in to_ann[1].body

    # 王芳 starts through the invitation's link on her phone and finishes through the reminder's.
    invited, reminded = _link(to_wang[0].body, "i"), _link(to_wang[1].body, "i")
    assert invited != reminded
    phone = chromium.new_context(base_url=live_url, viewport=PHONE, locale="en-US")
    person = phone.new_page()
    person.goto(invited)
    expect(person.locator("html")).to_have_attribute("lang", "zh-CN")  # her language
    expect(person.locator(".r-title")).not_to_contain_text("Fabrikam Coffee")
    person.get_by_role("checkbox").check()
    person.get_by_role("button", name="开始答卷").click()
    answer_page(person)
    person.get_by_role("button", name="下一页").click()
    expect(person).to_have_url(re.compile("/page/1$"))
    screenshot(person, "07-respondent-page-2")
    later = phone.new_page()
    later.goto(reminded)  # the reminder's link continues the same response
    # ... where she left it, welcomed back.
    expect(later).to_have_url(re.compile(re.escape(reminded) + r"/page/1\?welcome=1$"))
    expect(later.get_by_role("status")).to_contain_text("欢迎回来")
    while "/done" not in later.url:
        answer_page(later)
        later.locator("button.r-primary[value=next]").click()
        later.wait_for_load_state()
    session.expire_all()
    [answered] = session.exec(select(Response)).all()
    assert answered.status == "complete" and answered.quota_cell == "gold"
    assert answered.language == "zh-CN"

    # The responses page: search by the contact's name, read the response, exclude in bulk.
    page.goto(f"/waves/{answered.wave_id}/responses")
    page.get_by_label("Search").fill("王芳")
    page.get_by_role("button", name="Show responses").click()
    expect(page.locator("#match-count")).to_have_text("1 response matches.")
    page.get_by_role("link", name=f"#{answered.id}").click()
    expect(page.locator(".fw-answers")).to_contain_text("How likely are you to recommend")
    screenshot(page, "08-response")
    page.get_by_role("link", name="Back to the responses").click()
    expect(page).to_have_url(re.compile(r"q=%E7%8E%8B%E8%8A%B3"))  # the filter is kept
    page.get_by_label("Select every response on this page").check()  # ticks each row's box
    expect(page.get_by_label(f"Select response #{answered.id}")).to_be_checked()
    page.get_by_label("Reason for excluding").fill("test response")
    page.get_by_role("button", name="Exclude from analyses").click()
    expect(page.locator(".flash")).to_contain_text("Responses excluded from analyses: 1.")
    expect(page).to_have_url(re.compile(r"q=%E7%8E%8B%E8%8A%B3"))  # and survives the exclusion
    expect(page.locator(f"#r-{answered.id}")).to_contain_text("test response")
    screenshot(page, "09-responses")

    # Monitoring: the completes-per-day chart and where respondents stop.
    page.goto(f"/waves/{answered.wave_id}")
    expect(page.locator("svg.fw-chart rect")).to_have_count(1)
    expect(page.locator(".fw-dropout")).to_be_visible()
    screenshot(page, "10-wave")

    # The key pages on a phone, in Chinese and in English.
    study = session.exec(select(Study)).one()
    key_pages = {
        "study": f"/studies/{study.id}",
        "waves": f"/studies/{study.id}/waves",
        "wave": f"/waves/{answered.wave_id}",
        "responses": f"/waves/{answered.wave_id}/responses",
        "response": f"/waves/{answered.wave_id}/responses/{answered.id}",
        "emails": f"/waves/{answered.wave_id}/emails",
        "contacts": f"/studies/{study.id}/contacts",
        "outbox": "/outbox",
        "privacy": f"/studies/{study.id}/privacy",
        "settings": "/org/settings",
    }
    for locale, language in (("zh-CN", "zh"), ("en-GB", "en")):
        mobile = chromium.new_context(base_url=live_url, viewport=PHONE, locale=locale)
        small = mobile.new_page()
        small.goto("/login")
        small.locator("#f-email").fill("owner@northwind.example")
        small.locator("#f-password").fill(PASSWORD)
        small.locator("form[action='/login'] button[type=submit]").click()
        small.wait_for_url("**/studies")
        for name, path in key_pages.items():
            small.goto(path)
            no_sideways_scrolling(small)
            screenshot(small, f"phone-{language}-{name}")
        mobile.close()
    for context_ in (phone, context):
        context_.close()
    assert problems == []
