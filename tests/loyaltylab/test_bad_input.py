"""Bad input never becomes a 500: ids beyond the database's integers, NUL characters, numbers
no code can convert, and the one handler for whatever error is left (branded page, security
headers, request id, log)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from loyaltylab.accounts.models import User
from loyaltylab.guards import whole_number
from loyaltylab.middleware import SECURITY_HEADERS
from loyaltylab.security import CSRF_HEADER
from loyaltylab.studies.models import Study
from tests.loyaltylab.test_tenancy import ENDPOINTS, Endpoint

# Values for the path parameters that are not ids, so that the id is what the route looks up.
TEXT_PATH_VALUES = {"kind": "pdf", "code": "sat", "token": "not-a-token", "key": "not-a-key"}
# Beyond PostgreSQL's INTEGER (the id columns), SQLite's INTEGER, and any.
BEYOND_DATABASE_INTEGERS = (2**31, 2**63, 10**30, -(2**63) - 1)


def integer_path_params(endpoint: Endpoint) -> list[str]:
    """The route's path parameters that it (or a dependency of it) parses as ``int``."""
    names: set[str] = set()
    pending = [getattr(endpoint.route, "dependant", None)]
    while pending:
        dependant = pending.pop()
        if dependant is None:
            continue
        names.update(p.name for p in dependant.path_params if p.field_info.annotation is int)
        pending.extend(dependant.dependencies)
    return sorted(names)


ID_ENDPOINTS = [endpoint for endpoint in ENDPOINTS if integer_path_params(endpoint)]


def test_the_integer_path_parameters_are_found() -> None:
    labels = {endpoint.label for endpoint in ID_ENDPOINTS}
    assert {"GET /studies/{study_id}", "POST /org/members/{membership_id}/role"} <= labels
    assert "GET /reports/{report_id}/files/{kind}" in labels
    assert len(ID_ENDPOINTS) > 50


@pytest.fixture
def owner_client(client: TestClient, owner: User, study: Study, login: Callable) -> TestClient:
    login(client, owner.email)
    client.headers[CSRF_HEADER] = _session_csrf(client)
    return client


def _session_csrf(client: TestClient) -> str:
    from tests.conftest import csrf_from

    return csrf_from(client, "/account")


@pytest.mark.parametrize(
    "number", BEYOND_DATABASE_INTEGERS, ids=["2**31", "2**63", "10**30", "-2**63-1"]
)
def test_ids_beyond_the_database_integers_answer_404_on_every_route(
    owner_client: TestClient, number: int
) -> None:
    failures = []
    for endpoint in ID_ENDPOINTS:
        values = {
            name: str(number) if name in integer_path_params(endpoint) else TEXT_PATH_VALUES[name]
            for name in endpoint.path_params
        }
        response = owner_client.request(
            endpoint.method, endpoint.path.format(**values), follow_redirects=False
        )
        if response.status_code != 404:
            failures.append(f"{endpoint.label}: {response.status_code}")
    assert not failures, failures


def test_a_query_id_beyond_the_database_integers_answers_404(
    owner_client: TestClient, study: Study
) -> None:
    response = owner_client.get(f"/studies/{study.id}/exports/data.csv?wave={2**63}")
    assert response.status_code == 404


def test_nul_in_a_form_field_is_refused_with_a_message_in_the_users_language(
    owner_client: TestClient, study: Study
) -> None:
    response = owner_client.post(
        f"/studies/{study.id}",
        data={"name": "Loyalty\x002026", "company_name": "Contoso"},
        follow_redirects=False,
    )
    assert response.status_code == 400
    assert "NUL character" in response.text
    chinese = owner_client.post(
        f"/studies/{study.id}",
        data={"name": "Loyalty\x002026"},
        headers={"accept-language": "zh-CN"},
        follow_redirects=False,
    )
    assert chinese.status_code == 400
    assert "NUL" in chinese.text and "不允许" in chinese.text


def test_nul_in_the_query_or_path_is_refused(owner_client: TestClient) -> None:
    assert owner_client.get("/studies?q=a%00b").status_code == 400
    assert owner_client.get("/studies/1%00").status_code == 404


# --- the one handler for errors nobody caught ---------------------------------------------------


@pytest.fixture
def failing_app(app: FastAPI) -> FastAPI:
    """The app with two routes that fail the way a bug does."""

    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError("a bug")

    @app.get("/api/boom")
    def api_boom() -> None:
        raise RuntimeError("a bug")

    return app


def _assert_headers_of_a_normal_response(response: Any) -> None:
    for name, value in SECURITY_HEADERS.items():
        assert response.headers[name] == value
    assert response.headers["x-request-id"]


@pytest.mark.parametrize(("language", "words"), [("en", "went wrong"), ("zh-CN", "出错")])
def test_an_uncaught_error_is_the_branded_500_page_with_headers_and_a_logged_traceback(
    failing_app: FastAPI, caplog: pytest.LogCaptureFixture, language: str, words: str
) -> None:
    client = TestClient(failing_app, base_url="https://testserver")
    with caplog.at_level(logging.ERROR, logger="loyaltylab.errors"):
        response = client.get(
            "/boom", headers={"accept-language": language, "x-request-id": "req-123"}
        )
    assert response.status_code == 500
    assert response.headers["content-type"].startswith("text/html")
    assert words in response.text and "req-123" in response.text
    assert "<html" in response.text and "RuntimeError" not in response.text
    _assert_headers_of_a_normal_response(response)
    assert response.headers["x-request-id"] == "req-123"
    (record,) = [r for r in caplog.records if r.name == "loyaltylab.errors"]
    assert "request_id=req-123" in record.getMessage()
    assert record.exc_info and record.exc_info[0] is RuntimeError


def test_an_uncaught_error_under_api_answers_json(failing_app: FastAPI) -> None:
    client = TestClient(failing_app, base_url="https://testserver")
    response = client.get("/api/boom")
    assert response.status_code == 500
    assert "went wrong" in response.json()["detail"]
    _assert_headers_of_a_normal_response(response)


def test_4xx_error_pages_carry_the_security_headers_and_request_id(
    owner_client: TestClient, app: FastAPI, study: Study
) -> None:
    client = owner_client
    not_found = client.get("/no-such-page")
    assert not_found.status_code == 404
    not_allowed = client.put("/login")
    assert not_allowed.status_code == 405
    invalid = client.get(f"/studies/{study.id}/exports/data.csv?wave=x")
    assert invalid.status_code == 400
    limit = app.state.settings.max_body_bytes
    too_large = client.post(
        "/login", content=b"x" * (limit + 1), headers={"content-type": "text/plain"}
    )
    assert too_large.status_code == 413
    for response in (not_found, not_allowed, invalid, too_large):
        _assert_headers_of_a_normal_response(response)


@pytest.mark.parametrize("months", ["9" * 5000, " +" + "1_2" * 3000, "²"])
def test_numbers_no_code_can_convert_are_refused_with_a_message(
    owner_client: TestClient, study: Study, months: str
) -> None:
    response = owner_client.post(
        f"/studies/{study.id}/privacy",
        data={"retention_months": months},
        follow_redirects=False,
    )
    assert response.status_code == 400
    assert "digits" in response.text or "whole number of months" in response.text


def test_long_numbers_in_text_parameters_are_just_text(owner_client: TestClient, wave: Any) -> None:
    """Only parameters read as ids are checked: a phone number is searched for, not a 404."""
    response = owner_client.get(f"/waves/{wave.id}/phone", params={"q": "13800138000"})
    assert response.status_code == 200


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("42", 42),
        (" 007 ", 7),
        ("0", 0),
        (str(2**31 - 1), 2**31 - 1),
        (str(2**31), None),
        ("9" * 5000, None),
        ("²", None),
        ("٣", None),
        ("-1", None),
        ("1_000", None),
        ("", None),
    ],
)
def test_whole_number_reads_only_ascii_digits_within_the_id_range(
    text: str, expected: int | None
) -> None:
    assert whole_number(text) == expected


def test_whole_number_has_a_maximum() -> None:
    assert whole_number("120", maximum=120) == 120
    assert whole_number("121", maximum=120) is None
