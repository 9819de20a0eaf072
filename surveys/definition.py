"""The questionnaire definition: what a questionnaire version stores (as JSON).

Texts a respondent sees are ``dict[str, str]`` keyed by BCP-47 language tag (``"en"``,
``"zh-CN"``). Items form a discriminated union on ``type``. The models check shape only; the
rules (valid unique codes, non-empty labels, logic, model) live in :mod:`surveys.validation` so
that every problem is reported with its location rather than the first one raised.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Final, Literal, TypeVar

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    model_serializer,
)

from surveys.conditions import Condition, evaluate

Texts = dict[str, str]
NOT_APPLICABLE = "na"
"""The stored answer (and option value) of a rating scale's "not applicable" choice."""
NPS_MIN, NPS_MAX = 0, 10
CONTACT_PERMISSION = "contact_permission"
"""The role of the question asking whether the respondent may be contacted about the answers."""
CONTACT_ALLOWED = "yes"
"""The option value of that question that gives the permission."""
SCHEMA_VERSION: Final = 1
T = TypeVar("T")


class _Model(BaseModel):
    model_config = ConfigDict(
        extra="forbid", validate_by_name=True, validate_by_alias=True, serialize_by_alias=True
    )


class Option(_Model):
    """One answer option: a stable value (what is stored) and its label."""

    value: str
    label: Texts


class LikertScale(_Model):
    """A rating scale with ``points`` points scored 1..points."""

    points: int = 7
    anchors: list[Texts] = Field(
        description="Labels of the end points (2) or of every point (`points`)."
    )
    not_applicable: Texts | None = Field(
        default=None, description='Label of a "not applicable" choice; null when not offered.'
    )

    def anchor_for(self, point: int) -> Texts | None:
        """The label of scale point ``point`` (1-based), or None for an unlabelled middle."""
        if len(self.anchors) == self.points:
            return self.anchors[point - 1]
        if point == 1:
            return self.anchors[0]
        if point == self.points:
            return self.anchors[-1]
        return None


class _ItemBase(_Model):
    code: str
    label: Texts
    help: Texts = Field(default_factory=dict)
    required: bool = False
    condition: Condition | None = None

    @model_serializer(mode="wrap")
    def _type_first(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        # Readable JSON: {"type": ..., "code": ..., ...} whatever the class hierarchy.
        data = handler(self)
        if "role" in data and data["role"] is None:
            # Only the items that have a role say so: stored definitions stay as they were.
            del data["role"]
        return {"type": data.pop("type"), **data}


class _ScaleFields(_Model):
    # ``construct`` is a (deprecated) BaseModel method, hence the alias.
    construct_code: str | None = Field(default=None, alias="construct")
    reverse: bool = False


class LikertItem(_ScaleFields, _ItemBase):
    type: Literal["likert"] = "likert"
    scale: LikertScale


class MatrixRow(_ScaleFields):
    """One statement of a matrix; its code is the variable that stores the answer.

    A row with a ``condition`` is asked only when the condition holds (and its matrix is shown).
    """

    code: str
    label: Texts
    condition: Condition | None = None


class MatrixItem(_ItemBase):
    """Several rating items sharing one scale (a table on wide screens, stacked on phones)."""

    type: Literal["matrix"] = "matrix"
    scale: LikertScale
    rows: list[MatrixRow]
    randomize: bool = False


class NpsItem(_ScaleFields, _ItemBase):
    """Likelihood to recommend, 0-10."""

    type: Literal["nps"] = "nps"
    low_label: Texts
    high_label: Texts


class SingleChoiceItem(_ItemBase):
    type: Literal["single_choice"] = "single_choice"
    options: list[Option]
    role: Literal["contact_permission"] | None = None
    """``contact_permission``: the respondent's answer (``yes``) allows a follow-up contact."""


class DropdownItem(_ItemBase):
    type: Literal["dropdown"] = "dropdown"
    options: list[Option]


class MultipleChoiceItem(_ItemBase):
    type: Literal["multiple_choice"] = "multiple_choice"
    options: list[Option]
    min_selections: int | None = None
    max_selections: int | None = None


class NumericItem(_ItemBase):
    type: Literal["numeric"] = "numeric"
    integer: bool = True
    min: float | int | None = None
    max: float | int | None = None


class ShortTextItem(_ItemBase):
    type: Literal["short_text"] = "short_text"
    max_length: int = 200


class LongTextItem(_ItemBase):
    type: Literal["long_text"] = "long_text"
    max_length: int = 5000


class InstructionItem(_ItemBase):
    """Text shown to the respondent; nothing to answer."""

    type: Literal["instruction"] = "instruction"


class AttentionCheckItem(_ItemBase):
    """An instructed-response item, e.g. "please choose 'agree' here"."""

    type: Literal["attention_check"] = "attention_check"
    options: list[Option]
    expected: str


Item = Annotated[
    LikertItem
    | MatrixItem
    | NpsItem
    | SingleChoiceItem
    | MultipleChoiceItem
    | DropdownItem
    | NumericItem
    | ShortTextItem
    | LongTextItem
    | InstructionItem
    | AttentionCheckItem,
    Field(discriminator="type"),
]
CHOICE_TYPES = (SingleChoiceItem, MultipleChoiceItem, DropdownItem, AttentionCheckItem)
ITEM_TYPES: tuple[str, ...] = (
    "likert",
    "matrix",
    "nps",
    "single_choice",
    "multiple_choice",
    "dropdown",
    "numeric",
    "short_text",
    "long_text",
    "instruction",
    "attention_check",
)


class Section(_Model):
    """A page of items, optionally shown only when ``condition`` holds."""

    code: str
    title: Texts
    description: Texts = Field(default_factory=dict)
    items: list[Item] = Field(default_factory=list)
    condition: Condition | None = None
    randomize: bool = False


class Construct(_Model):
    """A latent variable measured by the scale items that name it."""

    code: str
    name: Texts
    definition: Texts = Field(default_factory=dict)


class Settings(_Model):
    show_progress: bool = True


@dataclass(frozen=True)
class Variable:
    """One stored answer: an item, or a row of a matrix."""

    code: str
    item: Item
    row: MatrixRow | None
    section_index: int
    item_index: int

    @property
    def construct(self) -> str | None:
        owner = self.row if self.row is not None else self.item
        return getattr(owner, "construct_code", None)

    @property
    def reverse(self) -> bool:
        owner = self.row if self.row is not None else self.item
        return bool(getattr(owner, "reverse", False))

    @property
    def label(self) -> Texts:
        return self.row.label if self.row is not None else self.item.label


class QuestionnaireDefinition(_Model):
    """A complete questionnaire: texts, items, constructs and structural model."""

    schema_version: Literal[1] = SCHEMA_VERSION
    title: Texts
    introduction: Texts = Field(default_factory=dict)
    languages: list[str] = Field(description="BCP-47 tags; the first is the default.")
    constructs: list[Construct] = Field(default_factory=list)
    model: str = Field(
        default="", description="Structural model in lavaan syntax, e.g. 'VAL ~ SAT'."
    )
    sections: list[Section] = Field(default_factory=list)
    settings: Settings = Field(default_factory=Settings)

    def items(self) -> Iterator[tuple[int, int, Item]]:
        """(section index, item index, item) in questionnaire order."""
        for section_index, section in enumerate(self.sections):
            for item_index, item in enumerate(section.items):
                yield section_index, item_index, item

    def texts(self) -> Iterator[Texts]:
        """Every multilingual text of the questionnaire (the dicts themselves, to edit in place)."""
        yield self.title
        yield self.introduction
        for construct in self.constructs:
            yield from (construct.name, construct.definition)
        for section in self.sections:
            yield from (section.title, section.description)
            for item in section.items:
                yield from (item.label, item.help)
                if isinstance(item, (LikertItem, MatrixItem)):
                    yield from item.scale.anchors
                    if item.scale.not_applicable is not None:
                        yield item.scale.not_applicable
                if isinstance(item, MatrixItem):
                    yield from (row.label for row in item.rows)
                if isinstance(item, NpsItem):
                    yield from (item.low_label, item.high_label)
                if isinstance(item, CHOICE_TYPES):
                    yield from (option.label for option in item.options)

    def variables(self) -> list[Variable]:
        """Every answerable variable in order (matrix rows separately, instructions skipped)."""
        result: list[Variable] = []
        for section_index, item_index, item in self.items():
            if isinstance(item, MatrixItem):
                result.extend(
                    Variable(row.code, item, row, section_index, item_index) for row in item.rows
                )
            elif not isinstance(item, InstructionItem):
                result.append(Variable(item.code, item, None, section_index, item_index))
        return result

    def contact_permission_code(self) -> str | None:
        """The code of the question asking for permission to contact the respondent, or None."""
        for _s, _i, item in self.items():
            if isinstance(item, SingleChoiceItem) and item.role == CONTACT_PERMISSION:
                return item.code
        return None

    def find_item(self, code: str) -> tuple[int, int, Item] | None:
        """The item with ``code`` and its position, or None."""
        for position in self.items():
            if position[2].code == code:
                return position
        return None

    def construct_items(self) -> dict[str, list[str]]:
        """Construct code -> codes of its items, for every defined construct, in item order."""
        result: dict[str, list[str]] = {construct.code: [] for construct in self.constructs}
        for variable in self.variables():
            if variable.construct is not None:
                result.setdefault(variable.construct, []).append(variable.code)
        return result

    def reverse_keyed(self) -> list[str]:
        """Codes of the reverse-keyed scale items."""
        return [v.code for v in self.variables() if v.construct is not None and v.reverse]

    def codes(self) -> set[str]:
        """Every code in use (sections, items, matrix rows)."""
        taken = {section.code for section in self.sections}
        for _s, _i, item in self.items():
            taken.add(item.code)
            if isinstance(item, MatrixItem):
                taken.update(row.code for row in item.rows)
        return taken


def shown_rows(item: MatrixItem, answers: Mapping[str, Any]) -> list[MatrixRow]:
    """The rows of a shown matrix that their display conditions keep for typed ``answers``."""
    return [row for row in item.rows if evaluate(row.condition, answers)]


def unique_code(base: str, taken: set[str]) -> str:
    """``base`` if free, else ``base_2``, ``base_3`` ... (codes stay valid identifiers)."""
    if base not in taken:
        return base
    counter = 2
    while f"{base}_{counter}" in taken:
        counter += 1
    return f"{base}_{counter}"


def display_order(entries: list[T], *, randomize: bool, seed: str | int) -> list[T]:
    """Entries in the order a respondent sees them: shuffled reproducibly when ``randomize``.

    ``seed`` is per respondent (e.g. the response id) so a reloaded page keeps its order.
    """
    if not randomize:
        return list(entries)
    shuffled = list(entries)
    random.Random(str(seed)).shuffle(shuffled)
    return shuffled


def text_for(texts: Texts, language: str, fallbacks: list[str] | tuple[str, ...] = ()) -> str:
    """The text in ``language``, else in the first fallback language that has one, else ''."""
    for candidate in (language, *fallbacks):
        value = texts.get(candidate, "")
        if value.strip():
            return value
    return ""
