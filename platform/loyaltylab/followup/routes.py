"""Pages of the closed loop: a wave's alert rules, the follow-up cases, the case-handler right."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel

from loyaltylab import access, i18n
from loyaltylab.accounts.models import Membership, Role
from loyaltylab.audit import service as audit
from loyaltylab.db import SessionDep
from loyaltylab.deps import EditorDep, OrgContext, OrgDep, OwnerDep, SettingsDep
from loyaltylab.errors import InvalidInput
from loyaltylab.fieldwork.events import Outcome
from loyaltylab.fieldwork.models import Wave
from loyaltylab.fieldwork.service import definition_for
from loyaltylab.followup import service
from loyaltylab.followup.models import DEFAULT_SLA_HOURS, AlertKind, CaseStatus, FollowUpCase
from loyaltylab.i18n import N_
from loyaltylab.web import flash, form_errors, redirect, render, ui_text
from surveys.definition import QuestionnaireDefinition

router = APIRouter(include_in_schema=False)
FormStr = Annotated[str, Form()]

KIND_LABELS = {
    AlertKind.nps: N_("Likelihood to recommend at or below"),
    AlertKind.construct: N_("Construct score at or below"),
    AlertKind.choice: N_("Answer to a question"),
    AlertKind.words: N_("Words in an open answer"),
}
STATUS_LABELS = {
    CaseStatus.open: N_("Open"),
    CaseStatus.in_progress: N_("In progress"),
    CaseStatus.closed: N_("Closed"),
}


def _labels() -> dict[str, dict[str, str]]:
    return {
        "kinds": {kind.value: i18n.gettext(label) for kind, label in KIND_LABELS.items()},
        "statuses": {status.value: i18n.gettext(label) for status, label in STATUS_LABELS.items()},
    }


# --- alert rules of a wave ----------------------------------------------------------------------


def _alerts_page(
    request: Request,
    session: SessionDep,
    ctx: OrgContext,
    wave: Wave,
    *,
    values: dict[str, object] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    wave, study = access.readable_wave(session, ctx, wave.id)
    definition = definition_for(session, wave.questionnaire_version_id)
    return render(
        request,
        "followup/alerts.html",
        {
            "wave": wave,
            "study": study,
            "rules": service.rules_of(session, wave.id),
            "counts": service.alert_counts(session, wave.id),
            "targets": service.rule_targets(definition),
            "names": _target_names(definition),
            "editor": access.may_edit(ctx, wave),
            "values": values
            or {"nps_threshold": service.DETRACTOR_MAX, "sla_hours": DEFAULT_SLA_HOURS},
            "errors": errors or {},
            **_labels(),
        },
        status_code=status_code,
    )


def _target_names(definition: QuestionnaireDefinition) -> dict[str, str]:
    """Item and construct code -> its text in the interface language, for the rules list."""
    names = {construct.code: ui_text(construct.name) for construct in definition.constructs}
    names.update({item.code: ui_text(item.label) for _s, _i, item in definition.items()})
    return names


@router.get("/waves/{wave_id}/alerts", response_class=HTMLResponse)
def alert_rules(request: Request, session: SessionDep, ctx: OrgDep, wave_id: int) -> HTMLResponse:
    wave, _study = access.readable_wave(session, ctx, wave_id)
    return _alerts_page(request, session, ctx, wave)


class AlertRuleForm(BaseModel):
    """The fields of the new alert rule form, as submitted: each kind has its own target (and
    threshold) fields."""

    kind: str = ""
    nps_item: str = ""
    nps_threshold: str = ""
    construct_code: str = ""
    construct_threshold: str = ""
    choice_item: str = ""
    choice_values: list[str] = []
    text_item: str = ""
    words: str = ""
    sla_hours: str = ""

    def target(self) -> tuple[str, str]:
        """The chosen kind's target and threshold."""
        targets = {
            "nps": (self.nps_item, self.nps_threshold),
            "construct": (self.construct_code, self.construct_threshold),
            "choice": (self.choice_item, ""),
            "words": (self.text_item, ""),
        }
        return targets.get(self.kind, ("", ""))


@router.post("/waves/{wave_id}/alerts", response_class=HTMLResponse)
def add_alert_rule(
    request: Request,
    session: SessionDep,
    ctx: EditorDep,
    settings: SettingsDep,
    wave_id: int,
    form: Annotated[AlertRuleForm, Form()],
) -> Response:
    wave, _study = access.editable_wave(session, ctx, wave_id)
    target, threshold = form.target()
    try:
        rule = service.create_rule(
            session,
            wave,
            kind=form.kind,
            target=target,
            threshold=threshold,
            values=form.choice_values,
            words=form.words,
            sla_hours=form.sla_hours,
        )
    except InvalidInput as exc:
        session.rollback()
        return _alerts_page(
            request,
            session,
            ctx,
            wave,
            values=form.model_dump(),
            errors=form_errors(exc),
            status_code=400,
        )
    raised = service.check_wave(session, wave, settings, rule)
    audit.record(
        session,
        ctx,
        "alert_rule.create",
        object_type="alert_rule",
        object_id=rule.id,
        wave=wave.name,
        kind=rule.kind.value,
    )
    flash(
        request, "Alert rule added; %(count)s existing responses meet it.", "success", count=raised
    )
    return redirect(f"/waves/{wave.id}/alerts")


@router.post("/waves/{wave_id}/alerts/{rule_id}/delete")
def delete_alert_rule(
    request: Request, session: SessionDep, ctx: EditorDep, wave_id: int, rule_id: int
) -> Response:
    wave, _study = access.editable_wave(session, ctx, wave_id)
    service.delete_rule(session, wave, rule_id)
    audit.record(
        session,
        ctx,
        "alert_rule.delete",
        object_type="alert_rule",
        object_id=rule_id,
        wave=wave.name,
    )
    flash(request, "Alert rule removed.", "success")
    return redirect(f"/waves/{wave.id}/alerts")


# --- cases --------------------------------------------------------------------------------------


@router.get("/cases", response_class=HTMLResponse)
def cases(request: Request, session: SessionDep, ctx: OrgDep, status: str = "") -> HTMLResponse:
    return render(
        request,
        "followup/cases.html",
        {"rows": service.list_cases(session, ctx, status=status), "status": status, **_labels()},
    )


def _case_page(
    request: Request,
    session: SessionDep,
    ctx: OrgContext,
    case: FollowUpCase,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    language = i18n.html_lang()
    view = service.case_view(session, case, language)
    return render(
        request,
        "followup/case.html",
        {
            "view": view,
            "handlers": service.case_handlers(session, case.client_organisation_id),
            "followup_waves": [
                (str(wave.id), wave.name) for wave in service.followup_waves(session, case)
            ]
            if case.status != CaseStatus.closed and case.contact_id
            else [],
            "names": _target_names(definition_for(session, view.wave.questionnaire_version_id)),
            "values": values or {},
            "errors": errors or {},
            "team": ctx.role is not Role.client,
            **_labels(),
        },
        status_code=status_code,
    )


@router.get("/cases/{case_id}", response_class=HTMLResponse)
def show_case(request: Request, session: SessionDep, ctx: OrgDep, case_id: int) -> HTMLResponse:
    case = access.readable_case(session, ctx, case_id)
    return _case_page(request, session, ctx, case)


class CaseForm(BaseModel):
    """The fields of a case's form, as submitted."""

    status: str = ""
    assignee: str = ""
    note: str = ""
    followup_wave: str = ""


@router.post("/cases/{case_id}", response_class=HTMLResponse)
def update_case(
    request: Request,
    session: SessionDep,
    ctx: OrgDep,
    case_id: int,
    form: Annotated[CaseForm, Form()],
) -> Response:
    case = access.readable_case(session, ctx, case_id)
    try:
        sent = service.update_case(
            session,
            ctx,
            case,
            status=form.status,
            assignee_id=form.assignee,
            note=form.note,
            followup_wave_id=form.followup_wave,
        )
    except InvalidInput as exc:
        session.rollback()
        case = access.readable_case(session, ctx, case_id)
        return _case_page(
            request,
            session,
            ctx,
            case,
            values=form.model_dump(),
            errors=form_errors(exc),
            status_code=400,
        )
    if sent is None:
        flash(request, "The case has been saved.", "success")
    elif sent.status == Outcome.cooled_down:
        flash(
            request,
            "Case closed. The survey was not sent: the customer was invited after "
            "another event recently (the wave's cool-down).",
            "warning",
        )
    elif sent.status == Outcome.opted_out:
        flash(
            request,
            "Case closed. The survey was not sent: the customer opted out of the study's e-mails.",
            "warning",
        )
    else:
        flash(
            request,
            "Case closed; the survey of wave %(wave)s is on its way.",
            "success",
            wave=session.get(Wave, sent.event.wave_id).name,
        )
    return redirect(f"/cases/{case.id}")


# --- the case-handler right, given on the members page --------------------------------------------


@router.post("/org/members/{membership_id}/case-handler")
def set_case_handler(
    request: Request,
    session: SessionDep,
    ctx: OwnerDep,
    membership_id: int,
    case_handler: FormStr = "",
) -> Response:
    # The membership's organisation, not the company a client-role member acts for.
    membership = access.found(
        session,
        access.owned(Membership, ctx.membership.organisation_id).where(
            Membership.id == membership_id
        ),
    )
    if membership.role != Role.client:
        raise InvalidInput("Only client members can handle follow-up cases.")
    membership.case_handler = case_handler == "1"
    session.add(membership)
    session.flush()
    audit.record(
        session,
        ctx,
        "member.case_handler",
        object_type="membership",
        object_id=membership.id,
        member=audit.member_email(session, membership_id),
        case_handler=str(membership.case_handler).lower(),
    )
    flash(request, "The case-handler right has been changed.", "success")
    return redirect("/org/members")
