"""Researcher pages of fieldwork: waves, channels, contacts, monitoring, quality and exports.

Thin routes over :mod:`surveys.fieldwork`. Clients of a study may read its waves; only editors
of the study's organisation change anything. Every wave is loaded through its study, so another
organisation gets 404.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from typing import Annotated, Any

import segno
from fastapi import APIRouter, BackgroundTasks, Form, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel
from sqlmodel import Session, func, select
from starlette.datastructures import UploadFile as StarletteUploadFile

from loyaltylab import i18n
from loyaltylab.audit import service as audit
from loyaltylab.db import SessionDep
from loyaltylab.deps import EditorDep, OrgContext, OrgDep, SettingsDep
from loyaltylab.errors import InvalidInput, NotFound
from loyaltylab.fieldwork import texts
from loyaltylab.i18n import N_
from loyaltylab.mail import OutboxMessage, deliver_all, queue_mail
from loyaltylab.notifications import service as notifications
from loyaltylab.reports_web import service as reports
from loyaltylab.reports_web.routes import QueueDep
from loyaltylab.respond import routes as respond
from loyaltylab.settings import Settings
from loyaltylab.studies import service as studies
from loyaltylab.studies.access import require_study_team
from loyaltylab.studies.models import Study
from loyaltylab.web import flash, form_errors, redirect, render
from reports.exports import csv_bytes, neutralise, xlsx_bytes
from surveys import service as questionnaires
from surveys.fieldwork import schedule as schedules
from surveys.fieldwork import service
from surveys.fieldwork.contacts_import import ContactFileRejected, read_contacts
from surveys.fieldwork.export import raw_frame
from surveys.fieldwork.models import (
    Channel,
    Contact,
    Frequency,
    ResponseStatus,
    Wave,
    WaveStatus,
)
from surveys.fieldwork.models import Response as SurveyResponse
from surveys.fieldwork.monitoring import wave_progress
from surveys.fieldwork.quality import wave_flags
from surveys.models import QuestionnaireVersion

router = APIRouter()
REFRESH_SECONDS = 30
CONTACTS_SHOWN = 200
FREQUENCIES = {
    Frequency.monthly: N_("Monthly"),
    Frequency.quarterly: N_("Quarterly"),
    Frequency.yearly: N_("Yearly"),
}
STATUS_MESSAGES = {"open": N_("The wave is open."), "close": N_("The wave is closed.")}
EXCLUSION_MESSAGES = {
    True: N_("The response is excluded from analyses."),
    False: N_("The response is included in analyses again."),
}


# --- loading ---------------------------------------------------------------------------------


def _wave(session: Session, ctx: OrgContext, wave_id: int) -> tuple[Wave, Study]:
    """A wave of a study the member works on (its links, QR code and responses are fieldwork
    internals: the commissioning client follows the dashboard and its shared reports)."""
    wave = session.get(Wave, wave_id)
    if wave is None:
        raise NotFound("Not found.")
    study = studies.get_visible_study(session, ctx, wave.study_id)
    require_study_team(ctx, study)
    return wave, study


def _editable_wave(session: Session, ctx: OrgContext, wave_id: int) -> tuple[Wave, Study]:
    ctx.require_editor()
    wave, study = _wave(session, ctx, wave_id)
    if wave.organisation_id != ctx.organisation_id:
        raise NotFound("Not found.")
    return wave, study


def _version_label(session: Session, version: QuestionnaireVersion) -> str:
    """A version as the wave forms name it: the questionnaire's title and the version number."""
    definition = service.definition_for(session, version.id)
    title = next(iter(definition.title.values()), "")
    return f"{title} · v{version.number}"


def _published_versions(session: Session, study: Study) -> list[tuple[int, str]]:
    """The versions a wave can field, as (id, label) options."""
    return [
        (version.id, _version_label(session, version))
        for version in questionnaires.published_versions(session, study.id)
    ]


# --- waves -----------------------------------------------------------------------------------


@router.get("/studies/{study_id}/waves", response_class=HTMLResponse)
def list_waves(request: Request, session: SessionDep, ctx: OrgDep, study_id: int) -> HTMLResponse:
    study = studies.get_visible_study(session, ctx, study_id)
    require_study_team(ctx, study)
    return _waves_page(request, session, ctx, study, values={}, errors={})


def _waves_page(
    request: Request,
    session: Session,
    ctx: OrgContext,
    study: Study,
    *,
    values: dict[str, str],
    errors: dict[str, str],
    status_code: int = 200,
) -> HTMLResponse:
    waves = session.exec(
        select(Wave).where(Wave.study_id == study.id).order_by(Wave.created_at.desc(), Wave.id)
    ).all()
    editable = ctx.role.can_edit and study.organisation_id == ctx.organisation_id
    schedule = schedules.get_schedule(session, study.id)
    return render(
        request,
        "fieldwork/waves.html",
        {
            "study": study,
            "waves": waves,
            "editable": editable,
            "frequencies": FREQUENCIES,
            "schedule": schedule,
            "next_period": (
                schedules.next_period(session, schedule, now=datetime.now(UTC))
                if schedule
                else None
            ),
            "versions": _published_versions(session, study) if editable else [],
            "values": values,
            "errors": errors,
        },
        status_code=status_code,
    )


def _moment(value: str, field: str) -> datetime | None:
    if not value.strip():
        return None
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        raise InvalidInput("Enter a date and time such as 2026-07-01 09:00.", field=field) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _moment_value(moment: datetime | None) -> str:
    """A stored time (UTC) as the ``datetime-local`` field shows it."""
    if moment is None:
        return ""
    moment = moment.astimezone(UTC) if moment.tzinfo else moment
    return moment.strftime("%Y-%m-%dT%H:%M:%S" if moment.second else "%Y-%m-%dT%H:%M")


def _quotas(text: str) -> tuple[str | None, dict[str, int]]:
    """``tier=gold: 200, silver: 300`` or one ``attribute=value: n`` per line."""
    attribute, quotas = None, {}
    for part in text.replace("\n", ",").split(","):
        if not part.strip():
            continue
        cell, _, count = part.rpartition(":")
        if "=" in cell:
            name, _, cell = cell.partition("=")
            if attribute not in (None, name.strip()):
                raise InvalidInput("Quotas must all be on one contact attribute.", field="quotas")
            attribute = name.strip()
        try:
            quotas[cell.strip()] = int(count)
        except ValueError:
            raise InvalidInput(texts.QUOTA_SYNTAX, field="quotas") from None
        if not cell.strip() or quotas[cell.strip()] < 1:
            raise InvalidInput(texts.QUOTA_SYNTAX, field="quotas")
    if quotas and not attribute:
        raise InvalidInput(texts.QUOTA_SYNTAX, field="quotas")
    return attribute, quotas


def _quotas_value(wave: Wave) -> str:
    return "\n".join(f"{wave.quota_attribute}={cell}: {n}" for cell, n in wave.quotas.items())


class WaveForm(BaseModel):
    """The fields of the new-wave and edit-wave forms, as typed."""

    name: str = ""
    version_id: str = ""
    opens_at: str = ""
    closes_at: str = ""
    target: str = ""
    quotas: str = ""

    def parsed(self) -> dict[str, Any]:
        """The keywords of ``service.create_wave`` / ``update_wave``; InvalidInput names the
        field at fault."""
        if not self.version_id.strip().isdigit():
            raise InvalidInput(texts.CHOOSE_VERSION, field="version_id")
        target = self.target.strip()
        if target and not target.isdigit():
            raise InvalidInput(texts.TARGET_NUMBER, field="target")
        attribute, quotas = _quotas(self.quotas)
        return {
            "version_id": int(self.version_id),
            "name": self.name,
            "opens_at": _moment(self.opens_at, "opens_at"),
            "closes_at": _moment(self.closes_at, "closes_at"),
            "target": int(target) if target else None,
            "quota_attribute": attribute,
            "quotas": quotas,
        }

    @classmethod
    def of(cls, wave: Wave) -> WaveForm:
        return cls(
            name=wave.name,
            version_id=str(wave.questionnaire_version_id),
            opens_at=_moment_value(wave.opens_at),
            closes_at=_moment_value(wave.closes_at),
            target=str(wave.target or ""),
            quotas=_quotas_value(wave),
        )


WaveFormDep = Annotated[WaveForm, Form()]


def _wave_errors(error: InvalidInput | service.FieldworkError) -> dict[str, str]:
    if isinstance(error, InvalidInput):
        return form_errors(error, default_field="form")
    return texts.wave_error(error)


@router.post("/studies/{study_id}/waves", response_class=HTMLResponse)
def create_wave(
    request: Request, session: SessionDep, ctx: EditorDep, study_id: int, form: WaveFormDep
) -> Response:
    study = studies.get_editable_study(session, ctx, study_id)
    try:
        wave = service.create_wave(
            session, study_id=study.id, organisation_id=ctx.organisation_id, **form.parsed()
        )
    except (InvalidInput, service.FieldworkError) as exc:
        session.rollback()
        return _waves_page(
            request,
            session,
            ctx,
            study,
            values=form.model_dump(),
            errors=_wave_errors(exc),
            status_code=400,
        )
    flash(request, "The wave has been created.", "success")
    return redirect(f"/waves/{wave.id}")


@router.get("/waves/{wave_id}/edit", response_class=HTMLResponse)
def edit_wave_page(
    request: Request, session: SessionDep, ctx: EditorDep, wave_id: int
) -> HTMLResponse:
    wave, study = _editable_wave(session, ctx, wave_id)
    return _edit_page(request, session, wave, study, form=WaveForm.of(wave), errors={})


def _edit_page(
    request: Request,
    session: Session,
    wave: Wave,
    study: Study,
    *,
    form: WaveForm,
    errors: dict[str, str],
    status_code: int = 200,
) -> HTMLResponse:
    draft = wave.status == WaveStatus.draft
    current = session.get(QuestionnaireVersion, wave.questionnaire_version_id)
    return render(
        request,
        "fieldwork/wave_edit.html",
        {
            "wave": wave,
            "study": study,
            "values": form.model_dump(),
            "errors": errors,
            "versions": _published_versions(session, study) if draft else [],
            "current_version": _version_label(session, current) if current else "",
        },
        status_code=status_code,
    )


@router.post("/waves/{wave_id}/edit", response_class=HTMLResponse)
def edit_wave(
    request: Request, session: SessionDep, ctx: EditorDep, wave_id: int, form: WaveFormDep
) -> Response:
    wave, study = _editable_wave(session, ctx, wave_id)
    if wave.status != WaveStatus.draft and not form.version_id:
        # The form of an opened wave shows its version without a field for it.
        form.version_id = str(wave.questionnaire_version_id)
    try:
        service.update_wave(session, wave, **form.parsed())
    except (InvalidInput, service.FieldworkError) as exc:
        session.rollback()
        wave, study = _editable_wave(session, ctx, wave_id)
        errors = _wave_errors(exc)
        return _edit_page(request, session, wave, study, form=form, errors=errors, status_code=400)
    flash(request, "The wave has been saved.", "success")
    return redirect(f"/waves/{wave.id}")


@router.post("/studies/{study_id}/schedule")
def set_schedule(
    request: Request,
    session: SessionDep,
    ctx: EditorDep,
    study_id: int,
    frequency: Annotated[str, Form()] = "",
) -> Response:
    """Set or remove the study's schedule; the next wave is prepared at once (as a draft)."""
    study = studies.get_editable_study(session, ctx, study_id)
    if frequency and frequency not in FREQUENCIES:
        raise InvalidInput("This action is not allowed here.")
    schedules.set_schedule(
        session,
        study_id=study.id,
        organisation_id=ctx.organisation_id,
        frequency=Frequency(frequency) if frequency else None,
    )
    if not frequency:
        flash(request, "The schedule has been removed.", "success")
        return redirect(f"/studies/{study.id}/waves")
    wave = schedules.prepare_next_wave(session, study)
    if wave is not None:
        flash(request, "The schedule is saved and the next wave is prepared as a draft.", "success")
    else:
        flash(request, "The schedule is saved.", "success")
    return redirect(f"/studies/{study.id}/waves")


@router.get("/waves/{wave_id}", response_class=HTMLResponse)
def show_wave(
    request: Request, session: SessionDep, ctx: OrgDep, settings: SettingsDep, wave_id: int
) -> HTMLResponse:
    wave, study = _wave(session, ctx, wave_id)
    contacts = session.exec(
        select(func.count(Contact.id)).where(Contact.study_id == study.id)
    ).one()
    response = render(
        request,
        "fieldwork/wave.html",
        {
            "wave": wave,
            "study": study,
            "editable": ctx.role.can_edit and wave.organisation_id == ctx.organisation_id,
            "progress": wave_progress(session, wave),
            "public_url": settings.absolute_url(f"/s/{wave.public_slug}"),
            "contacts": contacts,
            "refresh": REFRESH_SECONDS if wave.status == WaveStatus.open else None,
            "smtp": bool(settings.smtp_url),
            "generating": reports.reports_in_progress(session, study, wave_id=wave.id),
        },
    )
    response.headers["cache-control"] = "no-store"
    return response


@router.post("/waves/{wave_id}/status")
def change_status(
    request: Request,
    session: SessionDep,
    ctx: EditorDep,
    queue: QueueDep,
    wave_id: int,
    action: Annotated[str, Form()] = "",
) -> Response:
    wave, _study = _editable_wave(session, ctx, wave_id)
    transitions = {"open": service.open_wave, "close": service.close_wave}
    if action not in transitions:
        raise InvalidInput("This action is not allowed here.")
    try:
        transitions[action](session, wave)
    except service.InvalidTransition:
        session.rollback()
        flash(request, "The wave cannot change to this status now.", "error")
        return redirect(f"/waves/{wave.id}")
    flash(request, STATUS_MESSAGES[action], "success")
    if action == "close" and notifications.report_closed_wave(session, wave, queue):
        flash(request, "The client's report of this wave is being generated.", "success")
    return redirect(f"/waves/{wave.id}")


@router.get("/waves/{wave_id}/qr.png")
def wave_qr_png(session: SessionDep, ctx: OrgDep, settings: SettingsDep, wave_id: int) -> Response:
    return _qr(session, ctx, settings, wave_id, "png")


@router.get("/waves/{wave_id}/qr.svg")
def wave_qr_svg(session: SessionDep, ctx: OrgDep, settings: SettingsDep, wave_id: int) -> Response:
    return _qr(session, ctx, settings, wave_id, "svg")


def _qr(session: Session, ctx: OrgContext, settings: Settings, wave_id: int, kind: str) -> Response:
    wave, _study = _wave(session, ctx, wave_id)
    code = segno.make(settings.absolute_url(f"/s/{wave.public_slug}"), error="m")
    buffer = io.BytesIO()
    code.save(buffer, kind=kind, scale=8, border=2)
    media_type = "image/png" if kind == "png" else "image/svg+xml"
    filename = f"wave-{wave.id}-qr.{kind}"
    return Response(
        buffer.getvalue(),
        media_type=media_type,
        headers={"content-disposition": f'inline; filename="{filename}"'},
    )


# --- contacts --------------------------------------------------------------------------------


@router.get("/studies/{study_id}/contacts", response_class=HTMLResponse)
def list_contacts(
    request: Request, session: SessionDep, ctx: EditorDep, study_id: int
) -> HTMLResponse:
    study = studies.get_editable_study(session, ctx, study_id)
    return _contacts_page(request, session, study, problems=[], error="")


def _contacts_page(
    request: Request,
    session: Session,
    study: Study,
    *,
    problems: list[str],
    error: str,
    status_code: int = 200,
) -> HTMLResponse:
    total = session.exec(select(func.count(Contact.id)).where(Contact.study_id == study.id)).one()
    contacts = session.exec(
        select(Contact)
        .where(Contact.study_id == study.id)
        .order_by(Contact.id)
        .limit(CONTACTS_SHOWN)
    ).all()
    names = list(dict.fromkeys(name for contact in contacts for name in contact.attributes))
    return render(
        request,
        "fieldwork/contacts.html",
        {
            "study": study,
            "total": total,
            "contacts": contacts,
            "attribute_names": names,
            "problems": problems,
            "error": error,
            "max_mb": 5,
        },
        status_code=status_code,
    )


@router.post("/studies/{study_id}/contacts", response_class=HTMLResponse)
async def upload_contacts(
    request: Request, session: SessionDep, ctx: EditorDep, study_id: int
) -> Response:
    study = studies.get_editable_study(session, ctx, study_id)
    file = (await request.form()).get("file")
    if not isinstance(file, StarletteUploadFile) or not file.filename:
        error = i18n.gettext("Choose a CSV or XLSX file to upload.")
        return _contacts_page(request, session, study, problems=[], error=error, status_code=400)
    content = await file.read(5 * 1024 * 1024 + 1)
    try:
        parsed = read_contacts(content, file.filename)
    except ContactFileRejected as exc:
        error = texts.rejection(exc.reason, **exc.params)
        return _contacts_page(request, session, study, problems=[], error=error, status_code=400)
    if not parsed.ok:
        problems = [texts.row_problem(problem) for problem in parsed.problems]
        error = i18n.ngettext(
            "%(num)d row has a problem; nothing was imported.",
            "%(num)d rows have problems; nothing was imported.",
            len({problem.row for problem in parsed.problems}),
        )
        return _contacts_page(
            request, session, study, problems=problems, error=error, status_code=400
        )
    service.add_contacts(
        session, study_id=study.id, organisation_id=study.organisation_id, rows=parsed.rows
    )
    flash(request, "%(count)s contacts have been imported.", "success", count=len(parsed.rows))
    return redirect(f"/studies/{study.id}/contacts")


# --- invitations -----------------------------------------------------------------------------


@router.post("/waves/{wave_id}/invitations/links")
def download_links(
    session: SessionDep, ctx: EditorDep, settings: SettingsDep, wave_id: int
) -> Response:
    """New personal links for every contact who has not answered, as CSV (earlier links end)."""
    wave, _study = _editable_wave(session, ctx, wave_id)
    issued = service.issue_invitations(
        session, wave, service.contacts_to_invite(session, wave, invited=None)
    )
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(["external_id", "email", "phone", "link"])
    for item in issued:
        row = [item.contact.external_id, item.contact.email, item.contact.phone]
        writer.writerow([neutralise(value or "") for value in row] + [_link(settings, item.token)])
    return Response(
        buffer.getvalue().encode("utf-8-sig"),
        media_type="text/csv; charset=utf-8",
        headers={
            "content-disposition": f'attachment; filename="wave-{wave.id}-links.csv"',
            "cache-control": "no-store",
        },
    )


def _link(settings: Settings, token: str) -> str:
    return settings.absolute_url(f"/i/{token}")


def _send(
    request: Request,
    session: Session,
    settings: Settings,
    background: BackgroundTasks,
    wave: Wave,
    study: Study,
    contacts: list[Contact],
    *,
    reminder: bool,
) -> int:
    contacts = [contact for contact in contacts if contact.email]
    messages = []
    for item in service.issue_invitations(session, wave, contacts):
        subject, body = texts.invitation_mail(
            company=study.company_name or study.name,
            link=_link(settings, item.token),
            closes_at=wave.closes_at,
            reminder=reminder,
        )
        messages.append(
            queue_mail(
                session,
                to=item.contact.email,
                subject=subject,
                body=body,
                organisation_id=wave.organisation_id,
            )
        )
    if settings.smtp_url and messages:
        # After the response: the session dependency has committed the outbox rows by then.
        background.add_task(
            deliver_all, request.app.state.engine, [m.id for m in messages], settings.smtp_url
        )
    return len(messages)


@router.post("/waves/{wave_id}/invitations/email")
def email_invitations(
    request: Request,
    session: SessionDep,
    ctx: EditorDep,
    settings: SettingsDep,
    background: BackgroundTasks,
    wave_id: int,
) -> Response:
    wave, study = _editable_wave(session, ctx, wave_id)
    contacts = service.contacts_to_invite(session, wave, invited=None)
    count = _send(request, session, settings, background, wave, study, contacts, reminder=False)
    flash(request, "%(count)s invitations have been sent.", "success", count=count)
    return redirect(f"/waves/{wave.id}")


@router.post("/waves/{wave_id}/invitations/remind")
def email_reminders(
    request: Request,
    session: SessionDep,
    ctx: EditorDep,
    settings: SettingsDep,
    background: BackgroundTasks,
    wave_id: int,
) -> Response:
    wave, study = _editable_wave(session, ctx, wave_id)
    contacts = service.contacts_to_invite(session, wave, invited=True)
    count = _send(request, session, settings, background, wave, study, contacts, reminder=True)
    flash(request, "%(count)s reminders have been sent.", "success", count=count)
    return redirect(f"/waves/{wave.id}")


@router.get("/outbox", response_class=HTMLResponse)
def outbox(request: Request, session: SessionDep, ctx: EditorDep) -> HTMLResponse:
    messages = session.exec(
        select(OutboxMessage)
        .where(OutboxMessage.organisation_id == ctx.organisation_id)
        .order_by(OutboxMessage.id.desc())
        .limit(200)
    ).all()
    return render(request, "fieldwork/outbox.html", {"messages": messages})


# --- responses, quality and exports ----------------------------------------------------------


@router.get("/waves/{wave_id}/responses", response_class=HTMLResponse)
def list_responses(
    request: Request, session: SessionDep, ctx: OrgDep, wave_id: int, flagged: str = ""
) -> HTMLResponse:
    wave, study = _wave(session, ctx, wave_id)
    flags = wave_flags(session, wave)
    responses = service.list_responses(session, wave.id)
    if flagged:
        responses = [response for response in responses if flags.get(response.id)]
    pseudonyms = dict(
        session.exec(
            select(Contact.id, Contact.pseudonym).where(Contact.study_id == study.id)
        ).all()
    )
    return render(
        request,
        "fieldwork/responses.html",
        {
            "wave": wave,
            "study": study,
            "responses": responses,
            "flags": flags,
            "flagged_count": sum(1 for raised in flags.values() if raised),
            "flagged": bool(flagged),
            "pseudonyms": pseudonyms,
            "editable": ctx.role.can_edit and wave.organisation_id == ctx.organisation_id,
            "flag_label": texts.flag_label,
        },
    )


@router.post("/waves/{wave_id}/responses/{response_id}/exclusion")
def set_exclusion(
    request: Request,
    session: SessionDep,
    ctx: EditorDep,
    wave_id: int,
    response_id: int,
    excluded: Annotated[str, Form()] = "",
) -> Response:
    wave, _study = _editable_wave(session, ctx, wave_id)
    response = session.get(SurveyResponse, response_id)
    if response is None or response.wave_id != wave.id:
        raise NotFound("Not found.")
    exclude = excluded == "1"
    service.set_excluded(session, response, exclude)
    flash(request, EXCLUSION_MESSAGES[exclude], "success")
    return redirect(f"/waves/{wave.id}/responses#r-{response.id}")


@router.get("/waves/{wave_id}/export.csv")
def export_csv(session: SessionDep, ctx: EditorDep, wave_id: int) -> Response:
    return _export(session, ctx, wave_id, "csv")


@router.get("/waves/{wave_id}/export.xlsx")
def export_xlsx(session: SessionDep, ctx: EditorDep, wave_id: int) -> Response:
    return _export(session, ctx, wave_id, "xlsx")


def _export(session: Session, ctx: OrgContext, wave_id: int, kind: str) -> Response:
    # Raw data (contact attributes, open text) is the research organisation's, never a client's.
    wave, _study = _editable_wave(session, ctx, wave_id)
    frame = raw_frame(session, wave)
    audit.record(
        session, ctx, "export.responses", object_type="wave", object_id=wave.id, format=kind
    )
    if kind == "csv":
        content, media_type = csv_bytes(frame), "text/csv; charset=utf-8"
    else:
        safe = frame.map(neutralise)
        content = xlsx_bytes(
            safe, definition=service.definition_for(session, wave.questionnaire_version_id)
        )
        media_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return Response(
        content,
        media_type=media_type,
        headers={
            "content-disposition": f'attachment; filename="wave-{wave.id}-responses.{kind}"',
            "cache-control": "no-store",
        },
    )


# --- telephone interviews --------------------------------------------------------------------


def _phone_access(
    session: Session, ctx: OrgContext, wave_id: int, response_id: int
) -> respond.Access:
    """The respondent form's access for a phone interview: its pages are reused as they are."""
    wave, _study = _editable_wave(session, ctx, wave_id)
    response = session.get(SurveyResponse, response_id)
    if response is None or response.wave_id != wave.id or response.channel != Channel.phone:
        raise NotFound("Not found.")
    contact = session.get(Contact, response.contact_id) if response.contact_id else None
    return respond.Access(
        wave=wave,
        base=f"/waves/{wave.id}/phone/{response.id}",
        channel=Channel.phone,
        key="",
        contact=contact,
        response=response,
    )


@router.get("/waves/{wave_id}/phone", response_class=HTMLResponse)
def phone_start(
    request: Request, session: SessionDep, ctx: EditorDep, wave_id: int, q: str = ""
) -> HTMLResponse:
    wave, study = _editable_wave(session, ctx, wave_id)
    return _phone_page(request, session, wave, study, q=q, error="")


def _phone_page(
    request: Request,
    session: Session,
    wave: Wave,
    study: Study,
    *,
    q: str,
    error: str,
    status_code: int = 200,
) -> HTMLResponse:
    matches = service.find_contacts(session, study.id, q)
    interviews = session.exec(
        select(SurveyResponse)
        .where(SurveyResponse.wave_id == wave.id, SurveyResponse.channel == Channel.phone)
        .order_by(SurveyResponse.id.desc())
        .limit(50)
    ).all()
    return render(
        request,
        "fieldwork/phone.html",
        {
            "wave": wave,
            "study": study,
            "q": q,
            "matches": matches,
            "interviews": interviews,
            "error": error,
            "submission_key": service.new_submission_key(),
        },
        status_code=status_code,
    )


@router.post("/waves/{wave_id}/phone")
def phone_begin(
    request: Request,
    session: SessionDep,
    ctx: EditorDep,
    wave_id: int,
    contact_id: Annotated[str, Form()] = "",
    submission_key: Annotated[str, Form()] = "",
) -> Response:
    wave, study = _editable_wave(session, ctx, wave_id)
    contact = None
    if contact_id.isdigit():
        contact = session.get(Contact, int(contact_id))
        if contact is None or contact.study_id != study.id:
            raise NotFound("Not found.")
    try:
        claim = service.claim_submission(
            session, submission_key, organisation_id=wave.organisation_id
        )
    except service.RepeatedSubmission:
        session.rollback()
        stored = service.stored_outcome(session, submission_key)
        target = f"/waves/{wave.id}/phone/{stored.response_id}" if stored else ""
        return redirect(f"{target}/page/0" if target else f"/waves/{wave.id}/phone")
    definition = service.definition_for(session, wave.questionnaire_version_id)
    try:
        response = service.start_response(
            session,
            wave,
            channel=Channel.phone,
            language=definition.languages[0],
            claim=claim,
            contact=contact,
            interviewer_id=ctx.user.id,
        )
    except service.FieldworkError as exc:
        session.rollback()
        return _phone_page(
            request,
            session,
            wave,
            study,
            q="",
            error=texts.fieldwork_error(exc.reason),
            status_code=400,
        )
    return redirect(f"/waves/{wave.id}/phone/{response.id}/page/{response.current_page}")


@router.get("/waves/{wave_id}/phone/{response_id}/page/{page}")
def phone_show_page(
    request: Request, session: SessionDep, ctx: EditorDep, wave_id: int, response_id: int, page: int
) -> Response:
    access = _phone_access(session, ctx, wave_id, response_id)
    return respond._show_page(request, session, access, page)


@router.post("/waves/{wave_id}/phone/{response_id}/page/{page}")
async def phone_save_page(
    request: Request, session: SessionDep, ctx: EditorDep, wave_id: int, response_id: int, page: int
) -> Response:
    access = _phone_access(session, ctx, wave_id, response_id)
    return await respond._in_thread(respond._save_page, request, session, access, page)


@router.post("/waves/{wave_id}/phone/{response_id}/language")
async def phone_language(
    request: Request, session: SessionDep, ctx: EditorDep, wave_id: int, response_id: int
) -> Response:
    access = _phone_access(session, ctx, wave_id, response_id)
    return await respond._in_thread(respond._switch_language, request, session, access)


@router.get("/waves/{wave_id}/phone/{response_id}/done")
def phone_done(
    request: Request, session: SessionDep, ctx: EditorDep, wave_id: int, response_id: int
) -> Response:
    access = _phone_access(session, ctx, wave_id, response_id)
    if access.response.status != ResponseStatus.complete:
        return redirect(f"{access.base}/page/{access.response.current_page}")
    flash(request, "The telephone interview has been saved.", "success")
    return redirect(f"/waves/{wave_id}/phone")
