"""SMS: the gateways' requests (checked by fake providers on loopback and the providers'
published signature examples), texting a wave by each contact's channel and language, short
links, opt-out by reply, and the contacts file's channel column."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from loyaltylab.fieldwork import service as fieldwork
from loyaltylab.fieldwork.contacts_import import read_contacts
from loyaltylab.fieldwork.models import Contact, WaveInvitation
from loyaltylab.sms import service as sms
from loyaltylab.sms.gateways import (
    AliyunGateway,
    OutboxGateway,
    SmsError,
    TwilioGateway,
    aliyun_signature,
    gateway_from_url,
)
from loyaltylab.sms.models import SmsMessage, SmsOptOut
from loyaltylab.studies.models import Study
from tests.loyaltylab.fieldwork_support import FIELDWORK_QUESTIONNAIRE, open_wave


class FakeProvider:
    """An SMS provider's API on loopback: records each request and answers with ``reply``."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, dict[str, str], bytes]] = []
        self.reply: tuple[int, dict[str, Any]] = (200, {})
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                provider.requests.append((self.path, dict(self.headers.items()), body))
                status, document = provider.reply
                payload = json.dumps(document).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def form(self, index: int = 0) -> dict[str, str]:
        return dict(parse_qsl(self.requests[index][2].decode(), keep_blank_values=True))


@pytest.fixture
def provider() -> Iterator[FakeProvider]:
    fake = FakeProvider()
    yield fake
    fake.server.shutdown()
    fake.server.server_close()


# --- gateways --------------------------------------------------------------------------------


def test_the_twilio_gateway_posts_the_message_with_basic_auth(provider: FakeProvider) -> None:
    provider.reply = (201, {"sid": "SM0123456789", "status": "queued"})
    gateway = gateway_from_url(f"twilio://AC42:s3cret@+15551234567?api={provider.url}")
    assert gateway.send("+8613800138000", "您好 https://x.example/i/abc") == "SM0123456789"
    path, headers, _body = provider.requests[0]
    assert path == "/2010-04-01/Accounts/AC42/Messages.json"
    assert headers["Authorization"] == "Basic " + base64.b64encode(b"AC42:s3cret").decode()
    assert provider.form() == {
        "To": "+8613800138000",
        "From": "+15551234567",
        "Body": "您好 https://x.example/i/abc",
    }


def test_a_twilio_refusal_is_an_sms_error(provider: FakeProvider) -> None:
    provider.reply = (400, {"code": 21211, "message": "The 'To' number is not valid."})
    gateway = gateway_from_url(f"twilio://AC42:s3cret@MG99?api={provider.url}")
    with pytest.raises(SmsError, match="not valid"):
        gateway.send("+1", "hi")
    assert provider.form()["MessagingServiceSid"] == "MG99"


def test_twilio_inbound_signature_matches_twilios_documented_example() -> None:
    # https://www.twilio.com/docs/usage/security#validating-requests
    gateway = TwilioGateway(account_sid="AC", auth_token="12345", sender="+1")
    params = {
        "CallSid": "CA1234567890ABCDE",
        "Caller": "+12349013030",
        "Digits": "1234",
        "From": "+12349013030",
        "To": "+18005551212",
    }
    signature = gateway.inbound_signature("https://mycompany.com/myapp.php?foo=1&bar=2", params)
    assert signature == "0/KCTR6DLpKmkAf8muzZqo1nDgQ="


def test_the_aliyun_signature_matches_alibaba_clouds_documented_example() -> None:
    # Alibaba Cloud SMS, "HTTP protocol and signature": the SendSms example request.
    params = {
        "AccessKeyId": "testId",
        "Action": "SendSms",
        "Format": "XML",
        "OutId": "123",
        "PhoneNumbers": "15300000001",
        "RegionId": "cn-hangzhou",
        "SignName": "阿里云短信测试专用",
        "SignatureMethod": "HMAC-SHA1",
        "SignatureNonce": "45e25e9b-0a6f-4070-8c85-2956eda1b466",
        "SignatureVersion": "1.0",
        "TemplateCode": "SMS_71390007",
        "TemplateParam": '{"customer":"test"}',
        "Timestamp": "2017-07-12T02:42:19Z",
        "Version": "2017-05-25",
    }
    assert aliyun_signature("testSecret", "GET", params) == "zJDF+Lrzhj/ThnlvIToysFRq6t4="


def test_the_aliyun_gateway_sends_a_signed_sendsms_request(provider: FakeProvider) -> None:
    provider.reply = (200, {"Code": "OK", "Message": "OK", "BizId": "9006^1", "RequestId": "r"})
    gateway = gateway_from_url(f"aliyun://LTAIkey:topsecret@忠诚研究/SMS_1234?api={provider.url}")
    assert isinstance(gateway, AliyunGateway)
    assert gateway.send("+8613800138000", "您好 https://x.example/i/abc 回复TD退订") == "9006^1"
    form = provider.form()
    # The fake provider checks what Alibaba Cloud checks: the signature over every other field.
    signature = form.pop("Signature")
    assert signature == aliyun_signature("topsecret", "POST", form)
    assert aliyun_signature("wrong", "POST", form) != signature
    assert form["Action"] == "SendSms" and form["Version"] == "2017-05-25"
    assert form["PhoneNumbers"] == "13800138000"  # mainland numbers go without +86
    assert form["SignName"] == "忠诚研究" and form["TemplateCode"] == "SMS_1234"
    assert json.loads(form["TemplateParam"]) == {
        "content": "您好 https://x.example/i/abc 回复TD退订"
    }
    assert form["AccessKeyId"] == "LTAIkey" and re.fullmatch(
        r"\d{4}-\d\d-\d\dT[\d:]{8}Z", form["Timestamp"]
    )


def test_an_aliyun_refusal_is_an_sms_error(provider: FakeProvider) -> None:
    provider.reply = (200, {"Code": "isv.BUSINESS_LIMIT_CONTROL", "Message": "触发流控"})
    gateway = gateway_from_url(f"aliyun://k:s@Sign/SMS_1?api={provider.url}&param=text")
    with pytest.raises(SmsError, match="BUSINESS_LIMIT_CONTROL"):
        gateway.send("+85261234567", "hi")
    form = provider.form()
    assert form["PhoneNumbers"] == "85261234567" and json.loads(form["TemplateParam"]) == {
        "text": "hi"
    }


def _tc3_check(secret_key: str, headers: dict[str, str], body: bytes) -> bool:
    """Tencent Cloud's TC3-HMAC-SHA256 as its API 3.0 signature guide writes it out, step by
    step (written here independently of the gateway's code)."""
    timestamp = int(headers["X-TC-Timestamp"])
    date = datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d")
    canonical_headers = f"content-type:{headers['Content-Type']}\nhost:{headers['Host']}\n"
    canonical_request = (
        f"POST\n/\n\n{canonical_headers}\ncontent-type;host\n{hashlib.sha256(body).hexdigest()}"
    )
    credential_scope = f"{date}/sms/tc3_request"
    string_to_sign = (
        f"TC3-HMAC-SHA256\n{timestamp}\n{credential_scope}\n"
        + hashlib.sha256(canonical_request.encode()).hexdigest()
    )

    def sign(key: bytes, message: str) -> bytes:
        return hmac.new(key, message.encode(), hashlib.sha256).digest()

    secret_signing = sign(sign(sign(("TC3" + secret_key).encode(), date), "sms"), "tc3_request")
    expected = hmac.new(secret_signing, string_to_sign.encode(), hashlib.sha256).hexdigest()
    return headers["Authorization"].endswith(f"Signature={expected}")


def test_the_tencent_gateway_sends_a_tc3_signed_sendsms_request(provider: FakeProvider) -> None:
    provider.reply = (
        200,
        {"Response": {"SendStatusSet": [{"SerialNo": "2028:1", "Code": "Ok"}], "RequestId": "r"}},
    )
    url = f"tencent://AKIDid:tcsecret@忠诚研究/1400006666/449739?api={provider.url}"
    gateway = gateway_from_url(url)
    assert gateway.send("+8613800138000", "您好 https://x.example/i/abc") == "2028:1"
    _path, headers, body = provider.requests[0]
    assert _tc3_check("tcsecret", headers, body)
    assert not _tc3_check("wrong", headers, body)
    assert headers["Authorization"].startswith("TC3-HMAC-SHA256 Credential=AKIDid/")
    assert (headers["X-TC-Action"], headers["X-TC-Version"]) == ("SendSms", "2021-01-11")
    assert json.loads(body) == {
        "PhoneNumberSet": ["+8613800138000"],
        "SmsSdkAppId": "1400006666",
        "SignName": "忠诚研究",
        "TemplateId": "449739",
        "TemplateParamSet": ["您好 https://x.example/i/abc"],
    }


def test_a_tencent_refusal_is_an_sms_error(provider: FakeProvider) -> None:
    provider.reply = (
        200,
        {"Response": {"Error": {"Code": "AuthFailure.SignatureFailure", "Message": "bad"}}},
    )
    gateway = gateway_from_url(f"tencent://a:b@Sign/1400/1?api={provider.url}")
    with pytest.raises(SmsError, match="SignatureFailure"):
        gateway.send("+1", "hi")


@pytest.mark.parametrize(
    "url", ["smtp://x", "twilio://only-sid@+1", "aliyun://k:s@Sign", "tencent://a:b@S/1400", ""]
)
def test_an_unusable_sms_url_is_refused(url: str) -> None:
    with pytest.raises(ValueError, match="LOYALTYLAB_SMS_URL"):
        gateway_from_url(url)


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("138 0013 8000", "+8613800138000"),
        ("+86 138-0013-8000", "+8613800138000"),
        ("0044 20 7946 0958", "+442079460958"),
        ("(+1) 555.123.4567", "+15551234567"),
    ],
)
def test_phone_numbers_are_compared_in_e164(written: str, expected: str) -> None:
    assert sms.e164(written, country_code="86") == expected


@pytest.mark.parametrize(
    ("reply", "keyword"),
    [("TD", "td"), (" td。", "td"), ("退订", "退订"), ("STOP", "stop"), ("Stop!", "stop")],
)
def test_opt_out_keywords(reply: str, keyword: str) -> None:
    assert sms.opt_out_keyword(reply) == keyword


@pytest.mark.parametrize("reply", ["stop by the store", "谢谢", "TDD", ""])
def test_other_replies_are_not_opt_outs(reply: str) -> None:
    assert sms.opt_out_keyword(reply) is None


# --- the contacts file -----------------------------------------------------------------------


def test_the_contacts_file_gives_each_contact_a_channel() -> None:
    content = (
        "external_id,email,phone,language,channel\n"
        "c1,a@example.com,,en,email\n"
        "c2,,13800138000,zh-CN,短信\n"
        "c3,b@example.com,13800138001,,SMS\n"
        "c4,c@example.com,,,\n"
    ).encode()
    parsed = read_contacts(content, "contacts.csv")
    assert parsed.ok
    assert [row["channel"] for row in parsed.rows] == ["email", "sms", "sms", None]
    assert "channel" not in parsed.attribute_names


def test_a_bad_channel_and_sms_without_a_phone_are_row_problems() -> None:
    content = b"id,email,phone,channel\nc1,a@example.com,,pigeon\nc2,b@example.com,,sms\n"
    parsed = read_contacts(content, "contacts.csv")
    assert [(p.row, p.code) for p in parsed.problems] == [
        (2, "bad_channel"),
        (3, "sms_without_phone"),
    ]
    assert parsed.rows == []


# --- texting a wave --------------------------------------------------------------------------


def _contacts(session: Session, study: Study) -> dict[str, Contact]:
    rows = [
        {"external_id": "mail-only", "email": "m@example.com"},
        {"external_id": "phone-only", "phone": "138 0013 8000"},
        {
            "external_id": "prefers-sms",
            "email": "s@example.com",
            "phone": "+1 555 123 4567",
            "language": "en",
            "channel": "sms",
        },
        {"external_id": "stopped", "phone": "13800138009", "channel": "sms"},
        {
            "external_id": "prefers-mail",
            "email": "e@example.com",
            "phone": "13800138002",
            "channel": "email",
        },
    ]
    contacts = fieldwork.add_contacts(
        session, study_id=study.id, organisation_id=study.organisation_id, rows=rows
    )
    session.commit()
    return {contact.external_id: contact for contact in contacts}


def test_a_wave_is_texted_by_channel_and_language_with_short_links(
    researcher: TestClient, csrf: Callable, session: Session, study: Study
) -> None:
    wave = open_wave(session, study, FIELDWORK_QUESTIONNAIRE, "2026-Q4")
    contacts = _contacts(session, study)
    # The number replied STOP to an earlier text.
    session.add(SmsOptOut(phone="+8613800138009", keyword="stop"))
    session.commit()
    page = researcher.get(f"/waves/{wave.id}").text
    assert "Text the invitation (2 contacts not yet invited)" in page
    token = csrf(researcher, f"/waves/{wave.id}")
    sent = researcher.post(
        f"/waves/{wave.id}/invitations/sms", data={"csrf_token": token}, follow_redirects=False
    )
    assert sent.status_code == 303
    messages = {m.to: m for m in session.exec(select(SmsMessage).order_by(SmsMessage.id))}
    assert set(messages) == {"+8613800138000", "+15551234567"}
    chinese, english = messages["+8613800138000"], messages["+15551234567"]
    # No language: the questionnaire's first (zh-CN); "en" for the contact who reads English.
    assert "邀请您参加" in chinese.body and "回复TD退订" in chinese.body
    assert "invites you to a short survey" in english.body and "Reply STOP" in english.body
    assert "Northwind Research" in english.body and "Contoso" in english.body
    link = re.search(r"https://loyaltylab\.example(/i/([\w-]+))", english.body)
    assert link is not None and len(link[2]) == 16  # 96 random bits, short for an SMS
    # The outbox gateway keeps them (sent after the response, as a real gateway would).
    assert all(
        m.sent_at is not None and m.provider_id.startswith("outbox-") for m in messages.values()
    )
    invitations = {
        i.contact_id: i
        for i in session.exec(select(WaveInvitation).where(WaveInvitation.wave_id == wave.id))
    }
    assert invitations[contacts["phone-only"].id].texted_at is not None
    assert contacts["stopped"].id not in invitations
    # The short link is the personal link.
    assert researcher.get(link[1], follow_redirects=False).status_code in (200, 303)

    # E-mail goes to the others only; texting again sends nothing new.
    token = csrf(researcher, f"/waves/{wave.id}")
    researcher.post(f"/waves/{wave.id}/invitations/email", data={"csrf_token": token})
    emailed = {c.id for c in contacts.values() if c.email}
    session.expire_all()
    mailed = {
        i.contact_id
        for i in session.exec(select(WaveInvitation).where(WaveInvitation.emailed_at.is_not(None)))
    }
    assert mailed == emailed - {contacts["prefers-sms"].id}
    researcher.post(f"/waves/{wave.id}/invitations/sms", data={"csrf_token": token})
    assert len(session.exec(select(SmsMessage)).all()) == 2

    reminded = researcher.post(
        f"/waves/{wave.id}/invitations/sms-remind", data={"csrf_token": token}
    )
    assert reminded.status_code == 200
    reminders = session.exec(
        select(SmsMessage).where(SmsMessage.id > max(m.id for m in messages.values()))
    ).all()
    assert {m.to for m in reminders} == {"+8613800138000", "+15551234567"}
    assert any("提醒" in m.body for m in reminders)
    outbox = researcher.get("/outbox/sms").text
    assert "+15551234567" in outbox and "Kept in the outbox" in outbox
    listed = researcher.get(f"/studies/{study.id}/contacts").text
    assert listed.count("Replied STOP to texts") == 1  # the "stopped" contact's number


def test_texts_go_through_the_configured_gateway(
    app: FastAPI,
    researcher: TestClient,
    csrf: Callable,
    session: Session,
    study: Study,
    provider: FakeProvider,
) -> None:
    provider.reply = (201, {"sid": "SMabc"})
    app.state.settings.sms_url = f"twilio://AC1:tok@+15550000000?api={provider.url}"
    wave = open_wave(session, study, FIELDWORK_QUESTIONNAIRE, "2026-Q4")
    _contacts(session, study)
    token = csrf(researcher, f"/waves/{wave.id}")
    researcher.post(f"/waves/{wave.id}/invitations/sms", data={"csrf_token": token})
    assert sorted(provider.form(i)["To"] for i in range(2)) == ["+15551234567", "+8613800138000"]
    session.expire_all()
    messages = session.exec(select(SmsMessage)).all()
    assert {m.provider_id for m in messages} == {"SMabc"} and all(
        m.gateway == "twilio" for m in messages
    )


def test_only_the_studys_editors_text_its_wave(
    session: Session,
    study: Study,
    client: TestClient,
    make_member: Callable,
    login: Callable,
    csrf: Callable,
) -> None:
    from loyaltylab.accounts.models import Organisation, Role

    wave = open_wave(session, study, FIELDWORK_QUESTIONNAIRE, "2026-Q4")
    _contacts(session, study)
    rival = Organisation(name="Rival Research")
    session.add(rival)
    session.commit()
    make_member(rival, email="owner@rival.example", role=Role.owner)
    login(client, "owner@rival.example")
    token = csrf(client, "/org/settings")
    assert (
        client.post(f"/waves/{wave.id}/invitations/sms", data={"csrf_token": token}).status_code
        == 404
    )
    assert session.exec(select(SmsMessage)).all() == []


# --- replies ---------------------------------------------------------------------------------


def test_replying_td_opts_the_number_out(client: TestClient, session: Session) -> None:
    answered = client.post("/sms/inbound", data={"From": "+8613800138000", "Body": "退订"})
    assert answered.status_code == 200 and "<Response>" in answered.text
    client.post("/sms/inbound", data={"From": "+8613800138000", "Body": "TD"})  # twice: one row
    client.post("/sms/inbound", json={"phone_number": "13800138001", "content": "td"})
    client.post("/sms/inbound", json={"mobile": "13800138003", "text": "退订", "nationcode": "86"})
    client.post("/sms/inbound", data={"From": "+8613800138002", "Body": "stop by the store"})
    assert sorted(session.exec(select(SmsOptOut.phone)).all()) == [
        "+8613800138000",
        "+8613800138001",
        "+8613800138003",
    ]
    assert client.post("/sms/inbound", data={"Body": "TD"}).status_code == 400


def test_gateways_that_do_not_sign_need_the_inbound_token(
    app: FastAPI, client: TestClient, session: Session
) -> None:
    app.state.settings.sms_url = "aliyun://k:s@Sign/SMS_1"
    reply = {"phone_number": "13800138000", "content": "TD"}
    assert client.post("/sms/inbound", data=reply).status_code == 403
    app.state.settings.sms_inbound_token = "inbound-token-1234567890"
    assert client.post("/sms/inbound?token=wrong", data=reply).status_code == 403
    assert client.post("/sms/inbound?token=inbound-token-1234567890", data=reply).status_code == 200
    assert session.exec(select(SmsOptOut.phone)).all() == ["+8613800138000"]


def test_twilio_replies_must_carry_twilios_signature(
    app: FastAPI, client: TestClient, session: Session
) -> None:
    app.state.settings.sms_url = "twilio://AC1:tok@+15550000000"
    gateway = gateway_from_url(app.state.settings.sms_url)
    reply = {"From": "+15551234567", "Body": "STOP", "To": "+15550000000"}
    assert client.post("/sms/inbound", data=reply).status_code == 403
    signature = gateway.inbound_signature("https://loyaltylab.example/sms/inbound", reply)
    signed = client.post("/sms/inbound", data=reply, headers={"X-Twilio-Signature": signature})
    assert signed.status_code == 200
    assert session.exec(select(SmsOptOut.phone)).all() == ["+15551234567"]


def test_the_outbox_gateway_sends_nothing() -> None:
    assert OutboxGateway().send("+1", "hi").startswith("outbox-")


def test_an_unusable_sms_url_stops_the_settings() -> None:
    from pydantic import ValidationError

    from loyaltylab.settings import Settings

    with pytest.raises(ValidationError, match="LOYALTYLAB_SMS_URL"):
        Settings(env="test", secret_key="k" * 40, sms_url="twilio://missing-token@+1")
    assert Settings(env="test", secret_key="k" * 40, sms_url="aliyun://k:s@Sign/SMS_1").sms_url
