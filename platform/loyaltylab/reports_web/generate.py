"""The report job: analyse the snapshot, render every chosen format, save the files.

Runs in a huey consumer (a thread of ``loyaltylab serve`` or a ``loyaltylab worker``) with
sessions of its own; nothing is held open while the analysis and rendering run.
"""

from __future__ import annotations

import math
import re
from typing import Any

from sqlalchemy import delete
from sqlalchemy.engine import Engine
from sqlmodel import Session

from loyaltylab.jobs.models import Job
from loyaltylab.jobs.queue import JobProgress, complete
from loyaltylab.mail import deliver_all
from loyaltylab.notifications import service as notifications
from loyaltylab.questionnaires import service as questionnaires
from loyaltylab.questionnaires.models import QuestionnaireVersion
from loyaltylab.reports_web import service
from loyaltylab.reports_web.models import Report, ReportFile
from loyaltylab.timeutil import utcnow
from loyaltylab.webhooks import service as webhooks
from loyaltylab.webhooks.models import WebhookEvent
from reports.exports import reproducibility_bundle
from reports.render import render
from reports.run import make_report

_BOOTSTRAP = re.compile(r"bootstrap \d+/\d+")
_ANALYSIS_STAGES = {
    "prepare",
    "measurement model",
    "structural model",
    "reliability",
    "validity",
    "scores",
    "groups",
    "invariance",
}
# Share of the bar up to the end of the first format; the other formats and saving share the rest.
_FIRST_FORMAT_END, _RENDER_END = 0.8, 0.97


def _stage(message: str) -> str:
    """``make_report``'s messages as the stage codes the pages label."""
    if _BOOTSTRAP.fullmatch(message):
        return message
    if message in _ANALYSIS_STAGES:
        return "analysis"
    return "build"


def _json_safe(value: Any) -> Any:
    """NaN and infinities (e.g. an undefined fit index) as null: JSON has no such numbers."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {key: _json_safe(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(item) for item in value]
    return value


def generate_report(engine: Engine, job_id: int, progress: JobProgress) -> None:
    with Session(engine) as session:
        job = session.get(Job, job_id)
        report = session.get(Report, job.subject_id) if job else None
        if report is None:
            raise ValueError("The report no longer exists.")
        version = session.get(QuestionnaireVersion, report.questionnaire_version_id)
        definition = questionnaires.definition_of(version)
        data = service.analysis_frame(session, report, definition)
        request = service.report_request(session, report, definition, data)
        report_id, formats = report.id, list(report.formats)
    progress(0.0, "analysis")

    output = make_report(
        data,
        request,
        "html",
        progress=lambda fraction, message: progress(_FIRST_FORMAT_END * fraction, _stage(message)),
    )
    files = {"html": output.content}
    for index, fmt in enumerate(formats):
        share = (_RENDER_END - _FIRST_FORMAT_END) / len(formats)
        progress(_FIRST_FORMAT_END + share * index, f"render {fmt}")
        files[fmt] = render(output.document, fmt)
    progress(_RENDER_END, "save")
    files["bundle"] = reproducibility_bundle(data, request, output.result)

    with Session(engine) as session:
        session.execute(delete(ReportFile).where(ReportFile.report_id == report_id))
        session.add_all(
            ReportFile(report_id=report_id, kind=kind, size=len(content), content=content)
            for kind, content in files.items()
        )
        report = session.get(Report, report_id)
        report.result = _json_safe(output.result)
        report.generated_at = utcnow()
        session.add(report)
        messages = (
            notifications.notify_report_ready(session, report, progress.settings)
            if report.notify_client
            else []
        )
        webhooks.emit(
            session,
            organisation_id=report.organisation_id,
            event=WebhookEvent.report_ready,
            payload={
                "report_id": report.id,
                "study_id": report.study_id,
                "wave_ids": list(report.wave_ids),
                "title": report.title,
                "formats": sorted(kind for kind in files if kind in formats),
                "generated_at": report.generated_at,
            },
        )
        complete(session, job_id)
        session.commit()
        message_ids = [message.id for message in messages]
    if progress.settings.smtp_url and message_ids:
        deliver_all(engine, message_ids, progress.settings.smtp_url)
