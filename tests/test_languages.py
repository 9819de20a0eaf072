"""One language-tag convention and one fallback rule for every catalog (package ``languages``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from languages import KeyCatalog, bcp47, locale_of, placeholders, text_in


@pytest.mark.parametrize(
    ("tag", "locale"),
    [
        ("zh", "zh_CN"),
        ("zh-CN", "zh_CN"),
        ("zh_CN", "zh_CN"),
        ("zh-Hans-CN", "zh_CN"),
        (" ZH-cn ", "zh_CN"),
        ("en", "en"),
        ("en-GB", "en"),
        ("fr-FR", None),
        ("", None),
        (None, None),
    ],
)
def test_every_spelling_of_a_tag_resolves_to_one_catalog_locale(tag, locale) -> None:
    assert locale_of(tag) == locale


def test_bcp47_only_at_the_edges() -> None:
    assert bcp47("zh_CN") == "zh-CN"
    assert bcp47("en") == "en"


def _write_po(directory: Path, locale: str, entries: dict[str, str]) -> None:
    path = directory / locale / "LC_MESSAGES" / "demo.po"
    path.parent.mkdir(parents=True)
    body = "".join(f'msgid "{key}"\nmsgstr "{text}"\n\n' for key, text in entries.items())
    path.write_text(f'msgid ""\nmsgstr "Content-Type: text/plain; charset=utf-8\\n"\n\n{body}')


def test_the_fallback_is_the_language_then_english_then_the_key(tmp_path: Path) -> None:
    _write_po(
        tmp_path, "en", {"greeting": "Hello {name}", "only_en": "Only English", "name": "name"}
    )
    _write_po(tmp_path, "zh_CN", {"greeting": "{name},您好"})
    catalog = KeyCatalog(tmp_path, "demo")
    assert catalog.format("greeting", "zh-CN", name="Li") == "Li,您好"
    assert catalog.format("greeting", "zh", name="Li") == "Li,您好"
    assert catalog.text("only_en", "zh_CN") == "Only English"
    assert catalog.text("greeting", "fr") == "Hello {name}"
    assert catalog.text("unknown", "zh-CN") == "unknown"
    assert catalog.has("name") and not catalog.has("unknown")
    assert catalog.message_ids() == ["greeting", "name", "only_en"]


def test_placeholders_are_the_format_fields() -> None:
    assert placeholders("{n_used:,} of {n_rows:,} in {}") == {"n_used", "n_rows", ""}
    assert placeholders("no fields") == set()


def test_a_multilingual_text_is_found_by_any_spelling_of_its_language() -> None:
    texts = {"zh-CN": "满意度", "en": "Satisfaction", "fr": " "}
    assert text_in(texts, "zh") == "满意度"
    assert text_in(texts, "zh_CN") == "满意度"
    assert text_in(texts, "en-GB") == "Satisfaction"
    assert text_in({"zh-Hans": "满意度"}, "en") == ""
    assert text_in({"zh-Hans": "满意度"}, "en", fallbacks=("en", "zh_CN")) == "满意度"
    assert text_in({"fr": "Satisfaction"}, "fr") == ""
    assert text_in(None, "en") == ""
