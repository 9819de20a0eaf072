"""The invitation and reminder e-mails of a wave, in each contact's language.

A wave's e-mails start from the platform's texts in each questionnaire language (translated by
the catalog); the researcher may replace the subject and body of either kind in any language
(stored on the wave). Texts carry placeholders in braces, filled per contact:

``{name}`` the contact's name (else a neutral salutation), ``{company}`` the company in the
mail's language, ``{organisation}`` the research organisation, ``{link}`` the personal link,
``{closes}`` when the wave closes (a line with it is left out when the wave has no closing
time) and ``{opt_out}`` the opt-out link (added at the end when the text has none).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from babel.dates import format_date, format_time

import languages
from loyaltylab import i18n
from loyaltylab.i18n import N_
from loyaltylab.timeutil import local, utc_offset

KINDS = ("invitation", "reminder")
PLACEHOLDERS = ("name", "company", "organisation", "link", "closes", "opt_out")
SUBJECT_MAX_LENGTH = 200
BODY_MAX_LENGTH = 5000
_PLACEHOLDER = re.compile(r"\{([^{}\s]*)\}")

DEFAULT_TEXTS = {
    "invitation": (
        N_("Your opinion of {company}"),
        N_(
            "Dear {name},\n\n"
            "{organisation} would like to know what you think of {company}. "
            "The survey takes about ten minutes.\n\n"
            "Your personal link:\n{link}\n\n"
            "The survey closes on {closes}.\n\n"
            "Thank you,\n{organisation}"
        ),
    ),
    "reminder": (
        N_("Reminder: your opinion of {company}"),
        N_(
            "Dear {name},\n\n"
            "A few days ago {organisation} invited you to a short survey about {company}. "
            "If you have a few minutes, we would still like to hear from you.\n\n"
            "Your personal link (the one in our first e-mail works too):\n{link}\n\n"
            "The survey closes on {closes}.\n\n"
            "Thank you,\n{organisation}"
        ),
    ),
}
ANONYMOUS_NAME = N_("customer")
OPT_OUT_LINE = N_("To receive no more e-mails about this survey: {opt_out}")

# Rule ids of a text the researcher wrote -> what they read.
PROBLEMS = {
    "subject_missing": N_("Give the e-mail a subject."),
    "subject_too_long": N_("A subject can have at most %(max)s characters."),
    "body_missing": N_("Write the e-mail's text."),
    "body_too_long": N_("An e-mail's text can have at most %(max)s characters."),
    "no_link": N_("The text must contain {link}: the contact's personal link."),
    "unknown_placeholder": N_(
        "%(placeholders)s is not a placeholder. Use {name}, {company}, {organisation}, "
        "{link}, {closes} or {opt_out}."
    ),
}


@dataclass(frozen=True)
class MailText:
    subject: str
    body: str


def _catalog_locale(language: str) -> str:
    return languages.locale_of(language) or languages.DEFAULT_LOCALE


def translated(message: str, language: str) -> str:
    """``message`` (a msgid) in the questionnaire language ``language`` (a BCP-47 tag)."""
    return i18n.translations(_catalog_locale(language)).ugettext(message)


def default_text(kind: str, language: str) -> MailText:
    subject, body = DEFAULT_TEXTS[kind]
    return MailText(translated(subject, language), translated(body, language))


def wave_text(
    stored: Mapping[str, Mapping[str, Mapping[str, str]]], kind: str, language: str
) -> MailText:
    """The text a wave sends: the researcher's own (``stored``: the wave's ``mail_texts``),
    else the default in ``language``."""
    own = stored.get(kind, {}).get(language)
    if own and own.get("subject") and own.get("body"):
        return MailText(own["subject"], own["body"])
    return default_text(kind, language)


def problems(text: MailText) -> dict[str, str]:
    """The rules a text breaks, as ``{"subject" | "body": rule id}``, with the unknown
    placeholders of each under ``"<part>_placeholders"``."""
    found: dict[str, str] = {}
    for part, value, max_length in (
        ("subject", text.subject, SUBJECT_MAX_LENGTH),
        ("body", text.body, BODY_MAX_LENGTH),
    ):
        unknown = [name for name in _PLACEHOLDER.findall(value) if name not in PLACEHOLDERS]
        if not value.strip():
            found[part] = f"{part}_missing"
        elif len(value) > max_length:
            found[part] = f"{part}_too_long"
        elif unknown:
            found[part] = "unknown_placeholder"
            found[f"{part}_placeholders"] = ", ".join(f"{{{name}}}" for name in unknown)
        elif part == "body" and "{link}" not in value:
            found[part] = "no_link"
    return found


def problem_message(rule: str, placeholders: str = "") -> str:
    """A rule id of :func:`problems` in the reader's language."""
    max_length = SUBJECT_MAX_LENGTH if rule.startswith("subject") else BODY_MAX_LENGTH
    return i18n.gettext(PROBLEMS[rule], max=max_length, placeholders=placeholders)


def closing_time(closes_at: datetime, language: str, time_zone: str) -> str:
    """``October 1, 2026, 6:00 PM (UTC+08:00)`` / ``2026年10月1日 18:00 (UTC+08:00)``."""
    moment = local(closes_at, time_zone)
    locale = _catalog_locale(language)
    day = format_date(moment, "long", locale=locale)
    # Babel writes "6:00\u202fPM": a plain space reads the same in every mail program.
    hour = format_time(moment, "short", locale=locale, tzinfo=moment.tzinfo).replace("\u202f", " ")
    return f"{day} {hour} ({utc_offset(time_zone, moment)})"


@dataclass(frozen=True)
class Recipient:
    """What the placeholders of one contact's e-mail become."""

    name: str | None
    company: str
    organisation: str
    link: str
    opt_out: str
    closes: str | None
    """The wave's closing time as the contact reads it, or None (no closing time)."""


def compose(text: MailText, recipient: Recipient, language: str) -> MailText:
    """The e-mail one contact gets: placeholders filled, the opt-out line added if missing."""
    values = {
        "name": recipient.name or translated(ANONYMOUS_NAME, language),
        "company": recipient.company,
        "organisation": recipient.organisation,
        "link": recipient.link,
        "opt_out": recipient.opt_out,
        "closes": recipient.closes or "",
    }
    body = text.body
    if recipient.closes is None:
        body = "\n".join(line for line in body.split("\n") if "{closes}" not in line)
        body = re.sub(r"\n{3,}", "\n\n", body)
    if "{opt_out}" not in body:
        body = f"{body.rstrip()}\n\n{translated(OPT_OUT_LINE, language)}"

    def fill(match: re.Match[str]) -> str:
        return values.get(match.group(1), match.group(0))

    subject = " ".join(_PLACEHOLDER.sub(fill, text.subject).split())
    return MailText(subject[:SUBJECT_MAX_LENGTH], _PLACEHOLDER.sub(fill, body).strip())
