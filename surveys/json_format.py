"""The native JSON format: a questionnaire definition as JSON, described by a JSON Schema.

The schema is generated from the pydantic models and committed as
``docs/questionnaire.schema.json`` (a test keeps the two equal). Export then import gives back
an equal definition, and exporting that again gives the same text.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from analysis.files import FileRejected, decode_text
from surveys.definition import QuestionnaireDefinition
from surveys.problems import Problem
from surveys.validation import validate_definition

MAX_UPLOAD_BYTES = 5 * 1024 * 1024
JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
# A questionnaire nests about ten levels deep (sections, items, options, texts, conditions) and
# needs no number longer than a phone number. Checked before parsing: Python's parser refuses
# integers over 4,300 digits with a bare ValueError and recurses once per level.
MAX_JSON_DEPTH = 64
MAX_NUMBER_DIGITS = 30
_JSON_STRING = re.compile(r'"(?:[^"\\\n]|\\.)*"')
_LONG_NUMBER = re.compile(rf"\d{{{MAX_NUMBER_DIGITS + 1},}}")
_BRACKET = re.compile(r"[\[\]{}]")


@dataclass
class ImportResult:
    """A whole definition, or every problem found (and then no definition)."""

    definition: QuestionnaireDefinition | None = None
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.definition is not None and not self.problems


def size_problem(data: bytes) -> Problem | None:
    """A problem when an upload is empty or larger than the 5 MB limit."""
    if not data:
        return Problem("import.empty")
    if len(data) > MAX_UPLOAD_BYTES:
        return Problem("import.too_large", (), {"size": len(data), "limit": MAX_UPLOAD_BYTES})
    return None


def export_json(definition: QuestionnaireDefinition) -> str:
    """The definition as indented UTF-8 JSON text."""
    data = definition.model_dump(mode="json")
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"


def validation_problems(error: ValidationError) -> list[Problem]:
    """pydantic's errors as problems located by their JSON path."""
    problems = []
    for detail in error.errors(include_url=False):
        path = "/".join(str(part) for part in detail["loc"])
        where = (("path", path),) if path else ()
        problems.append(Problem("import.schema", where, {"error": detail["msg"]}))
    return problems


def parse_definition(data: Any) -> ImportResult:
    """Check decoded JSON data: shape first, then the save rules."""
    try:
        definition = QuestionnaireDefinition.model_validate(data)
    except ValidationError as error:
        return ImportResult(problems=validation_problems(error))
    problems = validate_definition(definition)
    return ImportResult(None, problems) if problems else ImportResult(definition)


def import_json(data: bytes) -> ImportResult:
    """Read a questionnaire from native JSON bytes, whole or not at all."""
    problem = size_problem(data)
    if problem:
        return ImportResult(problems=[problem])
    try:
        # JSON is UTF-8 (RFC 8259): nothing to detect.
        text = decode_text(data, encoding="utf-8").text
    except FileRejected:
        return ImportResult(problems=[Problem("import.not_utf8")])
    problem = structure_problem(text)
    if problem:
        return ImportResult(problems=[problem])
    try:
        decoded = json.loads(text)
    except json.JSONDecodeError as error:
        where = (("line", error.lineno),)
        return ImportResult(problems=[Problem("import.not_json", where, {"error": error.msg})])
    return parse_definition(decoded)


def structure_problem(text: str) -> Problem | None:
    """A problem when JSON text nests deeper or writes longer numbers than a questionnaire can,
    found without parsing it."""
    # Strings blanked out (a JSON string holds no raw line break, so line numbers stay).
    skeleton = _JSON_STRING.sub('""', text)
    number = _LONG_NUMBER.search(skeleton)
    if number:
        line = skeleton.count("\n", 0, number.start()) + 1
        return Problem("import.number_too_long", (("line", line),))
    depth = 0
    for bracket in _BRACKET.finditer(skeleton):
        depth += 1 if bracket.group() in "[{" else -1
        if depth > MAX_JSON_DEPTH:
            line = skeleton.count("\n", 0, bracket.start()) + 1
            return Problem("import.too_deep", (("line", line),), {"limit": MAX_JSON_DEPTH})
    return None


def json_schema() -> dict[str, Any]:
    """The JSON Schema of the native format."""
    schema = QuestionnaireDefinition.model_json_schema()
    return {
        "$schema": JSON_SCHEMA_DIALECT,
        "title": "LoyaltyLab questionnaire",
        "description": (
            "A questionnaire definition: multilingual texts keyed by BCP-47 tag, sections of "
            "items (a union discriminated by 'type'), constructs, the structural model in "
            "lavaan syntax and display conditions. Generated from surveys.definition."
        ),
        **{key: value for key, value in schema.items() if key not in ("title", "description")},
    }


def json_schema_text() -> str:
    """The schema as committed in ``docs/questionnaire.schema.json``."""
    return json.dumps(json_schema(), ensure_ascii=False, indent=2) + "\n"


if __name__ == "__main__":
    # Regenerate: python -m surveys.json_format > docs/questionnaire.schema.json
    print(json_schema_text(), end="")
