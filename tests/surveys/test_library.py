"""The scale library's content and the model templates."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from importlib import resources

import pytest

from analysis.syntax import measurement_syntax, parse_model
from languages import half_width_punctuation
from surveys import library
from surveys.definition import MatrixItem
from surveys.validation import validate_definition

DOMAIN_CONSTRUCTS = {"SAT", "VAL", "SQ", "TRU", "CH", "SWC", "ATL", "BHL", "WOM", "ENG"}
CHINESE = re.compile(r"[\u4e00-\u9fff]")


def test_library_has_the_ten_domain_constructs_with_three_to_five_bilingual_items():
    constructs = {construct.code: construct for construct in library.constructs()}
    assert set(constructs) >= DOMAIN_CONSTRUCTS
    for construct in constructs.values():
        assert 3 <= len(construct.items) <= 5, construct.code
        assert construct.name["en"] and CHINESE.search(construct.name["zh-CN"])
        for item in construct.items:
            assert item.label["en"].strip() and not CHINESE.search(item.label["en"]), item.code
            assert CHINESE.search(item.label["zh-CN"]), item.code


def test_reverse_keyed_items_follow_the_domain_notes():
    reverse = {i.code for c in library.constructs() for i in c.items if i.reverse}
    assert reverse == {"sat5", "ch5", "atl4", "bhl4"}


def test_item_codes_are_unique_across_the_library():
    codes = [entry.code for entry in library.entries()]
    assert len(codes) == len(set(codes))


def test_library_wording_is_faithful_to_the_domain_notes():
    labels = {i.code: i.label for c in library.constructs() for i in c.items}
    assert labels["sat1"] == {
        "en": "Overall, I am satisfied with [Co.].",
        "zh-CN": "总体而言，我对[Co.]感到满意。",
    }
    assert labels["ch5"]["zh-CN"] == "[Co.]对我的投诉推诿逃避。"


def _chinese_texts(value: object) -> Iterator[str]:
    if isinstance(value, dict):
        for key, inner in value.items():
            if key == "zh-CN" and isinstance(inner, str):
                yield inner
            else:
                yield from _chinese_texts(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from _chinese_texts(inner)


@pytest.mark.parametrize("name", ["scales.json", "templates.json"])
def test_library_chinese_uses_full_width_punctuation(name):
    content = json.loads(resources.files(library).joinpath(name).read_text("utf-8"))
    texts = list(_chinese_texts(content))
    assert len(texts) > 10
    assert [text for text in texts if half_width_punctuation(text)] == []


def test_nps_item_and_demographics_block():
    nps = library.build_entry("nps", company_name="Contoso", languages=["en", "zh-CN"]).items[0]
    assert nps.type == "nps"
    assert "Contoso" in nps.label["en"] and "Contoso" in nps.label["zh-CN"]
    block = library.build_entry("demographics", company_name="Contoso", languages=["en", "zh-CN"])
    assert [item.code for item in block.items] == [
        "age_band",
        "gender",
        "region",
        "tenure",
        "frequency",
    ]
    assert block.title == {"en": "About you", "zh-CN": "关于您"}


def test_a_construct_entry_becomes_a_matrix_with_its_construct():
    insert = library.build_entry("ATL", company_name="Contoso", languages=["zh-CN"])
    (matrix,) = insert.items
    assert isinstance(matrix, MatrixItem)
    assert [row.code for row in matrix.rows] == ["atl1", "atl2", "atl3", "atl4"]
    assert [row.reverse for row in matrix.rows] == [False, False, False, True]
    assert matrix.rows[0].label == {"zh-CN": "与其他品牌相比，我更偏爱 Contoso。"}
    assert [c.code for c in insert.constructs] == ["ATL"]


def test_unknown_entry_and_empty_company_are_refused():
    with pytest.raises(KeyError):
        library.build_entry("NOPE", company_name="Contoso", languages=["en"])
    with pytest.raises(ValueError):
        library.build_entry("SAT", company_name=" ", languages=["en"])


def test_templates_are_listed_default_first():
    assert [t.code for t in library.templates()] == [
        "svl",
        "acsi",
        "dual_drive",
        "complaint_handling",
    ]


@pytest.mark.parametrize("code", [t.code for t in library.templates()])
def test_template_creates_a_publishable_bilingual_questionnaire(code):
    definition = library.create_from_template(code, company_name="Contoso & Co")
    assert validate_definition(definition, publish=True) == []
    assert definition.languages == ["zh-CN", "en"]
    items = definition.construct_items()
    spec = parse_model(definition.model)
    used = set(spec.observed_variables) | set(spec.latent_variables)
    assert used == {c.code for c in definition.constructs}
    assert all(len(items[construct]) >= 2 for construct in used)
    full = parse_model(measurement_syntax(items) + "\n" + definition.model)
    assert set(full.latent_variables) == used
    dumped = definition.model_dump_json()
    assert "[Co.]" not in dumped and "Contoso & Co" in dumped


def test_svl_template_has_the_core_model():
    definition = library.create_from_template("svl", company_name="Contoso")
    assert parse_model(definition.model).regressions == {"VAL": ("SAT",), "LOY": ("SAT", "VAL")}


def test_complaint_handling_shows_the_complaint_block_only_to_complainers():
    definition = library.create_from_template("complaint_handling", company_name="Contoso")
    (section,) = [s for s in definition.sections if any(i.code == "ch" for i in s.items)]
    assert section.condition is not None
    assert section.condition.model_dump() == {"item": "complained", "op": "eq", "value": "yes"}
    screener = definition.find_item("complained")
    assert screener is not None and screener[0] < definition.sections.index(section)


def test_template_in_one_language_only_carries_that_language():
    definition = library.create_from_template("acsi", company_name="Contoso", languages=["en"])
    assert validate_definition(definition, publish=True) == []
    assert "zh-CN" not in definition.model_dump_json()


def test_template_in_a_language_the_library_lacks_is_not_publishable():
    definition = library.create_from_template("svl", company_name="Contoso", languages=["en", "fr"])
    problems = validate_definition(definition, publish=True)
    assert problems and {p.params["language"] for p in problems} == {"fr"}


def test_unknown_template():
    with pytest.raises(KeyError):
        library.create_from_template("nope", company_name="Contoso")


def test_agree_scale_of_every_length_and_the_starters_of_new_items():
    seven = library.agree_scale(languages=["en", "zh-CN"])
    assert seven.points == 7 and len(seven.anchors) == 7
    five = library.agree_scale(languages=["zh-CN"], points=5)
    assert [anchor["zh-CN"] for anchor in five.anchors] == [
        "非常不同意", "不同意", "一般", "同意", "非常同意"
    ]  # fmt: skip
    four = library.agree_scale(languages=["en"], points=4)
    assert four.points == 4 and four.anchors == [
        {"en": "Strongly disagree"},
        {"en": "Strongly agree"},
    ]
    assert library.starter_fields("likert", languages=["en"])["scale"] == seven.model_dump() | {
        "anchors": [{"en": anchor["en"]} for anchor in seven.anchors]
    }
    matrix = library.starter_fields("matrix", languages=["zh-CN", "en"])
    assert matrix["label"]["zh-CN"] == "您在多大程度上同意以下说法？"
    nps = library.starter_fields("nps", languages=["en", "zh-CN"])
    assert nps["low_label"] == {"en": "Not at all likely", "zh-CN": "完全不可能"}
    assert library.starter_fields("short_text", languages=["en"]) == {}


@pytest.mark.parametrize(
    ("text", "company", "filled"),
    [
        ("[Co.]顾客调查", "Contoso", "Contoso 顾客调查"),
        ("感谢您参与本次关于[Co.]的调查。", "Contoso", "感谢您参与本次关于 Contoso 的调查。"),
        ("[Co.]顾客调查", "Fabrikam咖啡", "Fabrikam咖啡顾客调查"),
        ("您对[Co.]的体验", "7-Eleven", "您对 7-Eleven 的体验"),
        ("[Co.] customer survey", "Contoso", "Contoso customer survey"),
        ("(Your experience with [Co.])", "Contoso", "(Your experience with Contoso)"),
    ],
)
def test_a_latin_company_name_is_spaced_from_chinese_text(
    text: str, company: str, filled: str
) -> None:
    assert library.with_company(text, company) == filled


def test_the_company_is_named_in_each_language_s_own_words() -> None:
    names = {"en": "Fabrikam Coffee", "zh-CN": "Fabrikam咖啡"}
    definition = library.create_from_template("svl", company_name=names)
    labels = [variable.label for variable in definition.variables()]
    english = " ".join(label["en"] for label in labels)
    chinese = " ".join(label["zh-CN"] for label in labels)
    assert "Fabrikam Coffee" in english and "咖啡" not in english
    assert "Fabrikam咖啡" in chinese and "Fabrikam Coffee" not in chinese
    # A language without a name of its own is written with the first name given.
    only_english = library.build_entry("SAT", company_name={"en": "Fabrikam"}, languages=["zh-CN"])
    assert "Fabrikam" in only_english.items[0].rows[0].label["zh-CN"]
    with pytest.raises(ValueError):
        library.build_entry("SAT", company_name={"en": " "}, languages=["en"])
