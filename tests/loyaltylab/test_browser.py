"""The foundation pages in a real browser: headless Chromium against the real app under uvicorn.

Screenshots (desktop and a 390 × 844 phone) go to ``LOYALTYLAB_SCREENSHOTS`` when it is set
(``foundation-*.png``).
"""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Iterator

import pytest
import uvicorn
from sqlmodel import Session, SQLModel, select

from loyaltylab.app import SERVER_OPTIONS, create_app
from loyaltylab.db import make_engine
from loyaltylab.mail import OutboxMessage
from loyaltylab.settings import Settings

DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
PASSWORD = "a long enough passphrase"

pytestmark = [
    pytest.mark.browser,
]


def migrate(database_url: str) -> None:
    """The schema as deployments get it (Alembic), or from the models while there is none."""
    try:
        from loyaltylab.migrate import upgrade
    except ImportError:
        engine = make_engine(database_url)
        SQLModel.metadata.create_all(engine)
        engine.dispose()
        return
    upgrade(database_url)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    return f"sqlite:///{tmp_path_factory.mktemp('browser') / 'browser.db'}"


def mailed_link(database_url: str, to: str, path: str) -> str:
    """The link of that kind in the newest mail to an address (as its reader would click)."""
    engine = make_engine(database_url)
    with Session(engine) as session:
        bodies = session.exec(
            select(OutboxMessage.body)
            .where(OutboxMessage.to == to)
            .order_by(OutboxMessage.id.desc())
        ).all()
    engine.dispose()
    return next(
        link for body in bodies for link in re.findall(r"https?://\S+", body) if path in link
    )


@pytest.fixture(scope="module")
def live_server(database_url: str) -> Iterator[str]:
    """The app served by uvicorn on a free localhost port, with its own SQLite database."""
    migrate(database_url)
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    settings = Settings(
        env="test", database_url=database_url, secret_key="browser-" + "k" * 40, base_url=base_url
    )
    app = create_app(settings)
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_level="warning", lifespan="off", **SERVER_OPTIONS
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    yield base_url
    server.should_exit = True
    thread.join(timeout=5)
    app.state.engine.dispose()


def assert_no_horizontal_scroll(page) -> None:
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"{page.url} is {overflow}px wider than the viewport"


def test_foundation_journey(chromium, screenshot, live_server: str, database_url: str) -> None:
    from playwright.sync_api import expect

    context = chromium.new_context(base_url=live_server, viewport=DESKTOP, locale="en-GB")
    page = context.new_page()
    page.set_default_timeout(5000)
    # CSP violations (inline style or script) and script errors show up in the console; the
    # 400 responses of the deliberately invalid forms below do too, and are expected.
    console_errors: list[str] = []

    def on_console(message) -> None:
        if message.type == "error" and "status of 400" not in message.text:
            console_errors.append(message.text)

    page.on("console", on_console)
    page.on("pageerror", lambda error: console_errors.append(str(error)))

    # Sign up: a new account with its own organisation.
    page.goto("/signup")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    screenshot(page, "foundation-01-signup")
    page.get_by_label("Your name").fill("Li Wei")
    page.get_by_label("E-mail address").fill("li.wei@northwind.example")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_label("Organisation").fill("Northwind Research")
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your inbox")
    screenshot(page, "foundation-01b-signup-sent")
    page.goto(mailed_link(database_url, "li.wei@northwind.example", "/signup/confirm/"))
    expect(page.get_by_text("Northwind Research")).to_be_visible()
    page.get_by_role("button", name="Create account").click()
    expect(page).to_have_url(f"{live_server}/studies")
    expect(page.get_by_role("status")).to_contain_text("Your organisation is ready")
    expect(page.get_by_role("link", name="Studies")).to_have_attribute("aria-current", "page")
    screenshot(page, "foundation-02-studies-empty")

    page.get_by_role("button", name="Log out").click()
    expect(page).to_have_url(re.compile(r"/login$"))
    expect(page.get_by_role("status")).to_have_text("You are logged out.")

    # A wrong password: the error summary takes focus and links to the field.
    page.get_by_label("E-mail address").fill("li.wei@northwind.example")
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Log in").last.click()
    summary = page.locator(".error-summary")
    expect(summary).to_be_focused()
    expect(summary).to_contain_text("The e-mail address or password is not right.")
    expect(page.get_by_label("E-mail address")).to_have_attribute("aria-invalid", "true")
    screenshot(page, "foundation-03-login-error")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").last.click()
    expect(page).to_have_url(f"{live_server}/studies")

    # The language switcher: Chinese for the session, then back.
    page.get_by_role("button", name="中文").click()
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    expect(page.get_by_role("heading", level=1)).to_have_text("研究项目")
    expect(page.get_by_role("button", name="退出登录")).to_be_visible()
    page.get_by_role("link", name="新建研究").first.click()
    expect(page.get_by_label("研究名称")).to_be_visible()
    page.get_by_role("button", name="创建研究").click()
    expect(page.locator(".error-summary")).to_contain_text("此项为必填项。")
    screenshot(page, "foundation-04-study-form-errors-zh")
    # The form was posted to /studies, so the switcher comes back to the list there.
    page.get_by_role("button", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", level=1)).to_have_text("Studies")

    # Create studies (the third one is what the README screenshot shows).
    studies = [
        (
            "Customer loyalty 2026",
            "Contoso",
            "Contoso Retail",
            "Annual satisfaction, perceived value, trust and loyalty survey of Contoso's "
            "loyalty-card members, ACSI-style model.",
        ),
        (
            "Hotel guest experience Q3",
            "Fabrikam Hotels",
            "",
            "Post-stay questionnaire for business and leisure guests; NPS and drivers.",
        ),
        ("App onboarding pulse", "", "", ""),
    ]
    for name, company, new_client, description in studies:
        page.goto("/studies/new")
        page.get_by_label("Study name").fill(name)
        page.get_by_label("In English", exact=True).fill(company)
        page.get_by_label("Description").fill(description)
        page.get_by_label("Or add a new client organisation").fill(new_client)
        if name.startswith("Customer"):
            screenshot(page, "foundation-05-study-form")
        page.get_by_role("button", name="Create study").click()
        expect(page.get_by_role("status")).to_have_text("The study has been created.")
        expect(page.get_by_role("heading", level=1)).to_have_text(name)
    screenshot(page, "foundation-06-study-detail")
    page.get_by_role("link", name="Studies").first.click()
    for name, *_ in studies:
        expect(page.get_by_role("link", name=name)).to_be_visible()
    screenshot(page, "foundation-07-studies")

    # Members: an invitation link to copy, role labels from the catalog.
    page.get_by_role("link", name="Members").click()
    page.get_by_label("E-mail address").fill("zhang.min@northwind.example")
    page.get_by_label("Role", exact=True).select_option(label="Client of Contoso Retail")
    page.get_by_role("button", name="Create invitation link").click()
    expect(page.get_by_label("Invitation link")).to_have_value(re.compile(r"/invite/"))
    expect(page.get_by_role("button", name="Copy link")).to_be_visible()
    expect(page.locator(".plain-list")).to_contain_text("Client of Contoso Retail")
    screenshot(page, "foundation-08-members")

    # The invited client joins; removing them asks first (data-confirm), and "no" keeps them.
    invited = chromium.new_context(base_url=live_server, viewport=DESKTOP, locale="en-GB")
    invitee = invited.new_page()
    invitee.goto(page.get_by_label("Invitation link").input_value())
    invitee.get_by_label("Your name").fill("Zhang Min")
    invitee.get_by_label("Password").fill(PASSWORD)
    invitee.get_by_role("button", name="Accept the invitation").click()
    expect(invitee.get_by_role("status")).to_have_text("You have joined Northwind Research.")
    expect(invitee.get_by_role("link", name="New study")).to_have_count(0)  # clients only read
    invited.close()

    page.reload()
    remove = page.get_by_role("button", name="Remove Zhang Min")
    questions: list[str] = []

    def answer(dialog, accept: bool) -> None:
        questions.append(dialog.message)
        dialog.accept() if accept else dialog.dismiss()

    page.once("dialog", lambda dialog: answer(dialog, accept=False))
    remove.click()
    expect(remove).to_be_visible()
    page.once("dialog", lambda dialog: answer(dialog, accept=True))
    remove.click()
    expect(page.get_by_role("status")).to_have_text("The member has been removed.")
    expect(page.get_by_role("cell", name="Zhang Min")).to_have_count(0)
    assert questions == ["Remove Zhang Min from Northwind Research?"] * 2

    # The account page (the name in the top bar): this browser's session is listed and marked.
    page.get_by_role("link", name="Li Wei").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your account")
    expect(page.get_by_role("row", name=re.compile("Chrome on Linux this device"))).to_have_count(1)
    screenshot(page, "foundation-08b-account")
    assert console_errors == []

    # Phone: the same pages at 390 px, navigation wrapping without JS, no sideways scrolling.
    phone = chromium.new_context(
        base_url=live_server,
        viewport=PHONE,
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
        locale="zh-CN",
        storage_state=context.storage_state(),
    )
    context.close()
    mobile = phone.new_page()
    mobile.set_default_timeout(5000)
    for path, name in [
        ("/studies", "09-phone-studies"),
        ("/studies/new", "10-phone-study-form"),
        ("/org/members", "11-phone-members"),
    ]:
        mobile.goto(path)
        expect(mobile.get_by_role("navigation", name="Main")).to_be_visible()
        assert_no_horizontal_scroll(mobile)
        screenshot(mobile, f"foundation-{name}")
    mobile.get_by_role("button", name="中文").click()
    expect(mobile.get_by_role("heading", level=1)).to_contain_text("成员")
    assert_no_horizontal_scroll(mobile)
    screenshot(mobile, "foundation-12-phone-members-zh")
    mobile.goto("/account")
    expect(mobile.get_by_role("heading", level=1)).to_have_text("我的账户")
    assert_no_horizontal_scroll(mobile)
    screenshot(mobile, "foundation-12b-phone-account-zh")
    mobile.get_by_role("button", name="退出登录", exact=True).click()
    expect(mobile.locator("html")).to_have_attribute("lang", "zh-CN")
    expect(mobile.get_by_role("heading", level=1)).to_have_text("登录")
    assert_no_horizontal_scroll(mobile)
    screenshot(mobile, "foundation-13-phone-login-zh")
    mobile.goto("/studies")
    expect(mobile).to_have_url(re.compile(r"/login\?next=/studies$"))
    phone.close()
