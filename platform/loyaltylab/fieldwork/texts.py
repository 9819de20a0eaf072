"""The words of fieldwork pages for the domain's stable codes (rejections, row problems, flags)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from loyaltylab.i18n import N_, gettext
from surveys.fieldwork.contacts_import import RowProblem
from surveys.fieldwork.service import FieldworkError

REJECTIONS = {
    "too_large": N_("The file is larger than %(max_mb)s MB."),
    "not_a_table": N_("This is not a CSV or XLSX file."),
    "unreadable": N_("The XLSX file is damaged or not really an XLSX file."),
    "too_many_rows": N_("The file has more than %(max_rows)s rows."),
    "too_many_columns": N_("The file has more than %(max_columns)s columns."),
    "no_id_column": N_("The first row must name the columns, one of them %(expected)s."),
    "empty": N_("The file has no contacts."),
    "duplicate_column": N_("The column %(column)s appears twice."),
}
ROW_PROBLEMS = {
    "missing_id": N_("Row %(row)s: the id is missing."),
    "duplicate_id": N_("Row %(row)s: the id %(value)s appears on an earlier row."),
    "bad_email": N_("Row %(row)s: %(value)s is not an e-mail address."),
    "bad_phone": N_("Row %(row)s: %(value)s is not a phone number."),
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
QUOTA_SYNTAX = N_("Write quotas as attribute=value: number, e.g. tier=gold: 200.")
TARGET_NUMBER = N_("The target sample size must be a whole number greater than zero.")
CHOOSE_VERSION = N_("Choose a published questionnaire version.")
# The wave rules of surveys.fieldwork.service (its detail, or reason) -> the form field at fault
# and what its user reads.
WAVE_ERRORS = {
    "the questionnaire version does not belong to this study": ("version_id", CHOOSE_VERSION),
    "only a published questionnaire version can be fielded": (
        "version_id",
        N_("Only a published questionnaire version can be fielded."),
    ),
    "version_frozen": (
        "version_id",
        N_("The questionnaire version can only change while the wave is a draft."),
    ),
    "a wave needs a name": ("name", N_("Give the wave a name.")),
    "a wave name is too long": ("name", N_("A wave's name can have at most 100 characters.")),
    "another wave of this study has this name": (
        "name",
        N_("Another wave of this study already has this name."),
    ),
    "a wave must close after it opens": ("closes_at", N_("A wave must close after it opens.")),
    "the target sample size must be positive": ("target", TARGET_NUMBER),
    "quotas need the contact attribute they are set on": ("quotas", QUOTA_SYNTAX),
    "every quota must be a positive number of responses": ("quotas", QUOTA_SYNTAX),
    "a quota attribute or value is too long": (
        "quotas",
        N_("A quota's attribute can have at most 64 characters and its value at most 100."),
    ),
    "the quota attribute cannot change once the wave has responses": (
        "quotas",
        N_(
            "The wave already has responses counted by its quota attribute: the quotas can "
            "change, but stay on that attribute."
        ),
    ),
}


def rejection(reason: str, **params: Any) -> str:
    return gettext(REJECTIONS.get(reason, REJECTIONS["not_a_table"]), **params)


def row_problem(problem: RowProblem) -> str:
    return gettext(
        ROW_PROBLEMS[problem.code], row=problem.row, column=problem.column, value=problem.value
    )


def flag_label(flag: str) -> str:
    return gettext(FLAG_LABELS[flag])


def wave_error(error: FieldworkError) -> dict[str, str]:
    """A broken wave rule as ``{field: message}`` for the wave form (``form``: no one field)."""
    field, message = WAVE_ERRORS.get(
        str(error), WAVE_ERRORS.get(error.reason, ("form", N_("The wave could not be saved.")))
    )
    return {field: gettext(message)}


def fieldwork_error(detail: str) -> str:
    """A fieldwork rule's message: by reason code, or by the service's own (English) detail."""
    return gettext(FIELDWORK_ERRORS.get(detail, N_("The wave could not be saved.")))


def invitation_mail(
    *, company: str, link: str, closes_at: datetime | None, reminder: bool
) -> tuple[str, str]:
    """Subject and body of an invitation or reminder in the current language."""
    if reminder:
        subject = gettext("Reminder: your opinion of %(company)s", company=company)
        opening = gettext(
            "A few days ago we invited you to a short survey about %(company)s. "
            "If you have a few minutes, we would still like to hear from you.",
            company=company,
        )
    else:
        subject = gettext("Your opinion of %(company)s", company=company)
        opening = gettext(
            "We would like to know what you think of %(company)s. "
            "The survey takes about ten minutes.",
            company=company,
        )
    lines = [opening, "", gettext("Your personal link (use it once):"), link]
    if closes_at is not None:
        lines += [
            "",
            gettext("The survey closes on %(date)s.", date=closes_at.strftime("%Y-%m-%d")),
        ]
    return subject, "\n".join(lines)
