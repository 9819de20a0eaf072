"""Report and export pages: list and create reports, follow their jobs, view and download.

Reports: members of the owning organisation and the commissioning client read them; editors of
the owning organisation create, regenerate and cancel. Data exports and the reproducibility
bundle (raw answers) are for members of the owning organisation only: clients get 404.
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Form, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from sqlmodel import Session

from loyaltylab import access, i18n
from loyaltylab.audit import service as audit
from loyaltylab.db import SessionDep
from loyaltylab.deps import OrgContext, OrgDep, QueueDep, SettingsDep, job_queue
from loyaltylab.errors import InvalidInput, NotFound
from loyaltylab.fieldwork.models import Wave
from loyaltylab.i18n import N_
from loyaltylab.jobs.models import Job, JobStatus
from loyaltylab.jobs.queue import TIMED_OUT, TIMED_OUT_ERROR
from loyaltylab.notifications import service as notifications
from loyaltylab.questionnaires import service as questionnaires
from loyaltylab.questionnaires.models import QuestionnaireVersion
from loyaltylab.reports_web import service
from loyaltylab.reports_web.models import FILE_KINDS, REPORT_FORMATS, Report
from loyaltylab.studies.models import Study
from loyaltylab.web import flash, redirect, render
from reports.exports import codebook, csv_bytes, write_sav, xlsx_bytes
from reports.i18n import language_for

router = APIRouter()

REFRESH_SECONDS = 3
BOOTSTRAP_CHOICES = (0, 500, 1000, 2000)
MEDIA_TYPES = {
    "html": "text/html; charset=utf-8",
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "bundle": "application/zip",
    "csv": "text/csv; charset=utf-8",
    "sav": "application/x-spss-sav",
}
EXTENSIONS = {"bundle": "zip"}
# The report's own page, shown in a frame of the app: its inline styles and data: images only,
# no scripts, sandboxed, and framed by this site alone.
REPORT_VIEW_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; font-src data:; "
    "frame-ancestors 'self'; sandbox"
)
FORMAT_LABELS = {"pdf": "PDF", "docx": "Word (.docx)", "xlsx": "Excel (.xlsx)", "html": "HTML"}
LANGUAGE_LABELS = {"en": N_("English"), "zh": N_("Chinese")}
STATUS_LABELS = {
    JobStatus.queued: N_("Queued"),
    JobStatus.running: N_("Generating"),
    JobStatus.done: N_("Ready"),
    JobStatus.failed: N_("Failed"),
    JobStatus.cancelled: N_("Cancelled"),
}
STAGE_LABELS = {
    "queued": N_("Waiting for a worker"),
    "starting": N_("Starting"),
    "analysis": N_("Estimating the model"),
    "build": N_("Writing the report"),
    "save": N_("Saving the files"),
    "done": N_("Finished"),
    "cancelled": N_("Cancelled"),
    "failed": N_("Failed"),
    TIMED_OUT: N_("Given up: it ran too long"),
}
_BOOTSTRAP_STAGE = re.compile(r"bootstrap (\d+)/(\d+)")


def stage_label(job: Job | None) -> str:
    if job is None:
        return ""
    match = _BOOTSTRAP_STAGE.fullmatch(job.stage)
    if match:
        return i18n.gettext(
            "Bootstrap resample %(done)s of %(total)s", done=match[1], total=match[2]
        )
    if job.stage.startswith("render "):
        fmt = job.stage.removeprefix("render ")
        return i18n.gettext("Producing the %(format)s file", format=FORMAT_LABELS.get(fmt, fmt))
    return i18n.gettext(STAGE_LABELS.get(job.stage, STAGE_LABELS["analysis"]))


def job_error(job: Job | None) -> str:
    """Why a job failed, in the reader's language where the reason is the app's own."""
    if job is None:
        return ""
    if job.stage == TIMED_OUT and job.started_at and job.finished_at:
        minutes = int((job.finished_at - job.started_at).total_seconds() // 60)
        return i18n.gettext(TIMED_OUT_ERROR, minutes=minutes)
    return job.error


def _job_state(report: Report, job: Job | None) -> dict[str, object]:
    status = job.status if job else JobStatus.done
    return {
        "status": status.value,
        "status_label": i18n.gettext(STATUS_LABELS[status]),
        "active": status.active,
        "percent": job.percent if job else 100,
        "stage": job.stage if job else "done",
        "stage_label": stage_label(job),
        "error": job_error(job),
        "url": f"/reports/{report.id}",
    }


# --- the study's reports ---------------------------------------------------------------------


def _reports_page(
    request: Request,
    session: Session,
    ctx: OrgContext,
    study: Study,
    *,
    values: dict[str, object],
    errors: dict[str, str],
    status_code: int = 200,
) -> HTMLResponse:
    rows = service.list_reports(session, ctx, study)
    owner = access.is_study_team(ctx, study)
    return render(
        request,
        "reports/list.html",
        {
            "study": study,
            "reports": [(report, _job_state(report, job)) for report, job in rows],
            "editable": access.may_edit(ctx, study),
            "owner": owner,
            "client_name": service.client_name(session, study) if owner else "",
            "waves": service.study_waves(session, study) if owner else [],
            "formats": [(fmt, FORMAT_LABELS[fmt]) for fmt in REPORT_FORMATS],
            "languages": [(code, i18n.gettext(label)) for code, label in LANGUAGE_LABELS.items()],
            "bootstrap_choices": BOOTSTRAP_CHOICES,
            "language_labels": LANGUAGE_LABELS,
            "generating": service.reports_in_progress(session, study) if owner else [],
            "values": values,
            "errors": errors,
        },
        status_code=status_code,
    )


@router.get("/studies/{study_id}/reports", response_class=HTMLResponse)
def list_reports(request: Request, session: SessionDep, ctx: OrgDep, study_id: int) -> HTMLResponse:
    study = access.readable_study(session, ctx, study_id)
    defaults = {"language": language_for(i18n.get_locale()), "formats": ["pdf"], "bootstrap": "0"}
    return _reports_page(request, session, ctx, study, values=defaults, errors={})


@router.post("/studies/{study_id}/reports", response_class=HTMLResponse)
def create_report(
    request: Request,
    session: SessionDep,
    ctx: OrgDep,
    queue: QueueDep,
    study_id: int,
    title: Annotated[str, Form()] = "",
    language: Annotated[str, Form()] = "",
    formats: Annotated[list[str], Form()] = [],  # noqa: B006  (FastAPI copies form defaults)
    wave_ids: Annotated[list[str], Form()] = [],  # noqa: B006
    bootstrap: Annotated[str, Form()] = "0",
) -> Response:
    study = access.readable_study(session, ctx, study_id)
    try:
        report = service.create_report(
            session,
            ctx,
            study,
            queue,
            title=title,
            language=language,
            formats=formats,
            wave_ids=wave_ids,
            bootstrap=bootstrap,
        )
    except InvalidInput as exc:
        session.rollback()
        params = {k: v for k, v in exc.params.items() if k != "field"}
        errors = {exc.params.get("field", "form"): i18n.gettext(exc.message, **params)}
        values = {
            "title": title,
            "language": language,
            "formats": formats,
            "wave_ids": wave_ids,
            "bootstrap": bootstrap,
        }
        return _reports_page(
            request, session, ctx, study, values=values, errors=errors, status_code=400
        )
    flash(request, "The report is being generated.", "success")
    return redirect(f"/reports/{report.id}")


# --- one report ------------------------------------------------------------------------------


@router.get("/reports/{report_id}", response_class=HTMLResponse)
def report_page(request: Request, session: SessionDep, ctx: OrgDep, report_id: int) -> HTMLResponse:
    report, study = access.readable_report(session, ctx, report_id)
    notifications.mark_read(session, ctx, report.id)
    job = session.get(Job, report.job_id) if report.job_id else None
    state = _job_state(report, job)
    waves = service.report_waves(session, report)
    sizes = service.file_sizes(session, report)
    downloads = [(fmt, FORMAT_LABELS[fmt], sizes[fmt]) for fmt in report.formats if fmt in sizes]
    owner = access.is_study_team(ctx, study)
    return render(
        request,
        "reports/detail.html",
        {
            "study": study,
            "report": report,
            "job": job,
            "state": state,
            "waves": waves,
            "downloads": downloads,
            "has_view": "html" in sizes,
            "bundle_size": sizes.get("bundle") if owner else None,
            "owner": owner,
            "editable": access.may_edit(ctx, study),
            "client_name": service.client_name(session, study) if owner else "",
            "language_label": i18n.gettext(LANGUAGE_LABELS.get(report.language, "English")),
            "refresh_seconds": REFRESH_SECONDS,
        },
    )


@router.get("/reports/{report_id}/status.json")
def report_status(session: SessionDep, ctx: OrgDep, report_id: int) -> JSONResponse:
    report, _study = access.readable_report(session, ctx, report_id)
    job = session.get(Job, report.job_id) if report.job_id else None
    return JSONResponse(_job_state(report, job), headers={"cache-control": "no-store"})


@router.get("/reports/{report_id}/view", response_class=HTMLResponse)
def view_report(request: Request, session: SessionDep, ctx: OrgDep, report_id: int) -> HTMLResponse:
    report, study = access.readable_report(session, ctx, report_id)
    if "html" not in service.file_sizes(session, report):
        raise NotFound("Not found.")
    return render(request, "reports/view.html", {"study": study, "report": report})


@router.get("/reports/{report_id}/files/{kind}")
def download(
    session: SessionDep, ctx: OrgDep, report_id: int, kind: str, download: bool = False
) -> Response:
    report, study = access.readable_report(session, ctx, report_id)
    if kind not in FILE_KINDS or (kind == "bundle" and not access.is_study_team(ctx, study)):
        raise NotFound("Not found.")
    stored = service.report_file(session, report, kind)
    name = f"report-{report.id}-{report.language}.{EXTENSIONS.get(kind, kind)}"
    headers = {"cache-control": "private, no-store"}
    if kind == "html" and not download:
        headers |= {
            "content-security-policy": REPORT_VIEW_CSP,
            "x-frame-options": "SAMEORIGIN",
            "content-disposition": f'inline; filename="{name}"',
        }
    else:
        # Into the study's organisation's log: it is its data, whoever downloads it.
        audit.record(
            session,
            ctx,
            "export.report",
            object_type="report",
            object_id=report.id,
            organisation_id=study.organisation_id,
            format=kind,
        )
        headers["content-disposition"] = f'attachment; filename="{name}"'
    return Response(stored.content, media_type=MEDIA_TYPES[kind], headers=headers)


def _refused(
    request: Request, session: Session, refusal: InvalidInput, *, back_to: str
) -> Response:
    """A refused change: nothing of it is kept, and its message shows on the page it came from."""
    session.rollback()
    flash(request, refusal.message, "error")
    return redirect(back_to)


@router.post("/reports/{report_id}/regenerate")
def regenerate(
    request: Request, session: SessionDep, ctx: OrgDep, queue: QueueDep, report_id: int
) -> Response:
    report, _study = access.editable_report(session, ctx, report_id)
    try:
        service.regenerate(session, ctx, report, queue)
    except InvalidInput as exc:
        return _refused(request, session, exc, back_to=f"/reports/{report_id}")
    flash(
        request,
        "The report is being generated again with the responses as they are now.",
        "success",
    )
    return redirect(f"/reports/{report.id}")


@router.post("/reports/{report_id}/share")
def share(
    request: Request,
    session: SessionDep,
    ctx: OrgDep,
    settings: SettingsDep,
    background: BackgroundTasks,
    report_id: int,
    shared: Annotated[str, Form()] = "",
) -> Response:
    report, study = access.editable_report(session, ctx, report_id)
    try:
        tell_now = service.share(session, report, study, shared=shared == "1")
    except InvalidInput as exc:
        return _refused(request, session, exc, back_to=f"/reports/{report.id}")
    audit.record(
        session,
        ctx,
        "report.share",
        object_type="report",
        object_id=report.id,
        shared=shared == "1",
    )
    if tell_now:
        messages = notifications.notify_report_ready(session, report, settings)
        if settings.smtp_url and messages:
            # After the response: the session dependency has committed the outbox rows by then.
            background.add_task(job_queue(request).send_mail, [m.id for m in messages])
    if report.shared_at is None:
        flash(request, "The client no longer sees this report.", "success")
    elif report.generated_at is None:
        flash(request, "The client will see this report once it is generated.", "success")
    else:
        flash(request, "The report is shared with the client.", "success")
    return redirect(f"/reports/{report.id}")


@router.post("/studies/{study_id}/reports/sharing")
def share_reports(
    request: Request,
    session: SessionDep,
    ctx: OrgDep,
    study_id: int,
    share_reports: Annotated[str, Form()] = "",
) -> Response:
    study = access.editable_study(session, ctx, study_id)
    try:
        service.set_share_reports(session, study, enabled=share_reports == "1")
    except InvalidInput as exc:
        return _refused(request, session, exc, back_to=f"/studies/{study.id}/reports")
    audit.record(
        session,
        ctx,
        "study.share_reports",
        object_type="study",
        object_id=study.id,
        enabled=study.share_reports,
    )
    if study.share_reports:
        flash(request, "New reports will be shared with the client.", "success")
    else:
        flash(request, "New reports will not be shared with the client.", "success")
    return redirect(f"/studies/{study.id}/reports")


@router.post("/reports/{report_id}/cancel")
def cancel(request: Request, session: SessionDep, ctx: OrgDep, report_id: int) -> Response:
    report, _study = access.editable_report(session, ctx, report_id)
    job = service.cancel(session, report)
    if job is not None and job.cancel_requested:
        flash(request, "The report generation is being cancelled.", "success")
    return redirect(f"/reports/{report.id}")


# --- data exports ------------------------------------------------------------------------------


def _export_data(
    session: Session, ctx: OrgContext, study_id: int, wave: int | None, file_format: str
) -> tuple[object, list[Wave], str]:
    """The study's data to export, its waves and the file name's stem; the export is recorded
    in the audit log."""
    study = access.team_study(session, ctx, study_id)
    waves = (
        [service.study_wave(session, study, wave)] if wave else service.study_waves(session, study)
    )
    if not waves:
        raise NotFound("Not found.")
    audit.record(
        session,
        ctx,
        "export.data",
        object_type="study",
        object_id=study.id,
        format=file_format,
        waves=[item.id for item in waves],
    )
    version = session.get(QuestionnaireVersion, waves[-1].questionnaire_version_id)
    stem = f"study-{study.id}-" + (f"wave-{wave}" if wave else "all-waves")
    return questionnaires.definition_of(version), waves, stem


def _attachment(content: bytes, kind: str, filename: str) -> Response:
    return Response(
        content,
        media_type=MEDIA_TYPES[kind],
        headers={
            "content-disposition": f'attachment; filename="{filename}"',
            "cache-control": "private, no-store",
        },
    )


@router.get("/studies/{study_id}/exports/data.csv")
def export_csv(
    session: SessionDep, ctx: OrgDep, study_id: int, wave: int | None = None
) -> Response:
    _definition, waves, stem = _export_data(session, ctx, study_id, wave, "csv")
    return _attachment(csv_bytes(service.export_frame(session, waves)), "csv", f"{stem}.csv")


@router.get("/studies/{study_id}/exports/data.xlsx")
def export_xlsx(
    session: SessionDep, ctx: OrgDep, study_id: int, wave: int | None = None
) -> Response:
    definition, waves, stem = _export_data(session, ctx, study_id, wave, "xlsx")
    content = xlsx_bytes(
        service.export_frame(session, waves),
        definition=definition,
        language=language_for(i18n.get_locale()),
    )
    return _attachment(content, "xlsx", f"{stem}.xlsx")


@router.get("/studies/{study_id}/exports/data.sav")
def export_sav(
    session: SessionDep, ctx: OrgDep, study_id: int, wave: int | None = None
) -> Response:
    definition, waves, stem = _export_data(session, ctx, study_id, wave, "sav")
    data = service.export_frame(session, waves)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "data.sav"
        write_sav(
            data,
            path,
            definition=definition,
            language=language_for(i18n.get_locale()),
            categories=service.category_columns(data),
        )
        content = path.read_bytes()
    return _attachment(content, "sav", f"{stem}.sav")


@router.get("/studies/{study_id}/exports/codebook.csv")
def export_codebook(
    session: SessionDep, ctx: OrgDep, study_id: int, wave: int | None = None
) -> Response:
    definition, waves, stem = _export_data(session, ctx, study_id, wave, "codebook")
    book = codebook(
        service.export_frame(session, waves),
        definition=definition,
        language=language_for(i18n.get_locale()),
    )
    return _attachment(csv_bytes(book), "csv", f"{stem}-codebook.csv")
