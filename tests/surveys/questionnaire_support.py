"""Questionnaire documents and workbooks shared by the questionnaire and cross-check tests."""

from __future__ import annotations

import io
from typing import Any

from openpyxl import Workbook

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


# The bilingual XLSForm of the import tests, as written in Excel/KoboToolbox.
EN, ZH = "label::English (en)", "label::Chinese (zh)"
SURVEY_COLUMNS = [
    "type", "name", EN, ZH, "hint::English (en)", "hint::Chinese (zh)", "required",
    "relevant", "constraint", "appearance", "loyaltylab_construct", "loyaltylab_reverse",
    "loyaltylab_type",
]  # fmt: skip
SURVEY = [
    ["start", "start"],
    ["begin_group", "screen", "About you", "关于您"],
    ["select_one yes_no", "complained", "Did you complain in the last 12 months?",
     "过去12个月内您投诉过吗?", "", "", "yes"],
    ["integer", "age", "Your age", "您的年龄", "In years", "周岁", "yes", "",
     ". >= 18 and . <= 99"],
    ["select_multiple channel", "channels", "Which channels do you use?", "您使用哪些渠道?",
     "", "", "", "", "count-selected(.) <= 2"],
    ["select_one region", "region", "Region", "地区", "", "", "", "", "", "minimal"],
    ["end_group"],
    ["begin group", "experience", "Your experience", "您的体验"],
    ["note", "intro", "Please rate Contoso.", "请评价Contoso。"],
    ["select_one agree5", "sat1", "Overall I am satisfied.", "总体而言我很满意。", "", "", "yes",
     "", "", "likert", "SAT"],
    ["begin_group", "grid", "How much do you agree?", "您是否同意?", "", "", "", "", "",
     "table-list"],
    ["select_one agree5", "sat2", "Products are good.", "产品很好。", "", "", "yes", "", "", "",
     "SAT"],
    ["select_one agree5", "sat3", "Service disappointed me.", "服务令我失望。", "", "", "yes", "",
     "", "", "SAT", "yes"],
    ["end_group"],
    ["select_one nps11", "nps", "Would you recommend Contoso?", "您会推荐Contoso吗?", "", "", "",
     "", "", "", "", "", "nps"],
    ["decimal", "spend", "Monthly spend", "每月花费", "", "", "", "${age} >= 30",
     ". >= 0"],
    ["text", "what", "What happened?", "发生了什么?", "", "", "", "${complained} = 'yes'", "",
     "multiline"],
    ["text", "email_opt", "E-mail (optional)", "电子邮箱(选填)", "", "", "", "",
     "string-length(.) <= 80"],
    ["end group"],
    ["end", "end"],
]  # fmt: skip
CHOICES = [
    ["yes_no", "yes", "Yes", "是"],
    ["yes_no", "no", "No", "否"],
    ["channel", "web", "Website", "网站"],
    ["channel", "app", "App", "应用"],
    ["channel", "store", "Store", "门店"],
    ["region", "north", "North", "北方"],
    ["region", "south", "South", "南方"],
    *[["agree5", str(p), str(p), str(p)] for p in range(1, 6)],
    ["nps11", "0", "Not at all likely", "完全不可能"],
    *[["nps11", str(p), str(p), str(p)] for p in range(1, 10)],
    ["nps11", "10", "Extremely likely", "极有可能"],
]
CHOICES[7:12] = [
    ["agree5", "1", "Strongly disagree", "非常不同意"],
    ["agree5", "2", "2", "2"],
    ["agree5", "3", "3", "3"],
    ["agree5", "4", "4", "4"],
    ["agree5", "5", "Strongly agree", "非常同意"],
]


def workbook_bytes(survey=SURVEY, choices=CHOICES, settings=True, constructs=True) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "survey"
    sheet.append(SURVEY_COLUMNS)
    for row in survey:
        sheet.append(row)
    sheet = workbook.create_sheet("choices")
    sheet.append(["list_name", "name", EN, ZH])
    for row in choices:
        sheet.append(row)
    if settings:
        sheet = workbook.create_sheet("settings")
        sheet.append(["form_title", "form_id", "default_language", "loyaltylab_title::Chinese (zh)",
                      "loyaltylab_model"])  # fmt: skip
        sheet.append(["Contoso survey", "contoso", "English (en)", "Contoso调查", ""])
    if constructs:
        sheet = workbook.create_sheet("loyaltylab_constructs")
        sheet.append(["code", "name::English (en)", "name::Chinese (zh)"])
        sheet.append(["SAT", "Satisfaction", "满意度"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


# The display condition of the page-logic questionnaire's follow-up pages.
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
