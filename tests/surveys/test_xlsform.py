"""XLSForm import and export: a bilingual form as written in Excel/KoboToolbox, round trips,
and files that are too big, not what they claim or absurdly shaped."""

from __future__ import annotations

import io
import zipfile

import pytest
from openpyxl import Workbook, load_workbook

from surveys.definition import (
    DropdownItem,
    InstructionItem,
    LikertItem,
    LongTextItem,
    MatrixItem,
    MultipleChoiceItem,
    NpsItem,
    NumericItem,
    ShortTextItem,
    SingleChoiceItem,
)
from surveys.json_format import MAX_UPLOAD_BYTES
from surveys.library import create_from_template
from surveys.xlsform import MAX_COLUMNS, MAX_ROWS, export_xlsform, import_xlsform
from tests.surveys.questionnaire_support import (
    EN,
    SURVEY,
    ZH,
    workbook_bytes,
)


@pytest.fixture(scope="module")
def xlsform() -> bytes:
    return workbook_bytes()


def test_bilingual_xlsform_imports_completely(xlsform):
    result = import_xlsform(xlsform)
    assert result.ok, [p.describe() for p in result.problems]
    definition = result.definition
    assert definition.languages == ["en", "zh-CN"]
    assert definition.title == {"en": "Contoso survey", "zh-CN": "Contoso调查"}
    assert [s.code for s in definition.sections] == ["screen", "experience"]
    assert definition.sections[0].title == {"en": "About you", "zh-CN": "关于您"}
    types = {item.code: type(item) for _s, _i, item in definition.items()}
    assert types == {
        "complained": SingleChoiceItem,
        "age": NumericItem,
        "channels": MultipleChoiceItem,
        "region": DropdownItem,
        "intro": InstructionItem,
        "sat1": LikertItem,
        "grid": MatrixItem,
        "nps": NpsItem,
        "spend": NumericItem,
        "what": LongTextItem,
        "email_opt": ShortTextItem,
    }
    items = {item.code: item for _s, _i, item in definition.items()}
    assert items["complained"].required and items["complained"].options[1].label == {
        "en": "No",
        "zh-CN": "否",
    }
    assert (items["age"].integer, items["age"].min, items["age"].max) == (True, 18, 99)
    assert items["age"].help == {"en": "In years", "zh-CN": "周岁"}
    assert items["channels"].max_selections == 2 and items["channels"].min_selections is None
    assert (items["spend"].integer, items["spend"].min, items["spend"].max) == (False, 0, None)
    assert items["email_opt"].max_length == 80
    assert items["sat1"].scale.points == 5 and len(items["sat1"].scale.anchors) == 2
    assert items["sat1"].construct_code == "SAT"
    grid = items["grid"]
    assert [(r.code, r.construct_code, r.reverse) for r in grid.rows] == [
        ("sat2", "SAT", False),
        ("sat3", "SAT", True),
    ]
    assert grid.required and grid.label["zh-CN"] == "您是否同意?"
    assert items["nps"].low_label == {"en": "Not at all likely", "zh-CN": "完全不可能"}
    assert items["what"].condition.model_dump() == {
        "item": "complained",
        "op": "eq",
        "value": "yes",
    }
    assert items["spend"].condition.model_dump() == {"item": "age", "op": "ge", "value": 30}
    assert definition.construct_items() == {"SAT": ["sat1", "sat2", "sat3"]}


def test_imported_form_round_trips_through_export(xlsform):
    first = import_xlsform(xlsform).definition
    exported = export_xlsform(first)
    again = import_xlsform(exported)
    assert again.ok, [p.describe() for p in again.problems]
    assert again.definition == first
    assert export_xlsform(again.definition) != b""  # a second export works too


@pytest.mark.parametrize("template", ["svl", "acsi", "dual_drive", "complaint_handling"])
def test_template_questionnaires_round_trip_exactly(template):
    definition = create_from_template(template, company_name="=Contoso 'Ltd'")
    result = import_xlsform(export_xlsform(definition))
    assert result.ok, [p.describe() for p in result.problems]
    assert result.definition == definition


def test_export_writes_the_xlsform_layout_and_no_formulas():
    definition = create_from_template("complaint_handling", company_name="=HYPERLINK(1)")
    workbook = load_workbook(io.BytesIO(export_xlsform(definition)))
    assert workbook.sheetnames == ["survey", "choices", "settings", "loyaltylab_constructs"]
    header = [cell.value for cell in workbook["survey"][1]]
    assert {"type", "name", EN, ZH, "relevant", "loyaltylab_construct"} <= set(header)
    cells = [cell for row in workbook["survey"].iter_rows() for cell in row if cell.value]
    assert all(cell.data_type == "s" for cell in cells)
    relevant = [row[header.index("relevant")].value for row in workbook["survey"].iter_rows()]
    assert "${complained} = 'yes'" in relevant
    settings = workbook["settings"]
    assert settings["C1"].value == "default_language" and settings["C2"].value == "Chinese (zh)"


def test_export_then_import_keeps_every_item_type(definition):
    result = import_xlsform(export_xlsform(definition))
    assert result.ok, [p.describe() for p in result.problems]
    assert result.definition == definition


def test_a_matrix_rows_display_condition_is_its_relevant(build):
    def change(data):
        grid = next(i for i in data["sections"][1]["items"] if i["code"] == "grid")
        grid["rows"][1]["condition"] = {
            "any": [
                {"item": "complained", "op": "eq", "value": "yes"},
                {"item": "sat1", "op": "le", "value": 2},
            ]
        }

    definition = build(change)
    exported = export_xlsform(definition)
    survey = load_workbook(io.BytesIO(exported))["survey"]
    header = [cell.value for cell in survey[1]]
    row = next(r for r in survey.iter_rows(values_only=True) if r[header.index("name")] == "sat3")
    assert row[header.index("relevant")] == "${complained} = 'yes' or ${sat1} <= 2"
    result = import_xlsform(exported)
    assert result.ok, [p.describe() for p in result.problems]
    assert result.definition == definition


def problems_of(data: bytes) -> list[tuple[str, dict]]:
    result = import_xlsform(data)
    assert result.definition is None
    return [(p.code, dict(p.where)) for p in result.problems]


def test_every_problem_is_reported_with_sheet_and_row():
    survey = [list(row) for row in SURVEY]
    survey[2][1] = "2bad"  # invalid code, row 4
    survey[3][1] = "channels"  # duplicate code, row 5
    survey[4][0] = "select_multiple nolist"  # unknown list, row 6
    survey[9][7] = "${nps} > 5"  # forward reference, row 11
    survey[15][7] = "${age} * 2 > 30"  # not convertible, row 17
    survey.insert(6, ["calculate", "calc"])  # unsupported, row 8
    found = problems_of(workbook_bytes(survey))
    assert ("xlsform.unknown_list", {"sheet": "survey", "line": 6}) in found
    assert ("xlsform.unsupported_type", {"sheet": "survey", "line": 8}) in found
    assert ("xlsform.relevant", {"sheet": "survey", "line": 18}) in found
    # Conversion problems come first; definition rules are then checked on a clean form.
    survey = [list(row) for row in SURVEY]
    survey[2][1] = "2bad"
    survey[3][1] = "channels"
    survey[9][7] = "${nps} > 5"
    found = problems_of(workbook_bytes(survey))
    codes = {(code, where.get("line")) for code, where in found}
    assert ("code.invalid", 4) in codes
    assert ("code.duplicate", 5) in codes
    assert ("logic.forward", 11) in codes
    assert ("logic.unknown_item", 18) in codes  # ${complained} no longer exists
    assert all(where.get("sheet") == "survey" for _code, where in found)


def test_empty_label_is_located():
    survey = [list(row) for row in SURVEY]
    survey[3][2] = survey[3][3] = ""
    found = problems_of(workbook_bytes(survey))
    assert found == [("text.empty", {"sheet": "survey", "line": 5, "section": 1, "item": "age"})]


def test_unbalanced_groups_and_missing_sheets():
    found = problems_of(workbook_bytes(SURVEY[:-3]))
    assert found == [("xlsform.unbalanced_group", {"sheet": "survey", "line": 9})]
    workbook = Workbook()
    workbook.active.title = "choices"
    buffer = io.BytesIO()
    workbook.save(buffer)
    assert problems_of(buffer.getvalue()) == [("xlsform.missing_sheet", {"sheet": "survey"})]


def test_a_png_renamed_xlsx_is_refused():
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(200)
    assert problems_of(png) == [("import.not_xlsx", {})]


def test_a_zip_that_is_not_a_workbook_is_refused():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("readme.txt", "hello")
    assert problems_of(buffer.getvalue()) == [("import.not_xlsx", {})]


def test_a_corrupt_workbook_is_refused(xlsform):
    buffer = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(xlsform)) as source, zipfile.ZipFile(buffer, "w") as target:
        for member in source.infolist():
            content = source.read(member)
            target.writestr(
                member, b"<not xml" if member.filename == "xl/workbook.xml" else content
            )
    assert [code for code, _ in problems_of(buffer.getvalue())] == ["import.not_xlsx"]


def test_files_over_5_mb_are_refused_before_parsing(xlsform):
    padded = xlsform + bytes(MAX_UPLOAD_BYTES)
    assert problems_of(padded) == [("import.too_large", {})]


def test_a_workbook_with_absurd_dimensions_is_refused():
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "survey"
    sheet.append(["type", "name", "label"])
    sheet.cell(row=MAX_ROWS + 50, column=1, value="text")
    wide = workbook.create_sheet("choices")
    wide.cell(row=1, column=MAX_COLUMNS + 5, value="x")
    buffer = io.BytesIO()
    workbook.save(buffer)
    found = problems_of(buffer.getvalue())
    assert ("import.too_many_rows", {"sheet": "survey"}) in found
    assert ("import.too_many_columns", {"sheet": "choices"}) in found


def test_plain_label_columns_use_the_default_language():
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "survey"
    for row in (["type", "name", "label"], ["begin_group", "s", "Part"], ["text", "q", "Name?"],
                ["end_group"]):  # fmt: skip
        sheet.append(row)
    settings = workbook.create_sheet("settings")
    settings.append(["form_title"])
    settings.append(["Plain"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    result = import_xlsform(buffer.getvalue())
    assert result.ok, [p.describe() for p in result.problems]
    assert result.definition.languages == ["en"]
    assert result.definition.sections[0].items[0].label == {"en": "Name?"}


def test_problem_messages_name_sheet_and_row_in_both_languages():
    survey = [list(row) for row in SURVEY]
    survey[4][0] = "select_multiple nolist"
    result = import_xlsform(workbook_bytes(survey))
    problem = result.problems[0]
    assert problem.describe() == (
        "sheet 'survey' / row 6: The choice list 'nolist' is not on the choices sheet."
    )
    assert problem.describe("zh-CN").startswith("工作表“survey” / 第 6 行")
