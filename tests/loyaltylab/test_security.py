"""Browser-facing security: cookies, headers, CSRF, redirects and escaping."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import quote, urlsplit

import pytest
from fastapi.testclient import TestClient

from loyaltylab.accounts.models import User
from loyaltylab.app import SESSION_COOKIE, create_app
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
