"""Quality flags on constructed responses: each flag fires on its pattern and only there."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest

from surveys.definition import QuestionnaireDefinition
from surveys.quality import QualityRules, longest_runs, quality_flags


def _texts(text: str) -> dict[str, str]:
    return {"en": text}


SCALE = {"points": 7, "anchors": [_texts("Disagree"), _texts("Agree")]}
ROWS = [
    {"code": f"sat{i}", "label": _texts(f"Item {i}"), "construct": "SAT", "reverse": i == 5}
    for i in range(1, 6)
]
DEFINITION = QuestionnaireDefinition.model_validate(
    {
        "title": _texts("Quality"),
        "languages": ["en"],
        "constructs": [{"code": "SAT", "name": _texts("Satisfaction")}],
        "sections": [
            {
                "code": "s1",
                "title": _texts("Page"),
                "items": [
                    {
                        "type": "matrix",
                        "code": "sat",
                        "label": _texts("Sat"),
                        "scale": SCALE,
                        "rows": ROWS,
                    },
                    {"type": "likert", "code": "val1", "label": _texts("V1"), "scale": SCALE},
                    {"type": "likert", "code": "val2", "label": _texts("V2"), "scale": SCALE},
                    {
                        "type": "attention_check",
                        "code": "attn",
                        "label": _texts("Pick b"),
                        "options": [
                            {"value": "a", "label": _texts("A")},
                            {"value": "b", "label": _texts("B")},
                        ],
                        "expected": "b",
                    },
                ],
            }
        ],
    }
)
CAREFUL = {"sat1": 6, "sat2": 5, "sat3": 6, "sat4": 7, "sat5": 2, "val1": 5, "val2": 6}


def _frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    base = {"status": "complete", "duration_seconds": 300.0, "attn": "b", **CAREFUL}
    return pd.DataFrame([{**base, **row} for row in rows])


def test_careful_responses_raise_no_flag() -> None:
    flags = quality_flags(_frame([{}] * 4), DEFINITION)
    assert not flags.to_numpy().any()


def test_speeding_is_below_a_fraction_of_the_median_complete_duration() -> None:
    data = _frame(
        [
            {},
            {},
            {"duration_seconds": 99.0},
            {"duration_seconds": 101.0},
            {"status": "partial", "duration_seconds": 5.0},
        ]
    )
    flags = quality_flags(data, DEFINITION)
    # median of the complete durations (300, 300, 99, 101) is 200: a third is 66.7
    assert flags["speeding"].tolist() == [False] * 5
    flags = quality_flags(data, DEFINITION, rules=QualityRules(speeding_fraction=0.5))
    assert flags["speeding"].tolist() == [False, False, True, False, False]


def test_straight_lining_across_a_matrix_with_reverse_keyed_rows() -> None:
    same = {f"sat{i}": 6 for i in range(1, 6)}
    data = _frame([same, {**same, "sat5": None}, {}])
    assert quality_flags(data, DEFINITION)["straightlining"].tolist() == [True, False, False]


def test_a_matrix_without_reverse_keyed_rows_is_not_checked() -> None:
    rows = [{**row, "reverse": False} for row in ROWS]
    plain = DEFINITION.model_copy(deep=True)
    plain.sections[0].items[0] = type(plain.sections[0].items[0]).model_validate(
        {"type": "matrix", "code": "sat", "label": _texts("Sat"), "scale": SCALE, "rows": rows}
    )
    data = _frame([{f"sat{i}": 6 for i in range(1, 6)}])
    assert not quality_flags(data, plain)["straightlining"].any()


def test_failed_attention_check() -> None:
    data = _frame([{"attn": "a"}, {"attn": None}, {}])
    assert quality_flags(data, DEFINITION)["attention"].tolist() == [True, False, False]


def test_long_string_runs_across_items() -> None:
    run = {**{f"sat{i}": 4 for i in range(1, 6)}, "val1": 4, "val2": 1}
    data = _frame([run, {}])
    assert longest_runs(
        data[["sat1", "sat2", "sat3", "sat4", "sat5", "val1", "val2"]]
    ).tolist() == [6, 1]
    flags = quality_flags(data, DEFINITION, rules=QualityRules(long_string_min_run=6))
    assert flags["long_string"].tolist() == [True, False]
    assert not quality_flags(data, DEFINITION)["long_string"].any()  # default run is 10


def test_rules_are_validated() -> None:
    with pytest.raises(ValueError, match="speeding_fraction"):
        QualityRules(speeding_fraction=1.5)
