"""The questionnaire designer in headless Chromium against the real app under uvicorn.

One journey, on a wide screen in English and on a phone in Chinese: a template -> title,
introduction and languages -> a rating item (the agree scale's labels in both languages,
following the number of points) -> the row menu (keyboard, move) and a drag -> an AND/OR
condition built from the questions' answers, and one on a single matrix row -> the constructs
page -> preview -> publish. Screenshots (``designer-*.png``) go to ``LOYALTYLAB_SCREENSHOTS``
when it is set.
"""

from __future__ import annotations

import pytest

from loyaltylab.questionnaires import service
from surveys.conditions import AllOf, AnyOf, Comparison

DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.parametrize("database_url", ["sqlite"], indirect=True),
]

# What the journey reads on the pages, in the UI language of each run.
WORDS = {
    "en-GB": {
        "created": "The questionnaire has been created.",
        "condition saved": "The display condition has been saved.",
        "shown when": "Shown when",
    },
    "zh-CN": {
        "created": "问卷已创建。",
        "condition saved": "显示条件已保存。",
        "shown when": "显示条件：",
    },
}
AGREE = {
    "en": ["Strongly disagree", "Disagree", "Somewhat disagree", "Neither agree nor disagree"],
    "zh-CN": ["非常不同意", "不同意", "有点不同意", "一般"],
}

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


def without_javascript(chromium, live_url: str, email: str, base: str) -> None:
    """The row menu and the condition builder with JavaScript off: server round trips."""
    from playwright.sync_api import expect

    context = chromium.new_context(base_url=live_url, viewport=DESKTOP, java_script_enabled=False)
    page = context.new_page()
    page.set_default_timeout(5000)
    page.goto("/login")
    page.locator("input[name=email]").fill(email)
    page.locator("input[name=password]").fill("correct horse battery staple")
    page.locator("form[action='/login'] button[type=submit]").click()
    page.goto(base)
    page.locator("#part-frequency > .part-actions summary").click()
    page.locator("#part-frequency a[href$='/condition']").click()
    page.locator("#f-clause-0-item").select_option("tenure")
    expect(page.locator("[data-clause='0'] input[type=checkbox]")).to_have_count(0)
    page.get_by_role("button", name="Show its answers").click()
    page.locator("[data-clause='0'] input[type=checkbox]").first.check()
    page.locator("button[value=add]").click()
    page.locator("#f-clause-1-item").select_option("nps")
    page.locator("#f-clause-1-op").select_option("answered")
    page.locator("button[value=save]").click()
    expect(page.locator("#part-frequency .logic")).to_contain_text("tenure is lt1")
    expect(page.locator("#part-frequency .logic")).to_contain_text("nps is answered")
    context.close()


def fits(page) -> bool:
    """Nothing wider than the screen (a phone would scroll sideways)."""
    return page.evaluate("document.documentElement.scrollWidth <= innerWidth")


@pytest.mark.parametrize(
    ("viewport", "locale"), [(DESKTOP, "en-GB"), (PHONE, "zh-CN")], ids=["desktop-en", "phone-zh"]
)
def test_design_a_bilingual_questionnaire(
    chromium, screenshot, live_url, session, organisation, study, owner, viewport, locale
):
    from playwright.sync_api import expect

    words = WORDS[locale]
    tag = f"{viewport['width']}-{locale[:2]}"
    context = chromium.new_context(base_url=live_url, viewport=viewport, locale=locale)
    page = context.new_page()
    page.set_default_timeout(5000)
    problems: list[str] = []
    page.on(
        "console",
        lambda m: m.type == "error" and "status of 400" not in m.text and problems.append(m.text),
    )
    page.on("pageerror", lambda error: problems.append(str(error)))

    page.goto("/login")
    page.locator("input[name=email]").fill(owner.email)
    page.locator("input[name=password]").fill("correct horse battery staple")
    page.locator("form[action='/login'] button[type=submit]").click()

    # A new questionnaire from a template: every card's radio button has the same size.
    page.goto(f"/studies/{study.id}/questionnaires/new")
    radios = page.locator("input[name=start]")
    sizes = {
        (round(b["width"]), round(b["height"]))
        for b in map(lambda r: r.bounding_box(), radios.all())
    }
    assert len(sizes) == 1 and min(sizes.pop()) >= 17
    expect(radios.first).to_be_checked()
    assert fits(page)
    screenshot(page, f"designer-{tag}-01-start")
    page.locator("form[action$='/questionnaires'] button[type=submit]").click()
    expect(page.get_by_role("status")).to_contain_text(words["created"])
    (questionnaire,) = service.list_questionnaires(session, organisation.id)
    base = f"/questionnaires/{questionnaire.id}"

    # Title, introduction and languages, edited in the designer.
    page.locator("a.details-link").click()
    page.locator("#f-title-en").fill("Contoso loyalty survey 2026")
    page.locator("#f-title-zh-CN").fill("Contoso 忠诚度调查 2026")
    page.locator("#f-introduction-en").fill("About five minutes.")
    page.locator("#f-default_language").select_option("en")
    assert fits(page)
    screenshot(page, f"designer-{tag}-02-details")
    page.locator("form[action$='/details'] button.primary").click()
    title = "Contoso loyalty survey 2026" if locale == "en-GB" else "Contoso 忠诚度调查 2026"
    expect(page.locator("h1")).to_have_text(title)

    # A rating item written from scratch starts on the agree scale in both languages; its
    # labels follow the number of points.
    page.locator("#add-type-0").select_option("likert")
    page.locator("#part-experience form.add-item button").click()
    for language, labels in AGREE.items():
        assert page.locator(f"#f-anchors-{language}").input_value().split("\n")[:4] == labels
        assert len(page.locator(f"#f-anchors-{language}").input_value().split("\n")) == 7
    page.locator("#f-points").select_option("5")
    assert page.locator("#f-anchors-zh-CN").input_value().split("\n") == [
        "非常不同意", "不同意", "一般", "同意", "非常同意"
    ]  # fmt: skip
    page.locator("#f-code").fill("staff")
    page.locator("#f-label-en").fill("Contoso's staff are friendly.")
    page.locator("#f-label-zh-CN").fill("Contoso 的员工很友好。")
    page.locator("#f-construct").select_option("VAL")
    assert fits(page)
    screenshot(page, f"designer-{tag}-03-item")
    page.locator(".item-form button.primary").click()
    assert item_order(page)[:3] == ["sat", "val", "staff"]

    # The row menu: opened with the keyboard, closed with Escape, then a move up.
    summary = page.locator("#part-staff > .part-actions summary")
    summary.focus()
    page.keyboard.press("Enter")
    menu = page.locator("#part-staff > .part-actions details")
    expect(menu).to_have_attribute("open", "")
    expect(menu.locator(".part-menu-list")).to_be_visible()
    box = menu.locator(".part-menu-list").bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= viewport["width"]
    assert fits(page)
    screenshot(page, f"designer-{tag}-04-menu")
    page.keyboard.press("Escape")
    expect(menu).not_to_have_attribute("open", "")
    expect(summary).to_be_focused()
    page.keyboard.press("Enter")
    up = menu.locator("button[value=up]")
    up.click()
    assert item_order(page)[:3] == ["sat", "staff", "val"]
    expect(page.locator("#part-staff > .part-actions details")).to_have_attribute("open", "")
    expect(page.locator("#part-staff > .part-actions button[value=up]")).to_be_focused()
    if viewport is DESKTOP:
        # Dragging (events dispatched in the page: headless Chromium starts no native drag).
        with page.expect_navigation():
            page.evaluate(DRAG_STAFF_ABOVE_SAT)
        expect(page.locator(".items > .item").first).to_have_attribute("data-code", "staff")

    # An AND/OR condition built from the earlier questions' answers.
    page.goto(f"{base}/items/gender/condition")
    expect(page.locator("button[value=refresh]").first).to_be_hidden()  # JavaScript shows answers
    page.locator("#f-clause-0-item").select_option("nps")
    page.locator("#f-clause-0-op").select_option("le")
    page.locator("#f-clause-0-value").select_option("6")
    page.locator("button[value=add]").click()
    expect(page.locator("#f-clause-1-item")).to_be_focused()
    page.locator("#f-clause-1-join").select_option("or")
    page.locator("#f-clause-1-item").select_option("sat1")
    page.locator("#f-clause-1-op").select_option("le")
    page.locator("#f-clause-1-value").select_option("3")
    page.locator("button[value=add]").click()
    page.locator("#f-clause-2-item").select_option("age_band")
    page.locator("label[for='f-clause-2-value']").click()
    page.locator("label[for='f-clause-2-value-1']").click()
    page.locator("#f-clause-2-op").select_option("answered")
    expect(page.locator("[data-clause='2'] [data-clause-value]")).to_be_hidden()
    page.locator("#f-clause-2-op").select_option("eq")
    assert fits(page)
    screenshot(page, f"designer-{tag}-05-condition")
    page.locator("button[value=save]").click()
    expect(page.get_by_role("status")).to_contain_text(words["condition saved"])
    expect(page.locator("#part-gender .logic")).to_contain_text(words["shown when"])
    expect(page.locator("#part-gender .logic")).to_contain_text("age_band")

    # A condition on one statement of a matrix.
    page.locator("#part-loy4 .row-condition-link").click()
    expect(page.locator("#f-clause-0-item option[value='loy1']")).to_have_count(0)
    page.locator("#f-clause-0-item").select_option("val1")
    page.locator("#f-clause-0-op").select_option("ge")
    page.locator("#f-clause-0-value").select_option("4")
    page.locator("button[value=save]").click()
    expect(page.locator("#part-loy4 .logic")).to_contain_text("val1")
    page.locator("#part-loy4").scroll_into_view_if_needed()
    assert fits(page)
    screenshot(page, f"designer-{tag}-06-designer")

    # The constructs page shows each definition whole.
    page.goto(f"{base}/model")
    definitions = page.locator(".construct-definitions textarea")
    assert definitions.count() >= 6
    for box in definitions.all():
        assert box.evaluate("a => a.scrollHeight <= a.clientHeight + 1"), box.input_value()
        assert box.bounding_box()["width"] >= min(300, viewport["width"] - 120)
    assert fits(page)
    screenshot(page, f"designer-{tag}-07-constructs")

    # Preview in the other language, then publish.
    page.goto(f"{base}/preview?lang={'zh-CN' if locale == 'en-GB' else 'en'}")
    staff = "Contoso 的员工很友好。" if locale == "en-GB" else "Contoso's staff are friendly."
    # The preview is the respondent form itself, in a frame as wide as the chosen device.
    frame = page.frame_locator("iframe.preview-frame")
    expect(frame.get_by_text(staff)).to_be_visible()
    expect(frame.locator(".r-logic").first).to_be_visible()
    assert frame.locator("body").evaluate("b => b.scrollWidth <= innerWidth")
    screenshot(page, f"designer-{tag}-08-preview")
    page.goto(base)
    page.locator(f"form[action='{base}/publish'] button").click()
    expect(page.locator(".notice-published")).to_be_visible()
    screenshot(page, f"designer-{tag}-09-published")

    if viewport is DESKTOP:
        without_javascript(chromium, live_url, owner.email, base)

    assert problems == []
    session.rollback()
    version = service.latest_published(session, organisation.id, questionnaire.id)
    definition = service.definition_of(version)
    assert definition.languages == ["en", "zh-CN"]
    assert definition.find_item("staff")[2].scale.points == 5
    assert definition.find_item("gender")[2].condition == AnyOf(
        any=[
            Comparison(item="nps", op="le", value=6),
            AllOf(
                all=[
                    Comparison(item="sat1", op="le", value=3),
                    Comparison(item="age_band", op="in", value=["under18", "18-24"]),
                ]
            ),
        ]
    )
    loy = definition.find_item("loy")[2]
    assert loy.rows[3].condition == Comparison(item="val1", op="ge", value=4)
