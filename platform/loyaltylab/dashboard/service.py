"""Gathering a study's waves and responses for :func:`analysis.trends.trend_indices`."""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import pairwise

import pandas as pd
from sqlmodel import Session, select

from analysis.drivers import derived_importance, importance_performance
from analysis.errors import AnalysisError
from analysis.pipeline import GroupInvariance, invariance_across
from analysis.pls import fit_pls, rescaled_weights
from analysis.syntax import measurement_syntax, parse_model
from analysis.trends import respondent_indices, trend_indices
from loyaltylab.analysis_settings.schemas import AnalysisSettings
from loyaltylab.fieldwork.data import responses_dataframe
from loyaltylab.fieldwork.export import ATTRIBUTE_PREFIX, contact_attributes
from loyaltylab.fieldwork.models import Contact, Wave, WaveStatus
from loyaltylab.fieldwork.monitoring import wave_progress
from loyaltylab.fieldwork.service import definition_for
from loyaltylab.questionnaires.models import QuestionnaireVersion
from loyaltylab.studies.models import Study
from surveys.definition import (
    DropdownItem,
    LongTextItem,
    NpsItem,
    QuestionnaireDefinition,
    ShortTextItem,
    SingleChoiceItem,
)
from surveys.versions import diff_definitions

OPEN_TEXTS_SHOWN = 50
NPS_OUTCOME = "__likelihood_to_recommend"
MAX_SEGMENTS = 12
"""A contact attribute with more distinct values is not offered as a breakdown."""


@dataclass(frozen=True)
class WaveRate:
    """A wave's fieldwork: the response rate counts personal-link completes against the
    invitations sent, so it never passes 100%; public-link completes are counted apart."""

    wave: str
    completed: int
    invited: int
    invited_completed: int
    response_rate: float | None

    @property
    def public_completed(self) -> int:
        """Complete responses without a personal invitation (public link, telephone)."""
        return self.completed - self.invited_completed


@dataclass(frozen=True)
class Breakdown:
    """Something to break the results down by: a contact attribute or a choice question."""

    key: str
    """``contact:<attribute>`` or ``answer:<item code>`` (the page's ``segment`` parameter)."""
    label: str
    kind: str
    """``contact`` or ``answer``."""
    values: dict[str, str] = field(default_factory=dict)
    """For a question: option value -> its label in the reader's language, in option order."""


@dataclass(frozen=True)
class VersionWarning:
    wave_from: str
    wave_to: str
    construct: str
    changes: tuple[str, ...]


@dataclass
class Dashboard:
    waves: list[str]
    results: pd.DataFrame
    constructs: dict[str, str]
    segment: Breakdown | None
    segments: list[str]
    """The groups of the breakdown in order, "not stated" last."""
    rates: list[WaveRate]
    warnings: list[VersionWarning]
    invariance: GroupInvariance | None = None
    """Measurement invariance across the waves; None when no construct kept two items."""
    invariance_constructs: dict[str, list[str]] = field(default_factory=dict)
    open_texts: list[tuple[str, str, str]] = field(default_factory=list)
    """(wave, item label, answer) of the latest waves, when the viewer may read them."""
    index_method: str = "mean"
    """``"pls"``: the indices weight the items by the PLS model (ACSI method); ``"mean"``:
    item means; ``"pls_failed"``: PLS was chosen but its model could not be estimated."""
    priorities: pd.DataFrame = field(default_factory=pd.DataFrame)
    """The latest wave's importance-performance map: ``construct, importance, performance,
    quadrant`` (importance: r with the likelihood to recommend); empty without an NPS item."""
    priorities_wave: str | None = None


def fielded_waves(session: Session, study: Study) -> list[Wave]:
    return list(
        session.exec(
            select(Wave)
            .where(Wave.study_id == study.id, Wave.status != WaveStatus.draft)
            .order_by(Wave.opens_at, Wave.created_at, Wave.id)
        ).all()
    )


def breakdowns(session: Session, study: Study, *, language: str) -> list[Breakdown]:
    """What the dashboard can break results down by: contact attributes with a few distinct
    values, then the single-choice and dropdown questions of the fielded questionnaires."""
    values: dict[str, set] = {}
    for attributes in session.exec(select(Contact.attributes).where(Contact.study_id == study.id)):
        for name, value in attributes.items():
            values.setdefault(name, set()).add(str(value))
    found = [
        Breakdown(f"contact:{name}", name, "contact")
        for name, seen in sorted(values.items())
        if 1 < len(seen) <= MAX_SEGMENTS
    ]
    asked: dict[str, Breakdown] = {}
    for wave in fielded_waves(session, study):
        definition = definition_for(session, wave.questionnaire_version_id)
        for _section, _index, item in definition.items():
            if isinstance(item, SingleChoiceItem | DropdownItem) and item.code not in asked:
                asked[item.code] = Breakdown(
                    f"answer:{item.code}",
                    _text(item.label, language) or item.code,
                    "answer",
                    {option.value: _text(option.label, language) for option in item.options},
                )
    return found + list(asked.values())


def _text(texts: dict[str, str], language: str) -> str:
    return texts.get(language) or next((text for text in texts.values() if text), "")


def _groups(
    data: pd.DataFrame, session: Session, study: Study, breakdown: Breakdown, not_stated: str
) -> pd.Series:
    """Each response's group: its contact's attribute or its answer (labelled), with missing
    values (no contact, no such attribute, no answer) as ``not_stated``."""
    if breakdown.kind == "contact":
        attributes = contact_attributes(session, study.id, data["contact"])
        column = ATTRIBUTE_PREFIX + breakdown.key.removeprefix("contact:")
        raw = attributes[column] if column in attributes else [None] * len(data)
    else:
        code = breakdown.key.removeprefix("answer:")
        column = data[code] if code in data else pd.Series(None, index=data.index)
        raw = [
            breakdown.values.get(str(value), str(value)) if _stated(value) else None
            for value in column
        ]
    return pd.Series(
        [str(value) if _stated(value) else not_stated for value in raw],
        index=data.index,
        dtype=object,
    )


def _stated(value: object) -> bool:
    """Not None, NaN or blank: a value a respondent or the contact list gave."""
    if value is None or (not isinstance(value, list | dict) and pd.isna(value)):
        return False
    return bool(str(value).strip())


def _scale_facts(definition: QuestionnaireDefinition):
    ranges, nps = {}, None
    for variable in definition.variables():
        item = variable.item
        if isinstance(item, NpsItem) and nps is None:
            nps = variable.code
        scale = getattr(item, "scale", None)
        if variable.construct is not None and scale is not None:
            ranges[variable.code] = (1.0, float(scale.points))
    return ranges, nps


def _version_warnings(session: Session, waves: list[Wave]) -> list[VersionWarning]:
    warnings = []
    for earlier, later in pairwise(waves):
        if earlier.questionnaire_version_id == later.questionnaire_version_id:
            continue
        old = definition_for(session, earlier.questionnaire_version_id)
        new = definition_for(session, later.questionnaire_version_id)
        breaking = diff_definitions(old, new).breaking
        members = {**old.construct_items(), **new.construct_items()}
        for construct, items in sorted(members.items()):
            hit = [c.code for c in breaking if c.code in items or c.code == construct]
            if hit:
                warnings.append(
                    VersionWarning(earlier.name, later.name, construct, tuple(dict.fromkeys(hit)))
                )
    return warnings


def _invariance_data(
    data: pd.DataFrame,
    definitions: dict[int, QuestionnaireDefinition],
    ranges: dict[str, tuple[float, float]],
    reverse: set[str],
) -> tuple[dict[str, list[str]], pd.DataFrame]:
    """The constructs' items every fielded version asked (two or more per construct), and those
    items with reverse-keyed ones recoded, beside the wave."""
    common: dict[str, list[str]] | None = None
    for version_id in data["questionnaire_version_id"].unique():
        asked = definitions[version_id].construct_items()
        if common is None:
            common = {code: list(items) for code, items in asked.items()}
        else:
            common = {
                code: [item for item in items if item in asked.get(code, ())]
                for code, items in common.items()
            }
    constructs = {
        code: [item for item in items if item in ranges and item in data]
        for code, items in (common or {}).items()
    }
    constructs = {code: items for code, items in constructs.items() if len(items) >= 2}
    items = [item for members in constructs.values() for item in members]
    return constructs, pd.concat([data[["wave"]], _recoded(data, items, ranges, reverse)], axis=1)


def _recoded(
    data: pd.DataFrame, items: list[str], ranges: dict[str, tuple[float, float]], reverse: set[str]
) -> pd.DataFrame:
    """The items as numbers (anything else missing), reverse-keyed ones turned."""
    frame = pd.DataFrame(index=data.index)
    for item in items:
        values = pd.to_numeric(data[item], errors="coerce")
        low, high = ranges[item]
        frame[item] = low + high - values if item in reverse else values
    return frame


def _without_missing_codes(
    session: Session,
    data: pd.DataFrame,
    constructs: dict[str, list[str]],
    settings: AnalysisSettings,
) -> None:
    """Answers with their questionnaire's missing-value codes ("don't know" = 9) as missing."""
    items = [item for members in constructs.values() for item in members]
    for version_id in data["questionnaire_version_id"].unique():
        version = session.get(QuestionnaireVersion, int(version_id))
        codes = settings.missing_codes.get(version.questionnaire_id) if version else None
        if not codes:
            continue
        rows = data["questionnaire_version_id"] == version_id
        answers = data.loc[rows, items].apply(pd.to_numeric, errors="coerce")
        data.loc[rows, items] = data.loc[rows, items].mask(answers.isin(codes))


def _acsi_weights(
    data: pd.DataFrame,
    constructs: dict[str, list[str]],
    ranges: dict[str, tuple[float, float]],
    reverse: set[str],
    structural_model: str,
    settings: AnalysisSettings,
) -> dict[str, dict[str, float]] | None:
    """Each construct's items weighted as the ACSI method does: the rescaled outer weights of
    the study's PLS model, fitted once on every wave's complete answers so that a change in an
    index is a change in the answers, not in the weights. None when the model has no paths
    or cannot be estimated on these answers."""
    spec = parse_model(structural_model) if structural_model.strip() else None
    in_paths = {
        name
        for outcome, predictors in (spec.regressions if spec else {}).items()
        for name in (outcome, *predictors)
    }
    blocks = {
        code: [item for item in items if item in ranges]
        for code, items in constructs.items()
        if code in in_paths
    }
    blocks = {code: items for code, items in blocks.items() if items}
    if len(blocks) < 2:
        return None
    items = [item for members in blocks.values() for item in members]
    answers = _recoded(data, items, ranges, reverse).dropna()
    try:
        result = fit_pls(
            answers,
            measurement_syntax(blocks) + "\n" + structural_model,
            scheme=settings.pls_scheme,
            consistent=settings.consistent,
        )
    except (AnalysisError, ValueError):
        return None
    table = rescaled_weights(result)
    return {
        construct: dict(zip(block["item"], block["rescaled"], strict=True))
        for construct, block in table.groupby("construct", sort=False)
    }


def _open_texts(data: pd.DataFrame, definitions: dict, names: dict, language: str) -> list:
    texts = []
    for version_id, definition in definitions.items():
        rows = data[data["questionnaire_version_id"] == version_id]
        for variable in definition.variables():
            if not isinstance(variable.item, ShortTextItem | LongTextItem):
                continue
            if variable.code not in rows:
                continue
            label = variable.label.get(language) or next(iter(variable.label.values()), "")
            for wave_id, answer in zip(rows["wave_id"], rows[variable.code], strict=True):
                if isinstance(answer, str) and answer.strip():
                    texts.append((names[wave_id], label, answer))
    return texts[-OPEN_TEXTS_SHOWN:]


def build_dashboard(
    session: Session,
    study: Study,
    *,
    segment: Breakdown | None,
    with_open_text: bool,
    language: str,
    not_stated: str = "Not stated",
) -> Dashboard:
    """Indices and NPS per wave (by the groups of ``segment``, where ``not_stated`` names the
    responses without a value), response rates, comparability warnings and invariance."""
    waves = fielded_waves(session, study)
    names = {wave.id: wave.name for wave in waves}
    rates = []
    for wave in waves:
        progress = wave_progress(session, wave)
        rates.append(
            WaveRate(
                wave.name,
                progress.completed,
                progress.invited,
                progress.invited_completed,
                progress.response_rate,
            )
        )
    empty = Dashboard([w.name for w in waves], pd.DataFrame(), {}, segment, [], rates, [])
    if not waves:
        return empty
    data = responses_dataframe(session, [wave.id for wave in waves])
    if data.empty:
        return empty
    definitions = {v: definition_for(session, v) for v in data["questionnaire_version_id"].unique()}
    constructs: dict[str, list[str]] = {}
    ranges: dict[str, tuple[float, float]] = {}
    reverse: set[str] = set()
    construct_names: dict[str, str] = {}
    nps = None
    for definition in definitions.values():
        for code, items in definition.construct_items().items():
            merged = constructs.setdefault(code, [])
            merged += [item for item in items if item not in merged and item in data]
        found, item = _scale_facts(definition)
        ranges.update(found)
        nps = nps or item
        reverse.update(definition.reverse_keyed())
        for construct in definition.constructs:
            construct_names.setdefault(
                construct.code, construct.name.get(language) or construct.code
            )
    constructs = {code: items for code, items in constructs.items() if items}
    settings = AnalysisSettings.of(study.analysis_settings)
    _without_missing_codes(session, data, constructs, settings)
    index_method, weights = "mean", None
    if settings.is_pls:
        latest = definition_for(session, waves[-1].questionnaire_version_id)
        weights = _acsi_weights(data, constructs, ranges, reverse, latest.model, settings)
        index_method = "pls" if weights else "pls_failed"
    data["wave"] = data["wave_id"].map(names)
    if segment is not None:
        data["segment"] = _groups(data, session, study, segment, not_stated)
    if nps is not None and nps not in data:
        nps = None
    results = trend_indices(
        data,
        wave="wave",
        constructs=constructs,
        scale_ranges=ranges,
        reverse=sorted(reverse & set(ranges)),
        nps=nps,
        segment="segment" if segment is not None else None,
        order=[wave.name for wave in waves],
        weights=weights,
    )
    segments = []
    if segment is not None:
        present = set(results["segment"].dropna())
        known = [label for label in segment.values.values() if label in present]
        rest = sorted(present - set(known) - {not_stated})
        segments = known + rest + ([not_stated] if not_stated in present else [])
    compared, frame = _invariance_data(data, definitions, ranges, reverse)
    priorities_wave, priorities = _priorities(
        data, [wave.name for wave in waves], constructs, ranges, reverse, nps
    )
    return Dashboard(
        waves=[wave.name for wave in waves],
        results=results,
        constructs={code: construct_names.get(code, code) for code in constructs},
        segment=segment,
        segments=segments,
        rates=rates,
        warnings=_version_warnings(session, waves),
        invariance=(
            invariance_across(
                frame, constructs=compared, group="wave", order=[wave.name for wave in waves]
            )
            if compared
            else None
        ),
        invariance_constructs=compared,
        open_texts=_open_texts(data, definitions, names, language) if with_open_text else [],
        index_method=index_method,
        priorities=priorities,
        priorities_wave=priorities_wave,
    )


def _priorities(
    data: pd.DataFrame,
    order: list[str],
    constructs: dict[str, list[str]],
    ranges: dict[str, tuple[float, float]],
    reverse: set[str],
    nps: str | None,
) -> tuple[str | None, pd.DataFrame]:
    """The latest wave's importance-performance map: performance is the construct's mean
    0-100 index, importance its correlation with the likelihood to recommend."""
    fielded = [wave for wave in order if (data["wave"] == wave).any()]
    if nps is None or len(constructs) < 2 or not fielded:
        return None, pd.DataFrame()
    latest = data[data["wave"] == fielded[-1]]
    scores = respondent_indices(
        latest, constructs=constructs, scale_ranges=ranges, reverse=sorted(reverse & set(ranges))
    )
    scores[NPS_OUTCOME] = pd.to_numeric(latest[nps], errors="coerce")
    importance = derived_importance(scores, outcome=NPS_OUTCOME, drivers=list(constructs))
    importance = importance.dropna()
    if len(importance) < 2:
        return None, pd.DataFrame()
    return fielded[-1], importance_performance(
        scores, importance=importance, scale_min=0.0, scale_max=100.0
    )


__all__ = ["Breakdown", "Dashboard", "breakdowns", "build_dashboard", "fielded_waves"]
