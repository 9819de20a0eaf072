"""The one pure-ASGI layer every request passes (:class:`EdgeMiddleware`): request id and access
log, accepted Host names, the client's address behind trusted proxies, the request size limit,
the signed session cookie and the UI language, the security headers, and the branded 500 page.

One layer instead of eight: each ASGI layer costs every request a coroutine frame, a wrapped
``send`` and ``receive`` and its own pass over the headers; here the headers are read once and
the response start is edited once.
"""

from __future__ import annotations

import functools
import ipaddress
import json
import logging
import secrets
import time
from base64 import b64decode, b64encode
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence

from itsdangerous import BadSignature, TimestampSigner
from starlette.datastructures import MutableHeaders
from starlette.middleware.sessions import Session
from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from loyaltylab import i18n

access_log = logging.getLogger("loyaltylab.access")
error_log = logging.getLogger("loyaltylab.errors")

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'self'; "
    "object-src 'none'"
)
SECURITY_HEADERS = {
    "content-security-policy": CONTENT_SECURITY_POLICY,
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    "x-frame-options": "DENY",
    "cross-origin-opener-policy": "same-origin",
}
# Two years, the preload list's minimum; not includeSubDomains: the parent domain is not ours.
STRICT_TRANSPORT_SECURITY = "max-age=63072000"
_SECURITY_HEADER_LINES = [
    (name.encode(), value.encode()) for name, value in SECURITY_HEADERS.items()
]

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
ErrorResponse = Callable[[Scope, Receive], Awaitable[ASGIApp]]


class SessionCookie:
    """The browser's session as a signed cookie, in the format of Starlette's
    ``SessionMiddleware`` (base64 JSON, itsdangerous timestamp signature).

    Signed again only when the request changed the session: the signature (an HMAC) and the
    ``Set-Cookie`` header are not paid on the many requests that only read it. A cookie whose
    signature was verified is remembered (the last ``VERIFIED_COOKIES`` of them) with the time
    it was signed, so a browser sending the same cookie again costs no HMAC; its age is checked
    on every request.
    """

    VERIFIED_COOKIES = 4096

    def __init__(self, secret_key: str, *, name: str, max_age: int, https_only: bool) -> None:
        self.signer = TimestampSigner(secret_key)
        self.name = name
        self.max_age = max_age
        flags = "httponly; samesite=lax" + ("; secure" if https_only else "")
        self._persist = f"; path=/; Max-Age={max_age}; {flags}"
        self._clear = f"{name}=null; path=/; expires=Thu, 01 Jan 1970 00:00:00 GMT; {flags}"
        self._verified = functools.lru_cache(maxsize=self.VERIFIED_COOKIES)(self._verify)

    def _verify(self, value: str) -> tuple[float, str] | None:
        """When the cookie was signed and its JSON, or None for a forged or damaged one."""
        try:
            data, signed = self.signer.unsign(value.encode(), return_timestamp=True)
            return signed.timestamp(), b64decode(data).decode()
        except (BadSignature, ValueError):
            return None

    def load(self, cookie_header: str) -> Session:
        value = _cookie_value(cookie_header, self.name) if cookie_header else None
        verified = self._verified(value) if value else None
        if verified is not None:
            signed, data = verified
            if 0 <= time.time() - signed <= self.max_age:
                try:
                    return _LoadedSession(json.loads(data))
                except ValueError:
                    pass
        return Session()

    def header(self, session: Session) -> bytes | None:
        """The ``Set-Cookie`` value after the request, or None when nothing changed."""
        if not session.modified:
            return None
        if session:
            data = self.signer.sign(b64encode(json.dumps(session).encode())).decode()
            return f"{self.name}={data}{self._persist}".encode()
        if isinstance(session, _LoadedSession):
            return self._clear.encode()  # cleared: the browser forgets it
        return None


class _LoadedSession(Session):
    """A session that came with the request (cleared, its cookie is deleted)."""


def _cookie_value(header: str, name: str) -> str | None:
    """One cookie's value from a ``Cookie`` header (the last one of that name, as Starlette's
    ``request.cookies`` has it)."""
    found = None
    for chunk in header.split(";"):
        key, separator, value = chunk.partition("=")
        if separator and key.strip() == name:
            found = value.strip()
    return found


class EdgeMiddleware:
    """Every request's way in and out, in the order it is checked:

    1. a request id (the client's ``X-Request-ID`` when well formed) and one access-log line;
    2. the Host header must name the site (health checks excepted): Starlette builds absolute
       URLs (trailing-slash redirects) from it, a forged one would put another site into them;
    3. the client's address (and scheme) from ``X-Forwarded-For`` (``-Proto``), believed only
       from a trusted proxy, read from the right;
    4. the request body's size limit (``limits_by_prefix`` for some paths, else
       ``max_body_bytes``), refused with 413 before it is read into memory;
    5. the session cookie and, from it or Accept-Language, the UI language;
    6. an error no handler caught is logged with the request id and answered with
       ``error_response`` (the branded 500 page).

    Every response, refusals and error pages included, gets the security headers (HSTS over
    https; ``Cache-Control: no-store`` for a signed-in user), the request id and the session
    cookie when the session changed.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        session: SessionCookie,
        hosts: Iterable[str],
        exempt_paths: Sequence[str] = (),
        trusted: Sequence[Network] = (),
        max_body_bytes: int,
        limits_by_prefix: Mapping[str, int] | None = None,
        https: bool = False,
        error_response: ErrorResponse,
    ) -> None:
        self.app = app
        self.session = session
        self.hosts = frozenset(hosts)
        self.exempt_paths = frozenset(exempt_paths)
        self.trusted = tuple(trusted)
        self.max_body_bytes = max_body_bytes
        self.limits_by_prefix = tuple((limits_by_prefix or {}).items())
        self.https = https
        self.error_response = error_response

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = _Headers(scope["headers"], self.session.name)
        request_id = request.request_id or secrets.token_hex(8)
        scope.setdefault("state", {})["request_id"] = request_id
        started = time.perf_counter()
        status = 500
        session: Session | None = None
        response_started = False
        body_too_large = False
        receive_failed = False
        limit = self._limit(scope["path"])
        received = 0

        async def edge_receive() -> Message:
            nonlocal received, body_too_large, receive_failed
            try:
                message = await receive()
            except BaseException:
                receive_failed = True
                raise
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    body_too_large = receive_failed = True
                    raise _BodyTooLarge
            return message

        async def edge_send(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                # FastAPI turns a failed body read into its own 400: that answer becomes 413.
                if body_too_large:
                    return
                response_started = True
                status = message["status"]
                self._finish_headers(message, scope, request_id, session)
            elif body_too_large and not response_started:
                return
            await send(message)

        try:
            if request.content_length is not None and request.content_length > limit:
                await _too_large(scope, edge_send, limit, request.accept_language)
                return
            if scope["path"] not in self.exempt_paths and request.host_name not in self.hosts:
                await _refuse(
                    scope,
                    edge_send,
                    400,
                    i18n.N_("This site is not served at this address."),
                    request.accept_language,
                )
                return
            if self.trusted:
                self._client_address(scope, request)
            scope["session"] = session = self.session.load(request.cookie)
            i18n.set_locale(
                i18n.negotiate_locale(
                    user_locale=session.get(i18n.SESSION_KEY),
                    cookie=None,
                    accept_language=request.accept_language,
                )
            )
            try:
                await self.app(scope, edge_receive, edge_send)
            except Exception:
                if body_too_large and not response_started:
                    body_too_large = False  # the refusal may pass edge_send
                    await _too_large(scope, edge_send, limit, request.accept_language)
                    return
                if receive_failed:
                    raise  # the client went away mid-body: nothing to answer
                error_log.exception(
                    "unhandled error in %s %s request_id=%s",
                    scope["method"],
                    route_template(scope),
                    request_id,
                )
                if response_started:
                    raise  # only dropping the connection ends a started response
                response = await self.error_response(scope, receive)
                await response(scope, receive, edge_send)
                return
            if body_too_large and not response_started:
                # The app answered the failed read itself (FastAPI's 400): the limit answers.
                body_too_large = False
                await _too_large(scope, edge_send, limit, request.accept_language)
        finally:
            if access_log.isEnabledFor(logging.INFO):
                access_log.info(
                    "%s %s %s %.1fms request_id=%s",
                    scope["method"],
                    route_template(scope),
                    status,
                    (time.perf_counter() - started) * 1000,
                    request_id,
                )

    def _limit(self, path: str) -> int:
        for prefix, limit in self.limits_by_prefix:
            if path.startswith(prefix):
                return limit
        return self.max_body_bytes

    def _finish_headers(
        self, message: Message, scope: Scope, request_id: str, session: Session | None
    ) -> None:
        raw: list[tuple[bytes, bytes]] = message.setdefault("headers", [])
        present = {name.lower() for name, _ in raw}
        raw.extend(line for line in _SECURITY_HEADER_LINES if line[0] not in present)
        if self.https and b"strict-transport-security" not in present:
            raw.append((b"strict-transport-security", STRICT_TRANSPORT_SECURITY.encode()))
        # The user is put into the request's state by the dependency that signs it in.
        if scope["state"].get("user") is not None:
            headers = MutableHeaders(raw=raw)
            if "no-store" not in headers.get("cache-control", ""):
                headers["cache-control"] = "no-store"
        raw.append((b"x-request-id", request_id.encode()))
        if session is not None:
            if session.accessed:
                MutableHeaders(raw=raw).add_vary_header("Cookie")
            cookie = self.session.header(session)
            if cookie is not None:
                raw.append((b"set-cookie", cookie))

    def _client_address(self, scope: Scope, request: _Headers) -> None:
        peer = scope.get("client")
        if not peer or not self._is_trusted(peer[0]):
            return
        client = self._client_from(_values(request.forwarded_for))
        if client is not None:
            scope["client"] = (client, 0)
        proto = (_values(request.forwarded_proto) or [""])[-1].lower()
        if proto in ("http", "https"):
            scope["scheme"] = proto

    def _is_trusted(self, address: str) -> bool:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in network for network in self.trusted)

    def _client_from(self, forwarded_for: list[str]) -> str | None:
        """Each trusted proxy appends the address it was connected from, so the first address
        from the right that is not a trusted proxy is the client; further left is the
        client's own writing."""
        for address in reversed(forwarded_for):
            if not self._is_trusted(address):
                try:
                    return str(ipaddress.ip_address(address))
                except ValueError:
                    return None  # not what a proxy writes: keep the peer's address
        return forwarded_for[0] if forwarded_for else None


class _Headers:
    """What the edge reads from the request headers, in one pass over them."""

    __slots__ = (
        "accept_language",
        "content_length",
        "cookie",
        "forwarded_for",
        "forwarded_proto",
        "host_name",
        "request_id",
    )

    def __init__(self, raw: Iterable[tuple[bytes, bytes]], session_cookie: str) -> None:
        self.accept_language = ""
        self.content_length: int | None = None
        self.cookie = ""
        self.forwarded_for: list[bytes] = []
        self.forwarded_proto: list[bytes] = []
        self.request_id: str | None = None
        host = ""
        cookies: list[str] = []
        for name, value in raw:
            if name == b"host":
                host = value.decode("latin-1")
            elif name == b"cookie":
                cookies.append(value.decode("latin-1"))
            elif name == b"accept-language":
                self.accept_language = self.accept_language or value.decode("latin-1")
            elif name == b"content-length":
                self.content_length = _integer(value)
            elif name == b"x-request-id":
                self.request_id = self.request_id or _request_id(value.decode("latin-1"))
            elif name == b"x-forwarded-for":
                self.forwarded_for.append(value)
            elif name == b"x-forwarded-proto":
                self.forwarded_proto.append(value)
        self.cookie = "; ".join(cookies)
        self.host_name = _host_name(host)


def _integer(value: bytes) -> int | None:
    try:
        return int(value)
    except ValueError:
        return None


def _request_id(candidate: str) -> str | None:
    return candidate if 0 < len(candidate) <= 64 and candidate.replace("-", "").isalnum() else None


def _values(occurrences: list[bytes]) -> list[str]:
    """Every comma-separated value of a header, over all its occurrences, in order."""
    return [
        part.strip()
        for value in occurrences
        for part in value.decode("latin-1").split(",")
        if part.strip()
    ]


def route_template(scope: Scope) -> str:
    """The matched route's path template (``/studies/{study_id}``), else the raw path.

    FastAPI 0.165 puts the route of an included router into ``scope["route"]`` without the
    prefixes it was included under; the full template is on its effective route context.
    """
    context = (scope.get("fastapi") or {}).get("effective_route_context")
    template = getattr(context, "path", None) or getattr(scope.get("route"), "path", None)
    return template or scope["path"]


def _host_name(host_header: str) -> str:
    """``Example.COM:8443`` -> ``example.com``; ``[::1]:8000`` -> ``::1``."""
    host = host_header.strip().lower()
    if host.startswith("["):
        return host[1:].split("]", 1)[0]
    return host.rsplit(":", 1)[0].rstrip(".") if ":" in host else host.rstrip(".")


class _BodyTooLarge(Exception):
    pass


async def _too_large(scope: Scope, send: Send, limit: int, accept_language: str) -> None:
    await _refuse(
        scope,
        send,
        413,
        i18n.N_("The upload is too large: at most %(max_mb)s MB are accepted."),
        accept_language,
        max_mb=f"{limit / (1024 * 1024):g}",
    )


async def _refuse(
    scope: Scope, send: Send, status: int, message: str, accept_language: str, **params: str
) -> None:
    """A plain-text refusal (a problem document for the API). Sent before the session is read:
    the browser's languages choose the message's."""
    locale = i18n.negotiate_locale(user_locale=None, cookie=None, accept_language=accept_language)
    text = i18n.translations(locale).gettext(message) % params
    if scope["path"].startswith("/api/v1/"):
        from loyaltylab.api.problems import problem_response

        await problem_response(status, text, instance=scope["path"])(scope, _no_body, send)
        return
    await PlainTextResponse(text, status_code=status)(scope, _no_body, send)


async def _no_body() -> Message:
    """A refusal reads nothing more of the request."""
    return {"type": "http.disconnect"}
