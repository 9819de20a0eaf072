"""XLSForm import: read the workbook defensively, map its rows to a questionnaire, report
every problem with its sheet and line.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from typing import Any

from openpyxl import load_workbook
from openpyxl.worksheet.worksheet import Worksheet
from pydantic import ValidationError

from analysis.files import FileRejected, check_xlsx
from surveys.conditions import AllOf, Condition
from surveys.definition import (
    CONTACT_PERMISSION,
    NOT_APPLICABLE,
    NPS_MAX,
    NPS_MIN,
    AttentionCheckItem,
    Construct,
    DropdownItem,
    InstructionItem,
    Item,
    LikertItem,
    LikertScale,
    LongTextItem,
    MatrixItem,
    MatrixRow,
    MultipleChoiceItem,
    NpsItem,
    NumericItem,
    Option,
    QuestionnaireDefinition,
    Section,
    Settings,
    ShortTextItem,
    SingleChoiceItem,
    Texts,
    unique_code,
)
from surveys.json_format import ImportResult, size_problem, validation_problems
from surveys.problems import Problem, Where
from surveys.relevant import RelevantError, parse_relevant
from surveys.validation import validate_definition
from surveys.xlsform.common import CONSTRUCTS_SHEET, language_from_column

MAX_ROWS = 2000
MAX_COLUMNS = 200
MAX_SHEETS = 20
MAX_UNCOMPRESSED_BYTES = 50 * 1024 * 1024
MAX_CELL_LENGTH = 10_000
METADATA_TYPES = frozenset(
    [
        "start",
        "end",
        "today",
        "deviceid",
        "phonenumber",
        "username",
        "email",
        "audit",
        "simserial",
        "subscriberid",
    ]
)
_TRUE = {"yes", "true", "true()", "1", "y"}
_FALSE = {"no", "false", "false()", "0", "n", ""}
_CLAUSE_SPLIT = re.compile(r"\s+and\s+")
_BOUND = re.compile(
    r"^(?P<subject>\.|count-selected\(\s*\.\s*\)|string-length\(\s*\.\s*\))\s*"
    r"(?P<op><=|>=|=)\s*(?P<number>-?\d+(?:\.\d+)?)$"
)


@dataclass
class _Row:
    number: int
    cells: dict[str, str]

    def get(self, column: str) -> str:
        return self.cells.get(column, "").strip()


@dataclass
class _Sheet:
    name: str
    columns: list[str]
    rows: list[_Row]

    def texts(self, row: _Row, prefix: str, default_language: str) -> Texts:
        result: Texts = {}
        for column in self.columns:
            if column == prefix:
                language: str | None = default_language
            elif column.startswith(prefix + "::"):
                language = language_from_column(column[len(prefix) + 2 :])
            else:
                continue
            value = row.cells.get(column, "").strip()
            if language and value:
                result[language] = value
        return result


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)[:MAX_CELL_LENGTH]


def _read_sheet(worksheet: Worksheet, problems: list[Problem]) -> _Sheet | None:
    where: Where = (("sheet", worksheet.title),)
    declared_rows, declared_columns = worksheet.max_row, worksheet.max_column
    if declared_rows and declared_rows > MAX_ROWS + 1:
        problems.append(Problem("import.too_many_rows", where, {"limit": MAX_ROWS}))
        return None
    if declared_columns and declared_columns > MAX_COLUMNS:
        problems.append(Problem("import.too_many_columns", where, {"limit": MAX_COLUMNS}))
        return None
    header: list[str] = []
    rows: list[_Row] = []
    # The declared dimension may be missing or wrong, so the limits are enforced while reading.
    for number, values in enumerate(worksheet.iter_rows(values_only=True), start=1):
        if number > MAX_ROWS + 1:
            problems.append(Problem("import.too_many_rows", where, {"limit": MAX_ROWS}))
            return None
        if len(values) > MAX_COLUMNS and any(v is not None for v in values[MAX_COLUMNS:]):
            problems.append(Problem("import.too_many_columns", where, {"limit": MAX_COLUMNS}))
            return None
        texts = [_cell_text(value) for value in values[:MAX_COLUMNS]]
        if not header:
            header = [text.strip() for text in texts]
            continue
        cells = {header[i]: t for i, t in enumerate(texts) if i < len(header) and header[i]}
        if any(text.strip() for text in cells.values()):
            rows.append(_Row(number, cells))
    return _Sheet(worksheet.title, [column for column in header if column], rows)


def _open_workbook(data: bytes, problems: list[Problem]) -> dict[str, _Sheet] | None:
    problem = size_problem(data)
    if problem:
        problems.append(problem)
        return None
    if not data.startswith(b"PK\x03\x04"):
        problems.append(Problem("import.not_xlsx", (), {"detail": ""}))
        return None
    try:
        check_xlsx(data, max_unpacked=MAX_UNCOMPRESSED_BYTES)
    except FileRejected as refused:
        if refused.reason == "unpacks_too_large":
            problems.append(
                Problem("import.uncompressed_too_large", (), {"limit": MAX_UNCOMPRESSED_BYTES})
            )
        else:
            problems.append(Problem("import.not_xlsx", (), {"detail": ""}))
        return None
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises many kinds on malformed files
        detail = f": {type(error).__name__}"
        problems.append(Problem("import.not_xlsx", (), {"detail": detail}))
        return None
    try:
        if len(workbook.sheetnames) > MAX_SHEETS:
            problems.append(Problem("import.too_many_sheets", (), {"limit": MAX_SHEETS}))
            return None
        sheets = {}
        for name in workbook.sheetnames:
            key = name.strip().lower()
            if key in ("survey", "choices", "settings", CONSTRUCTS_SHEET):
                sheet = _read_sheet(workbook[name], problems)
                if sheet is not None:
                    sheets[key] = sheet
        return sheets
    except Exception as error:  # malformed sheet XML surfaces only while iterating
        problems.append(Problem("import.not_xlsx", (), {"detail": f": {type(error).__name__}"}))
        return None
    finally:
        workbook.close()


@dataclass
class _Pending:
    """An item, matrix row or section whose ``relevant`` is converted once every question is
    known."""

    target: Any
    relevant: list[tuple[str, int]]


@dataclass
class _Importer:
    sheets: dict[str, _Sheet]
    problems: list[Problem] = field(default_factory=list)
    languages: list[str] = field(default_factory=list)
    default_language: str = "en"
    choice_rows: dict[str, list[_Row]] = field(default_factory=dict)
    code_rows: dict[str, int] = field(default_factory=dict)
    section_rows: list[int] = field(default_factory=list)
    construct_rows: dict[str, int] = field(default_factory=dict)
    pending: list[_Pending] = field(default_factory=list)

    def problem(self, code: str, sheet: str, row: int | None = None, /, **params: Any) -> None:
        where: Where = (("sheet", sheet),) + ((("line", row),) if row else ())
        self.problems.append(Problem(code, where, params))

    # Languages, settings, choices, constructs ------------------------------------------------

    def detect_languages(self) -> None:
        settings = self.settings_row()
        default = settings.get("default_language") if settings else ""
        found: list[str] = []
        if default:
            found.append(language_from_column(default) or default)
        for key in ("survey", "choices"):
            sheet = self.sheets.get(key)
            if sheet is None:
                continue
            for column in sheet.columns:
                base, _, suffix = column.partition("::")
                if base not in ("label", "hint") or not suffix:
                    continue
                language = language_from_column(suffix)
                if language is None:
                    self.problem("xlsform.language_column", sheet.name, 1, column=column)
                elif language not in found:
                    found.append(language)
        self.languages = found or ["en"]
        self.default_language = self.languages[0]

    def settings_row(self) -> _Row | None:
        sheet = self.sheets.get("settings")
        return sheet.rows[0] if sheet and sheet.rows else None

    def read_choices(self) -> None:
        sheet = self.sheets.get("choices")
        if sheet is None:
            return
        for column in ("list_name", "name"):
            if column not in sheet.columns:
                self.problem("xlsform.missing_column", sheet.name, 1, column=column)
        for row in sheet.rows:
            self.choice_rows.setdefault(row.get("list_name"), []).append(row)

    def options(self, list_name: str, row_number: int) -> list[Option] | None:
        rows = self.choice_rows.get(list_name)
        if not rows:
            self.problem("xlsform.unknown_list", "survey", row_number, list=list_name)
            return None
        sheet = self.sheets["choices"]
        return [
            Option(value=row.get("name"), label=sheet.texts(row, "label", self.default_language))
            for row in rows
        ]

    def read_constructs(self) -> list[Construct]:
        sheet = self.sheets.get(CONSTRUCTS_SHEET)
        if sheet is None:
            return []
        constructs = []
        for row in sheet.rows:
            code = row.get("code")
            self.construct_rows[code] = row.number
            constructs.append(
                Construct(
                    code=code,
                    name=sheet.texts(row, "name", self.default_language),
                    definition=sheet.texts(row, "definition", self.default_language),
                )
            )
        return constructs

    # Survey rows -----------------------------------------------------------------------------

    def flag(self, row: _Row, column: str) -> bool:
        value = row.get(column).lower()
        if value in _TRUE:
            return True
        if value not in _FALSE:
            self.problem(
                "xlsform.bad_value",
                "survey",
                row.number,
                value=row.get(column),
                column=column,
                expected="yes or no",
            )
        return False

    def bounds(self, row: _Row, subject: str) -> dict[str, float | int]:
        """min/max from a constraint of the form ``subject >= a and subject <= b``."""
        text = row.get("constraint")
        if not text:
            return {}
        result: dict[str, float | int] = {}
        for clause in _CLAUSE_SPLIT.split(text.strip()):
            match = _BOUND.match(clause.strip())
            if not match or re.sub(r"\s", "", match.group("subject")) != subject:
                self.problem("xlsform.constraint", "survey", row.number, expression=text)
                return {}
            number = float(match.group("number"))
            value: float | int = int(number) if number.is_integer() else number
            if match.group("op") in (">=", "="):
                result["min"] = value
            if match.group("op") in ("<=", "="):
                result["max"] = value
        return result

    def common(self, row: _Row, survey: _Sheet) -> dict[str, Any]:
        self.code_rows.setdefault(row.get("name"), row.number)
        return {
            "code": row.get("name"),
            "label": survey.texts(row, "label", self.default_language),
            "help": survey.texts(row, "hint", self.default_language),
            "required": self.flag(row, "required"),
        }

    def scale_fields(self, row: _Row) -> dict[str, Any]:
        construct = row.get("loyaltylab_construct")
        return {
            "construct_code": construct or None,
            "reverse": self.flag(row, "loyaltylab_reverse"),
        }

    def likert_scale(self, list_name: str, row: _Row) -> LikertScale | None:
        options = self.options(list_name, row.number)
        if options is None:
            return None
        not_applicable = None
        if options and options[-1].value == NOT_APPLICABLE:
            not_applicable = options.pop().label
        values = [option.value for option in options]
        if values != [str(point) for point in range(1, len(values) + 1)]:
            self.problem("xlsform.likert_choices", "survey", row.number, list=list_name)
            return None
        middle = options[1:-1]
        unlabelled = all(
            all(text == option.value for text in option.label.values()) for option in middle
        )
        anchors = (
            [options[0].label, options[-1].label]
            if unlabelled and middle
            else [option.label for option in options]
        )
        return LikertScale(points=len(options), anchors=anchors, not_applicable=not_applicable)

    def select_item(self, kind: str, list_name: str, row: _Row, survey: _Sheet) -> Item | None:
        common = self.common(row, survey)
        appearance = row.get("appearance").lower()
        if kind == "select_multiple":
            options = self.options(list_name, row.number)
            if options is None:
                return None
            limits = self.bounds(row, "count-selected(.)")
            return MultipleChoiceItem(
                **common,
                options=options,
                min_selections=limits.get("min"),
                max_selections=limits.get("max"),
            )
        if row.get("loyaltylab_type").lower() == "nps":
            options = self.options(list_name, row.number)
            if options is None:
                return None
            if [o.value for o in options] != [str(v) for v in range(NPS_MIN, NPS_MAX + 1)]:
                self.problem(
                    "xlsform.bad_value",
                    "choices",
                    None,
                    value=list_name,
                    column="list_name",
                    expected="an NPS list has the values 0 to 10",
                )
                return None
            return NpsItem(
                **common,
                **self.scale_fields(row),
                low_label=options[0].label,
                high_label=options[-1].label,
            )
        if "likert" in appearance:
            scale = self.likert_scale(list_name, row)
            return LikertItem(**common, **self.scale_fields(row), scale=scale) if scale else None
        options = self.options(list_name, row.number)
        if options is None:
            return None
        if row.get("loyaltylab_expected"):
            return AttentionCheckItem(
                **common, options=options, expected=row.get("loyaltylab_expected")
            )
        if "minimal" in appearance:
            return DropdownItem(**common, options=options)
        role = row.get("loyaltylab_role")
        if role and role != CONTACT_PERMISSION:
            self.problem(
                "xlsform.bad_value",
                "survey",
                row.number,
                value=role,
                column="loyaltylab_role",
                expected=CONTACT_PERMISSION,
            )
            return None
        return SingleChoiceItem(**common, options=options, role=role or None)

    def item(self, row: _Row, survey: _Sheet) -> Item | None:
        kind, _, argument = re.sub(
            r"^select (one|multiple)\b", r"select_\1", row.get("type")
        ).partition(" ")
        argument = argument.strip()
        if kind in ("select_one", "select_multiple") and argument and " " not in argument:
            return self.select_item(kind, argument, row, survey)
        if kind in ("integer", "decimal", "range"):
            limits = self.bounds(row, ".") if kind != "range" else self.range_bounds(row)
            integer = kind == "integer" or (kind == "range" and self.range_is_integer(row))
            return NumericItem(**self.common(row, survey), integer=integer, **limits)
        if kind in ("text", "string"):
            limit = self.bounds(row, "string-length(.)").get("max")
            long = "multiline" in row.get("appearance").lower()
            cls = LongTextItem if long else ShortTextItem
            extra = {"max_length": int(limit)} if limit is not None else {}
            return cls(**self.common(row, survey), **extra)
        if kind == "note":
            common = self.common(row, survey)
            common["required"] = False
            return InstructionItem(**common)
        self.problem("xlsform.unsupported_type", "survey", row.number, type=row.get("type"))
        return None

    def range_parameters(self, row: _Row) -> dict[str, float]:
        result = {}
        for part in row.get("parameters").split():
            key, _, value = part.partition("=")
            try:
                result[key.strip()] = float(value)
            except ValueError:
                self.problem(
                    "xlsform.bad_value",
                    "survey",
                    row.number,
                    value=part,
                    column="parameters",
                    expected="start=, end= and step= numbers",
                )
        return result

    def range_bounds(self, row: _Row) -> dict[str, float | int]:
        parameters = self.range_parameters(row)
        result: dict[str, float | int] = {}
        for key, name in (("start", "min"), ("end", "max")):
            if key in parameters:
                value = parameters[key]
                result[name] = int(value) if value.is_integer() else value
        return result

    def range_is_integer(self, row: _Row) -> bool:
        parameters = self.range_parameters(row)
        return all(parameters.get(k, 1.0).is_integer() for k in ("start", "end", "step"))

    # Groups ------------------------------------------------------------------------------------

    def walk(self, survey: _Sheet) -> list[Section]:
        sections: list[Section] = []
        section: Section | None = None
        matrix: MatrixItem | None = None
        matrix_list = ""
        stack: list[tuple[str, _Row]] = []  # ("section" | "matrix" | "flat", begin row)
        flat_relevant: list[tuple[str, int]] = []
        form_title = self.title()

        def open_section(code: str, title: Texts, row_number: int) -> Section:
            new = Section(code=code, title=title)
            sections.append(new)
            self.section_rows.append(row_number)
            self.code_rows.setdefault(code, row_number)
            return new

        for row in survey.rows:
            kind = re.sub(r"\s+", "_", row.get("type").lower())
            if kind in METADATA_TYPES or not kind:
                continue
            if kind == "begin_group":
                if not stack:
                    section = open_section(
                        row.get("name"),
                        survey.texts(row, "label", self.default_language),
                        row.number,
                    )
                    section.description = survey.texts(row, "hint", self.default_language)
                    section.randomize = self.flag(row, "loyaltylab_randomize")
                    if row.get("relevant"):
                        self.pending.append(_Pending(section, [(row.get("relevant"), row.number)]))
                    stack.append(("section", row))
                elif matrix is not None:
                    self.problem("xlsform.nested_group", "survey", row.number)
                    stack.append(("flat", row))
                elif "table-list" in row.get("appearance").lower():
                    common = self.common(row, survey)
                    matrix = MatrixItem(
                        **common,
                        scale=LikertScale(points=2, anchors=[]),
                        rows=[],
                        randomize=self.flag(row, "loyaltylab_randomize"),
                    )
                    matrix_list = ""
                    if section is None:
                        section = open_section(
                            unique_code("section", set(self.code_rows)),
                            form_title,
                            row.number,
                        )
                    section.items.append(matrix)
                    self.pending.append(_Pending(matrix, [*flat_relevant, *self.relevant_of(row)]))
                    stack.append(("matrix", row))
                else:
                    stack.append(("flat", row))
                    flat_relevant.extend(self.relevant_of(row))
                continue
            if kind == "end_group":
                if not stack:
                    self.problem(
                        "xlsform.unbalanced_group",
                        "survey",
                        row.number,
                        type="end_group",
                        other="begin_group",
                    )
                    continue
                role, begin = stack.pop()
                if role == "section":
                    section = None
                elif role == "matrix":
                    matrix = None
                elif role == "flat":
                    flat_relevant = [r for r in flat_relevant if r[1] != begin.number]
                continue
            if kind.startswith("begin_") or kind.startswith("end_"):
                self.problem("xlsform.unsupported_type", "survey", row.number, type=row.get("type"))
                continue
            if matrix is not None:
                matrix_list = self.matrix_row(matrix, matrix_list, row, survey)
                continue
            item = self.item(row, survey)
            if item is None:
                continue
            if section is None:  # ungrouped questions share one implicit section
                section = open_section(
                    unique_code("section", set(self.code_rows)), form_title, row.number
                )
            section.items.append(item)
            relevant = [*flat_relevant, *self.relevant_of(row)]
            if relevant:
                self.pending.append(_Pending(item, relevant))
        for _role, begin in stack:
            self.problem(
                "xlsform.unbalanced_group",
                "survey",
                begin.number,
                type=begin.get("type"),
                other="end_group",
            )
        return sections

    @staticmethod
    def relevant_of(row: _Row) -> list[tuple[str, int]]:
        return [(row.get("relevant"), row.number)] if row.get("relevant") else []

    def matrix_row(self, matrix: MatrixItem, list_name: str, row: _Row, survey: _Sheet) -> str:
        kind, _, argument = row.get("type").partition(" ")
        argument = argument.strip()
        if row.get("appearance").lower() == "label":
            return list_name or argument  # ODK's header row of a table-list
        if kind.replace(" ", "_") != "select_one" or (list_name and argument != list_name):
            self.problem("xlsform.matrix_row", "survey", row.number, list=list_name or argument)
            return list_name
        if not matrix.rows:
            scale = self.likert_scale(argument, row)
            if scale is not None:
                matrix.scale = scale
        self.code_rows.setdefault(row.get("name"), row.number)
        matrix.required = matrix.required or self.flag(row, "required")
        fields = self.scale_fields(row)
        matrix_row = MatrixRow(
            code=row.get("name"),
            label=survey.texts(row, "label", self.default_language),
            **fields,
        )
        matrix.rows.append(matrix_row)
        if row.get("relevant"):
            self.pending.append(_Pending(matrix_row, self.relevant_of(row)))
        return argument

    def title(self) -> Texts:
        settings = self.settings_row()
        sheet = self.sheets.get("settings")
        if settings is None or sheet is None:
            return {}
        texts = {self.default_language: settings.get("form_title")}
        texts.update(sheet.texts(settings, "loyaltylab_title", self.default_language))
        return {language: text for language, text in texts.items() if text}

    # Logic -------------------------------------------------------------------------------------

    def resolve_logic(self, definition: QuestionnaireDefinition) -> None:
        variables = {variable.code: variable for variable in definition.variables()}

        def coerce(code: str, value: Any) -> Any:
            variable = variables.get(code)
            if variable is None:
                return value
            if isinstance(variable.item, (LikertItem, MatrixItem, NpsItem, NumericItem)):
                if isinstance(value, str) and re.fullmatch(r"-?\d+(\.\d+)?", value):
                    number = float(value)
                    return int(number) if number.is_integer() else number
                return value
            return _cell_text(value)

        for pending in self.pending:
            conditions: list[Condition] = []
            for expression, row_number in pending.relevant:
                try:
                    conditions.append(parse_relevant(expression, coerce))
                except RelevantError as error:
                    self.problem(
                        "xlsform.relevant",
                        "survey",
                        row_number,
                        expression=expression,
                        error=str(error),
                    )
            if conditions:
                pending.target.condition = (
                    conditions[0] if len(conditions) == 1 else AllOf(all=conditions)
                )

    # Whole form ------------------------------------------------------------------------------

    def run(self) -> QuestionnaireDefinition | None:
        survey = self.sheets.get("survey")
        if survey is None:
            self.problem("xlsform.missing_sheet", "survey", None, sheet="survey")
            return None
        for column in ("type", "name"):
            if column not in survey.columns:
                self.problem("xlsform.missing_column", survey.name, 1, column=column)
        if self.problems:
            return None
        self.detect_languages()
        self.read_choices()
        settings = self.settings_row()
        try:
            constructs = self.read_constructs()
            sections = self.walk(survey)
            definition = QuestionnaireDefinition(
                title=self.title(),
                introduction=(
                    self.sheets["settings"].texts(
                        settings, "loyaltylab_introduction", self.default_language
                    )
                    if settings
                    else {}
                ),
                languages=self.languages,
                constructs=constructs,
                model=settings.get("loyaltylab_model") if settings else "",
                sections=sections,
                settings=Settings(
                    show_progress=not settings
                    or settings.get("loyaltylab_show_progress").lower() not in _FALSE - {""}
                ),
            )
        except ValidationError as error:
            self.problems.extend(validation_problems(error))
            return None
        self.resolve_logic(definition)
        if self.problems:
            return None
        return definition

    def locate(self, problem: Problem) -> Problem:
        """Place a definition problem at the sheet and row it comes from."""
        parts = dict(problem.where)
        if "construct" in parts and parts["construct"] in self.construct_rows:
            return problem.located(
                ("sheet", CONSTRUCTS_SHEET), ("line", self.construct_rows[str(parts["construct"])])
            )
        for key in ("row", "item"):
            code = parts.get(key)
            if code in self.code_rows:
                return problem.located(("sheet", "survey"), ("line", self.code_rows[str(code)]))
        section = parts.get("section")
        if isinstance(section, int) and section <= len(self.section_rows):
            return problem.located(("sheet", "survey"), ("line", self.section_rows[section - 1]))
        if "model" in parts or "title" in parts or "introduction" in parts:
            return problem.located(("sheet", "settings"), ("line", 2))
        return problem


def import_xlsform(data: bytes) -> ImportResult:
    """Read a questionnaire from XLSForm bytes, whole or with every problem and its row."""
    problems: list[Problem] = []
    sheets = _open_workbook(data, problems)
    if sheets is None or problems:
        return ImportResult(problems=problems)
    importer = _Importer(sheets)
    definition = importer.run()
    if definition is None:
        return ImportResult(problems=importer.problems)
    found = [importer.locate(problem) for problem in validate_definition(definition)]
    return ImportResult(None, found) if found else ImportResult(definition)
