"""Fixtures of the questionnaire tests: a small bilingual questionnaire with every item type."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from surveys.definition import QuestionnaireDefinition


def texts(en: str, zh: str) -> dict[str, str]:
    return {"en": en, "zh-CN": zh}


def options(*values: str) -> list[dict[str, Any]]:
    return [{"value": v, "label": texts(v.title(), f"选项{v}")} for v in values]


AGREE5 = [texts("Disagree", "不同意"), texts("Agree", "同意")]


def small_questionnaire() -> dict[str, Any]:
    """Plain JSON data of a valid questionnaire using every item type."""
    return {
        "title": texts("Customer survey", "顾客调查"),
        "introduction": texts("Welcome", "欢迎"),
        "languages": ["en", "zh-CN"],
        "constructs": [
            {"code": "SAT", "name": texts("Satisfaction", "满意度")},
            {"code": "VAL", "name": texts("Value", "价值")},
        ],
        "model": "VAL ~ SAT",
        "sections": [
            {
                "code": "s1",
                "title": texts("About you", "关于您"),
                "items": [
                    {
                        "type": "single_choice",
                        "code": "complained",
                        "label": texts("Did you complain?", "您投诉过吗?"),
                        "required": True,
                        "options": options("yes", "no"),
                    },
                    {
                        "type": "numeric",
                        "code": "visits",
                        "label": texts("Visits per year", "每年到访次数"),
                        "min": 0,
                        "max": 100,
                    },
                    {
                        "type": "multiple_choice",
                        "code": "channels",
                        "label": texts("Channels used", "使用的渠道"),
                        "options": options("web", "app", "store"),
                        "min_selections": 1,
                        "max_selections": 2,
                    },
                    {
                        "type": "dropdown",
                        "code": "region",
                        "label": texts("Region", "地区"),
                        "options": options("north", "south"),
                    },
                ],
            },
            {
                "code": "s2",
                "title": texts("Experience", "体验"),
                "items": [
                    {
                        "type": "instruction",
                        "code": "intro",
                        "label": texts("Please rate.", "请评分。"),
                    },
                    {
                        "type": "likert",
                        "code": "sat1",
                        "label": texts("I am satisfied.", "我很满意。"),
                        "required": True,
                        "construct": "SAT",
                        "scale": {
                            "points": 5,
                            "anchors": AGREE5,
                            "not_applicable": texts("N/A", "不适用"),
                        },
                    },
                    {
                        "type": "matrix",
                        "code": "grid",
                        "label": texts("Agree?", "同意吗?"),
                        "required": True,
                        "scale": {"points": 5, "anchors": AGREE5},
                        "rows": [
                            {"code": "sat2", "label": texts("Good", "好"), "construct": "SAT"},
                            {
                                "code": "sat3",
                                "label": texts("Bad", "差"),
                                "construct": "SAT",
                                "reverse": True,
                            },
                            {"code": "val1", "label": texts("Worth it", "值"), "construct": "VAL"},
                            {"code": "val2", "label": texts("Cheap", "便宜"), "construct": "VAL"},
                        ],
                        "randomize": True,
                    },
                    {
                        "type": "nps",
                        "code": "nps",
                        "label": texts("Recommend?", "推荐吗?"),
                        "low_label": texts("Not likely", "不可能"),
                        "high_label": texts("Very likely", "很可能"),
                    },
                    {
                        "type": "attention_check",
                        "code": "attn",
                        "label": texts("Choose agree", "请选同意"),
                        "options": options("disagree", "agree"),
                        "expected": "agree",
                    },
                    {
                        "type": "long_text",
                        "code": "comment",
                        "label": texts("What happened?", "发生了什么?"),
                        "condition": {"item": "complained", "op": "eq", "value": "yes"},
                    },
                    {
                        "type": "short_text",
                        "code": "name",
                        "label": texts("Your name", "您的姓名"),
                        "max_length": 50,
                    },
                ],
            },
        ],
    }


@pytest.fixture
def data() -> dict[str, Any]:
    return small_questionnaire()


@pytest.fixture
def build() -> Callable[..., QuestionnaireDefinition]:
    """``build(change)``: the small questionnaire after ``change(data)`` edits its JSON data."""

    def make(change: Callable[[dict[str, Any]], None] | None = None) -> QuestionnaireDefinition:
        data = small_questionnaire()
        if change is not None:
            change(data)
        return QuestionnaireDefinition.model_validate(data)

    return make


@pytest.fixture
def definition(build: Callable[..., QuestionnaireDefinition]) -> QuestionnaireDefinition:
    return build()


ASKED = {"item": "complained", "op": "eq", "value": "yes"}


def question(code: str, **extra: Any) -> dict[str, Any]:
    return {"type": "short_text", "code": code, "label": texts(code, code), **extra}


def section(code: str, *items: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"code": code, "title": texts(code, code), "items": list(items), **extra}


def page_logic_questionnaire() -> QuestionnaireDefinition:
    """Five sections: a question, instructions only, instructions with conditional questions, a
    conditional section, a last question (condition: complained = yes)."""
    return QuestionnaireDefinition.model_validate(
        {
            "title": texts("Survey", "调查"),
            "languages": ["zh-CN", "en"],
            "sections": [
                section(
                    "about",
                    {
                        "type": "single_choice",
                        "code": "complained",
                        "label": texts("Complained?", "投诉过?"),
                        "options": options("yes", "no"),
                    },
                ),
                section(
                    "welcome",
                    {"type": "instruction", "code": "hello", "label": texts("Hi", "您好")},
                ),
                section(
                    "complaint",
                    {"type": "instruction", "code": "sorry", "label": texts("Sorry", "抱歉")},
                    question("what", condition=ASKED),
                    question("when", condition=ASKED),
                ),
                section("by_section", question("how"), condition=ASKED),
                section("end", question("more")),
            ],
        }
    )
