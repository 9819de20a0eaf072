"""The words of fieldwork pages for the domain's stable codes (row problems, flags, wave rules);
a refused contact file carries its own (``contacts_import.REJECTIONS``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from loyaltylab.fieldwork.contacts_import import RowProblem
from loyaltylab.i18n import N_, gettext

# The encodings a contact list can be read in (analysis.files.ENCODINGS), named for the user.
ENCODING_LABELS = {
    "utf-8": N_("UTF-8 (Unicode)"),
    "gb18030": N_("Simplified Chinese (GB18030, GBK)"),
    "cp1252": N_("Western European (Windows-1252, Latin-1)"),
    "big5": N_("Traditional Chinese (Big5)"),
}
ROW_PROBLEMS = {
    "missing_id": N_("Row %(row)s: the id is missing."),
    "duplicate_id": N_("Row %(row)s: the id %(value)s appears on an earlier row."),
    "bad_email": N_("Row %(row)s: %(value)s is not an e-mail address."),
    "bad_phone": N_("Row %(row)s: %(value)s is not a phone number."),
    "bad_language": N_("Row %(row)s: %(value)s is not a language (write en, zh-CN or Chinese)."),
    "bad_channel": N_("Row %(row)s: %(value)s is not a channel (write email or sms)."),
    "sms_without_phone": N_("Row %(row)s: the contact prefers SMS but has no phone number."),
    "too_long": N_("Row %(row)s: the value in column %(column)s is too long."),
}
FLAG_LABELS = {
    "speeding": N_("Speeding"),
    "straightlining": N_("Straight-lining"),
    "attention": N_("Failed attention check"),
    "long_string": N_("Long string"),
}
FIELDWORK_ERRORS = {
    "closed": N_("The wave is not open."),
    "full": N_("The quota of this contact's group is full."),
    "used": N_("This contact has already answered."),
}
QUOTA_SYNTAX = N_("Write quotas as value: number, one per line, e.g. gold: 200.")
TARGET_NUMBER = N_("The target sample size must be a whole number greater than zero.")
CHOOSE_VERSION = N_("Choose a published questionnaire version.")
DATE_FORMAT = N_("Enter a date and time such as 2026-07-01 09:00.")
# The wave rules of loyaltylab.fieldwork.service (their ids) -> what the form's user reads.
WAVE_RULES = {
    "the questionnaire version does not belong to this study": CHOOSE_VERSION,
    "only a published questionnaire version can be fielded": N_(
        "Only a published questionnaire version can be fielded."
    ),
    "version_frozen": N_("The questionnaire version can only change while the wave is a draft."),
    "a wave needs a name": N_("Give the wave a name."),
    "a wave name is too long": N_("A wave's name can have at most 100 characters."),
    "another wave of this study has this name": N_(
        "Another wave of this study already has this name."
    ),
    "a wave must close after it opens": N_("A wave must close after it opens."),
    "the target sample size must be positive": TARGET_NUMBER,
    "quotas need the contact attribute they are set on": N_(
        "Name the contact attribute or question the quotas count by."
    ),
    "every quota must be a positive number of responses": QUOTA_SYNTAX,
    "a quota attribute or value is too long": N_(
        "A quota's attribute can have at most 64 characters and its value at most 100."
    ),
    "the quota attribute cannot change once the wave has responses": N_(
        "The wave already has responses counted by its quotas: the quotas can change, but "
        "stay on the same attribute or question."
    ),
    "no contact has the quota attribute": N_(
        "No contact of this study has the attribute %(attribute)s. Upload contacts with that "
        "column first, or count the quotas by a question's answers."
    ),
    "the quota question is not a single-answer question of the questionnaire": N_(
        "The questionnaire has no question %(attribute)s with one answer from a list (a "
        "single choice, dropdown, rating or NPS question)."
    ),
    "a quota value is not an answer of the quota question": N_(
        "Each quota value must be an answer of the question %(attribute)s: %(answers)s."
    ),
}


def row_problem(problem: RowProblem) -> str:
    return gettext(
        ROW_PROBLEMS[problem.code], row=problem.row, column=problem.column, value=problem.value
    )


def flag_label(flag: str) -> str:
    return gettext(FLAG_LABELS[flag])


def wave_errors(problems: Mapping[str, str], **params: Any) -> dict[str, str]:
    """Broken wave rules (field -> rule id) as ``{field: message}`` for the wave form."""
    return {
        field: gettext(WAVE_RULES.get(rule, N_("The wave could not be saved.")), **params)
        for field, rule in problems.items()
    }


def fieldwork_error(detail: str) -> str:
    """A fieldwork rule's message: by reason code, or by the service's own (English) detail."""
    return gettext(FIELDWORK_ERRORS.get(detail, N_("The wave could not be saved.")))
