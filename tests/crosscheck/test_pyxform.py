"""Our XLSForm files against pyxform, the reference XLSForm implementation (ODK/KoboToolbox).

Both directions: pyxform reads our exports as the questionnaires they are (every question,
type, label and hint in both languages, choice list, required flag and display condition) and
converts them to XForms that ODK Validate (JavaRosa, shipped with pyxform) accepts; and a form
written by hand as in KoboToolbox is read by us as pyxform reads it.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from typing import Any

import pytest

from surveys.definition import (
    AttentionCheckItem,
    DropdownItem,
    InstructionItem,
    LikertItem,
    LikertScale,
    LongTextItem,
    MatrixItem,
    MultipleChoiceItem,
    NpsItem,
    NumericItem,
    QuestionnaireDefinition,
    ShortTextItem,
    SingleChoiceItem,
    Texts,
)
from surveys.library import create_from_template
from surveys.relevant import to_relevant
from surveys.xlsform import export_xlsform, import_xlsform, language_column
from tests.crosscheck.support import reference_library
from tests.surveys.questionnaire_support import small_questionnaire, workbook_bytes

reference_library("pyxform")
from pyxform.xls2xform import convert  # noqa: E402

XLSFORM_TYPES = {
    LikertItem: "select one",
    NpsItem: "select one",
    SingleChoiceItem: "select one",
    DropdownItem: "select one",
    AttentionCheckItem: "select one",
    MultipleChoiceItem: "select all that apply",
    ShortTextItem: "text",
    LongTextItem: "text",
    InstructionItem: "note",
}
TRUE = {"yes", "true", "true()"}
METADATA = {"start", "end", "today", "deviceid"}
# pyxform turns a table-list group into a field-list with a generated label note and header row.
GENERATED = ("generated_table_list_label_", "reserved_name_for_field_list_labels_")
TEMPLATES = ["svl", "acsi", "dual_drive", "complaint_handling"]
Question = dict[str, Any]


def pyxform_questions(survey: dict[str, Any], path: tuple[str, ...] = ()) -> Iterator[Question]:
    """The groups and questions of pyxform's reading of a workbook, in order."""
    for node in survey.get("children", []):
        kind, name = node["type"], node["name"]
        if kind in METADATA or node.get("control", {}).get("bodyless"):
            continue
        if name.startswith(GENERATED):
            continue
        bind = node.get("bind", {})
        question = {
            "path": path,
            "name": name,
            "type": kind,
            "label": node.get("label", {}),
            "hint": node.get("hint", {}),
            "required": bind.get("required", "no") in TRUE,
            "relevant": " ".join(bind.get("relevant", "").split()),
            "choices": [(c["name"], c["label"]) for c in node.get("choices", [])],
        }
        if kind == "group":
            generated = [c for c in node["children"] if c["name"].startswith(GENERATED[0])]
            if generated:  # a matrix: its label is on the generated note
                question["label"] = generated[0]["label"]
            question["required"] = False  # a group cannot be required in ODK: rows carry it
        yield question
        yield from pyxform_questions(node, (*path, name))


def our_questions(definition: QuestionnaireDefinition) -> Iterator[Question]:
    """The same view of a questionnaire, from our definition and the mapping in surveys.xlsform."""
    multiple = {
        item.code for _s, _i, item in definition.items() if isinstance(item, MultipleChoiceItem)
    }

    def texts(values: Texts) -> dict[str, str]:
        return {language_column(tag): text for tag, text in values.items() if text}

    def numbered(point: int) -> dict[str, str]:  # an unlabelled scale point shows its number
        return texts(dict.fromkeys(definition.languages, str(point)))

    def relevant(condition: Any) -> str:
        return to_relevant(condition, multiple.__contains__) if condition else ""

    def scale_choices(scale: LikertScale) -> list:
        points = [
            (str(p), texts(scale.anchor_for(p) or {}) or numbered(p))
            for p in range(1, scale.points + 1)
        ]
        if scale.not_applicable is not None:
            points.append(("na", texts(scale.not_applicable)))
        return points

    def question(
        path: tuple[str, ...], code: str, kind: str, label: Texts, **rest: Any
    ) -> Question:
        return {
            "path": path,
            "name": code,
            "type": kind,
            "label": texts(label),
            "hint": texts(rest.get("hint", {})),
            "required": rest.get("required", False),
            "relevant": relevant(rest.get("condition")),
            "choices": rest.get("choices", []),
        }

    for section in definition.sections:
        yield question(
            (), section.code, "group", section.title, hint=section.description,
            condition=section.condition,
        )  # fmt: skip
        path = (section.code,)
        for item in section.items:
            common = {"hint": item.help, "required": item.required, "condition": item.condition}
            if isinstance(item, MatrixItem):
                yield question(path, item.code, "group", item.label, **common | {"required": False})
                choices = scale_choices(item.scale)
                for row in item.rows:  # each row repeats the matrix's required flag
                    yield question(
                        (*path, item.code), row.code, "select one", row.label,
                        required=item.required, condition=row.condition, choices=choices,
                    )  # fmt: skip
                continue
            if isinstance(item, NumericItem):
                kind, choices = ("integer" if item.integer else "decimal"), []
            elif isinstance(item, NpsItem):
                choices = [(str(p), numbered(p)) for p in range(11)]
                choices[0], choices[-1] = (
                    ("0", texts(item.low_label)),
                    ("10", texts(item.high_label)),
                )
                kind = "select one"
            elif isinstance(item, LikertItem):
                kind, choices = "select one", scale_choices(item.scale)
            else:
                kind = XLSFORM_TYPES[type(item)]
                choices = [(o.value, texts(o.label)) for o in getattr(item, "options", [])]
            yield question(path, item.code, kind, item.label, **common, choices=choices)


def read_by_pyxform(workbook: bytes, *, validate: bool) -> Any:
    warnings: list[str] = []
    result = convert(workbook, warnings=warnings, validate=validate, file_type=".xlsx")
    assert warnings == []
    return result


def assert_same_questions(definition: QuestionnaireDefinition, pyxform_survey: dict) -> None:
    theirs, ours = list(pyxform_questions(pyxform_survey)), list(our_questions(definition))
    assert [(q["path"], q["name"]) for q in theirs] == [(q["path"], q["name"]) for q in ours]
    for their_question, our_question in zip(theirs, ours, strict=True):
        assert their_question == our_question, their_question["name"]


def definitions() -> dict[str, QuestionnaireDefinition]:
    every_item_type = QuestionnaireDefinition.model_validate(small_questionnaire())
    return {"every_item_type": every_item_type} | {
        name: create_from_template(name, company_name="Contoso") for name in TEMPLATES
    }


@pytest.mark.parametrize("name", ["every_item_type", *TEMPLATES])
def test_pyxform_reads_our_export_as_the_questionnaire_it_is(name):
    definition = definitions()[name]
    result = read_by_pyxform(export_xlsform(definition), validate=False)
    survey = result._pyxform
    assert survey["title"] == definition.title[definition.languages[0]]
    assert survey["default_language"] == language_column(definition.languages[0])
    assert_same_questions(definition, survey)
    translations = set(
        re.findall(r'<translation (?:default="true\(\)" )?lang="([^"]+)"', result.xform)
    )
    assert translations == {language_column(tag) for tag in definition.languages}


@pytest.mark.skipif(shutil.which("java") is None, reason="ODK Validate needs a Java runtime")
@pytest.mark.parametrize("name", ["every_item_type", "acsi"])
def test_odk_validate_accepts_the_xform_of_our_export(name):
    read_by_pyxform(export_xlsform(definitions()[name]), validate=True)


def test_we_read_a_kobotoolbox_style_form_as_pyxform_does():
    workbook = workbook_bytes()
    imported = import_xlsform(workbook)
    assert imported.problems == []
    assert imported.definition is not None
    assert_same_questions(imported.definition, read_by_pyxform(workbook, validate=False)._pyxform)
