"""Checking respondents' answers item type by item type, with display logic on the server."""

from __future__ import annotations

import pytest

from surveys.answers import validate_answers

VALID = {
    "complained": "yes",
    "visits": "12",
    "channels": ["web", "app"],
    "region": "north",
    "sat1": "4",
    "sat2": "5",
    "sat3": "1",
    "val1": "3",
    "val2": "2",
    "nps": "9",
    "attn": "agree",
    "comment": "  Slow refund.\r\nStill waiting. ",
    "name": "Li",
}


def test_valid_answers_are_typed(definition):
    result = validate_answers(definition, VALID)
    assert result.ok, result.errors
    assert result.answers == {
        "complained": "yes",
        "visits": 12,
        "channels": ["web", "app"],
        "region": "north",
        "sat1": 4,
        "sat2": 5,
        "sat3": 1,
        "val1": 3,
        "val2": 2,
        "nps": 9,
        "attn": "agree",
        "comment": "Slow refund.\nStill waiting.",
        "name": "Li",
    }


def check(definition, **changes):
    raw = {**VALID, **changes}
    return validate_answers(definition, {k: v for k, v in raw.items() if v is not None})


@pytest.mark.parametrize(
    ("field", "value", "code"),
    [
        ("complained", None, "answer.required"),
        ("complained", "maybe", "answer.not_an_option"),
        ("complained", ["yes", "no"], "answer.single_value_expected"),
        ("visits", "abc", "answer.not_a_number"),
        ("visits", "1e3", "answer.not_a_number"),
        ("visits", "2.5", "answer.not_an_integer"),
        ("visits", "-1", "answer.below_min"),
        ("visits", "101", "answer.above_max"),
        ("channels", ["web", "app", "store"], "answer.too_many_selections"),
        ("channels", ["web", "fax"], "answer.not_an_option"),
        ("region", "west", "answer.not_an_option"),
        ("sat1", "6", "answer.out_of_range"),
        ("sat1", "0", "answer.out_of_range"),
        ("sat1", "2.5", "answer.out_of_range"),
        ("sat2", "na", "answer.not_applicable_not_allowed"),
        ("sat3", None, "answer.required"),
        ("nps", "11", "answer.out_of_range"),
        ("nps", "-1", "answer.out_of_range"),
        ("attn", "yes", "answer.not_an_option"),
        ("name", "x" * 51, "answer.too_long"),
    ],
)
def test_invalid_answers(definition, field, value, code):
    # Without a valid 'complained' the comment is hidden, so it is left empty there.
    extra = {"comment": None} if field == "complained" else {}
    result = check(definition, **{field: value}, **extra)
    assert list(result.errors) == [field]
    assert result.errors[field].code == code
    assert field not in result.answers


def test_not_applicable_where_offered_and_full_width_digits(definition):
    result = check(definition, sat1="NA", visits="１２", nps="１０")
    assert result.ok
    assert (result.answers["sat1"], result.answers["visits"], result.answers["nps"]) == (
        "na",
        12,
        10,
    )


def test_optional_items_may_be_left_empty(definition):
    result = check(definition, visits="", channels=[], region=None, nps=" ", name=None)
    assert result.ok
    assert {"visits", "channels", "region", "nps", "name"}.isdisjoint(result.answers)


def test_decimal_numeric_answers(build):
    definition = build(lambda d: d["sections"][0]["items"][1].update(integer=False, min=0, max=9.5))
    assert check(definition, visits="9.5").answers["visits"] == 9.5
    assert check(definition, visits="9.51").errors["visits"].code == "answer.above_max"


def test_hidden_items_must_not_be_answered(definition):
    result = check(definition, complained="no")
    assert result.errors["comment"].code == "answer.hidden"
    assert "comment" in result.hidden
    result = check(definition, complained="no", comment="")
    assert result.ok and "comment" not in result.answers


def test_hidden_answers_do_not_count_for_later_conditions(build):
    def change(data):
        items = data["sections"][1]["items"]
        items.append(
            {
                "type": "short_text",
                "code": "followup",
                "label": {"en": "Follow-up", "zh-CN": "跟进"},
                "condition": {"item": "comment", "op": "answered"},
            }
        )

    definition = build(change)
    result = check(definition, complained="no", comment="text", followup="more")
    assert set(result.errors) == {"comment", "followup"}


def test_a_hidden_section_requires_nothing(build):
    def change(data):
        data["sections"][1]["condition"] = {"item": "complained", "op": "eq", "value": "yes"}

    raw = {"complained": "no"}
    result = validate_answers(build(change), raw)
    assert result.ok
    assert {"sat1", "sat2", "nps"} <= result.hidden


def test_one_page_at_a_time_with_earlier_answers_known(definition):
    page = {k: VALID[k] for k in ("sat1", "sat2", "sat3", "val1", "val2", "attn", "name")}
    result = validate_answers(definition, page, sections=[1], known={"complained": "no"})
    assert result.ok
    assert "complained" not in result.answers
    result = validate_answers(definition, page, sections=[1], known={"complained": "yes"})
    assert result.ok  # comment is optional
    assert validate_answers(definition, {}, sections=[1]).errors["sat1"].code == "answer.required"


def test_error_messages_in_both_languages(definition):
    problem = check(definition, visits="101").errors["visits"]
    assert problem.message("en") == "Please enter a value of at most 100."
    assert problem.message("zh_CN") == "请输入不大于 100 的数值。"


def test_a_matrix_row_is_asked_only_when_its_condition_holds(build):
    def change(data):
        grid = next(i for i in data["sections"][1]["items"] if i["code"] == "grid")
        grid["rows"][3]["condition"] = {"item": "complained", "op": "eq", "value": "no"}

    definition = build(change)
    # Complained: val2 is hidden, so the required matrix does not need it and refuses it.
    without_val2 = {code: value for code, value in VALID.items() if code != "val2"}
    result = validate_answers(definition, without_val2)
    assert result.ok, result.errors
    assert "val2" in result.hidden and "val2" not in result.answers
    assert validate_answers(definition, VALID).errors["val2"].code == "answer.hidden"
    # Did not complain: val2 is asked (and required) like the other rows.
    answers = {**without_val2, "complained": "no", "comment": ""}
    assert validate_answers(definition, answers).errors["val2"].code == "answer.required"
    answers["val2"] = "2"
    assert validate_answers(definition, answers).answers["val2"] == 2
