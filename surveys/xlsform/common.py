"""What XLSForm import and export share: the language columns and the constructs sheet."""

from __future__ import annotations

import re

from babel import Locale, UnknownLocaleError

CONSTRUCTS_SHEET = "loyaltylab_constructs"
_LANGUAGE_COLUMN = re.compile(r"^(?P<name>.*?)\s*\((?P<tag>[A-Za-z]{2,3}(?:-[A-Za-z0-9]+)*)\)\s*$")
_LANGUAGE_NAMES = {"english": "en", "chinese": "zh-CN", "中文": "zh-CN", "简体中文": "zh-CN"}
_XLSFORM_TAGS = {"zh": "zh-CN"}  # XLSForm's conventional tag -> LoyaltyLab's


def language_from_column(suffix: str) -> str | None:
    """``English (en)`` -> ``en``, ``Chinese (zh)`` -> ``zh-CN``; None if not recognisable."""
    match = _LANGUAGE_COLUMN.match(suffix)
    if match:
        tag = match.group("tag")
        return _XLSFORM_TAGS.get(tag, tag)
    return _LANGUAGE_NAMES.get(suffix.strip().lower())


def language_column(tag: str) -> str:
    """``zh-CN`` -> ``Chinese (zh)``, ``en`` -> ``English (en)``."""
    xlsform_tag = next((key for key, value in _XLSFORM_TAGS.items() if value == tag), tag)
    try:
        name = Locale.parse(xlsform_tag.replace("-", "_")).english_name or xlsform_tag
    except (ValueError, UnknownLocaleError):
        name = xlsform_tag
    return f"{name} ({xlsform_tag})"
