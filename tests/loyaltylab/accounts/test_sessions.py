"""Server-side sessions: a copied cookie stops working when the session ends on the server (log
out, password change, removal from an organisation, a new role, sign out everywhere, expiry);
the account page lists the sessions and ends them."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from loyaltylab.accounts.models import Membership, Organisation, Role, User, UserSession
from loyaltylab.app import SESSION_COOKIE
from loyaltylab.timeutil import utcnow
from tests.web_support import sql_statements

PASSWORD = "correct horse battery staple"  # conftest's TEST_PASSWORD
NEW_PASSWORD = "a completely new passphrase"
FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0"
PHONE = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/139.0.0.0 Mobile Safari/537.36"
)


def browser(app: FastAPI, user_agent: str = FIREFOX, ip: str = "203.0.113.7") -> TestClient:
    return TestClient(
        app, base_url="https://testserver", client=(ip, 50000), headers={"User-Agent": user_agent}
    )


def copy_of(app: FastAPI, original: TestClient) -> TestClient:
    """Another browser carrying a copy of the original's session cookie (a stolen cookie)."""
    thief = browser(app, ip="198.51.100.99")
    thief.cookies.set(SESSION_COOKIE, original.cookies[SESSION_COOKIE])
    return thief


def is_signed_in(client: TestClient) -> bool:
    return client.get("/api/session/me").status_code == 200


def post(client: TestClient, csrf: Callable, page: str, action: str, **data: str):
    token = csrf(client, page)
    return client.post(action, data={**data, "csrf_token": token}, follow_redirects=False)


@pytest.fixture
def signed_in(app: FastAPI, owner: User, login: Callable) -> TestClient:
    client = browser(app)
    login(client, owner.email)
    return client


def test_logging_out_ends_the_session_for_a_copied_cookie(
    app: FastAPI, signed_in: TestClient, csrf: Callable
) -> None:
    thief = copy_of(app, signed_in)
    assert is_signed_in(thief)
    assert post(signed_in, csrf, "/studies", "/logout").status_code == 303
    assert not is_signed_in(signed_in)
    assert not is_signed_in(thief)  # the cookie from before the logout is worthless
    assert thief.get("/studies", follow_redirects=False).headers["location"].startswith("/login")


def test_the_cookie_holds_no_user_id_and_the_database_no_usable_token(
    signed_in: TestClient, session: Session, owner: User
) -> None:
    (record,) = session.exec(select(UserSession).where(UserSession.user_id == owner.id)).all()
    cookie = signed_in.cookies[SESSION_COOKIE]
    assert record.token_hash not in cookie  # the digest is stored, the token only in the cookie
    assert len(record.token_hash) == 64 and record.user_agent == FIREFOX


def test_changing_the_password_on_the_account_page_signs_out_every_other_device(
    app: FastAPI,
    signed_in: TestClient,
    owner: User,
    login: Callable,
    csrf: Callable,
    session: Session,
) -> None:
    phone = browser(app, PHONE, "192.0.2.40")
    login(phone, owner.email)
    thief = copy_of(app, phone)
    wrong = post(
        signed_in, csrf, "/account", "/account/password",
        current_password="not my password", password=NEW_PASSWORD,
    )  # fmt: skip
    assert wrong.status_code == 400 and "Your current password is not right." in wrong.text
    assert is_signed_in(phone)
    changed = post(
        signed_in, csrf, "/account", "/account/password",
        current_password=PASSWORD, password=NEW_PASSWORD,
    )  # fmt: skip
    assert changed.status_code == 303 and changed.headers["location"] == "/account"
    assert is_signed_in(signed_in)
    assert not is_signed_in(phone) and not is_signed_in(thief)
    fresh = browser(app, ip="192.0.2.41")
    with pytest.raises(RuntimeError):
        login(fresh, owner.email, PASSWORD)
    login(fresh, owner.email, NEW_PASSWORD)


def test_wrong_current_passwords_are_throttled_like_sign_ins(
    signed_in: TestClient, csrf: Callable, settings
) -> None:
    for _ in range(settings.login_max_failures):
        response = post(
            signed_in, csrf, "/account", "/account/password",
            current_password="guess", password=NEW_PASSWORD,
        )  # fmt: skip
        assert response.status_code == 400
    throttled = post(
        signed_in, csrf, "/account", "/account/password",
        current_password=PASSWORD, password=NEW_PASSWORD,
    )  # fmt: skip
    assert throttled.status_code == 429


@pytest.fixture
def member_browser(
    app: FastAPI, organisation: Organisation, make_member: Callable, login: Callable
) -> Callable[[Role], TestClient]:
    """``member_browser(role)`` -> a phone signed in as member@northwind.example, a new member
    of the organisation with ``role``."""

    def signed_in_member(role: Role) -> TestClient:
        make_member(organisation, email="member@northwind.example", role=role)
        client = browser(app, PHONE, "192.0.2.60")
        login(client, "member@northwind.example")
        return client

    return signed_in_member


def membership_id(session: Session, email: str) -> int:
    return session.exec(
        select(Membership.id).join(User, User.id == Membership.user_id).where(User.email == email)
    ).one()


def test_removal_from_the_organisation_ends_the_members_sessions(
    app: FastAPI,
    signed_in: TestClient,
    organisation: Organisation,
    member_browser: Callable,
    login: Callable,
    csrf: Callable,
    session: Session,
) -> None:
    member = member_browser(Role.researcher)
    # Also a member elsewhere: the session would otherwise go on, in the other organisation.
    elsewhere = Organisation(name="Elsewhere Lab")
    session.add(elsewhere)
    session.commit()
    user_id = session.exec(select(User.id).where(User.email == "member@northwind.example")).one()
    session.add(Membership(user_id=user_id, organisation_id=elsewhere.id, role=Role.owner))
    session.commit()
    thief = copy_of(app, member)
    target = session.exec(
        select(Membership.id).where(
            Membership.user_id == user_id, Membership.organisation_id == organisation.id
        )
    ).one()
    response = post(signed_in, csrf, "/org/members", f"/org/members/{target}/remove")
    assert response.status_code == 303
    assert not is_signed_in(member) and not is_signed_in(thief)
    assert is_signed_in(signed_in)
    login(member, "member@northwind.example")
    assert member.get("/api/session/me").json()["organisation"]["name"] == "Elsewhere Lab"


def test_a_new_role_ends_the_members_sessions_but_not_the_owners_own(
    signed_in: TestClient,
    owner: User,
    member_browser: Callable,
    login: Callable,
    csrf: Callable,
    session: Session,
) -> None:
    member = member_browser(Role.owner)
    target = membership_id(session, "member@northwind.example")
    action = f"/org/members/{target}/role"
    assert post(signed_in, csrf, "/org/members", action, role="researcher").status_code == 303
    assert not is_signed_in(member)
    login(member, "member@northwind.example")
    assert member.get("/api/session/me").json()["role"] == "researcher"
    # An owner stepping down (beside another owner) keeps the session it acts from.
    assert post(signed_in, csrf, "/org/members", action, role="owner").status_code == 303
    own = membership_id(session, owner.email)
    response = post(signed_in, csrf, "/org/members", f"/org/members/{own}/role", role="researcher")
    assert response.status_code == 303
    assert signed_in.get("/api/session/me").json()["role"] == "researcher"


def test_the_account_page_lists_the_sessions_and_signs_out_everywhere(
    app: FastAPI, signed_in: TestClient, owner: User, login: Callable, csrf: Callable
) -> None:
    phone = browser(app, PHONE, "192.0.2.50")
    login(phone, owner.email)
    page = signed_in.get("/account")
    assert page.status_code == 200
    assert "Firefox on Linux" in page.text and "Chrome on Android" in page.text
    assert "192.0.2.50" in page.text and "this device" in page.text
    assert page.headers["cache-control"] == "no-store"
    thief = copy_of(app, phone)
    response = post(signed_in, csrf, "/account", "/account/sessions/end-all")
    assert response.status_code == 303 and response.headers["location"] == "/login"
    assert not any(is_signed_in(c) for c in (signed_in, phone, thief))


def test_one_session_is_ended_from_the_account_page_and_others_are_not_found(
    app: FastAPI,
    signed_in: TestClient,
    owner: User,
    member_browser: Callable,
    login: Callable,
    csrf: Callable,
    session: Session,
) -> None:
    phone = browser(app, PHONE, "192.0.2.51")
    login(phone, owner.email)
    other = member_browser(Role.researcher)
    sessions = {
        record.user_agent: record.id
        for record in session.exec(select(UserSession)).all()
        if record.user_id == owner.id
    }
    others_session = session.exec(
        select(UserSession.id).where(UserSession.user_id != owner.id)
    ).one()
    foreign = post(signed_in, csrf, "/account", f"/account/sessions/{others_session}/end")
    assert foreign.status_code == 404 and is_signed_in(other)
    ended = post(signed_in, csrf, "/account", f"/account/sessions/{sessions[PHONE]}/end")
    assert ended.status_code == 303 and ended.headers["location"] == "/account"
    assert not is_signed_in(phone) and is_signed_in(signed_in)
    own = post(signed_in, csrf, "/account", f"/account/sessions/{sessions[FIREFOX]}/end")
    assert own.headers["location"] == "/login" and not is_signed_in(signed_in)


def test_the_account_page_saves_the_name_and_language(
    signed_in: TestClient, owner: User, csrf: Callable, session: Session
) -> None:
    refused = post(signed_in, csrf, "/account", "/account", name="  ", locale="zh_CN")
    assert refused.status_code == 400 and "This field is required." in refused.text
    assert post(signed_in, csrf, "/account", "/account", name="Ada", locale="xx").status_code == 400
    saved = post(signed_in, csrf, "/account", "/account", name="Ada  Lovelace", locale="zh_CN")
    assert saved.status_code == 303
    session.expire_all()
    user = session.get(User, owner.id)
    assert (user.name, user.locale) == ("Ada Lovelace", "zh_CN")
    assert '<html lang="zh-CN">' in signed_in.get("/account").text


def test_an_expired_session_is_refused(
    signed_in: TestClient, session: Session, owner: User
) -> None:
    record = session.exec(select(UserSession).where(UserSession.user_id == owner.id)).one()
    record.expires_at = utcnow() - timedelta(seconds=1)
    session.add(record)
    session.commit()
    assert not is_signed_in(signed_in)


def test_activity_is_written_at_most_every_few_minutes(
    signed_in: TestClient, session: Session, owner: User, engine: Engine
) -> None:
    """A signed-in page reads its session with the user in one query and writes nothing, until
    the last activity is a few minutes old."""
    statements: list[str] = []

    def remember(conn, cursor, statement, *args) -> None:
        statements.append(statement.split()[0].upper())

    event.listen(engine, "before_cursor_execute", remember)
    try:
        assert signed_in.get("/api/session/me").status_code == 200
        assert "UPDATE" not in statements and "INSERT" not in statements
        record = session.exec(select(UserSession).where(UserSession.user_id == owner.id)).one()
        record.last_seen_at = utcnow() - timedelta(minutes=10)
        session.add(record)
        session.commit()
        statements.clear()
        assert signed_in.get("/api/session/me").status_code == 200
        assert statements.count("UPDATE") == 1
    finally:
        event.remove(engine, "before_cursor_execute", remember)
    session.expire_all()
    seen = session.get(UserSession, record.id).last_seen_at
    assert utcnow() - (seen if seen.tzinfo else seen.replace(tzinfo=utcnow().tzinfo)) < timedelta(
        minutes=1
    )


def test_respondent_pages_never_read_the_sessions(
    app: FastAPI, engine: Engine, wave, respondent, owner: User, login: Callable
) -> None:
    """Respondents are the traffic that scales: their pages do not look up researcher sessions,
    even in a browser where a researcher is signed in."""
    person = browser(app)
    login(person, owner.email)
    with sql_statements(engine) as statements:
        walker = respondent(person, f"/s/{wave.public_slug}")
        assert walker.consent().status_code == 303
        assert walker.get("/page/0").status_code == 200
    assert statements and not [s for s in statements if "user_session" in s]
