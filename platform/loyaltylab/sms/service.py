"""Texting a wave's invitations and reminders, and opting out by reply.

Like e-mail: the messages are written to the SMS outbox in the request's transaction and handed
to the gateway after the commit, so a text exists only for an invitation that was recorded.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable, Sequence

from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from loyaltylab import i18n
from loyaltylab.fieldwork import service as fieldwork
from loyaltylab.fieldwork.models import Contact, ContactChannel, Wave
from loyaltylab.i18n import N_
from loyaltylab.sms.gateways import SmsError, SmsGateway
from loyaltylab.sms.models import SmsMessage, SmsOptOut
from loyaltylab.studies.models import Study
from loyaltylab.timeutil import utcnow

logger = logging.getLogger(__name__)

OPT_OUT_KEYWORDS = frozenset({"td", "退订", "stop", "unsubscribe", "stopall", "cancel", "quit"})
"""Replies that opt the number out (compared after trimming, ignoring case and punctuation):
TD and 退订 as Chinese carriers require, STOP and the words Twilio treats like it."""
_PUNCTUATION = re.compile(r"[\s\W_]+", re.UNICODE)
_NOT_DIGITS = re.compile(r"[\s().\-/]")

TEXTS = {
    "invitation": N_(
        "%(organisation)s: %(company)s invites you to a short survey: %(link)s "
        "Reply STOP to opt out"
    ),
    "reminder": N_(
        "%(organisation)s: a reminder of %(company)s's survey, still open for you: %(link)s "
        "Reply STOP to opt out"
    ),
}


def e164(phone: str, *, country_code: str) -> str:
    """A phone number as gateways and opt-outs compare it: ``+`` and digits only. A number
    without a country code (``138 0013 8000``, ``0044...``) gets ``country_code``'s."""
    digits = _NOT_DIGITS.sub("", phone.strip())
    if digits.startswith("+"):
        return digits
    if digits.startswith("00"):
        return "+" + digits[2:]
    return f"+{country_code}{digits.lstrip('0')}"


def opted_out_numbers(session: Session, numbers: Iterable[str]) -> set[str]:
    wanted = list(set(numbers))
    if not wanted:
        return set()
    return set(session.exec(select(SmsOptOut.phone).where(col(SmsOptOut.phone).in_(wanted))))


def opt_out_keyword(text: str) -> str | None:
    """The opt-out keyword ``text`` is (``TD``, ``退订``, ``STOP``...), else None: only a
    reply that is the keyword and nothing else opts out ("stop by the store" does not)."""
    word = _PUNCTUATION.sub("", text).lower()
    return word if word in OPT_OUT_KEYWORDS else None


def record_reply(session: Session, sender: str, text: str, *, country_code: str) -> bool:
    """Opt ``sender`` out when ``text`` is an opt-out keyword; whether it was one. Flushes."""
    keyword = opt_out_keyword(text)
    if keyword is None:
        return False
    phone = e164(sender, country_code=country_code)
    if not opted_out_numbers(session, [phone]):
        try:
            with session.begin_nested():
                session.add(SmsOptOut(phone=phone, keyword=keyword))
        except IntegrityError:
            pass  # the gateway retried the same reply at the same moment
    return True


def compose(kind: str, language: str, *, organisation: str, company: str, link: str) -> str:
    """The SMS in the contact's language (a BCP-47 tag)."""
    translate = i18n.translations(i18n.normalise_locale(language) or "en").ugettext
    return translate(TEXTS[kind]) % {"organisation": organisation, "company": company, "link": link}


def contacts_to_text(
    session: Session, wave: Wave, kind: str, *, country_code: str
) -> list[tuple[Contact, str]]:
    """:func:`loyaltylab.fieldwork.service.contacts_to_text` without the numbers that opted out,
    each contact with its number in E.164."""
    numbers = [
        (contact, e164(contact.phone or "", country_code=country_code))
        for contact in fieldwork.contacts_to_text(session, wave, kind)
    ]
    blocked = opted_out_numbers(session, (number for _contact, number in numbers))
    return [(contact, number) for contact, number in numbers if number not in blocked]


def text_wave(
    session: Session,
    wave: Wave,
    study: Study,
    *,
    kind: str,
    organisation: str,
    link_for: Callable[[str], str],
    country_code: str,
    gateway_name: str,
) -> list[SmsMessage]:
    """Write the wave's ``invitation`` or ``reminder`` SMS to every contact reached by SMS who
    should get it (:func:`loyaltylab.fieldwork.service.contacts_to_text`) and whose number has
    not opted out, each with a new short personal link, in their language. Flushes only."""
    languages = fieldwork.definition_for(session, wave.questionnaire_version_id).languages
    numbers = contacts_to_text(session, wave, kind, country_code=country_code)
    contacts = [contact for contact, _number in numbers]
    number_of = {contact.id: number for contact, number in numbers}
    issued = fieldwork.issue_invitations(
        session, wave, contacts, token_bytes=fieldwork.SHORT_LINK_TOKEN_BYTES
    )
    messages = []
    for item in issued:
        language = fieldwork.preferred_language(item.contact.language, languages)
        body = compose(
            kind,
            language,
            organisation=organisation,
            company=study.company_in(language),
            link=link_for(item.token),
        )
        message = SmsMessage(
            organisation_id=wave.organisation_id,
            to=number_of[item.contact.id],
            body=body,
            gateway=gateway_name,
        )
        session.add(message)
        messages.append(message)
    fieldwork.record_mailing(
        session, [item.invitation for item in issued], kind, channel=ContactChannel.sms
    )
    session.flush()
    return messages


def deliver_all(engine: Engine, message_ids: Sequence[int], gateway: SmsGateway) -> None:
    """Hand committed messages to the gateway, each recorded in its own transaction; one the
    gateway refuses keeps its error (the outbox page shows it). The outbox gateway only keeps
    them."""
    with Session(engine) as session:
        for message_id in message_ids:
            message = session.get(SmsMessage, message_id)
            if message is None or message.sent_at is not None:
                continue
            try:
                message.provider_id = gateway.send(message.to, message.body)[:100]
                message.sent_at = utcnow()
                message.error = ""
            except SmsError as error:
                logger.warning(
                    "SMS %s to the %s gateway failed: %s", message_id, gateway.name, error
                )
                message.error = str(error)[:300]
            session.add(message)
            session.commit()
