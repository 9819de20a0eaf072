"""Fieldwork services: waves, contacts, invitations and the respondent flow.

Services flush and never commit: the caller's transaction (one per request) commits. Every
state-changing respondent step is keyed by a *submission key* inserted first in its
transaction: a repeated submit hits the UNIQUE key, the caller rolls back, and
:func:`stored_outcome` returns what the first submit led to.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import threading
from collections import OrderedDict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import String, bindparam, cast, func, or_, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from loyaltylab.fieldwork.models import (
    Channel,
    Contact,
    InvitationLink,
    QuotaSource,
    Response,
    ResponseStatus,
    StudyConsent,
    SubmissionKey,
    Wave,
    WaveInvitation,
    WaveStatus,
    utcnow,
)
from loyaltylab.questionnaires.models import Questionnaire, QuestionnaireVersion, VersionStatus
from surveys.answers import RawValue, validate_answers
from surveys.conditions import evaluate
from surveys.definition import (
    NPS_MAX,
    NPS_MIN,
    InstructionItem,
    Item,
    LikertItem,
    MatrixItem,
    MatrixRow,
    NpsItem,
    QuestionnaireDefinition,
    shown_rows,
)
from surveys.problems import Problem

SUBMISSION_KEY_LENGTH = 32
DONE = "done"
SAVED = "saved"


class FieldworkError(Exception):
    """A fieldwork rule was broken; ``reason`` is a stable id the web layer turns into a page."""

    reason = "invalid"

    def __init__(self, detail: str = "") -> None:
        super().__init__(detail or self.reason)


class WaveNotOpen(FieldworkError):
    reason = "closed"


class WaveNotYetOpen(WaveNotOpen):
    """A draft wave, or one whose opening time is still to come."""

    reason = "not_open"


class QuotaFull(FieldworkError):
    reason = "full"


class LinkUsed(FieldworkError):
    reason = "used"


class LinkExpired(FieldworkError):
    reason = "expired"


class InvalidTransition(FieldworkError):
    reason = "invalid_transition"


class RepeatedSubmission(FieldworkError):
    """The submission key was used before: roll back and answer with the stored outcome."""

    reason = "repeated"


def token_hash(token: str) -> str:
    """Only hashes of tokens are stored: a leaked database yields no usable link."""
    return hashlib.sha256(token.encode()).hexdigest()


def new_submission_key() -> str:
    return secrets.token_urlsafe(24)


# --- questionnaire versions -------------------------------------------------------------------

DEFINITION_CACHE_SIZE = 256


@dataclass(frozen=True)
class _Layout:
    """What the respondent flow derives from a definition on every request."""

    codes: tuple[str, ...]
    codes_by_page: dict[int, frozenset[str]]


def _derive(definition: QuestionnaireDefinition) -> _Layout:
    variables = definition.variables()
    pages: dict[int, set[str]] = {}
    for variable in variables:
        pages.setdefault(variable.section_index, set()).add(variable.code)
    return _Layout(
        tuple(variable.code for variable in variables),
        {page: frozenset(codes) for page, codes in pages.items()},
    )


class _VersionCache:
    """Parsed published versions (frozen, so never stale), most recently used last, bounded.

    Each entry keeps the layout derived from its definition, found again by the definition's
    identity; a definition not in the cache (a draft) is derived on every call.
    """

    def __init__(self, size: int) -> None:
        self.size = size
        self._entries: OrderedDict[tuple[str, int], tuple[QuestionnaireDefinition, _Layout]] = (
            OrderedDict()
        )
        self._layouts: dict[int, tuple[QuestionnaireDefinition, _Layout]] = {}
        self._lock = threading.Lock()

    def get(self, key: tuple[str, int]) -> QuestionnaireDefinition | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            self._entries.move_to_end(key)
            return entry[0]

    def put(self, key: tuple[str, int], definition: QuestionnaireDefinition) -> None:
        entry = (definition, _derive(definition))
        with self._lock:
            previous = self._entries.pop(key, None)
            if previous is not None:
                self._layouts.pop(id(previous[0]), None)
            self._entries[key] = entry
            self._layouts[id(definition)] = entry
            while len(self._entries) > self.size:
                _, (evicted, _) = self._entries.popitem(last=False)
                self._layouts.pop(id(evicted), None)

    def layout(self, definition: QuestionnaireDefinition) -> _Layout:
        # Checked by identity: a cached entry holds its definition, so while it is cached no
        # other object can have its id.
        entry = self._layouts.get(id(definition))
        if entry is not None and entry[0] is definition:
            return entry[1]
        return _derive(definition)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._layouts.clear()

    def __len__(self) -> int:
        return len(self._entries)


_definitions = _VersionCache(DEFINITION_CACHE_SIZE)


def definition_for(session: Session, version_id: int) -> QuestionnaireDefinition:
    """The parsed definition of a version; published versions are frozen, so cached.

    The cache holds the ``DEFINITION_CACHE_SIZE`` most recently used published versions, keyed
    by database too: one process may talk to several (tests, benchmarks, tools). A draft is
    parsed on every call (the designer changes it).
    """
    key = (str(session.get_bind().url), version_id)
    cached = _definitions.get(key)
    if cached is not None:
        return cached
    version = session.get(QuestionnaireVersion, version_id)
    if version is None:
        raise LookupError(f"questionnaire version {version_id} does not exist")
    definition = QuestionnaireDefinition.model_validate(version.definition)
    if version.status == VersionStatus.published:
        _definitions.put(key, definition)
    return definition


# --- waves -------------------------------------------------------------------------------------

WAVE_NAME_MAX_LENGTH = 100
QUOTA_ATTRIBUTE_MAX_LENGTH = 64
QUOTA_CELL_MAX_LENGTH = 100


class VersionFrozen(FieldworkError):
    """Only a draft wave may change the questionnaire version it fields."""

    reason = "version_frozen"


def _fieldable_version(
    session: Session, *, study_id: int, organisation_id: int, version_id: int
) -> QuestionnaireVersion:
    """A published version of one of the study's questionnaires, or FieldworkError."""
    version = session.get(QuestionnaireVersion, version_id)
    questionnaire = session.get(Questionnaire, version.questionnaire_id) if version else None
    if (
        version is None
        or questionnaire is None
        or questionnaire.study_id != study_id
        or questionnaire.organisation_id != organisation_id
    ):
        raise FieldworkError("the questionnaire version does not belong to this study")
    if version.status != VersionStatus.published:
        raise FieldworkError("only a published questionnaire version can be fielded")
    return version


class InvalidWave(FieldworkError):
    """A wave's fields break its rules: ``problems`` maps each field at fault (``name``,
    ``version_id``, ``opens_at``, ``closes_at``, ``target``, ``quotas``) to the rule's id."""

    reason = "invalid_wave"

    def __init__(self, problems: Mapping[str, str]) -> None:
        super().__init__("; ".join(problems.values()))
        self.problems = dict(problems)


QUOTA_ITEM_TYPES = ("single_choice", "dropdown", "likert", "nps")
"""Items whose answers can be quota cells: one answer out of a fixed list."""


def quota_answers(definition: QuestionnaireDefinition, code: str) -> list[str] | None:
    """The answers a quota on question ``code`` can count (None: no such question, or one
    whose answers are not a fixed list of single choices)."""
    found = definition.find_item(code)
    if found is None or found[2].type not in QUOTA_ITEM_TYPES:
        return None
    item = found[2]
    if isinstance(item, LikertItem):
        return [str(point) for point in range(1, item.scale.points + 1)]
    if isinstance(item, NpsItem):
        return [str(point) for point in range(NPS_MIN, NPS_MAX + 1)]
    return [option.value for option in item.options]


def contact_has_attribute(session: Session, study_id: int, attribute: str) -> bool:
    """Whether some contact of the study has ``attribute`` (quotas on one no contact has are
    most likely a typing error: the wave form refuses them)."""
    return (
        session.exec(
            select(Contact.id)
            .where(
                Contact.study_id == study_id,
                Contact.attributes[attribute].as_string().is_not(None),
            )
            .limit(1)
        ).first()
        is not None
    )


def wave_problems(
    session: Session,
    *,
    study_id: int,
    organisation_id: int,
    version_id: int | None,
    name: str,
    opens_at: datetime | None,
    closes_at: datetime | None,
    target: int | None,
    quota_source: QuotaSource = QuotaSource.contact,
    quota_attribute: str | None,
    quotas: Mapping[str, int] | None,
    wave: Wave | None = None,
) -> dict[str, str]:
    """Every rule a wave's fields break, as field -> rule id (empty: the fields are fine).

    The rules hold when a wave is created and whenever it is edited (``wave``: the wave being
    edited; its own name is no clash). ``version_id`` None skips the version's rules (the form
    could not read it). Quotas on a question need one of the version's single-answer questions
    and its answers.
    """
    problems: dict[str, str] = {}
    name = name.strip()
    if not name:
        problems["name"] = "a wave needs a name"
    elif len(name) > WAVE_NAME_MAX_LENGTH:
        problems["name"] = "a wave name is too long"
    else:
        clash = select(Wave.id).where(Wave.study_id == study_id, Wave.name == name)
        if wave is not None:
            clash = clash.where(Wave.id != wave.id)
        if session.exec(clash).first() is not None:
            problems["name"] = "another wave of this study has this name"
    definition = None
    if version_id is not None:
        changed = wave is not None and version_id != wave.questionnaire_version_id
        if changed and wave.status != WaveStatus.draft:
            problems["version_id"] = VersionFrozen.reason
        if "version_id" not in problems:
            try:
                _fieldable_version(
                    session,
                    study_id=study_id,
                    organisation_id=organisation_id,
                    version_id=version_id,
                )
                definition = definition_for(session, version_id)
            except FieldworkError as error:
                problems["version_id"] = str(error)
    if opens_at and closes_at and _aware(closes_at) <= _aware(opens_at):
        problems["closes_at"] = "a wave must close after it opens"
    if target is not None and target < 1:
        problems["target"] = "the target sample size must be positive"
    quota_problem = _quota_problem(
        session,
        study_id=study_id,
        definition=definition,
        source=quota_source,
        attribute=(quota_attribute or "").strip() or None,
        quotas={str(value): count for value, count in (quotas or {}).items()},
        wave=wave,
    )
    if quota_problem:
        problems["quotas"] = quota_problem
    return problems


def _quota_problem(
    session: Session,
    *,
    study_id: int,
    definition: QuestionnaireDefinition | None,
    source: QuotaSource,
    attribute: str | None,
    quotas: dict[str, int],
    wave: Wave | None,
) -> str | None:
    """The first rule the quotas break, or None."""
    if not quotas:
        return None
    if not attribute:
        return "quotas need the contact attribute they are set on"
    if any(not isinstance(n, int) or n < 1 for n in quotas.values()):
        return "every quota must be a positive number of responses"
    if len(attribute) > QUOTA_ATTRIBUTE_MAX_LENGTH or any(
        len(value) > QUOTA_CELL_MAX_LENGTH for value in quotas
    ):
        return "a quota attribute or value is too long"
    if wave is not None and (attribute, source) != (wave.quota_attribute, wave.quota_source):
        responses = session.exec(select(func.count()).where(Response.wave_id == wave.id)).one()
        if responses and wave.quota_attribute:
            return "the quota attribute cannot change once the wave has responses"
    if source == QuotaSource.contact:
        return None
    if definition is None:
        return None  # the version is at fault; the quotas are checked once it is right
    answers = quota_answers(definition, attribute)
    if answers is None:
        return "the quota question is not a single-answer question of the questionnaire"
    if any(value not in answers for value in quotas):
        return "a quota value is not an answer of the quota question"
    return None


def _raise_problems(problems: Mapping[str, str]) -> None:
    if problems:
        raise InvalidWave(problems)


def create_wave(
    session: Session,
    *,
    study_id: int,
    organisation_id: int,
    version_id: int,
    name: str,
    opens_at: datetime | None = None,
    closes_at: datetime | None = None,
    target: int | None = None,
    quota_source: QuotaSource = QuotaSource.contact,
    quota_attribute: str | None = None,
    quotas: Mapping[str, int] | None = None,
    mail_texts: Mapping[str, Any] | None = None,
) -> Wave:
    """A draft wave fielding a published version of one of the study's questionnaires.

    Raises :class:`InvalidWave` with every rule the fields break (see :func:`wave_problems`).
    """
    fields = {
        "name": name,
        "opens_at": opens_at,
        "closes_at": closes_at,
        "target": target,
        "quota_source": QuotaSource(quota_source),
        "quota_attribute": (quota_attribute or "").strip() or None,
        "quotas": dict(quotas or {}),
    }
    _raise_problems(
        wave_problems(
            session,
            study_id=study_id,
            organisation_id=organisation_id,
            version_id=version_id,
            **fields,
        )
    )
    wave = Wave(
        organisation_id=organisation_id,
        study_id=study_id,
        questionnaire_version_id=version_id,
        public_slug=secrets.token_urlsafe(16),
        mail_texts=dict(mail_texts or {}),
        **{**fields, "name": name.strip()},
    )
    session.add(wave)
    session.flush()
    return wave


def update_wave(
    session: Session,
    wave: Wave,
    *,
    version_id: int,
    name: str,
    opens_at: datetime | None,
    closes_at: datetime | None,
    target: int | None,
    quota_source: QuotaSource = QuotaSource.contact,
    quota_attribute: str | None,
    quotas: Mapping[str, int] | None,
) -> Wave:
    """Change a wave's fields under the rules of :func:`create_wave`; the public link stays.

    The questionnaire version changes only while the wave is a draft (responses record the
    version they answered, but a wave's data must stay one version). Quotas may change at any
    time, but not move to another attribute or question once responses were counted on the
    first. Raises :class:`InvalidWave` before changing anything.
    """
    quota_attribute = (quota_attribute or "").strip() or None
    _raise_problems(
        wave_problems(
            session,
            study_id=wave.study_id,
            organisation_id=wave.organisation_id,
            version_id=version_id,
            name=name,
            opens_at=opens_at,
            closes_at=closes_at,
            target=target,
            quota_source=QuotaSource(quota_source),
            quota_attribute=quota_attribute,
            quotas=quotas,
            wave=wave,
        )
    )
    if version_id != wave.questionnaire_version_id:
        # Conditional: a concurrent "open" may have committed since the wave was read.
        still_draft = session.execute(
            update(Wave)
            .where(Wave.id == wave.id, Wave.status == WaveStatus.draft)
            .values(questionnaire_version_id=version_id)
        ).rowcount
        if still_draft != 1:
            raise InvalidWave({"version_id": VersionFrozen.reason})
    wave.questionnaire_version_id = version_id
    wave.name = name.strip()
    wave.opens_at, wave.closes_at = opens_at, closes_at
    wave.target = target
    wave.quota_source = QuotaSource(quota_source)
    wave.quota_attribute = quota_attribute
    wave.quotas = {str(value): count for value, count in (quotas or {}).items()}
    session.add(wave)
    session.flush()
    return wave


def set_mail_texts(
    session: Session, wave: Wave, texts: Mapping[str, Mapping[str, Mapping[str, str]]]
) -> Wave:
    """Store the wave's own e-mail texts (kind -> language -> subject and body)."""
    wave.mail_texts = {
        kind: {language: dict(parts) for language, parts in by_language.items()}
        for kind, by_language in texts.items()
    }
    session.add(wave)
    session.flush()
    return wave


def _move_status(session: Session, wave: Wave, *, from_: WaveStatus, to: WaveStatus) -> Wave:
    if wave.status != from_:
        raise InvalidTransition(f"only a {from_.value} wave can become {to.value}")
    wave.status = to
    session.add(wave)
    session.flush()
    return wave


def open_wave(session: Session, wave: Wave) -> Wave:
    return _move_status(session, wave, from_=WaveStatus.draft, to=WaveStatus.open)


def close_wave(session: Session, wave: Wave) -> Wave:
    return _move_status(session, wave, from_=WaveStatus.open, to=WaveStatus.closed)


def is_accepting(wave: Wave, now: datetime | None = None) -> bool:
    """Open, and within its dates."""
    now = now or utcnow()
    return (
        wave.status == WaveStatus.open
        and (wave.opens_at is None or _aware(wave.opens_at) <= now)
        and (wave.closes_at is None or now < _aware(wave.closes_at))
    )


def _aware(moment: datetime) -> datetime:
    # SQLite returns naive datetimes for timezone-aware columns; every stored time is UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=utcnow().tzinfo)


# The respondent flow's lookups run on every request: built once, only their values bound.
_WAVE_BY_SLUG = select(Wave).where(Wave.public_slug == bindparam("slug"))
_INVITATION_BY_TOKEN = (
    select(WaveInvitation)
    .join(InvitationLink, InvitationLink.invitation_id == WaveInvitation.id)
    .where(InvitationLink.token_hash == bindparam("hash"))
)
_CONSENT_OF_STUDY = select(StudyConsent).where(StudyConsent.study_id == bindparam("study_id"))
_SUBMISSION_KEY = select(SubmissionKey).where(SubmissionKey.key == bindparam("key"))
_RESPONSE_OF_INVITATION = select(Response).where(
    Response.invitation_id == bindparam("invitation_id")
)
_RESPONSE_BY_RESUME_TOKEN = select(Response).where(
    Response.resume_token_hash == bindparam("hash"), Response.wave_id == bindparam("wave_id")
)
_LOCKED_WAVE = select(Wave.id).where(Wave.id == bindparam("id")).with_for_update()
_LOCKED_RESPONSE = (
    select(Response)
    .where(Response.id == bindparam("id"))
    .with_for_update()
    .execution_options(populate_existing=True)
)


def wave_by_slug(session: Session, slug: str) -> Wave | None:
    if not slug or len(slug) > 64:
        return None
    return session.exec(_WAVE_BY_SLUG, params={"slug": slug}).first()


def quota_cell(wave: Wave, contact: Contact | None) -> str | None:
    """The quota cell a respondent starts in: their contact attribute's value, when the
    quotas are on one (answer quotas find the cell when the question is answered)."""
    if not wave.quota_attribute or wave.quota_source != QuotaSource.contact or contact is None:
        return None
    value = contact.attributes.get(wave.quota_attribute)
    return None if value is None else str(value)


def completes_by_cell(session: Session, wave_id: int) -> dict[str | None, int]:
    rows = session.exec(
        select(Response.quota_cell, func.count())
        .where(Response.wave_id == wave_id, Response.status == ResponseStatus.complete)
        .group_by(Response.quota_cell)
    ).all()
    return {cell: count for cell, count in rows}


def check_accepting(wave: Wave, now: datetime | None = None) -> None:
    """Raise WaveNotYetOpen (a draft, or before it opens) or WaveNotOpen (closed) unless the
    wave accepts answers now."""
    now = now or utcnow()
    if wave.status == WaveStatus.draft or (wave.opens_at and now < _aware(wave.opens_at)):
        raise WaveNotYetOpen()
    if not is_accepting(wave, now):
        raise WaveNotOpen()


def _check_quota(session: Session, wave: Wave, cell: str | None) -> None:
    """Raise QuotaFull when ``cell`` has a quota and as many complete responses."""
    if cell is None or cell not in wave.quotas:
        return
    done = session.exec(
        select(func.count()).where(
            Response.wave_id == wave.id,
            Response.status == ResponseStatus.complete,
            Response.quota_cell == cell,
        )
    ).one()
    if done >= wave.quotas[cell]:
        raise QuotaFull()


def check_entry(session: Session, wave: Wave, contact: Contact | None = None) -> None:
    """Raise unless a respondent (of ``contact``'s quota cell) may start now."""
    check_accepting(wave)
    _check_quota(session, wave, quota_cell(wave, contact))


# --- contacts and invitations --------------------------------------------------------------


def contacts_to_invite(session: Session, wave: Wave, *, invited: bool | None) -> list[Contact]:
    """Contacts of the wave's study without a completed invitation to it, and not opted out.

    ``invited``: True for those already invited (reminders), False for those never invited,
    None for all of them.
    """
    return [
        contact
        for contact, invitation in _open_invitations(session, wave)
        if invited is None or invited == (invitation is not None)
    ]


def contacts_to_mail(session: Session, wave: Wave, kind: str) -> list[Contact]:
    """Who gets the wave's ``invitation`` or ``reminder`` e-mail: contacts with an e-mail
    address who have not answered nor opted out and, for the invitation, were never e-mailed
    it, for a reminder, were invited (by e-mail or a link handed out)."""
    if kind not in ("invitation", "reminder"):
        raise ValueError(f"unknown kind of e-mail {kind!r}")
    return [
        contact
        for contact, invitation in _open_invitations(session, wave)
        if contact.email
        and (
            (invitation is None or invitation.emailed_at is None)
            if kind == "invitation"
            else invitation is not None
        )
    ]


def _open_invitations(session: Session, wave: Wave) -> list[tuple[Contact, WaveInvitation | None]]:
    """The study's contacts who may still answer the wave, with their invitation if any."""
    invitations = {
        invitation.contact_id: invitation
        for invitation in session.exec(
            select(WaveInvitation).where(WaveInvitation.wave_id == wave.id)
        )
    }
    contacts = session.exec(
        select(Contact)
        .where(Contact.study_id == wave.study_id, Contact.opted_out_at.is_(None))
        .order_by(Contact.id)
    )
    return [
        (contact, invitations.get(contact.id))
        for contact in contacts
        if invitations.get(contact.id) is None or invitations[contact.id].used_at is None
    ]


def record_mailing(session: Session, invitations: Iterable[WaveInvitation], kind: str) -> None:
    """Note that the invitations' ``invitation`` (or ``reminder``) e-mails went out now."""
    now = utcnow()
    for invitation in invitations:
        if kind == "invitation":
            invitation.emailed_at = invitation.emailed_at or now
        else:
            invitation.reminded_at = now
        session.add(invitation)
    session.flush()


def find_contacts(
    session: Session, study_id: int, query: str, *, include_email: bool = False, limit: int = 20
) -> list[Contact]:
    """The study's contacts whose external id or phone (optionally e-mail) contains ``query``."""
    text = query.strip()[:100]
    if not text:
        return []
    pattern = f"%{text}%"
    fields = [Contact.external_id, Contact.phone, *([Contact.email] if include_email else [])]
    return list(
        session.exec(
            select(Contact)
            .where(Contact.study_id == study_id, or_(*(f.ilike(pattern) for f in fields)))
            .order_by(Contact.external_id)
            .limit(limit)
        )
    )


def add_contacts(
    session: Session, *, study_id: int, organisation_id: int, rows: Iterable[Mapping[str, Any]]
) -> list[Contact]:
    """Insert or update contacts by ``external_id``; a contact keeps its pseudonym for good.

    Each row has ``external_id`` and optionally ``email``, ``phone``, ``name``, ``language``
    and ``attributes``; what a row leaves out keeps its earlier value.
    """
    rows = list(rows)
    ids = [str(row["external_id"]).strip() for row in rows]
    if any(not external_id for external_id in ids):
        raise FieldworkError("every contact needs an id")
    existing = {
        contact.external_id: contact
        for contact in session.exec(
            select(Contact).where(Contact.study_id == study_id, Contact.external_id.in_(ids))
        )
    }
    result = []
    for external_id, row in zip(ids, rows, strict=True):
        contact = existing.get(external_id)
        if contact is None:
            contact = existing[external_id] = Contact(
                organisation_id=organisation_id,
                study_id=study_id,
                external_id=external_id,
                pseudonym=secrets.token_hex(8),
            )
        contact.email = row.get("email") or contact.email
        contact.phone = row.get("phone") or contact.phone
        contact.name = row.get("name") or contact.name
        contact.language = row.get("language") or contact.language
        contact.attributes = {**contact.attributes, **dict(row.get("attributes") or {})}
        session.add(contact)
        result.append(contact)
    session.flush()
    return result


@dataclass(frozen=True)
class IssuedInvitation:
    invitation: WaveInvitation
    contact: Contact
    token: str
    """The raw token: shown (or mailed) once, never stored."""


def issue_invitations(
    session: Session,
    wave: Wave,
    contacts: Sequence[Contact],
    *,
    expires_at: datetime | None = None,
) -> list[IssuedInvitation]:
    """A new personal link for each contact who has not answered nor opted out.

    The first link creates the contact's invitation; a later one (a reminder, a download of
    links) is one more way into it: every link stays valid and leads to the same response.
    """
    if any(contact.study_id != wave.study_id for contact in contacts):
        raise FieldworkError("contacts must belong to the wave's study")
    existing = {
        invitation.contact_id: invitation
        for invitation in session.exec(
            select(WaveInvitation).where(
                WaveInvitation.wave_id == wave.id,
                WaveInvitation.contact_id.in_([contact.id for contact in contacts]),
            )
        )
    }
    invitations = []
    for contact in contacts:
        invitation = existing.get(contact.id)
        if contact.opted_out_at is not None or (
            invitation is not None and invitation.used_at is not None
        ):
            continue
        if invitation is None:
            invitation = WaveInvitation(
                organisation_id=wave.organisation_id, wave_id=wave.id, contact_id=contact.id
            )
        invitation.expires_at = expires_at
        session.add(invitation)
        invitations.append((invitation, contact))
    session.flush()
    issued = []
    for invitation, contact in invitations:
        token = secrets.token_urlsafe(32)
        session.add(
            InvitationLink(
                organisation_id=wave.organisation_id,
                invitation_id=invitation.id,
                token_hash=token_hash(token),
            )
        )
        issued.append(IssuedInvitation(invitation, contact, token))
    session.flush()
    return issued


def invitation_by_token(session: Session, token: str) -> WaveInvitation | None:
    """The invitation of a raw token (any of its links); None for a tampered or unknown one."""
    if not token or len(token) > 100:
        return None
    return session.exec(_INVITATION_BY_TOKEN, params={"hash": token_hash(token)}).first()


def preferred_language(wanted: str | None, languages: Sequence[str]) -> str:
    """The one of ``languages`` for someone who reads ``wanted`` (a BCP-47 tag): that tag,
    else one of the same language (``zh`` -> ``zh-CN``, ``en-GB`` -> ``en``), else the first."""
    if wanted:
        wanted = wanted.lower()
        for language in languages:
            if language.lower() == wanted:
                return language
        primary = wanted.split("-")[0]
        for language in languages:
            if language.lower().split("-")[0] == primary:
                return language
    return languages[0]


# --- opting out ----------------------------------------------------------------------------


def opt_out_token(contact: Contact, *, secret: str) -> str:
    """The token of the contact's opt-out link: their id and a MAC of it under ``secret``.

    Derived, not stored: every e-mail to the contact carries the same link, and a leaked
    database yields none.
    """
    return f"{contact.id}.{_opt_out_mac(contact, secret)}"


def _opt_out_mac(contact: Contact, secret: str) -> str:
    message = f"opt-out:{contact.id}:{contact.pseudonym}".encode()
    digest = hmac.new(secret.encode(), message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:18]).decode()


def contact_by_opt_out_token(session: Session, token: str, *, secret: str) -> Contact | None:
    """The contact of an opt-out token; None for a tampered or unknown one."""
    contact_id, _, mac = token.partition(".")
    if not contact_id.isdigit() or len(token) > 100:
        return None
    contact = session.get(Contact, int(contact_id))
    if contact is None or not hmac.compare_digest(mac, _opt_out_mac(contact, secret)):
        return None
    return contact


def opt_out(session: Session, contact: Contact) -> Contact:
    """No further invitations or reminders to ``contact`` (the first opt-out's time is kept)."""
    if contact.opted_out_at is None:
        contact.opted_out_at = utcnow()
        session.add(contact)
        session.flush()
    return contact


def check_invitation(invitation: WaveInvitation) -> None:
    if invitation.used_at is not None:
        raise LinkUsed()
    if invitation.expires_at is not None and _aware(invitation.expires_at) <= utcnow():
        raise LinkExpired()


# --- consent -------------------------------------------------------------------------------


def set_consent_texts(
    session: Session, *, study_id: int, organisation_id: int, texts: Mapping[str, str]
) -> StudyConsent:
    consent = session.exec(select(StudyConsent).where(StudyConsent.study_id == study_id)).first()
    if consent is None:
        consent = StudyConsent(study_id=study_id, organisation_id=organisation_id)
    consent.texts = {language: text.strip() for language, text in texts.items() if text.strip()}
    session.add(consent)
    session.flush()
    return consent


def consent_texts(session: Session, study_id: int) -> dict[str, str]:
    consent = session.exec(_CONSENT_OF_STUDY, params={"study_id": study_id}).first()
    return dict(consent.texts) if consent else {}


# --- submission keys -----------------------------------------------------------------------


def claim_submission(session: Session, key: str, *, organisation_id: int) -> SubmissionKey:
    """Insert ``key`` as the transaction's first write, or raise RepeatedSubmission.

    Concurrent submits of one key serialise on its UNIQUE index; all but the first fail here.
    The caller must roll back on RepeatedSubmission (PostgreSQL aborts the transaction).
    """
    if not key or len(key) > 64:
        raise FieldworkError("missing submission key")
    claim = SubmissionKey(key=key, organisation_id=organisation_id)
    session.add(claim)
    try:
        session.flush()
    except IntegrityError:
        raise RepeatedSubmission() from None
    return claim


def stored_outcome(session: Session, key: str) -> SubmissionKey | None:
    """The committed record of a key's first submit (after rolling back the repeat)."""
    return session.exec(_SUBMISSION_KEY, params={"key": key}).first()


# --- the respondent flow -----------------------------------------------------------------


def start_response(
    session: Session,
    wave: Wave,
    *,
    channel: Channel,
    language: str,
    claim: SubmissionKey,
    contact: Contact | None = None,
    invitation: WaveInvitation | None = None,
    interviewer_id: int | None = None,
    resume_token: str | None = None,
) -> Response:
    """Create the (partial) response when the respondent consents; nothing is stored before.

    ``claim`` (from :func:`claim_submission`) records the outcome; a second response for one
    invitation fails on the UNIQUE ``invitation_id``.
    """
    definition = definition_for(session, wave.questionnaire_version_id)
    if language not in definition.languages:
        language = definition.languages[0]
    check_entry(session, wave, contact)
    if invitation is not None:
        check_invitation(invitation)
    now = utcnow()
    response = Response(
        organisation_id=wave.organisation_id,
        wave_id=wave.id,
        questionnaire_version_id=wave.questionnaire_version_id,
        channel=channel,
        contact_id=contact.id if contact else None,
        invitation_id=invitation.id if invitation else None,
        interviewer_id=interviewer_id,
        language=language,
        quota_cell=quota_cell(wave, contact),
        resume_token_hash=token_hash(resume_token) if resume_token else None,
        current_page=first_page(definition, {}),
        started_at=now,
        updated_at=now,
    )
    session.add(response)
    try:
        session.flush()
    except IntegrityError:
        raise LinkUsed("this personal link already has a response") from None
    claim.response_id = response.id
    claim.outcome = f"page:{response.current_page}"
    session.add(claim)
    session.flush()
    return response


def variable_codes(definition: QuestionnaireDefinition) -> list[str]:
    """The order of a response's ``answer_values``."""
    return list(_definitions.layout(definition).codes)


def answers_of(response: Response, definition: QuestionnaireDefinition) -> dict[str, Any]:
    """A response's answers as variable code -> typed answer (unanswered left out)."""
    codes = _definitions.layout(definition).codes
    return {
        code: value
        for code, value in zip(codes, response.answer_values, strict=False)
        if value is not None
    }


def _store_answers(
    response: Response, definition: QuestionnaireDefinition, answers: Mapping[str, Any]
) -> None:
    response.answer_values = [answers.get(code) for code in _definitions.layout(definition).codes]


def response_for_invitation(session: Session, invitation_id: int) -> Response | None:
    return session.exec(_RESPONSE_OF_INVITATION, params={"invitation_id": invitation_id}).first()


def response_by_resume_token(session: Session, wave_id: int, token: str) -> Response | None:
    if not token or len(token) > 100:
        return None
    return session.exec(
        _RESPONSE_BY_RESUME_TOKEN, params={"hash": token_hash(token), "wave_id": wave_id}
    ).first()


def _walk(
    definition: QuestionnaireDefinition, answers: Mapping[str, Any]
) -> tuple[list[int], dict[str, Any]]:
    """Display logic in questionnaire order: the shown sections and the answers that count.

    An answer to a question that is hidden (e.g. after an earlier answer changed) never counts.
    A section is shown when its condition holds and it has a question to show: one whose
    questions are all hidden is skipped, instructions and all (a section of instructions
    only is shown).
    """
    context: dict[str, Any] = {}
    shown = []
    for index, section in enumerate(definition.sections):
        section_visible = evaluate(section.condition, context)
        questions = visible_questions = 0
        for item in section.items:
            if isinstance(item, InstructionItem):
                continue
            questions += 1
            visible = section_visible and evaluate(item.condition, context)
            rows = shown_rows(item, context) if isinstance(item, MatrixItem) else [item]
            # A matrix whose rows are all hidden is not shown either.
            visible = visible and bool(rows)
            visible_questions += visible
            for code in (row.code for row in rows):
                if visible and code in answers:
                    context[code] = answers[code]
        if section_visible and (visible_questions or not questions):
            shown.append(index)
    return shown, context


def shown_pages(definition: QuestionnaireDefinition, answers: Mapping[str, Any]) -> list[int]:
    """Indexes of the sections shown for ``answers`` (the pages a respondent goes through)."""
    return _walk(definition, answers)[0]


def item_shown(item: Item | MatrixRow, answers: Mapping[str, Any]) -> bool:
    """Whether an item (or a matrix row) of a shown page is displayed, given the answers that
    count so far."""
    return evaluate(item.condition, answers)


def first_page(definition: QuestionnaireDefinition, answers: Mapping[str, Any]) -> int:
    pages = shown_pages(definition, answers)
    return pages[0] if pages else 0


def resume_page(definition: QuestionnaireDefinition, response: Response) -> int:
    """The page a returning respondent continues on: the furthest page reached that is still
    shown (a changed answer may have hidden the page they were on)."""
    pages = shown_pages(definition, answers_of(response, definition))
    reached = [page for page in pages if page <= response.current_page]
    return reached[-1] if reached else (pages[0] if pages else 0)


def page_codes(definition: QuestionnaireDefinition, page: int) -> set[str]:
    """The variable codes asked on a page."""
    return set(_definitions.layout(definition).codes_by_page.get(page, ()))


class PageAction(StrEnum):
    """What a respondent asked for when a page was posted."""

    next = "next"
    back = "back"
    save = "save"
    """Save and continue later: keep the page's answers and leave the questionnaire."""
    autosave = "autosave"
    """Sent by the page's script as answers are given: keep what is valid, stay on the page."""


@dataclass
class PageResult:
    """What saving a page led to: the next page, completion, or the problems to show."""

    outcome: str = ""
    errors: dict[str, Problem] = field(default_factory=dict)
    values: dict[str, RawValue] = field(default_factory=dict)
    answers: dict[str, Any] = field(default_factory=dict)
    """With problems: the page's answers that are valid (display logic on the page shown
    again follows them: a question may depend on an earlier one of the same page)."""
    unsaved: set[str] = field(default_factory=set)
    """Autosave only: codes whose answer was not stored (not valid yet); the stored one stays."""

    @property
    def ok(self) -> bool:
        return not self.errors


def lock_response(session: Session, response_id: int) -> Response:
    """Re-read a response under a row lock (PostgreSQL; SQLite already holds the write lock)."""
    return session.exec(_LOCKED_RESPONSE, params={"id": response_id}).one()


def save_page(
    session: Session,
    response: Response,
    *,
    page: int,
    raw: Mapping[str, RawValue],
    action: PageAction | str,
    claim: SubmissionKey,
) -> PageResult:
    """Validate and store one page's answers, then move back, forward, away or complete.

    Call after :func:`claim_submission` (so the response is read under the write lock). On
    problems nothing is written: the caller rolls back and shows them. Going back and saving
    for later store what is valid on the page without insisting on required answers; an
    autosave stores the valid answers and keeps the stored value of any answer not valid yet
    (a number half typed), so it never reports problems and never moves.
    """
    action = PageAction(action)
    definition = definition_for(session, response.questionnaire_version_id)
    response = lock_response(session, response.id)
    if response.status == ResponseStatus.complete:
        raise LinkUsed("this response is already complete")
    known = answers_of(response, definition)
    pages = shown_pages(definition, known)
    if page not in pages or page > response.current_page:
        return PageResult(outcome=f"page:{resume_page(definition, response)}")
    check = validate_answers(definition, raw, sections=[page], known=known)
    on_page = page_codes(definition, page)
    errors = dict(check.errors)
    if action != PageAction.next:
        errors = {c: p for c, p in errors.items() if p.code != "answer.required"}
    page_answers = check.answers
    unsaved: set[str] = set()
    if action == PageAction.autosave:
        unsaved, errors = set(errors), {}
        page_answers = page_answers | {c: known[c] for c in unsaved if c in known}
    if errors:
        values = {code: raw.get(code) for code in on_page}
        return PageResult(errors=errors, values=values, answers=check.answers)
    answers = {c: v for c, v in known.items() if c not in on_page} | page_answers
    pages, answers = _walk(definition, answers)
    position = pages.index(page)
    now = utcnow()
    _store_answers(response, definition, answers)
    wave = session.get(Wave, response.wave_id)
    if wave.quota_source == QuotaSource.answer and wave.quota_attribute in on_page:
        # The answer puts the respondent in a quota cell: a full one ends the survey here.
        answer = answers.get(wave.quota_attribute)
        response.quota_cell = None if answer is None else str(answer)
        if action != "back":
            _check_quota(session, wave, response.quota_cell)
    response.updated_at = now
    if action == PageAction.back:
        outcome = f"page:{pages[max(position - 1, 0)]}"
    elif action == PageAction.save:
        outcome = SAVED
    elif action == PageAction.autosave:
        outcome = f"page:{page}"
    elif position + 1 < len(pages):
        outcome_page = pages[position + 1]
        response.current_page = max(response.current_page, outcome_page)
        outcome = f"page:{outcome_page}"
    else:
        _complete(session, wave, response, now)
        outcome = DONE
    session.add(response)
    claim.response_id = response.id
    claim.outcome = outcome
    session.add(claim)
    session.flush()
    return PageResult(outcome=outcome, unsaved=unsaved)


def _complete(session: Session, wave: Wave, response: Response, now: datetime) -> None:
    if response.quota_cell is not None and response.quota_cell in wave.quotas:
        # Counted again under the wave's row lock (PostgreSQL; SQLite holds the write lock):
        # of respondents who started while one place was left, only the first completes.
        session.exec(_LOCKED_WAVE, params={"id": wave.id}).one()
        _check_quota(session, wave, response.quota_cell)
    if response.invitation_id is not None:
        # Conditional update: of concurrent completions only one finds used_at still empty.
        claimed = session.execute(
            update(WaveInvitation)
            .where(WaveInvitation.id == response.invitation_id, WaveInvitation.used_at.is_(None))
            .values(used_at=now, response_id=response.id)
        ).rowcount
        if claimed != 1:
            raise LinkUsed("this personal link has already been used")
    response.status = ResponseStatus.complete
    response.submitted_at = now
    response.duration_seconds = (now - _aware(response.started_at)).total_seconds()


def set_language(session: Session, response: Response, language: str) -> bool:
    definition = definition_for(session, response.questionnaire_version_id)
    if language not in definition.languages:
        return False
    response.language = language
    session.add(response)
    session.flush()
    return True


# --- researcher-side reads ----------------------------------------------------------------


def list_responses(
    session: Session,
    wave_id: int,
    *,
    status: ResponseStatus | None = None,
    include_excluded: bool = True,
) -> list[Response]:
    query = select(Response).where(Response.wave_id == wave_id)
    if status is not None:
        query = query.where(Response.status == status)
    if not include_excluded:
        query = query.where(Response.excluded.is_(False))
    return list(session.exec(query.order_by(Response.id)))


EXCLUSION_REASON_MAX_LENGTH = 200


@dataclass(frozen=True)
class ResponseFilter:
    """Which of a wave's responses the responses page lists."""

    status: ResponseStatus | None = None
    excluded: bool | None = None
    channel: Channel | None = None
    search: str = ""
    """A response id (``#12``), or part of the contact's pseudonym, id, name or e-mail or of any
    answer (open texts too); any case."""
    only_ids: frozenset[int] | None = None
    """Only these responses (e.g. those with quality flags)."""


@dataclass(frozen=True)
class ResponsePage:
    responses: list[Response]
    total: int
    """How many responses match the filter (on every page)."""
    contacts: dict[int, Contact]
    """The listed responses' contacts by id."""


def _like(text: str) -> str:
    """``text`` as a LIKE pattern matching it anywhere (``!`` escapes the wildcards)."""
    escaped = text.replace("!", "!!").replace("%", "!%").replace("_", "!_")
    return f"%{escaped}%"


def _search(text: str) -> Any:
    pattern = _like(text)
    # Answers are stored as JSON text, non-ASCII characters as \u escapes.
    escaped = _like(json.dumps(text)[1:-1])
    answers = cast(Response.answer_values, String)
    conditions = [
        Contact.pseudonym.ilike(pattern, escape="!"),
        answers.ilike(pattern, escape="!"),
        answers.ilike(escaped, escape="!"),
        *(
            column.ilike(pattern, escape="!")
            for column in (Contact.external_id, Contact.name, Contact.email)
        ),
    ]
    number = text.removeprefix("#")
    if number.isdigit() and len(number) < 12:
        conditions.append(Response.id == int(number))
    return or_(*conditions)


def find_responses(
    session: Session,
    wave_id: int,
    criteria: ResponseFilter,
    *,
    offset: int = 0,
    limit: int = 50,
) -> ResponsePage:
    """One page of the wave's responses matching ``criteria``, newest first."""
    query = (
        select(Response)
        .outerjoin(Contact, Contact.id == Response.contact_id)
        .where(Response.wave_id == wave_id)
    )
    if criteria.status is not None:
        query = query.where(Response.status == criteria.status)
    if criteria.excluded is not None:
        query = query.where(Response.excluded.is_(criteria.excluded))
    if criteria.channel is not None:
        query = query.where(Response.channel == criteria.channel)
    if criteria.search.strip():
        query = query.where(_search(criteria.search.strip()[:100]))
    if criteria.only_ids is not None:
        query = query.where(Response.id.in_(sorted(criteria.only_ids) or [-1]))
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    responses = list(
        session.exec(query.order_by(Response.id.desc()).offset(max(offset, 0)).limit(limit))
    )
    contact_ids = {response.contact_id for response in responses if response.contact_id}
    contacts = {
        contact.id: contact
        for contact in session.exec(select(Contact).where(Contact.id.in_(contact_ids)))
    }
    return ResponsePage(responses, total, contacts)


def set_excluded(
    session: Session,
    wave: Wave,
    response_ids: Iterable[int],
    *,
    excluded: bool,
    reason: str = "",
) -> int:
    """Exclude (with the reason) or include again the wave's responses among ``response_ids``;
    returns how many changed. Ids of other waves are left alone."""
    reason = " ".join(reason.split())[:EXCLUSION_REASON_MAX_LENGTH]
    changed = session.execute(
        update(Response)
        .where(Response.wave_id == wave.id, Response.id.in_(list(response_ids)))
        .values(excluded=excluded, exclusion_reason=(reason or None) if excluded else None)
        .execution_options(synchronize_session="fetch")
    ).rowcount
    session.flush()
    return changed
