"""The respondent form's own words, in the questionnaire's languages (BCP-47 tags).

Respondents see the questionnaire's language, not the researcher UI's locale, so these texts sit
next to the form rather than in the UI catalogue; every language a library questionnaire uses
(``en``, ``zh-CN``) is complete here.
"""

from __future__ import annotations

TEXTS: dict[str, dict[str, str]] = {
    "language": {"en": "Language", "zh-CN": "语言"},
    "progress": {"en": "Page {current} of {total}", "zh-CN": "第 {current} 页,共 {total} 页"},
    "next": {"en": "Next", "zh-CN": "下一页"},
    "back": {"en": "Back", "zh-CN": "上一页"},
    "submit": {"en": "Submit", "zh-CN": "提交"},
    "start": {"en": "Start the survey", "zh-CN": "开始答卷"},
    "consent_title": {"en": "Before you start", "zh-CN": "开始之前"},
    "run_by": {"en": "Survey run by", "zh-CN": "调查执行方"},
    "contact": {"en": "Questions about the survey", "zh-CN": "如有疑问,请联系"},
    "privacy_title": {"en": "Your privacy", "zh-CN": "隐私说明"},
    "privacy_default": {
        "en": "Taking part is voluntary and you may stop at any time. Your answers are used "
        "for research only and are reported in aggregate, never in a way that identifies you.",
        "zh-CN": "参与完全自愿,您可以随时停止。您的回答仅用于研究,并以汇总形式报告,"
        "不会以任何可识别您身份的方式呈现。",
    },
    "consent_agree": {
        "en": "I have read the above and agree to take part.",
        "zh-CN": "我已阅读以上内容,同意参与本次调查。",
    },
    "consent_required": {
        "en": "Please confirm that you agree to take part.",
        "zh-CN": "请确认您同意参与。",
    },
    "resume_note": {
        "en": "Your answers are saved as you go: you can stop and come back later with the "
        "same link.",
        "zh-CN": "您的回答会随时保存:您可以中途离开,稍后通过同一链接继续作答。",
    },
    "save_later": {"en": "Save and continue later", "zh-CN": "保存,稍后继续"},
    "saved_title": {"en": "Your answers are saved", "zh-CN": "您的回答已保存"},
    "saved_body": {
        "en": "Come back with the same link at any time before the survey closes: you will "
        "continue where you stopped.",
        "zh-CN": "在调查结束前,您可以随时通过同一链接回来,从中断处继续作答。",
    },
    "resume_link": {
        "en": "Your link to continue, on this or another device",
        "zh-CN": "继续作答的链接(本机或其他设备均可使用)",
    },
    "resume_link_note": {
        "en": "Keep this link to yourself: it opens your answers.",
        "zh-CN": "请勿将此链接分享给他人:它可以打开您的回答。",
    },
    "continue_now": {"en": "Continue now", "zh-CN": "现在继续"},
    "welcome_back": {"en": "Welcome back", "zh-CN": "欢迎回来"},
    "welcome_back_body": {
        "en": "Your earlier answers have been kept. Carry on where you stopped.",
        "zh-CN": "您之前的回答已保留,请从上次中断处继续。",
    },
    "autosaved": {"en": "Your answers are saved.", "zh-CN": "您的回答已自动保存。"},
    "autosave_failed": {
        "en": "Your latest answers are not saved yet: they will be when you go on.",
        "zh-CN": "最新的回答尚未保存,进入下一页时会一并保存。",
    },
    "required": {"en": "required", "zh-CN": "必答"},
    "error_summary": {"en": "There is a problem", "zh-CN": "请检查以下问题"},
    "not_applicable": {"en": "Not applicable", "zh-CN": "不适用"},
    "nps_scale": {"en": "0 to 10", "zh-CN": "0 到 10"},
    "choose": {"en": "Choose…", "zh-CN": "请选择…"},
    "thanks_title": {"en": "Thank you!", "zh-CN": "感谢您的参与!"},
    "thanks_body": {
        "en": "Your answers have been saved. You can close this page now.",
        "zh-CN": "您的回答已保存。现在可以关闭此页面。",
    },
    "closed_title": {"en": "This survey is closed", "zh-CN": "本次调查已结束"},
    "closed_body": {
        "en": "This survey is not accepting answers at the moment. Thank you for your interest.",
        "zh-CN": "本次调查目前不接受作答。感谢您的关注。",
    },
    "full_title": {"en": "This survey is full", "zh-CN": "本次调查名额已满"},
    "full_body": {
        "en": "We already have enough answers from people like you. Thank you for your interest.",
        "zh-CN": "与您情况相同的受访者名额已满。感谢您的关注。",
    },
    "not_open_title": {"en": "This survey has not opened yet", "zh-CN": "本次调查尚未开始"},
    "not_open_body": {
        "en": "Please come back once it has opened. Thank you for your interest.",
        "zh-CN": "请在调查开始后再来作答。感谢您的关注。",
    },
    "completed_title": {
        "en": "You have already completed this survey",
        "zh-CN": "您已完成本次调查",
    },
    "completed_body": {
        "en": "Your answers were saved. Thank you for taking part.",
        "zh-CN": "您的回答已保存。感谢您的参与。",
    },
    "used_title": {"en": "This link has been used", "zh-CN": "此链接已被使用"},
    "used_body": {
        "en": "The survey was already completed with this personal link. Each link can be "
        "used once.",
        "zh-CN": "此个人链接已完成答卷。每个链接只能使用一次。",
    },
    "expired_title": {"en": "This link has expired", "zh-CN": "此链接已过期"},
    "expired_body": {
        "en": "Your invitation is no longer valid. Please contact the sender for a new link.",
        "zh-CN": "您的邀请已失效。请联系发送方获取新链接。",
    },
    "invalid_title": {"en": "This link is not valid", "zh-CN": "此链接无效"},
    "invalid_body": {
        "en": "Please check that you copied the whole link from your invitation.",
        "zh-CN": "请检查是否完整复制了邀请中的链接。",
    },
}


def text(key: str, language: str, **params: object) -> str:
    """The text ``key`` in ``language`` (English when the language has none)."""
    entry = TEXTS[key]
    template = entry.get(language) or entry.get(language.split("-")[0]) or entry["en"]
    return template.format(**params) if params else template


LANGUAGE_NAMES = {"en": "English", "zh-CN": "简体中文", "zh-TW": "繁體中文"}
