"""Shared by the report tests: a study's published questionnaire, waves of simulated responses,
and a job queue with a real huey consumer."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy.engine import Engine
from sqlmodel import Session

from loyaltylab.deps import OrgContext
from loyaltylab.fieldwork import service as fieldwork
from loyaltylab.fieldwork.models import Channel, Response, ResponseStatus, Wave
from loyaltylab.jobs.models import Job, JobStatus
from loyaltylab.jobs.queue import JobQueue
from loyaltylab.questionnaires import service as questionnaires
from loyaltylab.reports_web import service as reports
from loyaltylab.reports_web.models import Report
from loyaltylab.studies.models import Study
from surveys.simulate import Respondent, simulate_responses

TIERS = ("gold", "silver", "bronze")


def fielded_waves(
    session: Session,
    study: Study,
    *,
    names: tuple[str, ...] = ("2026-Q2",),
    completes: int = 150,
    model: str | None = None,
) -> list[Wave]:
    """The library's satisfaction -> value -> loyalty questionnaire (with its structural model
    replaced by ``model`` if given), published and fielded in closed waves of ``completes``
    simulated complete responses (plus one partial each)."""
    questionnaire = questionnaires.create_questionnaire(
        session, organisation_id=study.organisation_id, study_id=study.id, template="svl"
    )
    if model is not None:
        draft = questionnaires.definition_of(
            questionnaires.get_draft(session, study.organisation_id, questionnaire.id)
        )
        draft.model = model
        questionnaires.save_definition(session, study.organisation_id, questionnaire.id, draft)
    version = questionnaires.publish(session, study.organisation_id, questionnaire.id, user_id=None)
    definition = questionnaires.definition_of(version)
    waves = []
    for index, name in enumerate(names):
        wave = fieldwork.create_wave(
            session,
            fieldwork.WaveSettings(name=name),
            study_id=study.id,
            organisation_id=study.organisation_id,
            version_id=version.id,
        )
        respondents = [Respondent(person=i, tier=TIERS[i % 3]) for i in range(completes)]
        simulated = simulate_responses(definition, respondents, seed=11, wave_index=index)
        start = datetime(2026, 4 + 3 * index, 1, 9, tzinfo=UTC)
        for number, answer in enumerate(simulated):
            began = start + timedelta(minutes=number)
            session.add(
                Response(
                    organisation_id=study.organisation_id,
                    wave_id=wave.id,
                    questionnaire_version_id=version.id,
                    channel=Channel.web,
                    language=answer.language,
                    status=ResponseStatus.complete,
                    answer_values=answer.answers,
                    started_at=began,
                    updated_at=began,
                    submitted_at=began + timedelta(seconds=answer.duration_seconds),
                )
            )
        session.add(
            Response(
                organisation_id=study.organisation_id,
                wave_id=wave.id,
                questionnaire_version_id=version.id,
                channel=Channel.web,
                language="en",
                answer_values=[],
            )
        )
        waves.append(wave)
    session.commit()
    return waves


def queued_report(
    session: Session, ctx: OrgContext, study: Study, queue: JobQueue, *, bootstrap: str = "0"
) -> Report:
    """A committed XLSX report of the first of :func:`fielded_waves`, its job on ``queue``."""
    waves = fielded_waves(session, study)
    report = reports.create_report(
        session,
        ctx,
        study,
        queue,
        title="Loyalty report",
        language="en",
        formats=["xlsx"],
        wave_ids=[str(waves[0].id)],
        bootstrap=bootstrap,
    )
    session.commit()  # the job reaches the queue only now
    return report


def wait_for_job(
    engine: Engine,
    job_id: int,
    until: Callable[[Job], bool] = lambda job: not job.status.active,
    *,
    timeout: float = 60,
) -> Job:
    """Poll the job row (as the pages do) until ``until(job)`` holds."""
    deadline = time.monotonic() + timeout
    while True:
        with Session(engine) as session:
            job = session.get(Job, job_id)
            if job is not None and until(job):
                return job
        if time.monotonic() > deadline:
            raise AssertionError(f"job {job_id} still {job.status if job else 'missing'}")
        time.sleep(0.05)


def is_running(job: Job) -> bool:
    return job.status is JobStatus.running and job.percent > 0
