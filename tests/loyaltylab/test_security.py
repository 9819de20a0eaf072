"""Browser-facing security: cookies, headers, CSRF, redirects and escaping."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from urllib.parse import quote, urlsplit

import pytest
from fastapi.testclient import TestClient
from starlette.middleware.sessions import Session

from loyaltylab import middleware
from loyaltylab.accounts.models import User
from loyaltylab.app import SESSION_COOKIE, create_app
from loyaltylab.middleware import SessionCookie
from loyaltylab.settings import Settings


def session_cookie_header(client: TestClient) -> str:
    response = client.get("/login")
    cookies = [v for k, v in response.headers.multi_items() if k == "set-cookie"]
    (cookie,) = [c for c in cookies if c.startswith(SESSION_COOKIE + "=")]
    return cookie.lower()


def test_the_session_cookie_is_httponly_lax_and_secure_over_https(client: TestClient) -> None:
    cookie = session_cookie_header(client)
    assert "httponly" in cookie
    assert "samesite=lax" in cookie
    assert "secure" in cookie.split("; ")


def test_the_session_cookie_is_not_secure_when_base_url_is_http(settings: Settings) -> None:
    plain = settings.model_copy(update={"base_url": "http://127.0.0.1:8000"})
    app = create_app(plain)
    try:
        with TestClient(app, base_url="http://testserver") as client:
            cookie = session_cookie_header(client)
    finally:
        app.state.engine.dispose()
    assert "httponly" in cookie and "samesite=lax" in cookie
    assert "secure" not in cookie.split("; ")


def test_a_session_cookie_is_verified_once_and_refused_when_forged_or_too_old(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    cookies = SessionCookie("k" * 32, name="session", max_age=600, https_only=False)
    session = Session()
    session["csrf"] = "token"
    value = cookies.header(session).decode().split(";")[0].removeprefix("session=")
    hmacs = []
    verify = cookies.signer.verify_signature
    monkeypatch.setattr(
        cookies.signer, "verify_signature", lambda *a: hmacs.append(1) or verify(*a)
    )
    for _ in range(3):
        loaded = cookies.load(f"other=1; session={value}")
        assert loaded == {"csrf": "token"}
        loaded["csrf"] = "changed"  # each request gets its own copy
    assert len(hmacs) == 1  # the same cookie again: remembered, no second HMAC
    tampered = value[:-2] + ("AA" if not value.endswith("AA") else "BB")
    assert cookies.load(f"session={tampered}") == {}
    signed_at = time.time()
    monkeypatch.setattr(middleware.time, "time", lambda: signed_at + 601)
    assert cookies.load(f"session={value}") == {}  # remembered, but older than max_age
    monkeypatch.setattr(middleware.time, "time", lambda: signed_at - 60)
    assert cookies.load(f"session={value}") == {}  # signed in the future


@pytest.mark.parametrize("path", ["/login", "/no-such-page"])
def test_pages_carry_the_security_headers(client: TestClient, path: str) -> None:
    headers = client.get(path).headers
    directives = {
        part.strip().split(" ", 1)[0]: part.strip()
        for part in headers["content-security-policy"].split(";")
    }
    assert "'unsafe-inline'" not in directives["script-src"]
    assert "'unsafe-eval'" not in directives["script-src"]
    assert directives["frame-ancestors"] == "frame-ancestors 'none'"
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] in {
        "same-origin",
        "strict-origin-when-cross-origin",
        "no-referrer",
    }


def test_a_valid_token_in_the_header_is_accepted(
    client: TestClient, owner: User, login: Callable, csrf: Callable
) -> None:
    login(client, owner.email)
    token = csrf(client, "/studies")
    response = client.post(
        "/studies",
        data={"name": "Through the header"},
        headers={"X-CSRF-Token": token},
        follow_redirects=False,
    )
    assert response.status_code == 303


OFFSITE_TARGETS = [
    "https://evil.example",
    "//evil.example",
    "/\\evil.example",
    "\\\\evil.example",
    "https:evil.example",
    "/\t/evil.example",
    "javascript:alert(1)",
]


def assert_same_site(location: str) -> None:
    # As a browser reads it: backslashes count as slashes, tabs and newlines are dropped.
    normalised = location.replace("\\", "/").replace("\t", "").replace("\n", "")
    parts = urlsplit(normalised)
    assert not parts.scheme and not parts.netloc, location
    assert normalised.startswith("/") and not normalised.startswith("//"), location


@pytest.mark.parametrize("target", OFFSITE_TARGETS)
def test_next_never_redirects_off_site(
    client: TestClient, owner: User, csrf: Callable, target: str
) -> None:
    token = csrf(client, "/login")
    response = client.post(
        "/login",
        data={"email": owner.email, "password": "correct horse battery staple",
              "next": target, "csrf_token": token},
        follow_redirects=False,
    )  # fmt: skip
    assert response.status_code == 303
    assert_same_site(response.headers["location"])
    signed_in = client.get(f"/login?next={quote(target)}", follow_redirects=False)
    assert_same_site(signed_in.headers["location"])
    switched = client.post(
        "/language",
        data={"lang": "en", "next": target, "csrf_token": csrf(client, "/studies")},
        follow_redirects=False,
    )
    assert_same_site(switched.headers["location"])


def test_next_keeps_a_same_site_path(client: TestClient, owner: User, csrf: Callable) -> None:
    token = csrf(client, "/login")
    response = client.post(
        "/login",
        data={"email": owner.email, "password": "correct horse battery staple",
              "next": "/org/members?tab=1", "csrf_token": token},
        follow_redirects=False,
    )  # fmt: skip
    assert response.headers["location"] == "/org/members?tab=1"


def test_user_text_is_escaped(
    client: TestClient, owner: User, login: Callable, csrf: Callable
) -> None:
    login(client, owner.email)
    payload = "<script>alert(1)</script>"
    created = client.post(
        "/studies",
        data={"name": payload, "description": payload, "company_name": payload,
              "csrf_token": csrf(client, "/studies/new")},
        follow_redirects=False,
    )  # fmt: skip
    assert created.status_code == 303
    for path in (created.headers["location"], "/studies", created.headers["location"] + "/edit"):
        page = client.get(path).text
        assert payload not in page, path
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page, path


def test_unknown_pages_keep_the_signed_in_top_bar(client, owner, login) -> None:
    login(client, owner.email)
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert "Log out" in response.text
    assert owner.name in response.text


def test_every_template_importing_the_form_macros_passes_its_context() -> None:
    """The csrf() macro reads the request's token from the context: imported without it, a
    form posts an empty token that the CSRF check refuses (as the fieldwork and privacy forms
    once did)."""
    import re
    from pathlib import Path

    import loyaltylab

    templates = Path(loyaltylab.__file__).parent / "templates"
    imports = re.compile(r"{%-?\s*(?:import|from)\s+['\"]_macros\.html['\"][^%]*%}")
    without = [
        f"{path.relative_to(templates)}: {statement}"
        for path in sorted(templates.rglob("*.html"))
        for statement in imports.findall(path.read_text(encoding="utf-8"))
        if "with context" not in statement
    ]
    assert without == []


# --- the Host header --------------------------------------------------------------------------


def test_a_forged_host_header_is_refused_and_never_reaches_a_page(client: TestClient) -> None:
    for path in ("/login", "/studies/", "/static/css/app.css"):
        response = client.get(path, headers={"Host": "evil.example"}, follow_redirects=False)
        assert response.status_code == 400, path
        assert "evil.example" not in response.text
        assert "not served at this address" in response.text
        assert response.headers["x-content-type-options"] == "nosniff"
    chinese = client.get("/login", headers={"Host": "evil.example", "Accept-Language": "zh-CN"})
    assert chinese.status_code == 400 and "本站点" in chinese.text


def test_the_base_url_host_and_allowed_hosts_are_answered(
    client: TestClient, settings: Settings
) -> None:
    for host in ("loyaltylab.example", "LoyaltyLab.example:443", "testserver"):
        assert client.get("/login", headers={"Host": host}).status_code == 200, host
    # Load balancers check health with the machine's address as Host.
    assert client.get("/healthz", headers={"Host": "10.0.0.12:8000"}).status_code == 200


def test_asset_urls_are_root_relative(client: TestClient) -> None:
    page = client.get("/login").text
    assets = re.findall(r'(?:href|src)="([^"]+\.(?:css|js|svg))"', page)
    assert assets and all(url.startswith("/static/") for url in assets), assets


def test_allowed_hosts_come_from_the_settings(settings: Settings) -> None:
    assert settings.accepted_hosts == {"loyaltylab.example", "testserver", "127.0.0.1"}
    local = Settings(
        env="test", database_url="sqlite://", secret_key="k" * 40, base_url="http://127.0.0.1:8000"
    )
    assert local.accepted_hosts == {"127.0.0.1", "localhost", "::1"}
    listed = local.model_copy(update={"base_url": "https://survey.example.com"})
    assert listed.accepted_hosts == {"survey.example.com"}


def test_allowed_hosts_and_trusted_proxies_are_read_as_comma_separated_lists(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LOYALTYLAB_ALLOWED_HOSTS", "www.survey.example.com, survey.example.org")
    monkeypatch.setenv("LOYALTYLAB_TRUSTED_PROXIES", "10.0.0.5,192.168.0.0/24")
    settings = Settings(env="test", database_url="sqlite://", secret_key="k" * 40)
    assert settings.allowed_hosts == ["www.survey.example.com", "survey.example.org"]
    assert [str(n) for n in settings.trusted_proxy_networks] == ["10.0.0.5/32", "192.168.0.0/24"]
    monkeypatch.setenv("LOYALTYLAB_TRUSTED_PROXIES", "nginx.internal")
    with pytest.raises(ValueError, match="not an IP address or network"):
        Settings(env="test", database_url="sqlite://", secret_key="k" * 40)


# --- HSTS and caching -------------------------------------------------------------------------


def test_hsts_is_sent_over_https_only(client: TestClient, settings: Settings) -> None:
    assert client.get("/login").headers["strict-transport-security"] == "max-age=63072000"
    plain = create_app(settings.model_copy(update={"base_url": "http://127.0.0.1:8000"}))
    try:
        with TestClient(plain, base_url="http://testserver") as http_client:
            assert "strict-transport-security" not in http_client.get("/login").headers
    finally:
        plain.state.engine.dispose()


def test_signed_in_pages_and_downloads_are_never_stored(
    client: TestClient, owner: User, login: Callable, study
) -> None:
    assert "no-store" not in client.get("/login").headers.get("cache-control", "")
    login(client, owner.email)
    for path in ("/studies", f"/studies/{study.id}", "/api/session/me", "/org/members", "/nope"):
        assert client.get(path).headers["cache-control"] == "no-store", path
    # Static files stay cacheable.
    assert "no-store" not in client.get("/static/css/app.css").headers.get("cache-control", "")


# --- client addresses behind proxies ----------------------------------------------------------


def failed_login_from(
    client: TestClient, csrf: Callable, email: str, forwarded_for: str | None
) -> int:
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
    token = csrf(client, "/login")
    return client.post(
        "/login",
        data={"email": email, "password": "wrong password", "csrf_token": token},
        headers=headers,
    ).status_code


def recorded_addresses(session) -> list[str]:
    from sqlmodel import select

    from loyaltylab.accounts.models import LoginFailure

    session.expire_all()
    return [failure.ip for failure in session.exec(select(LoginFailure).order_by(LoginFailure.id))]


def test_x_forwarded_for_is_ignored_without_trusted_proxies(app, csrf: Callable, session) -> None:
    peer = TestClient(app, base_url="https://testserver", client=("127.0.0.1", 50000))
    failed_login_from(peer, csrf, "a@example.org", "203.0.113.1")
    failed_login_from(peer, csrf, "b@example.org", "203.0.113.2")
    assert recorded_addresses(session) == ["127.0.0.1", "127.0.0.1"]


def test_x_forwarded_for_is_read_from_the_right_behind_a_trusted_proxy(
    settings: Settings, csrf: Callable
) -> None:
    from sqlmodel import Session

    proxied = create_app(settings.model_copy(update={"trusted_proxies": ["10.0.0.0/8"]}))
    try:
        nginx = TestClient(proxied, base_url="https://testserver", client=("10.0.0.5", 50000))
        stranger = TestClient(proxied, base_url="https://testserver", client=("192.0.2.9", 5000))
        failed_login_from(nginx, csrf, "a@example.org", "203.0.113.1")
        # The client wrote the left part itself; the proxies appended the real addresses.
        failed_login_from(nginx, csrf, "b@example.org", "1.2.3.4, 203.0.113.2, 10.0.0.7")
        failed_login_from(nginx, csrf, "c@example.org", None)
        failed_login_from(stranger, csrf, "d@example.org", "203.0.113.3")  # not a proxy
        with Session(proxied.state.engine) as session:
            assert recorded_addresses(session) == [
                "203.0.113.1",
                "203.0.113.2",
                "10.0.0.5",
                "192.0.2.9",
            ]
    finally:
        proxied.state.engine.dispose()


@pytest.mark.slow
def test_a_loopback_peer_cannot_rotate_its_address_on_the_real_server(settings: Settings) -> None:
    """Served as ``loyaltylab serve`` serves it (uvicorn with the app's SERVER_OPTIONS): a
    client on the machine sending a new X-Forwarded-For each time is still one address, so
    spraying passwords over accounts is throttled after the per-address limit."""
    import httpx

    from tests.web_support import serve_in_thread

    app = create_app(settings.model_copy(update={"base_url": "http://127.0.0.1"}))
    for base in serve_in_thread(app):
        with httpx.Client(base_url=base, timeout=30) as browser:
            statuses = []
            for n in range(settings.login_max_failures_per_address + 1):
                token = re.search(r'name="csrf_token" value="([^"]+)"', browser.get("/login").text)
                response = browser.post(
                    "/login",
                    data={
                        "email": f"user{n}@example.org",
                        "password": "Spring2026!",
                        "csrf_token": token.group(1),
                    },
                    headers={"X-Forwarded-For": f"198.51.100.{n + 1}"},
                )
                statuses.append(response.status_code)
    app.state.engine.dispose()
    assert statuses[:-1] == [400] * settings.login_max_failures_per_address
    assert statuses[-1] == 429
