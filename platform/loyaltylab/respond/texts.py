"""The respondent form's own words, in the questionnaire's language: the gettext domain
``respondent`` (``locale/<locale>/LC_MESSAGES/respondent.po``), keyed by stable message ids.

Respondents see the questionnaire's language, not the researcher UI's locale, so these texts are
looked up by the questionnaire's language tag (``zh-CN``) rather than the request's locale.
"""

from __future__ import annotations

from languages import KeyCatalog
from loyaltylab.i18n import LOCALE_DIR

CATALOG = KeyCatalog(LOCALE_DIR, "respondent")


def text(key: str, language: str, **params: object) -> str:
    """The text ``key`` in ``language`` (English when the language has none)."""
    return CATALOG.format(key, language, **params)


LANGUAGE_NAMES = {"en": "English", "zh-CN": "简体中文", "zh-TW": "繁體中文"}
