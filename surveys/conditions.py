"""Display logic: a small, safe condition language over earlier answers.

A condition is JSON, never code::

    {"item": "complained", "op": "eq", "value": "yes"}
    {"all": [cond, ...]}   {"any": [cond, ...]}   {"not": cond}

Operators: ``eq``, ``ne``, ``in`` (value is a list), ``gt``, ``ge``, ``lt``, ``le`` and
``answered`` (no value). On a multiple-choice question ``eq v`` means "v is selected" and
``in [a, b]`` means "a or b is selected". Every operator except ``ne`` is false for an unanswered
question; ``ne`` is exactly ``not eq`` (as ``!=`` in XLSForm). Ordering operators apply only to
numbers (rating scales, NPS, numeric questions); a "not applicable" answer satisfies none.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Operator = Literal["eq", "ne", "in", "gt", "ge", "lt", "le", "answered"]
ORDERING_OPERATORS = frozenset({"gt", "ge", "lt", "le"})
Scalar = str | int | float
MAX_DEPTH = 8


class _ConditionModel(BaseModel):
    model_config = ConfigDict(
        extra="forbid", validate_by_name=True, validate_by_alias=True, serialize_by_alias=True
    )


class Comparison(_ConditionModel):
    """Compare the answer to one earlier question with a value."""

    item: str
    op: Operator
    value: Scalar | list[Scalar] | None = None


class AllOf(_ConditionModel):
    """True when every condition holds."""

    all: list[Condition] = Field(min_length=1)


class AnyOf(_ConditionModel):
    """True when at least one condition holds."""

    any: list[Condition] = Field(min_length=1)


class Not(_ConditionModel):
    """True when the condition does not hold."""

    negated: Condition = Field(alias="not")


Condition = Comparison | AllOf | AnyOf | Not

for _model in (AllOf, AnyOf, Not):
    _model.model_rebuild()


def comparisons(condition: Condition) -> Iterator[Comparison]:
    """Every comparison in ``condition``, depth first."""
    if isinstance(condition, Comparison):
        yield condition
    elif isinstance(condition, AllOf):
        for part in condition.all:
            yield from comparisons(part)
    elif isinstance(condition, AnyOf):
        for part in condition.any:
            yield from comparisons(part)
    else:
        yield from comparisons(condition.negated)


def depth(condition: Condition) -> int:
    """Nesting depth: 1 for a single comparison."""
    if isinstance(condition, Comparison):
        return 1
    if isinstance(condition, Not):
        return 1 + depth(condition.negated)
    parts = condition.all if isinstance(condition, AllOf) else condition.any
    return 1 + max(depth(part) for part in parts)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _equals(answer: Any, value: Any) -> bool:
    if isinstance(answer, list):
        return value in answer
    if _is_number(answer) and _is_number(value):
        return answer == value
    return type(answer) is type(value) and answer == value


def _compare(comparison: Comparison, answer: Any) -> bool:
    op = comparison.op
    if op == "answered":
        return answer is not None and answer != [] and answer != ""
    if op == "ne":
        return not _compare(comparison.model_copy(update={"op": "eq"}), answer)
    if answer is None:
        return False
    if op == "eq":
        return _equals(answer, comparison.value)
    if op == "in":
        values = comparison.value if isinstance(comparison.value, list) else [comparison.value]
        return any(_equals(answer, value) for value in values)
    if not (_is_number(answer) and _is_number(comparison.value)):
        return False
    value = comparison.value
    return {
        "gt": answer > value,
        "ge": answer >= value,
        "lt": answer < value,
        "le": answer <= value,
    }[op]


def evaluate(condition: Condition | None, answers: Mapping[str, Any]) -> bool:
    """Whether ``condition`` holds for typed ``answers`` (absent or ``None`` = unanswered)."""
    if condition is None:
        return True
    if isinstance(condition, Comparison):
        return _compare(condition, answers.get(condition.item))
    if isinstance(condition, AllOf):
        return all(evaluate(part, answers) for part in condition.all)
    if isinstance(condition, AnyOf):
        return any(evaluate(part, answers) for part in condition.any)
    return not evaluate(condition.negated, answers)
