"""API keys (created, revoked, checked, rate-limited) and what the API routes read and change.

A key is ``llk_`` and 43 random characters from :mod:`secrets`; only its SHA-256 is stored
(a key is long and random: a fast hash loses nothing, and a lookup by hash is one index probe).
The rate limit counts calls per key and minute in the key's row with one conditional UPDATE,
so that every process and worker shares it.
"""

from __future__ import annotations

import base64
import binascii
import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, case, or_, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, func, select

from loyaltylab import access
from loyaltylab.api.models import ApiKey, ApiScope
from loyaltylab.audit import service as audit
from loyaltylab.audit.models import AuditEvent
from loyaltylab.deps import OrgContext
from loyaltylab.errors import InvalidInput, LoginRequired, NotFound
from loyaltylab.fieldwork import service as fieldwork
from loyaltylab.fieldwork.models import (
    Contact,
    Response,
    ResponseStatus,
    Wave,
    WaveInvitation,
)
from loyaltylab.i18n import N_
from loyaltylab.reports_web.models import Report, ReportFile
from loyaltylab.security import token_digest
from loyaltylab.studies.models import Study
from loyaltylab.timeutil import as_utc, utcnow
from surveys.definition import CHOICE_TYPES, LikertItem, MatrixItem, Variable, text_for

KEY_PREFIX = "llk_"
SHOWN_PREFIX_LENGTH = 12
MAX_KEY_LENGTH = 100
MAX_KEY_NAME = 100
NOT_FOUND = N_("Not found.")


def actor(key: ApiKey) -> audit.Actor:
    """How the audit log names what a key did."""
    return audit.Actor(key.organisation_id, f"API key {key.prefix}… ({key.name})")


# --- keys ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class NewKey:
    key: ApiKey
    token: str
    """The key itself: shown once, never stored."""


def create_key(
    session: Session,
    ctx: OrgContext,
    *,
    name: str,
    scope: ApiScope,
    expires_at: datetime | None,
    now: datetime | None = None,
) -> NewKey:
    """A new key of the owner's organisation (audited). Flushes only."""
    ctx.require_owner()
    name = name.strip()
    if not name or len(name) > MAX_KEY_NAME:
        raise InvalidInput("Give the key a name of at most %(max)s characters.", max=MAX_KEY_NAME)
    if expires_at is not None and expires_at <= (now or utcnow()):
        raise InvalidInput("The expiry date must be in the future.")
    token = KEY_PREFIX + secrets.token_urlsafe(32)
    key = ApiKey(
        organisation_id=ctx.organisation_id,
        name=name,
        prefix=token[:SHOWN_PREFIX_LENGTH],
        key_hash=token_digest(token),
        scope=scope,
        created_by=ctx.user.id,
        expires_at=expires_at,
    )
    session.add(key)
    session.flush()
    audit.record(
        session,
        ctx,
        "api_key.create",
        object_type="api_key",
        object_id=key.id,
        name=name,
        scope=scope.value,
        prefix=key.prefix,
    )
    return NewKey(key, token)


def list_keys(session: Session, organisation_id: int) -> list[ApiKey]:
    return list(
        session.exec(
            select(ApiKey)
            .where(ApiKey.organisation_id == organisation_id)
            .order_by(col(ApiKey.revoked_at).is_not(None), col(ApiKey.id).desc())
        )
    )


def revoke_key(session: Session, ctx: OrgContext, key_id: int) -> ApiKey:
    """Revoke a key of the owner's organisation at once (audited; a second revoke keeps the
    first's time)."""
    ctx.require_owner()
    key = access.load_owned(session, ApiKey, key_id, ctx.organisation_id)
    if key.revoked_at is None:
        key.revoked_at = utcnow()
        session.add(key)
        audit.record(
            session,
            ctx,
            "api_key.revoke",
            object_type="api_key",
            object_id=key.id,
            name=key.name,
            prefix=key.prefix,
        )
        session.flush()
    return key


def key_state(key: ApiKey, now: datetime) -> str:
    """``active``, ``expired`` or ``revoked``, as the keys page shows it."""
    if key.revoked_at is not None:
        return "revoked"
    if key.expires_at is not None and as_utc(key.expires_at) <= now:
        return "expired"
    return "active"


class KeyRefused(LoginRequired):
    """Why a bearer token does not authenticate (the message is an English msgid): the caller
    gets a 401 problem saying so."""


def key_for_token(session: Session, token: str, *, now: datetime) -> ApiKey:
    """The usable key of a bearer token, or raise :class:`KeyRefused` saying why not."""
    if not token.startswith(KEY_PREFIX) or len(token) > MAX_KEY_LENGTH:
        raise KeyRefused(N_("This is not a LoyaltyLab API key."))
    key = session.exec(select(ApiKey).where(ApiKey.key_hash == token_digest(token))).first()
    if key is None:
        raise KeyRefused(N_("This API key is not valid."))
    state = key_state(key, now)
    if state == "revoked":
        raise KeyRefused(N_("This API key has been revoked."))
    if state == "expired":
        raise KeyRefused(N_("This API key has expired."))
    return key


def count_call(engine: Engine, key_id: int, *, now: datetime, limit: int) -> int | None:
    """Count a call of the key in the current minute (and note it as last used), in a
    transaction of its own so that refused and failed calls count too; the seconds to wait
    when the key is over its limit, else None."""
    minute = now.replace(second=0, microsecond=0)
    with Session(engine) as session:
        calls = session.execute(
            update(ApiKey)
            .where(ApiKey.id == key_id)
            .values(
                window_calls=case(
                    (ApiKey.window_started_at == minute, ApiKey.window_calls + 1), else_=1
                ),
                window_started_at=minute,
                last_used_at=now,
            )
            .returning(ApiKey.window_calls)
        ).scalar_one()
        session.commit()
    if calls > limit:
        return max(1, 60 - now.second)
    return None


def record_call(
    engine: Engine, key: ApiKey, *, method: str, path: str, status: int, now: datetime
) -> None:
    """Add an API call to the organisation's audit log, whatever became of the call."""
    who = actor(key)
    with Session(engine) as session:
        session.add(
            AuditEvent(
                organisation_id=who.organisation_id,
                user_id=None,
                user_email=who.label,
                action="api.call",
                object_type="api_key",
                object_id=str(key.id),
                details={"method": method, "path": path[:300], "status": status},
                at=now,
            )
        )
        session.commit()


# --- objects of the key's organisation -----------------------------------------------------


def studies(session: Session, organisation_id: int) -> list[Study]:
    return list(
        session.exec(
            select(Study).where(Study.organisation_id == organisation_id).order_by(Study.id)
        )
    )


def study_waves(session: Session, study: Study) -> list[Wave]:
    return list(session.exec(select(Wave).where(Wave.study_id == study.id).order_by(Wave.id)))


@dataclass(frozen=True)
class WaveCounts:
    invited: int
    started: int
    completed: int
    partial: int


def wave_counts(session: Session, waves: Sequence[Wave]) -> dict[int, WaveCounts]:
    """Invitations and responses of each wave, in two grouped queries."""
    ids = [wave.id for wave in waves]
    invited = dict(
        session.exec(
            select(WaveInvitation.wave_id, func.count())
            .where(col(WaveInvitation.wave_id).in_(ids))
            .group_by(WaveInvitation.wave_id)
        ).all()
    )
    responses: dict[int, dict[str, int]] = {}
    for wave_id, status, count in session.exec(
        select(Response.wave_id, Response.status, func.count())
        .where(col(Response.wave_id).in_(ids))
        .group_by(Response.wave_id, Response.status)
    ).all():
        responses.setdefault(wave_id, {})[ResponseStatus(status).value] = count
    return {
        wave_id: WaveCounts(
            invited=invited.get(wave_id, 0),
            started=sum(responses.get(wave_id, {}).values()),
            completed=responses.get(wave_id, {}).get(ResponseStatus.complete.value, 0),
            partial=responses.get(wave_id, {}).get(ResponseStatus.partial.value, 0),
        )
        for wave_id in ids
    }


def contact_by_external_id(session: Session, study: Study, external_id: str) -> Contact:
    contact = session.exec(
        select(Contact).where(Contact.study_id == study.id, Contact.external_id == external_id)
    ).first()
    if contact is None:
        raise NotFound(N_("The study has no contact with this external id."))
    return contact


def upsert_contacts(
    session: Session, study: Study, rows: Sequence[Mapping[str, Any]]
) -> tuple[list[Contact], int]:
    """Insert or update the study's contacts by external id; the contacts and how many of
    them are new."""
    ids = [str(row["external_id"]).strip() for row in rows]
    if len(set(ids)) != len(ids):
        raise InvalidInput("Each external id may appear only once in a request.")
    known = set(
        session.exec(
            select(Contact.external_id).where(
                Contact.study_id == study.id, col(Contact.external_id).in_(ids)
            )
        )
    )
    contacts = fieldwork.add_contacts(
        session, study_id=study.id, organisation_id=study.organisation_id, rows=rows
    )
    return contacts, len(set(ids) - known)


def contacts_by_external_id(
    session: Session, study: Study, external_ids: Iterable[str]
) -> tuple[list[Contact], list[str]]:
    """The study's contacts with these ids, and the ids it has no contact for."""
    wanted = list(dict.fromkeys(external_ids))
    found = {
        contact.external_id: contact
        for contact in session.exec(
            select(Contact).where(
                Contact.study_id == study.id, col(Contact.external_id).in_(wanted)
            )
        )
    }
    return [found[i] for i in wanted if i in found], [i for i in wanted if i not in found]


# --- responses, cursor-paginated -----------------------------------------------------------


@dataclass(frozen=True)
class Cursor:
    """Where a page of responses ends: its last response's update time and id."""

    updated_at: datetime
    response_id: int

    def encode(self) -> str:
        text = f"{self.updated_at.isoformat()}|{self.response_id}"
        return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, text: str) -> Cursor:
        try:
            raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode()
            moment, _, response_id = raw.partition("|")
            return cls(as_utc(datetime.fromisoformat(moment)), int(response_id))
        except (ValueError, UnicodeDecodeError, binascii.Error):
            raise InvalidInput("The cursor is not one this API returned.") from None


def response_page(
    session: Session,
    wave: Wave,
    *,
    after: Cursor | None,
    updated_since: datetime | None,
    limit: int,
) -> tuple[list[tuple[Response, str | None]], Cursor | None]:
    """Up to ``limit`` responses of the wave in order of last change (then id), each with its
    contact's external id, and the cursor of the next page (None on the last)."""
    query = (
        select(Response, Contact.external_id)
        .join(Contact, col(Contact.id) == Response.contact_id, isouter=True)
        .where(Response.wave_id == wave.id)
    )
    if updated_since is not None:
        query = query.where(Response.updated_at >= updated_since)
    if after is not None:
        query = query.where(
            or_(
                Response.updated_at > after.updated_at,
                and_(Response.updated_at == after.updated_at, Response.id > after.response_id),
            )
        )
    rows = session.exec(query.order_by(Response.updated_at, Response.id).limit(limit + 1)).all()
    page = [(response, external_id) for response, external_id in rows[:limit]]
    if len(rows) <= limit:
        return page, None
    last = page[-1][0]
    return page, Cursor(as_utc(last.updated_at), last.id)


def labelled_answers(
    response: Response, variables: Sequence[Variable], *, language: str, languages: list[str]
) -> dict[str, dict[str, Any]]:
    """Each answered variable's value with its label in ``language`` (None where the value
    carries its own meaning: numbers, text, unlabelled scale points)."""
    answers = {}
    for variable, value in zip(variables, response.answer_values, strict=False):
        if value is None:
            continue
        label = _label(variable, value, language, languages)
        answers[variable.code] = {"value": value, "label": label}
    return answers


def _label(variable: Variable, value: Any, language: str, languages: list[str]) -> Any:
    item = variable.item
    if isinstance(item, CHOICE_TYPES):
        options = {option.value: option.label for option in item.options}

        def option_label(chosen: Any) -> str | None:
            texts = options.get(chosen) if isinstance(chosen, str) else None
            return text_for(texts, language, languages) if texts else None

        if isinstance(value, list):
            return [option_label(chosen) for chosen in value]
        return option_label(value)
    if isinstance(item, LikertItem | MatrixItem) and isinstance(value, int | float):
        point = int(value)
        if point == value and 1 <= point <= item.scale.points:
            anchor = item.scale.anchor_for(point)
            return text_for(anchor, language, languages) if anchor else None
    return None


# --- analysis results and report files -----------------------------------------------------


def latest_result(session: Session, study: Study) -> Report:
    """The study's most recently generated report that has analysis results."""
    report = session.exec(
        select(Report)
        .where(Report.study_id == study.id, col(Report.result).is_not(None))
        .order_by(col(Report.generated_at).desc(), col(Report.id).desc())
        .limit(1)
    ).first()
    if report is None or report.generated_at is None:
        raise NotFound(N_("The study has no analysis results yet: generate a report first."))
    return report


def study_reports(session: Session, study: Study) -> list[tuple[Report, dict[str, int]]]:
    """The study's reports, newest first, each with its files' sizes by kind."""
    reports = list(
        session.exec(
            select(Report).where(Report.study_id == study.id).order_by(col(Report.id).desc())
        )
    )
    sizes: dict[int, dict[str, int]] = {}
    for report_id, kind, size in session.exec(
        select(ReportFile.report_id, ReportFile.kind, ReportFile.size).where(
            col(ReportFile.report_id).in_([report.id for report in reports])
        )
    ).all():
        sizes.setdefault(report_id, {})[kind] = size
    return [(report, sizes.get(report.id, {})) for report in reports]
