"""Reading and saving a study's analysis settings."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sqlmodel import Session

from loyaltylab.analysis_settings.schemas import AnalysisSettings, codes_field, parse_settings
from loyaltylab.deps import OrgContext
from loyaltylab.errors import InvalidInput
from loyaltylab.questionnaires import service as questionnaires
from loyaltylab.studies.models import Study
from loyaltylab.timeutil import utcnow


@dataclass(frozen=True)
class QuestionnaireScale:
    """A questionnaire of the study with the answer range of its construct items (latest
    version), against which its missing-value codes are checked."""

    id: int
    title: dict[str, str]
    scale_min: int | None
    scale_max: int | None

    @property
    def field(self) -> str:
        return codes_field(self.id)

    def has(self, answer: float) -> bool:
        """Whether ``answer`` is a point of the scale (whole numbers from min to max)."""
        if self.scale_min is None or self.scale_max is None:
            return False
        return float(answer).is_integer() and self.scale_min <= answer <= self.scale_max


def settings_of(study: Study) -> AnalysisSettings:
    return AnalysisSettings.of(study.analysis_settings)


def questionnaire_scales(
    session: Session, ctx: OrgContext, study: Study
) -> list[QuestionnaireScale]:
    scales = []
    for questionnaire in questionnaires.list_questionnaires(
        session, ctx.organisation_id, study_id=study.id
    ):
        latest = questionnaires.list_versions(session, ctx.organisation_id, questionnaire.id)[-1]
        definition = questionnaires.definition_of(latest)
        points = [
            variable.item.scale.points
            for variable in definition.variables()
            if variable.construct is not None and getattr(variable.item, "scale", None)
        ]
        scales.append(
            QuestionnaireScale(
                questionnaire.id,
                dict(latest.definition.get("title") or {"und": questionnaire.title}),
                1 if points else None,
                max(points) if points else None,
            )
        )
    return scales


def save_settings(
    session: Session,
    study: Study,
    form: Mapping[str, str],
    scales: list[QuestionnaireScale],
) -> list[InvalidInput]:
    """Validate the submitted settings and save them; returns the problems instead (one per
    field, nothing saved) when they are refused."""
    settings, problems = parse_settings(form, [scale.id for scale in scales])
    if settings is None:
        return problems
    for scale in scales:
        on_scale = [code for code in settings.missing_codes.get(scale.id, ()) if scale.has(code)]
        if on_scale:
            code = f"{on_scale[0]:g}"
            problems.append(
                InvalidInput(
                    "%(code)s is an answer on this questionnaire's scale (%(low)s to %(high)s): "
                    "a missing-value code must lie outside it.",
                    field=scale.field,
                    code=code,
                    low=scale.scale_min,
                    high=scale.scale_max,
                )
            )
    if problems:
        return problems
    study.analysis_settings = settings.to_dict()
    study.updated_at = utcnow()
    session.add(study)
    session.flush()
    return []
