"""Invitation and reminder e-mails as contacts get them: in their language, with their name, from
the organisation, with an opt-out link that works; and the wave's own texts with a preview."""

from __future__ import annotations

import re
import socketserver
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from email import message_from_bytes

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from loyaltylab.accounts.models import Organisation
from loyaltylab.fieldwork import service as fieldwork
from loyaltylab.fieldwork.models import Contact, Wave
from loyaltylab.mail import OutboxMessage, deliver_all
from loyaltylab.settings import Settings
from loyaltylab.studies.models import Study
from tests.loyaltylab.forms_support import page_forms, submit
from tests.web_support import csrf_from

CONTACTS = (
    "external_id,name,email,language,tier\n"
    "C1,王芳,wang@example.cn,中文,gold\n"
    "C2,Ann Lee,ann@example.com,en,silver\n"
    "C3,,nolang@example.com,,silver\n"
    "C4,Jean Dupont,jean@example.fr,fr,bronze\n"
).encode()


@pytest.fixture
def bilingual(session: Session, study: Study, organisation: Organisation, wave: Wave) -> Wave:
    """The study names its company in both languages; the organisation works in Shanghai; the
    wave (questionnaire in zh-CN and en) closes on 1 October 2026 at 18:00 there."""
    study.company_names = {"en": "Fabrikam Coffee", "zh-CN": "Fabrikam咖啡"}
    study.company_name = "Fabrikam Coffee"
    organisation.time_zone = "Asia/Shanghai"
    wave.closes_at = datetime(2026, 10, 1, 10, 0, tzinfo=UTC)
    for changed in (study, organisation, wave):
        session.add(changed)
    session.commit()
    return wave


def _upload(client: TestClient, study: Study) -> None:
    page = f"/studies/{study.id}/contacts"
    forms = page_forms(client.get(page).text)
    uploaded = client.post(
        page,
        data=forms[page],
        files={"file": ("contacts.csv", CONTACTS, "text/csv")},
        follow_redirects=False,
    )
    assert uploaded.status_code == 303, uploaded.text


def _mails(session: Session) -> dict[str, OutboxMessage]:
    session.expire_all()
    return {m.to: m for m in session.exec(select(OutboxMessage).order_by(OutboxMessage.id))}


def test_each_contact_is_written_to_in_their_language_by_name_from_the_organisation(
    researcher: TestClient, study: Study, bilingual: Wave, session: Session, app
) -> None:
    _upload(researcher, study)
    wave_page = f"/waves/{bilingual.id}"
    sent = submit(researcher, wave_page, f"/waves/{bilingual.id}/invitations/email")
    assert sent.status_code == 303
    mails = _mails(session)
    chinese, english = mails["wang@example.cn"], mails["ann@example.com"]
    assert chinese.subject == "您对 Fabrikam咖啡 的看法"
    assert chinese.body.startswith("尊敬的王芳：")
    assert "Northwind Research" in chinese.body and "Fabrikam Coffee" not in chinese.body
    assert "2026年10月1日 18:00 (UTC+08:00)" in chinese.body
    assert english.subject == "Your opinion of Fabrikam Coffee"
    assert english.body.startswith("Dear Ann Lee,")
    assert "Fabrikam咖啡" not in english.body
    assert "October 1, 2026 6:00 PM (UTC+08:00)" in english.body
    # No language, or one the questionnaire does not have: its first language (zh-CN).
    assert mails["nolang@example.com"].body.startswith("尊敬的顾客：")
    assert mails["jean@example.fr"].body.startswith("尊敬的Jean Dupont：")
    for mail in mails.values():
        assert mail.sender_name == "Northwind Research"
        assert mail.unsubscribe_url and mail.unsubscribe_url in mail.body
    # The personal link opens the questionnaire in the contact's language, whatever the browser.
    link = re.search(r"https://loyaltylab\.example(/i/\S+)", english.body).group(1)
    browser = TestClient(app, base_url="https://testserver", headers={"Accept-Language": "zh-CN"})
    assert '<html lang="en">' in browser.get(link).text


def test_the_opt_out_link_asks_then_stops_every_further_e_mail(
    researcher: TestClient, study: Study, bilingual: Wave, session: Session, app
) -> None:
    _upload(researcher, study)
    wave_page = f"/waves/{bilingual.id}"
    submit(researcher, wave_page, f"/waves/{bilingual.id}/invitations/email")
    opt_out = _mails(session)["wang@example.cn"].unsubscribe_url.removeprefix(
        "https://loyaltylab.example"
    )
    contact = TestClient(app, base_url="https://testserver")
    asked = contact.get(opt_out)
    assert asked.status_code == 200 and '<html lang="zh-CN">' in asked.text
    assert "不再接收" in asked.text and "Northwind Research" in asked.text
    wang = session.exec(select(Contact).where(Contact.external_id == "C1")).one()
    assert wang.opted_out_at is None  # a mail scanner following the link opts nobody out
    form = page_forms(asked.text)[opt_out]
    done = contact.post(opt_out, data={**form, "confirm": "yes"})
    assert done.status_code == 200
    session.refresh(wang)
    assert wang.opted_out_at is not None
    submit(researcher, wave_page, f"/waves/{bilingual.id}/invitations/remind")
    reminded = session.exec(select(OutboxMessage).where(OutboxMessage.subject.contains("提醒")))
    assert "wang@example.cn" not in {m.to for m in reminded}
    links = submit(researcher, wave_page, f"/waves/{bilingual.id}/invitations/links")
    assert "C1," not in links.content.decode("utf-8-sig")
    assert "1 has opted out" in researcher.get(wave_page).text
    assert "Opted out" in researcher.get(f"/studies/{study.id}/contacts").text
    tampered = opt_out[:-2] + ("AA" if not opt_out.endswith("AA") else "BB")
    assert contact.get(tampered).status_code == 404


def test_the_wave_s_texts_are_edited_with_placeholders_checked_and_previewed(
    researcher: TestClient, study: Study, bilingual: Wave, session: Session
) -> None:
    _upload(researcher, study)
    page = f"/waves/{bilingual.id}/emails"
    shown = researcher.get(page).text
    assert "Your opinion of {company}" in shown and "您对 {company} 的看法" in shown
    # The previews show what Ann Lee and 王芳 would get.
    assert "Dear Ann Lee," in shown and "尊敬的王芳：" in shown
    preview = submit(
        researcher, page, page, action="preview", **{"invitation-en-subject": "{company} asks you"}
    )
    assert preview.status_code == 200 and "Fabrikam Coffee asks you" in preview.text
    session.refresh(bilingual)
    assert bilingual.mail_texts == {}  # a preview saves nothing
    refused = submit(
        researcher,
        page,
        page,
        action="save",
        **{
            "invitation-en-subject": "Hello {nmae}",
            "reminder-zh-CN-body": "请填写问卷。",
            "reminder-en-subject": " ",
        },
    )
    assert refused.status_code == 400
    summary = refused.text.split('class="error-summary"', 1)[1].split("</div>", 1)[0]
    assert "There are 3 problems" in summary
    assert "<strong>Invitation · English · Subject</strong>: {nmae} is not a placeholder" in summary
    assert "<strong>Reminder · 简体中文 · Text</strong>: The text must contain {link}" in summary
    assert "<strong>Reminder · English · Subject</strong>: Give the e-mail a subject." in summary
    session.refresh(bilingual)
    assert bilingual.mail_texts == {}
    own_body = "Hi {name},\n\nPlease tell {company} what you think:\n{link}\n\n{organisation}"
    saved = submit(
        researcher,
        page,
        page,
        action="save",
        **{"invitation-en-subject": "A word from {company}", "invitation-en-body": own_body},
    )
    assert saved.status_code == 303
    session.refresh(bilingual)
    # Only what differs from the platform's text is kept.
    assert bilingual.mail_texts == {
        "invitation": {"en": {"subject": "A word from {company}", "body": own_body}}
    }
    submit(researcher, f"/waves/{bilingual.id}", f"/waves/{bilingual.id}/invitations/email")
    mails = _mails(session)
    ann = mails["ann@example.com"]
    assert ann.subject == "A word from Fabrikam Coffee" and ann.body.startswith("Hi Ann Lee,")
    # The opt-out line is added when the text has none.
    assert ann.body.rstrip().endswith(ann.unsubscribe_url)
    assert mails["wang@example.cn"].subject == "您对 Fabrikam咖啡 的看法"  # the default
    reset = submit(researcher, page, page, action="reset-invitation")
    assert reset.status_code == 303
    session.refresh(bilingual)
    assert bilingual.mail_texts == {}


class _SmtpCatcher(socketserver.StreamRequestHandler):
    """Just enough SMTP for smtplib's send_message: every message is kept as bytes."""

    def handle(self) -> None:
        self.wfile.write(b"220 catcher\r\n")
        while line := self.rfile.readline():
            command = line.strip().upper()
            if command == b"DATA":
                self.wfile.write(b"354 go on\r\n")
                data = b""
                while (chunk := self.rfile.readline()) not in (b".\r\n", b""):
                    data += chunk
                self.server.messages.append(data)  # type: ignore[attr-defined]
                self.wfile.write(b"250 kept\r\n")
            elif command == b"QUIT":
                self.wfile.write(b"221 bye\r\n")
                return
            else:
                self.wfile.write(b"250 ok\r\n")


@pytest.fixture
def smtp_catcher() -> Iterator[tuple[str, list[bytes]]]:
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _SmtpCatcher)
    server.messages = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"smtp://127.0.0.1:{server.server_address[1]}", server.messages  # type: ignore[attr-defined]
    server.shutdown()
    server.server_close()


def test_a_sent_invitation_is_from_the_organisation_with_an_unsubscribe_header(
    researcher: TestClient,
    study: Study,
    bilingual: Wave,
    session: Session,
    engine,
    settings: Settings,
    smtp_catcher: tuple[str, list[bytes]],
) -> None:
    _upload(researcher, study)
    submit(researcher, f"/waves/{bilingual.id}", f"/waves/{bilingual.id}/invitations/email")
    url, received = smtp_catcher
    ann = _mails(session)["ann@example.com"]
    deliver_all(engine, [ann.id], settings.model_copy(update={"smtp_url": url}))
    [raw] = received
    message = message_from_bytes(raw)
    assert message["From"] == "Northwind Research <no-reply@loyaltylab.invalid>"
    assert message["List-Unsubscribe"] == f"<{ann.unsubscribe_url}>"
    assert message["Subject"] == "Your opinion of Fabrikam Coffee"
    session.refresh(ann)
    assert ann.sent_at is not None


def test_language_tags_of_contact_files_meet_the_questionnaire_s(session: Session) -> None:
    languages = ["zh-CN", "en"]
    assert fieldwork.preferred_language("en-GB", languages) == "en"
    assert fieldwork.preferred_language("zh", languages) == "zh-CN"
    assert fieldwork.preferred_language("ZH-cn", languages) == "zh-CN"
    assert fieldwork.preferred_language("fr", languages) == "zh-CN"
    assert fieldwork.preferred_language(None, languages) == "zh-CN"


def test_a_closed_wave_sends_no_invitation_nor_reminder(
    researcher: TestClient, study: Study, bilingual: Wave, session: Session
) -> None:
    _upload(researcher, study)
    fieldwork.close_wave(session, bilingual)
    session.commit()
    wave_page = f"/waves/{bilingual.id}"
    page = researcher.get(wave_page).text
    assert "The wave is closed: no invitations or reminders go out." in page
    assert not [action for action in page_forms(page) if "/invitations/email" in action]
    token = csrf_from(researcher, wave_page)
    for kind in ("email", "remind"):
        refused = researcher.post(
            f"/waves/{bilingual.id}/invitations/{kind}",
            data={"csrf_token": token},
            follow_redirects=False,
        )
        assert refused.status_code == 303 and refused.headers["location"] == wave_page
    assert _mails(session) == {}
    assert "The wave is closed" in researcher.get(wave_page).text
