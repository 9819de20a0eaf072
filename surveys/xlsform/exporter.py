"""XLSForm export: a questionnaire as ``survey``, ``choices``, ``settings`` and
``loyaltylab_constructs`` sheets.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

from openpyxl import Workbook
from openpyxl.worksheet.worksheet import Worksheet

from surveys.conditions import Condition
from surveys.definition import (
    NOT_APPLICABLE,
    AttentionCheckItem,
    DropdownItem,
    InstructionItem,
    Item,
    LikertItem,
    LongTextItem,
    MatrixItem,
    MultipleChoiceItem,
    NpsItem,
    NumericItem,
    QuestionnaireDefinition,
    ShortTextItem,
    SingleChoiceItem,
    Texts,
    unique_code,
)
from surveys.relevant import to_relevant
from surveys.xlsform.common import CONSTRUCTS_SHEET, language_column


def _choice_lists(definition: QuestionnaireDefinition) -> tuple[dict[int, str], list[tuple]]:
    """Choice list name for each list-bearing item (by id) and the choices sheet rows."""
    names: dict[int, str] = {}
    rows: list[tuple[str, str, Texts]] = []
    shared: dict[str, str] = {}

    def add(owner: Any, base: str, choices: list[tuple[str, Texts]], share: bool) -> None:
        key = repr(choices)
        if share and key in shared:
            names[id(owner)] = shared[key]
            return
        name = unique_code(base, set(shared.values()) | set(names.values()))
        names[id(owner)] = name
        if share:
            shared[key] = name
        rows.extend((name, value, label) for value, label in choices)

    for _s, _i, item in definition.items():
        if isinstance(item, (LikertItem, MatrixItem)):
            scale = item.scale
            choices = [
                (str(p), scale.anchor_for(p) or dict.fromkeys(definition.languages, str(p)))
                for p in range(1, scale.points + 1)
            ]
            if scale.not_applicable is not None:
                choices.append((NOT_APPLICABLE, scale.not_applicable))
            add(item, f"scale{scale.points}", choices, share=True)
        elif isinstance(item, NpsItem):
            choices = [(str(p), dict.fromkeys(definition.languages, str(p))) for p in range(11)]
            choices[0], choices[-1] = ("0", item.low_label), ("10", item.high_label)
            add(item, f"{item.code}_scale", choices, share=False)
        elif hasattr(item, "options"):
            add(item, item.code, [(o.value, o.label) for o in item.options], share=False)
    return names, rows


def _constraint(item: Item) -> str:
    pairs: list[tuple[str, Any, Any]] = []
    if isinstance(item, NumericItem):
        pairs = [(".", item.min, item.max)]
    elif isinstance(item, MultipleChoiceItem):
        pairs = [("count-selected(.)", item.min_selections, item.max_selections)]
    elif isinstance(item, (ShortTextItem, LongTextItem)):
        pairs = [("string-length(.)", None, item.max_length)]
    clauses = []
    for subject, low, high in pairs:
        if low is not None:
            clauses.append(f"{subject} >= {low}")
        if high is not None:
            clauses.append(f"{subject} <= {high}")
    return " and ".join(clauses)


class _Writer:
    def __init__(self, definition: QuestionnaireDefinition) -> None:
        self.definition = definition
        self.languages = definition.languages
        self.multiple = {
            item.code for _s, _i, item in definition.items() if isinstance(item, MultipleChoiceItem)
        }
        self.list_names, self.choice_rows = _choice_lists(definition)
        self.rows: list[dict[str, Any]] = []

    def texts(self, prefix: str, texts: Texts) -> dict[str, str]:
        return {
            f"{prefix}::{language_column(lang)}": texts.get(lang, "") for lang in self.languages
        }

    def relevant(self, condition: Condition | None) -> str:
        return to_relevant(condition, self.multiple.__contains__) if condition else ""

    def add(self, **cells: Any) -> None:
        self.rows.append(cells)

    def question(self, item: Item) -> None:
        cells: dict[str, Any] = {
            "name": item.code,
            **self.texts("label", item.label),
            **self.texts("hint", item.help),
            "required": "yes" if item.required else "",
            "relevant": self.relevant(item.condition),
            "constraint": _constraint(item),
        }
        if getattr(item, "construct_code", None):
            cells["loyaltylab_construct"] = item.construct_code  # type: ignore[union-attr]
        if getattr(item, "reverse", False):
            cells["loyaltylab_reverse"] = "yes"
        list_name = self.list_names.get(id(item), "")
        if isinstance(item, MatrixItem):
            self.add(
                type="begin_group",
                appearance="table-list",
                loyaltylab_randomize="yes" if item.randomize else "",
                **cells,
            )
            for row in item.rows:
                self.add(
                    type=f"select_one {list_name}",
                    name=row.code,
                    **self.texts("label", row.label),
                    required=cells["required"],
                    relevant=self.relevant(row.condition),
                    appearance="likert",
                    loyaltylab_construct=row.construct_code or "",
                    loyaltylab_reverse="yes" if row.reverse else "",
                )
            self.add(type="end_group", name=item.code)
            return
        kind = {
            LikertItem: (f"select_one {list_name}", "likert"),
            NpsItem: (f"select_one {list_name}", "likert"),
            SingleChoiceItem: (f"select_one {list_name}", ""),
            DropdownItem: (f"select_one {list_name}", "minimal"),
            AttentionCheckItem: (f"select_one {list_name}", ""),
            MultipleChoiceItem: (f"select_multiple {list_name}", ""),
            ShortTextItem: ("text", ""),
            LongTextItem: ("text", "multiline"),
            InstructionItem: ("note", ""),
        }
        if isinstance(item, NumericItem):
            xls_type, appearance = ("integer" if item.integer else "decimal"), ""
        else:
            xls_type, appearance = kind[type(item)]
        if isinstance(item, NpsItem):
            cells["loyaltylab_type"] = "nps"
        if isinstance(item, AttentionCheckItem):
            cells["loyaltylab_expected"] = item.expected
        if isinstance(item, SingleChoiceItem) and item.role:
            cells["loyaltylab_role"] = item.role
        self.add(type=xls_type, appearance=appearance, **cells)

    def build(self) -> bytes:
        for section in self.definition.sections:
            self.add(
                type="begin_group",
                name=section.code,
                **self.texts("label", section.title),
                **self.texts("hint", section.description),
                relevant=self.relevant(section.condition),
                loyaltylab_randomize="yes" if section.randomize else "",
            )
            for item in section.items:
                self.question(item)
            self.add(type="end_group", name=section.code)
        workbook = Workbook()
        survey = workbook.active
        survey.title = "survey"
        extra = [
            "loyaltylab_construct",
            "loyaltylab_reverse",
            "loyaltylab_randomize",
            "loyaltylab_type",
            "loyaltylab_expected",
            "loyaltylab_role",
        ]
        columns = [
            "type",
            "name",
            *self.texts("label", {}),
            *self.texts("hint", {}),
            "required",
            "relevant",
            "constraint",
            "appearance",
            *extra,
        ]
        _write(survey, columns, self.rows)
        choice_columns = ["list_name", "name", *self.texts("label", {})]
        choice_rows = [
            {"list_name": name, "name": value, **self.texts("label", label)}
            for name, value, label in self.choice_rows
        ]
        _write(workbook.create_sheet("choices"), choice_columns, choice_rows)
        definition = self.definition
        settings = {
            "form_title": definition.title.get(self.languages[0], ""),
            "form_id": "loyaltylab_questionnaire",
            "default_language": language_column(self.languages[0]),
            "loyaltylab_model": definition.model,
            "loyaltylab_show_progress": "yes" if definition.settings.show_progress else "no",
            **self.texts("loyaltylab_title", definition.title),
            **self.texts("loyaltylab_introduction", definition.introduction),
        }
        _write(workbook.create_sheet("settings"), list(settings), [settings])
        construct_rows = [
            {"code": c.code, **self.texts("name", c.name), **self.texts("definition", c.definition)}
            for c in definition.constructs
        ]
        construct_columns = ["code", *self.texts("name", {}), *self.texts("definition", {})]
        _write(workbook.create_sheet(CONSTRUCTS_SHEET), construct_columns, construct_rows)
        buffer = io.BytesIO()
        workbook.save(buffer)
        return buffer.getvalue()


def _write(sheet: Worksheet, columns: Sequence[str], rows: Sequence[dict[str, Any]]) -> None:
    sheet.append(list(columns))
    for number, row in enumerate(rows, start=2):
        for index, column in enumerate(columns, start=1):
            value = row.get(column, "")
            if value == "" or value is None:
                continue
            cell = sheet.cell(row=number, column=index, value=str(value))
            # Text stays text: a label starting with '=' must not become a formula.
            cell.data_type = "s"


def export_xlsform(definition: QuestionnaireDefinition) -> bytes:
    """The questionnaire as an XLSForm workbook (XLSX bytes)."""
    return _Writer(definition).build()
