"""The wave's A4 QR poster: the questionnaire's languages, the public link, audited, team only."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from loyaltylab.accounts.models import Organisation, Role
from loyaltylab.audit.models import AuditEvent
from loyaltylab.studies.models import Study
from tests.loyaltylab.fieldwork_support import FIELDWORK_QUESTIONNAIRE, open_wave

A4_POINTS = "595.276 x 841.89 pts (A4)"


def pdf_text(pdf: bytes, tmp_path: Path) -> str:
    path = tmp_path / "poster.pdf"
    path.write_bytes(pdf)
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True)
    assert "Pages:           1" in info.stdout and A4_POINTS in info.stdout
    return subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout


def test_the_poster_is_in_the_questionnaires_languages_with_the_public_link(
    researcher: TestClient, session: Session, study: Study, tmp_path: Path
) -> None:
    wave = open_wave(session, study, FIELDWORK_QUESTIONNAIRE, "2026-Q4")
    page = researcher.get(f"/waves/{wave.id}").text
    assert f'href="/waves/{wave.id}/poster.pdf"' in page
    # The researcher reads the app in English; the poster speaks the respondents' languages.
    response = researcher.get(f"/waves/{wave.id}/poster.pdf")
    assert response.status_code == 200 and response.headers["content-type"] == "application/pdf"
    assert response.headers["content-disposition"].startswith("attachment")
    text = pdf_text(response.content, tmp_path)
    assert "Contoso 顾客调查" in text and "Contoso customer survey" in text
    assert "用手机相机扫描二维码" in text and "Scan the code" in text
    assert f"https://loyaltylab.example/s/{wave.public_slug}" in text
    assert "Northwind Research" in text
    # The main language (zh-CN, first in the questionnaire) comes first.
    assert text.index("Contoso 顾客调查") < text.index("Contoso customer survey")
    [event] = session.exec(select(AuditEvent).where(AuditEvent.action == "wave.poster")).all()
    assert event.object_id == str(wave.id)


def test_an_english_only_questionnaire_gets_an_english_poster(
    researcher: TestClient, session: Session, study: Study, tmp_path: Path
) -> None:
    english = {
        "title": {"en": "Contoso customer survey"},
        "languages": ["en"],
        "sections": [
            {
                "code": "s",
                "title": {"en": "Loyalty"},
                "items": [{"type": "long_text", "code": "why", "label": {"en": "Tell us more"}}],
            }
        ],
    }
    wave = open_wave(session, study, english, "2026-Q4")
    text = pdf_text(researcher.get(f"/waves/{wave.id}/poster.pdf").content, tmp_path)
    assert "Contoso customer survey" in text and "Scan the code" in text
    assert "扫描" not in text


def test_the_commissioning_client_and_other_organisations_get_no_poster(
    session: Session,
    study: Study,
    client: TestClient,
    client_organisation: Organisation,
    make_member: Callable,
    login: Callable,
) -> None:
    wave = open_wave(session, study, FIELDWORK_QUESTIONNAIRE, "2026-Q4")
    make_member(client_organisation, email="buyer@contoso.example", role=Role.client)
    login(client, "buyer@contoso.example")
    assert client.get(f"/waves/{wave.id}/poster.pdf").status_code in (403, 404)
    rival = Organisation(name="Rival Research")
    session.add(rival)
    session.commit()
    make_member(rival, email="owner@rival.example", role=Role.owner)
    client.cookies.clear()
    login(client, "owner@rival.example")
    assert client.get(f"/waves/{wave.id}/poster.pdf").status_code == 404
    assert session.exec(select(AuditEvent).where(AuditEvent.action == "wave.poster")).all() == []
