"""The native JSON format: exact round trip, committed schema, bad files."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from surveys.definition import QuestionnaireDefinition
from surveys.json_format import MAX_UPLOAD_BYTES, export_json, import_json, json_schema_text
from surveys.library import create_from_template

SCHEMA_FILE = Path(__file__).resolve().parents[2] / "docs" / "questionnaire.schema.json"


def test_committed_schema_equals_the_generated_one():
    assert SCHEMA_FILE.read_text(encoding="utf-8") == json_schema_text(), (
        "regenerate: python -m surveys.json_format > docs/questionnaire.schema.json"
    )


@pytest.mark.parametrize("template", ["svl", "complaint_handling"])
def test_exports_validate_against_the_schema(template):
    definition = create_from_template(template, company_name="Contoso")
    jsonschema.validate(json.loads(export_json(definition)), json.loads(SCHEMA_FILE.read_text()))


def test_schema_rejects_an_unknown_item_type(data):
    data["sections"][0]["items"][0]["type"] = "slider"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(data, json.loads(SCHEMA_FILE.read_text()))


def test_round_trip_is_exact(definition):
    text = export_json(definition)
    result = import_json(text.encode("utf-8"))
    assert result.ok, [p.describe() for p in result.problems]
    assert result.definition == definition
    assert export_json(result.definition) == text


def test_round_trip_keeps_user_text_verbatim(build):
    tricky = "<script>alert('x')</script> & \"quotes\" =SUM(A1) 满意\n换行"
    definition = build(lambda d: d["sections"][0]["items"][0]["label"].update(en=tricky))
    result = import_json(export_json(definition).encode())
    assert result.definition is not None
    assert result.definition.sections[0].items[0].label["en"] == tricky


def test_a_utf8_bom_is_accepted(definition):
    assert import_json(b"\xef\xbb\xbf" + export_json(definition).encode()).ok


def problem_codes(data: bytes) -> list[str]:
    result = import_json(data)
    assert result.definition is None
    return [problem.code for problem in result.problems]


def test_not_json():
    result = import_json(b'{"title": {"en": "x"},\n "languages": [}')
    assert [p.code for p in result.problems] == ["import.not_json"]
    assert result.problems[0].where == (("line", 2),)


def test_a_png_is_not_json():
    assert problem_codes(b"\x89PNG\r\n\x1a\n" + bytes(100)) == ["import.not_utf8"]


def test_empty_and_oversized_files():
    assert problem_codes(b"") == ["import.empty"]
    big = b'{"title": {"en": "' + b"x" * MAX_UPLOAD_BYTES + b'"}}'
    assert problem_codes(big) == ["import.too_large"]


def test_wrong_shape_reports_every_path(data):
    data["sections"][0]["items"][1]["min"] = "zero"
    del data["languages"]
    result = import_json(json.dumps(data).encode())
    paths = {dict(p.where)["path"] for p in result.problems}
    assert "languages" in paths
    assert any(path.startswith("sections/0/items/1/numeric/min") for path in paths)


def test_semantic_problems_block_the_import(data):
    data["sections"][0]["items"][1]["code"] = "region"
    data["sections"][0]["items"][0]["condition"] = {"item": "nps", "op": "answered"}
    assert problem_codes(json.dumps(data).encode()) == ["code.duplicate", "logic.forward"]


def test_deeply_nested_json_is_refused_cleanly():
    assert problem_codes(b"[" * 100_000 + b"]" * 100_000) == ["import.too_deep"]
    (problem,) = import_json(b'{"title":\n' + b"[" * 65 + b"]" * 65 + b"}").problems
    assert problem.where == (("line", 2),)
    assert "64" in problem.message("en") and "64 层" in problem.message("zh-CN")


def test_brackets_inside_texts_are_not_nesting(data):
    data["title"]["en"] = "[[[{{{" * 20 + ' \\" ' + "]]]" * 20
    assert import_json(json.dumps(data).encode()).ok


def test_a_5000_digit_number_is_a_clear_problem_not_a_crash(data):
    text = json.dumps(data).replace('"points": 5', '"points": ' + "9" * 5000, 1)
    assert "9" * 5000 in text
    result = import_json(text.encode())
    assert [p.code for p in result.problems] == ["import.number_too_long"]
    assert "digits" in result.problems[0].message("en")
    assert "位数过多" in result.problems[0].message("zh-CN")


def test_a_long_number_inside_a_text_is_only_text(data):
    data["title"]["en"] = "Order " + "1" * 200
    assert import_json(json.dumps(data).encode()).ok


def test_a_huge_string_is_a_clear_problem(data):
    data["title"]["en"] = "x" * 4_000_000
    codes = problem_codes(json.dumps(data).encode())
    assert codes == ["text.too_long"]


def test_schema_version_is_checked(data):
    data["schema_version"] = 2
    assert problem_codes(json.dumps(data).encode()) == ["import.schema"]
    assert QuestionnaireDefinition.model_validate({**data, "schema_version": 1})
