"""Display logic: evaluation on the server, validation on save, XLSForm relevant translation."""

from __future__ import annotations

import pytest
from pydantic import TypeAdapter

from surveys.conditions import Condition, evaluate
from surveys.relevant import RelevantError, parse_relevant, to_relevant
from surveys.validation import validate_definition

CONDITION = TypeAdapter(Condition)


def cond(data) -> Condition:
    return CONDITION.validate_python(data)


@pytest.mark.parametrize(
    ("condition", "answers", "expected"),
    [
        ({"item": "c", "op": "eq", "value": "yes"}, {"c": "yes"}, True),
        ({"item": "c", "op": "eq", "value": "yes"}, {"c": "no"}, False),
        ({"item": "c", "op": "eq", "value": "yes"}, {}, False),
        ({"item": "c", "op": "ne", "value": "yes"}, {}, True),
        ({"item": "c", "op": "ne", "value": "yes"}, {"c": "yes"}, False),
        ({"item": "m", "op": "eq", "value": "app"}, {"m": ["web", "app"]}, True),
        ({"item": "m", "op": "in", "value": ["store", "app"]}, {"m": ["web"]}, False),
        ({"item": "n", "op": "ge", "value": 9}, {"n": 9}, True),
        ({"item": "n", "op": "gt", "value": 9}, {"n": 9}, False),
        ({"item": "n", "op": "lt", "value": 3}, {"n": "na"}, False),
        ({"item": "n", "op": "le", "value": 3}, {}, False),
        ({"item": "n", "op": "eq", "value": 5}, {"n": "5"}, False),
        ({"item": "n", "op": "answered"}, {"n": 0}, True),
        ({"item": "m", "op": "answered"}, {"m": []}, False),
        (
            {"all": [{"item": "a", "op": "eq", "value": 1}, {"item": "b", "op": "eq", "value": 2}]},
            {"a": 1, "b": 2},
            True,
        ),
        (
            {"all": [{"item": "a", "op": "eq", "value": 1}, {"item": "b", "op": "eq", "value": 2}]},
            {"a": 1},
            False,
        ),
        (
            {"any": [{"item": "a", "op": "eq", "value": 1}, {"item": "b", "op": "eq", "value": 2}]},
            {"b": 2},
            True,
        ),
        ({"not": {"item": "a", "op": "answered"}}, {}, True),
    ],
)
def test_evaluate(condition, answers, expected):
    assert evaluate(cond(condition), answers) is expected


def test_conditions_are_data_and_refuse_anything_else():
    with pytest.raises(ValueError):
        cond({"item": "a", "op": "__import__", "value": "os"})
    with pytest.raises(ValueError):
        cond({"item": "a", "op": "eq", "value": 1, "code": "print(1)"})


def logic_codes(build, condition, *, on="comment", section=None):
    def change(data):
        target = (
            data["sections"][1]
            if section
            else next(i for s in data["sections"] for i in s["items"] if i["code"] == on)
        )
        target["condition"] = condition

    return [p.code for p in validate_definition(build(change))]


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ({"item": "nosuch", "op": "answered"}, ["logic.unknown_item"]),
        ({"item": "name", "op": "answered"}, ["logic.forward"]),
        ({"item": "comment", "op": "answered"}, ["logic.self"]),
        ({"item": "intro", "op": "answered"}, ["logic.not_answerable"]),
        ({"item": "grid", "op": "answered"}, ["logic.not_answerable"]),
        ({"item": "complained", "op": "gt", "value": "yes"}, ["logic.operator"]),
        ({"item": "complained", "op": "eq", "value": "maybe"}, ["logic.value"]),
        ({"item": "sat1", "op": "eq", "value": 6}, ["logic.value"]),
        ({"item": "sat1", "op": "eq", "value": "na"}, []),
        ({"item": "sat1", "op": "ge", "value": 3.5}, []),
        ({"item": "nps", "op": "in", "value": [9, 10]}, []),
        ({"item": "nps", "op": "in", "value": 9}, ["logic.value"]),
        ({"item": "nps", "op": "eq", "value": 11}, ["logic.value"]),
        ({"item": "visits", "op": "gt", "value": "many"}, ["logic.value"]),
        ({"item": "channels", "op": "eq", "value": "app"}, []),
        ({"item": "sat2", "op": "le", "value": 2}, []),
        ({"item": "complained", "op": "answered", "value": "yes"}, ["logic.value"]),
    ],
)
def test_item_conditions_are_validated(build, condition, expected):
    assert logic_codes(build, condition) == expected


def test_section_conditions_may_only_use_earlier_sections(build):
    ok = {"item": "complained", "op": "eq", "value": "yes"}
    own = {"item": "sat1", "op": "answered"}
    assert logic_codes(build, ok, section=True) == []
    assert logic_codes(build, own, section=True) == ["logic.self"]


def test_condition_on_an_item_of_the_same_random_section_is_refused(build):
    def change(data):
        data["sections"][1]["randomize"] = True
        data["sections"][1]["items"][-1]["condition"] = {"item": "nps", "op": "ge", "value": 9}

    assert [p.code for p in validate_definition(build(change))] == ["logic.random_order"]


def test_logic_problem_message_names_the_reference(build):
    def change(data):
        data["sections"][0]["items"][0]["condition"] = {"item": "name", "op": "answered"}

    problem = validate_definition(build(change))[0]
    assert problem.code == "logic.forward"
    assert "'name'" in problem.message()
    assert "“name”" in problem.message("zh-CN")


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("${complained} = 'yes'", {"item": "complained", "op": "eq", "value": "yes"}),
        ('selected(${m}, "a")', {"item": "m", "op": "eq", "value": "a"}),
        ("${age}>=18", {"item": "age", "op": "ge", "value": 18}),
        ("18 <= ${age}", {"item": "age", "op": "ge", "value": 18}),
        ("${x} != ''", {"item": "x", "op": "answered", "value": None}),
        ("${x} = ''", {"not": {"item": "x", "op": "answered", "value": None}}),
        ("not(${x} = 'a')", {"item": "x", "op": "ne", "value": "a"}),
        ("${x} = 'a' or ${x} = 'b'", {"item": "x", "op": "in", "value": ["a", "b"]}),
        (
            "${a} = 'y' and (${b} > 2.5 or count-selected(${m}) > 0)",
            {
                "all": [
                    {"item": "a", "op": "eq", "value": "y"},
                    {
                        "any": [
                            {"item": "b", "op": "gt", "value": 2.5},
                            {"item": "m", "op": "answered", "value": None},
                        ]
                    },
                ]
            },
        ),
    ],
)
def test_relevant_expressions_map_to_conditions(expression, expected):
    assert parse_relevant(expression).model_dump() == expected


@pytest.mark.parametrize(
    "expression",
    ["${a} + 1 > 2", "${a} = ${b}", "today() > 3", "${a} = 'x' and", "${a} = 'unterminated"],
)
def test_unsupported_relevant_expressions_are_refused(expression):
    with pytest.raises(RelevantError):
        parse_relevant(expression)


def test_conditions_round_trip_through_relevant():
    condition = cond(
        {
            "all": [
                {"item": "m", "op": "ne", "value": "a"},
                {
                    "any": [
                        {"item": "n", "op": "lt", "value": 3},
                        {"item": "x", "op": "in", "value": ["p", "q"]},
                    ]
                },
                {"not": {"item": "x", "op": "answered"}},
            ]
        }
    )
    text = to_relevant(condition, lambda code: code == "m")
    assert text == (
        "not(selected(${m}, 'a')) and (${n} < 3 or (${x} = 'p' or ${x} = 'q')) and not(${x} != '')"
    )
    assert parse_relevant(text) == condition


def row_condition(build, condition, row="val2"):
    """The small questionnaire with ``condition`` on one row of the matrix ``grid``."""

    def change(data):
        grid = next(i for i in data["sections"][1]["items"] if i["code"] == "grid")
        grid["randomize"] = False
        next(r for r in grid["rows"] if r["code"] == row)["condition"] = condition

    return build(change)


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ({"item": "complained", "op": "eq", "value": "yes"}, []),
        ({"item": "sat1", "op": "le", "value": 2}, []),
        ({"item": "sat2", "op": "answered"}, ["logic.self"]),  # a row of the same matrix
        ({"item": "nps", "op": "ge", "value": 9}, ["logic.forward"]),
        ({"item": "complained", "op": "eq", "value": "maybe"}, ["logic.value"]),
    ],
)
def test_matrix_row_conditions_may_use_only_questions_before_the_matrix(build, condition, expected):
    problems = validate_definition(row_condition(build, condition))
    assert [p.code for p in problems] == expected
    for problem in problems:
        assert ("row", "val2") in problem.where
        assert problem.location().startswith("section 2 / item grid / row val2")
