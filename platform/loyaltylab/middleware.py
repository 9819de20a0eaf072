"""Pure ASGI middleware: request ids and access log, security headers, request size limit,
accepted Host names and client addresses behind trusted proxies."""

from __future__ import annotations

import ipaddress
import logging
import secrets
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Any

from starlette.datastructures import MutableHeaders
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


class RequestLogMiddleware:
    """One log line per request: method, path template, status, latency and request id."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _incoming_request_id(scope) or secrets.token_hex(8)
        scope.setdefault("state", {})["request_id"] = request_id
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableHeaders(scope=message)["x-request-id"] = request_id
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            access_log.info(
                "%s %s %s %.1fms request_id=%s",
                scope["method"],
                route_template(scope),
                status,
                (time.perf_counter() - started) * 1000,
                request_id,
            )


def route_template(scope: Scope) -> str:
    """The matched route's path template (``/studies/{study_id}``), else the raw path.

    FastAPI 0.165 puts the route of an included router into ``scope["route"]`` without the
    prefixes it was included under; the full template is on its effective route context.
    """
    context = (scope.get("fastapi") or {}).get("effective_route_context")
    template = getattr(context, "path", None) or getattr(scope.get("route"), "path", None)
    return template or scope["path"]


def _incoming_request_id(scope: Scope) -> str | None:
    for name, value in scope["headers"]:
        if name == b"x-request-id":
            candidate = value.decode("latin-1")
            if 0 < len(candidate) <= 64 and candidate.replace("-", "").isalnum():
                return candidate
    return None


class SecurityHeadersMiddleware:
    """The security headers on every response; HSTS when the site is served over https, and
    ``Cache-Control: no-store`` on whatever a signed-in user is shown or downloads (so that no
    browser or shared cache keeps it after logging out)."""

    def __init__(self, app: ASGIApp, *, https: bool) -> None:
        self.app = app
        self.https = https

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    headers.setdefault(name, value)
                if self.https:
                    headers.setdefault("strict-transport-security", STRICT_TRANSPORT_SECURITY)
                # The user is put into the request's state by the dependency that signs it in.
                signed_in = scope.get("state", {}).get("user") is not None
                if signed_in and "no-store" not in headers.get("cache-control", ""):
                    headers["cache-control"] = "no-store"
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _host_name(host_header: str) -> str:
    """``Example.COM:8443`` -> ``example.com``; ``[::1]:8000`` -> ``::1``."""
    host = host_header.strip().lower()
    if host.startswith("["):
        return host[1:].split("]", 1)[0]
    return host.rsplit(":", 1)[0].rstrip(".") if ":" in host else host.rstrip(".")


class AllowedHostsMiddleware:
    """Answer only requests addressed to one of the site's own names (the Host header).

    Starlette builds absolute URLs (trailing-slash redirects, ``request.url_for``) from the Host
    header: a forged one would put another site into them. Health checks, which load balancers
    address to the machine, are answered whatever the Host.
    """

    def __init__(
        self, app: ASGIApp, *, hosts: Iterable[str], exempt_paths: Sequence[str] = ()
    ) -> None:
        self.app = app
        self.hosts = frozenset(hosts)
        self.exempt_paths = frozenset(exempt_paths)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in self.exempt_paths:
            await self.app(scope, receive, send)
            return
        host = next((v.decode("latin-1") for k, v in scope["headers"] if k == b"host"), "")
        if _host_name(host) in self.hosts:
            await self.app(scope, receive, send)
            return
        await _refuse(
            scope, receive, send, 400, i18n.N_("This site is not served at this address.")
        )


Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class ClientAddressMiddleware:
    """The client's address (and scheme) from ``X-Forwarded-For`` (``-Proto``), believed only
    when the request comes from one of the trusted proxies.

    The header is read from the right: each trusted proxy appends the address it was connected
    from, so the first address that is not a trusted proxy is the client. Anything further left
    was written by the client and is ignored. Without trusted proxies the peer is the client.
    """

    def __init__(self, app: ASGIApp, *, trusted: Sequence[Network]) -> None:
        self.app = app
        self.trusted = tuple(trusted)

    def _is_trusted(self, address: str) -> bool:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in network for network in self.trusted)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        peer = scope.get("client")
        if scope["type"] == "http" and self.trusted and peer and self._is_trusted(peer[0]):
            forwarded_for = _header_values(scope, b"x-forwarded-for")
            client = self._client_from(forwarded_for)
            if client is not None:
                scope["client"] = (client, 0)
            proto = (_header_values(scope, b"x-forwarded-proto") or [""])[-1].lower()
            if proto in ("http", "https"):
                scope["scheme"] = proto
        await self.app(scope, receive, send)

    def _client_from(self, forwarded_for: list[str]) -> str | None:
        for address in reversed(forwarded_for):
            if not self._is_trusted(address):
                try:
                    return str(ipaddress.ip_address(address))
                except ValueError:
                    return None  # not what a proxy writes: keep the peer's address
        return forwarded_for[0] if forwarded_for else None


def _header_values(scope: Scope, name: bytes) -> list[str]:
    """Every comma-separated value of a header, over all its occurrences, in order."""
    return [
        part.strip()
        for key, value in scope["headers"]
        if key == name
        for part in value.decode("latin-1").split(",")
        if part.strip()
    ]


class BodySizeLimitMiddleware:
    """Refuse request bodies over a limit before they are read into memory."""

    def __init__(self, app: ASGIApp, *, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None and declared > self.max_body_bytes:
            await _too_large(scope, receive, send, self.max_body_bytes)
            return
        received = 0
        too_large = False
        response_started = False

        async def counting_receive() -> Message:
            nonlocal received, too_large
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body_bytes:
                    too_large = True
                    raise _BodyTooLarge
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal response_started
            # FastAPI turns a failed body read into its own 400: that answer is replaced by 413.
            if too_large and not response_started:
                return
            response_started = response_started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting_receive, guarded_send)
        except Exception:
            if not too_large or response_started:
                raise
        if too_large and not response_started:
            await _too_large(scope, receive, send, self.max_body_bytes)


class _BodyTooLarge(Exception):
    pass


def _content_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


async def _too_large(scope: Scope, receive: Receive, send: Send, limit: int) -> Any:
    await _refuse(
        scope,
        receive,
        send,
        413,
        i18n.N_("The upload is too large: at most %(max_mb)s MB are accepted."),
        max_mb=f"{limit / (1024 * 1024):g}",
    )


async def _refuse(
    scope: Scope, receive: Receive, send: Send, status: int, message: str, **params: str
) -> None:
    """A plain-text refusal (a problem document for the API). Sent before the session is read:
    the browser's languages choose the message's."""
    accept = next((v.decode("latin-1") for k, v in scope["headers"] if k == b"accept-language"), "")
    locale = i18n.negotiate_locale(user_locale=None, cookie=None, accept_language=accept)
    text = i18n.translations(locale).gettext(message) % params
    if scope["path"].startswith("/api/v1/"):
        from loyaltylab.api.problems import problem_response

        await problem_response(status, text, instance=scope["path"])(scope, receive, send)
        return
    await PlainTextResponse(text, status_code=status)(scope, receive, send)


class UnhandledErrorMiddleware:
    """The one place an error no handler caught becomes a response: its traceback is logged with
    the request id and the visitor gets ``error_response`` (the branded 500 page), which then
    passes the outer middleware like any response, so it carries the security headers and the
    request id.

    After a failed read of the request body the error belongs to the outer middleware that
    made the read fail (the size limit answers 413) and passes through untouched, as does an
    error after the response has started, which can only be ended by dropping the connection.
    """

    def __init__(
        self, app: ASGIApp, *, error_response: Callable[[Scope, Receive], Awaitable[ASGIApp]]
    ) -> None:
        self.app = app
        self.error_response = error_response

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        response_started = False
        receive_failed = False

        async def tracking_receive() -> Message:
            nonlocal receive_failed
            try:
                return await receive()
            except BaseException:
                receive_failed = True
                raise

        async def tracking_send(message: Message) -> None:
            nonlocal response_started
            response_started = response_started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, tracking_receive, tracking_send)
        except Exception:
            if receive_failed:
                raise
            error_log.exception(
                "unhandled error in %s %s request_id=%s",
                scope["method"],
                route_template(scope),
                scope.get("state", {}).get("request_id", ""),
            )
            if response_started:
                raise
            response = await self.error_response(scope, receive)
            await response(scope, receive, send)
