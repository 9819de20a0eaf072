"""Simulated survey data from a known population model (the demo, tests and benchmarks).

Pure: a questionnaire definition, respondents and a seed in, answer arrays out (in the order of
``QuestionnaireDefinition.variables()``, as :class:`~loyaltylab.fieldwork.models.Response` stores
them). The population is the satisfaction -> value -> loyalty model of the source material:
standardised latent constructs, structural paths (``VAL = .6 SAT``, ``LOY = .4 SAT + .4 VAL``
by default), every scale item a congeneric indicator with a loading between .70 and .85, cut
into the item's scale points. Reverse-worded items are answered reversed; the NPS item follows
loyalty. A respondent's satisfaction has a lasting personal part (their answers in two waves
agree), a tier effect (gold customers are more satisfied) and a wave effect.

A few careless respondents can be seeded: speeders, straight-liners (one answer to every scale
item, reverse-worded ones included) and respondents who fail an attention check; their
answers are what :mod:`surveys.quality` flags.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from surveys.conditions import evaluate
from surveys.definition import (
    AttentionCheckItem,
    DropdownItem,
    LikertItem,
    LongTextItem,
    MatrixItem,
    MultipleChoiceItem,
    NpsItem,
    NumericItem,
    QuestionnaireDefinition,
    ShortTextItem,
    SingleChoiceItem,
    Variable,
    shown_rows,
)

DEFECTS = ("speeding", "straightlining", "attention")
TIERS = ("gold", "silver", "bronze")
REGIONS = ("north", "northeast", "east", "central", "south", "southwest", "northwest")
COMMENTS = {
    "en": (
        "Shorter queues at the checkout, please.",
        "The app keeps logging me out.",
        "More staff in the store at weekends.",
        "Delivery could be faster.",
        "Loyalty points should be easier to redeem.",
    ),
    "zh-CN": (
        "希望结账排队时间能短一些。",
        "APP经常自动退出登录。",
        "周末门店的服务人员太少。",
        "配送速度可以再快一些。",
        "积分兑换应该更方便。",
    ),
}


@dataclass(frozen=True)
class PopulationModel:
    """The population the responses are drawn from; every latent variable has variance ~1.

    ``paths`` maps an outcome construct to its predictors and standardised coefficients, in
    causal order; a construct of the questionnaire missing from ``paths`` depends on ``SAT``
    with coefficient ``other_path``. Mean shifts (in latent standard deviations) act on
    ``SAT`` and so, through the paths, on everything downstream.
    """

    paths: Mapping[str, Mapping[str, float]] = field(
        default_factory=lambda: {"VAL": {"SAT": 0.6}, "LOY": {"SAT": 0.4, "VAL": 0.4}}
    )
    loading_range: tuple[float, float] = (0.70, 0.85)
    other_path: float = 0.5
    stable_share: float = 0.6
    """Share of a person's satisfaction that carries over from one wave to the next."""
    tier_shift: Mapping[str, float] = field(
        default_factory=lambda: {"gold": 0.4, "silver": 0.0, "bronze": -0.25}
    )
    wave_shift: float = 0.15
    """Added to satisfaction per wave after the first (wave 2 is slightly better)."""
    scale_centre: float = 0.9
    """Where an average respondent sits on a scale, in latent SDs above its midpoint."""

    def __post_init__(self) -> None:
        low, high = self.loading_range
        if not 0 < low <= high < 1:
            raise ValueError("loadings must lie between 0 and 1")
        if not 0 <= self.stable_share <= 1:
            raise ValueError("stable_share must be between 0 and 1")


@dataclass(frozen=True)
class Respondent:
    """Who answers: ``person`` (e.g. a contact id) keeps their answers alike across waves."""

    person: int | None = None
    tier: str | None = None
    attributes: Mapping[str, Any] = field(default_factory=dict)
    language: str | None = None


@dataclass(frozen=True)
class SimulatedResponse:
    answers: list[Any]
    """Typed answers in ``definition.variables()`` order (None = not answered)."""
    duration_seconds: float
    language: str
    defect: str | None
    """``"speeding"``, ``"straightlining"``, ``"attention"`` or None for a careful respondent."""
    latent: dict[str, float]


SURNAMES = ("王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴")
GIVEN_NAMES = ("芳", "伟", "娜", "敏", "静", "磊", "洋", "婷", "强", "丽", "军")
FIRST_NAMES = ("Alex", "Sam", "Jordan", "Taylor", "Morgan", "Casey", "Jamie")
LAST_NAMES = ("Chen", "Smith", "Lee", "Brown", "Wong", "Taylor", "Lin", "Clark", "Ng")


def _person(number: int) -> tuple[str, str]:
    """(name, language) of customer ``number``: one in four writes English. Derived from the
    number, not the random stream, so the other attributes stay what they were."""
    if number % 4 == 0:
        name = f"{FIRST_NAMES[number % len(FIRST_NAMES)]} {LAST_NAMES[number % len(LAST_NAMES)]}"
        return name, "en"
    return f"{SURNAMES[number % len(SURNAMES)]}{GIVEN_NAMES[number % len(GIVEN_NAMES)]}", "zh-CN"


def simulate_contacts(count: int, *, seed: int) -> list[dict[str, Any]]:
    """Customer records: ``external_id``, ``email``, ``name``, ``language`` and ``attributes``
    (tier, region, tenure in years, yearly spend in yuan); gold customers stay longer and spend
    more."""
    rng = np.random.default_rng(seed)
    tiers = rng.choice(TIERS, size=count, p=(0.2, 0.35, 0.45))
    contacts = []
    for number, tier in enumerate(tiers, start=1):
        level = {"gold": 2, "silver": 1, "bronze": 0}[str(tier)]
        tenure = int(min(15, rng.gamma(2.0 + level, 1.2)))
        # Whole yuan, rounded to tens: shown as 7910 on the contacts page, not 7910.0.
        spend = round(int(rng.lognormal(math.log(1500 * 2.2**level), 0.5)), -1)
        name, language = _person(number)
        contacts.append(
            {
                "external_id": f"C{number:05d}",
                "email": f"customer{number:05d}@contoso.example",
                "name": name,
                "language": language,
                "attributes": {
                    "tier": str(tier),
                    "region": str(rng.choice(REGIONS)),
                    "tenure": tenure,
                    "spend": spend,
                },
            }
        )
    return contacts


def simulate_responses(
    definition: QuestionnaireDefinition,
    respondents: Sequence[Respondent],
    *,
    seed: int,
    wave_index: int = 0,
    model: PopulationModel | None = None,
    defects: Mapping[str, int] | None = None,
) -> list[SimulatedResponse]:
    """One complete response per respondent, drawn from ``model``.

    ``defects`` gives how many respondents answer carelessly in each way of :data:`DEFECTS`
    (chosen at random; an attention-check failure needs an attention-check item).
    """
    model = model or PopulationModel()
    defects = dict(defects or {})
    unknown = set(defects) - set(DEFECTS)
    if unknown:
        raise ValueError(f"unknown defects: {sorted(unknown)}")
    if sum(defects.values()) > len(respondents):
        raise ValueError("more careless respondents than respondents")
    variables = definition.variables()
    constructs = _causal_order(definition, model)
    loadings = _loadings(variables, model, seed)
    rng = np.random.default_rng([seed, wave_index])
    latent = _latent_scores(
        respondents, constructs, model, seed=seed, wave_index=wave_index, rng=rng
    )
    careless = rng.permutation(len(respondents))
    assigned: list[str | None] = [None] * len(respondents)
    start = 0
    for defect in DEFECTS:
        for index in careless[start : start + defects.get(defect, 0)]:
            assigned[index] = defect
        start += defects.get(defect, 0)
    results = []
    for index, respondent in enumerate(respondents):
        scores = {code: float(values[index]) for code, values in latent.items()}
        language = respondent.language or (
            definition.languages[0] if rng.random() < 0.8 else definition.languages[-1]
        )
        answers = _answers(
            definition,
            variables,
            scores,
            loadings,
            respondent,
            language=language,
            defect=assigned[index],
            centre=model.scale_centre,
            rng=rng,
        )
        results.append(
            SimulatedResponse(
                answers=answers,
                duration_seconds=_duration(len(variables), assigned[index], rng),
                language=language,
                defect=assigned[index],
                latent=scores,
            )
        )
    return results


def _causal_order(
    definition: QuestionnaireDefinition, model: PopulationModel
) -> dict[str, dict[str, float]]:
    """Construct -> its predictors and paths, predictors first; SAT is exogenous."""
    measured = [code for code, items in definition.construct_items().items() if items]
    order: dict[str, dict[str, float]] = {}
    pending = {
        code: dict(model.paths.get(code, {} if code == "SAT" else {"SAT": model.other_path}))
        for code in dict.fromkeys(["SAT", *measured, *model.paths])
    }
    while pending:
        ready = [c for c, p in pending.items() if all(pred in order for pred in p)]
        if not ready:
            raise ValueError("the population paths must not form a cycle")
        for code in ready:
            order[code] = pending.pop(code)
    return order


def _loadings(variables: list[Variable], model: PopulationModel, seed: int) -> dict[str, float]:
    rng = np.random.default_rng([seed, 7])
    low, high = model.loading_range
    return {v.code: float(rng.uniform(low, high)) for v in variables if v.construct is not None}


def _latent_scores(
    respondents: Sequence[Respondent],
    constructs: Mapping[str, Mapping[str, float]],
    model: PopulationModel,
    *,
    seed: int,
    wave_index: int,
    rng: np.random.Generator,
) -> dict[str, np.ndarray]:
    n = len(respondents)
    # A person's lasting satisfaction comes from their own seed: the same in every wave.
    stable = np.array(
        [
            np.random.default_rng([seed, 1, r.person]).standard_normal()
            if r.person is not None
            else rng.standard_normal()
            for r in respondents
        ]
    )
    shift = np.array([model.tier_shift.get(r.tier or "", 0.0) for r in respondents])
    share = model.stable_share
    scores: dict[str, np.ndarray] = {}
    covariance: dict[tuple[str, str], float] = {}
    for code, predictors in constructs.items():
        if not predictors:
            values = math.sqrt(share) * stable + math.sqrt(1 - share) * rng.standard_normal(n)
            values = values + shift + model.wave_shift * wave_index
            covariance[code, code] = 1.0
        else:
            explained = sum(
                b1 * b2 * covariance[p1, p2]
                for p1, b1 in predictors.items()
                for p2, b2 in predictors.items()
            )
            if explained >= 1:
                raise ValueError(f"the paths to {code} explain more than all of its variance")
            predicted = sum(b * scores[p] for p, b in predictors.items())
            values = predicted + math.sqrt(1 - explained) * rng.standard_normal(n)
            for other in list(scores):
                value = sum(b * covariance[p, other] for p, b in predictors.items())
                covariance[code, other] = covariance[other, code] = value
            covariance[code, code] = 1.0
        scores[code] = values
    return scores


def _answers(
    definition: QuestionnaireDefinition,
    variables: list[Variable],
    scores: Mapping[str, float],
    loadings: Mapping[str, float],
    respondent: Respondent,
    *,
    language: str,
    defect: str | None,
    centre: float,
    rng: np.random.Generator,
) -> list[Any]:
    loyalty = scores.get("LOY", scores["SAT"])
    flat = int(rng.integers(5, 8)) if defect == "straightlining" else None
    answers: dict[str, Any] = {}
    for variable in variables:
        item = variable.item
        if isinstance(item, MatrixItem | LikertItem):
            points = item.scale.points
            if flat is not None:
                answers[variable.code] = min(flat, points)
                continue
            loading = loadings.get(variable.code, 0.75)
            construct_score = scores.get(variable.construct or "", scores["SAT"])
            z = loading * construct_score + math.sqrt(1 - loading**2) * rng.standard_normal()
            value = _to_scale(z + centre, points)
            answers[variable.code] = points + 1 - value if variable.reverse else value
        elif isinstance(item, NpsItem):
            if flat is not None:
                answers[variable.code] = flat + 3
                continue
            z = 0.85 * loyalty + math.sqrt(1 - 0.85**2) * rng.standard_normal()
            answers[variable.code] = int(np.clip(round(7.6 + 1.9 * z), 0, 10))
        elif isinstance(item, AttentionCheckItem):
            wrong = [o.value for o in item.options if o.value != item.expected]
            answers[variable.code] = (
                str(rng.choice(wrong)) if defect == "attention" and wrong else item.expected
            )
        elif not item.required and rng.random() < 0.08:
            continue  # optional questions are sometimes skipped
        elif isinstance(item, SingleChoiceItem | DropdownItem):
            answers[variable.code] = _choice(item, respondent, rng)
        elif isinstance(item, MultipleChoiceItem):
            values = [o.value for o in item.options]
            count = max(item.min_selections or 1, min(item.max_selections or 2, len(values)))
            chosen = set(rng.choice(values, size=min(count, len(values)), replace=False))
            answers[variable.code] = [v for v in values if v in chosen]
        elif isinstance(item, NumericItem):
            low = item.min if item.min is not None else 0
            high = item.max if item.max is not None else low + 20
            answers[variable.code] = int(rng.integers(math.ceil(low), math.floor(high) + 1))
        elif isinstance(item, LongTextItem | ShortTextItem) and rng.random() < 0.3:
            comments = COMMENTS.get(language, COMMENTS["en"])
            answers[variable.code] = comments[int(rng.integers(len(comments)))]
    counted = _shown_answers(definition, answers)
    return [counted.get(v.code) for v in variables]


def _to_scale(z: float, points: int) -> int:
    """A standard normal score cut into ``points`` categories (about 1.3 SD wide in total)."""
    middle = (points + 1) / 2
    return int(np.clip(round(middle + z * (points - 1) / 4.6), 1, points))


def _choice(
    item: SingleChoiceItem | DropdownItem, respondent: Respondent, rng: np.random.Generator
) -> str:
    values = [o.value for o in item.options]
    known = respondent.attributes.get(item.code)
    if item.code == "tenure" and isinstance(known, int | float):
        band = "lt1" if known < 1 else "1-2" if known < 3 else "3-5" if known <= 5 else "gt5"
        if band in values:
            return band
    if known is not None and str(known) in values:
        return str(known)
    # Options further down the list are rarer (e.g. age bands, "prefer not to say").
    weights = np.linspace(1.0, 0.4, len(values))
    return str(rng.choice(values, p=weights / weights.sum()))


def _shown_answers(definition: QuestionnaireDefinition, answers: Mapping[str, Any]) -> dict:
    """Only answers to questions that display logic shows (in questionnaire order)."""
    context: dict[str, Any] = {}
    for section in definition.sections:
        section_visible = evaluate(section.condition, context)
        for item in section.items:
            if not section_visible or not evaluate(item.condition, context):
                continue
            rows = shown_rows(item, context) if isinstance(item, MatrixItem) else [item]
            context.update({row.code: answers[row.code] for row in rows if row.code in answers})
    return context


def _duration(variable_count: int, defect: str | None, rng: np.random.Generator) -> float:
    """Seconds to complete: about 12 s per question, right-skewed; speeders a fraction of it."""
    median = 12.0 * variable_count + 30
    if defect == "speeding":
        return round(float(rng.uniform(0.12, 0.25) * median), 1)
    return round(float(rng.lognormal(math.log(median), 0.35)), 1)
