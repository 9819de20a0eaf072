"""Operations: request ids, the access log, body size limit, health and readiness checks."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi import APIRouter, FastAPI
from fastapi.testclient import TestClient

from loyaltylab.accounts.models import User
from loyaltylab.app import create_app
from loyaltylab.settings import Settings
from loyaltylab.studies.models import Study

ACCESS_LINE = re.compile(
    r"^(?P<method>[A-Z]+) (?P<path>\S+) (?P<status>\d{3}) (?P<ms>\d+\.\d)ms request_id=(?P<id>\S+)$"
)


def test_a_request_id_is_sent_back(client: TestClient) -> None:
    generated = client.get("/healthz").headers["x-request-id"]
    assert re.fullmatch(r"[0-9a-f]{16}", generated)
    assert client.get("/healthz").headers["x-request-id"] != generated
    echoed = client.get("/healthz", headers={"X-Request-ID": "abc-123"})
    assert echoed.headers["x-request-id"] == "abc-123"
    hostile = client.get("/healthz", headers={"X-Request-ID": "evil\r\nid with spaces"})
    assert re.fullmatch(r"[0-9a-f]{16}", hostile.headers["x-request-id"])


def access_lines(caplog: pytest.LogCaptureFixture) -> list[re.Match[str]]:
    lines = [r.getMessage() for r in caplog.records if r.name == "loyaltylab.access"]
    matches = [ACCESS_LINE.match(line) for line in lines]
    assert all(matches), lines
    return matches  # type: ignore[return-value]


def test_one_access_log_line_per_request_with_the_path_template(
    client: TestClient,
    owner: User,
    study: Study,
    login: Callable,
    caplog: pytest.LogCaptureFixture,
) -> None:
    login(client, owner.email)
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="loyaltylab.access"):
        response = client.get(f"/studies/{study.id}", headers={"X-Request-ID": "req-1"})
        client.get("/studies/999999")
    first, missing = access_lines(caplog)
    assert response.status_code == 200
    assert first["method"] == "GET" and first["path"] == "/studies/{study_id}"
    assert first["status"] == "200" and first["id"] == "req-1"
    assert float(first["ms"]) >= 0
    assert missing["path"] == "/studies/{study_id}" and missing["status"] == "404"


def test_the_access_log_shows_the_full_template_of_prefixed_routers(
    app: FastAPI, client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    inner = APIRouter(prefix="/waves")

    @inner.get("/{wave_id}")
    def wave(wave_id: int) -> dict[str, int]:
        return {"id": wave_id}

    outer = APIRouter()
    outer.include_router(inner, prefix="/studies/{study_id}")
    app.include_router(outer, prefix="/probe")
    with caplog.at_level(logging.INFO, logger="loyaltylab.access"):
        assert client.get("/probe/studies/3/waves/5").json() == {"id": 5}
        client.get("/no/such/route")
    (line, unmatched) = access_lines(caplog)
    assert line["path"] == "/probe/studies/{study_id}/waves/{wave_id}"
    assert unmatched["path"] == "/no/such/route" and unmatched["status"] == "404"


@pytest.fixture
def small_limit_client(settings: Settings) -> Iterator[TestClient]:
    app = create_app(settings.model_copy(update={"max_body_bytes": 1000}))
    with TestClient(app, base_url="https://testserver") as client:
        yield client
    app.state.engine.dispose()


def test_a_body_over_the_limit_is_refused_with_413(small_limit_client: TestClient) -> None:
    declared = small_limit_client.post("/login", content=b"x" * 1001)
    assert declared.status_code == 413

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted while it is read
        for _ in range(5):
            yield b"email=" + b"x" * 400

    streamed = small_limit_client.post(
        "/login", content=chunks(), headers={"content-type": "application/x-www-form-urlencoded"}
    )
    assert streamed.status_code == 413
    assert small_limit_client.post("/login", content=b"x" * 10).status_code == 403  # CSRF


def test_health_and_readiness(client: TestClient) -> None:
    assert client.get("/healthz").status_code == 200
    assert client.get("/readyz").status_code == 200


def test_readiness_fails_when_the_database_is_unreachable(tmp_path: Path) -> None:
    # A directory where the database file should be: SQLite cannot open it.
    settings = Settings(
        env="test", database_url=f"sqlite:///{tmp_path}", secret_key="k" * 40, base_url="https://x"
    )
    app = create_app(settings)
    try:
        with TestClient(app, base_url="https://testserver") as client:
            assert client.get("/healthz").status_code == 200
            response = client.get("/readyz")
    finally:
        app.state.engine.dispose()
    assert response.status_code == 503
    assert str(tmp_path) not in response.text  # no internals in the answer


def test_the_app_runs_statistics_on_one_blas_thread(app: FastAPI) -> None:
    from threadpoolctl import threadpool_info

    blas = [pool for pool in threadpool_info() if pool["user_api"] == "blas"]
    assert blas and all(pool["num_threads"] == 1 for pool in blas)
