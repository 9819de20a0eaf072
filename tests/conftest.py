"""Shared fixtures: a fresh database per test on SQLite and, when configured, PostgreSQL."""

from __future__ import annotations

import os
import re
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from argon2.profiles import CHEAPEST
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session, SQLModel

from loyaltylab import models as _all_tables  # noqa: F401  (registers every table)
from loyaltylab import security
from loyaltylab.accounts.models import Organisation, OrganisationKind, Role, User
from loyaltylab.app import create_app
from loyaltylab.db import make_engine
from loyaltylab.fieldwork import service as fieldwork_service
from loyaltylab.settings import Settings
from loyaltylab.studies.models import Study
from tests.checkout_support import checkout_files
from tests.web_support import create_member, csrf_from, log_in, serve_in_thread

POSTGRES_URL = os.environ.get("LOYALTYLAB_TEST_POSTGRES_URL")
DATABASES = ["sqlite", *(["postgresql"] if POSTGRES_URL else [])]
CROSSCHECKS = Path(__file__).resolve().parent / "crosscheck"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Browser tests and the cross-checks against reference libraries are slow by nature:
    ``make test-fast`` (``-m "not slow"``) leaves them out with the tests marked slow.

    The modules holding slow tests run first: pytest-xdist hands tests out in this order, so a
    test of a minute and more (a browser walking every page, a report job) no longer starts
    when the other worker has nothing left to do and keeps the whole run waiting. A module
    stays together, so its module-scoped fixtures are still made once."""
    for item in items:
        if item.get_closest_marker("browser") or CROSSCHECKS in item.path.parents:
            item.add_marker(pytest.mark.slow)
    slow_modules = {item.path for item in items if item.get_closest_marker("slow")}
    items.sort(key=lambda item: item.path not in slow_modules)


# Schemas are named per run and worker, so concurrent runs on one server never collide.
_RUN_ID = os.environ.get("PYTEST_XDIST_TESTRUNUID", uuid.uuid4().hex)[:10]
_CREATED_SCHEMAS: set[str] = set()


def _worker_schema() -> str:
    worker = re.sub(r"\W", "_", os.environ.get("PYTEST_XDIST_WORKER", "main"))
    return f"test_{_RUN_ID}_{worker}"


# Test databases are thrown away, so their commits need not wait for the server's disk (37 ms
# against 3.5 ms a commit on a busy CI machine): a commit is as atomic and as visible to every
# other connection as before, only a crash of the PostgreSQL server itself could lose the last
# ones. The app's own crash (tests/loyaltylab/respond/test_crash_safety.py) loses nothing.
_ASYNCHRONOUS_COMMIT = "-csynchronous_commit=off"


def _server_url(*options: str) -> str:
    url = make_url(POSTGRES_URL or "")
    if url.drivername == "postgresql":
        url = url.set(drivername="postgresql+psycopg")
    options_value = " ".join([*options, _ASYNCHRONOUS_COMMIT])
    return url.update_query_dict({"options": options_value}).render_as_string(hide_password=False)


def postgres_url(schema: str) -> str:
    """The test server's URL with ``search_path`` pinned to a schema of our own."""
    return _server_url(f"-csearch_path={schema}")


def recreate_schema(schema: str) -> None:
    admin = make_engine(_server_url())
    with admin.begin() as connection:
        connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    admin.dispose()
    _CREATED_SCHEMAS.add(schema)


@pytest.fixture(autouse=True, scope="session")
def _nothing_written_into_the_checkout(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[None]:
    """Tests keep every file they make under pytest's temporary directories: the app's local
    state (``LOYALTYLAB_VAR_DIR``: the job queue, a generated key, a default database) goes to
    a session directory, for this process and the servers and commands it starts; the run
    fails if the checkout has new or changed files once the tests are over."""
    previous_var_dir = os.environ.get("LOYALTYLAB_VAR_DIR")
    os.environ["LOYALTYLAB_VAR_DIR"] = str(tmp_path_factory.mktemp("var"))
    before = checkout_files()
    yield
    if previous_var_dir is None:
        del os.environ["LOYALTYLAB_VAR_DIR"]
    else:
        os.environ["LOYALTYLAB_VAR_DIR"] = previous_var_dir
    after = checkout_files()
    if before is None or after is None:
        return
    written = sorted(name for name, signature in after.items() if before.get(name) != signature)
    if written:
        pytest.fail(
            "the tests wrote into the checkout (use tmp_path or artifacts_dir): "
            + ", ".join(written[:20]),
            pytrace=False,
        )


@pytest.fixture(scope="session")
def artifacts_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where tests keep files worth looking at after the run (screenshots, rendered reports):
    pytest's temporary directory of the session, printed with ``pytest -v`` failures."""
    return tmp_path_factory.mktemp("test-artifacts", numbered=False)


@pytest.fixture(autouse=True, scope="session")
def _drop_test_schemas() -> Iterator[None]:
    yield
    if POSTGRES_URL and _CREATED_SCHEMAS:
        admin = make_engine(_server_url())
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
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file with every table, made once per worker: a test's database is a copy of it
    (a copy takes a millisecond, creating the tables a few hundred on a busy machine)."""
    path = tmp_path_factory.mktemp("template") / "every-table.db"
    engine = make_engine(f"sqlite:///{path}")
    SQLModel.metadata.create_all(engine)
    engine.dispose()
    # The last connection closed checkpoints the write-ahead log into the file: nothing of the
    # schema may be left behind in a -wal file the copies would not get.
    if path.with_name(path.name + "-wal").exists():
        raise RuntimeError(f"{path} still has a write-ahead log after its engine was disposed")
    return path


@pytest.fixture(scope="session")
def _postgres_engine() -> Iterator[tuple[Engine, str] | None]:
    """The worker's schema with every table, and the statements that empty it again."""
    if not POSTGRES_URL:
        yield None
        return
    schema = _worker_schema()
    recreate_schema(schema)
    engine = make_engine(postgres_url(schema))
    SQLModel.metadata.create_all(engine)
    with engine.connect() as connection:
        sequences = connection.execute(
            text(
                "SELECT sequence_name FROM information_schema.sequences"
                " WHERE sequence_schema = :schema"
            ),
            {"schema": schema},
        ).scalars()
        restarts = ", ".join(f"setval('\"{name}\"', 1, false)" for name in sequences)
    # DELETE, children first, and the ids restarted: the same empty tables as TRUNCATE ...
    # RESTART IDENTITY gave, in milliseconds instead of most of a second (TRUNCATE makes new
    # files for every table and index, whether or not the test wrote to them).
    deletes = "; ".join(
        f'DELETE FROM "{table.name}"' for table in reversed(SQLModel.metadata.sorted_tables)
    )
    yield engine, f"{deletes}; SELECT {restarts}"
    engine.dispose()


@pytest.fixture(params=DATABASES)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A URL to an empty database with every table, for one test."""
    # Ids start again in every test database: no parsed definition may outlive its database.
    fieldwork_service.definition_cache.clear()
    if request.param == "sqlite":
        path = tmp_path / "test.db"
        shutil.copyfile(request.getfixturevalue("_sqlite_template"), path)
        yield f"sqlite:///{path}"
        return
    engine, empty_every_table = request.getfixturevalue("_postgres_engine")
    with engine.begin() as connection:
        connection.exec_driver_sql(empty_every_table)
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


@pytest.fixture(scope="session")
def screenshot():
    """``screenshot(page, "designer-01-start")``: a full-page PNG for a person to look at.

    Saved only when ``LOYALTYLAB_SCREENSHOTS`` names a folder: a screenshot asserts nothing, and
    on a busy machine Chromium can fail to capture one, which must not fail the suite.
    """
    folder = os.environ.get("LOYALTYLAB_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)

    def save(page, name: str) -> None:
        if folder:
            page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)

    return save
