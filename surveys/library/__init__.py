"""The scale library and the model templates.

The content lives in ``scales.json`` (constructs with their items in English and Chinese, the
NPS item, screening and attention-check items, the demographics/customer block) and
``templates.json`` (four complete questionnaires with a structural model). ``[Co.]`` stands for
the company a study is about and is replaced when an entry is used: by one name, or by the
company's name in each language (``{"en": "Fabrikam Coffee", "zh-CN": "Fabrikam咖啡"}``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from surveys.conditions import Condition
from surveys.definition import (
    Construct,
    Item,
    LikertScale,
    MatrixItem,
    MatrixRow,
    NpsItem,
    QuestionnaireDefinition,
    Section,
    Texts,
)

COMPANY_PLACEHOLDER = "[Co.]"
_PLACEHOLDER = re.compile(re.escape(COMPANY_PLACEHOLDER))
_LATIN = re.compile(r"[A-Za-z0-9]")
# The CJK unified ideographs (with extension A and the compatibility block).
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
CompanyName = str | Mapping[str, str]
"""One name for every language, or a name per language tag."""
LIBRARY_LANGUAGES = ("zh-CN", "en")
DEFAULT_TEMPLATE = "svl"
AGREE_SCALE = "agree7"


class _Data(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LibraryItem(_Data):
    code: str
    label: Texts
    reverse: bool = False


class LibraryConstruct(_Data):
    code: str
    name: Texts
    definition: Texts
    items: list[LibraryItem]


class LibraryBlock(_Data):
    code: str
    title: Texts
    description: Texts = Field(default_factory=dict)
    items: list[Item]


class _Scales(_Data):
    scales: dict[str, LikertScale]
    matrix_label: Texts
    constructs: list[LibraryConstruct]
    items: list[Item]
    blocks: list[LibraryBlock]


class TemplateSection(_Data):
    code: str
    title: Texts | None = None
    entries: list[str]
    condition: Condition | None = None


class Template(_Data):
    code: str
    default: bool = False
    name: Texts
    description: Texts
    title: Texts
    model: str
    sections: list[TemplateSection]


class _Templates(_Data):
    introduction: Texts
    templates: list[Template]


@dataclass(frozen=True)
class LibraryEntry:
    """Something the designer can add: a construct (as a matrix), a single item or a block."""

    code: str
    kind: Literal["construct", "item", "block"]
    title: Texts
    construct: str | None = None


@dataclass(frozen=True)
class LibraryInsert:
    """What adding an entry puts into a questionnaire."""

    items: list[Item]
    constructs: list[Construct]
    title: Texts | None = None
    description: Texts | None = None


@cache
def _scales() -> _Scales:
    text = resources.files(__package__).joinpath("scales.json").read_text("utf-8")
    return _Scales.model_validate_json(text)


@cache
def _templates() -> _Templates:
    text = resources.files(__package__).joinpath("templates.json").read_text("utf-8")
    return _Templates.model_validate_json(text)


def constructs() -> list[LibraryConstruct]:
    """Every library construct with its items (English and Chinese, reverse-keyed marked)."""
    return list(_scales().constructs)


def templates() -> list[Template]:
    """The model templates, the default (satisfaction -> value -> loyalty) first."""
    return sorted(_templates().templates, key=lambda template: not template.default)


def entries() -> list[LibraryEntry]:
    """Everything that can be added from the library, for the designer's picker."""
    data = _scales()
    result: list[LibraryEntry] = []
    for construct in data.constructs:
        result.append(LibraryEntry(construct.code, "construct", construct.name, construct.code))
        result.extend(
            LibraryEntry(item.code, "item", item.label, construct.code) for item in construct.items
        )
    result.extend(LibraryEntry(item.code, "item", item.label) for item in data.items)
    result.extend(LibraryEntry(block.code, "block", block.title) for block in data.blocks)
    return result


def company_in(company_name: CompanyName, language: str) -> str:
    """The company's name in ``language``: its own, else the first one given."""
    if isinstance(company_name, str):
        return company_name.strip()
    names = [name.strip() for name in company_name.values() if name.strip()]
    return (company_name.get(language) or "").strip() or (names[0] if names else "")


def localise(texts: Texts, *, company_name: CompanyName, languages: Sequence[str]) -> Texts:
    """``texts`` restricted to ``languages`` with ``[Co.]`` replaced by the company name (in
    each language, see :func:`with_company`)."""
    return {
        language: with_company(texts[language], company_in(company_name, language))
        for language in languages
        if language in texts
    }


def with_company(text: str, company: str) -> str:
    """``[Co.]`` in ``text`` replaced by ``company``, set off by a space where a Latin letter or
    digit of the name meets a Chinese character, as Chinese typesetting has it: "Contoso 顾客调查",
    "关于 Contoso 的调查", but "Fabrikam咖啡顾客调查"."""

    def spaced(match: re.Match[str]) -> str:
        before = text[match.start() - 1 : match.start()]
        after = text[match.end() : match.end() + 1]
        lead = " " if _LATIN.fullmatch(company[:1]) and _HAN.fullmatch(before) else ""
        trail = " " if _LATIN.fullmatch(company[-1:]) and _HAN.fullmatch(after) else ""
        return f"{lead}{company}{trail}"

    return _PLACEHOLDER.sub(spaced, text)


def _localise_tree(value: Any, *, company_name: CompanyName, languages: Sequence[str]) -> Any:
    """Localise every text dict (a dict keyed by library languages) inside a JSON tree."""
    if isinstance(value, dict):
        if value and set(value) <= set(LIBRARY_LANGUAGES):
            return localise(value, company_name=company_name, languages=languages)
        return {
            key: _localise_tree(child, company_name=company_name, languages=languages)
            for key, child in value.items()
        }
    if isinstance(value, list):
        return [_localise_tree(v, company_name=company_name, languages=languages) for v in value]
    return value


_ITEM_ADAPTER: TypeAdapter[Item] = TypeAdapter(Item)


def _localised_item(item: Item, *, company_name: CompanyName, languages: Sequence[str]) -> Item:
    data = _localise_tree(item.model_dump(), company_name=company_name, languages=languages)
    return _ITEM_ADAPTER.validate_python(data)


def _construct(source: LibraryConstruct, **options: Any) -> Construct:
    return Construct(
        code=source.code,
        name=localise(source.name, **options),
        definition=localise(source.definition, **options),
    )


def agree_scale(*, languages: Sequence[str], points: int = 7) -> LikertScale:
    """The library's agree scale of ``points`` points in ``languages``: every point labelled
    where the library has that length (5 and 7), else only the two ends."""
    scales = {scale.points: scale for scale in _scales().scales.values()}
    default = _scales().scales[AGREE_SCALE]
    scale = scales.get(points) or default.model_copy(
        update={"points": points, "anchors": [default.anchors[0], default.anchors[-1]]}
    )
    data = _localise_tree(scale.model_dump(), company_name="", languages=languages)
    return LikertScale.model_validate(data)


def starter_fields(item_type: str, *, languages: Sequence[str]) -> dict[str, Any]:
    """The texts an item written from scratch starts with, as item data, in ``languages``.

    Rating items and matrices get the 7-point agree scale (a matrix also the usual question
    above its statements); NPS items the library's end labels. Other types start empty.
    """
    options: dict[str, Any] = {"company_name": "", "languages": languages}
    data = _scales()
    if item_type in ("likert", "matrix"):
        fields: dict[str, Any] = {"scale": agree_scale(languages=languages).model_dump()}
        if item_type == "matrix":
            fields["label"] = localise(data.matrix_label, **options)
        return fields
    if item_type == "nps":
        nps = next(item for item in data.items if isinstance(item, NpsItem))
        return {
            "low_label": localise(nps.low_label, **options),
            "high_label": localise(nps.high_label, **options),
        }
    return {}


def build_entry(code: str, *, company_name: CompanyName, languages: Sequence[str]) -> LibraryInsert:
    """The items (and constructs) that adding library entry ``code`` inserts.

    A construct becomes a matrix of all its items on the 7-point agree scale; a construct's
    single item becomes a Likert item; a block becomes its items (with a section title).

    Raises
    ------
    KeyError
        When ``code`` is not a library entry.
    """
    if not all(company_in(company_name, language) for language in languages):
        raise ValueError("a company name is needed to fill in [Co.]")
    options: dict[str, Any] = {"company_name": company_name, "languages": languages}
    data = _scales()
    scale = agree_scale(languages=languages)
    for construct in data.constructs:
        rows = [
            MatrixRow(
                code=item.code,
                label=localise(item.label, **options),
                construct_code=construct.code,
                reverse=item.reverse,
            )
            for item in construct.items
        ]
        if construct.code == code:
            matrix = MatrixItem(
                code=construct.code.lower(),
                label=localise(data.matrix_label, **options),
                required=True,
                scale=scale,
                rows=rows,
            )
            return LibraryInsert([matrix], [_construct(construct, **options)])
        for row in rows:
            if row.code == code:
                likert = {
                    "type": "likert",
                    "code": row.code,
                    "label": row.label,
                    "required": True,
                    "construct": construct.code,
                    "reverse": row.reverse,
                    "scale": scale.model_dump(),
                }
                return LibraryInsert(
                    [_ITEM_ADAPTER.validate_python(likert)], [_construct(construct, **options)]
                )
    for item in data.items:
        if item.code == code:
            return LibraryInsert([_localised_item(item, **options)], [])
    for block in data.blocks:
        if block.code == code:
            return LibraryInsert(
                [_localised_item(item, **options) for item in block.items],
                [],
                title=localise(block.title, **options),
                description=localise(block.description, **options),
            )
    raise KeyError(code)


def _merge_constructs(target: list[Construct], new: Iterable[Construct]) -> None:
    known = {construct.code for construct in target}
    for construct in new:
        if construct.code not in known:
            target.append(construct)
            known.add(construct.code)


def create_from_template(
    template_code: str = DEFAULT_TEMPLATE,
    *,
    company_name: CompanyName,
    languages: Sequence[str] = LIBRARY_LANGUAGES,
) -> QuestionnaireDefinition:
    """A complete questionnaire (sections, constructs, model) from a model template.

    With the library languages (``zh-CN``, ``en``) the result passes the publish checks.

    Raises
    ------
    KeyError
        When ``template_code`` is not a template.
    ValueError
        When ``company_name`` is empty or no language is given.
    """
    if not languages:
        raise ValueError("at least one language is needed")
    template = next((t for t in _templates().templates if t.code == template_code), None)
    if template is None:
        raise KeyError(template_code)
    options: dict[str, Any] = {"company_name": company_name, "languages": languages}
    constructs_used: list[Construct] = []
    sections = []
    for section in template.sections:
        items: list[Item] = []
        title, description = section.title, None
        for entry in section.entries:
            insert = build_entry(entry, **options)
            items.extend(insert.items)
            _merge_constructs(constructs_used, insert.constructs)
            title = title or insert.title
            description = description or insert.description
        sections.append(
            Section(
                code=section.code,
                title=localise(title or {}, **options),
                description=description or {},
                items=items,
                condition=section.condition,
            )
        )
    return QuestionnaireDefinition(
        title=localise(template.title, **options),
        introduction=localise(_templates().introduction, **options),
        languages=list(languages),
        constructs=constructs_used,
        model=template.model,
        sections=sections,
    )
