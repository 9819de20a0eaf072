"""The respondent form in headless Chromium, as respondents use it.

Two journeys on a 390 x 844 phone: in Chinese with JavaScript (compact rating rows, NPS on one
row, the named error summary and its links, autosave, stop and come back), and in English
without JavaScript (an empty page skipped, Enter goes forward, save and continue later on
another device); each ends on a 1366 x 900 desktop (the matrix as a table with a wide statement
column). Screenshots go to the test's temporary directory.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from sqlmodel import select

from loyaltylab.fieldwork.models import Response, ResponseStatus
from surveys.library import agree_scale
from tests.loyaltylab.fieldwork_support import FIELDWORK_QUESTIONNAIRE, open_wave, texts

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1366, "height": 900}
MAX_ROW_HEIGHT = 130
"""CSS pixels a 7-point statement may take on a phone (it took ~420 as seven radio lines)."""

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.parametrize("database_url", ["sqlite"], indirect=True),
]

STATEMENTS = [
    texts("Overall, I am satisfied with Contoso.", "总体而言,我对Contoso感到满意。"),
    texts("I am satisfied with Contoso's products.", "我对Contoso的产品感到满意。"),
    texts("Contoso meets or exceeds my expectations.", "Contoso达到甚至超越了我的期望。"),
    texts("What I get from Contoso is worth the price.", "Contoso的产品/服务物有所值。"),
    texts(
        "The benefits outweigh the money, time and effort I spend.",
        "与付出的金钱、时间和精力相比,我获得的利益更多。",
    ),
    texts("Contoso keeps its promises.", "Contoso信守承诺。"),
    texts("Contoso communicates with me openly.", "Contoso与我的沟通公开透明。"),
    texts("I prefer Contoso to other brands.", "与其他品牌相比,我更偏爱Contoso。"),
    texts(
        "Even if competitors run promotions, I will stay with Contoso.",
        "即使竞争对手促销,我仍会选择Contoso。",
    ),
    texts("I would recommend Contoso to friends and family.", "我会向亲友推荐Contoso。"),
]
COMPLAINED = {"item": "complained", "op": "eq", "value": "yes"}


def journey_questionnaire() -> dict[str, Any]:
    """About you (the fieldwork tests' first page); a complaint page whose questions all
    depend on having complained; ten statements on the library's 7-point agree scale and the
    NPS; suggestions."""
    scale = agree_scale(languages=["zh-CN", "en"]).model_dump(mode="json")
    return {
        "title": texts("Contoso customer survey", "Contoso 顾客调查"),
        "languages": ["zh-CN", "en"],
        "sections": [
            FIELDWORK_QUESTIONNAIRE["sections"][0],  # complained (required), visits
            {
                "code": "complaint",
                "title": texts("Your complaint", "您的投诉"),
                "items": [
                    {
                        "type": "instruction",
                        "code": "sorry",
                        "label": texts("We are sorry to hear it.", "很遗憾听到这个消息。"),
                    },
                    {
                        "type": "likert",
                        "code": "fair",
                        "label": texts("The remedy was fair.", "解决方案合理。"),
                        "scale": scale,
                        "condition": COMPLAINED,
                    },
                    {
                        "type": "short_text",
                        "code": "about_it",
                        "label": texts("What was it about?", "投诉的是什么?"),
                        "condition": COMPLAINED,
                    },
                ],
            },
            {
                "code": "ratings",
                "title": texts("Your experience", "您的体验"),
                "items": [
                    {
                        "type": "matrix",
                        "code": "agree",
                        "label": texts(
                            "How much do you agree with the following statements?",
                            "您在多大程度上同意以下说法？",
                        ),
                        "required": True,
                        "scale": scale,
                        "rows": [
                            {"code": f"s{number}", "label": label}
                            for number, label in enumerate(STATEMENTS, start=1)
                        ],
                    },
                    {
                        "type": "nps",
                        "code": "nps",
                        "label": texts(
                            "How likely are you to recommend Contoso to a friend?",
                            "您向朋友推荐Contoso的可能性有多大?",
                        ),
                        "required": True,
                        "low_label": texts("Not at all likely", "完全不可能"),
                        "high_label": texts("Extremely likely", "极有可能"),
                    },
                ],
            },
            {
                "code": "more",
                "title": texts("Anything else?", "其他意见"),
                "items": [
                    {"type": "long_text", "code": "improve", "label": texts("Suggestions", "建议")}
                ],
            },
        ],
    }


@pytest.fixture
def live(live_url: str, session, study) -> str:
    study.contact_name, study.contact_email = "Li Wei", "li.wei@northwind.example"
    wave = open_wave(session, study, journey_questionnaire(), "2026-Q4")
    return f"{live_url}/s/{wave.public_slug}"


@pytest.fixture
def shoot(tmp_path: Path):
    """``shoot(page, "name")``: a full-page screenshot in the test's temporary directory."""

    def save(page, name: str) -> None:
        page.screenshot(path=str(tmp_path / f"{name}.png"), full_page=True)

    return save


def no_horizontal_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= innerWidth")


def rows_of(page) -> list[dict[str, float]]:
    """Each matrix statement's height and the top of each of its scale points."""
    return page.eval_on_selector_all(
        ".r-matrix .r-row",
        """rows => rows.map(row => ({
            height: row.getBoundingClientRect().height,
            tops: [...row.querySelectorAll('.r-point')].map(p => p.getBoundingClientRect().top),
        }))""",
    )


def check_phone_rating_rows(page) -> None:
    rows = rows_of(page)
    assert len(rows) == len(STATEMENTS)
    for row in rows:
        assert row["height"] <= MAX_ROW_HEIGHT, rows
        assert len(row["tops"]) == 7 and len(set(row["tops"])) == 1  # one line of segments
    nps = page.eval_on_selector_all(
        ".r-nps .r-point",
        "ps => ps.map(p => [p.getBoundingClientRect().top, p.getBoundingClientRect().right])",
    )
    assert len(nps) == 11 and len({top for top, _right in nps}) == 1  # 0-10 on one row
    assert max(right for _top, right in nps) <= PHONE["width"]
    assert no_horizontal_scroll(page)


def check_desktop_matrix(page) -> None:
    page.set_viewport_size(DESKTOP)
    rows = rows_of(page)
    assert all(row["height"] <= 70 and len(set(row["tops"])) == 1 for row in rows), rows
    statement = page.locator(".r-matrix .r-row-label").first.bounding_box()
    scale = page.locator(".r-matrix .r-scale").first.bounding_box()
    assert statement["y"] < scale["y"] + scale["height"]  # beside its scale, not above it
    assert statement["width"] >= 0.4 * scale["width"]
    assert no_horizontal_scroll(page)


def stored_response(session) -> Response:
    session.expire_all()
    [response] = session.exec(select(Response)).all()
    return response


def test_phone_in_chinese_with_javascript(chromium, shoot, live, session):
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
    expect(page.get_by_text("Northwind Research")).to_be_visible()
    expect(page.get_by_role("link", name="li.wei@northwind.example")).to_be_visible()
    shoot(page, "phone-zh-01-consent")
    page.get_by_label("我已阅读以上内容，同意参与本次调查。").check()
    page.get_by_role("button", name="开始答卷").click()
    expect(page.get_by_text("第 1 页，共 3 页")).to_be_visible()  # the complaint page is empty
    page.get_by_label("选项no").check()
    page.get_by_role("button", name="下一页").click()
    expect(page.get_by_role("heading", name="您的体验")).to_be_visible()
    expect(page.get_by_text("第 2 页，共 3 页")).to_be_visible()
    shoot(page, "phone-zh-02-ratings")
    check_phone_rating_rows(page)

    # Nothing answered: the page opens at the summary, which names every statement.
    page.get_by_role("button", name="下一页").click()
    summary = page.locator(".r-error-summary")
    expect(summary).to_be_focused()
    expect(summary.get_by_role("link")).to_have_count(len(STATEMENTS) + 1)
    expect(summary.get_by_role("link").nth(4)).to_contain_text("与付出的金钱、时间和精力相比")
    shoot(page, "phone-zh-03-errors")
    summary.get_by_role("link").nth(4).click()
    expect(page.locator("#f-s5")).to_be_focused()
    assert page.locator("#f-s5").evaluate("e => e.getAttribute('aria-describedby')") == "f-s5-error"

    # Answers are saved as they are given: the respondent stops without pressing Next ...
    for number in range(1, 6):
        page.locator(f"#f-s{number}-5").click()  # a tap on 6 · 同意
    page.locator("#f-nps-9").click()
    expect(page.locator(".r-autosave")).to_have_text("您的回答已自动保存。")
    page.close()
    page = context.new_page()  # ... and comes back later with the same link
    page.goto(live)
    expect(page.get_by_role("status").filter(has_text="欢迎回来")).to_be_visible()
    expect(page.locator("#f-s5-5")).to_be_checked()
    expect(page.locator("#f-nps-9")).to_be_checked()
    shoot(page, "phone-zh-04-welcome-back")

    for number in range(6, len(STATEMENTS) + 1):
        page.locator(f"#f-s{number}-3").click()
    check_desktop_matrix(page)
    shoot(page, "desktop-zh-05-ratings")
    page.set_viewport_size(PHONE)
    page.get_by_role("button", name="下一页").click()
    page.get_by_label("建议").fill("<script>alert(1)</script> 离家近")
    page.get_by_role("button", name="提交").click()
    expect(page.get_by_role("heading", name="感谢您的参与！")).to_be_visible()
    shoot(page, "phone-zh-06-thanks")
    page.goto(live)
    expect(page.get_by_role("heading", name="您已完成本次调查")).to_be_visible()
    assert problems == []
    response = stored_response(session)
    assert response.status == ResponseStatus.complete and response.language == "zh-CN"
    assert response.answer_values.count(6) == 5 and 9 in response.answer_values
    assert "<script>alert(1)</script> 离家近" in response.answer_values


def test_phone_in_english_without_javascript(chromium, shoot, live, session):
    from playwright.sync_api import expect

    context = chromium.new_context(java_script_enabled=False, viewport=PHONE, locale="en-GB")
    page = context.new_page()
    page.goto(live)
    page.get_by_role("button", name="English").click()
    shoot(page, "phone-en-01-consent")
    page.get_by_label("I have read the above and agree to take part.").check()
    page.get_by_role("button", name="Start the survey").click()
    page.get_by_role("button", name="Next").click()
    summary = page.locator(".r-error-summary")
    expect(summary).to_be_focused()  # autofocus: no script needed
    expect(summary).to_contain_text("Did you complain in the last 12 months?")
    page.get_by_label("Yes").check()
    page.get_by_label("Visits per year").fill("12")
    page.get_by_role("button", name="Next").click()
    expect(page.get_by_text("Page 2 of 4")).to_be_visible()  # having complained, it counts
    back = page.get_by_role("button", name="Back").bounding_box()
    forward = page.get_by_role("button", name="Next").bounding_box()
    assert back["x"] < forward["x"]  # Next sits after Back
    page.locator("#f-fair-5").click()
    shoot(page, "phone-en-02-complaint")
    page.get_by_role("button", name="Save and continue later").click()
    expect(page.get_by_role("heading", name="Your answers are saved")).to_be_visible()
    shoot(page, "phone-en-03-saved")
    link = page.get_by_label("Your link to continue, on this or another device").input_value()
    assert "/resume/" in link

    other_device = chromium.new_context(java_script_enabled=False, viewport=PHONE, locale="en")
    page = other_device.new_page()
    page.goto(live.split("/s/")[0] + urlsplit(link).path)  # links are built on BASE_URL
    expect(page.get_by_role("status").filter(has_text="Welcome back")).to_be_visible()
    expect(page.locator("#f-fair-5")).to_be_checked()
    shoot(page, "phone-en-04-welcome-back")
    page.get_by_label("What was it about?").fill("A late delivery")
    page.get_by_label("What was it about?").press("Enter")  # Enter goes forward, not back
    expect(page.get_by_role("heading", name="Your experience")).to_be_visible()
    shoot(page, "phone-en-05-ratings")
    check_phone_rating_rows(page)
    for number in range(1, len(STATEMENTS) + 1):
        point = number % 7  # the first point's radio is f-CODE, the others f-CODE-INDEX
        page.locator(f"#f-s{number}-{point}" if point else f"#f-s{number}").click()
    page.locator("#f-nps-10").click()
    check_desktop_matrix(page)
    shoot(page, "desktop-en-06-ratings")
    page.get_by_role("button", name="Next").click()
    page.get_by_role("button", name="Submit").click()
    expect(page.get_by_role("heading", name="Thank you!")).to_be_visible()
    response = stored_response(session)
    assert response.status == ResponseStatus.complete and response.language == "en"
    assert {6, "A late delivery", 10} <= set(response.answer_values)
