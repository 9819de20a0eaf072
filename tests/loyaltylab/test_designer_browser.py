"""The questionnaire designer in headless Chromium against the real app under uvicorn.

Template -> custom item -> reorder (buttons and drag) -> display condition -> preview on a phone
in Chinese and English -> publish. Screenshots go to ``var/test-artifacts/designer-*.png``.
"""

from __future__ import annotations

import pytest

from surveys import service

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}

pytestmark = [
    pytest.mark.browser,
    pytest.mark.parametrize("database_url", ["sqlite"], indirect=True),
]


DRAG_STAFF_ABOVE_SAT = """() => {
  const data = new DataTransfer();
  const handle = document.querySelector("#part-staff .drag-handle");
  const target = document.querySelector("#part-sat");
  const top = target.getBoundingClientRect().top + 2;
  handle.dispatchEvent(new DragEvent("dragstart", {bubbles: true, dataTransfer: data}));
  const options = {bubbles: true, cancelable: true, clientY: top, dataTransfer: data};
  for (const type of ["dragover", "drop"]) {
    target.dispatchEvent(new DragEvent(type, options));
  }
}"""


def item_order(page) -> list[str]:
    return page.eval_on_selector_all(".items > .item", "items => items.map(i => i.dataset.code)")


def test_design_preview_and_publish(
    chromium, screenshot, live_url, session, organisation, study, owner
):
    from playwright.sync_api import expect

    context = chromium.new_context(base_url=live_url, viewport=DESKTOP, locale="en-GB")
    page = context.new_page()
    page.set_default_timeout(5000)
    problems: list[str] = []
    page.on(
        "console",
        lambda m: m.type == "error" and "status of 400" not in m.text and problems.append(m.text),
    )
    page.on("pageerror", lambda error: problems.append(str(error)))

    page.goto("/login")
    page.get_by_label("E-mail address").fill(owner.email)
    page.get_by_label("Password").fill("correct horse battery staple")
    page.get_by_role("button", name="Log in").click()

    # Start from the default template: one step to a complete bilingual questionnaire.
    page.goto(f"/studies/{study.id}")
    page.get_by_role("link", name="New questionnaire").click()
    expect(page.get_by_label("Satisfaction → value → loyalty")).to_be_checked()
    screenshot(page, "designer-01-start")
    page.get_by_role("button", name="Create questionnaire").click()
    expect(page.get_by_role("status")).to_contain_text("The questionnaire has been created.")
    expect(page.get_by_text("ready to publish")).to_be_visible()
    assert item_order(page)[:2] == ["sat", "val"]

    # A custom rating item, written from scratch in both languages.
    page.get_by_label("New question").first.select_option("likert")
    page.get_by_role("button", name="Write").first.click()
    page.get_by_label("Code").fill("staff")
    page.locator("#f-label-en").fill("Contoso's staff are friendly.")
    page.locator("#f-label-zh-CN").fill("Contoso 的员工很友好。")
    page.locator("#f-anchors-en").fill("Strongly disagree\nStrongly agree")
    page.locator("#f-anchors-zh-CN").fill("非常不同意\n非常同意")
    page.locator("#f-construct").select_option("VAL")
    screenshot(page, "designer-02-item-form")
    page.get_by_role("button", name="Add question").click()
    expect(page.get_by_role("status")).to_contain_text("The question has been added.")
    assert item_order(page)[:3] == ["sat", "val", "staff"]

    # Reorder with the keyboard-accessible button (focus comes back to it) ...
    page.get_by_role("button", name="Move staff up").click()
    expect(page.get_by_role("button", name="Move staff up")).to_be_focused()
    assert item_order(page)[:3] == ["sat", "staff", "val"]
    # ... and by dragging, which JavaScript turns into the same moves.
    # (Drag events dispatched in the page: headless Chromium does not start native drags.)
    with page.expect_navigation():
        page.evaluate(DRAG_STAFF_ABOVE_SAT)
    page.wait_for_load_state()
    expect(page.locator(".items > .item").first).to_have_attribute("data-code", "staff")
    assert item_order(page)[:3] == ["staff", "sat", "val"]

    # Display logic: only earlier questions are offered.
    page.locator("#part-improve").get_by_role("link", name="Condition").click()
    question = page.get_by_label("Earlier question")
    assert "improve" not in question.inner_text() and "nps" in question.inner_text()
    question.select_option("nps")
    page.get_by_label("Comparison").select_option("le")
    page.get_by_label("Answer value").fill("6")
    page.get_by_role("button", name="Save condition").click()
    expect(page.locator("#part-improve .logic")).to_contain_text("nps is at most 6")
    page.locator("#part-staff").scroll_into_view_if_needed()
    screenshot(page, "designer-03-designer")

    # Preview as a respondent on a phone, in each language.
    page.set_viewport_size(PHONE)
    # The preview is the respondent form itself, in a frame as wide as the phone.
    page.goto(page.url.split("#")[0] + "/preview?lang=zh-CN")
    frame = page.frame_locator("iframe.preview-frame")
    expect(frame.locator("html")).to_have_attribute("lang", "zh-CN")
    expect(frame.get_by_text("Contoso 的员工很友好。")).to_be_visible()
    expect(frame.locator(".r-logic").first).to_contain_text("nps")
    assert page.evaluate("document.documentElement.scrollWidth <= innerWidth")
    screenshot(page, "designer-04-preview-zh")
    page.get_by_role("link", name="English").click()
    frame = page.frame_locator("iframe.preview-frame")
    expect(frame.get_by_text("Contoso's staff are friendly.")).to_be_visible()
    assert frame.locator("body").evaluate("b => b.scrollWidth <= innerWidth")
    screenshot(page, "designer-05-preview-en")

    # Publish.
    page.set_viewport_size(DESKTOP)
    page.get_by_role("navigation", name="Breadcrumb").get_by_role("link").last.click()
    page.get_by_role("button", name="Publish version 1").click()
    expect(page.get_by_role("status")).to_contain_text("Version 1 has been published.")
    expect(page.get_by_text("is published and frozen")).to_be_visible()
    screenshot(page, "designer-06-published")

    assert problems == []
    session.rollback()
    (questionnaire,) = service.list_questionnaires(session, organisation.id)
    version = service.latest_published(session, organisation.id, questionnaire.id)
    definition = service.definition_of(version)
    assert [item.code for item in definition.sections[0].items] == ["staff", "sat", "val"]
    assert definition.find_item("improve")[2].condition is not None
