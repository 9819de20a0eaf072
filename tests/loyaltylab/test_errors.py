"""One family of domain errors, mapped to a response by one handler: a page for the browser,
JSON under /api, in the reader's language, never a 500."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from starlette.routing import Mount

from loyaltylab.api.routes import API_PREFIX
from loyaltylab.api.service import KeyRefused
from loyaltylab.errors import (
    Conflict,
    DomainError,
    InvalidInput,
    InvalidQuestionnaire,
    LoginRequired,
    NotFound,
)
from loyaltylab.fieldwork.contacts_import import ContactFileRejected, EncodingUnsure
from loyaltylab.fieldwork.service.errors import FieldworkError, QuotaFull, WaveNotOpen
from surveys.problems import Problem


def test_every_domain_error_belongs_to_the_one_family() -> None:
    assert issubclass(FieldworkError, Conflict) and issubclass(Conflict, DomainError)
    assert issubclass(InvalidQuestionnaire, InvalidInput)
    refused = InvalidQuestionnaire([Problem("sections.empty")])
    assert "no section" in str(refused) and refused.status_code == 400
    assert str(WaveNotOpen()) == "closed" and WaveNotOpen().reason == "closed"
    assert issubclass(EncodingUnsure, ContactFileRejected)
    assert issubclass(ContactFileRejected, InvalidInput) and issubclass(KeyRefused, LoginRequired)
    refused_file = ContactFileRejected("too_many_rows", max_rows=10)
    assert str(refused_file) == "too_many_rows" and refused_file.text() == (
        "The file has more than 10 rows."
    )


def _domain_handlers(application: FastAPI) -> list[type]:
    return [
        kind
        for kind in application.exception_handlers
        if isinstance(kind, type) and issubclass(kind, DomainError)
    ]


def test_each_app_has_one_handler_for_the_family_and_none_for_a_subclass(app: FastAPI) -> None:
    api = next(
        route.app for route in app.routes if isinstance(route, Mount) and route.path == API_PREFIX
    )
    assert isinstance(api, FastAPI)
    assert _domain_handlers(app) == [DomainError]
    assert _domain_handlers(api) == [DomainError]
    assert app.exception_handlers[DomainError] is not api.exception_handlers[DomainError]

    # The API renders the same family its own way: a fieldwork rule is a 409 problem.
    def fail() -> None:
        raise QuotaFull()

    api.add_api_route("/test-only/refused", fail)
    client = TestClient(app, base_url="https://testserver", raise_server_exceptions=False)
    refused = client.get(f"{API_PREFIX}/test-only/refused", headers={"Accept-Language": "en"})
    assert refused.status_code == 409
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert refused.json()["detail"] == "This action is not allowed here."


@pytest.mark.parametrize(
    ("error", "status", "english", "chinese"),
    [
        (
            Conflict("This action is not allowed here."),
            409,
            "This action is not allowed here.",
            "此处不允许执行该操作",
        ),
        (NotFound("Not found."), 404, "Not found.", "未找到"),
        # A fieldwork rule off the respondent links: the general page, not a respondent's.
        (QuotaFull(), 409, "This action is not allowed here.", "此处不允许执行该操作"),
    ],
)
def test_an_error_no_route_catches_is_a_page_or_json_in_the_readers_language(
    app: FastAPI, error: DomainError, status: int, english: str, chinese: str
) -> None:
    def fail() -> None:
        raise error

    app.add_api_route("/test-only/refused", fail)
    app.add_api_route("/api/test-only/refused", fail)
    client = TestClient(app, base_url="https://testserver", raise_server_exceptions=False)
    page = client.get("/test-only/refused", headers={"Accept-Language": "en"})
    assert page.status_code == status and english in page.text
    assert page.headers["content-type"].startswith("text/html")
    api = client.get("/api/test-only/refused", headers={"Accept-Language": "zh-CN"})
    assert api.status_code == status and chinese in api.json()["detail"]


def test_a_fieldwork_rule_on_a_respondent_link_is_the_respondents_status_page(
    app: FastAPI,
) -> None:
    def fail() -> None:
        raise QuotaFull()

    app.add_api_route("/s/test-only/refused", fail)
    client = TestClient(app, base_url="https://testserver", raise_server_exceptions=False)
    page = client.get("/s/test-only/refused", headers={"Accept-Language": "zh-CN"})
    assert page.status_code == 410 and "名额已满" in page.text
    assert "此处不允许执行该操作" not in page.text
