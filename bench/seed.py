"""Seeding for the fieldwork benchmarks: an organisation, a study, a published questionnaire
version of ``n_items`` rating items and an open wave, created with the real tables."""

from __future__ import annotations

from sqlmodel import Session

from loyaltylab.accounts.models import Organisation
from loyaltylab.fieldwork import service
from loyaltylab.fieldwork.models import Wave
from loyaltylab.questionnaires.models import Questionnaire, QuestionnaireVersion, VersionStatus
from loyaltylab.studies.models import Study
from surveys.definition import QuestionnaireDefinition
from surveys.library import agree_scale

LANGUAGES = ["zh-CN", "en"]


def rating_definition(n_items: int, *, per_page: int) -> QuestionnaireDefinition:
    """``n_items`` required 7-point items, ``per_page`` to a page."""
    scale = agree_scale(languages=LANGUAGES).model_dump()
    sections = []
    for start in range(0, n_items, per_page):
        items = [
            {
                "type": "likert",
                "code": f"q{number + 1}",
                "label": {"en": f"Statement {number + 1}", "zh-CN": f"陈述 {number + 1}"},
                "required": True,
                "scale": scale,
            }
            for number in range(start, min(start + per_page, n_items))
        ]
        sections.append(
            {
                "code": f"p{start // per_page + 1}",
                "title": {"en": "Page", "zh-CN": "页"},
                "items": items,
            }
        )
    return QuestionnaireDefinition.model_validate(
        {
            "title": {"en": "Benchmark", "zh-CN": "基准"},
            "languages": LANGUAGES,
            "sections": sections,
        }
    )


def open_wave(session: Session, definition: QuestionnaireDefinition) -> Wave:
    organisation = Organisation(name="Benchmark Research")
    session.add(organisation)
    session.flush()
    study = Study(organisation_id=organisation.id, name="Benchmark", company_name="Contoso")
    session.add(study)
    session.flush()
    questionnaire = Questionnaire(
        organisation_id=organisation.id, study_id=study.id, title="Benchmark"
    )
    session.add(questionnaire)
    session.flush()
    version = QuestionnaireVersion(
        questionnaire_id=questionnaire.id,
        number=1,
        status=VersionStatus.published,
        definition=definition.model_dump(mode="json"),
    )
    session.add(version)
    session.flush()
    where = {"study_id": study.id, "organisation_id": organisation.id, "version_id": version.id}
    if hasattr(service, "WaveSettings"):
        wave = service.create_wave(session, service.WaveSettings(name="2026-Q3"), **where)
    else:  # a checkout from before WaveSettings, measured by bench/compare.py as "before"
        wave = service.create_wave(session, name="2026-Q3", **where)
    service.open_wave(session, wave)
    session.commit()
    return wave
