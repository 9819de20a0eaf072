"""Rules a questionnaire definition must follow, reported as structured problems.

:func:`validate_definition` runs the save rules (codes, labels, per-type rules, logic, model);
with ``publish=True`` it adds what a respondent-ready version needs: a translation of every
respondent-facing text in every language, and at least one question.
"""

from __future__ import annotations

import json
import re
from typing import Any

from analysis.errors import ModelSyntaxError, ModelTooComplexError
from analysis.syntax import measurement_syntax, parse_model
from surveys.conditions import (
    MAX_DEPTH,
    ORDERING_OPERATORS,
    Comparison,
    Condition,
    comparisons,
    depth,
)
from surveys.definition import (
    CHOICE_TYPES,
    NOT_APPLICABLE,
    NPS_MAX,
    NPS_MIN,
    AttentionCheckItem,
    InstructionItem,
    Item,
    LikertItem,
    LikertScale,
    LongTextItem,
    MatrixItem,
    MultipleChoiceItem,
    NpsItem,
    NumericItem,
    QuestionnaireDefinition,
    Section,
    ShortTextItem,
    Texts,
    Variable,
)
from surveys.problems import Problem, Where

CODE_PATTERN = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
CODE_MAX_LENGTH = 32  # Stata's limit, the strictest of the export formats
# Words SPSS (case-insensitively) and R refuse as variable names.
RESERVED_CODES = frozenset(
    {"all", "and", "by", "eq", "ge", "gt", "le", "lt", "ne", "not", "or", "to", "with"}
    | {"if", "else", "repeat", "while", "function", "for", "in", "next", "break"}
    | {"true", "false", "null", "inf", "nan", "na"}
)
OPTION_VALUE_PATTERN = re.compile(r"^[A-Za-z0-9_.-]+$")
OPTION_VALUE_MAX_LENGTH = 64
LANGUAGE_TAG_PATTERN = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$")
LIKERT_MIN_POINTS, LIKERT_MAX_POINTS = 2, 11
MIN_OPTIONS, MAX_OPTIONS = 2, 200
MAX_TEXT_LENGTH = 5000
SHORT_TEXT_MAX, LONG_TEXT_MAX = 1000, 20000
MAX_SECTIONS, MAX_ITEMS = 100, 1000

# What a model beyond the parser's limits is told (analysis.syntax checks them before parsing).
MODEL_LIMIT_PROBLEMS = {
    "characters": "model.too_long",
    "terms": "model.expression_too_long",
    "nesting": "model.expression_too_deep",
}


def is_valid_code(code: str) -> bool:
    """A variable name every export format accepts (letters, digits, '_'; not reserved)."""
    return (
        bool(CODE_PATTERN.match(code))
        and len(code) <= CODE_MAX_LENGTH
        and code.lower() not in RESERVED_CODES
    )


class _Checker:
    def __init__(self, definition: QuestionnaireDefinition, publish: bool) -> None:
        self.definition = definition
        self.publish = publish
        self.languages = list(definition.languages)
        self.problems: list[Problem] = []
        self.seen_codes: dict[str, str] = {}

    def add(self, message_id: str, where: Where = (), /, **params: Any) -> None:
        self.problems.append(Problem(message_id, where, params))

    # Codes and texts -----------------------------------------------------------------------

    def code(self, code: str, where: Where) -> None:
        if not is_valid_code(code):
            self.add("code.invalid", where, code=code, max_length=CODE_MAX_LENGTH)
        # SPSS variable names are case-insensitive, so 'sat1' and 'SAT1' would collide.
        key = code.lower()
        if key in self.seen_codes:
            self.add("code.duplicate", where, code=code)
        else:
            self.seen_codes[key] = code

    def texts(
        self, texts: Texts, where: Where, field: str, *, required: bool = True, shown: bool = True
    ) -> None:
        """Check one multilingual text; ``shown`` texts need every translation to publish."""
        known = set(self.languages)
        for language, text in texts.items():
            if language not in known:
                self.add(
                    "text.unknown_language",
                    where,
                    field=field,
                    language=language,
                    languages=self.languages,
                )
            if len(text) > MAX_TEXT_LENGTH:
                self.add("text.too_long", where, field=field, max_length=MAX_TEXT_LENGTH)
        present = [language for language in self.languages if texts.get(language, "").strip()]
        if not present:
            if required:
                self.add("text.empty", where, field=field)
            return
        if self.publish and shown:
            for language in self.languages:
                if language not in present:
                    self.add("text.missing_translation", where, field=field, language=language)

    # Whole questionnaire -------------------------------------------------------------------

    def run(self) -> list[Problem]:
        definition = self.definition
        self.check_languages()
        self.texts(definition.title, (("title", ""),), "title")
        self.texts(definition.introduction, (("introduction", ""),), "introduction", required=False)
        if not definition.sections and self.publish:
            self.add("sections.empty")
        if len(definition.sections) > MAX_SECTIONS:
            self.add("questionnaire.too_large", limit=MAX_SECTIONS, what="sections")
        variables = definition.variables()
        if len(variables) > MAX_ITEMS:
            self.add("questionnaire.too_large", limit=MAX_ITEMS, what="items")
        if self.publish and definition.sections and not variables:
            self.add("questionnaire.no_questions")
        for index, section in enumerate(definition.sections):
            self.check_section(index, section)
        self.check_constructs()
        self.check_logic(variables)
        self.check_model()
        return self.problems

    def check_languages(self) -> None:
        where: Where = (("languages", ""),)
        if not self.languages:
            self.add("languages.empty", where)
        seen = set()
        for language in self.languages:
            if not LANGUAGE_TAG_PATTERN.match(language):
                self.add("languages.invalid", where, language=language)
            if language in seen:
                self.add("languages.duplicate", where, language=language)
            seen.add(language)

    def check_section(self, index: int, section: Section) -> None:
        where: Where = (("section", index + 1),)
        self.code(section.code, where)
        self.texts(section.title, where, "title")
        self.texts(section.description, where, "description", required=False)
        for item in section.items:
            self.check_item(item, (*where, ("item", item.code)))

    def check_item(self, item: Item, where: Where) -> None:
        self.code(item.code, where)
        self.texts(item.label, where, "label")
        self.texts(item.help, where, "help", required=False)
        construct = getattr(item, "construct_code", None)
        if construct is not None:
            self.construct_reference(construct, where)
        if isinstance(item, (LikertItem, MatrixItem)):
            self.scale(item.scale, where)
        if isinstance(item, MatrixItem):
            if not item.rows:
                self.add("matrix.no_rows", where)
            for row in item.rows:
                row_where = (*where, ("row", row.code))
                self.code(row.code, row_where)
                self.texts(row.label, row_where, "label")
                if row.construct_code is not None:
                    self.construct_reference(row.construct_code, row_where)
        elif isinstance(item, NpsItem):
            self.texts(item.low_label, where, "low_label")
            self.texts(item.high_label, where, "high_label")
        elif isinstance(item, CHOICE_TYPES):
            self.options(item, where)
        elif isinstance(item, NumericItem):
            self.numeric(item, where)
        elif isinstance(item, (ShortTextItem, LongTextItem)):
            limit = SHORT_TEXT_MAX if isinstance(item, ShortTextItem) else LONG_TEXT_MAX
            if not 1 <= item.max_length <= limit:
                self.add("text.max_length_range", where, max=limit, value=item.max_length)
        elif isinstance(item, InstructionItem) and item.required:
            self.add("item.instruction_required", where)

    def construct_reference(self, construct: str, where: Where) -> None:
        if construct not in {c.code for c in self.definition.constructs}:
            self.add("scale.construct_unknown", where, construct=construct)

    def scale(self, scale: LikertScale, where: Where) -> None:
        if not LIKERT_MIN_POINTS <= scale.points <= LIKERT_MAX_POINTS:
            self.add(
                "likert.points",
                where,
                min=LIKERT_MIN_POINTS,
                max=LIKERT_MAX_POINTS,
                points=scale.points,
            )
        elif len(scale.anchors) not in (2, scale.points):
            self.add("likert.anchors", where, points=scale.points, count=len(scale.anchors))
        for number, anchor in enumerate(scale.anchors, start=1):
            self.texts(anchor, (*where, ("anchor", number)), "anchor")
        if scale.not_applicable is not None:
            self.texts(scale.not_applicable, where, "not_applicable")

    def options(self, item: Any, where: Where) -> None:
        if len(item.options) < MIN_OPTIONS:
            self.add("choice.too_few_options", where, min=MIN_OPTIONS)
        if len(item.options) > MAX_OPTIONS:
            self.add("choice.too_many_options", where, max=MAX_OPTIONS)
        values: set[str] = set()
        labels: dict[str, set[str]] = {language: set() for language in self.languages}
        for number, option in enumerate(item.options, start=1):
            option_where = (*where, ("option", number))
            if (
                not OPTION_VALUE_PATTERN.match(option.value)
                or len(option.value) > OPTION_VALUE_MAX_LENGTH
            ):
                self.add(
                    "choice.value_invalid",
                    option_where,
                    value=option.value,
                    max_length=OPTION_VALUE_MAX_LENGTH,
                )
            if option.value in values:
                self.add("choice.value_duplicate", option_where, value=option.value)
            values.add(option.value)
            self.texts(option.label, option_where, "option")
            for language, seen in labels.items():
                label = option.label.get(language, "").strip()
                if label and label in seen:
                    self.add("choice.label_duplicate", option_where, language=language, label=label)
                seen.add(label)
        if isinstance(item, MultipleChoiceItem):
            self.selection_bounds(item, where)
        if isinstance(item, AttentionCheckItem) and item.expected not in values:
            self.add("attention.expected_unknown", where, value=item.expected)

    def selection_bounds(self, item: MultipleChoiceItem, where: Where) -> None:
        count = len(item.options)
        for bound, value in (("minimum", item.min_selections), ("maximum", item.max_selections)):
            if value is not None and not 1 <= value <= count:
                self.add("multiple.bound_range", where, bound=bound, options=count, value=value)
        if (
            item.min_selections is not None
            and item.max_selections is not None
            and item.min_selections > item.max_selections
        ):
            self.add("multiple.min_max", where, min=item.min_selections, max=item.max_selections)

    def numeric(self, item: NumericItem, where: Where) -> None:
        if item.min is not None and item.max is not None and item.min > item.max:
            self.add("numeric.min_max", where, min=item.min, max=item.max)
        if item.integer:
            for bound in (item.min, item.max):
                if bound is not None and bound != int(bound):
                    self.add("numeric.integer_bounds", where, value=bound)

    # Constructs and model ------------------------------------------------------------------

    def check_constructs(self) -> None:
        seen: set[str] = set()
        item_codes = set(self.seen_codes.values())
        for construct in self.definition.constructs:
            where: Where = (("construct", construct.code),)
            if not is_valid_code(construct.code):
                self.add("code.invalid", where, code=construct.code, max_length=CODE_MAX_LENGTH)
            # lavaan is case-sensitive, but a construct may not share an item's name.
            if construct.code in seen or construct.code in item_codes:
                self.add("code.duplicate", where, code=construct.code)
            seen.add(construct.code)
            self.texts(construct.name, where, "name", shown=False)
            self.texts(construct.definition, where, "definition", required=False, shown=False)

    def check_model(self) -> None:
        text = self.definition.model
        if not text.strip():
            return
        where: Where = (("model", ""),)
        try:
            spec = parse_model(text)
        except ModelTooComplexError as error:
            self.add(MODEL_LIMIT_PROBLEMS[error.measure], where, limit=error.limit)
            return
        except ModelSyntaxError as error:
            self.add("model.syntax", where, error=str(error))
            return
        if spec.latent:
            self.add("model.measurement_given", where)
            return
        items = self.definition.construct_items()
        names = list(dict.fromkeys((*spec.latent_variables, *spec.observed_variables)))
        used = {}
        for name in names:
            if name not in items:
                self.add("model.unknown_construct", where, construct=name)
            elif len(items[name]) < 2:
                self.add("model.too_few_items", where, construct=name, count=len(items[name]))
            else:
                used[name] = items[name]
        if len(used) == len(names):
            # The full model (derived measurement part + structure) must parse too, e.g. a
            # parameter label may not clash with an item code.
            try:
                parse_model(measurement_syntax(used) + "\n" + text)
            except ModelSyntaxError as error:
                self.add("model.syntax", where, error=str(error))

    # Display logic -------------------------------------------------------------------------

    def check_logic(self, variables: list[Variable]) -> None:
        by_code = {variable.code: variable for variable in variables}
        items = {item.code: item for _s, _i, item in self.definition.items()}
        for section_index, section in enumerate(self.definition.sections):
            where: Where = (("section", section_index + 1), ("condition", ""))
            if section.condition is not None:
                self.condition(
                    section.condition,
                    where,
                    by_code,
                    items,
                    allowed=lambda v, s=section_index: v.section_index < s,
                    own=lambda v, s=section_index: v.section_index == s,
                    random_section=False,
                )
            for item_index, item in enumerate(section.items):
                item_where: Where = (("section", section_index + 1), ("item", item.code))
                # A matrix row's condition, like its matrix's, may use only earlier questions.
                parts = [(item.condition, item_where)]
                if isinstance(item, MatrixItem):
                    parts += [
                        (row.condition, (*item_where, ("row", row.code))) for row in item.rows
                    ]
                for condition, where in parts:
                    if condition is None:
                        continue
                    self.condition(
                        condition,
                        (*where, ("condition", "")),
                        by_code,
                        items,
                        allowed=lambda v, s=section_index, i=item_index: (
                            (v.section_index, v.item_index) < (s, i)
                        ),
                        own=lambda v, s=section_index, i=item_index: (
                            (v.section_index, v.item_index) == (s, i)
                        ),
                        random_section=section.randomize,
                    )

    def condition(
        self,
        condition: Condition,
        where: Where,
        variables: dict[str, Variable],
        items: dict[str, Item],
        *,
        allowed: Any,
        own: Any,
        random_section: bool,
    ) -> None:
        if depth(condition) > MAX_DEPTH:
            self.add("logic.too_deep", where, max=MAX_DEPTH)
            return
        for comparison in comparisons(condition):
            ref = comparison.item
            variable = variables.get(ref)
            if variable is None:
                code = "logic.not_answerable" if ref in items else "logic.unknown_item"
                self.add(code, where, ref=ref)
            elif own(variable):
                self.add("logic.self", where, ref=ref)
            elif not allowed(variable):
                self.add("logic.forward", where, ref=ref)
            else:
                if random_section and variable.section_index + 1 == dict(where)["section"]:
                    self.add("logic.random_order", where, ref=ref)
                self.comparison(comparison, variable, where)

    def comparison(self, comparison: Comparison, variable: Variable, where: Where) -> None:
        item, op, ref = variable.item, comparison.op, comparison.item
        item_type = item.type
        if op == "answered":
            if comparison.value is not None:
                self.add("logic.value", where, ref=ref, value=comparison.value, expected="none")
            return
        ordered = isinstance(item, (LikertItem, MatrixItem, NpsItem, NumericItem))
        if op in ORDERING_OPERATORS and not ordered:
            self.add("logic.operator", where, op=op, ref=ref, item_type=item_type)
            return
        values = comparison.value if op == "in" else [comparison.value]
        if not isinstance(values, list) or (op == "in" and not values):
            self.add("logic.value", where, ref=ref, value=comparison.value, expected="list")
            return
        if op != "in" and isinstance(comparison.value, list):
            self.add("logic.value", where, ref=ref, value=comparison.value, expected="single")
            return
        for value in values:
            expected = value_problem(item, value, ordering=op in ORDERING_OPERATORS)
            if expected:
                self.add(
                    "logic.value",
                    where,
                    ref=ref,
                    value=json.dumps(value, ensure_ascii=False),
                    expected=expected,
                    **_expected_params(item),
                )


def _expected_params(item: Item) -> dict[str, Any]:
    if isinstance(item, (LikertItem, MatrixItem)):
        return {"low": 1, "high": item.scale.points}
    if isinstance(item, NpsItem):
        return {"low": NPS_MIN, "high": NPS_MAX}
    if isinstance(item, CHOICE_TYPES):
        return {"options": [option.value for option in item.options]}
    return {}


def _point_problem(value: Any, low: int, high: int, *, ordering: bool) -> str:
    """'' when ``value`` fits a scale from ``low`` to ``high``, else 'range'."""
    is_number = isinstance(value, (int, float)) and not isinstance(value, bool)
    # Ordering comparisons take any number (e.g. 'ge 4.5'); equality needs an existing point.
    if is_number and (ordering or (value == int(value) and low <= value <= high)):
        return ""
    return "range"


def value_problem(item: Item, value: Any, *, ordering: bool = False) -> str:
    """Why ``value`` cannot be compared with answers to ``item``: '' when it can, else what
    was expected as a key of :data:`surveys.problems.EXPECTED`."""
    if isinstance(item, (LikertItem, MatrixItem)):
        if value == NOT_APPLICABLE and item.scale.not_applicable is not None and not ordering:
            return ""
        return _point_problem(value, 1, item.scale.points, ordering=ordering)
    if isinstance(item, NpsItem):
        return _point_problem(value, NPS_MIN, NPS_MAX, ordering=ordering)
    if isinstance(item, NumericItem):
        is_number = isinstance(value, (int, float)) and not isinstance(value, bool)
        return "" if is_number else "number"
    if isinstance(item, CHOICE_TYPES):
        values = [option.value for option in item.options]
        return "" if value in values else "option"
    return "" if isinstance(value, str) else "text"


def validate_definition(
    definition: QuestionnaireDefinition, *, publish: bool = False
) -> list[Problem]:
    """Every problem of ``definition``; empty when it may be saved (or published)."""
    return _Checker(definition, publish).run()
