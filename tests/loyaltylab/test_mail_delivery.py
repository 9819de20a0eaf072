"""Mail delivery against a real SMTP server (aiosmtpd): TLS before any password or message,
failed sends recorded in the outbox and retried by the job queue with backoff."""

from __future__ import annotations

import ssl
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError
from sqlalchemy.engine import Engine
from sqlmodel import Session

from loyaltylab.accounts.models import Organisation
from loyaltylab.fieldwork.models import Wave
from loyaltylab.jobs.queue import JobQueue
from loyaltylab.mail import OutboxMessage, SmtpServer, deliver_all, queue_mail
from loyaltylab.settings import Settings
from tests.loyaltylab.smtp_support import (
    PASSWORD,
    USER,
    RecordingHandler,
    self_signed_certificate,
    server_context,
    start_server,
)

TRY_LATER = "451 4.3.0 Mailbox busy, try again later"
NO_SUCH_USER = "550 5.1.1 No such mailbox here"


@pytest.fixture
def tls(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ssl.SSLContext:
    """The server's TLS context; the app trusts its certificate as a private CA's (the
    SSL_CERT_FILE an operator sets for one)."""
    cert_file, key_file = self_signed_certificate(tmp_path)
    monkeypatch.setenv("SSL_CERT_FILE", str(cert_file))
    return server_context(cert_file, key_file)


@pytest.fixture
def handler() -> RecordingHandler:
    return RecordingHandler()


@pytest.fixture
def starttls_server(handler: RecordingHandler, tls: ssl.SSLContext) -> Iterator[int]:
    controller = start_server(handler, starttls=tls)
    yield controller.port
    controller.stop()


def _message(session: Session, organisation: Organisation, to: str = "ann@example.com"):
    message = queue_mail(
        session,
        to=to,
        subject="Your opinion of Contoso",
        body="Tell us: https://loyaltylab.example/i/abc",
        organisation_id=organisation.id,
        sender_name=organisation.name,
    )
    session.commit()
    return message


def _reloaded(session: Session, message: OutboxMessage) -> OutboxMessage:
    session.expire_all()
    return session.get(OutboxMessage, message.id)


def _mailing(settings: Settings, url: str, **options) -> Settings:
    return settings.model_copy(update={"smtp_url": url, **options})


def test_starttls_url_encrypts_before_signing_in_and_sending(
    session: Session,
    engine: Engine,
    settings: Settings,
    organisation: Organisation,
    handler: RecordingHandler,
    starttls_server: int,
) -> None:
    message = _message(session, organisation)
    url = f"smtp+starttls://{USER}:{PASSWORD.replace('/', '%2F')}@localhost:{starttls_server}"
    assert deliver_all(engine, [message.id], _mailing(settings, url)) == {}
    (delivery,) = handler.received
    assert delivery.encrypted and delivery.user == USER
    assert delivery.message["Subject"] == "Your opinion of Contoso"
    stored = _reloaded(session, message)
    assert stored.sent_at is not None and stored.attempts == 1
    assert stored.delivery_status == "sent"


def test_smtps_speaks_tls_from_the_first_byte(
    session: Session,
    engine: Engine,
    settings: Settings,
    organisation: Organisation,
    handler: RecordingHandler,
    tls: ssl.SSLContext,
) -> None:
    controller = start_server(handler, implicit_tls=tls)
    try:
        message = _message(session, organisation)
        url = f"smtps://{USER}:{PASSWORD.replace('/', '%2F')}@localhost:{controller.port}"
        deliver_all(engine, [message.id], _mailing(settings, url))
    finally:
        controller.stop()
    (delivery,) = handler.received
    assert delivery.encrypted and delivery.user == USER


def test_a_server_without_starttls_gets_neither_password_nor_message(
    session: Session,
    engine: Engine,
    settings: Settings,
    organisation: Organisation,
    handler: RecordingHandler,
) -> None:
    controller = start_server(handler)  # offers no STARTTLS
    try:
        message = _message(session, organisation)
        url = f"smtp+starttls://{USER}:x@localhost:{controller.port}"
        assert deliver_all(engine, [message.id], _mailing(settings, url)) == {}
    finally:
        controller.stop()
    assert handler.received == []
    stored = _reloaded(session, message)
    assert stored.delivery_status == "failed"  # a server that cannot do TLS will not learn to
    assert "STARTTLS" in stored.last_error


def test_an_untrusted_certificate_is_not_accepted(
    session: Session,
    engine: Engine,
    settings: Settings,
    organisation: Organisation,
    handler: RecordingHandler,
    starttls_server: int,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("SSL_CERT_FILE")  # the system's CAs do not know the test certificate
    message = _message(session, organisation)
    url = f"smtp+starttls://{USER}:x@localhost:{starttls_server}"
    retries = deliver_all(engine, [message.id], _mailing(settings, url))
    assert handler.received == []
    assert "CERTIFICATE_VERIFY_FAILED" in _reloaded(session, message).last_error
    assert retries == {message.id: settings.mail_retry_seconds}


def test_the_mail_url_decides_the_encryption() -> None:
    assert SmtpServer.from_url("smtp+starttls://u:p@mail.example.com").port == 587
    assert SmtpServer.from_url("smtp://u:p@mail.example.com:587").security == "starttls"
    assert SmtpServer.from_url("smtps://u:p@mail.example.com").port == 465
    assert SmtpServer.from_url("smtp://127.0.0.1:1025").security == "plain"
    with pytest.raises(ValueError, match="scheme"):
        SmtpServer.from_url("http://mail.example.com")


def test_settings_refuse_a_password_or_remote_mail_in_clear_text() -> None:
    common = {"secret_key": "k" * 20 + "abcdefghijklmnopqrstuvwxyz"}
    with pytest.raises(ValidationError, match="without TLS"):
        Settings(smtp_url="smtp://u:p@mail.example.com:25", **common)
    with pytest.raises(ValidationError, match="over TLS in production"):
        Settings(env="production", smtp_url="smtp://mail.example.com:25", **common)
    # A relay on this machine, and TLS anywhere, are fine.
    Settings(env="production", smtp_url="smtp://u:p@127.0.0.1:25", **common)
    Settings(env="production", smtp_url="smtp+starttls://u:p@mail.example.com", **common)


def _wait_for(session: Session, message: OutboxMessage, status: str) -> OutboxMessage:
    deadline = time.monotonic() + 30
    while (stored := _reloaded(session, message)).delivery_status != status:
        assert time.monotonic() < deadline, f"still {stored.delivery_status}: {stored.last_error}"
        time.sleep(0.1)
    return stored


def test_a_refused_send_is_retried_by_the_job_queue_until_delivered(
    session: Session,
    settings: Settings,
    organisation: Organisation,
    queue: JobQueue,
    handler: RecordingHandler,
    starttls_server: int,
) -> None:
    handler.refusals = [TRY_LATER, TRY_LATER]
    url = f"smtp+starttls://{USER}:{PASSWORD.replace('/', '%2F')}@localhost:{starttls_server}"
    queue.settings = _mailing(queue.settings, url, mail_retry_seconds=0.2, mail_max_attempts=4)
    message = _message(session, organisation)
    queue.send_mail([message.id])  # the first attempt, as right after a response
    first = _reloaded(session, message)
    assert first.delivery_status == "retrying" and first.attempts == 1
    assert first.last_error == TRY_LATER and first.next_attempt_at is not None
    sent = _wait_for(session, message, "sent")
    assert sent.attempts == 3 and handler.refused == 2
    assert [d.message["To"] for d in handler.received] == ["ann@example.com"]


def test_sends_that_fail_for_good_are_shown_failed_in_the_outbox(
    session: Session,
    settings: Settings,
    organisation: Organisation,
    queue: JobQueue,
    handler: RecordingHandler,
    starttls_server: int,
    researcher: TestClient,
    wave: Wave,
    caplog: pytest.LogCaptureFixture,
) -> None:
    handler.refusals = [NO_SUCH_USER, TRY_LATER, TRY_LATER]
    url = f"smtp+starttls://{USER}:{PASSWORD.replace('/', '%2F')}@localhost:{starttls_server}"
    queue.settings = _mailing(queue.settings, url, mail_retry_seconds=0.2, mail_max_attempts=2)
    refused = _message(session, organisation, to="gone@example.com")
    busy = _message(session, organisation, to="busy@example.com")
    queue.send_mail([refused.id, busy.id])
    # A permanent refusal (5xx) is not retried; a busy server is, until the attempts run out.
    assert _reloaded(session, refused).delivery_status == "failed"
    assert _reloaded(session, refused).attempts == 1
    stored = _wait_for(session, busy, "failed")
    assert stored.attempts == 2 and stored.last_error == TRY_LATER
    assert handler.received == []
    logged = [record.getMessage() for record in caplog.records if record.name == "loyaltylab.mail"]
    assert any("gone@example.com" in line and "given up" in line for line in logged)
    assert any("busy@example.com" in line and "retrying" in line for line in logged)
    page = researcher.get("/outbox").text
    assert page.count("Failed") == 2
    assert NO_SUCH_USER in page and TRY_LATER in page
    assert "will not be tried again" in page
    wave_page = researcher.get(f"/waves/{wave.id}").text
    assert "2 e-mails of your organisation could not be delivered." in wave_page
