"""Alert rules, the alerts a complete response raises, and the follow-up cases they open.

A response is checked once, when it completes (:func:`check_response`, called in the
transaction that completes it), and the wave's complete responses once more when a rule is added
(:func:`check_wave`). An alert opens a case only when the respondent answered the questionnaire's
contact-permission question with "yes"; one response has at most one case, whatever the number of
rules it meets. Services flush and never commit.
"""

from __future__ import annotations

import re
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Exists, exists, func
from sqlmodel import Session, select

import languages
from loyaltylab import access, i18n
from loyaltylab.accounts import service as accounts
from loyaltylab.accounts.models import Membership, User
from loyaltylab.deps import OrgContext
from loyaltylab.errors import InvalidInput
from loyaltylab.fieldwork import events
from loyaltylab.fieldwork.events import EventOutcome
from loyaltylab.fieldwork.models import Contact, Response, ResponseStatus, Wave, WaveStatus
from loyaltylab.fieldwork.service import answers_of, definition_for
from loyaltylab.followup.models import (
    Alert,
    AlertKind,
    AlertRule,
    CaseNote,
    CaseStatus,
    FollowUpCase,
)
from loyaltylab.i18n import N_
from loyaltylab.mail import queue_mail
from loyaltylab.settings import Settings
from loyaltylab.studies.models import Study
from loyaltylab.timeutil import as_utc, utcnow
from loyaltylab.webhooks import service as webhooks
from loyaltylab.webhooks.models import WebhookEvent
from surveys.definition import (
    CHOICE_TYPES,
    CONTACT_ALLOWED,
    NOT_APPLICABLE,
    LikertItem,
    LongTextItem,
    MatrixItem,
    NpsItem,
    QuestionnaireDefinition,
    ShortTextItem,
    text_for,
)

DETRACTOR_MAX = 6
CASE_CLOSED_EVENT = "case_closed"
MAX_WORDS = 50
MAX_NOTE_LENGTH = 4000
NEW_CASE_SUBJECT = N_("New follow-up case in %(study)s (due %(due)s)")
NEW_CASE_BODY = N_(
    "A respondent of wave %(wave)s of %(study)s raised an alert and agreed to be contacted. "
    "The case is assigned to you."
)
NEW_CASE_LINK = N_("Open the case:")
# Letters, digits and the underscore of scripts written with spaces between words: such a word
# matches only as a whole word ("price" not in "priceless"); a Chinese phrase matches anywhere.
_SPACED_WORD = re.compile(r"^[\w\s'-]+$", re.ASCII)


# --- matching a response against a rule -------------------------------------------------------


def construct_mean(
    definition: QuestionnaireDefinition, answers: Mapping[str, Any], construct: str
) -> float | None:
    """The respondent's mean of the construct's rating items on their scale (1..points),
    reverse-keyed items turned round; "not applicable" and unanswered items left out."""
    values = []
    for variable in definition.variables():
        if variable.construct != construct or not isinstance(
            variable.item, (LikertItem, MatrixItem)
        ):
            continue
        answer = answers.get(variable.code)
        if answer is None or answer == NOT_APPLICABLE:
            continue
        score = float(answer)
        if variable.reverse:
            score = variable.item.scale.points + 1 - score
        values.append(score)
    return statistics.fmean(values) if values else None


def words_found(text: str, words: Sequence[str]) -> list[str]:
    """The words of ``words`` that occur in ``text``, ignoring case: English (and other
    space-separated) words as whole words, Chinese phrases anywhere (no spaces to split on)."""
    folded = text.casefold()
    found = []
    for word in words:
        needle = word.casefold().strip()
        if not needle:
            continue
        if _SPACED_WORD.match(needle):
            hit = re.search(rf"(?<!\w){re.escape(needle)}(?!\w)", folded) is not None
        else:
            hit = needle in folded
        if hit:
            found.append(word)
    return found


def open_text_codes(definition: QuestionnaireDefinition) -> list[str]:
    return [
        item.code
        for _s, _i, item in definition.items()
        if isinstance(item, (ShortTextItem, LongTextItem))
    ]


def rule_met(
    rule: AlertRule, definition: QuestionnaireDefinition, answers: Mapping[str, Any]
) -> bool:
    """Whether a response's typed ``answers`` meet the rule (an unanswered question never does)."""
    if rule.kind == AlertKind.nps:
        answer = answers.get(rule.target)
        return isinstance(answer, int | float) and answer <= rule.threshold
    if rule.kind == AlertKind.construct:
        mean = construct_mean(definition, answers, rule.target)
        return mean is not None and mean <= rule.threshold
    if rule.kind == AlertKind.choice:
        answer = answers.get(rule.target)
        chosen = answer if isinstance(answer, list) else [answer]
        return any(str(value) in rule.values for value in chosen if value is not None)
    codes = [rule.target] if rule.target else open_text_codes(definition)
    return any(
        words_found(answers[code], rule.values)
        for code in codes
        if isinstance(answers.get(code), str)
    )


def may_contact(definition: QuestionnaireDefinition, answers: Mapping[str, Any]) -> bool:
    code = definition.contact_permission_code()
    return code is not None and answers.get(code) == CONTACT_ALLOWED


# --- rules --------------------------------------------------------------------------------------


def has_rules(wave_id: Any) -> Exists:
    """Whether the wave has alert rules, as a clause: the respondent flow asks it together with
    the other completion checks, in one query (most waves have no rules)."""
    return exists().where(AlertRule.wave_id == wave_id)


def rules_of(session: Session, wave_id: int) -> list[AlertRule]:
    return list(
        session.exec(
            select(AlertRule).where(AlertRule.wave_id == wave_id).order_by(AlertRule.id)
        ).all()
    )


@dataclass(frozen=True)
class RuleTargets:
    """What a wave's questionnaire offers each kind of rule, as (code, label) pairs."""

    nps: list[tuple[str, dict[str, str]]]
    constructs: list[tuple[str, dict[str, str]]]
    choices: list[tuple[str, dict[str, str], list[tuple[str, dict[str, str]]]]]
    texts: list[tuple[str, dict[str, str]]]
    has_permission_question: bool


def rule_targets(definition: QuestionnaireDefinition) -> RuleTargets:
    nps, choices, texts = [], [], []
    for _s, _i, item in definition.items():
        if isinstance(item, NpsItem):
            nps.append((item.code, item.label))
        elif isinstance(item, CHOICE_TYPES) and getattr(item, "role", None) is None:
            choices.append((item.code, item.label, [(o.value, o.label) for o in item.options]))
        elif isinstance(item, (ShortTextItem, LongTextItem)):
            texts.append((item.code, item.label))
    used = definition.construct_items()
    constructs = [(c.code, c.name) for c in definition.constructs if used.get(c.code)]
    return RuleTargets(
        nps, constructs, choices, texts, definition.contact_permission_code() is not None
    )


def _number(raw: str, *, field: str) -> float:
    try:
        return float(raw.strip().replace(",", "."))
    except ValueError:
        raise InvalidInput("Enter a number.", field=field) from None


def create_rule(
    session: Session,
    wave: Wave,
    *,
    kind: str,
    target: str,
    threshold: str = "",
    values: Sequence[str] = (),
    words: str = "",
    sla_hours: str = "",
) -> AlertRule:
    """Validate and add a rule to the wave (its existing responses are checked by the caller
    with :func:`check_wave`)."""
    try:
        alert_kind = AlertKind(kind)
    except ValueError:
        raise InvalidInput("Choose what the alert looks at.", field="kind") from None
    definition = definition_for(session, wave.questionnaire_version_id)
    targets = rule_targets(definition)
    rule = AlertRule(organisation_id=wave.organisation_id, wave_id=wave.id, kind=alert_kind)
    if alert_kind == AlertKind.nps:
        rule.target = _known(target, [code for code, _ in targets.nps], "nps_item")
        limit = _number(threshold or str(DETRACTOR_MAX), field="nps_threshold")
        if not 0 <= limit <= 10:
            raise InvalidInput("Enter a score from 0 to 10.", field="nps_threshold")
        rule.threshold = limit
    elif alert_kind == AlertKind.construct:
        rule.target = _known(target, [code for code, _ in targets.constructs], "construct_code")
        rule.threshold = _number(threshold, field="construct_threshold")
        if rule.threshold < 1:
            raise InvalidInput(
                "Enter a score on the items' scale (1 or more).", field="construct_threshold"
            )
    elif alert_kind == AlertKind.choice:
        rule.target = _known(target, [code for code, _, _ in targets.choices], "choice_item")
        offered = next(options for code, _, options in targets.choices if code == rule.target)
        chosen = [value for value, _ in offered if value in set(values)]
        if not chosen:
            raise InvalidInput("Choose at least one answer.", field="choice_values")
        rule.values = chosen
    else:
        if target:
            _known(target, [code for code, _ in targets.texts], "text_item")
        rule.target = target
        listed = [w.strip() for w in re.split(r"[,，、;；\n]", words) if w.strip()]
        if not listed:
            raise InvalidInput("Enter at least one word or phrase.", field="words")
        if len(listed) > MAX_WORDS:
            raise InvalidInput("Enter at most %(count)s words.", field="words", count=MAX_WORDS)
        rule.values = list(dict.fromkeys(listed))
    if sla_hours.strip():
        hours = _number(sla_hours, field="sla_hours")
        if not 1 <= hours <= 24 * 90 or hours != int(hours):
            raise InvalidInput("Enter whole hours from 1 to 2160.", field="sla_hours")
        rule.sla_hours = int(hours)
    session.add(rule)
    session.flush()
    return rule


def _known(code: str, offered: list[str], field: str) -> str:
    if code not in offered:
        raise InvalidInput("Choose a question of this wave.", field=field)
    return code


def delete_rule(session: Session, wave: Wave, rule_id: int) -> None:
    """Remove a rule; the alerts and cases it raised stay (they are the record of what happened)."""
    rule = access.found(
        session, select(AlertRule).where(AlertRule.id == rule_id, AlertRule.wave_id == wave.id)
    )
    for alert in session.exec(select(Alert).where(Alert.rule_id == rule.id)).all():
        session.delete(alert)
    session.delete(rule)
    session.flush()


def alert_counts(session: Session, wave_id: int) -> dict[int, int]:
    """Rule id -> alerts it raised."""
    rows = session.exec(
        select(Alert.rule_id, func.count()).where(Alert.wave_id == wave_id).group_by(Alert.rule_id)
    ).all()
    return dict(rows)


# --- raising alerts and opening cases ------------------------------------------------------------


def check_response(
    session: Session,
    response: Response,
    settings: Settings,
    *,
    rules: Sequence[AlertRule] | None = None,
    now: datetime | None = None,
) -> list[Alert]:
    """Raise the alerts a complete response meets (each rule once) and open its case when the
    respondent may be contacted. Called in the transaction that completes the response: one
    indexed query when the wave has no rules."""
    if response.status != ResponseStatus.complete or response.excluded:
        return []
    rules = rules_of(session, response.wave_id) if rules is None else rules
    if not rules:
        return []
    now = now or utcnow()
    definition = definition_for(session, response.questionnaire_version_id)
    answers = answers_of(response, definition)
    met = [rule for rule in rules if rule_met(rule, definition, answers)]
    if not met:
        return []
    raised = set(
        session.exec(
            select(Alert.rule_id).where(
                Alert.response_id == response.id, Alert.rule_id.in_([r.id for r in met])
            )
        ).all()
    )
    new = [rule for rule in met if rule.id not in raised]
    if not new:
        return []
    case = None
    if may_contact(definition, answers):
        case = _open_case(
            session, response, settings, sla_hours=min(r.sla_hours for r in new), now=now
        )
    alerts = [
        Alert(
            organisation_id=response.organisation_id,
            rule_id=rule.id,
            wave_id=response.wave_id,
            response_id=response.id,
            case_id=case.id if case else None,
            created_at=now,
        )
        for rule in new
    ]
    session.add_all(alerts)
    session.flush()
    for alert, rule in zip(alerts, new, strict=True):
        _announce(session, alert, rule, case)
    return alerts


def check_wave(session: Session, wave: Wave, settings: Settings, rule: AlertRule) -> int:
    """Check the wave's complete responses against a newly added rule; the alerts raised."""
    responses = session.exec(
        select(Response)
        .where(
            Response.wave_id == wave.id,
            Response.status == ResponseStatus.complete,
            Response.excluded.is_(False),
        )
        .order_by(Response.id)
    ).all()
    return sum(len(check_response(session, r, settings, rules=[rule])) for r in responses)


def _announce(session: Session, alert: Alert, rule: AlertRule, case: FollowUpCase | None) -> None:
    """The ``alert.created`` webhook of the organisation running the study."""
    webhooks.emit(
        session,
        organisation_id=alert.organisation_id,
        event=WebhookEvent.alert_created.value,
        payload={
            "alert_id": alert.id,
            "rule": {"id": rule.id, "kind": rule.kind.value, "target": rule.target},
            "wave_id": alert.wave_id,
            "response_id": alert.response_id,
            "case_id": case.id if case else None,
            "created_at": alert.created_at,
        },
    )


def _open_case(
    session: Session, response: Response, settings: Settings, *, sla_hours: int, now: datetime
) -> FollowUpCase:
    existing = session.exec(
        select(FollowUpCase).where(FollowUpCase.response_id == response.id)
    ).first()
    if existing is not None:
        return existing
    wave = session.get(Wave, response.wave_id)
    study = session.get(Study, wave.study_id)
    assignee = _least_busy(session, case_handlers(session, study.client_organisation_id))
    case = FollowUpCase(
        organisation_id=study.organisation_id,
        client_organisation_id=study.client_organisation_id,
        study_id=study.id,
        wave_id=wave.id,
        response_id=response.id,
        contact_id=response.contact_id,
        assignee_id=assignee.id if assignee else None,
        created_at=now,
        due_at=now + timedelta(hours=sla_hours),
    )
    session.add(case)
    session.flush()
    if assignee is not None:
        _mail_assignee(session, case, assignee, study, wave, settings)
    return case


def case_handlers(session: Session, client_organisation_id: int | None) -> list[User]:
    """The company's client users an owner made case handlers (and still active)."""
    if client_organisation_id is None:
        return []
    query = accounts.client_users(client_organisation_id).where(
        Membership.case_handler.is_(True), User.is_active.is_(True)
    )
    return list(session.exec(query).all())


def _least_busy(session: Session, handlers: list[User]) -> User | None:
    """The handler with the fewest open cases (the first of them on a tie)."""
    if not handlers:
        return None
    load = dict(
        session.exec(
            select(FollowUpCase.assignee_id, func.count())
            .where(
                FollowUpCase.assignee_id.in_([u.id for u in handlers]),
                FollowUpCase.status != CaseStatus.closed,
            )
            .group_by(FollowUpCase.assignee_id)
        ).all()
    )
    return min(handlers, key=lambda user: load.get(user.id, 0))


def _mail_assignee(
    session: Session,
    case: FollowUpCase,
    assignee: User,
    study: Study,
    wave: Wave,
    settings: Settings,
) -> None:
    translate = i18n.translations(languages.locale_of(assignee.locale) or "en").ugettext
    params = {
        "study": study.name,
        "wave": wave.name,
        "due": case.due_at.strftime("%Y-%m-%d %H:%M UTC"),
    }
    subject = translate(NEW_CASE_SUBJECT) % params
    body = (
        f"{translate(NEW_CASE_BODY) % params}\n\n{translate(NEW_CASE_LINK)}\n"
        f"{settings.absolute_url(f'/cases/{case.id}')}\n"
    )
    queue_mail(
        session,
        to=assignee.email,
        subject=subject,
        body=body,
        organisation_id=case.client_organisation_id or case.organisation_id,
    )


# --- the cases a member works on (who: loyaltylab.access) ------------------------------------


def list_cases(
    session: Session, ctx: OrgContext, *, status: str = "", study_id: int | None = None
) -> list[tuple[FollowUpCase, Study, Wave, User | None]]:
    access.require_case_reader(ctx)
    query = (
        select(FollowUpCase, Study, Wave, User)
        .join(Study, Study.id == FollowUpCase.study_id)
        .join(Wave, Wave.id == FollowUpCase.wave_id)
        .outerjoin(User, User.id == FollowUpCase.assignee_id)
        .where(access.case_readable(ctx))
    )
    if status in {s.value for s in CaseStatus}:
        query = query.where(FollowUpCase.status == status)
    if study_id is not None:
        query = query.where(FollowUpCase.study_id == study_id)
    order = (FollowUpCase.status == CaseStatus.closed, FollowUpCase.due_at, FollowUpCase.id)
    return list(session.exec(query.order_by(*order)).all())


@dataclass(frozen=True)
class LabelledAnswer:
    question: str
    answer: str


def labelled_answers(
    definition: QuestionnaireDefinition, answers: Mapping[str, Any], language: str
) -> list[LabelledAnswer]:
    """The respondent's answers in questionnaire order, questions and options in ``language``
    (the questionnaire's first language where a text has none)."""
    fallbacks = definition.languages
    shown = []
    for variable in definition.variables():
        if variable.code not in answers:
            continue
        value = answers[variable.code]
        item = variable.item
        label = text_for(variable.label, language, fallbacks)
        if variable.row is not None:
            label = f"{text_for(item.label, language, fallbacks)} — {label}"
        shown.append(LabelledAnswer(label, _answer_text(item, value, language, fallbacks)))
    return shown


def _answer_text(item: Any, value: Any, language: str, fallbacks: list[str]) -> str:
    if isinstance(item, CHOICE_TYPES):
        labels = {o.value: text_for(o.label, language, fallbacks) for o in item.options}
        chosen = value if isinstance(value, list) else [value]
        return ", ".join(labels.get(str(v), str(v)) for v in chosen)
    if isinstance(item, (LikertItem, MatrixItem)):
        if value == NOT_APPLICABLE and item.scale.not_applicable:
            return text_for(item.scale.not_applicable, language, fallbacks)
        anchor = item.scale.anchor_for(int(value)) if value != NOT_APPLICABLE else None
        points = f"{value} / {item.scale.points}"
        return f"{points} ({text_for(anchor, language, fallbacks)})" if anchor else points
    if isinstance(item, NpsItem):
        return f"{value} / 10"
    return str(value)


@dataclass(frozen=True)
class CaseView:
    case: FollowUpCase
    study: Study
    wave: Wave
    contact: Contact | None
    assignee: User | None
    answers: list[LabelledAnswer]
    reasons: list[AlertRule]
    notes: list[tuple[CaseNote, User | None]]


def case_view(session: Session, case: FollowUpCase, language: str) -> CaseView:
    response = session.get(Response, case.response_id)
    definition = definition_for(session, response.questionnaire_version_id)
    reasons = list(
        session.exec(
            select(AlertRule)
            .join(Alert, Alert.rule_id == AlertRule.id)
            .where(Alert.case_id == case.id)
            .order_by(AlertRule.id)
        ).all()
    )
    notes = list(
        session.exec(
            select(CaseNote, User)
            .outerjoin(User, User.id == CaseNote.author_id)
            .where(CaseNote.case_id == case.id)
            .order_by(CaseNote.created_at, CaseNote.id)
        ).all()
    )
    return CaseView(
        case=case,
        study=session.get(Study, case.study_id),
        wave=session.get(Wave, case.wave_id),
        contact=session.get(Contact, case.contact_id) if case.contact_id else None,
        assignee=session.get(User, case.assignee_id) if case.assignee_id else None,
        answers=labelled_answers(definition, answers_of(response, definition), language),
        reasons=reasons,
        notes=notes,
    )


def followup_waves(session: Session, case: FollowUpCase) -> list[Wave]:
    """Waves the complaint-handling survey can be sent from when the case closes: the open
    waves of the case's study (its contacts belong to it)."""
    return list(
        session.exec(
            select(Wave)
            .where(Wave.study_id == case.study_id, Wave.status == WaveStatus.open)
            .order_by(Wave.created_at, Wave.id)
        ).all()
    )


# --- working on a case ----------------------------------------------------------------------------


def update_case(
    session: Session,
    ctx: OrgContext,
    case: FollowUpCase,
    *,
    status: str,
    assignee_id: str = "",
    note: str = "",
    followup_wave_id: str = "",
    now: datetime | None = None,
) -> EventOutcome | None:
    """Change a case's status and assignee and add a note; closing it may send the chosen
    wave's survey to the contact, as the event ``case_closed`` (its outcome is returned)."""
    now = now or utcnow()
    try:
        new_status = CaseStatus(status)
    except ValueError:
        raise InvalidInput("Choose a status.", field="status") from None
    note = note.strip()
    if len(note) > MAX_NOTE_LENGTH:
        raise InvalidInput(
            "Keep the note under %(count)s characters.", field="note", count=MAX_NOTE_LENGTH
        )
    if assignee_id:
        handlers = {
            str(user.id): user for user in case_handlers(session, case.client_organisation_id)
        }
        if assignee_id not in handlers:
            raise InvalidInput("Choose one of the company's case handlers.", field="assignee")
        case.assignee_id = handlers[assignee_id].id
    followup = None
    if followup_wave_id:
        if new_status != CaseStatus.closed or case.status == CaseStatus.closed:
            raise InvalidInput(
                "The follow-up survey is sent when the case is closed.", field="followup_wave"
            )
        offered = {str(wave.id): wave for wave in followup_waves(session, case)}
        if followup_wave_id not in offered:
            raise InvalidInput("Choose an open wave.", field="followup_wave")
        if case.contact_id is None:
            raise InvalidInput(
                "This respondent answered through the public link: there is no contact to send "
                "the survey to.",
                field="followup_wave",
            )
        followup = offered[followup_wave_id]
    if new_status == CaseStatus.closed and case.status != CaseStatus.closed:
        case.closed_at = now
    elif new_status != CaseStatus.closed:
        case.closed_at = None
    case.status = new_status
    if note:
        session.add(
            CaseNote(
                organisation_id=case.organisation_id,
                case_id=case.id,
                author_id=ctx.user.id,
                text=note,
                created_at=now,
            )
        )
    session.add(case)
    session.flush()
    if followup is None:
        return None
    try:
        outcome = events.record_event(
            session,
            wave=followup,
            contact=session.get(Contact, case.contact_id),
            event=CASE_CLOSED_EVENT,
            event_id=f"case-{case.id}",
            now=now,
        )
    except events.WaveNotTakingEvents as refused:
        raise InvalidInput(refused.message, field="followup_wave") from None
    case.followup_wave_id = followup.id
    session.add(case)
    session.flush()
    return outcome


# --- dashboard cards ------------------------------------------------------------------------------


@dataclass(frozen=True)
class CaseFigures:
    """One wave's cases: how many are open, how fast they close, how many in time."""

    wave: str
    cases: int
    open: int
    closed: int
    median_hours_to_close: float | None
    closed_within_sla: float | None
    """Share of the closed cases closed by their due time (None: none closed)."""


def case_figures(session: Session, study: Study, waves: Sequence[Wave]) -> list[CaseFigures]:
    """Per wave of the study (in the given order) with at least one case."""
    rows = session.exec(
        select(
            FollowUpCase.wave_id,
            FollowUpCase.status,
            FollowUpCase.created_at,
            FollowUpCase.closed_at,
            FollowUpCase.due_at,
        ).where(FollowUpCase.study_id == study.id)
    ).all()
    by_wave: dict[int, list[Any]] = {}
    for row in rows:
        by_wave.setdefault(row[0], []).append(row)
    figures = []
    for wave in waves:
        cases = by_wave.get(wave.id)
        if not cases:
            continue
        closed = [
            (as_utc(c[3]), as_utc(c[2]), as_utc(c[4]))
            for c in cases
            if c[1] == CaseStatus.closed and c[3]
        ]
        hours = [(done - opened).total_seconds() / 3600 for done, opened, _ in closed]
        figures.append(
            CaseFigures(
                wave=wave.name,
                cases=len(cases),
                open=sum(1 for c in cases if c[1] != CaseStatus.closed),
                closed=len(closed),
                median_hours_to_close=statistics.median(hours) if hours else None,
                closed_within_sla=(
                    sum(1 for done, _, due in closed if done <= due) / len(closed)
                    if closed
                    else None
                ),
            )
        )
    return figures
