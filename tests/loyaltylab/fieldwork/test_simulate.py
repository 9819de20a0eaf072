"""Simulated responses: the population model is recovered and careless answers are flagged."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sqlmodel import Session, func, select

from analysis.pipeline import AnalysisResult, analyze
from analysis.syntax import measurement_syntax
from loyaltylab.demo import CARELESS, DEMO_WAVES, STUDY_NAME, seed_demo
from loyaltylab.fieldwork.data import responses_dataframe, wave_flags
from loyaltylab.fieldwork.models import Channel, Response, Wave, WaveInvitation, WaveStatus
from loyaltylab.studies.models import Study
from surveys.definition import AttentionCheckItem, Option, QuestionnaireDefinition
from surveys.library import create_from_template
from surveys.quality import quality_flags
from surveys.simulate import (
    PopulationModel,
    Respondent,
    simulate_contacts,
    simulate_responses,
)


@pytest.fixture(scope="module")
def definition() -> QuestionnaireDefinition:
    definition = create_from_template("svl", company_name="Contoso")
    definition.sections[1].items.insert(
        1,
        AttentionCheckItem(
            code="attention",
            label={"en": "Please choose agree", "zh-CN": "请选择同意"},
            required=True,
            options=[
                Option(value=str(point), label={"en": str(point), "zh-CN": str(point)})
                for point in range(1, 8)
            ],
            expected="6",
        ),
    )
    return definition


def frame(definition: QuestionnaireDefinition, simulated) -> pd.DataFrame:
    data = pd.DataFrame(
        [response.answers for response in simulated],
        columns=[variable.code for variable in definition.variables()],
    )
    data["status"] = "complete"
    data["duration_seconds"] = [response.duration_seconds for response in simulated]
    return data


def full_model(definition: QuestionnaireDefinition) -> str:
    return measurement_syntax(definition.construct_items()) + "\n" + definition.model


def paths(result) -> dict[tuple[str, str], float]:
    estimates = result.model.estimates
    structural = estimates[estimates["op"] == "~"]
    return {
        (lhs, rhs): std
        for lhs, rhs, std in zip(
            structural["lhs"], structural["rhs"], structural["std_all"], strict=True
        )
    }


def assert_recovers_the_population(
    definition: QuestionnaireDefinition, data: pd.DataFrame, *, tolerance: float
) -> AnalysisResult:
    """The study's model fitted to ``data`` finds the simulation's population paths
    (standardised: VAL = .6 SAT; LOY = .4 SAT + .4 VAL) and reliable scales."""
    result = analyze(
        data,
        model=full_model(definition),
        reverse=definition.reverse_keyed(),
        scale_min=1,
        scale_max=7,
    )
    estimated = paths(result)
    assert estimated[("VAL", "SAT")] == pytest.approx(0.6, abs=tolerance)
    assert estimated[("LOY", "SAT")] == pytest.approx(0.4, abs=tolerance)
    assert estimated[("LOY", "VAL")] == pytest.approx(0.4, abs=tolerance)
    assert (result.reliability["alpha"] >= 0.7).all()
    return result


def test_the_analysis_recovers_the_population_paths(definition) -> None:
    simulated = simulate_responses(definition, [Respondent()] * 1500, seed=11)
    data = frame(definition, simulated)
    result = assert_recovers_the_population(definition, data, tolerance=0.08)
    loadings = result.measurement_model.estimates.query("op == '=~'")["std_all"]
    assert loadings.between(0.6, 0.92).all()


def test_reverse_worded_items_and_nps_follow_the_constructs(definition) -> None:
    simulated = simulate_responses(definition, [Respondent()] * 800, seed=3)
    data = frame(definition, simulated)
    assert data["sat5"].corr(data["sat1"]) < -0.4  # "fell short of my expectations"
    loyalty = [response.latent["LOY"] for response in simulated]
    assert np.corrcoef(loyalty, data["nps"])[0, 1] > 0.7
    assert data["nps"].between(0, 10).all()


def test_tier_wave_and_person_effects_and_a_fixed_seed(definition) -> None:
    people = [Respondent(person=i, tier=("gold", "bronze")[i % 2]) for i in range(1000)]
    first = simulate_responses(definition, people, seed=5, wave_index=0)
    second = simulate_responses(definition, people, seed=5, wave_index=1)
    again = simulate_responses(definition, people, seed=5, wave_index=0)
    assert [r.answers for r in first] == [r.answers for r in again]
    sat_first = np.array([r.latent["SAT"] for r in first])
    sat_second = np.array([r.latent["SAT"] for r in second])
    # Wave 2 is better by the model's wave shift; the same people answer alike in both waves.
    assert sat_second.mean() - sat_first.mean() == pytest.approx(0.15, abs=0.08)
    assert np.corrcoef(sat_first, sat_second)[0, 1] == pytest.approx(0.6, abs=0.1)
    gold = sat_first[::2].mean() - sat_first[1::2].mean()
    assert gold == pytest.approx(0.65, abs=0.15)


def test_quality_flags_fire_on_the_seeded_careless_respondents(definition) -> None:
    defects = {"speeding": 10, "straightlining": 8, "attention": 7}
    simulated = simulate_responses(definition, [Respondent()] * 600, seed=8, defects=defects)
    flags = quality_flags(frame(definition, simulated), definition)
    seeded = pd.Series([response.defect for response in simulated])
    for defect, count in defects.items():
        assert (seeded == defect).sum() == count
        assert flags.loc[seeded == defect, defect].all(), defect
        # Careful respondents are hardly ever flagged.
        assert flags.loc[seeded.isna(), defect].mean() < 0.02, defect
    assert flags.loc[seeded == "straightlining", "long_string"].all()


def test_population_model_and_defects_are_checked(definition) -> None:
    with pytest.raises(ValueError, match="loadings"):
        PopulationModel(loading_range=(0.5, 1.2))
    with pytest.raises(ValueError, match="unknown defects"):
        simulate_responses(definition, [Respondent()], seed=1, defects={"lazy": 1})
    with pytest.raises(ValueError, match="explain more"):
        simulate_responses(
            definition,
            [Respondent()],
            seed=1,
            model=PopulationModel(paths={"VAL": {"SAT": 1.2}}),
        )


def test_contacts_have_tiers_regions_tenure_and_spend() -> None:
    contacts = simulate_contacts(300, seed=1)
    assert contacts == simulate_contacts(300, seed=1)
    assert len({c["external_id"] for c in contacts}) == 300
    attributes = pd.DataFrame([c["attributes"] for c in contacts])
    assert set(attributes["tier"]) == {"gold", "silver", "bronze"}
    assert all(isinstance(c["attributes"]["spend"], int) for c in contacts)  # 7910, not 7910.0
    spend = attributes.groupby("tier")["spend"].median()
    assert spend["gold"] > spend["silver"] > spend["bronze"]
    languages = [c["language"] for c in contacts]
    assert set(languages) == {"en", "zh-CN"} and languages.count("en") == 75
    assert all(c["name"] for c in contacts)
    assert (attributes["tenure"] >= 0).all() and attributes["region"].nunique() > 3


def test_demo_waves_hold_analysable_answers_with_flags(session: Session) -> None:
    seed_demo(session)
    session.commit()
    seed_demo(session)  # a second run adds nothing
    session.commit()
    study_id = session.exec(select(Study.id).where(Study.name == STUDY_NAME)).one()
    waves = session.exec(select(Wave).where(Wave.study_id == study_id).order_by(Wave.name)).all()
    assert [(w.name, w.status) for w in waves] == [
        (name, WaveStatus.closed) for name, _opens, _closes in DEMO_WAVES
    ]
    assert session.exec(select(func.count()).select_from(Response)).one() == 2 * 630
    data = responses_dataframe(session, [w.id for w in waves])
    assert data.groupby("wave_id").size().tolist() == [600, 600]
    # Contacts answer both waves through personal links, linked by their pseudonym.
    invited = data[data["channel"] == Channel.invitation.value]
    assert invited.groupby("contact")["wave_id"].nunique().max() == 2
    used = session.exec(
        select(func.count()).select_from(WaveInvitation).where(WaveInvitation.used_at.is_not(None))
    ).one()
    assert used == len(invited)
    assert data.groupby("wave_id")["sat1"].mean().is_monotonic_increasing

    demo = create_from_template("svl", company_name="Contoso")
    assert_recovers_the_population(demo, data, tolerance=0.1)
    for wave in waves:
        raised = [flag for flags in wave_flags(session, wave).values() for flag in flags]
        for defect, count in CARELESS.items():
            assert raised.count(defect) >= count, (wave.name, defect)
