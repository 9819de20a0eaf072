"""One family of domain errors, mapped to a response by one handler: a page for the browser,
JSON under /api, in the reader's language, never a 500."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from loyaltylab.errors import Conflict, DomainError, InvalidInput, InvalidQuestionnaire, NotFound
from loyaltylab.fieldwork.service.errors import FieldworkError, WaveNotOpen
from surveys.problems import Problem


def test_every_domain_error_belongs_to_the_one_family() -> None:
    assert issubclass(FieldworkError, Conflict) and issubclass(Conflict, DomainError)
    assert issubclass(InvalidQuestionnaire, InvalidInput)
    refused = InvalidQuestionnaire([Problem("sections.empty")])
    assert "no section" in str(refused) and refused.status_code == 400
    assert str(WaveNotOpen()) == "closed" and WaveNotOpen().reason == "closed"


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
