"""Webhooks, SMS and the QR poster in headless Chromium: an owner adds a webhook and reads its
delivery log, a researcher texts a wave, on a phone and a desktop, in English and Chinese."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlmodel import Session

from loyaltylab.accounts.models import Organisation, Role
from loyaltylab.fieldwork import service as fieldwork
from loyaltylab.settings import Settings
from loyaltylab.studies.models import Study
from loyaltylab.timeutil import utcnow
from loyaltylab.webhooks.models import DeliveryStatus, WebhookAttempt, WebhookDelivery
from tests.loyaltylab.fieldwork_support import FIELDWORK_QUESTIONNAIRE, open_wave
from tests.web_support import PHONE, TEST_PASSWORD

pytestmark = pytest.mark.browser
DESKTOP = {"width": 1366, "height": 900}
OWNER = "boss@northwind.example"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"webhooks_allow_private": True})


def _log_in(page, base: str, *, chinese: bool) -> None:
    page.goto(f"{base}/login")
    page.fill("input[name=email]", OWNER)
    page.fill("input[name=password]", TEST_PASSWORD)
    with page.expect_navigation():
        page.click("form[action='/login'] button[type=submit]")
    if chinese:
        with page.expect_navigation():
            page.click("form.lang-switch button[value=zh_CN]")


def _fits(page, width: int) -> None:
    overflow = page.evaluate("document.documentElement.scrollWidth")
    assert overflow <= width, f"{page.url} is {overflow}px wide on a {width}px screen"


# One database is enough: the pages' SQL runs on both in test_webhooks and test_sms.
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize(("viewport", "chinese"), [(DESKTOP, False), (PHONE, True)])
def test_an_owner_adds_a_webhook_and_texts_a_wave(
    chromium,
    live_url: str,
    session: Session,
    organisation: Organisation,
    study: Study,
    make_member: Callable,
    viewport: dict[str, int],
    chinese: bool,
    screenshot: Callable,
) -> None:
    make_member(organisation, email=OWNER, role=Role.owner)
    wave = open_wave(session, study, FIELDWORK_QUESTIONNAIRE, "2026-Q4")
    fieldwork.add_contacts(
        session,
        study_id=study.id,
        organisation_id=organisation.id,
        rows=[{"external_id": "c1", "phone": "13800138000", "channel": "sms"}],
    )
    session.commit()
    name = "zh" if chinese else "en"
    errors: list[str] = []
    context = chromium.new_context(viewport=viewport)
    page = context.new_page()
    page.on("pageerror", lambda error: errors.append(str(error)))
    _log_in(page, live_url, chinese=chinese)

    page.goto(f"{live_url}/org/settings")
    page.get_by_role("link", name="管理 Webhook" if chinese else "Manage webhooks").click()
    page.wait_for_url("**/org/webhooks")
    page.fill("#f-url", "http://127.0.0.1:9/crm-hook")
    page.fill("#f-description", "CRM <prod>")
    page.check("input[value='response.completed']")
    page.check("input[value='wave.closed']")
    with page.expect_navigation():
        page.click("form[action='/org/webhooks'] button[type=submit]")
    assert "/org/webhooks/" in page.url
    subscription_id = int(page.url.rsplit("/", 1)[1])
    page.get_by_text("Show the secret" if not chinese else "显示密钥").click()
    assert page.locator("details code.break-all").inner_text().startswith("whsec_")

    # A delivery that failed once, then got through: the log shows both attempts.
    delivery = WebhookDelivery(
        organisation_id=organisation.id,
        subscription_id=subscription_id,
        event="response.completed",
        event_id="e1",
        body="{}",
        status=DeliveryStatus.succeeded,
        attempts=2,
    )
    session.add(delivery)
    session.flush()
    first = utcnow() - timedelta(minutes=1)
    session.add(
        WebhookAttempt(delivery_id=delivery.id, number=1, at=first, status_code=500, duration_ms=41)
    )
    session.add(WebhookAttempt(delivery_id=delivery.id, number=2, status_code=200, duration_ms=12))
    session.commit()
    page.reload()
    log = page.locator("#deliveries").locator("xpath=..")
    assert "HTTP 500" in log.inner_text() and "HTTP 200" in log.inner_text()
    assert page.get_by_role("button", name="Redeliver" if not chinese else "重新投递").is_visible()
    _fits(page, viewport["width"])
    screenshot(page, f"channels-webhook-{name}")

    page.goto(f"{live_url}/waves/{wave.id}")
    button = page.locator(f"form[action='/waves/{wave.id}/invitations/sms'] button")
    assert "1" in button.inner_text()
    with page.expect_navigation():
        button.click()
    page.goto(f"{live_url}/outbox/sms")
    assert "+8613800138000" in page.content()
    _fits(page, viewport["width"])
    screenshot(page, f"channels-sms-outbox-{name}")
    page.goto(f"{live_url}/waves/{wave.id}")
    page.locator(f"a[href='/waves/{wave.id}/poster.pdf']").scroll_into_view_if_needed()
    _fits(page, viewport["width"])
    screenshot(page, f"channels-wave-{name}")
    assert errors == []
    context.close()
