"""Shared fixtures: a fresh database per test on SQLite and, when configured, PostgreSQL."""

from __future__ import annotations

import os
import re
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from argon2 import PasswordHasher
from argon2.profiles import CHEAPEST
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session, SQLModel

from loyaltylab import models as _all_tables  # noqa: F401  (registers every table)
from loyaltylab import security
from loyaltylab.accounts.models import Membership, Organisation, OrganisationKind, Role, User
from loyaltylab.app import SERVER_OPTIONS, create_app
from loyaltylab.db import make_engine
from loyaltylab.fieldwork import service as fieldwork_service
from loyaltylab.security import hash_password
from loyaltylab.settings import Settings
from loyaltylab.studies.models import Study

POSTGRES_URL = os.environ.get("LOYALTYLAB_TEST_POSTGRES_URL")
DATABASES = ["sqlite", *(["postgresql"] if POSTGRES_URL else [])]
TEST_PASSWORD = "correct horse battery staple"
ARTIFACTS = Path(__file__).resolve().parents[1] / "var" / "test-artifacts"


# Schemas are named per run and worker, so concurrent runs on one server never collide.
_RUN_ID = os.environ.get("PYTEST_XDIST_TESTRUNUID", uuid.uuid4().hex)[:10]
_CREATED_SCHEMAS: set[str] = set()


def _worker_schema() -> str:
    worker = re.sub(r"\W", "_", os.environ.get("PYTEST_XDIST_WORKER", "main"))
    return f"test_{_RUN_ID}_{worker}"


def postgres_url(schema: str) -> str:
    """The test server's URL with ``search_path`` pinned to a schema of our own."""
    url = make_url(POSTGRES_URL or "")
    if url.drivername == "postgresql":
        url = url.set(drivername="postgresql+psycopg")
    return url.update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(
        hide_password=False
    )


def recreate_schema(schema: str) -> None:
    admin = make_engine(POSTGRES_URL or "")
    with admin.begin() as connection:
        connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    admin.dispose()
    _CREATED_SCHEMAS.add(schema)


@pytest.fixture(autouse=True, scope="session")
def _drop_test_schemas() -> Iterator[None]:
    yield
    if POSTGRES_URL and _CREATED_SCHEMAS:
        admin = make_engine(POSTGRES_URL)
        with admin.begin() as connection:
            for schema in _CREATED_SCHEMAS:
                connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(autouse=True, scope="session")
def _cheap_password_hashing() -> Iterator[None]:
    """Real argon2 with its cheapest parameters: ~0.2 s per hash would dominate the suite."""
    production_hasher = security._hasher
    security._hasher = PasswordHasher.from_parameters(CHEAPEST)
    yield
    security._hasher = production_hasher


@pytest.fixture(scope="session")
def _postgres_engine() -> Iterator[Engine | None]:
    if not POSTGRES_URL:
        yield None
        return
    schema = _worker_schema()
    recreate_schema(schema)
    engine = make_engine(postgres_url(schema))
    SQLModel.metadata.create_all(engine)
    yield engine
    engine.dispose()


@pytest.fixture(params=DATABASES)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A URL to an empty database with every table, for one test."""
    # Ids start again in every test database: no parsed definition may outlive its database.
    fieldwork_service.definition_cache.clear()
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'test.db'}"
        engine = make_engine(url)
        SQLModel.metadata.create_all(engine)
        engine.dispose()
        yield url
        return
    engine: Engine = request.getfixturevalue("_postgres_engine")
    tables = ", ".join(f'"{t.name}"' for t in SQLModel.metadata.sorted_tables)
    with engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    yield postgres_url(_worker_schema())


@pytest.fixture(params=DATABASES)
def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A URL to a database with no tables at all (for migrations and the CLI)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'empty.db'}"
    schema = f"empty_{_worker_schema()}"
    recreate_schema(schema)
    return postgres_url(schema)


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        env="test",
        database_url=database_url,
        secret_key="test-secret-key-" + "x" * 40,
        base_url="https://loyaltylab.example",
        # TestClient's host, and live servers' for browser tests: named, never "any host".
        allowed_hosts=["testserver", "127.0.0.1"],
    )


@pytest.fixture
def app(settings: Settings) -> Iterator[FastAPI]:
    application = create_app(settings)
    yield application
    application.state.engine.dispose()


@pytest.fixture
def engine(app: FastAPI) -> Engine:
    return app.state.engine


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    with Session(engine, expire_on_commit=False) as db_session:
        yield db_session


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, base_url="https://testserver") as test_client:
        yield test_client


def create_member(
    session: Session,
    organisation: Organisation,
    *,
    email: str,
    role: Role = Role.owner,
    password: str = TEST_PASSWORD,
) -> User:
    user = User(email=email, name=email.split("@")[0], password_hash=hash_password(password))
    session.add(user)
    session.flush()
    session.add(Membership(user_id=user.id, organisation_id=organisation.id, role=role))
    session.commit()
    return user


@pytest.fixture
def organisation(session: Session) -> Organisation:
    org = Organisation(name="Northwind Research", kind=OrganisationKind.research)
    session.add(org)
    session.commit()
    return org


@pytest.fixture
def client_organisation(session: Session) -> Organisation:
    org = Organisation(name="Contoso Retail", kind=OrganisationKind.client)
    session.add(org)
    session.commit()
    return org


@pytest.fixture
def owner(session: Session, organisation: Organisation) -> User:
    return create_member(session, organisation, email="owner@northwind.example")


@pytest.fixture
def study(session: Session, organisation: Organisation, client_organisation: Organisation) -> Study:
    item = Study(
        organisation_id=organisation.id,
        client_organisation_id=client_organisation.id,
        name="Customer loyalty 2026",
        company_name="Contoso",
    )
    session.add(item)
    session.commit()
    return item


CSRF_PATTERN = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_from(client: TestClient, path: str) -> str:
    """The CSRF token of the form on a page, as a browser would read it."""
    response = client.get(path)
    match = CSRF_PATTERN.search(response.text)
    if not match:
        raise LookupError(f"no CSRF field on {path} (status {response.status_code})")
    return match.group(1)


def log_in(client: TestClient, email: str, password: str = TEST_PASSWORD) -> None:
    token = csrf_from(client, "/login")
    response = client.post(
        "/login",
        data={"email": email, "password": password, "csrf_token": token},
        follow_redirects=False,
    )
    if response.status_code != 303:
        raise RuntimeError(f"log-in as {email} failed: {response.status_code}")


@pytest.fixture
def make_member(session: Session):
    """Factory: ``make_member(organisation, email=..., role=...)`` -> a committed User."""

    def make(organisation: Organisation, *, email: str, role: Role = Role.owner) -> User:
        return create_member(session, organisation, email=email, role=role)

    return make


@pytest.fixture
def login():
    """``login(client, email)`` signs a test client in through the real login form."""
    return log_in


@pytest.fixture
def csrf():
    """``csrf(client, path)`` reads the CSRF token from the form on a page."""
    return csrf_from


CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PHONE = {"width": 390, "height": 844}


def serve_in_thread(application: FastAPI) -> Iterator[str]:
    """Serve an app with uvicorn on a free localhost port; yields its base URL."""
    server = uvicorn.Server(
        uvicorn.Config(application, host="127.0.0.1", port=0, log_level="warning", **SERVER_OPTIONS)
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=5)


@pytest.fixture
def live_url(app: FastAPI) -> Iterator[str]:
    """The test's app (and database) served for real, for browser tests."""
    yield from serve_in_thread(app)


@pytest.fixture(scope="session")
def chromium():
    """Debian's headless Chromium driven by Playwright (never a downloaded browser)."""
    if not CHROMIUM.exists():
        pytest.skip(f"no Chromium at {CHROMIUM}")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def screenshot():
    """``screenshot(page, "designer-01-start")`` saves a full-page PNG under var/test-artifacts."""

    def save(page, name: str) -> None:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)

    return save
