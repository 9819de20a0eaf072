"""Waves: creating and editing them, their quota settings and their status (draft -> open ->
closed).
"""

from __future__ import annotations

import secrets
import threading
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, update
from sqlalchemy import select as sql_select
from sqlmodel import Session, select

from loyaltylab.fieldwork.models import (
    Contact,
    QuotaSource,
    Response,
    Wave,
    WaveStatus,
    utcnow,
)
from loyaltylab.fieldwork.service.definitions import definition_for
from loyaltylab.fieldwork.service.errors import (
    FieldworkError,
    InvalidTransition,
    InvalidWave,
    VersionFrozen,
    WaveNotOpen,
    WaveNotYetOpen,
)
from loyaltylab.questionnaires.models import Questionnaire, QuestionnaireVersion, VersionStatus
from loyaltylab.timeutil import as_utc
from surveys.definition import (
    NPS_MAX,
    NPS_MIN,
    LikertItem,
    NpsItem,
    QuestionnaireDefinition,
)

WAVE_NAME_MAX_LENGTH = 100
QUOTA_ATTRIBUTE_MAX_LENGTH = 64
QUOTA_CELL_MAX_LENGTH = 100


def _fieldable_version(
    session: Session, *, study_id: int, organisation_id: int, version_id: int
) -> QuestionnaireVersion:
    """A published version of one of the study's questionnaires, or FieldworkError."""
    version = session.exec(
        select(QuestionnaireVersion)
        .join(Questionnaire, Questionnaire.id == QuestionnaireVersion.questionnaire_id)
        .where(
            QuestionnaireVersion.id == version_id,
            Questionnaire.study_id == study_id,
            Questionnaire.organisation_id == organisation_id,
        )
    ).first()
    if version is None:
        raise FieldworkError("the questionnaire version does not belong to this study")
    if version.status != VersionStatus.published:
        raise FieldworkError("only a published questionnaire version can be fielded")
    return version


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


@dataclass(frozen=True)
class WaveSettings:
    """What a researcher sets for a wave besides its questionnaire version, as the wave form
    reads it; :func:`wave_problems` checks it as a whole. Normalised once here (name and quota
    attribute stripped, quota cells as text) so that checking and storing see the same values.
    """

    name: str
    opens_at: datetime | None = None
    closes_at: datetime | None = None
    target: int | None = None
    quota_source: QuotaSource = QuotaSource.contact
    quota_attribute: str | None = None
    quotas: Mapping[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # Frozen: the normalised values are set through object.__setattr__.
        object.__setattr__(self, "name", self.name.strip())
        object.__setattr__(self, "quota_source", QuotaSource(self.quota_source))
        object.__setattr__(self, "quota_attribute", (self.quota_attribute or "").strip() or None)
        object.__setattr__(self, "quotas", {str(cell): n for cell, n in self.quotas.items()})


def wave_problems(
    session: Session,
    settings: WaveSettings,
    *,
    study_id: int,
    organisation_id: int,
    version_id: int | None,
    wave: Wave | None = None,
) -> dict[str, str]:
    """Every rule a wave's settings and version break, as field -> rule id (empty: they are
    fine).

    The rules hold when a wave is created and whenever it is edited (``wave``: the wave being
    edited; its own name is no clash). ``version_id`` None skips the version's rules (the form
    could not read it). Quotas on a question need one of the version's single-answer questions
    and its answers.
    """
    problems: dict[str, str] = {}
    name = settings.name
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
    opens_at, closes_at = settings.opens_at, settings.closes_at
    if opens_at and closes_at and as_utc(closes_at) <= as_utc(opens_at):
        problems["closes_at"] = "a wave must close after it opens"
    if settings.target is not None and settings.target < 1:
        problems["target"] = "the target sample size must be positive"
    quota_problem = _quota_problem(
        session,
        study_id=study_id,
        definition=definition,
        source=settings.quota_source,
        attribute=settings.quota_attribute,
        quotas=dict(settings.quotas),
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
    settings: WaveSettings,
    *,
    study_id: int,
    organisation_id: int,
    version_id: int,
    mail_texts: Mapping[str, Any] | None = None,
) -> Wave:
    """A draft wave fielding a published version of one of the study's questionnaires.

    Raises :class:`InvalidWave` with every rule the settings break (see :func:`wave_problems`).
    """
    _raise_problems(
        wave_problems(
            session,
            settings,
            study_id=study_id,
            organisation_id=organisation_id,
            version_id=version_id,
        )
    )
    wave = Wave(
        organisation_id=organisation_id,
        study_id=study_id,
        questionnaire_version_id=version_id,
        public_slug=secrets.token_urlsafe(16),
        mail_texts=dict(mail_texts or {}),
        **asdict(settings),
    )
    session.add(wave)
    session.flush()
    return wave


def update_wave(session: Session, wave: Wave, settings: WaveSettings, *, version_id: int) -> Wave:
    """Change a wave's settings and version under the rules of :func:`create_wave`; the public
    link stays.

    The questionnaire version changes only while the wave is a draft (responses record the
    version they answered, but a wave's data must stay one version). Quotas may change at any
    time, but not move to another attribute or question once responses were counted on the
    first. Raises :class:`InvalidWave` before changing anything.
    """
    _raise_problems(
        wave_problems(
            session,
            settings,
            study_id=wave.study_id,
            organisation_id=wave.organisation_id,
            version_id=version_id,
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
    for name, value in asdict(settings).items():
        setattr(wave, name, value)
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
        and (wave.opens_at is None or as_utc(wave.opens_at) <= now)
        and (wave.closes_at is None or now < as_utc(wave.closes_at))
    )


WAVE_COLUMNS = tuple(Wave.__table__.c)
"""The wave table's columns in the order :func:`wave_of_row` takes their values."""
_WAVE_NAMES = tuple(column.name for column in WAVE_COLUMNS)
_WAVE_ID = _WAVE_NAMES.index("id")
# The respondent flow reads a wave on every request: the query is built once.
_WAVE_ROW_BY_ID = sql_select(*WAVE_COLUMNS).where(Wave.__table__.c.id == bindparam("id"))
WAVE_SNAPSHOTS = 512


class _WaveSnapshots:
    """The waves respondents are answering, kept as built from their row, most recently used
    last, bounded; a wave is built again whenever its row differs from the one it was built
    from."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._entries: OrderedDict[tuple[Any, int], tuple[tuple[Any, ...], Wave]] = OrderedDict()
        self._lock = threading.Lock()

    def of(self, database: Any, values: tuple[Any, ...]) -> Wave:
        key = (database, values[_WAVE_ID])
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and entry[0] == values:
                self._entries.move_to_end(key)
                return entry[1]
        wave = Wave(**dict(zip(_WAVE_NAMES, values, strict=True)))
        with self._lock:
            self._entries[key] = (values, wave)
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)
        return wave


wave_snapshots = _WaveSnapshots(WAVE_SNAPSHOTS)


def wave_of_row(session: Session, values: tuple[Any, ...]) -> Wave:
    """The shared snapshot of the wave whose row (:data:`WAVE_COLUMNS`) the caller read."""
    return wave_snapshots.of(session.get_bind().url, values)


def wave_snapshot(session: Session, *, wave_id: int) -> Wave | None:
    """The wave of ``wave_id`` as the respondent flow reads it: a snapshot belonging to no
    session and shared by the process's requests. Never change it or add it to a session (load
    the wave with ``session.get`` for that). A public link's step reads its wave with its
    response instead (``respond.service.public_link``), through :func:`wave_of_row`.

    Every call reads the wave's row in the caller's transaction (a Core query: no ORM object is
    built while the row is unchanged), so a wave closed a moment ago is seen closed; building
    the ORM object and its session state was the most expensive part of a respondent step.
    """
    row = session.connection().execute(_WAVE_ROW_BY_ID, {"id": wave_id}).first()
    return None if row is None else wave_of_row(session, tuple(row))


def check_accepting(wave: Wave, now: datetime | None = None) -> None:
    """Raise WaveNotYetOpen (a draft, or before it opens) or WaveNotOpen (closed) unless the
    wave accepts answers now."""
    now = now or utcnow()
    if wave.status == WaveStatus.draft or (wave.opens_at and now < as_utc(wave.opens_at)):
        raise WaveNotYetOpen()
    if not is_accepting(wave, now):
        raise WaveNotOpen()
