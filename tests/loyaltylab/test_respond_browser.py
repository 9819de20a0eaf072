"""The respondent form in headless Chromium: a phone in Chinese with stop and resume, and a
browser with JavaScript switched off. Screenshots go to ``var/test-artifacts/respond-*.png``."""

from __future__ import annotations

import pytest
from sqlmodel import select

from surveys.fieldwork.models import Response

PHONE = {"width": 390, "height": 844}

pytestmark = [
    pytest.mark.browser,
    pytest.mark.parametrize("database_url", ["sqlite"], indirect=True),
]


@pytest.fixture
def live(live_url: str, wave) -> str:
    return f"{live_url}/s/{wave.public_slug}"


def no_horizontal_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= innerWidth")


def test_phone_in_chinese_with_stop_and_resume(chromium, screenshot, live, session):
    from playwright.sync_api import expect

    context = chromium.new_context(viewport=PHONE, locale="zh-CN", device_scale_factor=2)
    page = context.new_page()
    problems: list[str] = []
    page.on(
        "console",
        lambda m: m.type == "error" and "status of 400" not in m.text and problems.append(m.text),
    )
    page.goto(live)
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    screenshot(page, "respond-phone-01-consent")
    page.get_by_label("我已阅读以上内容,同意参与本次调查。").check()
    page.get_by_role("button", name="开始答卷").click()
    expect(page.get_by_text("第 1 页,共 2 页")).to_be_visible()
    page.get_by_label("选项yes").check()
    page.get_by_label("每年到访次数").fill("60")
    screenshot(page, "respond-phone-02-page1")
    page.get_by_role("button", name="下一页").click()
    expect(page.get_by_role("heading", name="您的投诉")).to_be_visible()
    assert no_horizontal_scroll(page)
    screenshot(page, "respond-phone-03-matrix-stacked")
    page.close()  # the respondent stops here ...

    page = context.new_page()  # ... and comes back later with the same link
    page.goto(live)
    expect(page.get_by_role("heading", name="您的投诉")).to_be_visible()
    page.locator("#f-ch1-3").check()
    page.locator("#f-ch2-4").check()
    page.get_by_role("button", name="下一页").click()
    page.locator("#f-nps-9").check()
    page.get_by_label("为什么这么频繁?").fill("<script>alert(1)</script> 离家近")
    page.get_by_role("button", name="提交").click()
    expect(page.get_by_role("heading", name="感谢您的参与!")).to_be_visible()
    screenshot(page, "respond-phone-04-thanks")
    assert problems == []
    session.expire_all()
    [response] = session.exec(select(Response)).all()
    assert response.status == "complete" and response.language == "zh-CN"
    assert "<script>alert(1)</script> 离家近" in response.answer_values


def test_without_javascript_error_summary_and_complete(chromium, screenshot, live, session):
    from playwright.sync_api import expect

    context = chromium.new_context(
        java_script_enabled=False, viewport={"width": 1280, "height": 900}, locale="en-GB"
    )
    page = context.new_page()
    page.goto(live)
    page.get_by_role("button", name="English").click()
    page.get_by_label("I have read the above and agree to take part.").check()
    page.get_by_role("button", name="Start the survey").click()
    page.get_by_role("button", name="Next").click()
    summary = page.locator(".r-error-summary")
    expect(summary).to_contain_text("Please answer this question.")
    screenshot(page, "respond-nojs-01-error-summary")
    summary.get_by_role("link").first.click()
    assert page.url.endswith("#f-complained")
    page.get_by_label("Yes").check()
    page.get_by_role("button", name="Next").click()
    expect(page.get_by_role("heading", name="Your complaint")).to_be_visible()
    screenshot(page, "respond-nojs-02-matrix-table")
    page.locator("#f-ch1-4").check()
    page.locator("#f-ch2").check()
    page.get_by_role("button", name="Next").click()
    page.get_by_role("button", name="Back").click()
    expect(page.locator("#f-ch1-4")).to_be_checked()
    page.get_by_role("button", name="Next").click()
    page.locator("#f-nps-10").check()
    page.get_by_role("button", name="Submit").click()
    expect(page.get_by_role("heading", name="Thank you!")).to_be_visible()
    session.expire_all()
    [response] = session.exec(select(Response)).all()
    assert response.status == "complete" and response.language == "en"
