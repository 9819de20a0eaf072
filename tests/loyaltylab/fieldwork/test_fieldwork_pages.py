"""Researcher fieldwork pages on the real app and database: waves, channels, quality, exports."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlmodel import Session, func, select

from loyaltylab.accounts.models import Organisation, Role
from loyaltylab.fieldwork import service as fieldwork
from loyaltylab.fieldwork.models import (
    Channel,
    Contact,
    Response,
    ResponseStatus,
    Wave,
    WaveInvitation,
    WaveStatus,
    utcnow,
)
from loyaltylab.mail import OutboxMessage
from loyaltylab.questionnaires.models import QuestionnaireVersion
from loyaltylab.studies.models import Study

CONTACTS_CSV = (
    "external_id,email,phone,tier,region\n"
    "C1,c1@example.com,+86 10 1234 5678,gold,north\n"
    "C2,c2@example.com,,silver,south\n"
    "C3,,,bronze,south\n"
).encode("utf-8-sig")


def _post(client: TestClient, csrf: Callable, page: str, url: str, **kwargs) -> object:
    data = {"csrf_token": csrf(client, page), **kwargs.pop("data", {})}
    return client.post(url, data=data, follow_redirects=False, **kwargs)


def _invitations(client: TestClient, csrf: Callable, wave: Wave, action: str) -> object:
    """Press a button of the wave page's invitations card: ``links``, ``email`` or ``remind``."""
    page = f"/waves/{wave.id}"
    return _post(client, csrf, page, f"{page}/invitations/{action}")


def _upload(client: TestClient, csrf: Callable, study: Study, content: bytes, name: str):
    page = f"/studies/{study.id}/contacts"
    return _post(client, csrf, page, page, files={"file": (name, content, "text/csv")})


@pytest.fixture
def contacts(researcher: TestClient, csrf: Callable, study: Study) -> None:
    """The study's contacts of CONTACTS_CSV, uploaded on the contacts page."""
    _upload(researcher, csrf, study, CONTACTS_CSV, "c.csv")


def _complete(
    session: Session, wave: Wave, *, contact: Contact | None = None, **values
) -> Response:
    now = utcnow()
    response = Response(
        organisation_id=wave.organisation_id,
        wave_id=wave.id,
        questionnaire_version_id=wave.questionnaire_version_id,
        channel=Channel.web,
        contact_id=contact.id if contact else None,
        language="en",
        status=ResponseStatus.complete,
        quota_cell=fieldwork.quota_cell(wave, contact),
        started_at=now - timedelta(seconds=values.pop("duration", 300)),
        submitted_at=now,
        duration_seconds=None,
        answer_values=[],
    )
    response.duration_seconds = (now - response.started_at).total_seconds()
    definition = fieldwork.definition_for(session, wave.questionnaire_version_id)
    response.answer_values = [values.get(code) for code in fieldwork.variable_codes(definition)]
    session.add(response)
    session.commit()
    return response


def test_wave_lifecycle_pages(
    researcher: TestClient,
    csrf: Callable,
    study: Study,
    version: QuestionnaireVersion,
    session: Session,
) -> None:
    page = f"/studies/{study.id}/waves"
    assert f"/studies/{study.id}/waves" in researcher.get(f"/studies/{study.id}").text
    bad = _post(
        researcher,
        csrf,
        page,
        page,
        data={"name": "2026-Q3", "version_id": str(version.id), "quotas": "gold 200"},
    )
    assert bad.status_code == 400 and "gold: 200" in bad.text
    unknown = _post(
        researcher,
        csrf,
        page,
        page,
        data={"name": "2026-Q3", "version_id": str(version.id), "quotas": "tier=gold: 200"},
    )
    assert unknown.status_code == 400
    assert "No contact of this study has the attribute tier" in unknown.text
    assert session.exec(select(Wave)).all() == []
    _upload(researcher, csrf, study, CONTACTS_CSV, "c.csv")
    created = _post(
        researcher,
        csrf,
        page,
        page,
        data={
            "name": "2026-Q3",
            "version_id": str(version.id),
            "target": "400",
            "opens_at": "2026-07-01T09:00",
            "quota_attribute": "Tier",
            "quotas": "gold: 200\nsilver: 150",
        },
    )
    assert created.status_code == 303
    wave = session.exec(select(Wave)).one()
    assert (wave.status, wave.target, wave.quota_attribute) == (WaveStatus.draft, 400, "tier")
    assert wave.quotas == {"gold": 200, "silver": 150}
    detail = researcher.get(f"/waves/{wave.id}")
    assert "http-equiv" not in detail.text and f"/s/{wave.public_slug}" in detail.text
    _post(
        researcher, csrf, f"/waves/{wave.id}", f"/waves/{wave.id}/status", data={"action": "open"}
    )
    session.refresh(wave)
    assert wave.status == WaveStatus.open
    assert 'http-equiv="refresh"' in researcher.get(f"/waves/{wave.id}").text
    _post(
        researcher, csrf, f"/waves/{wave.id}", f"/waves/{wave.id}/status", data={"action": "close"}
    )
    session.refresh(wave)
    assert wave.status == WaveStatus.closed
    again = _post(researcher, csrf, page, f"/waves/{wave.id}/status", data={"action": "open"})
    session.refresh(wave)
    assert again.status_code == 303 and wave.status == WaveStatus.closed


def test_qr_codes(researcher: TestClient, wave: Wave) -> None:
    png = researcher.get(f"/waves/{wave.id}/qr.png")
    assert png.headers["content-type"] == "image/png" and png.content.startswith(b"\x89PNG")
    svg = researcher.get(f"/waves/{wave.id}/qr.svg")
    assert svg.headers["content-type"].startswith("image/svg+xml") and b"<svg" in svg.content
    assert researcher.get(f"/waves/{wave.id}/qr.gif").status_code == 404  # no such route


def test_contact_upload_good_bad_and_refused(
    researcher: TestClient, csrf: Callable, study: Study, session: Session
) -> None:
    bad = _upload(
        researcher,
        csrf,
        study,
        b"external_id,email\nC1,nope\n,x@example.com\nC1,y@example.com\n",
        "c.csv",
    )
    assert bad.status_code == 400
    assert all(f"Row {n}" in bad.text for n in (2, 3, 4))
    assert session.exec(select(Contact)).all() == []
    too_big = _upload(researcher, csrf, study, b"a" * (5 * 1024 * 1024 + 10), "c.csv")
    assert too_big.status_code == 413 and "5 MB" in too_big.text
    fake = _upload(researcher, csrf, study, b"PK\x03\x04garbage", "c.xlsx")
    assert fake.status_code == 400 and "damaged" in fake.text
    researcher.headers["accept-language"] = "zh-CN"
    fake_zh = _upload(researcher, csrf, study, b"PK\x03\x04garbage", "c.xlsx")
    assert "XLSX" in fake_zh.text and "damaged" not in fake_zh.text
    del researcher.headers["accept-language"]
    good = _upload(researcher, csrf, study, CONTACTS_CSV, "c.csv")
    assert good.status_code == 303
    contacts = {c.external_id: c for c in session.exec(select(Contact))}
    assert contacts["C1"].attributes == {"tier": "gold", "region": "north"}
    pseudonym = contacts["C1"].pseudonym
    _upload(researcher, csrf, study, b"external_id,tier\nC1,silver\n", "again.csv")
    session.expire_all()
    again = session.exec(select(Contact).where(Contact.external_id == "C1")).one()
    assert again.pseudonym == pseudonym and again.attributes["tier"] == "silver"


def test_invitation_links_outbox_and_reminders(
    researcher: TestClient,
    csrf: Callable,
    contacts: None,
    wave: Wave,
    session: Session,
    respondent: Callable,
    app,
) -> None:
    download = _invitations(researcher, csrf, wave, "links")
    assert download.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(download.content.decode("utf-8-sig"))))
    assert [row["external_id"] for row in rows] == ["C1", "C2", "C3"]
    link = rows[0]["link"]
    assert link.startswith("https://loyaltylab.example/i/")
    assert rows[0]["opt_out"].startswith("https://loyaltylab.example/o/")
    # the contact answers through the personal link: single use
    person = respondent(TestClient(app, base_url="https://testserver"), urlpath(link))
    assert person.consent().status_code == 303
    invitation = session.exec(select(WaveInvitation)).first()
    session.execute(
        WaveInvitation.__table__.update()
        .where(WaveInvitation.id == invitation.id)
        .values(used_at=utcnow())
    )
    session.commit()
    _invitations(researcher, csrf, wave, "email")
    outbox = researcher.get("/outbox").text
    # C1 answered, C3 has no e-mail: only C2 is mailed, with a working personal link
    mailed = session.exec(select(OutboxMessage)).all()
    assert [m.to for m in mailed] == ["c2@example.com"]
    assert mailed[0].sender_name == "Northwind Research"
    token = re.search(r"/i/([\w-]+)", mailed[0].body).group(1)
    assert fieldwork.invitation_by_token(session, token) is not None
    assert "c2@example.com" in outbox and "Northwind Research" in outbox
    # a second click mails nobody again: C2 has had the invitation
    _invitations(researcher, csrf, wave, "email")
    assert len(session.exec(select(OutboxMessage)).all()) == 1
    _invitations(researcher, csrf, wave, "remind")
    reminders = session.exec(select(OutboxMessage).order_by(OutboxMessage.id)).all()[1:]
    # C2 has no language: the questionnaire's first, Chinese
    assert [m.to for m in reminders] == ["c2@example.com"] and "提醒" in reminders[0].subject
    reminded = re.search(r"/i/([\w-]+)", reminders[0].body).group(1)
    # the invitation's link still works after the reminder, and leads where the reminder's does
    assert reminded != token
    assert fieldwork.invitation_by_token(session, token).id == (
        fieldwork.invitation_by_token(session, reminded).id
    )


def test_both_links_of_a_reminded_contact_lead_to_the_same_response(
    researcher: TestClient,
    csrf: Callable,
    contacts: None,
    wave: Wave,
    session: Session,
    respondent: Callable,
    app,
) -> None:
    _invitations(researcher, csrf, wave, "email")
    _invitations(researcher, csrf, wave, "remind")
    to_c2 = session.exec(
        select(OutboxMessage).where(OutboxMessage.to == "c2@example.com").order_by(OutboxMessage.id)
    ).all()
    first, second = (urlpath(re.search(r"https://\S+/i/\S+", m.body).group(0)) for m in to_c2)
    browser = TestClient(app, base_url="https://testserver")
    by_first = respondent(browser, first)
    assert by_first.get().status_code == 200  # not "not valid" after the reminder
    assert by_first.consent().status_code == 303
    by_second = respondent(TestClient(app, base_url="https://testserver"), second)
    resumed = by_second.get()  # the link's entry leads on to the response's current page
    assert resumed.status_code == 200 and resumed.url.path == f"{second}/page/0"
    [response] = session.exec(select(Response)).all()
    assert by_second.answer(0, {"complained": "no"}).status_code == 303
    session.refresh(response)
    definition = fieldwork.definition_for(session, wave.questionnaire_version_id)
    assert fieldwork.answers_of(response, definition) == {"complained": "no"}
    assert session.exec(select(func.count(Response.id))).one() == 1


def urlpath(link: str) -> str:
    return "/" + link.split("/", 3)[3]


def test_phone_entry_reuses_the_respondent_form(
    researcher: TestClient,
    csrf: Callable,
    contacts: None,
    wave: Wave,
    session: Session,
) -> None:
    search = researcher.get(f"/waves/{wave.id}/phone?q=C2")
    assert "C2" in search.text
    contact = session.exec(select(Contact).where(Contact.external_id == "C2")).one()
    key = re.search(r'name="submission_key" value="([^"]+)"', search.text).group(1)
    token = re.search(r'name="csrf_token" value="([^"]+)"', search.text).group(1)
    started = researcher.post(
        f"/waves/{wave.id}/phone",
        data={"csrf_token": token, "submission_key": key, "contact_id": str(contact.id)},
        follow_redirects=False,
    )
    assert started.status_code == 303
    response = session.exec(select(Response)).one()
    assert (response.channel, response.contact_id) == (Channel.phone, contact.id)
    base = f"/waves/{wave.id}/phone/{response.id}"
    form_page = researcher.get(f"{base}/page/0")
    assert form_page.status_code == 200 and f'action="{base}/page/0"' in form_page.text
    assert 'value="save"' not in form_page.text  # the interviewer has no "continue later"
    fields = dict(re.findall(r'name="(csrf_token|submission_key)" value="([^"]+)"', form_page.text))
    saved = researcher.post(
        f"{base}/page/0",
        data={**fields, "complained": "no", "action": "next"},
        follow_redirects=False,
    )
    assert saved.status_code == 303 and saved.headers["location"].startswith(f"{base}/page/")
    session.refresh(response)
    definition = fieldwork.definition_for(session, wave.questionnaire_version_id)
    assert fieldwork.answers_of(response, definition)["complained"] == "no"


def test_quality_flags_exclude_and_include(
    researcher: TestClient, csrf: Callable, wave: Wave, session: Session
) -> None:
    careful = [_complete(session, wave, duration=600, attn="app") for _ in range(3)]
    speeder = _complete(session, wave, duration=30, attn="app")
    inattentive = _complete(session, wave, duration=600, attn="web")
    page = researcher.get(f"/waves/{wave.id}/responses?flagged=1").text
    assert f"r-{speeder.id}" in page and f"r-{inattentive.id}" in page
    assert f"r-{careful[0].id}" not in page
    assert "Speeding" in page and "Failed attention check" in page
    listing = f"/waves/{wave.id}/responses?flagged=1"
    url = f"/waves/{wave.id}/responses/exclusion"
    excluded = _post(
        researcher,
        csrf,
        listing,
        url,
        data={
            "ids": [str(speeder.id), str(inattentive.id)],
            "excluded": "1",
            "reason": "speeding or inattentive",
            "back": "flagged=1",
        },
    )
    # the filter survives the exclusion
    assert excluded.headers["location"] == f"/waves/{wave.id}/responses?flagged=1"
    for response in (speeder, inattentive):
        session.refresh(response)
        assert response.excluded and response.exclusion_reason == "speeding or inattentive"
    assert not any(session.get(Response, r.id).excluded for r in careful)
    from loyaltylab.fieldwork.data import responses_dataframe

    assert speeder.id not in responses_dataframe(session, [wave.id])["response_id"].tolist()
    shown = researcher.get(excluded.headers["location"]).text
    assert "speeding or inattentive" in shown and f"r-{careful[0].id}" not in shown
    raw = researcher.get(f"/waves/{wave.id}/export.csv").content.decode("utf-8-sig")
    exported = {row["response_id"]: row for row in csv.DictReader(io.StringIO(raw))}
    assert exported[str(speeder.id)]["exclusion_reason"] == "speeding or inattentive"
    _post(researcher, csrf, listing, url, data={"ids": [str(speeder.id)], "excluded": "0"})
    session.refresh(speeder)
    assert not speeder.excluded and speeder.exclusion_reason is None


def test_responses_are_paged_searched_and_shown_one_by_one(
    researcher: TestClient, wave: Wave, session: Session, study: Study
) -> None:
    [contact] = fieldwork.add_contacts(
        session,
        study_id=study.id,
        organisation_id=study.organisation_id,
        rows=[{"external_id": "VIP-7", "name": "王芳", "attributes": {"tier": "gold"}}],
    )
    session.commit()
    plain = [_complete(session, wave, complained="no") for _ in range(55)]
    wanted = _complete(
        session, wave, contact=contact, complained="yes", improve="更快的退款 please", nps=9
    )
    first = researcher.get(f"/waves/{wave.id}/responses").text
    assert "56 responses match." in first and "Page 1 of 2" in first
    assert f'id="r-{wanted.id}"' in first and f'id="r-{plain[0].id}"' not in first  # newest first
    second = researcher.get(f"/waves/{wave.id}/responses?page=2").text
    assert f'id="r-{plain[0].id}"' in second and "Previous page" in second
    for query in ("退款", "PLEASE", "vip-7", "王芳", f"#{wanted.id}", contact.pseudonym):
        found = researcher.get(f"/waves/{wave.id}/responses", params={"q": query}).text
        assert "1 response matches." in found and f"r-{wanted.id}" in found, query
    detail = researcher.get(f"/waves/{wave.id}/responses/{wanted.id}").text
    assert "Did you complain in the last 12 months?" in detail and ">Yes<" in detail
    assert "更快的退款 please" in detail and "How likely are you to recommend us?" in detail
    assert "VIP-7" in detail
    chinese = researcher.get(
        f"/waves/{wave.id}/responses/{wanted.id}", headers={"Accept-Language": "zh-CN"}
    ).text
    assert "过去12个月您投诉过吗?" in chinese and "选项yes" in chinese


def test_monitoring_numbers(
    researcher: TestClient, wave: Wave, session: Session, study: Study
) -> None:
    [gold] = fieldwork.add_contacts(
        session,
        study_id=study.id,
        organisation_id=study.organisation_id,
        rows=[{"external_id": "G1", "attributes": {"tier": "gold"}}],
    )
    fieldwork.issue_invitations(session, wave, [gold])
    session.commit()
    for seconds in (100, 200, 600):
        _complete(session, wave, duration=seconds)
    _complete(session, wave, contact=gold, duration=300)
    partial = Response(
        organisation_id=wave.organisation_id,
        wave_id=wave.id,
        questionnaire_version_id=wave.questionnaire_version_id,
        channel=Channel.web,
        language="en",
        answer_values=[],
    )
    session.add(partial)
    session.commit()
    text = researcher.get(f"/waves/{wave.id}").text
    number = lambda name: re.search(rf'id="n-{name}">([^<]*)<', text).group(1).strip()  # noqa: E731
    assert (number("started"), number("completed"), number("partial")) == ("5", "4", "1")
    assert number("invited") == "1" and number("rate") == "0.0%"
    assert number("median") == "4.2 min"  # median of 100, 200, 300, 600 s = 250 s
    assert re.search(r"<th scope=\"row\">gold</th><td>1</td><td>1</td>", text)


def test_exports_neutralise_formula_cells(
    researcher: TestClient, wave: Wave, session: Session, study: Study
) -> None:
    [contact] = fieldwork.add_contacts(
        session,
        study_id=study.id,
        organisation_id=study.organisation_id,
        rows=[{"external_id": "X", "attributes": {"tier": "=cmd|' /C calc'!A0"}}],
    )
    session.commit()
    response = _complete(
        session,
        wave,
        contact=contact,
        improve='=HYPERLINK("http://evil")',
        complained="no",
        channels=["web", "app"],
    )
    raw = researcher.get(f"/waves/{wave.id}/export.csv").content
    assert raw.startswith(b"\xef\xbb\xbf")
    [row] = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    assert row["response_id"] == str(response.id) and row["complained"] == "no"
    assert row["improve"] == '\'=HYPERLINK("http://evil")'
    assert row["contact_tier"] == "'=cmd|' /C calc'!A0" and row["channels"] == "web;app"
    workbook = load_workbook(io.BytesIO(researcher.get(f"/waves/{wave.id}/export.xlsx").content))
    sheet = workbook["data"]
    header = [cell.value for cell in sheet[1]]
    cell = sheet.cell(2, header.index("improve") + 1)
    assert cell.data_type == "s" and cell.value == '\'=HYPERLINK("http://evil")'
    assert sheet.cell(2, header.index("contact_tier") + 1).value.startswith("'=")


def test_clients_see_no_fieldwork_and_change_nothing(
    client: TestClient,
    csrf: Callable,
    wave: Wave,
    client_organisation: Organisation,
    make_member: Callable,
    login: Callable,
    session: Session,
) -> None:
    make_member(client_organisation, email="client@contoso.example", role=Role.client)
    login(client, "client@contoso.example")
    # Links, QR codes and response lists are the research team's: the client follows the
    # dashboard and the reports shared with it.
    for page in ("", "/responses", "/qr.png"):
        assert client.get(f"/waves/{wave.id}{page}").status_code == 404
    for url, data in (
        (f"/waves/{wave.id}/status", {"action": "close"}),
        (f"/waves/{wave.id}/invitations/links", {}),
    ):
        assert _post(client, csrf, "/studies", url, data=data).status_code in (403, 404)
    assert client.get(f"/waves/{wave.id}/phone").status_code in (403, 404)
    session.refresh(wave)
    assert wave.status == WaveStatus.open


def test_a_client_gets_404_on_the_response_list_and_its_search_and_opens_no_response(
    client: TestClient,
    wave: Wave,
    session: Session,
    study: Study,
    client_organisation: Organisation,
    make_member: Callable,
    login: Callable,
) -> None:
    """Pseudonyms, quality flags and answers are the research team's: the commissioning client
    follows the dashboard and its shared reports, and cannot even search by pseudonym."""
    [contact] = fieldwork.add_contacts(
        session,
        study_id=study.id,
        organisation_id=study.organisation_id,
        rows=[{"external_id": "VIP-7", "name": "王芳", "attributes": {"tier": "gold"}}],
    )
    session.commit()
    answered = _complete(session, wave, contact=contact, complained="no", improve="call 王芳")
    make_member(client_organisation, email="client@contoso.example", role=Role.client)
    login(client, "client@contoso.example")
    for query in ("", "VIP-7", "王芳", contact.pseudonym):
        listing = client.get(f"/waves/{wave.id}/responses", params={"q": query})
        assert listing.status_code == 404, query
    # An editor's page: refused by role (403) before the wave is even looked up.
    assert client.get(f"/waves/{wave.id}/responses/{answered.id}").status_code == 403


def test_a_contact_list_of_unsure_encoding_is_previewed_and_read_in_the_chosen_one(
    researcher: TestClient, csrf: Callable, study: Study, session: Session
) -> None:
    content = "external_id,name\nC1,張偉\n".encode("big5")
    page = f"/studies/{study.id}/contacts"
    unsure = _upload(researcher, csrf, study, content, "contacts.csv")
    assert unsure.status_code == 400
    assert "could not be told for certain" in unsure.text
    assert "Traditional Chinese (Big5)" in unsure.text and "<td>張偉</td>" in unsure.text
    assert session.exec(select(func.count(Contact.id))).one() == 0
    chosen = _post(
        researcher,
        csrf,
        page,
        page,
        data={"encoding": "big5"},
        files={"file": ("contacts.csv", content, "text/csv")},
    )
    assert chosen.status_code == 303
    assert session.exec(select(Contact.name)).all() == ["張偉"]


def test_a_windows_1252_contact_list_is_imported_with_its_accents(
    researcher: TestClient, csrf: Callable, study: Study, session: Session
) -> None:
    content = "external_id,name,city\nC1,Zoé Martin,Montréal\n".encode("cp1252")
    assert _upload(researcher, csrf, study, content, "contacts.csv").status_code == 303
    contact = session.exec(select(Contact)).one()
    assert (contact.name, contact.attributes["city"]) == ("Zoé Martin", "Montréal")
    page = researcher.get(f"/studies/{study.id}/contacts", headers={"accept-language": "zh-CN"})
    assert "Montréal" in page.text and "CSV 文件的文本编码" in page.text


def test_the_contact_list_names_languages_and_labels_its_cells_for_the_phone(
    researcher: TestClient, csrf: Callable, study: Study
) -> None:
    content = b"external_id,language,tier\nC1,zh-CN,gold\nC2,en,silver\n"
    assert _upload(researcher, csrf, study, content, "contacts.csv").status_code == 303
    page = researcher.get(f"/studies/{study.id}/contacts").text
    # The language by its name, not its stored tag; on a phone (rows as blocks) each value
    # that cannot be read alone carries its column's heading.
    assert '<td data-label="Language">中文</td>' in page
    assert '<td data-label="Language">English</td>' in page
    assert ">zh-CN<" not in page
    assert '<td data-label="tier">gold</td>' in page
