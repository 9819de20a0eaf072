"""The simulated study every report test renders: its data, model, questionnaire and request,
and the hostile texts (script, formula, right-to-left, emoji) the exports must neutralise."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from reports.build import Fieldwork, ReportRequest
from surveys.definition import QuestionnaireDefinition

ROOT = Path(__file__).resolve().parents[2]

RTL = "\u05e9\u05dc\u05d5\u05dd \u0645\u0631\u062d\u0628\u0627"

EMOJI = "\U0001f600\U0001f44d"

SCRIPT = "<script>alert('x')</script>"

FORMULA = '=HYPERLINK("http://evil.example","click")'

HOSTILE_LABEL = f"{SCRIPT} {RTL} {EMOJI}"

DATA = ROOT / "tests" / "analysis" / "data" / "loyalty_segments.csv"


# The lavaan reference model of the simulated survey (with the indirect and total effects).
MODEL = json.loads(
    (ROOT / "tests" / "analysis" / "reference" / "loyalty_listwise.json").read_text("utf-8")
)["model"]


def questionnaire_definition() -> QuestionnaireDefinition:
    anchors = [
        {"en": "Strongly disagree", "zh-CN": "非常不同意"},
        {"en": "Strongly agree", "zh-CN": "非常同意"},
    ]
    rows = [
        {
            "code": "sat1",
            "construct": "SAT",
            "label": {"en": HOSTILE_LABEL, "zh-CN": HOSTILE_LABEL},
        },
        {"code": "sat2", "construct": "SAT", "label": {"en": FORMULA, "zh-CN": FORMULA}},
        {
            "code": "sat3",
            "construct": "SAT",
            "label": {"en": "Service", "zh-CN": "我对服务感到满意。"},
        },
        {
            "code": "sat4",
            "construct": "SAT",
            "reverse": True,
            "label": {"en": "Fell short", "zh-CN": "体验没有达到预期。"},
        },
    ]
    for construct, prefix in (("VAL", "val"), ("TRU", "tru"), ("LOY", "loy")):
        rows += [
            {
                "code": f"{prefix}{i}",
                "construct": construct,
                "label": {"en": f"{construct} item {i}", "zh-CN": f"{construct} 题项 {i}"},
            }
            for i in (1, 2, 3)
        ]
    return QuestionnaireDefinition.model_validate(
        {
            "title": {"en": "Survey", "zh-CN": "调查"},
            "languages": ["zh-CN", "en"],
            "constructs": [
                {"code": "SAT", "name": {"en": "Satisfaction", "zh-CN": "满意度"}},
                {"code": "VAL", "name": {"en": "Perceived value", "zh-CN": "感知价值"}},
                {"code": "TRU", "name": {"en": "Trust", "zh-CN": "信任"}},
                {"code": "LOY", "name": {"en": "Loyalty", "zh-CN": "忠诚度"}},
            ],
            "sections": [
                {
                    "code": "main",
                    "title": {"en": "Main", "zh-CN": "主要"},
                    "items": [
                        {
                            "type": "matrix",
                            "code": "m1",
                            "label": {"en": "Agree?", "zh-CN": "同意吗?"},
                            "scale": {"points": 7, "anchors": anchors},
                            "rows": rows,
                        },
                        {
                            "type": "nps",
                            "code": "ltr",
                            "label": {"en": "Recommend?", "zh-CN": "推荐?"},
                            "low_label": {"en": "Not at all likely", "zh-CN": "完全不可能"},
                            "high_label": {"en": "Extremely likely", "zh-CN": "极有可能"},
                        },
                    ],
                }
            ],
        }
    )


def report_request(language: str) -> ReportRequest:
    return ReportRequest(
        model=MODEL,
        language=language,
        reverse=("sat4",),
        nps="ltr",
        group="tier",
        wave="wave",
        seed=7,
        study="Acme 2026 忠诚度研究" if language == "zh" else "Acme 2026 loyalty study",
        client=f"Acme {SCRIPT}",
        created=datetime(2026, 4, 1, tzinfo=UTC),
        fieldwork=Fieldwork(
            invitations=2000, responses=850, completes=800, exclusions={"speeding": 9}
        ),
        definition=questionnaire_definition(),
    )
