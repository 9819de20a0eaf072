"""Save and publish rules of a questionnaire definition, item type by item type."""

from __future__ import annotations

from typing import Any

import pytest

from surveys.problems import MESSAGES
from surveys.validation import is_valid_code, validate_definition


def item(data: dict[str, Any], code: str) -> dict[str, Any]:
    for section in data["sections"]:
        for entry in section["items"]:
            if entry["code"] == code:
                return entry
    raise KeyError(code)


def codes(problems) -> list[str]:
    return [problem.code for problem in problems]


def test_the_fixture_is_valid_and_publishable(definition):
    assert validate_definition(definition) == []
    assert validate_definition(definition, publish=True) == []


@pytest.mark.parametrize("code", ["1sat", "sat-1", "sat 1", "", "x" * 33, "AND", "sat.1", "满意"])
def test_invalid_codes_are_reported(build, code):
    definition = build(lambda d: item(d, "visits").update(code=code))
    problems = validate_definition(definition)
    assert codes(problems) == ["code.invalid"]
    assert problems[0].params["code"] == code
    assert problems[0].where == (("section", 1), ("item", code))


def test_valid_codes():
    assert all(is_valid_code(code) for code in ["sat1", "Q_2", "x" * 32, "loyalty_total"])


def test_duplicate_codes_are_reported_even_across_case_and_matrix_rows(build):
    def change(data):
        item(data, "visits")["code"] = "Complained"
        item(data, "grid")["rows"][0]["code"] = "nps"

    problems = validate_definition(build(change))
    assert codes(problems) == ["code.duplicate", "code.duplicate"]
    assert {p.params["code"] for p in problems} == {"Complained", "nps"}


def test_empty_labels_are_reported_everywhere(build):
    def change(data):
        item(data, "visits")["label"] = {"en": "  ", "zh-CN": ""}
        item(data, "region")["options"][1]["label"] = {}
        item(data, "grid")["rows"][2]["label"] = {"en": ""}
        data["sections"][1]["title"] = {}

    problems = validate_definition(build(change))
    assert codes(problems) == ["text.empty"] * 4
    assert [p.where for p in problems] == [
        (("section", 1), ("item", "visits")),
        (("section", 1), ("item", "region"), ("option", 2)),
        (("section", 2),),
        (("section", 2), ("item", "grid"), ("row", "val1")),
    ]


def test_texts_in_undeclared_languages_are_reported(build):
    problems = validate_definition(build(lambda d: d["title"].update({"fr": "Enquête"})))
    assert codes(problems) == ["text.unknown_language"]


def test_invalid_and_duplicate_languages(build):
    problems = validate_definition(build(lambda d: d.update(languages=["en", "zh-CN", "en", "x"])))
    assert codes(problems) == ["languages.duplicate", "languages.invalid"]


@pytest.mark.parametrize(
    ("points", "anchors", "expected"),
    [(1, 2, "likert.points"), (12, 2, "likert.points"), (7, 3, "likert.anchors")],
)
def test_likert_points_and_anchor_count(build, points, anchors, expected):
    def change(data):
        scale = item(data, "sat1")["scale"]
        scale["points"] = points
        scale["anchors"] = [{"en": f"a{i}", "zh-CN": f"锚{i}"} for i in range(anchors)]

    assert codes(validate_definition(build(change))) == [expected]


@pytest.mark.parametrize("points", [2, 5, 7, 11])
def test_likert_with_every_point_labelled_is_valid(build, points):
    def change(data):
        scale = item(data, "sat1")["scale"]
        scale["points"] = points
        scale["anchors"] = [{"en": f"a{i}", "zh-CN": f"锚{i}"} for i in range(points)]

    assert validate_definition(build(change)) == []


def test_matrix_needs_rows_and_known_constructs(build):
    def change(data):
        item(data, "grid")["rows"] = []
        item(data, "sat1")["construct"] = "LOY"

    problems = validate_definition(build(change))
    assert "matrix.no_rows" in codes(problems)
    assert "scale.construct_unknown" in codes(problems)


def test_nps_needs_end_labels(build):
    problems = validate_definition(build(lambda d: item(d, "nps").update(low_label={})))
    assert codes(problems) == ["text.empty"]
    assert problems[0].params["field"] == "low_label"


def test_choice_options_must_be_unique_valid_and_at_least_two(build):
    def change(data):
        item(data, "channels")["options"] = [
            {"value": "web", "label": {"en": "Web", "zh-CN": "网站"}},
            {"value": "web", "label": {"en": "Web site", "zh-CN": "网页"}},
            {"value": "a b", "label": {"en": "Web", "zh-CN": "网"}},
        ]
        item(data, "region")["options"] = item(data, "region")["options"][:1]

    problems = validate_definition(build(change))
    assert codes(problems) == [
        "choice.value_duplicate",
        "choice.value_invalid",
        "choice.label_duplicate",
        "choice.too_few_options",
    ]


@pytest.mark.parametrize(
    ("minimum", "maximum", "expected"),
    [
        (3, 2, ["multiple.min_max"]),
        (0, 2, ["multiple.bound_range"]),
        (1, 4, ["multiple.bound_range"]),
        (None, 3, []),
    ],
)
def test_multiple_choice_selection_bounds(build, minimum, maximum, expected):
    change = lambda d: item(d, "channels").update(min_selections=minimum, max_selections=maximum)  # noqa: E731
    assert codes(validate_definition(build(change))) == expected


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"min": 10, "max": 1}, ["numeric.min_max"]),
        ({"min": 0.5}, ["numeric.integer_bounds"]),
        ({"min": 0.5, "integer": False}, []),
    ],
)
def test_numeric_bounds(build, changes, expected):
    assert (
        codes(validate_definition(build(lambda d: item(d, "visits").update(changes)))) == expected
    )


def test_attention_check_expected_answer_must_be_an_option(build):
    problems = validate_definition(build(lambda d: item(d, "attn").update(expected="maybe")))
    assert codes(problems) == ["attention.expected_unknown"]


def test_text_length_limits_and_instruction_cannot_be_required(build):
    def change(data):
        item(data, "name")["max_length"] = 0
        item(data, "intro")["required"] = True

    assert codes(validate_definition(build(change))) == [
        "item.instruction_required",
        "text.max_length_range",
    ]


def test_publish_lists_every_missing_translation(build):
    def change(data):
        del item(data, "visits")["label"]["zh-CN"]
        item(data, "grid")["rows"][1]["label"]["en"] = ""
        item(data, "region")["options"][0]["label"] = {"en": "North"}

    definition = build(change)
    assert validate_definition(definition) == []
    problems = validate_definition(definition, publish=True)
    assert codes(problems) == ["text.missing_translation"] * 3
    assert [(p.where[-1], p.params["language"]) for p in problems] == [
        (("item", "visits"), "zh-CN"),
        (("option", 1), "zh-CN"),
        (("row", "sat3"), "en"),
    ]


def test_construct_names_need_no_translation_to_publish(build):
    definition = build(lambda d: d["constructs"][0].update(name={"en": "Satisfaction"}))
    assert validate_definition(definition, publish=True) == []


def test_publishing_needs_a_question(build):
    definition = build(lambda d: d.update(sections=[], model=""))
    assert validate_definition(definition) == []
    assert codes(validate_definition(definition, publish=True)) == ["sections.empty"]


@pytest.mark.parametrize(
    ("model", "expected", "params"),
    [
        ("VAL ~ SAT + LOY", ["model.unknown_construct"], {"construct": "LOY"}),
        ("VAL ~~ SAT\nVAL ~", ["model.syntax"], None),
        ("VAL SAT", ["model.syntax"], None),
        ("SAT =~ sat1 + sat2\nVAL ~ SAT", ["model.measurement_given"], None),
    ],
)
def test_model_checks(build, model, expected, params):
    problems = validate_definition(build(lambda d: d.update(model=model)))
    assert codes(problems) == expected
    if params:
        assert dict(problems[0].params) == params


def test_model_construct_with_fewer_than_two_items(build):
    def change(data):
        item(data, "grid")["rows"][3]["construct"] = "SAT"  # VAL keeps only val1

    problems = validate_definition(build(change))
    assert codes(problems) == ["model.too_few_items"]
    assert problems[0].params == {"construct": "VAL", "count": 1}


def test_model_syntax_error_message_carries_the_parser_detail(build):
    problem = validate_definition(build(lambda d: d.update(model="VAL ~ SAT +")))[0]
    assert problem.code == "model.syntax"
    assert "line 1" in problem.message("en")
    assert problem.message("zh_CN").startswith("结构模型存在语法错误")


@pytest.mark.parametrize(
    ("model", "expected", "chinese"),
    [
        ("VAL ~ SAT\nind := " + "(" * 300 + "1" + ")" * 300, "model.expression_too_deep", "20 层"),
        ("VAL ~ SAT\ntotal := " + " + ".join(["1"] * 1500), "model.expression_too_long", "200"),
        ("VAL ~ SAT\n" + "#\n" * 30_000, "model.too_long", "50000"),
    ],
)
def test_a_model_beyond_the_parser_limits_is_a_translated_problem(build, model, expected, chinese):
    (problem,) = validate_definition(build(lambda d: d.update(model=model)))
    assert problem.code == expected
    assert "at most" in problem.message("en")
    assert chinese in problem.message("zh-CN")


def test_every_message_has_english_and_chinese_and_renders(build):
    for code, languages in MESSAGES.items():
        assert set(languages) == {"en", "zh-CN"}, code
    problems = validate_definition(
        build(lambda d: d.update(model="VAL ~ SAT + LOY", languages=["en", "zh-CN", "en"])),
        publish=True,
    )
    for problem in problems:
        assert problem.message("en") and problem.message("zh-CN") != problem.message("en")
        assert problem.location("zh-CN") is not None


def test_texts_walks_every_multilingual_text_of_every_item_type(definition):
    def bilingual(value) -> list[dict]:
        if isinstance(value, dict):
            if set(value) == {"en", "zh-CN"}:
                return [value]
            return [text for child in value.values() for text in bilingual(child)]
        if isinstance(value, list):
            return [text for child in value for text in bilingual(child)]
        return []

    expected = bilingual(definition.model_dump())
    assert len(expected) > 30
    assert [texts for texts in definition.texts() if texts] == expected
    for texts in definition.texts():  # the definition's own dicts: editing them edits it
        texts.pop("zh-CN", None)
    assert "'zh-CN':" not in str(definition.model_dump())
