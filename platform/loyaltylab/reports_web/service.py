"""Reports and exports: snapshots and the data they analyse.

Who may see what is :mod:`loyaltylab.access`: the owning organisation reads every report; the
commissioning client reads the reports shared with it once they are generated. Creating,
regenerating, cancelling and sharing need an editor of the owning organisation. Data exports
(raw answers) and the reproducibility bundle are for the study's team only.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd
from sqlmodel import Session, func, select

from analysis.errors import AnalysisError
from analysis.pls import pls_model
from analysis.syntax import measurement_syntax, parse_model
from loyaltylab import access
from loyaltylab.accounts.models import Organisation
from loyaltylab.analysis_settings.schemas import CBSEM, AnalysisSettings
from loyaltylab.deps import OrgContext
from loyaltylab.errors import InvalidInput, NotFound
from loyaltylab.fieldwork.data import responses_dataframe
from loyaltylab.fieldwork.export import ATTRIBUTE_PREFIX, contact_attributes
from loyaltylab.fieldwork.models import (
    Channel,
    Response,
    ResponseStatus,
    Wave,
    WaveInvitation,
)
from loyaltylab.jobs import queue as jobs
from loyaltylab.jobs.models import Job, JobKind, JobStatus
from loyaltylab.questionnaires import service as questionnaires
from loyaltylab.questionnaires.models import QuestionnaireVersion
from loyaltylab.reports_web.models import REPORT_FORMATS, Report, ReportFile
from loyaltylab.studies.models import Study
from loyaltylab.timeutil import utcnow
from reports.build import Fieldwork, ReportRequest
from surveys.definition import QuestionnaireDefinition

LANGUAGES = ("en", "zh")
MAX_BOOTSTRAP = 5000
MIN_ITEMS_PER_CONSTRUCT = 2


# --- the study's reports -------------------------------------------------------------------


def client_name(session: Session, study: Study) -> str:
    """The commissioning client organisation's name ("" without a client)."""
    client = session.get(Organisation, study.client_organisation_id or 0)
    return client.name if client else ""


def study_waves(session: Session, study: Study) -> list[Wave]:
    return list(
        session.exec(
            select(Wave).where(Wave.study_id == study.id).order_by(Wave.created_at, Wave.id)
        ).all()
    )


def study_wave(session: Session, study: Study, wave_id: int) -> Wave:
    return access.found(session, select(Wave).where(Wave.id == wave_id, Wave.study_id == study.id))


def report_waves(session: Session, report: Report) -> list[Wave]:
    """The report's waves that still exist, in the report's order."""
    waves = session.exec(
        select(Wave).where(Wave.id.in_(report.wave_ids), Wave.study_id == report.study_id)
    ).all()
    return sorted(waves, key=lambda wave: report.wave_ids.index(wave.id))


def list_reports(
    session: Session, ctx: OrgContext, study: Study
) -> list[tuple[Report, Job | None]]:
    """The study's reports the member may see, newest first, with their latest jobs."""
    query = (
        select(Report, Job)
        .join(Study, Study.id == Report.study_id)
        .outerjoin(Job, Job.id == Report.job_id)
        .where(Report.study_id == study.id, access.report_readable(ctx))
        .order_by(Report.created_at.desc(), Report.id.desc())
    )
    return [(report, job) for report, job in session.exec(query).all()]


def reports_in_progress(
    session: Session, study: Study, *, wave_id: int | None = None
) -> list[Report]:
    """The study's reports being generated (queued or running), those of one wave if given."""
    reports = session.exec(
        select(Report)
        .join(Job, Job.id == Report.job_id)
        .where(Report.study_id == study.id, Job.status.in_([JobStatus.queued, JobStatus.running]))
        .order_by(Report.id)
    ).all()
    return [report for report in reports if wave_id is None or wave_id in report.wave_ids]


def file_sizes(session: Session, report: Report) -> dict[str, int]:
    """Kind -> size of the files the report has (without loading their content)."""
    rows = session.exec(
        select(ReportFile.kind, ReportFile.size).where(ReportFile.report_id == report.id)
    ).all()
    return dict(rows)


def report_file(session: Session, report: Report, kind: str) -> ReportFile:
    found = session.exec(
        select(ReportFile).where(ReportFile.report_id == report.id, ReportFile.kind == kind)
    ).first()
    if found is None:
        raise NotFound("Not found.")
    return found


# --- the data --------------------------------------------------------------------------------


def full_model(definition: QuestionnaireDefinition) -> str:
    """lavaan syntax: a factor per construct with two or more items, then the structural model."""
    measured = {
        construct: items
        for construct, items in definition.construct_items().items()
        if len(items) >= MIN_ITEMS_PER_CONSTRUCT
    }
    if not measured:
        return ""
    return (measurement_syntax(measured) + "\n" + definition.model).strip()


def _nps_code(definition: QuestionnaireDefinition) -> str | None:
    return next((item.code for _s, _i, item in definition.items() if item.type == "nps"), None)


def _scale(definition: QuestionnaireDefinition) -> tuple[int, int]:
    for variable in definition.variables():
        if variable.construct is not None:
            return 1, variable.item.scale.points
    return 1, 7


def analysis_options(
    definition: QuestionnaireDefinition,
    *,
    bootstrap: int,
    several_waves: bool,
    settings: AnalysisSettings,
    questionnaire_id: int,
) -> dict[str, Any]:
    """The report's options: the questionnaire's model, scale and NPS item, the resamples the
    researcher asked for, and the study's analysis settings (PLS brings its own resamples)."""
    scale_min, scale_max = _scale(definition)
    return {
        "model": full_model(definition),
        "reverse": definition.reverse_keyed(),
        "scale_min": scale_min,
        "scale_max": scale_max,
        "missing": "listwise",
        "bootstrap": bootstrap,
        "seed": ReportRequest.seed,
        "nps": _nps_code(definition),
        "wave": "wave" if several_waves else None,
    } | settings.analysis_options(questionnaire_id)


def _flat(value: Any) -> Any:
    """Multiple-choice answers (lists) as ``a;b``: one value per cell."""
    return ";".join(str(v) for v in value) if isinstance(value, list) else value


CATEGORY_COLUMNS = ("wave", "channel", "language", "status")
"""Metadata columns of a few text values: numbered categories with labels in SPSS."""


def export_frame(session: Session, waves: Sequence[Wave]) -> pd.DataFrame:
    """Analysis-ready data: complete, included responses, one column per variable, the wave
    named, and the respondent's contact attributes (``contact_<name>``, for invited ones)."""
    data = responses_dataframe(session, [wave.id for wave in waves])
    names = {wave.id: wave.name for wave in waves}
    data.insert(1, "wave", data["wave_id"].map(names))
    for column in ("started_at", "submitted_at"):
        data[column] = data[column].dt.strftime("%Y-%m-%dT%H:%M:%SZ")
    if waves:
        attributes = contact_attributes(session, waves[0].study_id, data["contact"])
        data = pd.concat([data, attributes], axis=1)
    object_columns = [c for c in data.columns if data[c].dtype == object]
    data[object_columns] = data[object_columns].map(_flat)
    return data


def category_columns(data: pd.DataFrame) -> list[str]:
    """The export's text columns that are categories (metadata, contact attributes)."""
    return [c for c in data.columns if c in CATEGORY_COLUMNS or c.startswith(ATTRIBUTE_PREFIX)]


def analysis_frame(
    session: Session, report: Report, definition: QuestionnaireDefinition
) -> pd.DataFrame:
    """The snapshot's responses, with the columns the analysis reads (numbers for items)."""
    data = export_frame(session, report_waves(session, report))
    data = data[data["response_id"].isin(report.response_ids)]
    items = [code for items in definition.construct_items().values() for code in items]
    nps = report.options.get("nps")
    columns = ["response_id", "wave", *items, *([nps] if nps else [])]
    frame = data.reindex(columns=columns).reset_index(drop=True)
    for column in columns[2:]:
        # "na" (not applicable) and unanswered become missing values.
        frame[column] = pd.to_numeric(frame[column], errors="coerce")
    return frame


def included_response_ids(session: Session, wave_ids: Sequence[int]) -> list[int]:
    return list(
        session.exec(
            select(Response.id)
            .where(
                Response.wave_id.in_(list(wave_ids)),
                Response.status == ResponseStatus.complete,
                Response.excluded.is_(False),
            )
            .order_by(Response.id)
        ).all()
    )


def report_request(
    session: Session, report: Report, definition: QuestionnaireDefinition, data: pd.DataFrame
) -> ReportRequest:
    """The report's options with the title-page facts of its study and waves."""
    study = session.get(Study, report.study_id)
    client_id = study.client_organisation_id if study else None
    client = session.get(Organisation, client_id) if client_id else None
    waves = report_waves(session, report)
    wave_filter = Response.wave_id.in_(report.wave_ids)
    complete = Response.status == ResponseStatus.complete
    total, completes, first, last = session.exec(
        select(
            func.count(Response.id),
            func.count(Response.id).filter(complete),
            func.min(Response.started_at),
            func.max(Response.submitted_at),
        ).where(wave_filter)
    ).one()
    by_channel = dict(
        session.exec(
            select(Response.channel, func.count(Response.id))
            .where(wave_filter, complete)
            .group_by(Response.channel)
        ).all()
    )
    invitations = session.exec(
        select(func.count(WaveInvitation.id)).where(WaveInvitation.wave_id.in_(report.wave_ids))
    ).one()
    dates = " – ".join(dict.fromkeys(d.strftime("%Y-%m-%d") for d in (first, last) if d))
    options = {k: v for k, v in report.options.items() if k in ReportRequest.__dataclass_fields__}
    options["reverse"] = tuple(options.get("reverse") or ())
    return ReportRequest(
        **options,
        language=report.language,
        study=study.name if study else report.title,
        client=(client.name if client else "") or (study.company_name if study else ""),
        waves_label=", ".join(wave.name for wave in waves),
        fieldwork_dates=dates,
        fieldwork=Fieldwork(
            invitations=invitations or None,
            invited_completes=by_channel.get(Channel.invitation, 0) if invitations else None,
            public_completes=by_channel.get(Channel.web, 0),
            phone_completes=by_channel.get(Channel.phone, 0),
            responses=total,
            completes=completes,
        ),
        definition=definition,
    )


# --- creating, regenerating, cancelling -------------------------------------------------------


def _bootstrap(value: str) -> int:
    try:
        number = int(value.strip() or "0")
    except ValueError:
        number = -1
    if not 0 <= number <= MAX_BOOTSTRAP:
        raise InvalidInput(
            "Enter a whole number of resamples from 0 to %(max)s.",
            field="bootstrap",
            max=MAX_BOOTSTRAP,
        )
    return number


def _snapshot(session: Session, report: Report, waves: Sequence[Wave]) -> None:
    """Fix the version, the responses and the options the report will analyse."""
    version_id = waves[-1].questionnaire_version_id
    version = session.get(QuestionnaireVersion, version_id)
    if version is None:
        raise NotFound("Not found.")
    study = session.get(Study, report.study_id)
    settings = AnalysisSettings.of(study.analysis_settings if study else None)
    # A report made by PLS carries the settings' resamples; made again by CB-SEM it asks for
    # none (the researcher asks for indirect-effect resamples on the report form).
    requested = 0 if report.options.get("estimator") == "pls" else report.bootstrap
    options = analysis_options(
        questionnaires.definition_of(version),
        bootstrap=requested,
        several_waves=len(waves) > 1,
        settings=settings,
        questionnaire_id=version.questionnaire_id,
    )
    if not options["model"]:
        raise InvalidInput(
            "The questionnaire has no construct with two or more items, so there is no model "
            "to analyse.",
            field="wave_ids",
        )
    if settings.is_pls:
        try:
            pls_model(parse_model(options["model"]))
        except AnalysisError as error:
            raise InvalidInput(
                "PLS-SEM cannot estimate the questionnaire's model (%(reason)s): give every "
                "construct a path in the model, or choose CB-SEM in the study's analysis "
                "settings.",
                field="wave_ids",
                reason=str(error),
            ) from None
    if options["estimator"] == "WLSMV" and options["bootstrap"]:
        raise InvalidInput(
            "With the WLSMV estimator the report has robust standard errors instead of "
            "bootstrap intervals: set the resamples to 0, or choose ML or MLR in the study's "
            "analysis settings.",
            field="bootstrap",
        )
    if (
        settings.method == CBSEM
        and options["bootstrap"]
        and not parse_model(options["model"]).defined
    ):
        raise InvalidInput(
            "The model defines no indirect effect, so there is nothing to bootstrap: set the "
            "resamples to 0, or define the effect in the questionnaire's model "
            "(e.g. ind := a*b).",
            field="bootstrap",
        )
    response_ids = included_response_ids(session, [wave.id for wave in waves])
    if not response_ids:
        raise InvalidInput(
            "The selected waves have no complete responses to analyse yet.", field="wave_ids"
        )
    report.questionnaire_version_id = version_id
    report.wave_ids = [wave.id for wave in waves]
    report.response_ids = response_ids
    report.options = options


def _start(
    session: Session, report: Report, queue: jobs.JobQueue, *, created_by: int | None
) -> Job:
    job = queue.submit(
        session,
        kind=JobKind.report,
        organisation_id=report.organisation_id,
        subject_id=report.id,
        created_by=created_by,
    )
    report.job_id = job.id
    session.add(report)
    session.flush()
    return job


def create_report(
    session: Session,
    ctx: OrgContext,
    study: Study,
    queue: jobs.JobQueue,
    *,
    title: str,
    language: str,
    formats: Sequence[str],
    wave_ids: Sequence[str],
    bootstrap: str,
) -> Report:
    if not access.may_edit(ctx, study):
        raise NotFound("Not found.")
    if language not in LANGUAGES:
        raise InvalidInput("Choose the report language.", field="language")
    chosen = [fmt for fmt in REPORT_FORMATS if fmt in formats]
    if not chosen:
        raise InvalidInput("Choose at least one file format.", field="formats")
    by_id = {str(wave.id): wave for wave in study_waves(session, study)}
    waves = [wave for key, wave in by_id.items() if key in wave_ids]
    if not waves or len(waves) != len(set(wave_ids)):
        raise InvalidInput("Choose at least one wave of this study.", field="wave_ids")
    title = " ".join(title.split()) or f"{study.name} · {', '.join(w.name for w in waves)}"
    if len(title) > 200:
        raise InvalidInput("Use at most %(max)s characters.", field="title", max=200)
    report = Report(
        organisation_id=study.organisation_id,
        study_id=study.id,
        questionnaire_version_id=waves[-1].questionnaire_version_id,
        title=title,
        language=language,
        formats=chosen,
        options={"bootstrap": _bootstrap(bootstrap)},
        created_by=ctx.user.id,
    )
    if study.share_reports and study.client_organisation_id is not None:
        report.shared_at, report.notify_client = utcnow(), True
    _snapshot(session, report, waves)
    session.add(report)
    session.flush()
    _start(session, report, queue, created_by=ctx.user.id)
    return report


def create_wave_report(
    session: Session, study: Study, wave: Wave, queue: jobs.JobQueue, *, language: str
) -> Report:
    """The PDF report of a wave that has just closed, made for the commissioning client (whose
    users are told once it is ready). Raises :class:`InvalidInput` when the wave has nothing to
    analyse."""
    report = Report(
        organisation_id=study.organisation_id,
        study_id=study.id,
        questionnaire_version_id=wave.questionnaire_version_id,
        title=f"{study.name} · {wave.name}",
        language=language if language in LANGUAGES else LANGUAGES[0],
        formats=["pdf"],
        notify_client=True,
        shared_at=utcnow(),
    )
    _snapshot(session, report, [wave])
    session.add(report)
    session.flush()
    _start(session, report, queue, created_by=None)
    return report


def regenerate(session: Session, ctx: OrgContext, report: Report, queue: jobs.JobQueue) -> Job:
    """A new snapshot of the same waves and options (responses as they are now), then a job."""
    current = session.get(Job, report.job_id) if report.job_id else None
    if current is not None and current.status.active:
        raise InvalidInput("This report is being generated already.", field="form")
    waves = report_waves(session, report)
    if not waves:
        raise InvalidInput("The waves of this report no longer exist.", field="form")
    _snapshot(session, report, waves)
    return _start(session, report, queue, created_by=ctx.user.id)


def cancel(session: Session, report: Report) -> Job | None:
    job = session.get(Job, report.job_id) if report.job_id else None
    if job is not None:
        jobs.cancel(session, job)
    return job


def share(session: Session, report: Report, study: Study, *, shared: bool) -> bool:
    """Share the report with the commissioning client, or stop sharing it.

    Returns whether the client's users are to be told now (a generated report newly shared);
    a report still being generated tells them when it is ready (``notify_client``).
    """
    if study.client_organisation_id is None:
        raise InvalidInput("This study has no client organisation to share with.", field="form")
    newly = shared and report.shared_at is None
    report.shared_at = (report.shared_at or utcnow()) if shared else None
    report.notify_client = newly and report.generated_at is None
    session.add(report)
    session.flush()
    return newly and report.generated_at is not None


def set_share_reports(session: Session, study: Study, *, enabled: bool) -> None:
    """Share every new report of the study with its client (reports made before are left)."""
    if enabled and study.client_organisation_id is None:
        raise InvalidInput("This study has no client organisation to share with.", field="form")
    study.share_reports = enabled
    session.add(study)
    session.flush()
