"""Checking a respondent's answers: raw form values in, typed answers or per-item problems out.

Raw values are what an HTML form posts: a string per field, a list of strings for a multiple
choice (a single string is accepted too). Typed answers are ``int`` for rating scales and NPS
(``"na"`` for "not applicable"), ``int`` or ``float`` for numeric questions, the option value for
choices, a list of option values (in option order) for multiple choice, and ``str`` for text.
Display logic is evaluated on the server in questionnaire order: a hidden question must be left
empty, and its answer never counts for later conditions.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from surveys.conditions import evaluate
from surveys.definition import (
    CHOICE_TYPES,
    NOT_APPLICABLE,
    NPS_MAX,
    NPS_MIN,
    InstructionItem,
    Item,
    LikertItem,
    LikertScale,
    LongTextItem,
    MatrixItem,
    MultipleChoiceItem,
    NpsItem,
    NumericItem,
    QuestionnaireDefinition,
    ShortTextItem,
)
from surveys.problems import Problem

RawValue = str | Sequence[str] | None
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)$")
_MAX_NUMBER_LENGTH = 30


class InvalidAnswer(ValueError):
    """An answer that does not fit its question; ``problem`` says why."""

    def __init__(self, code: str, **params: Any) -> None:
        super().__init__(code)
        self.problem = Problem(code, (), params)


@dataclass
class AnswerCheck:
    """The outcome of :func:`validate_answers`."""

    answers: dict[str, Any] = field(default_factory=dict)
    """Typed answers of the visible, answered questions (variable code -> value)."""
    errors: dict[str, Problem] = field(default_factory=dict)
    """Variable code -> what is wrong with its answer."""
    hidden: set[str] = field(default_factory=set)
    """Codes of variables not shown for these answers (within the checked sections)."""

    @property
    def ok(self) -> bool:
        return not self.errors


def _is_blank(raw: RawValue) -> bool:
    if raw is None:
        return True
    if isinstance(raw, str):
        return not raw.strip()
    return all(not str(value).strip() for value in raw)


def _single(raw: RawValue) -> str:
    if isinstance(raw, str):
        return unicodedata.normalize("NFKC", raw).strip()
    values = [value for value in raw or () if str(value).strip()]
    if len(values) > 1:
        raise InvalidAnswer("answer.single_value_expected")
    return unicodedata.normalize("NFKC", str(values[0])).strip()


def _number(text: str) -> Decimal:
    # NFKC turns full-width digits (１２) into ASCII ones, as typed on Chinese keyboards.
    if len(text) > _MAX_NUMBER_LENGTH or not _NUMBER.match(text):
        raise InvalidAnswer("answer.not_a_number")
    return Decimal(text)


def _point(text: str, low: int, high: int) -> int:
    try:
        value = _number(text)
    except InvalidAnswer:
        raise InvalidAnswer("answer.out_of_range", min=low, max=high) from None
    if value != value.to_integral_value() or not low <= value <= high:
        raise InvalidAnswer("answer.out_of_range", min=low, max=high)
    return int(value)


def _scale_answer(scale: LikertScale, raw: RawValue) -> int | str:
    text = _single(raw)
    if text.lower() == NOT_APPLICABLE:
        if scale.not_applicable is None:
            raise InvalidAnswer("answer.not_applicable_not_allowed")
        return NOT_APPLICABLE
    return _point(text, 1, scale.points)


def _numeric_answer(item: NumericItem, raw: RawValue) -> int | float:
    value = _number(_single(raw))
    if item.integer and value != value.to_integral_value():
        raise InvalidAnswer("answer.not_an_integer")
    if item.min is not None and value < Decimal(str(item.min)):
        raise InvalidAnswer("answer.below_min", min=item.min)
    if item.max is not None and value > Decimal(str(item.max)):
        raise InvalidAnswer("answer.above_max", max=item.max)
    return int(value) if item.integer else float(value)


def _choices_answer(item: MultipleChoiceItem, raw: RawValue) -> list[str]:
    values = [raw] if isinstance(raw, str) else list(raw or ())
    chosen = {unicodedata.normalize("NFKC", str(v)).strip() for v in values if str(v).strip()}
    allowed = [option.value for option in item.options]
    unknown = sorted(chosen - set(allowed))
    if unknown:
        raise InvalidAnswer("answer.not_an_option", value=unknown[0])
    if item.min_selections is not None and len(chosen) < item.min_selections:
        raise InvalidAnswer("answer.too_few_selections", min=item.min_selections)
    if item.max_selections is not None and len(chosen) > item.max_selections:
        raise InvalidAnswer("answer.too_many_selections", max=item.max_selections)
    return [value for value in allowed if value in chosen]


def _text_answer(item: ShortTextItem | LongTextItem, raw: RawValue) -> str:
    text = raw if isinstance(raw, str) else _single(raw)
    # PostgreSQL refuses NUL characters; nobody types them on purpose.
    text = text.replace("\x00", "").replace("\r\n", "\n").strip()
    if len(text) > item.max_length:
        raise InvalidAnswer("answer.too_long", max_length=item.max_length)
    return text


def parse_answer(item: Item, raw: RawValue) -> Any:
    """The typed answer to ``item`` (or to a row of matrix ``item``) for a non-blank ``raw``.

    Raises
    ------
    InvalidAnswer
        With the :class:`~surveys.problems.Problem` as ``problem``.
    """
    if isinstance(item, (LikertItem, MatrixItem)):
        return _scale_answer(item.scale, raw)
    if isinstance(item, NpsItem):
        return _point(_single(raw), NPS_MIN, NPS_MAX)
    if isinstance(item, MultipleChoiceItem):
        return _choices_answer(item, raw)
    if isinstance(item, CHOICE_TYPES):
        value = _single(raw)
        if value not in {option.value for option in item.options}:
            raise InvalidAnswer("answer.not_an_option", value=value)
        return value
    if isinstance(item, NumericItem):
        return _numeric_answer(item, raw)
    if isinstance(item, (ShortTextItem, LongTextItem)):
        return _text_answer(item, raw)
    raise InvalidAnswer("answer.hidden")  # an instruction has nothing to answer


def validate_answers(
    definition: QuestionnaireDefinition,
    raw: Mapping[str, RawValue],
    *,
    sections: Iterable[int] | None = None,
    known: Mapping[str, Any] | None = None,
) -> AnswerCheck:
    """Check raw form values against the questionnaire.

    Parameters
    ----------
    definition
        The questionnaire version being answered.
    raw
        Form field name (variable code) -> posted value(s); other fields are ignored.
    sections
        Indexes of the sections (pages) being submitted; all when None.
    known
        Typed answers already stored for the other sections (used by display conditions).
    """
    result = AnswerCheck()
    context: dict[str, Any] = dict(known or {})
    checked = None if sections is None else set(sections)
    for section_index, section in enumerate(definition.sections):
        in_scope = checked is None or section_index in checked
        section_shown = evaluate(section.condition, context)
        for item in section.items:
            if isinstance(item, InstructionItem):
                continue
            shown = section_shown and evaluate(item.condition, context)
            rows = item.rows if isinstance(item, MatrixItem) else [None]
            for row in rows:
                code = row.code if row is not None else item.code
                if not in_scope:
                    continue
                context.pop(code, None)
                value = raw.get(code)
                if not (shown and (row is None or evaluate(row.condition, context))):
                    result.hidden.add(code)
                    if not _is_blank(value):
                        result.errors[code] = Problem("answer.hidden")
                    continue
                if _is_blank(value):
                    if item.required:
                        result.errors[code] = Problem("answer.required")
                    continue
                try:
                    typed = parse_answer(item, value)
                except InvalidAnswer as error:
                    result.errors[code] = error.problem
                    continue
                if typed == [] and item.required:
                    result.errors[code] = Problem("answer.required")
                    continue
                result.answers[code] = typed
                context[code] = typed
    return result
