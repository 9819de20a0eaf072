"""A published bilingual questionnaire (every item type, display logic) and helpers that
publish it and open a wave fielding it."""

from __future__ import annotations

import re
from typing import Any

from sqlmodel import Session

from loyaltylab.fieldwork import service as fieldwork
from loyaltylab.fieldwork.models import Channel, Response, ResponseStatus, Wave, WaveStatus
from loyaltylab.questionnaires import service as questionnaires
from loyaltylab.questionnaires.models import QuestionnaireVersion
from loyaltylab.studies.models import Study
from surveys.definition import QuestionnaireDefinition
from tests.surveys.questionnaire_support import options, texts

SCALE = {"points": 5, "anchors": [texts("Disagree", "不同意"), texts("Agree", "同意")]}


FIELDWORK_QUESTIONNAIRE: dict[str, Any] = {
    "title": texts("Contoso customer survey", "Contoso 顾客调查"),
    "introduction": texts("Welcome", "欢迎参与"),
    "languages": ["zh-CN", "en"],
    "sections": [
        {
            "code": "about",
            "title": texts("About you", "关于您"),
            "items": [
                {"type": "instruction", "code": "intro", "label": texts("Hello", "您好")},
                {
                    "type": "single_choice",
                    "code": "complained",
                    "label": texts(
                        "Did you complain in the last 12 months?", "过去12个月您投诉过吗?"
                    ),
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
            ],
        },
        {
            "code": "complaint",
            "title": texts("Your complaint", "您的投诉"),
            "condition": {"item": "complained", "op": "eq", "value": "yes"},
            "items": [
                {
                    "type": "matrix",
                    "code": "ch",
                    "label": texts("Complaint handling", "投诉处理"),
                    "required": True,
                    "scale": SCALE,
                    "rows": [
                        {"code": "ch1", "label": texts("It was easy to complain", "投诉很方便")},
                        {"code": "ch2", "label": texts("The remedy was fair", "解决方案合理")},
                    ],
                }
            ],
        },
        {
            "code": "loyalty",
            "title": texts("Loyalty", "忠诚"),
            "items": [
                {
                    "type": "nps",
                    "code": "nps",
                    "label": texts("How likely are you to recommend us?", "您向他人推荐的可能性?"),
                    "required": True,
                    "low_label": texts("Not at all", "完全不可能"),
                    "high_label": texts("Extremely", "极有可能"),
                },
                {
                    "type": "likert",
                    "code": "sat1",
                    "label": texts("Overall I am satisfied", "总体而言我很满意"),
                    "scale": SCALE,
                },
                {
                    "type": "multiple_choice",
                    "code": "channels",
                    "label": texts("Channels used", "使用的渠道"),
                    "options": options("web", "app", "store"),
                    "max_selections": 2,
                },
                {
                    "type": "dropdown",
                    "code": "region",
                    "label": texts("Region", "地区"),
                    "options": options("north", "south"),
                },
                {
                    "type": "attention_check",
                    "code": "attn",
                    "label": texts("Please choose 'app' here", "此题请选择“app”"),
                    "options": options("web", "app"),
                    "expected": "app",
                },
                {
                    "type": "short_text",
                    "code": "why",
                    "label": texts("Why so often?", "为什么这么频繁?"),
                    "condition": {"item": "visits", "op": "ge", "value": 50},
                },
                {"type": "long_text", "code": "improve", "label": texts("Suggestions", "建议")},
            ],
        },
    ],
}


def publish(session: Session, study: Study, data: dict[str, Any]) -> QuestionnaireVersion:
    questionnaire = questionnaires.create_questionnaire(
        session, organisation_id=study.organisation_id, study_id=study.id, template=None
    )
    definition = QuestionnaireDefinition.model_validate(data)
    questionnaires.save_definition(session, study.organisation_id, questionnaire.id, definition)
    version = questionnaires.publish(session, study.organisation_id, questionnaire.id, user_id=None)
    session.commit()
    return version


def open_wave(session: Session, study: Study, data: dict[str, Any], name: str) -> Wave:
    """An open wave (no quotas) fielding questionnaire ``data``, published for it."""
    wave = fieldwork.create_wave(
        session,
        fieldwork.WaveSettings(name=name),
        study_id=study.id,
        organisation_id=study.organisation_id,
        version_id=publish(session, study, data).id,
    )
    fieldwork.open_wave(session, wave)
    session.commit()
    return wave


TRACKER_QUESTIONNAIRE: dict[str, Any] = {
    "title": texts("Tracker", "追踪"),
    "languages": ["en", "zh-CN"],
    "constructs": [{"code": "SAT", "name": texts("Satisfaction", "满意度")}],
    "sections": [
        {
            "code": "s",
            "title": texts("Questions", "问题"),
            "items": [
                {
                    "type": "likert",
                    "code": "sat1",
                    "label": texts("Satisfied", "满意"),
                    "scale": SCALE,
                    "construct": "SAT",
                },
                {
                    "type": "likert",
                    "code": "sat2",
                    "label": texts("Fell short", "未达预期"),
                    "scale": SCALE,
                    "construct": "SAT",
                    "reverse": True,
                },
                {
                    "type": "nps",
                    "code": "ltr",
                    "label": texts("Recommend?", "推荐?"),
                    "low_label": texts("No", "否"),
                    "high_label": texts("Yes", "是"),
                },
                {"type": "long_text", "code": "why", "label": texts("Why?", "原因?")},
            ],
        }
    ],
}


FORM_FIELD = re.compile(r'name="(csrf_token|submission_key)" value="([^"]+)"')


def fielded_wave(
    session: Session, study: Study, version_id: int, name: str, rows: list[list[Any]]
) -> Wave:
    """A closed wave of the published version with one complete web response per row of
    answer values (in the order of the questionnaire's variables)."""
    wave = fieldwork.create_wave(
        session,
        fieldwork.WaveSettings(name=name),
        study_id=study.id,
        organisation_id=study.organisation_id,
        version_id=version_id,
    )
    fieldwork.open_wave(session, wave)
    for values in rows:
        session.add(
            Response(
                organisation_id=study.organisation_id,
                wave_id=wave.id,
                questionnaire_version_id=version_id,
                channel=Channel.web,
                language="en",
                status=ResponseStatus.complete,
                answer_values=values,
            )
        )
    wave.status = WaveStatus.closed
    session.add(wave)
    session.commit()
    return wave


class Respondent:
    """Drives a test client through the respondent pages as a browser without JavaScript."""

    def __init__(self, client: Any, base: str) -> None:
        self.client = client
        self.base = base
        self.last_form: dict[str, str] = {}

    def get(self, path: str = "") -> Any:
        response = self.client.get(self.base + path)
        self.last_form = dict(FORM_FIELD.findall(response.text))
        return response

    def post(self, path: str, data: dict[str, Any], *, form: dict[str, str] | None = None) -> Any:
        return self.client.post(
            self.base + path, data={**(form or self.last_form), **data}, follow_redirects=False
        )

    def consent(self) -> Any:
        self.get()
        return self.post("/start", {"consent": "yes"})

    def answer(self, page: int, data: dict[str, Any], action: str = "next") -> Any:
        self.get(f"/page/{page}")
        return self.post(f"/page/{page}", {**data, "action": action})
