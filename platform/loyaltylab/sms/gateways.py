"""SMS gateways behind one interface: ``send(to, text) -> message id``.

``LOYALTYLAB_SMS_URL`` chooses one:

* ``outbox://`` (the default): nothing leaves the machine; messages stay in the SMS outbox, as
  e-mail does without a mail server (development, tests).
* ``twilio://ACCOUNT_SID:AUTH_TOKEN@+15551234567``: Twilio's Programmable Messaging REST API
  (and APIs shaped like it), from that number or messaging service id.
* ``aliyun://ACCESS_KEY_ID:ACCESS_KEY_SECRET@SignName/TemplateCode``: Alibaba Cloud SMS
  (``dysmsapi`` SendSms). Chinese carriers only deliver approved templates, so the text is
  passed as the template's one variable, ``${content}`` unless ``?param=`` names another.
* ``tencent://SECRET_ID:SECRET_KEY@SignName/SmsSdkAppId/TemplateId``: Tencent Cloud SMS
  (SendSms, API 3.0, TC3-HMAC-SHA256); the text is the template's one parameter ``{1}``.

``?api=`` points a gateway at another base URL (a regional endpoint, a test server).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol
from urllib.parse import parse_qs, quote, unquote, urlsplit

import httpx

TIMEOUT_SECONDS = 15.0


class SmsError(Exception):
    """The gateway refused or failed to take the message; ``str()`` says why.

    Not a domain error (``loyaltylab.errors``): it never reaches a response; the delivery keeps
    it on the message, which the SMS outbox page shows."""


class SmsGateway(Protocol):
    name: str

    def send(self, to: str, text: str) -> str:
        """Hand the message to the provider; its message id. Raises :class:`SmsError`."""
        ...


class OutboxGateway:
    """Sends nothing: the message stays readable in the SMS outbox."""

    name = "outbox"

    def send(self, to: str, text: str) -> str:
        return f"outbox-{uuid.uuid4().hex[:12]}"


@dataclass
class TwilioGateway:
    """``POST /2010-04-01/Accounts/{sid}/Messages.json`` with HTTP basic auth (sid:token) and
    the form fields ``To``, ``From`` (or ``MessagingServiceSid``) and ``Body``."""

    account_sid: str
    auth_token: str
    sender: str
    api: str = "https://api.twilio.com"
    name = "twilio"

    def send(self, to: str, text: str) -> str:
        sender_field = "MessagingServiceSid" if self.sender.startswith("MG") else "From"
        try:
            response = httpx.post(
                f"{self.api}/2010-04-01/Accounts/{quote(self.account_sid)}/Messages.json",
                data={"To": to, sender_field: self.sender, "Body": text},
                auth=(self.account_sid, self.auth_token),
                timeout=TIMEOUT_SECONDS,
            )
        except httpx.HTTPError as error:
            raise SmsError(f"twilio: {type(error).__name__}") from error
        document = _json(response)
        if response.status_code >= 400 or "sid" not in document:
            raise SmsError(f"twilio {response.status_code}: {document.get('message', '')}")
        return str(document["sid"])

    def inbound_signature(self, url: str, params: dict[str, str]) -> str:
        """``X-Twilio-Signature`` of a request Twilio makes to ``url`` with form ``params``:
        base64 HMAC-SHA1 (auth token) of the URL followed by each name and value, sorted."""
        message = url + "".join(name + params[name] for name in sorted(params))
        digest = hmac.new(self.auth_token.encode(), message.encode(), hashlib.sha1).digest()
        return base64.b64encode(digest).decode()


@dataclass
class AliyunGateway:
    """Alibaba Cloud SMS ``SendSms`` (API version 2017-05-25) with the RPC signature: HMAC-SHA1
    with ``secret + "&"`` over ``POST&%2F&`` + the percent-encoded sorted query."""

    access_key_id: str
    access_key_secret: str
    sign_name: str
    template_code: str
    template_param: str = "content"
    api: str = "https://dysmsapi.aliyuncs.com"
    name = "aliyun"

    def signed_params(
        self, to: str, text: str, *, nonce: str | None = None, now: datetime | None = None
    ) -> dict[str, str]:
        params = {
            "AccessKeyId": self.access_key_id,
            "Action": "SendSms",
            "Format": "JSON",
            "PhoneNumbers": aliyun_number(to),
            "RegionId": "cn-hangzhou",
            "SignName": self.sign_name,
            "SignatureMethod": "HMAC-SHA1",
            "SignatureNonce": nonce or uuid.uuid4().hex,
            "SignatureVersion": "1.0",
            "TemplateCode": self.template_code,
            "TemplateParam": json.dumps({self.template_param: text}, ensure_ascii=False),
            "Timestamp": (now or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "Version": "2017-05-25",
        }
        params["Signature"] = aliyun_signature(self.access_key_secret, "POST", params)
        return params

    def send(self, to: str, text: str) -> str:
        try:
            response = httpx.post(
                f"{self.api}/", data=self.signed_params(to, text), timeout=TIMEOUT_SECONDS
            )
        except httpx.HTTPError as error:
            raise SmsError(f"aliyun: {type(error).__name__}") from error
        document = _json(response)
        if document.get("Code") != "OK":
            code, message = document.get("Code", response.status_code), document.get("Message")
            raise SmsError(f"aliyun {code}: {message or ''}")
        return str(document.get("BizId", ""))


@dataclass
class TencentGateway:
    """Tencent Cloud SMS ``SendSms`` (version 2021-01-11): a JSON POST signed with
    TC3-HMAC-SHA256 over the canonical request (content-type and host headers)."""

    secret_id: str
    secret_key: str
    sign_name: str
    app_id: str
    template_id: str
    region: str = "ap-guangzhou"
    api: str = "https://sms.tencentcloudapi.com"
    name = "tencent"

    def signed_request(
        self, to: str, text: str, *, timestamp: int | None = None
    ) -> tuple[dict[str, str], bytes]:
        body = json.dumps(
            {
                "PhoneNumberSet": [to],
                "SmsSdkAppId": self.app_id,
                "SignName": self.sign_name,
                "TemplateId": self.template_id,
                "TemplateParamSet": [text],
            },
            ensure_ascii=False,
        ).encode()
        timestamp = timestamp or int(datetime.now(UTC).timestamp())
        host = urlsplit(self.api).netloc
        content_type = "application/json; charset=utf-8"
        signature = tencent_signature(
            self.secret_key, host=host, content_type=content_type, body=body, timestamp=timestamp
        )
        day = datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d")
        headers = {
            "Authorization": (
                f"TC3-HMAC-SHA256 Credential={self.secret_id}/{day}/sms/tc3_request, "
                f"SignedHeaders=content-type;host, Signature={signature}"
            ),
            "Content-Type": content_type,
            "Host": host,
            "X-TC-Action": "SendSms",
            "X-TC-Version": "2021-01-11",
            "X-TC-Timestamp": str(timestamp),
            "X-TC-Region": self.region,
        }
        return headers, body

    def send(self, to: str, text: str) -> str:
        headers, body = self.signed_request(to, text)
        try:
            response = httpx.post(
                f"{self.api}/", content=body, headers=headers, timeout=TIMEOUT_SECONDS
            )
        except httpx.HTTPError as error:
            raise SmsError(f"tencent: {type(error).__name__}") from error
        answer = _json(response).get("Response")
        answer = answer if isinstance(answer, dict) else {}
        error = answer.get("Error")
        statuses = answer.get("SendStatusSet") or [{}]
        status = statuses[0] if isinstance(statuses, list) and statuses else {}
        if isinstance(error, dict) or status.get("Code") != "Ok":
            problem = error if isinstance(error, dict) else status
            raise SmsError(f"tencent {problem.get('Code')}: {problem.get('Message', '')}")
        return str(status.get("SerialNo", ""))


def tencent_signature(
    secret_key: str, *, host: str, content_type: str, body: bytes, timestamp: int
) -> str:
    """TC3-HMAC-SHA256 for the ``sms`` service: the canonical request's hash signed with a key
    derived from the secret, the UTC date, the service and ``tc3_request``."""
    canonical = "\n".join(
        [
            "POST",
            "/",
            "",
            f"content-type:{content_type}\nhost:{host}\n",
            "content-type;host",
            hashlib.sha256(body).hexdigest(),
        ]
    )
    day = datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d")
    scope = f"{day}/sms/tc3_request"
    to_sign = "\n".join(
        ["TC3-HMAC-SHA256", str(timestamp), scope, hashlib.sha256(canonical.encode()).hexdigest()]
    )
    key = f"TC3{secret_key}".encode()
    for part in (day, "sms", "tc3_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()


def aliyun_encode(value: str) -> str:
    """Alibaba Cloud's percent-encoding: RFC 3986 unreserved characters kept, UTF-8 bytes
    upper-case hex (so a space is %20, ``*`` is %2A and ``~`` stays)."""
    return quote(value, safe="-_.~")


def aliyun_signature(secret: str, method: str, params: dict[str, str]) -> str:
    canonical = "&".join(
        f"{aliyun_encode(name)}={aliyun_encode(params[name])}"
        for name in sorted(params)
        if name != "Signature"
    )
    to_sign = f"{method}&{aliyun_encode('/')}&{aliyun_encode(canonical)}"
    digest = hmac.new(f"{secret}&".encode(), to_sign.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def aliyun_number(to: str) -> str:
    """Alibaba Cloud takes mainland numbers without +86 and others as country code + number."""
    digits = to.removeprefix("+")
    if digits.startswith("86") and len(digits) == 13:
        return digits[2:]
    return digits


def _json(response: httpx.Response) -> dict[str, object]:
    try:
        document = response.json()
    except ValueError:
        return {}
    return document if isinstance(document, dict) else {}


def gateway_from_url(url: str) -> SmsGateway:
    """The gateway ``LOYALTYLAB_SMS_URL`` describes; ValueError for one it cannot use."""
    parts = urlsplit(url)
    options = {name: values[-1] for name, values in parse_qs(parts.query).items()}
    user, password = unquote(parts.username or ""), unquote(parts.password or "")
    # The host part is case-sensitive here (sign names, sender ids): read it as written.
    host = unquote(parts.netloc.rpartition("@")[2])
    if parts.scheme == "outbox":
        return OutboxGateway()
    if parts.scheme == "twilio" and user and password and host:
        api = options.get("api", TwilioGateway.api).rstrip("/")
        return TwilioGateway(account_sid=user, auth_token=password, sender=host, api=api)
    template = unquote(parts.path.strip("/"))
    if parts.scheme == "aliyun" and user and password and host and template:
        return AliyunGateway(
            access_key_id=user,
            access_key_secret=password,
            sign_name=host,
            template_code=template,
            template_param=options.get("param", "content"),
            api=options.get("api", AliyunGateway.api).rstrip("/"),
        )
    path = template.split("/")
    if parts.scheme == "tencent" and user and password and host and len(path) == 2 and all(path):
        return TencentGateway(
            secret_id=user,
            secret_key=password,
            sign_name=host,
            app_id=path[0],
            template_id=path[1],
            region=options.get("region", TencentGateway.region),
            api=options.get("api", TencentGateway.api).rstrip("/"),
        )
    raise ValueError(
        "LOYALTYLAB_SMS_URL must be outbox://, twilio://SID:TOKEN@FROM, "
        "aliyun://KEY:SECRET@SignName/TemplateCode or "
        "tencent://SECRET_ID:SECRET_KEY@SignName/SmsSdkAppId/TemplateId"
    )
