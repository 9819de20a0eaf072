"""The display condition builder: clauses (question, comparison, answers) joined by AND and OR.

The form has one row per clause: ``clause-N-join`` (``and``/``or``, from the second row on),
``clause-N-item``, ``clause-N-op`` and ``clause-N-value`` (repeated when several answers are
ticked). AND binds before OR, as in Qualtrics: ``a AND b OR c`` means ``(a and b) or c``, so
the builder reads and writes an OR of ANDs of single comparisons. Answers are chosen from the
question's options (a scale's points, a choice's options); numbers and texts are typed.

A condition written elsewhere (an XLSForm import) that has another shape is shown in words and
can be replaced, or edited as JSON.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import TypeAdapter, ValidationError
from starlette.datastructures import FormData

from loyaltylab import i18n
from surveys.conditions import AllOf, AnyOf, Comparison, Condition, Not
from surveys.definition import (
    CHOICE_TYPES,
    NOT_APPLICABLE,
    NPS_MAX,
    NPS_MIN,
    LikertItem,
    MatrixItem,
    NpsItem,
    NumericItem,
    Texts,
    Variable,
)

CONDITION_ADAPTER: TypeAdapter[Condition] = TypeAdapter(Condition)
MAX_CLAUSES = 20
Kind = Literal["choice", "scale", "number", "text"]
ORDERING = ("gt", "ge", "lt", "le")
NO_VALUE = ("answered", "unanswered")
OPERATORS: dict[Kind, tuple[str, ...]] = {
    "choice": ("eq", "ne", *NO_VALUE),
    "scale": ("eq", "ne", *ORDERING, *NO_VALUE),
    "number": ("eq", "ne", *ORDERING, *NO_VALUE),
    "text": (*NO_VALUE, "eq", "ne"),
}
ALL_OPERATORS = OPERATORS["scale"]
_CLAUSE_FIELD = re.compile(r"^clause-(\d+)-item$")


@dataclass
class Clause:
    """One row of the builder, as the form holds it (answers are the form's strings)."""

    item: str = ""
    op: str = "eq"
    values: list[str] = field(default_factory=list)
    join: str = "and"


@dataclass(frozen=True)
class Answer:
    """An answer a clause can compare with: what is stored and what the respondent reads."""

    value: str
    label: Texts | None = None


def kind_of(variable: Variable) -> Kind:
    item = variable.item
    if isinstance(item, CHOICE_TYPES):
        return "choice"
    if isinstance(item, (LikertItem, MatrixItem, NpsItem)):
        return "scale"
    if isinstance(item, NumericItem):
        return "number"
    return "text"


def answers_of(variable: Variable) -> list[Answer]:
    """The answers offered for ``variable``: its options or scale points (empty when typed)."""
    item = variable.item
    if isinstance(item, CHOICE_TYPES):
        return [Answer(option.value, option.label) for option in item.options]
    if isinstance(item, (LikertItem, MatrixItem)):
        points = [Answer(str(p), item.scale.anchor_for(p)) for p in range(1, item.scale.points + 1)]
        if item.scale.not_applicable is not None:
            points.append(Answer(NOT_APPLICABLE, item.scale.not_applicable))
        return points
    if isinstance(item, NpsItem):
        ends = {NPS_MIN: item.low_label, NPS_MAX: item.high_label}
        return [Answer(str(p), ends.get(p)) for p in range(NPS_MIN, NPS_MAX + 1)]
    return []


# Form -> clauses -> condition ------------------------------------------------------------------


def _text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def clauses_from_form(form: FormData) -> list[Clause]:
    """The clauses submitted, in their order (at most :data:`MAX_CLAUSES`)."""
    numbers = sorted(int(match.group(1)) for name in form if (match := _CLAUSE_FIELD.match(name)))
    clauses = []
    for number in numbers[:MAX_CLAUSES]:
        prefix = f"clause-{number}-"
        values = [v.strip() for v in form.getlist(prefix + "value") if isinstance(v, str)]
        clauses.append(
            Clause(
                item=_text(form, prefix + "item"),
                op=_text(form, prefix + "op"),
                values=[value for value in values if value],
                join="or" if _text(form, prefix + "join") == "or" else "and",
            )
        )
    return clauses


def _typed(raw: str, variable: Variable) -> str | int | float:
    """The answer as stored: numbers for scales and numeric questions (a scale's "na" stays)."""
    if kind_of(variable) in ("scale", "number"):
        try:
            number = float(raw)
        except ValueError:
            return raw
        return int(number) if number.is_integer() else number
    return raw


def _comparison(clause: Clause, variable: Variable) -> Condition:
    if clause.op == "answered":
        return Comparison(item=clause.item, op="answered")
    if clause.op == "unanswered":
        return Not(negated=Comparison(item=clause.item, op="answered"))
    values = [_typed(raw, variable) for raw in clause.values]
    if len(values) == 1:
        return Comparison(item=clause.item, op=clause.op, value=values[0])
    # Several ticked answers: "is" any of them, "is not" none of them.
    any_of = Comparison(item=clause.item, op="in", value=values)
    return any_of if clause.op == "eq" else Not(negated=any_of)


def _clause_errors(number: int, clause: Clause, variable: Variable | None) -> dict[str, str]:
    prefix = f"clause-{number}-"
    if variable is None:
        return {prefix + "item": i18n.gettext("Choose an earlier question.")}
    if clause.op not in OPERATORS[kind_of(variable)]:
        return {prefix + "op": i18n.gettext("Choose a comparison.")}
    if clause.op in NO_VALUE:
        return {}
    offered = answers_of(variable)
    if not clause.values:
        message = (
            i18n.gettext("Choose an answer to compare with.")
            if offered
            else i18n.gettext("Enter the answer value to compare with.")
        )
        return {prefix + "value": message}
    if clause.op in ORDERING and len(clause.values) > 1:
        return {prefix + "value": i18n.gettext("Choose one answer to compare with.")}
    numeric = clause.op in ORDERING or kind_of(variable) == "number"
    if numeric and not all(
        isinstance(_typed(raw, variable), (int, float)) for raw in clause.values
    ):
        return {prefix + "value": i18n.gettext("Enter a number.")}
    return {}


@dataclass
class Built:
    """The condition the clauses make (None when there are messages), messages by field."""

    condition: Condition | None
    errors: dict[str, str]


def build(clauses: list[Clause], variables: list[Variable]) -> Built:
    """The condition of ``clauses``: their ANDed runs, ORed together."""
    by_code = {variable.code: variable for variable in variables}
    errors: dict[str, str] = {}
    for number, clause in enumerate(clauses):
        errors.update(_clause_errors(number, clause, by_code.get(clause.item)))
    if not clauses:
        errors["clause-0-item"] = i18n.gettext("Choose an earlier question.")
    if errors:
        return Built(None, errors)
    groups: list[list[Condition]] = []
    for number, clause in enumerate(clauses):
        if number == 0 or clause.join == "or":
            groups.append([])
        groups[-1].append(_comparison(clause, by_code[clause.item]))
    ands = [group[0] if len(group) == 1 else AllOf(all=group) for group in groups]
    return Built(ands[0] if len(ands) == 1 else AnyOf(any=ands), {})


# Condition -> clauses ----------------------------------------------------------------------------


def _clause(part: Condition) -> Clause | None:
    """The builder row of one comparison, or None when it is not one the builder writes."""
    if isinstance(part, Not):
        inner = part.negated
        if not isinstance(inner, Comparison):
            return None
        if inner.op == "answered":
            return Clause(inner.item, "unanswered")
        if inner.op in ("eq", "in"):
            return Clause(inner.item, "ne", _raw_values(inner.value))
        return None
    if not isinstance(part, Comparison):
        return None
    if part.op == "answered":
        return Clause(part.item, "answered")
    if part.op == "in":
        return Clause(part.item, "eq", _raw_values(part.value))
    return Clause(part.item, part.op, _raw_values(part.value))


def _raw_values(value: Any) -> list[str]:
    values = value if isinstance(value, list) else [value]
    return [str(v) for v in values if v is not None]


def clauses_of(condition: Condition | None) -> list[Clause] | None:
    """The builder rows showing ``condition`` (one empty row for none); None when the builder
    cannot show it (another shape than an OR of ANDs of comparisons)."""
    if condition is None:
        return [Clause()]
    clauses: list[Clause] = []
    groups = condition.any if isinstance(condition, AnyOf) else [condition]
    for group in groups:
        parts = group.all if isinstance(group, AllOf) else [group]
        for position, part in enumerate(parts):
            clause = _clause(part)
            if clause is None:
                return None
            clause.join = "or" if position == 0 and clauses else "and"
            clauses.append(clause)
    return clauses


def parse_json(text: str) -> tuple[Condition | None, str]:
    """A condition written as JSON, or None and the message explaining the expected form."""
    try:
        return CONDITION_ADAPTER.validate_python(json.loads(text)), ""
    except (ValueError, ValidationError):
        return None, i18n.gettext(
            'Write the condition as JSON, e.g. {"item": "sat1", "op": "ge", "value": 5}.'
        )


def as_json(condition: Condition) -> str:
    return json.dumps(condition.model_dump(by_alias=True), ensure_ascii=False)
