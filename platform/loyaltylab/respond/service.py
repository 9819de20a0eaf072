"""The respondent flow, step by step: claim the submission, start a response, save a page, finish.

The public respondent-step API: the respondent pages (:mod:`loyaltylab.respond.routes`) and the
interviewer's phone pages (:mod:`loyaltylab.fieldwork.routes.phone`) both call these functions.
Services flush and never commit: the caller's transaction (one per request) commits. Every
state-changing respondent step is keyed by a *submission key* inserted first in its
transaction: a repeated submit hits the UNIQUE key, the caller rolls back, and
:func:`stored_outcome` returns what the first submit led to.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import and_, bindparam, insert, update
from sqlalchemy import select as sql_select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from loyaltylab.fieldwork.models import (
    Channel,
    Contact,
    QuotaSource,
    Response,
    ResponseStatus,
    SubmissionKey,
    Wave,
    WaveInvitation,
    utcnow,
)
from loyaltylab.fieldwork.service import (
    WAVE_COLUMNS,
    FieldworkError,
    LinkUsed,
    RepeatedSubmission,
    answers_of,
    check_entry,
    check_invitation,
    check_quota,
    check_quota_under_lock,
    definition_for,
    page_codes,
    quota_cell,
    store_answers,
    wave_of_row,
)
from loyaltylab.security import token_digest
from loyaltylab.timeutil import as_utc
from surveys.answers import RawValue, validate_answers
from surveys.definition import (
    QuestionnaireDefinition,
)
from surveys.pages import first_page, shown_pages, walk
from surveys.problems import Problem

SUBMISSION_KEY_LENGTH = 32
DONE = "done"
SAVED = "saved"


def new_submission_key() -> str:
    return secrets.token_urlsafe(24)


@dataclass(frozen=True, slots=True)
class StoredResponse:
    """A response as a respondent step reads it: the columns the steps look at, read as one row
    (building the ORM object and its session state cost a page view more than its query). A
    step that writes loads the ORM object under the lock (:func:`lock_response`)."""

    id: int
    questionnaire_version_id: int
    status: ResponseStatus
    current_page: int
    language: str
    answer_values: list[Any]

    @classmethod
    def of(cls, response: Response) -> StoredResponse:
        return cls(**{name: getattr(response, name) for name in _STORED_COLUMNS})


_STORED_COLUMNS = tuple(StoredResponse.__dataclass_fields__)
_STORED_RESPONSE = sql_select(*(Response.__table__.c[name] for name in _STORED_COLUMNS))
_SUBMISSION_KEY = select(SubmissionKey).where(SubmissionKey.key == bindparam("key"))
_RESPONSE_OF_INVITATION = _STORED_RESPONSE.where(
    Response.__table__.c.invitation_id == bindparam("invitation_id")
)
_RESPONSE_BY_RESUME_TOKEN = _STORED_RESPONSE.where(
    Response.__table__.c.resume_token_hash == bindparam("hash"),
    Response.__table__.c.wave_id == bindparam("wave_id"),
)
_LOCKED_RESPONSE = (
    select(Response)
    .where(Response.id == bindparam("id"))
    .with_for_update()
    .execution_options(populate_existing=True)
)


@dataclass(frozen=True)
class Claim:
    """A submission key inserted in this transaction: the row its outcome is recorded in."""

    id: int


_INSERT_SUBMISSION_KEY = insert(SubmissionKey.__table__)
_RECORD_OUTCOME = (
    update(SubmissionKey.__table__)
    .where(SubmissionKey.__table__.c.id == bindparam("claim_id"))
    .values(response_id=bindparam("response_id"), outcome=bindparam("outcome"))
)


def claim_submission(session: Session, key: str, *, organisation_id: int) -> Claim:
    """Insert ``key`` as the transaction's first write, or raise RepeatedSubmission.

    Concurrent submits of one key serialise on its UNIQUE index; all but the first fail here.
    The caller must roll back on RepeatedSubmission (PostgreSQL aborts the transaction).
    Written as one INSERT statement (through the session, so it takes the write turn): an ORM
    object and its flush cost a respondent step more than the database did.
    """
    if not key or len(key) > 64:
        raise FieldworkError("missing submission key")
    try:
        inserted = session.execute(
            _INSERT_SUBMISSION_KEY,
            {"key": key, "organisation_id": organisation_id, "outcome": "", "created_at": utcnow()},
        )
    except IntegrityError:
        raise RepeatedSubmission() from None
    return Claim(id=inserted.inserted_primary_key[0])


def record_outcome(session: Session, claim: Claim, response_id: int, outcome: str) -> None:
    """What the claimed submit led to, returned to its repeats by :func:`stored_outcome`."""
    session.execute(
        _RECORD_OUTCOME, {"claim_id": claim.id, "response_id": response_id, "outcome": outcome}
    )


def stored_outcome(session: Session, key: str) -> SubmissionKey | None:
    """The committed record of a key's first submit (after rolling back the repeat)."""
    return session.exec(_SUBMISSION_KEY, params={"key": key}).first()


def start_response(
    session: Session,
    wave: Wave,
    *,
    channel: Channel,
    language: str,
    claim: Claim,
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
        resume_token_hash=token_digest(resume_token) if resume_token else None,
        current_page=first_page(definition, {}),
        # Given, not left to the default factory: pydantic inspects the signature of a default
        # factory on every construction, and list's took longer than the rest of the insert.
        answer_values=[],
        started_at=now,
        updated_at=now,
    )
    session.add(response)
    try:
        session.flush()
    except IntegrityError:
        raise LinkUsed("this personal link already has a response") from None
    record_outcome(session, claim, response.id, f"page:{response.current_page}")
    return response


def _stored(session: Session, query: Any, params: dict[str, Any]) -> StoredResponse | None:
    row = session.connection().execute(query, params).first()
    return None if row is None else StoredResponse(*row)


_RESPONSE = Response.__table__.c
_PUBLIC_LINK = (
    sql_select(*WAVE_COLUMNS, *(_RESPONSE[name] for name in _STORED_COLUMNS))
    .select_from(
        Wave.__table__.outerjoin(
            Response.__table__,
            and_(
                _RESPONSE.wave_id == Wave.__table__.c.id,
                _RESPONSE.resume_token_hash.in_(bindparam("hashes", expanding=True)),
            ),
        )
    )
    .where(Wave.__table__.c.public_slug == bindparam("slug"))
)


def public_link(
    session: Session, slug: str, tokens: Iterable[str]
) -> tuple[Wave, StoredResponse | None] | None:
    """The wave of a public link and the response of that wave which one of the browser's
    resume ``tokens`` names, in one query (every step of a public link reads both); None for
    an unknown link."""
    if not slug or len(slug) > 64:
        return None
    hashes = [token_digest(token) for token in tokens if token and len(token) <= 100]
    row = session.connection().execute(_PUBLIC_LINK, {"slug": slug, "hashes": hashes}).first()
    if row is None:
        return None
    split = len(WAVE_COLUMNS)
    wave = wave_of_row(session, tuple(row[:split]))
    response = None if row[split] is None else StoredResponse(*row[split:])
    return wave, response


def response_for_invitation(session: Session, invitation_id: int) -> StoredResponse | None:
    return _stored(session, _RESPONSE_OF_INVITATION, {"invitation_id": invitation_id})


def response_by_resume_token(session: Session, wave_id: int, token: str) -> StoredResponse | None:
    if not token or len(token) > 100:
        return None
    return _stored(
        session, _RESPONSE_BY_RESUME_TOKEN, {"hash": token_digest(token), "wave_id": wave_id}
    )


def resume_page(definition: QuestionnaireDefinition, response: Response | StoredResponse) -> int:
    """The page a returning respondent continues on: the furthest page reached that is still
    shown (a changed answer may have hidden the page they were on)."""
    pages = shown_pages(definition, answers_of(response, definition))
    reached = [page for page in pages if page <= response.current_page]
    return reached[-1] if reached else (pages[0] if pages else 0)


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
    response: Response | None = None
    """The response as read under the lock and changed by the page (the ORM object)."""

    @property
    def ok(self) -> bool:
        return not self.errors


def lock_response(session: Session, response_id: int) -> Response:
    """Re-read a response under a row lock (PostgreSQL; SQLite already holds the write lock)."""
    return session.exec(_LOCKED_RESPONSE, params={"id": response_id}).one()


def save_page(
    session: Session,
    response: Response | StoredResponse,
    *,
    wave: Wave,
    page: int,
    raw: Mapping[str, RawValue],
    action: PageAction | str,
    claim: Claim,
) -> PageResult:
    """Validate and store one page's answers, then move back, forward, away or complete.

    Call after :func:`claim_submission` (so the response is read under the write lock). On
    problems nothing is written: the caller rolls back and shows them. Going back and saving
    for later store what is valid on the page without insisting on required answers; an
    autosave stores the valid answers and keeps the stored value of any answer not valid yet
    (a number half typed), so it never reports problems and never moves. ``wave`` is the
    response's wave as the step read it (its quotas).
    """
    action = PageAction(action)
    definition = definition_for(session, response.questionnaire_version_id)
    response = lock_response(session, response.id)
    if response.status == ResponseStatus.complete:
        raise LinkUsed("this response is already complete")
    known = answers_of(response, definition)
    pages = shown_pages(definition, known)
    if page not in pages or page > response.current_page:
        return PageResult(outcome=f"page:{resume_page(definition, response)}", response=response)
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
        return PageResult(errors=errors, values=values, answers=check.answers, response=response)
    answers = {c: v for c, v in known.items() if c not in on_page} | page_answers
    pages, answers = walk(definition, answers)
    position = pages.index(page)
    now = utcnow()
    store_answers(response, definition, answers)
    if wave.quota_source == QuotaSource.answer and wave.quota_attribute in on_page:
        # The answer puts the respondent in a quota cell: a full one ends the survey here.
        answer = answers.get(wave.quota_attribute)
        response.quota_cell = None if answer is None else str(answer)
        if action != "back":
            check_quota(session, wave, response.quota_cell)
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
    session.flush()
    record_outcome(session, claim, response.id, outcome)
    return PageResult(outcome=outcome, unsaved=unsaved, response=response)


def _complete(session: Session, wave: Wave, response: Response, now: datetime) -> None:
    if response.quota_cell is not None and response.quota_cell in wave.quotas:
        check_quota_under_lock(session, wave, response.quota_cell)
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
    response.duration_seconds = (now - as_utc(response.started_at)).total_seconds()


def set_language(session: Session, response: Response, language: str) -> bool:
    definition = definition_for(session, response.questionnaire_version_id)
    if language not in definition.languages:
        return False
    response.language = language
    session.add(response)
    session.flush()
    return True
