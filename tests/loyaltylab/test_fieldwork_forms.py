"""The researcher's fieldwork forms as a browser submits them: with the fields, and the CSRF
token, of the form itself (not the top bar's), read from the page.

``page_forms`` and ``submit`` are shared with the other tests of wave forms.
"""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from loyaltylab.fieldwork import service as fieldwork
from loyaltylab.fieldwork.models import Channel, Wave
from loyaltylab.questionnaires.models import QuestionnaireVersion
from loyaltylab.respond import service as respondent
from loyaltylab.studies.models import Study

TOP_BAR_FORMS = ("/logout", "/language")


class _Forms(HTMLParser):
    """The POST forms of a page: action -> {field: value} as the browser would submit them."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: dict[str, dict[str, str]] = {}
        self._form: dict[str, str] | None = None
        self._textarea: str | None = None
        self._select: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {name: value or "" for name, value in attrs}
        if tag == "form" and a.get("method") == "post":
            self._form = self.forms.setdefault(a.get("action", ""), {})
        elif self._form is None:
            return
        elif tag == "input" and "name" in a and a.get("type") not in ("checkbox", "radio"):
            self._form[a["name"]] = a.get("value", "")
        elif tag == "textarea":
            self._textarea = a["name"]
            self._form[a["name"]] = ""
        elif tag == "select":
            self._select = a["name"]
        elif (
            tag == "option" and self._select and ("selected" in a or self._select not in self._form)
        ):
            self._form[self._select] = a.get("value", "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._form = None
        elif tag == "textarea":
            self._textarea = None
        elif tag == "select":
            self._select = None

    def handle_data(self, data: str) -> None:
        if self._form is not None and self._textarea:
            self._form[self._textarea] += data.removeprefix("\n")


def page_forms(html: str) -> dict[str, dict[str, str]]:
    parser = _Forms()
    parser.feed(html)
    return parser.forms


def submit(client: TestClient, page: str, action: str, /, **changes: str) -> Any:
    """Open ``page``, fill its form posting to ``action`` with ``changes``, send it."""
    forms = page_forms(client.get(page).text)
    assert action in forms, f"no form posting to {action} on {page}: {list(forms)}"
    return client.post(action, data={**forms[action], **changes}, follow_redirects=False)


def test_every_fieldwork_form_carries_its_own_csrf_token(
    researcher: TestClient, study: Study, wave: Wave, session: Session
) -> None:
    claim = respondent.claim_submission(session, "forms-test", organisation_id=wave.organisation_id)
    response = respondent.start_response(
        session, wave, channel=Channel.phone, language="en", claim=claim
    )
    session.commit()
    pages = [
        "/studies/new",
        f"/studies/{study.id}/edit",
        f"/studies/{study.id}/waves",
        f"/studies/{study.id}/contacts",
        f"/waves/{wave.id}",
        f"/waves/{wave.id}/responses",
        f"/waves/{wave.id}/responses/{response.id}",
        f"/waves/{wave.id}/emails",
        f"/waves/{wave.id}/phone",
        f"/waves/{wave.id}/edit",
    ]
    for page in pages:
        forms = page_forms(researcher.get(page).text)
        own = {action: f for action, f in forms.items() if action not in TOP_BAR_FORMS}
        assert own, f"{page} has no form of its own"
        for action, fields in own.items():
            assert fields.get("csrf_token"), f"{page}: the form posting to {action} has no token"
    assert f"/waves/{wave.id}/responses/exclusion" in page_forms(
        researcher.get(f"/waves/{wave.id}/responses").text
    )


def test_a_wave_is_created_and_opened_through_its_own_forms(
    researcher: TestClient, study: Study, version: QuestionnaireVersion, session: Session
) -> None:
    fieldwork.add_contacts(
        session,
        study_id=study.id,
        organisation_id=study.organisation_id,
        rows=[{"external_id": "C1", "attributes": {"tier": "gold"}}],
    )
    session.commit()
    page = f"/studies/{study.id}/waves"
    created = submit(
        researcher, page, page, name="2026-Q4", quota_attribute="tier", quotas="gold: 5"
    )
    assert created.status_code == 303
    wave = session.exec(select(Wave)).one()
    assert (wave.name, wave.questionnaire_version_id, wave.quotas) == (
        "2026-Q4",
        version.id,
        {"gold": 5},
    )
    detail = f"/waves/{wave.id}"
    opened = submit(researcher, detail, f"/waves/{wave.id}/status", action="open")
    assert opened.status_code == 303
    session.refresh(wave)
    assert wave.status == "open"
