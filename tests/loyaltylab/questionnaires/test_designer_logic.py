"""The condition builder's rows <-> display conditions, without the web layer."""

from __future__ import annotations

import pytest

from loyaltylab.questionnaires.logic import Clause, build, clauses_of
from surveys.conditions import AllOf, AnyOf, Comparison, Not, evaluate
from surveys.library import create_from_template

VARIABLES = create_from_template("complaint_handling", company_name="Contoso").variables()


@pytest.mark.parametrize(
    "rows",
    [
        [Clause("complained", "eq", ["yes"])],
        [Clause("complained", "ne", ["yes", "no"])],
        [Clause("nps", "unanswered")],
        [Clause("sat1", "ge", ["5"]), Clause("nps", "le", ["6"], "or")],
        [
            Clause("nps", "le", ["6"]),
            Clause("sat1", "le", ["3"], "or"),
            Clause("complained", "eq", ["yes", "no"], "and"),
            Clause("tru1", "answered", [], "or"),
        ],
    ],
)
def test_rows_make_a_condition_that_comes_back_as_the_same_rows(rows):
    built = build(rows, VARIABLES)
    assert built.errors == {}
    assert clauses_of(built.condition) == rows


def test_and_binds_before_or_and_answers_are_typed_like_the_question():
    rows = [
        Clause("nps", "le", ["6"]),
        Clause("sat1", "le", ["3"], "or"),
        Clause("complained", "eq", ["yes", "no"], "and"),
    ]
    condition = build(rows, VARIABLES).condition
    assert condition == AnyOf(
        any=[
            Comparison(item="nps", op="le", value=6),
            AllOf(
                all=[
                    Comparison(item="sat1", op="le", value=3),
                    Comparison(item="complained", op="in", value=["yes", "no"]),
                ]
            ),
        ]
    )
    assert evaluate(condition, {"nps": 9, "sat1": 2, "complained": "no"})
    assert not evaluate(condition, {"nps": 9, "sat1": 2})
    assert not evaluate(condition, {"nps": 7, "sat1": 4, "complained": "yes"})


def test_incomplete_rows_are_named_by_field():
    rows = [
        Clause("", "eq", []),
        Clause("nps", "between", ["3"]),
        Clause("sat1", "ge", ["3", "4"]),
        Clause("complained", "eq", []),
        Clause("nps", "gt", ["high"]),
    ]
    assert set(build(rows, VARIABLES).errors) == {
        "clause-0-item",
        "clause-1-op",
        "clause-2-value",
        "clause-3-value",
        "clause-4-value",
    }
    assert build([], VARIABLES).errors == {"clause-0-item": "Choose an earlier question."}


def test_conditions_of_other_shapes_are_not_forced_into_rows():
    either = AnyOf(
        any=[Comparison(item="nps", op="le", value=6), Comparison(item="sat1", op="le", value=3)]
    )
    assert clauses_of(Not(negated=either)) is None
    assert clauses_of(AllOf(all=[Comparison(item="tru1", op="answered"), either])) is None
    assert clauses_of(Not(negated=Comparison(item="nps", op="ge", value=9))) is None
    assert clauses_of(None) == [Clause()]
