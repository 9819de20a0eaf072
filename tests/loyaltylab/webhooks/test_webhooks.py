"""Webhooks: emit in the caller's transaction, signed deliveries to a real receiver on
loopback, retries with backoff through the job queue, the owners' pages and tenancy."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import event as sa_event
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from loyaltylab import workflows
from loyaltylab.accounts.models import Organisation, OrganisationKind, Role
from loyaltylab.audit.models import AuditEvent
from loyaltylab.errors import InvalidInput
from loyaltylab.fieldwork.models import Response as SurveyResponse
from loyaltylab.jobs.queue import JobQueue, start_consumer, use_queue
from loyaltylab.settings import Settings
from loyaltylab.studies.models import Study
from loyaltylab.timeutil import utcnow
from loyaltylab.webhooks import service as webhooks
from loyaltylab.webhooks.delivery import (
    UNSAFE_TARGET,
    attempt_delivery,
    claim_overdue_deliveries,
)
from loyaltylab.webhooks.models import (
    DeliveryStatus,
    WebhookAttempt,
    WebhookDelivery,
    WebhookSubscription,
)
from tests.loyaltylab.fieldwork_support import FIELDWORK_QUESTIONNAIRE, open_wave
from tests.loyaltylab.reports_support import fielded_waves

SIGNATURE_TOLERANCE_SECONDS = 300


class Receiver:
    """A webhook endpoint on loopback: answers with the next scripted status (then 200) and
    keeps every request it got."""

    def __init__(self) -> None:
        self.requests: list[tuple[dict[str, str], bytes]] = []
        self.script: list[int] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append((dict(self.headers.items()), body))
                status = receiver.script.pop(0) if receiver.script else 200
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def wait_for(self, count: int, timeout: float = 20) -> None:
        deadline = time.monotonic() + timeout
        while len(self.requests) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"{len(self.requests)} of {count} deliveries arrived")
            time.sleep(0.02)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def verify(secret: str, header: str, body: bytes, *, now: float | None = None) -> bool:
    """A receiver's check, as docs/webhooks.md tells integrators to write it."""
    fields = dict(part.split("=", 1) for part in header.split(","))
    timestamp, signature = fields["t"], fields["v1"]
    if abs((now or time.time()) - int(timestamp)) > SIGNATURE_TOLERANCE_SECONDS:
        return False
    expected = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return hmac.compare_digest(expected.hexdigest(), signature)


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """Loopback receivers allowed, and retries after 0.05 s, 0.1 s... instead of minutes."""
    return settings.model_copy(
        update={"webhooks_allow_private": True, "webhook_retry_seconds": 0.05}
    )


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    endpoint = Receiver()
    yield endpoint
    endpoint.close()


@pytest.fixture
def queue(app: FastAPI, settings: Settings, tmp_path: Path) -> Iterator[JobQueue]:
    """The job queue (SQLite, in tmp_path) with a consumer running, as emit's queue."""
    job_queue = workflows.job_queue(settings, name="webhooks", sqlite_path=tmp_path / "jobs.db")
    app.state.job_queue = job_queue
    use_queue(job_queue)
    consumer = start_consumer(job_queue, workers=2)
    yield job_queue
    consumer.stop(graceful=True)
    use_queue(None)
    job_queue.close()


def emit_committed(
    session: Session,
    organisation: Organisation,
    event: str = "response.completed",
    payload: dict[str, object] | None = None,
) -> None:
    """Emit ``event`` and commit: a delivery leaves only once its event is committed."""
    webhooks.emit(session, organisation_id=organisation.id, event=event, payload=payload or {})
    session.commit()


def subscribe(
    session: Session,
    organisation: Organisation,
    url: str,
    events: list[str] | None = None,
    *,
    allow_private: bool = True,
) -> WebhookSubscription:
    """A committed subscription (to a private address too, unless ``allow_private`` is off:
    the test receivers listen on this machine)."""
    subscription = webhooks.create_subscription(
        session,
        organisation_id=organisation.id,
        url=url,
        events=events or ["response.completed"],
        created_by=None,
        allow_private=allow_private,
    )
    session.commit()
    return subscription


def study_organisation(session: Session, study: Study) -> Organisation:
    return session.get(Organisation, study.organisation_id)


def wait_until(condition: Callable[[], bool], timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.05)


def deliveries(engine: Engine) -> list[WebhookDelivery]:
    with Session(engine) as fresh:
        return list(fresh.exec(select(WebhookDelivery).order_by(WebhookDelivery.id)).all())


def attempts_of(engine: Engine, delivery_id: int) -> list[WebhookAttempt]:
    with Session(engine) as fresh:
        return list(
            fresh.exec(
                select(WebhookAttempt)
                .where(WebhookAttempt.delivery_id == delivery_id)
                .order_by(WebhookAttempt.number)
            ).all()
        )


# --- emit ------------------------------------------------------------------------------------


def test_emit_without_a_subscription_is_one_query_and_records_nothing(
    session: Session, engine: Engine, organisation: Organisation
) -> None:
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    sa_event.listen(engine, "before_cursor_execute", count)
    try:
        webhooks.emit(
            session,
            organisation_id=organisation.id,
            event="response.completed",
            payload={"response_id": 1},
        )
    finally:
        sa_event.remove(engine, "before_cursor_execute", count)
    assert len(statements) == 1 and "webhook_subscription" in statements[0]
    session.commit()
    assert deliveries(engine) == []


def test_emit_rejects_an_unknown_event(session: Session, organisation: Organisation) -> None:
    with pytest.raises(ValueError):
        webhooks.emit(session, organisation_id=organisation.id, event="response.done", payload={})


def test_a_delivery_is_signed_and_verifiable_by_the_receiver(
    session: Session,
    engine: Engine,
    organisation: Organisation,
    receiver: Receiver,
    queue: JobQueue,
) -> None:
    subscription = subscribe(session, organisation, receiver.url)
    other_event = subscribe(session, organisation, receiver.url, events=["wave.closed"])
    webhooks.emit(
        session,
        organisation_id=organisation.id,
        event="response.completed",
        payload={"response_id": 7, "language": "zh-CN", "note": "满意"},
    )
    assert receiver.requests == []  # nothing leaves before the commit
    session.commit()
    receiver.wait_for(1)
    time.sleep(0.3)
    assert len(receiver.requests) == 1  # the wave.closed subscription got nothing

    headers, body = receiver.requests[0]
    assert verify(subscription.secret, headers["X-LoyaltyLab-Signature"], body)
    assert not verify(other_event.secret, headers["X-LoyaltyLab-Signature"], body)
    assert not verify(subscription.secret, headers["X-LoyaltyLab-Signature"], body + b" ")
    later = time.time() + SIGNATURE_TOLERANCE_SECONDS + 60
    assert not verify(subscription.secret, headers["X-LoyaltyLab-Signature"], body, now=later)
    document = json.loads(body)
    assert document["type"] == "response.completed" == headers["X-LoyaltyLab-Event"]
    assert document["id"] == headers["X-LoyaltyLab-Event-Id"]
    assert document["data"] == {"response_id": 7, "language": "zh-CN", "note": "满意"}
    assert headers["Content-Type"].startswith("application/json")

    wait_until(lambda: deliveries(engine)[0].status is DeliveryStatus.succeeded)
    [attempt] = attempts_of(engine, deliveries(engine)[0].id)
    assert attempt.status_code == 200 and attempt.number == 1


def test_a_rolled_back_event_is_never_sent(
    session: Session,
    engine: Engine,
    organisation: Organisation,
    receiver: Receiver,
    queue: JobQueue,
) -> None:
    subscribe(session, organisation, receiver.url)
    webhooks.emit(session, organisation_id=organisation.id, event="response.completed", payload={})
    session.rollback()
    session.commit()
    time.sleep(0.5)
    assert receiver.requests == [] and deliveries(engine) == []


def test_a_failing_receiver_is_retried_with_backoff_until_it_succeeds(
    session: Session,
    engine: Engine,
    organisation: Organisation,
    receiver: Receiver,
    queue: JobQueue,
) -> None:
    receiver.script = [500, 503]
    subscription = subscribe(session, organisation, receiver.url)
    emit_committed(session, organisation, payload={"n": 1})
    receiver.wait_for(3)
    wait_until(lambda: deliveries(engine)[0].status is DeliveryStatus.succeeded)
    [delivery] = deliveries(engine)
    attempts = attempts_of(engine, delivery.id)
    assert [a.status_code for a in attempts] == [500, 503, 200]
    assert [a.number for a in attempts] == [1, 2, 3]
    # Backoff: the second wait (0.1 s) is about twice the first (0.05 s).
    first_gap = (attempts[1].at - attempts[0].at).total_seconds()
    second_gap = (attempts[2].at - attempts[1].at).total_seconds()
    assert first_gap >= 0.05 and second_gap >= 0.1
    # Every attempt signs the same body, each with its own time.
    bodies = {body for _, body in receiver.requests}
    assert len(bodies) == 1
    for headers, body in receiver.requests:
        assert verify(subscription.secret, headers["X-LoyaltyLab-Signature"], body)


def test_attempts_stop_at_the_limit_and_the_delivery_fails(
    app: FastAPI,
    session: Session,
    engine: Engine,
    organisation: Organisation,
    receiver: Receiver,
    settings: Settings,
) -> None:
    receiver.script = [500] * 10
    subscribe(session, organisation, receiver.url)
    emit_committed(session, organisation)
    [delivery] = deliveries(engine)
    limited = settings.model_copy(update={"webhook_max_attempts": 3})
    retries: list[tuple[int, float]] = []

    def retry(delivery_id: int, *, delay: float) -> None:
        retries.append((delivery_id, delay))

    for _ in range(5):
        attempt_delivery(engine, limited, delivery.id, retry=retry)
    assert len(receiver.requests) == 3
    assert retries == [(delivery.id, 0.05), (delivery.id, 0.1)]
    assert deliveries(engine)[0].status is DeliveryStatus.failed


# --- target addresses ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:9/hook",
        "http://localhost/hook",
        "http://10.1.2.3/hook",
        "http://192.168.0.10/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]/hook",
        "http://[::ffff:127.0.0.1]/hook",
        "http://0.0.0.0/hook",
    ],
)
def test_private_targets_are_refused_when_saved(
    session: Session, organisation: Organisation, url: str
) -> None:
    with pytest.raises(webhooks.UnsafeTarget):
        subscribe(session, organisation, url, ["wave.closed"], allow_private=False)


@pytest.mark.parametrize(
    "url", ["ftp://example.com/x", "https://user:pw@example.com/", "not a url", ""]
)
def test_malformed_urls_are_refused(session: Session, organisation: Organisation, url: str) -> None:
    with pytest.raises(InvalidInput):
        subscribe(session, organisation, url, ["wave.closed"])


def test_public_addresses_are_allowed() -> None:
    assert not webhooks.refused_address("93.184.215.14")
    assert not webhooks.refused_address("2606:2800:21f:cb07:6820:80da:af6b:8b2c")
    assert webhooks.refused_address("100.64.0.1")  # carrier-grade NAT is not the internet


def test_a_name_that_now_resolves_inside_is_refused_at_delivery(
    session: Session,
    engine: Engine,
    organisation: Organisation,
    receiver: Receiver,
    settings: Settings,
) -> None:
    """DNS rebinding: saved while allowed, ``localhost`` resolves to loopback when sent."""
    port = receiver.server.server_address[1]
    subscribe(session, organisation, f"http://localhost:{port}/hook")
    emit_committed(session, organisation)
    [delivery] = deliveries(engine)
    strict = settings.model_copy(update={"webhooks_allow_private": False})
    retries: list[int] = []
    attempt_delivery(engine, strict, delivery.id, retry=lambda d, delay: retries.append(d))
    assert receiver.requests == [] and retries == []
    [attempt] = attempts_of(engine, delivery.id)
    assert attempt.error == UNSAFE_TARGET and attempt.status_code is None
    assert deliveries(engine)[0].status is DeliveryStatus.failed


# --- pages -----------------------------------------------------------------------------------


@pytest.fixture
def owner_client(
    client: TestClient, organisation: Organisation, make_member: Callable, login: Callable
) -> TestClient:
    make_member(organisation, email="boss@northwind.example", role=Role.owner)
    login(client, "boss@northwind.example")
    return client


def test_an_owner_adds_a_webhook_and_redelivers_from_the_log(
    owner_client: TestClient,
    csrf: Callable,
    session: Session,
    engine: Engine,
    organisation: Organisation,
    receiver: Receiver,
    queue: JobQueue,
) -> None:
    token = csrf(owner_client, "/org/webhooks")
    refused = owner_client.post(
        "/org/webhooks", data={"csrf_token": token, "url": receiver.url}, follow_redirects=False
    )
    assert refused.status_code == 400 and "Choose at least one event" in refused.text
    created = owner_client.post(
        "/org/webhooks",
        data={
            "csrf_token": token,
            "url": receiver.url,
            "description": "CRM <b>prod</b>",
            "events": ["response.completed", "report.ready"],
        },
        follow_redirects=False,
    )
    assert created.status_code == 303
    [subscription] = session.exec(select(WebhookSubscription)).all()
    assert subscription.events == ["response.completed", "report.ready"]
    page = owner_client.get(created.headers["location"]).text
    assert "CRM &lt;b&gt;prod&lt;/b&gt;" in page and subscription.secret in page

    receiver.script = [500]
    emit_committed(session, organisation, "report.ready")
    receiver.wait_for(2)
    wait_until(lambda: deliveries(engine)[0].status is DeliveryStatus.succeeded)
    log = owner_client.get(f"/org/webhooks/{subscription.id}").text
    assert "HTTP 500" in log and "HTTP 200" in log

    [delivery] = deliveries(engine)
    path = f"/org/webhooks/{subscription.id}/deliveries/{delivery.id}/redeliver"
    assert owner_client.post(path, follow_redirects=False).status_code == 403  # no CSRF token
    token = csrf(owner_client, f"/org/webhooks/{subscription.id}")
    again = owner_client.post(path, data={"csrf_token": token}, follow_redirects=False)
    assert again.status_code == 303
    receiver.wait_for(3)
    first, second = receiver.requests[0][1], receiver.requests[2][1]
    assert first == second  # the same event, id included, for the receiver to deduplicate
    assert len(deliveries(engine)) == 2
    actions = session.exec(select(AuditEvent.action)).all()
    assert {"webhook.create", "webhook.redeliver"} <= set(actions)


def test_an_owner_edits_turns_off_and_deletes_a_webhook(
    owner_client: TestClient, csrf: Callable, session: Session, organisation: Organisation
) -> None:
    subscription = subscribe(session, organisation, "http://127.0.0.1:9/old")
    token = csrf(owner_client, f"/org/webhooks/{subscription.id}")
    saved = owner_client.post(
        f"/org/webhooks/{subscription.id}",
        data={"csrf_token": token, "url": "http://127.0.0.1:9/new", "events": ["wave.closed"]},
        follow_redirects=False,
    )
    assert saved.status_code == 303
    session.refresh(subscription)
    assert subscription.url.endswith("/new") and not subscription.active
    assert subscription.events == ["wave.closed"]
    old_secret = subscription.secret
    owner_client.post(f"/org/webhooks/{subscription.id}/secret", data={"csrf_token": token})
    session.refresh(subscription)
    assert subscription.secret != old_secret
    owner_client.post(f"/org/webhooks/{subscription.id}/delete", data={"csrf_token": token})
    session.expire_all()
    assert session.exec(select(WebhookSubscription)).all() == []


def test_a_refused_url_is_explained_on_the_form(
    app: FastAPI, owner_client: TestClient, csrf: Callable
) -> None:
    app.state.settings.webhooks_allow_private = False
    token = csrf(owner_client, "/org/webhooks")
    response = owner_client.post(
        "/org/webhooks",
        data={"csrf_token": token, "url": "http://169.254.169.254/", "events": ["wave.closed"]},
        headers={"accept-language": "zh-CN"},
    )
    assert response.status_code == 400
    assert "private" in response.text or "私有" in response.text


def test_only_owners_manage_webhooks(
    client: TestClient, organisation: Organisation, make_member: Callable, login: Callable
) -> None:
    make_member(organisation, email="r@northwind.example", role=Role.researcher)
    login(client, "r@northwind.example")
    assert client.get("/org/webhooks").status_code == 403


def test_another_organisations_webhook_is_not_found(
    session: Session,
    engine: Engine,
    organisation: Organisation,
    client: TestClient,
    make_member: Callable,
    login: Callable,
    csrf: Callable,
) -> None:
    subscription = subscribe(session, organisation, "http://127.0.0.1:9/hook")
    emit_committed(session, organisation)
    [delivery] = deliveries(engine)
    other = Organisation(name="Rival Research", kind=OrganisationKind.research)
    session.add(other)
    session.commit()
    make_member(other, email="owner@rival.example", role=Role.owner)
    login(client, "owner@rival.example")
    token = csrf(client, "/org/webhooks")
    base = f"/org/webhooks/{subscription.id}"
    assert client.get(base).status_code == 404
    for path, data in [
        (base, {"url": "http://127.0.0.1:9/x", "events": ["wave.closed"]}),
        (f"{base}/secret", {}),
        (f"{base}/delete", {}),
        (f"{base}/deliveries/{delivery.id}/redeliver", {}),
    ]:
        assert client.post(path, data={"csrf_token": token, **data}).status_code == 404, path
    session.refresh(subscription)
    assert subscription.url == "http://127.0.0.1:9/hook"
    assert "127.0.0.1:9/hook" not in client.get("/org/webhooks").text


# --- where events are emitted ----------------------------------------------------------------


def test_completing_a_survey_sends_response_completed(
    client: TestClient,
    session: Session,
    engine: Engine,
    study: Study,
    respondent: Callable,
    receiver: Receiver,
    queue: JobQueue,
) -> None:
    subscription = subscribe(session, study_organisation(session, study), receiver.url)
    wave = open_wave(session, study, FIELDWORK_QUESTIONNAIRE, "2026-Q4")
    person = respondent(client, f"/s/{wave.public_slug}")
    person.consent()
    person.answer(0, {"complained": "no", "visits": "3"})
    assert deliveries(engine) == []  # a page saved is not a completion
    done = person.answer(2, {"nps": "9", "sat1": "4", "region": "north", "attn": "app"})
    assert done.headers["location"].endswith("/done")
    receiver.wait_for(1)
    headers, body = receiver.requests[0]
    assert verify(subscription.secret, headers["X-LoyaltyLab-Signature"], body)
    data = json.loads(body)["data"]
    [response] = session.exec(select(SurveyResponse)).all()
    assert data["response_id"] == response.id and data["wave_id"] == wave.id
    assert data["study_id"] == study.id and data["channel"] == "web"
    assert data["submitted_at"].startswith(str(response.submitted_at.year))


@pytest.mark.slow
def test_a_closed_wave_sends_wave_closed_and_then_its_report_report_ready(
    session: Session, engine: Engine, study: Study, receiver: Receiver, queue: JobQueue
) -> None:
    organisation = study_organisation(session, study)
    subscribe(session, organisation, receiver.url, events=["wave.closed", "report.ready"])
    [wave] = fielded_waves(session, study, completes=60)
    report = workflows.report_closed_wave(session, wave, queue)
    session.commit()
    assert report is not None
    receiver.wait_for(2, timeout=90)
    closed, ready = (json.loads(body) for _, body in receiver.requests)
    assert closed["type"] == "wave.closed"
    assert closed["data"]["wave_id"] == wave.id and closed["data"]["completes"] == 60
    assert ready["type"] == "report.ready" and ready["data"]["report_id"] == report.id
    assert ready["data"]["wave_ids"] == [wave.id] and "pdf" in ready["data"]["formats"]


def _lost_and_recent(
    session: Session, organisation: Organisation, url: str
) -> tuple[WebhookDelivery, WebhookDelivery]:
    """Two committed deliveries never handed to the queue: one due 15 minutes ago (the process
    died between its commit and the hand-over), one due now (on its way)."""
    subscription = subscribe(session, organisation, url)
    now = utcnow()
    lost, recent = (
        WebhookDelivery(
            organisation_id=organisation.id,
            subscription_id=subscription.id,
            event="wave.closed",
            event_id=name,
            body=json.dumps({"id": name}),
            next_attempt_at=due,
        )
        for name, due in (("lost", now - timedelta(minutes=15)), ("recent", now))
    )
    session.add_all([lost, recent])
    session.commit()
    return lost, recent


def test_only_long_overdue_deliveries_are_claimed_again_and_once(
    session: Session, engine: Engine, organisation: Organisation
) -> None:
    lost, _recent = _lost_and_recent(session, organisation, "http://127.0.0.1:9/hook")
    assert claim_overdue_deliveries(engine) == [lost.id]
    assert claim_overdue_deliveries(engine) == []  # its due time moved: not queued twice


def test_a_delivery_lost_on_its_way_to_the_queue_is_sent_by_the_sweep(
    session: Session, organisation: Organisation, receiver: Receiver, queue: JobQueue
) -> None:
    _lost_and_recent(session, organisation, receiver.url)
    workflows.requeue_webhooks(queue)  # what every consumer runs each minute (it may have just run)
    receiver.wait_for(1)
    time.sleep(0.5)
    assert [json.loads(body) for _, body in receiver.requests] == [{"id": "lost"}]
