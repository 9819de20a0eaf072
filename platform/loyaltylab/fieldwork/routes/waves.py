"""A study's waves: list, create, edit, schedule, open and close, monitor, and the public link's
QR code.
"""

from __future__ import annotations

import io
from datetime import UTC, datetime
from typing import Annotated

import segno
from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response
from sqlmodel import Session, func, select

from loyaltylab import access, i18n, workflows
from loyaltylab.audit import service as audit
from loyaltylab.db import SessionDep
from loyaltylab.deps import EditorDep, OrgContext, OrgDep, QueueDep, SettingsDep
from loyaltylab.errors import InvalidInput
from loyaltylab.fieldwork import events, service, texts
from loyaltylab.fieldwork import schedule as schedules
from loyaltylab.fieldwork.charts import completes_chart
from loyaltylab.fieldwork.models import (
    Contact,
    Frequency,
    QuotaSource,
    Wave,
    WaveStatus,
)
from loyaltylab.fieldwork.monitoring import wave_progress
from loyaltylab.fieldwork.poster import poster_pdf
from loyaltylab.fieldwork.wave_form import FIELD_LABELS, QUOTA_SOURCES, WaveForm
from loyaltylab.i18n import N_
from loyaltylab.mail import undelivered_count
from loyaltylab.questionnaires import service as questionnaires
from loyaltylab.questionnaires.models import QuestionnaireVersion
from loyaltylab.reports_web import service as reports
from loyaltylab.settings import Settings
from loyaltylab.sms import service as texting
from loyaltylab.sms.gateways import gateway_from_url
from loyaltylab.studies.models import Study
from loyaltylab.web import flash, redirect, render, ui_text

router = APIRouter()


REFRESH_SECONDS = 30
FREQUENCIES = {
    Frequency.monthly: N_("Monthly"),
    Frequency.quarterly: N_("Quarterly"),
    Frequency.yearly: N_("Yearly"),
}
STATUS_MESSAGES = {"open": N_("The wave is open."), "close": N_("The wave is closed.")}


def _time_zone(ctx: OrgContext) -> str:
    return ctx.organisation.time_zone


def _version_label(session: Session, version: QuestionnaireVersion) -> str:
    """A version as the wave forms name it: the questionnaire's title in the interface
    language and the version number."""
    definition = service.definition_for(session, version.id)
    return f"{ui_text(definition.title)} · v{version.number}"


def _published_versions(session: Session, study: Study) -> list[tuple[int, str]]:
    """The versions a wave can field, as (id, label) options."""
    return [
        (version.id, _version_label(session, version))
        for version in questionnaires.published_versions(session, study.id)
    ]


def _labels() -> dict[str, str]:
    return {field: i18n.gettext(label) for field, label in FIELD_LABELS.items()}


@router.get("/studies/{study_id}/waves", response_class=HTMLResponse)
def list_waves(request: Request, session: SessionDep, ctx: OrgDep, study_id: int) -> HTMLResponse:
    study = access.team_study(session, ctx, study_id)
    return _waves_page(request, session, study, values={}, errors={})


def _waves_page(
    request: Request,
    session: Session,
    study: Study,
    *,
    values: dict[str, str],
    errors: dict[str, str],
    status_code: int = 200,
) -> HTMLResponse:
    waves = session.exec(
        select(Wave).where(Wave.study_id == study.id).order_by(Wave.created_at.desc(), Wave.id)
    ).all()
    schedule = schedules.get_schedule(session, study.id)
    return render(
        request,
        "fieldwork/waves.html",
        {
            "study": study,
            "waves": waves,
            "frequencies": FREQUENCIES,
            "schedule": schedule,
            "next_period": (
                schedules.next_period(session, schedule, now=datetime.now(UTC))
                if schedule
                else None
            ),
            "versions": _published_versions(session, study),
            "values": values,
            "errors": errors,
            "labels": _labels(),
            "quota_sources": QUOTA_SOURCES,
            "has_contacts": _contact_count(session, study) > 0,
        },
        status_code=status_code,
    )


def _contact_count(session: Session, study: Study) -> int:
    return session.exec(select(func.count(Contact.id)).where(Contact.study_id == study.id)).one()


WaveFormDep = Annotated[WaveForm, Form()]


@router.post("/studies/{study_id}/waves", response_class=HTMLResponse)
def create_wave(
    request: Request, session: SessionDep, ctx: EditorDep, study_id: int, form: WaveFormDep
) -> Response:
    study = access.editable_study(session, ctx, study_id)
    version_id, settings, errors = form.check(
        session, study_id=study.id, organisation_id=ctx.organisation_id, time_zone=_time_zone(ctx)
    )
    if errors or version_id is None:
        return _waves_page(
            request, session, study, values=form.model_dump(), errors=errors, status_code=400
        )
    wave = service.create_wave(
        session,
        settings,
        study_id=study.id,
        organisation_id=ctx.organisation_id,
        version_id=version_id,
    )
    flash(request, "The wave has been created.", "success")
    return redirect(f"/waves/{wave.id}")


@router.get("/waves/{wave_id}/edit", response_class=HTMLResponse)
def edit_wave_page(
    request: Request, session: SessionDep, ctx: EditorDep, wave_id: int
) -> HTMLResponse:
    wave, study = access.editable_wave(session, ctx, wave_id)
    form = WaveForm.of(wave, _time_zone(ctx))
    return _edit_page(request, session, wave, study, form=form, errors={})


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
            "labels": _labels(),
            "quota_sources": QUOTA_SOURCES,
            "has_contacts": _contact_count(session, study) > 0,
            "versions": _published_versions(session, study) if draft else [],
            "current_version": _version_label(session, current) if current else "",
        },
        status_code=status_code,
    )


@router.post("/waves/{wave_id}/edit", response_class=HTMLResponse)
def edit_wave(
    request: Request, session: SessionDep, ctx: EditorDep, wave_id: int, form: WaveFormDep
) -> Response:
    wave, study = access.editable_wave(session, ctx, wave_id)
    if wave.status != WaveStatus.draft and not form.version_id:
        # The form of an opened wave shows its version without a field for it.
        form.version_id = str(wave.questionnaire_version_id)
    version_id, settings, errors = form.check(
        session,
        study_id=study.id,
        organisation_id=ctx.organisation_id,
        time_zone=_time_zone(ctx),
        wave=wave,
    )
    if not errors and version_id is not None:
        try:
            service.update_wave(session, wave, settings, version_id=version_id)
        except service.InvalidWave as invalid:  # a concurrent "open" froze the version
            session.rollback()
            errors = texts.wave_errors(invalid.problems)
    if errors:
        wave, study = access.editable_wave(session, ctx, wave_id)
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
    study = access.editable_study(session, ctx, study_id)
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
    wave, study = access.readable_wave(session, ctx, wave_id)
    progress = wave_progress(session, wave, time_zone=_time_zone(ctx))
    code = settings.sms_country_code
    opted_out = session.exec(
        select(func.count(Contact.id)).where(
            Contact.study_id == study.id, Contact.opted_out_at.is_not(None)
        )
    ).one()
    response = render(
        request,
        "fieldwork/wave.html",
        {
            "wave": wave,
            "study": study,
            "progress": progress,
            "chart": completes_chart(progress.completes_per_day),
            "quota_label": _quota_label(session, wave),
            "public_url": settings.absolute_url(f"/s/{wave.public_slug}"),
            "contacts": _contact_count(session, study),
            "opted_out": opted_out,
            "to_invite": len(service.contacts_to_mail(session, wave, "invitation")),
            "to_text": len(
                texting.contacts_to_text(session, wave, "invitation", country_code=code)
            ),
            "texted": bool(texting.contacts_to_text(session, wave, "reminder", country_code=code)),
            "sms_gateway": gateway_from_url(settings.sms_url).name,
            "refresh": REFRESH_SECONDS if wave.status == WaveStatus.open else None,
            "smtp": bool(settings.smtp_url),
            "undelivered": undelivered_count(session, ctx.organisation_id),
            "generating": reports.reports_in_progress(session, study, wave_id=wave.id),
            "can_edit": access.may_edit(ctx, wave),
            "events": events.event_counts(session, wave),
        },
    )
    response.headers["cache-control"] = "no-store"
    return response


def _quota_label(session: Session, wave: Wave) -> str:
    """What the wave's quotas count by, as its monitoring names it."""
    if not wave.quota_attribute:
        return ""
    if wave.quota_source == QuotaSource.answer:
        definition = service.definition_for(session, wave.questionnaire_version_id)
        found = definition.find_item(wave.quota_attribute)
        question = ui_text(found[2].label) if found else wave.quota_attribute
        return i18n.gettext("Quotas by the answer to %(question)s", question=question)
    return i18n.gettext("Quotas by %(attribute)s", attribute=wave.quota_attribute)


@router.post("/waves/{wave_id}/status")
def change_status(
    request: Request,
    session: SessionDep,
    ctx: EditorDep,
    queue: QueueDep,
    wave_id: int,
    action: Annotated[str, Form()] = "",
) -> Response:
    wave, _study = access.editable_wave(session, ctx, wave_id)
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
    if action == "close" and workflows.report_closed_wave(session, wave, queue):
        flash(request, "The client's report of this wave is being generated.", "success")
    return redirect(f"/waves/{wave.id}")


@router.get("/waves/{wave_id}/qr.png")
def wave_qr_png(session: SessionDep, ctx: OrgDep, settings: SettingsDep, wave_id: int) -> Response:
    return _qr(session, ctx, settings, wave_id, "png")


@router.get("/waves/{wave_id}/qr.svg")
def wave_qr_svg(session: SessionDep, ctx: OrgDep, settings: SettingsDep, wave_id: int) -> Response:
    return _qr(session, ctx, settings, wave_id, "svg")


@router.get("/waves/{wave_id}/poster.pdf")
def wave_poster(
    session: SessionDep, ctx: EditorDep, settings: SettingsDep, wave_id: int
) -> Response:
    """The wave's printable A4 QR poster, in the questionnaire's languages (audited: it
    publishes the link)."""
    wave, _study = access.editable_wave(session, ctx, wave_id)
    definition = service.definition_for(session, wave.questionnaire_version_id)
    pdf = poster_pdf(
        definition,
        url=settings.absolute_url(f"/s/{wave.public_slug}"),
        organisation=ctx.organisation.name,
    )
    audit.record(session, ctx, "wave.poster", object_type="wave", object_id=wave.id, format="pdf")
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"content-disposition": f'attachment; filename="wave-{wave.id}-poster.pdf"'},
    )


def _qr(session: Session, ctx: OrgContext, settings: Settings, wave_id: int, kind: str) -> Response:
    wave, _study = access.readable_wave(session, ctx, wave_id)
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
