"""Accounts through the real app: sign-up, sign-in, throttling, reset, invitations, roles."""

from __future__ import annotations

import re
import socketserver
import threading
from collections.abc import Callable, Iterator
from datetime import timedelta
from email import message_from_string

import itsdangerous.timed
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import delete
from sqlmodel import Session, select

from loyaltylab.accounts.models import (
    Invitation,
    Membership,
    Organisation,
    OrganisationKind,
    PendingSignup,
    Role,
    User,
)
from loyaltylab.app import create_app
from loyaltylab.mail import OutboxMessage
from loyaltylab.settings import Settings
from loyaltylab.studies.models import Study
from loyaltylab.timeutil import utcnow

PASSWORD = "correct horse battery staple"  # conftest's TEST_PASSWORD
NEW_PASSWORD = "a completely new passphrase"


def new_client(app: FastAPI, ip: str = "203.0.113.7") -> TestClient:
    return TestClient(app, base_url="https://testserver", client=(ip, 50000))


def post_form(client: TestClient, csrf: Callable, page: str, action: str, **data: str):
    return client.post(
        action, data={**data, "csrf_token": csrf(client, page)}, follow_redirects=False
    )


def attempt_login(client: TestClient, csrf: Callable, email: str, password: str):
    return post_form(client, csrf, "/login", "/login", email=email, password=password)


def is_signed_in(client: TestClient) -> bool:
    return client.get("/api/session/me").status_code == 200


def membership_of(session: Session, user: User, organisation: Organisation) -> Membership:
    session.expire_all()
    return session.exec(
        select(Membership).where(
            Membership.user_id == user.id, Membership.organisation_id == organisation.id
        )
    ).one()


def outbox_links(session: Session, to: str, path: str) -> list[str]:
    session.expire_all()
    bodies = session.exec(select(OutboxMessage.body).where(OutboxMessage.to == to)).all()
    return [link for body in bodies for link in re.findall(r"https?://\S+", body) if path in link]


# --- sign-up, sign-in, sign-out ---------------------------------------------------------------


def sign_up(client: TestClient, csrf: Callable, email: str, **fields: str):
    form = {"name": "Ada Lovelace", "password": PASSWORD, "organisation": "Analytical Research"}
    return post_form(client, csrf, "/signup", "/signup", email=email, **{**form, **fields})


def confirm_path(session: Session, settings: Settings, email: str) -> str:
    (link,) = outbox_links(session, email, "/signup/confirm/")
    assert link.startswith(settings.base_url + "/signup/confirm/")
    return link.removeprefix(settings.base_url)


def test_sign_up_creates_the_account_once_its_address_is_confirmed(
    client: TestClient, session: Session, csrf: Callable, settings: Settings
) -> None:
    response = sign_up(client, csrf, "Ada@Example.org ")
    assert response.status_code == 200 and "Check your inbox" in response.text
    assert "ada@example.org" in response.text
    # Nothing exists before the link is opened: no account to sign in to, no organisation.
    assert session.exec(select(User).where(User.email == "ada@example.org")).first() is None
    assert attempt_login(client, csrf, "ada@example.org", PASSWORD).status_code == 400
    path = confirm_path(session, settings, "ada@example.org")

    # Opening the link (as a mail scanner would) creates nothing; the button does.
    visitor = client.get(path)
    assert visitor.status_code == 200 and "Analytical Research" in visitor.text
    session.expire_all()
    assert session.exec(select(User).where(User.email == "ada@example.org")).first() is None
    confirmed = post_form(client, csrf, path, path)
    assert confirmed.status_code == 303 and confirmed.headers["location"] == "/studies"
    user = session.exec(select(User).where(User.email == "ada@example.org")).one()
    organisation = session.exec(
        select(Organisation).where(Organisation.name == "Analytical Research")
    ).one()
    assert membership_of(session, user, organisation).role == Role.owner
    assert user.password_hash.startswith("$argon2") and PASSWORD not in user.password_hash
    me = client.get("/api/session/me").json()
    assert me["organisation"]["name"] == "Analytical Research" and me["role"] == "owner"
    # The link is used up.
    assert client.get(path).status_code == 400
    fresh = new_client(client.app, "192.0.2.77")
    assert attempt_login(fresh, csrf, "ada@example.org", PASSWORD).status_code == 303


def test_sign_up_answers_the_same_for_a_taken_address(
    app: FastAPI, owner: User, csrf: Callable, session: Session, settings: Settings
) -> None:
    taken = sign_up(new_client(app), csrf, owner.email, organisation="Y")
    new = sign_up(new_client(app, "203.0.113.8"), csrf, "new@example.org", organisation="Z")
    assert taken.status_code == new.status_code == 200

    def page(response) -> str:  # the answer without the address itself and the form token
        text = response.text.replace(owner.email, "ADDRESS").replace("new@example.org", "ADDRESS")
        return re.sub(r'name="csrf_token" value="[^"]+"', "", text)

    assert page(taken) == page(new)
    # The owner of the taken address is told, and nobody can take over the account.
    (note,) = session.exec(select(OutboxMessage).where(OutboxMessage.to == owner.email)).all()
    assert "already has an account" in note.body and settings.base_url + "/login" in note.body
    assert outbox_links(session, owner.email, "/signup/confirm/") == []
    assert session.exec(select(Organisation).where(Organisation.name == "Y")).first() is None
    assert (
        attempt_login(new_client(app, "203.0.113.9"), csrf, owner.email, PASSWORD).status_code
        == 303
    )


def test_sign_up_refuses_a_short_password_and_keeps_what_was_typed(
    client: TestClient, csrf: Callable, session: Session
) -> None:
    short = sign_up(client, csrf, "new@example.org", password="short", organisation="Y Ltd")
    assert short.status_code == 400 and "at least 10 characters" in short.text
    assert 'value="new@example.org"' in short.text and 'value="Y Ltd"' in short.text
    assert session.exec(select(OutboxMessage)).first() is None


def test_signing_up_again_replaces_the_pending_link(
    client: TestClient, csrf: Callable, session: Session, settings: Settings
) -> None:
    """Someone else signing up with your address first cannot keep it: your later sign-up
    (whose link only you receive) replaces theirs."""
    sign_up(client, csrf, "ada@example.org", password="the squatter's password")
    first = confirm_path(session, settings, "ada@example.org")
    session.exec(delete(OutboxMessage))
    session.commit()
    sign_up(client, csrf, "ada@example.org", organisation="Ada's own lab")
    second = confirm_path(session, settings, "ada@example.org")
    assert client.get(first).status_code == 400
    assert post_form(client, csrf, second, second).status_code == 303
    assert client.get("/api/session/me").json()["organisation"]["name"] == "Ada's own lab"
    fresh = new_client(client.app, "192.0.2.78")
    assert (
        attempt_login(fresh, csrf, "ada@example.org", "the squatter's password").status_code == 400
    )


def test_an_expired_confirmation_link_creates_nothing(
    client: TestClient, csrf: Callable, session: Session, settings: Settings
) -> None:
    sign_up(client, csrf, "late@example.org")
    path = confirm_path(session, settings, "late@example.org")
    pending = session.exec(select(PendingSignup)).one()
    pending.expires_at = utcnow() - timedelta(minutes=1)
    session.add(pending)
    session.commit()
    assert client.get(path).status_code == 400
    assert post_form(client, csrf, "/login", path).status_code == 400
    assert session.exec(select(User).where(User.email == "late@example.org")).first() is None


def test_sign_up_mails_are_limited_per_address_and_hour(
    client: TestClient, owner: User, csrf: Callable, session: Session
) -> None:
    for _ in range(5):
        assert sign_up(client, csrf, owner.email).status_code == 200
        assert sign_up(client, csrf, "new@example.org").status_code == 200
    for address in (owner.email, "new@example.org"):
        sent = session.exec(select(OutboxMessage).where(OutboxMessage.to == address)).all()
        assert len(sent) == 3


def test_log_in_and_log_out(
    client: TestClient, owner: User, csrf: Callable, settings: Settings
) -> None:
    assert not is_signed_in(client)
    response = attempt_login(client, csrf, owner.email.upper(), PASSWORD)
    assert response.status_code == 303 and response.headers["location"] == "/studies"
    assert is_signed_in(client)
    response = post_form(client, csrf, "/studies", "/logout")
    assert response.status_code == 303 and response.headers["location"] == "/login"
    assert not is_signed_in(client)
    assert client.get("/studies", follow_redirects=False).headers["location"].startswith("/login")


def test_a_wrong_password_is_refused_with_a_message(
    client: TestClient, owner: User, csrf: Callable
) -> None:
    response = attempt_login(client, csrf, owner.email, "not the password")
    assert response.status_code == 400
    assert "The e-mail address or password is not right." in response.text
    assert not is_signed_in(client)
    unknown = attempt_login(client, csrf, "nobody@example.org", PASSWORD)
    assert unknown.status_code == 400
    assert "The e-mail address or password is not right." in unknown.text


def test_signing_in_starts_a_new_session(
    client: TestClient, owner: User, csrf: Callable, login: Callable
) -> None:
    before = csrf(client, "/login")
    login(client, owner.email)
    after = csrf(client, "/studies")
    assert before != after  # nothing from before authentication survives (session fixation)


# --- throttling -------------------------------------------------------------------------------


def test_failures_throttle_the_account_whatever_the_client_address(
    app: FastAPI, owner: User, csrf: Callable, settings: Settings
) -> None:
    """An attacker rotating addresses gets no more guesses than one address."""
    for n in range(settings.login_max_failures):
        attacker = new_client(app, f"198.51.100.{n + 1}")
        assert attempt_login(attacker, csrf, owner.email, "wrong password").status_code == 400
    elsewhere = new_client(app, "198.51.100.200")
    throttled = attempt_login(elsewhere, csrf, owner.email, PASSWORD)  # even the right password
    assert throttled.status_code == 429
    assert 1 <= int(throttled.headers["retry-after"]) <= settings.login_window_seconds + 1
    assert "Too many failed attempts" in throttled.text
    assert not is_signed_in(elsewhere)


def test_an_unknown_address_is_throttled_like_a_known_one(
    app: FastAPI, owner: User, csrf: Callable, settings: Settings
) -> None:
    """Throttling that only counted real accounts would tell which addresses have one."""
    answers = {}
    for email in (owner.email, "nobody@example.org"):
        for n in range(settings.login_max_failures):
            attempt_login(new_client(app, f"198.51.100.{n + 1}"), csrf, email, "wrong password")
        answers[email] = attempt_login(new_client(app, "192.0.2.99"), csrf, email, "wrong")
    assert [answer.status_code for answer in answers.values()] == [429, 429]


def test_failures_from_one_client_address_throttle_it_for_every_account(
    app: FastAPI, owner: User, csrf: Callable, settings: Settings
) -> None:
    """Trying one password on many accounts (spraying) from one address is limited too."""
    sprayer = new_client(app, "198.51.100.66")
    for n in range(settings.login_max_failures_per_address):
        response = attempt_login(sprayer, csrf, f"user{n}@example.org", "Spring2026!")
        assert response.status_code == 400
    assert attempt_login(sprayer, csrf, owner.email, PASSWORD).status_code == 429
    assert attempt_login(new_client(app), csrf, owner.email, PASSWORD).status_code == 303


def test_throttling_is_shared_by_every_worker(
    app: FastAPI, owner: User, csrf: Callable, settings: Settings
) -> None:
    """Two app instances on one database, as two server processes: failures counted by one
    throttle the other (the count is in the database, not in a process)."""
    second_worker = create_app(settings)
    try:
        for n in range(settings.login_max_failures):
            worker = app if n % 2 else second_worker
            attempt_login(new_client(worker, f"198.51.100.{n + 1}"), csrf, owner.email, "wrong")
        for worker in (app, second_worker):
            assert attempt_login(new_client(worker), csrf, owner.email, PASSWORD).status_code == 429
    finally:
        second_worker.state.engine.dispose()


def test_throttling_counts_only_failures_within_the_window(
    app: FastAPI, owner: User, csrf: Callable, settings: Settings, session: Session
) -> None:
    from loyaltylab.accounts.models import LoginFailure

    user = new_client(app)
    for _ in range(settings.login_max_failures):
        attempt_login(user, csrf, owner.email, "wrong password")
    session.expire_all()
    for failure in session.exec(select(LoginFailure)).all():
        failure.at = utcnow() - timedelta(seconds=settings.login_window_seconds + 1)
        session.add(failure)
    session.commit()
    assert attempt_login(user, csrf, owner.email, PASSWORD).status_code == 303


def test_a_successful_sign_in_clears_the_failures(
    app: FastAPI, owner: User, csrf: Callable, settings: Settings
) -> None:
    user = new_client(app)
    almost = settings.login_max_failures - 1
    for _ in range(almost):
        attempt_login(user, csrf, owner.email, "wrong password")
    assert attempt_login(user, csrf, owner.email, PASSWORD).status_code == 303
    post_form(user, csrf, "/studies", "/logout")
    for _ in range(almost):
        assert attempt_login(user, csrf, owner.email, "wrong password").status_code == 400
    assert attempt_login(user, csrf, owner.email, PASSWORD).status_code == 303


# --- password reset ---------------------------------------------------------------------------


def request_reset(client: TestClient, csrf: Callable, email: str, **headers: str):
    token = csrf(client, "/password/forgot")
    return client.post(
        "/password/forgot",
        data={"email": email, "csrf_token": token},
        headers=headers,
        follow_redirects=False,
    )


def test_the_reset_link_is_built_from_base_url_not_the_host_header(
    client: TestClient, owner: User, csrf: Callable, session: Session, settings: Settings
) -> None:
    assert request_reset(client, csrf, owner.email, host="evil.example").status_code == 400
    assert outbox_links(session, owner.email, "/password/reset/") == []
    # Another of the site's names (ALLOWED_HOSTS) is answered, and links still use BASE_URL.
    assert request_reset(client, csrf, owner.email, host="testserver").status_code == 303
    (link,) = outbox_links(session, owner.email, "/password/reset/")
    assert link.startswith(settings.base_url + "/password/reset/")


def test_asking_for_an_unknown_address_sends_nothing_and_says_the_same(
    client: TestClient, owner: User, csrf: Callable, session: Session
) -> None:
    known = request_reset(client, csrf, owner.email)
    unknown = request_reset(client, csrf, "nobody@example.org")
    assert known.status_code == unknown.status_code == 303
    assert known.headers["location"] == unknown.headers["location"]
    assert outbox_links(session, "nobody@example.org", "/password/reset/") == []


def test_reset_mails_are_limited_per_account_and_hour(
    client: TestClient, owner: User, csrf: Callable, session: Session
) -> None:
    for _ in range(5):
        assert request_reset(client, csrf, owner.email).status_code == 303
    assert len(outbox_links(session, owner.email, "/password/reset/")) == 3


def _reset_path(
    client: TestClient, csrf: Callable, session: Session, settings: Settings, email: str
) -> str:
    request_reset(client, csrf, email)
    (link,) = outbox_links(session, email, "/password/reset/")
    return link.removeprefix(settings.base_url)


def test_a_reset_link_works_once_and_signs_out_other_sessions(
    app: FastAPI,
    client: TestClient,
    owner: User,
    csrf: Callable,
    login: Callable,
    session: Session,
    settings: Settings,
) -> None:
    elsewhere = new_client(app, "192.0.2.50")
    login(elsewhere, owner.email)
    assert is_signed_in(elsewhere)
    path = _reset_path(client, csrf, session, settings, owner.email)
    assert client.get(path).status_code == 200
    response = client.post(
        path, data={"password": NEW_PASSWORD, "csrf_token": csrf(client, path)},
        follow_redirects=False,
    )  # fmt: skip
    assert response.status_code == 303 and response.headers["location"] == "/studies"
    assert is_signed_in(client)
    assert not is_signed_in(elsewhere)  # the old session ends with the old password

    again = client.get(path)
    assert again.status_code == 400 and "invalid, expired or already used" in again.text
    reuse = client.post(
        path, data={"password": "yet another passphrase", "csrf_token": csrf(client, "/studies")}
    )
    assert reuse.status_code == 400
    fresh = new_client(app, "192.0.2.51")
    assert attempt_login(fresh, csrf, owner.email, PASSWORD).status_code == 400
    assert attempt_login(fresh, csrf, owner.email, NEW_PASSWORD).status_code == 303


def test_an_expired_or_tampered_reset_link_is_refused(
    client: TestClient,
    owner: User,
    csrf: Callable,
    session: Session,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    path = _reset_path(client, csrf, session, settings, owner.email)
    assert client.get(path[:-2] + ("AA" if not path.endswith("AA") else "BB")).status_code == 400
    real_time = itsdangerous.timed.time.time
    monkeypatch.setattr(
        itsdangerous.timed.time, "time", lambda: real_time() + settings.password_reset_max_age + 5
    )
    expired = client.get(path)
    assert expired.status_code == 400
    response = client.post(path, data={"password": NEW_PASSWORD, "csrf_token": csrf(client, path)})
    assert response.status_code == 400
    monkeypatch.undo()
    assert client.get(path).status_code == 200  # the same link, in time, still works


# --- invitations ------------------------------------------------------------------------------


def invite(client: TestClient, csrf: Callable, email: str, role: str):
    return post_form(client, csrf, "/org/members", "/org/invitations", email=email, role=role)


@pytest.fixture
def owner_client(app: FastAPI, owner: User, login: Callable) -> TestClient:
    signed_in = new_client(app, "192.0.2.10")
    login(signed_in, owner.email)
    return signed_in


@pytest.fixture
def invited(
    owner_client: TestClient, csrf: Callable, session: Session, settings: Settings
) -> Callable[[str, str], str]:
    """``invited(email, role)`` -> the path of the invitation link the owner's invitation
    mailed to ``email``."""

    def invitation_path(email: str, role: str) -> str:
        assert invite(owner_client, csrf, email, role).status_code == 303
        (link,) = outbox_links(session, email.lower(), "/invite/")
        assert link.startswith(settings.base_url + "/invite/")
        return link.removeprefix(settings.base_url)

    return invitation_path


@pytest.fixture
def outsider(
    app: FastAPI, make_member: Callable, login: Callable, session: Session
) -> Callable[[str, str, str], tuple[User, TestClient]]:
    """``outsider(organisation_name, email, ip)`` -> a member of another, new organisation
    and a client signed in as them."""

    def signed_in_outsider(organisation_name: str, email: str, ip: str) -> tuple[User, TestClient]:
        elsewhere = Organisation(name=organisation_name)
        session.add(elsewhere)
        session.commit()
        member = make_member(elsewhere, email=email)
        client = new_client(app, ip)
        login(client, email)
        return member, client

    return signed_in_outsider


def test_an_invitation_link_creates_an_account_with_the_role_once(
    app: FastAPI,
    invited: Callable,
    outsider: Callable,
    owner_client: TestClient,
    organisation: Organisation,
    csrf: Callable,
    session: Session,
    settings: Settings,
) -> None:
    path = invited("Grace@Example.org", "researcher")
    assert settings.base_url + path in owner_client.get("/org/members").text  # shown once to copy

    # Someone signed in elsewhere sees which organisation invites them, not their own.
    _, stranger = outsider("Stranger Lab", "stranger@example.org", "192.0.2.19")
    shown = stranger.get(path).text
    assert organisation.name in shown and "Join Stranger Lab" not in shown

    invitee = new_client(app, "192.0.2.20")
    page = invitee.get(path)
    assert page.status_code == 200 and "grace@example.org" in page.text
    accepted = post_form(invitee, csrf, path, path, name="Grace Hopper", password=PASSWORD)
    assert accepted.status_code == 303
    user = session.exec(select(User).where(User.email == "grace@example.org")).one()
    assert membership_of(session, user, organisation).role == Role.researcher
    assert invitee.get("/api/session/me").json()["role"] == "researcher"

    second = new_client(app, "192.0.2.21")
    assert second.get(path).status_code == 404
    token = csrf(second, "/login")
    reused = second.post(path, data={"name": "X", "password": PASSWORD, "csrf_token": token})
    assert reused.status_code == 404


def test_an_invitation_cannot_be_accepted_by_another_signed_in_account(
    invited: Callable,
    outsider: Callable,
    organisation: Organisation,
    csrf: Callable,
    session: Session,
) -> None:
    path = invited("grace@example.org", "owner")
    intruder, signed_in = outsider("Other Lab", "intruder@example.org", "192.0.2.30")
    refused = post_form(signed_in, csrf, path, path)
    assert refused.status_code == 400
    assert "grace@example.org" in refused.text
    session.expire_all()
    assert (
        session.exec(
            select(Membership).where(
                Membership.user_id == intruder.id, Membership.organisation_id == organisation.id
            )
        ).first()
        is None
    )


def test_an_expired_invitation_is_refused(
    app: FastAPI, invited: Callable, csrf: Callable, session: Session
) -> None:
    path = invited("late@example.org", "researcher")
    invitation = session.exec(select(Invitation)).one()
    invitation.expires_at = utcnow() - timedelta(minutes=1)
    session.add(invitation)
    session.commit()
    invitee = new_client(app, "192.0.2.22")
    assert invitee.get(path).status_code == 404
    token = csrf(invitee, "/login")
    response = invitee.post(path, data={"name": "L", "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 404
    assert session.exec(select(User).where(User.email == "late@example.org")).first() is None


@pytest.mark.parametrize("role", [Role.researcher, Role.client])
def test_only_owners_invite(
    app: FastAPI,
    organisation: Organisation,
    make_member: Callable,
    login: Callable,
    csrf: Callable,
    session: Session,
    role: Role,
) -> None:
    make_member(organisation, email="member@northwind.example", role=role)
    member = new_client(app)
    login(member, "member@northwind.example")
    assert invite(member, csrf, "friend@example.org", "owner").status_code == 403
    assert session.exec(select(Invitation)).first() is None


# --- roles ------------------------------------------------------------------------------------


def set_role(client: TestClient, csrf: Callable, membership: Membership, role: str):
    action = f"/org/members/{membership.id}/role"
    return post_form(client, csrf, "/org/members", action, role=role)


def test_an_owner_changes_roles_but_never_leaves_the_organisation_without_an_owner(
    owner_client: TestClient,
    owner: User,
    organisation: Organisation,
    make_member: Callable,
    csrf: Callable,
    session: Session,
) -> None:
    researcher = make_member(organisation, email="r@northwind.example", role=Role.researcher)
    researcher_membership = membership_of(session, researcher, organisation)
    assert set_role(owner_client, csrf, researcher_membership, "owner").status_code == 303
    assert set_role(owner_client, csrf, researcher_membership, "researcher").status_code == 303
    assert membership_of(session, researcher, organisation).role == Role.researcher

    own = membership_of(session, owner, organisation)
    demote = set_role(owner_client, csrf, own, "researcher")
    assert demote.status_code == 403 and "at least one owner" in demote.text
    remove = post_form(owner_client, csrf, "/org/members", f"/org/members/{own.id}/remove")
    assert remove.status_code == 403
    assert membership_of(session, owner, organisation).role == Role.owner
    assert set_role(owner_client, csrf, researcher_membership, "nonsense").status_code == 400

    # With a second owner, the first may step down.
    assert set_role(owner_client, csrf, researcher_membership, "owner").status_code == 303
    assert set_role(owner_client, csrf, own, "researcher").status_code == 303
    assert membership_of(session, owner, organisation).role == Role.researcher


@pytest.fixture
def company(session: Session, organisation: Organisation) -> Organisation:
    """A client company of the research organisation."""
    created = Organisation(
        name="Contoso Retail",
        kind=OrganisationKind.client,
        managing_organisation_id=organisation.id,
    )
    session.add(created)
    session.commit()
    return created


def test_a_client_member_of_a_research_organisation_represents_one_of_its_companies(
    owner_client: TestClient,
    organisation: Organisation,
    company: Organisation,
    make_member: Callable,
    csrf: Callable,
    session: Session,
) -> None:
    foreign = Organisation(name="Foreign Buyer", kind=OrganisationKind.client)
    session.add(foreign)
    session.commit()
    members_page = owner_client.get("/org/members").text
    assert (
        f'value="client:{company.id}"' in members_page
        and "Client of Contoso Retail" in members_page
    )
    assert f'value="client:{foreign.id}"' not in members_page

    member = make_member(organisation, email="m@northwind.example", role=Role.researcher)
    membership = membership_of(session, member, organisation)
    for refused in ("client", f"client:{foreign.id}", "client:x"):
        response = set_role(owner_client, csrf, membership, refused)
        assert response.status_code == 400, refused
        assert membership_of(session, member, organisation).role == Role.researcher
    assert "Choose the client company" in set_role(owner_client, csrf, membership, "client").text

    assert set_role(owner_client, csrf, membership, f"client:{company.id}").status_code == 303
    changed = membership_of(session, member, organisation)
    assert (changed.role, changed.client_organisation_id) == (Role.client, company.id)
    shown = owner_client.get("/org/members").text
    assert f'<option value="client:{company.id}" selected>Client of Contoso Retail' in shown

    # Back to researcher: no company any more.
    assert set_role(owner_client, csrf, membership, "researcher").status_code == 303
    assert membership_of(session, member, organisation).client_organisation_id is None


def test_a_client_member_without_a_company_sees_nothing_until_an_owner_chooses_one(
    app: FastAPI,
    owner_client: TestClient,
    organisation: Organisation,
    company: Organisation,
    study: Study,
    make_member: Callable,
    login: Callable,
    csrf: Callable,
    session: Session,
) -> None:
    """Client-role members made before companies existed (the migration leaves them without)."""
    study.client_organisation_id = company.id
    session.add(study)
    session.commit()
    make_member(organisation, email="old@northwind.example", role=Role.client)
    old = new_client(app, "192.0.2.24")
    login(old, "old@northwind.example")
    assert old.get("/studies").status_code == 403
    assert old.get(f"/studies/{study.id}").status_code == 403
    membership = session.exec(
        select(Membership).join(User).where(User.email == "old@northwind.example")
    ).one()
    assert f'id="role-{membership.id}"' in owner_client.get("/org/members").text
    set_role(owner_client, csrf, membership, f"client:{company.id}")
    login(old, "old@northwind.example")
    assert [s["id"] for s in old.get("/api/session/studies").json()] == [study.id]


def test_an_invitation_as_a_client_carries_the_company(
    app: FastAPI,
    owner_client: TestClient,
    organisation: Organisation,
    company: Organisation,
    csrf: Callable,
    session: Session,
    settings: Settings,
) -> None:
    refused = invite(owner_client, csrf, "buyer@contoso.example", "client")
    assert refused.status_code == 400 and "Choose the client company" in refused.text
    assert (
        invite(owner_client, csrf, "buyer@contoso.example", f"client:{company.id}").status_code
        == 303
    )
    assert "Client of Contoso Retail" in owner_client.get("/org/members").text
    (link,) = outbox_links(session, "buyer@contoso.example", "/invite/")
    path = link.removeprefix(settings.base_url)
    invitee = new_client(app, "192.0.2.23")
    assert post_form(invitee, csrf, path, path, name="Buyer", password=PASSWORD).status_code == 303
    user = session.exec(select(User).where(User.email == "buyer@contoso.example")).one()
    joined = membership_of(session, user, organisation)
    assert (joined.role, joined.client_organisation_id) == (Role.client, company.id)


def test_an_owner_removes_a_member(
    owner_client: TestClient,
    organisation: Organisation,
    make_member: Callable,
    csrf: Callable,
    session: Session,
) -> None:
    member = make_member(organisation, email="leaver@northwind.example", role=Role.researcher)
    membership_id = membership_of(session, member, organisation).id
    action = f"/org/members/{membership_id}/remove"
    assert post_form(owner_client, csrf, "/org/members", action).status_code == 303
    session.expire_all()
    assert session.exec(select(Membership).where(Membership.id == membership_id)).first() is None


def test_a_researcher_cannot_change_roles(
    app: FastAPI,
    owner: User,
    organisation: Organisation,
    make_member: Callable,
    login: Callable,
    csrf: Callable,
    session: Session,
) -> None:
    researcher = make_member(organisation, email="r@northwind.example", role=Role.researcher)
    client = new_client(app)
    login(client, researcher.email)
    own = membership_of(session, researcher, organisation)
    owners = membership_of(session, owner, organisation)
    assert set_role(client, csrf, own, "owner").status_code == 403
    assert set_role(client, csrf, owners, "client").status_code == 403
    removal = post_form(client, csrf, "/org/members", f"/org/members/{owners.id}/remove")
    assert removal.status_code == 403
    assert membership_of(session, researcher, organisation).role == Role.researcher
    assert membership_of(session, owner, organisation).role == Role.owner


# --- switching organisation -------------------------------------------------------------------


def test_switching_organisation_only_to_ones_own_memberships(
    owner_client: TestClient,
    owner: User,
    organisation: Organisation,
    session: Session,
    csrf: Callable,
) -> None:
    second = Organisation(name="Second Lab")
    foreign = Organisation(name="Foreign Lab")
    session.add_all([second, foreign])
    session.commit()
    session.add(Membership(user_id=owner.id, organisation_id=second.id, role=Role.researcher))
    session.commit()

    def switch(organisation_id: int):
        return post_form(
            owner_client, csrf, "/studies", "/org/switch", organisation_id=str(organisation_id)
        )

    assert owner_client.get("/api/session/me").json()["organisation"]["id"] == organisation.id
    assert switch(second.id).status_code == 303
    me = owner_client.get("/api/session/me").json()
    assert me["organisation"]["id"] == second.id and me["role"] == "researcher"
    assert switch(foreign.id).status_code == 404
    assert owner_client.get("/api/session/me").json()["organisation"]["id"] == second.id


def test_a_client_sees_commissioned_studies_read_only(
    app: FastAPI,
    study: Study,
    client_organisation: Organisation,
    make_member: Callable,
    login: Callable,
    csrf: Callable,
    session: Session,
) -> None:
    make_member(client_organisation, email="buyer@contoso.example", role=Role.client)
    client = new_client(app)
    login(client, "buyer@contoso.example")
    assert [s["name"] for s in client.get("/api/session/studies").json()] == [study.name]
    assert client.get(f"/studies/{study.id}").status_code == 200
    assert client.get("/studies/new").status_code == 403
    assert client.get(f"/studies/{study.id}/edit").status_code == 403
    token = csrf(client, "/studies")
    created = client.post("/studies", data={"name": "Mine", "csrf_token": token})
    assert created.status_code == 403
    changed = client.post(f"/studies/{study.id}", data={"name": "Renamed", "csrf_token": token})
    assert changed.status_code == 403
    session.expire_all()
    assert session.get(Study, study.id).name == study.name
    assert session.exec(select(Study).where(Study.name == "Mine")).first() is None


class RecordingSmtpHandler(socketserver.StreamRequestHandler):
    """Just enough SMTP for smtplib: the messages it receives go to ``server.received``."""

    def reply(self, line: str) -> None:
        self.wfile.write(line.encode() + b"\r\n")

    def handle(self) -> None:
        self.reply("220 test SMTP")
        while line := self.rfile.readline().decode().rstrip("\r\n"):
            command = line[:4].upper()
            if command == "DATA":
                self.reply("354 go ahead")
                lines = []
                while (data := self.rfile.readline().decode()) not in (".\r\n", ""):
                    lines.append(data)
                self.server.received.append(message_from_string("".join(lines)))
                self.reply("250 queued")
            elif command == "QUIT":
                self.reply("221 bye")
                return
            else:
                self.reply("250 ok")


@pytest.fixture
def smtp_server() -> Iterator[socketserver.ThreadingTCPServer]:
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), RecordingSmtpHandler)
    server.received = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_account_mails_are_sent_once_the_answer_is_committed(
    settings: Settings, smtp_server: socketserver.ThreadingTCPServer, csrf: Callable
) -> None:
    port = smtp_server.server_address[1]
    mailing = create_app(settings.model_copy(update={"smtp_url": f"smtp://127.0.0.1:{port}"}))
    try:
        with TestClient(mailing, base_url="https://testserver") as browser:
            assert sign_up(browser, csrf, "ada@example.org").status_code == 200
            request_reset(browser, csrf, "nobody@example.org")  # no account: no mail
    finally:
        mailing.state.engine.dispose()
    (message,) = smtp_server.received
    assert message["To"] == "ada@example.org"
    assert message["Subject"] == "Confirm your e-mail address for LoyaltyLab"
    assert settings.base_url + "/signup/confirm/" in message.get_payload(decode=True).decode()
