"""The follow-up loop's questionnaire: satisfaction, a complaint, NPS, a reason and the
permission to contact the respondent."""

from __future__ import annotations

from typing import Any

from tests.loyaltylab.fieldwork_support import SCALE
from tests.surveys.questionnaire_support import texts

PERMISSION = {
    "type": "single_choice",
    "code": "may_contact",
    "role": "contact_permission",
    "label": texts("May we contact you about your answers?", "我们可以就您的回答与您联系吗?"),
    "options": [
        {"value": "yes", "label": texts("Yes", "可以")},
        {"value": "no", "label": texts("No", "不可以")},
    ],
}
QUESTIONNAIRE: dict[str, Any] = {
    "title": texts("Contoso survey", "Contoso 调查"),
    "languages": ["en", "zh-CN"],
    "constructs": [{"code": "SAT", "name": texts("Satisfaction", "满意度")}],
    "sections": [
        {
            "code": "main",
            "title": texts("Your view", "您的看法"),
            "items": [
                {
                    "type": "likert",
                    "code": "sat1",
                    "label": texts("I am satisfied", "我很满意"),
                    "scale": SCALE,
                    "construct": "SAT",
                },
                {
                    "type": "likert",
                    "code": "sat2",
                    "label": texts("It fell short", "未达预期"),
                    "scale": SCALE,
                    "construct": "SAT",
                    "reverse": True,
                },
                {
                    "type": "single_choice",
                    "code": "complain",
                    "label": texts("Do you want to complain?", "您要投诉吗?"),
                    "options": [
                        {"value": "yes", "label": texts("Yes", "是")},
                        {"value": "no", "label": texts("No", "否")},
                    ],
                },
                {
                    "type": "nps",
                    "code": "ltr",
                    "label": texts("Would you recommend us?", "您会推荐我们吗?"),
                    "required": True,
                    "low_label": texts("No", "不会"),
                    "high_label": texts("Yes", "会"),
                },
                {"type": "long_text", "code": "why", "label": texts("Why?", "原因?")},
                PERMISSION,
            ],
        }
    ],
}
