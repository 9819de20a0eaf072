"""Designer forms: read submitted fields into questionnaire objects, and back for editing.

Texts come in one field per questionnaire language (``label-en``, ``label-zh-CN``); lists
(options, matrix rows, constructs) come as repeated fields read by position. Parsing never
raises: what cannot be read becomes a message keyed by the field, in the reader's language,
and the domain validation in :mod:`surveys.validation` checks the rest.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import TypeAdapter, ValidationError
from starlette.datastructures import FormData

from loyaltylab import i18n
from surveys import library
from surveys.conditions import Condition
from surveys.definition import (
    CONTACT_PERMISSION,
    Construct,
    Item,
    QuestionnaireDefinition,
    Texts,
    Variable,
)
from surveys.validation import LIKERT_MAX_POINTS, LIKERT_MIN_POINTS

ITEM_ADAPTER: TypeAdapter[Item] = TypeAdapter(Item)
SCALE_TYPES = ("likert", "matrix")
OPTION_TYPES = ("single_choice", "multiple_choice", "dropdown", "attention_check")
BLANK_ROWS = 3
"""Empty option / row / construct lines offered for adding more without JavaScript."""


@dataclass
class Parsed:
    """What a form yielded: the value (None when unusable) and messages by field name."""

    value: Any = None
    errors: dict[str, str] = field(default_factory=dict)


def field_text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def field_texts(form: FormData, prefix: str, languages: list[str]) -> Texts:
    texts = {language: field_text(form, f"{prefix}-{language}") for language in languages}
    return {language: text for language, text in texts.items() if text}


def _list(form: FormData, name: str) -> list[str]:
    return [value.strip() if isinstance(value, str) else "" for value in form.getlist(name)]


def _column(form: FormData, name: str, length: int) -> list[str]:
    values = _list(form, name)
    return values + [""] * (length - len(values))


def _checked(form: FormData, name: str) -> bool:
    return form.get(name) is not None


def _number(
    form: FormData, name: str, errors: dict[str, str], *, integer: bool
) -> int | float | None:
    raw = field_text(form, name)
    if not raw:
        return None
    try:
        return int(raw) if integer else _plain_number(float(raw))
    except ValueError:
        errors[name] = (
            i18n.gettext("Enter a whole number.") if integer else i18n.gettext("Enter a number.")
        )
        return None


def _plain_number(value: float) -> int | float:
    return int(value) if value.is_integer() else value


def _lines(texts: Texts) -> dict[str, list[str]]:
    return {
        language: [line for line in text.splitlines() if line.strip()]
        for language, text in texts.items()
    }


def _options(form: FormData, languages: list[str]) -> list[dict[str, Any]]:
    values = _list(form, "option_value")
    labels = {
        language: _column(form, f"option_label-{language}", len(values)) for language in languages
    }
    options = []
    for index, value in enumerate(values):
        label = {
            language: labels[language][index] for language in languages if labels[language][index]
        }
        if value or label:
            options.append({"value": value or str(len(options) + 1), "label": label})
    return options


def _rows(form: FormData, languages: list[str]) -> list[dict[str, Any]]:
    codes = _list(form, "row_code")
    labels = {
        language: _column(form, f"row_label-{language}", len(codes)) for language in languages
    }
    constructs = _column(form, "row_construct", len(codes))
    # The code a row had when the form was shown: its display condition stays with it.
    originals = _column(form, "row_original", len(codes))
    reverse = set(_list(form, "row_reverse"))
    rows = []
    for index, code in enumerate(codes):
        label = {
            language: labels[language][index] for language in languages if labels[language][index]
        }
        if code or label:
            rows.append(
                {
                    "code": code,
                    "label": label,
                    "construct": constructs[index] or None,
                    "reverse": str(index) in reverse,
                    "original": originals[index],
                }
            )
    return rows


def _scale(form: FormData, languages: list[str], errors: dict[str, str]) -> dict[str, Any]:
    anchors_by_language = _lines(field_texts(form, "anchors", languages))
    count = max((len(lines) for lines in anchors_by_language.values()), default=0)
    anchors = [
        {
            language: lines[index]
            for language, lines in anchors_by_language.items()
            if index < len(lines)
        }
        for index in range(count)
    ]
    not_applicable = field_texts(form, "not_applicable", languages)
    return {
        "points": _number(form, "points", errors, integer=True) or 0,
        "anchors": anchors,
        "not_applicable": not_applicable or None,
    }


def item_data(form: FormData, item_type: str, languages: list[str]) -> Parsed:
    """The item form as item data (not yet validated), with messages for unreadable numbers."""
    errors: dict[str, str] = {}
    data: dict[str, Any] = {
        "type": item_type,
        "code": field_text(form, "code"),
        "label": field_texts(form, "label", languages),
        "help": field_texts(form, "help", languages),
        "required": _checked(form, "required"),
    }
    if item_type in ("likert", "nps"):
        data["construct"] = field_text(form, "construct") or None
        data["reverse"] = _checked(form, "reverse")
    if item_type in SCALE_TYPES:
        data["scale"] = _scale(form, languages, errors)
    if item_type == "matrix":
        data["rows"] = _rows(form, languages)
        data["randomize"] = _checked(form, "randomize")
    if item_type == "nps":
        data["low_label"] = field_texts(form, "low_label", languages)
        data["high_label"] = field_texts(form, "high_label", languages)
    if item_type in OPTION_TYPES:
        data["options"] = _options(form, languages)
    if item_type == "single_choice":
        data["role"] = CONTACT_PERMISSION if _checked(form, "contact_permission") else None
    if item_type == "multiple_choice":
        data["min_selections"] = _number(form, "min_selections", errors, integer=True)
        data["max_selections"] = _number(form, "max_selections", errors, integer=True)
    if item_type == "attention_check":
        data["expected"] = field_text(form, "expected")
    if item_type == "numeric":
        data["integer"] = _checked(form, "integer")
        data["min"] = _number(form, "min", errors, integer=False)
        data["max"] = _number(form, "max", errors, integer=False)
    if item_type in ("short_text", "long_text"):
        length = _number(form, "max_length", errors, integer=True)
        if length is not None:
            data["max_length"] = length
    return Parsed(data, errors)


def _dumped(condition: Condition | None) -> dict[str, Any] | None:
    return condition.model_dump(by_alias=True) if condition else None


def parse_item(
    form: FormData, item_type: str, languages: list[str], *, edited: Item | None = None
) -> Parsed:
    """An item of ``item_type`` from the item form. The ``edited`` item's display conditions
    (set on their own page) are kept: its own, and each matrix row's."""
    data = item_data(form, item_type, languages)
    if data.errors:
        return Parsed(None, data.errors)
    item = {**data.value, "condition": _dumped(edited.condition if edited else None)}
    if "rows" in item:
        kept = {row.code: row.condition for row in getattr(edited, "rows", ())}
        for row in item["rows"]:
            row["condition"] = _dumped(kept.get(row.pop("original")))
    try:
        return Parsed(ITEM_ADAPTER.validate_python(item))
    except ValidationError:
        return Parsed(None, {"form": i18n.gettext("Some fields could not be read; check them.")})


def new_item_values(item_type: str, languages: list[str]) -> dict[str, Any]:
    """The form of a new item: required, and in every language the library has, a rating
    item or matrix on the agree scale, an NPS item with its end labels."""
    starter = library.starter_fields(item_type, languages=languages)
    return item_values({"type": item_type, "integer": True, "required": True, **starter})


def item_values(data: dict[str, Any]) -> dict[str, Any]:
    """The item form's values from item data."""
    values = dict(data)
    scale = data.get("scale")
    if scale:
        values["points"] = scale.get("points")
        values["anchors"] = _anchor_lines(scale.get("anchors") or [])
        values["not_applicable"] = scale.get("not_applicable") or {}
    return values


def _anchor_lines(anchors: list[Texts]) -> dict[str, str]:
    """Scale labels as the form's textareas show them: one line per label, by language."""
    languages = {language for anchor in anchors for language in anchor}
    return {
        language: "\n".join(anchor.get(language, "") for anchor in anchors)
        for language in languages
    }


def agree_anchor_lines(languages: list[str]) -> dict[int, dict[str, str]]:
    """The agree scale's labels for every number of points, for designer.js to swap in when
    the number of points changes and the labels are still the library's."""
    return {
        points: _anchor_lines(library.agree_scale(languages=languages, points=points).anchors)
        for points in range(LIKERT_MIN_POINTS, LIKERT_MAX_POINTS + 1)
    }


@dataclass
class Details:
    """The questionnaire's title, introduction and languages as submitted."""

    title: Texts
    introduction: Texts
    languages: list[str]
    """The languages offered, the default first."""
    confirmed_removal: bool


def parse_details(
    form: FormData, definition: QuestionnaireDefinition
) -> tuple[Details, dict[str, str]]:
    """The details form (texts in the current languages, the languages ticked and the default)
    and messages by field; the details come back either way, to show the form again."""
    ticked = _list(form, "languages")
    default = field_text(form, "default_language")
    errors: dict[str, str] = {}
    if not ticked:
        errors["languages"] = i18n.gettext("Keep at least one language.")
    elif default not in ticked:
        errors["default_language"] = i18n.gettext("Choose one of the ticked languages.")
    details = Details(
        title=field_texts(form, "title", definition.languages),
        introduction=field_texts(form, "introduction", definition.languages),
        languages=[default, *(tag for tag in dict.fromkeys(ticked) if tag != default)],
        confirmed_removal=_checked(form, "remove_texts"),
    )
    return details, errors


def construct_rows(constructs: list[Construct]) -> list[dict[str, Any]]:
    """Rows of the constructs form: the existing constructs and an empty one to add another."""
    rows = [construct.model_dump() for construct in constructs]
    return [*rows, {"code": "", "name": {}, "definition": {}}]


def parse_constructs(form: FormData, languages: list[str]) -> list[Construct]:
    """The constructs submitted (empty rows and rows marked for removal dropped)."""
    codes = _list(form, "construct_code")
    removed = set(_list(form, "construct_remove"))
    columns = {
        (part, language): _column(form, f"construct_{part}-{language}", len(codes))
        for part in ("name", "definition")
        for language in languages
    }
    constructs = []
    for index, code in enumerate(codes):
        texts = {
            part: {
                language: columns[part, language][index]
                for language in languages
                if columns[part, language][index]
            }
            for part in ("name", "definition")
        }
        if str(index) in removed or not (code or texts["name"] or texts["definition"]):
            continue
        constructs.append(Construct(code=code, name=texts["name"], definition=texts["definition"]))
    return constructs


def with_constructs(
    definition: QuestionnaireDefinition, constructs: list[Construct], model: str
) -> QuestionnaireDefinition:
    return definition.model_copy(update={"constructs": constructs, "model": model.strip()})


def with_section_texts(
    definition: QuestionnaireDefinition, code: str, title: Texts, description: Texts
) -> QuestionnaireDefinition:
    """The definition with section ``code``'s title and description replaced."""
    data = definition.model_dump(by_alias=True)
    for section in data["sections"]:
        if section["code"] == code:
            section["title"], section["description"] = title, description
    return QuestionnaireDefinition.model_validate(data)


def with_condition(
    definition: QuestionnaireDefinition, code: str, condition: Condition | None
) -> QuestionnaireDefinition:
    """The definition with the display condition of section, item or matrix row ``code``
    replaced."""
    data = definition.model_dump(by_alias=True)
    stored = condition.model_dump(by_alias=True) if condition else None
    for section in data["sections"]:
        parts = [section, *section["items"]]
        parts += [row for item in section["items"] for row in item.get("rows", [])]
        for part in parts:
            if part["code"] == code:
                part["condition"] = stored
    return QuestionnaireDefinition.model_validate(data)


def earlier_variables(definition: QuestionnaireDefinition, code: str) -> list[Variable]:
    """The answers a condition on section, item or matrix row ``code`` may use: those asked
    before it (for a row, before its matrix)."""
    for section_index, section in enumerate(definition.sections):
        if section.code == code:
            limit = (section_index, -1)
            break
        position = next(
            (
                index
                for index, item in enumerate(section.items)
                if code in (item.code, *(row.code for row in getattr(item, "rows", ())))
            ),
            None,
        )
        if position is not None:
            limit = (section_index, position)
            break
    else:
        return []
    return [v for v in definition.variables() if (v.section_index, v.item_index) < limit]
