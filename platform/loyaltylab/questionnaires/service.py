"""Questionnaire services: what the designer pages call.

Every function takes a :class:`sqlmodel.Session` and the caller's organisation id; a
questionnaire of another organisation is :class:`~loyaltylab.errors.NotFound`. Services flush and
never commit. A change that would leave the draft invalid (or a refused publication or import)
raises :class:`~loyaltylab.errors.InvalidQuestionnaire` with every problem, before anything is
written, so the caller can re-render the form with the messages.

Editing a published questionnaire edits a new draft version copied from the latest published
one; published versions never change.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import PurePath
from typing import Literal

from sqlalchemy import JSON, column, table
from sqlmodel import Session, col, select

from loyaltylab import access
from loyaltylab.errors import InvalidQuestionnaire, NotFound
from loyaltylab.questionnaires.models import (
    Questionnaire,
    QuestionnaireVersion,
    VersionStatus,
    utcnow,
)
from surveys import library
from surveys.definition import (
    Item,
    MatrixItem,
    MatrixRow,
    QuestionnaireDefinition,
    Section,
    Texts,
    text_for,
    unique_code,
)
from surveys.json_format import ImportResult, export_json, import_json
from surveys.problems import Problem
from surveys.validation import validate_definition
from surveys.versions import VersionDiff, diff_definitions
from surveys.xlsform import export_xlsform, import_xlsform

Direction = Literal["up", "down"]
ExportFormat = Literal["json", "xlsx"]
XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_STUDY = table(
    "study",
    column("id"),
    column("organisation_id"),
    column("name"),
    column("company_name"),
    column("company_names", JSON),
)
TITLE_MAX_LENGTH = 200


# Lookups ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _StudyNames:
    name: str
    company: str
    """The company's name for the languages without one of their own."""
    companies: dict[str, str]
    """The company's name by language tag."""

    def company_in(self, languages: Sequence[str]) -> dict[str, str]:
        """The company's name in each of ``languages``: its own, else the default company
        name, else the study's name (``[Co.]`` never stays empty)."""
        return {
            language: self.companies.get(language) or self.company or self.name
            for language in languages
        }


def _study(session: Session, organisation_id: int, study_id: int) -> _StudyNames:
    """The names of the organisation's study, else NotFound."""
    row = session.execute(
        select(_STUDY.c.name, _STUDY.c.company_name, _STUDY.c.company_names).where(
            _STUDY.c.id == study_id, _STUDY.c.organisation_id == organisation_id
        )
    ).first()
    if row is None:
        raise NotFound("Not found.")
    return _StudyNames(row[0] or "", row[1] or "", dict(row[2] or {}))


def list_questionnaires(
    session: Session, organisation_id: int, *, study_id: int | None = None
) -> list[Questionnaire]:
    """The organisation's questionnaires (of one study when given), newest first."""
    query = select(Questionnaire).where(Questionnaire.organisation_id == organisation_id)
    if study_id is not None:
        query = query.where(Questionnaire.study_id == study_id)
    return list(session.exec(query.order_by(col(Questionnaire.id).desc())))


def list_versions(
    session: Session, organisation_id: int, questionnaire_id: int
) -> list[QuestionnaireVersion]:
    """Every version of the questionnaire, oldest first."""
    access.load_owned(session, Questionnaire, questionnaire_id, organisation_id)
    query = (
        select(QuestionnaireVersion)
        .where(QuestionnaireVersion.questionnaire_id == questionnaire_id)
        .order_by(col(QuestionnaireVersion.number))
    )
    return list(session.exec(query))


def get_version(
    session: Session, organisation_id: int, questionnaire_id: int, number: int | None = None
) -> QuestionnaireVersion:
    """Version ``number``, or the latest version when None."""
    versions = list_versions(session, organisation_id, questionnaire_id)
    if number is None and versions:
        return versions[-1]
    for version in versions:
        if version.number == number:
            return version
    raise NotFound("Not found.")


def latest_published(
    session: Session, organisation_id: int, questionnaire_id: int
) -> QuestionnaireVersion | None:
    """The version respondents answer now, or None before the first publication."""
    published = [
        v for v in list_versions(session, organisation_id, questionnaire_id) if v.is_published
    ]
    return published[-1] if published else None


def published_versions(session: Session, study_id: int) -> list[QuestionnaireVersion]:
    """Every published version of the study's questionnaires, newest first."""
    return list(
        session.exec(
            select(QuestionnaireVersion)
            .join(Questionnaire, Questionnaire.id == QuestionnaireVersion.questionnaire_id)
            .where(
                Questionnaire.study_id == study_id,
                QuestionnaireVersion.status == VersionStatus.published,
            )
            .order_by(QuestionnaireVersion.id.desc())
        ).all()
    )


def definition_of(version: QuestionnaireVersion) -> QuestionnaireDefinition:
    """The definition a version stores."""
    return QuestionnaireDefinition.model_validate(version.definition)


# Creating and saving ------------------------------------------------------------------------


def _store(definition: QuestionnaireDefinition) -> dict:
    return definition.model_dump(mode="json")


def _title_of(definition: QuestionnaireDefinition, fallback: str) -> str:
    title = text_for(definition.title, definition.languages[0], definition.languages)
    return (title or fallback)[:TITLE_MAX_LENGTH] or "Questionnaire"


def _check(definition: QuestionnaireDefinition, *, publish: bool = False) -> None:
    problems = validate_definition(definition, publish=publish)
    if problems:
        raise InvalidQuestionnaire(problems)


def _create(
    session: Session,
    organisation_id: int,
    study_id: int,
    definition: QuestionnaireDefinition,
    fallback_title: str,
) -> Questionnaire:
    _check(definition)
    questionnaire = Questionnaire(
        organisation_id=organisation_id,
        study_id=study_id,
        title=_title_of(definition, fallback_title),
    )
    session.add(questionnaire)
    session.flush()
    session.add(
        QuestionnaireVersion(
            questionnaire_id=questionnaire.id,
            number=1,
            status=VersionStatus.draft.value,
            definition=_store(definition),
        )
    )
    session.flush()
    return questionnaire


def create_questionnaire(
    session: Session,
    *,
    organisation_id: int,
    study_id: int,
    template: str | None = library.DEFAULT_TEMPLATE,
    title: str | None = None,
    languages: Sequence[str] = library.LIBRARY_LANGUAGES,
) -> Questionnaire:
    """A new questionnaire for a study, from a model template or blank (``template=None``).

    A template gives a complete, publishable questionnaire (constructs, model, bilingual
    texts, ``[Co.]`` replaced by the study's company name). ``title``, when given, replaces
    the title in every language.

    Raises
    ------
    NotFound
        When the study is not the organisation's.
    KeyError
        When ``template`` is not a template code.
    """
    study = _study(session, organisation_id, study_id)
    if template is not None:
        definition = library.create_from_template(
            template, company_name=study.company_in(languages), languages=languages
        )
    else:
        definition = QuestionnaireDefinition(
            title={languages[0]: title or study.name}, languages=list(languages)
        )
    if title:
        definition.title = dict.fromkeys(definition.languages, title.strip())
    return _create(session, organisation_id, study_id, definition, study.name)


def get_draft(
    session: Session, organisation_id: int, questionnaire_id: int
) -> QuestionnaireVersion:
    """The draft version, created from the latest version when that one is published."""
    latest = get_version(session, organisation_id, questionnaire_id)
    if not latest.is_published:
        return latest
    draft = QuestionnaireVersion(
        questionnaire_id=questionnaire_id,
        number=latest.number + 1,
        status=VersionStatus.draft.value,
        definition=copy.deepcopy(latest.definition),
    )
    session.add(draft)
    session.flush()
    return draft


def draft_definition(
    session: Session, organisation_id: int, questionnaire_id: int
) -> QuestionnaireDefinition:
    """The definition being edited (the latest version's, without creating a draft)."""
    return definition_of(get_version(session, organisation_id, questionnaire_id))


def save_definition(
    session: Session,
    organisation_id: int,
    questionnaire_id: int,
    definition: QuestionnaireDefinition,
) -> QuestionnaireVersion:
    """Validate and store ``definition`` as the draft.

    Raises
    ------
    InvalidQuestionnaire
        With every problem; nothing is saved.
    """
    questionnaire = access.load_owned(session, Questionnaire, questionnaire_id, organisation_id)
    _check(definition)
    draft = get_draft(session, organisation_id, questionnaire_id)
    draft.definition = _store(definition)
    questionnaire.title = _title_of(definition, questionnaire.title)
    questionnaire.updated_at = utcnow()
    session.add_all([draft, questionnaire])
    session.flush()
    return draft


def _edit(
    session: Session,
    organisation_id: int,
    questionnaire_id: int,
    change: Callable[[QuestionnaireDefinition], None],
) -> QuestionnaireDefinition:
    definition = draft_definition(session, organisation_id, questionnaire_id)
    change(definition)
    # Re-validate through the models so that edits made in Python are checked like JSON input.
    checked = QuestionnaireDefinition.model_validate(definition.model_dump())
    save_definition(session, organisation_id, questionnaire_id, checked)
    return checked


# Editing ------------------------------------------------------------------------------------


def texts_in(definition: QuestionnaireDefinition, language: str) -> int:
    """How many texts of the questionnaire are written in ``language``."""
    return sum(1 for texts in definition.texts() if texts.get(language, "").strip())


def save_details(
    session: Session,
    organisation_id: int,
    questionnaire_id: int,
    *,
    title: Texts,
    introduction: Texts,
    languages: Sequence[str],
) -> QuestionnaireDefinition:
    """Set the title, the introduction and the languages (the first is the default).

    Every text in a language that is no longer offered is deleted from the draft (published
    versions keep theirs); a new language starts with no texts, which the publication check
    then lists.

    Raises
    ------
    InvalidQuestionnaire
        With every problem (e.g. a text that would be left with no language); nothing is saved.
    """

    def change(definition: QuestionnaireDefinition) -> None:
        definition.title, definition.introduction = dict(title), dict(introduction)
        definition.languages = list(languages)
        for texts in definition.texts():
            for language in set(texts) - set(languages):
                del texts[language]

    return _edit(session, organisation_id, questionnaire_id, change)


def _locate(definition: QuestionnaireDefinition, code: str) -> tuple[list, int]:
    """(the list holding ``code``, its index): a section's items, a matrix's rows or sections."""
    for index, section in enumerate(definition.sections):
        if section.code == code:
            return definition.sections, index
        for item_index, item in enumerate(section.items):
            if item.code == code:
                return section.items, item_index
            if isinstance(item, MatrixItem):
                for row_index, row in enumerate(item.rows):
                    if row.code == code:
                        return item.rows, row_index
    raise NotFound("Not found.")


def _section(definition: QuestionnaireDefinition, section: int) -> Section:
    if not 0 <= section < len(definition.sections):
        raise NotFound("Not found.")
    return definition.sections[section]


def add_section(
    session: Session,
    organisation_id: int,
    questionnaire_id: int,
    *,
    title: Texts,
    code: str | None = None,
    position: int | None = None,
) -> str:
    """Add an (empty) section; returns its code."""
    new_code = ""

    def change(definition: QuestionnaireDefinition) -> None:
        nonlocal new_code
        new_code = code or unique_code(f"s{len(definition.sections) + 1}", definition.codes())
        section = Section(code=new_code, title=title)
        where = len(definition.sections) if position is None else position
        definition.sections.insert(where, section)

    _edit(session, organisation_id, questionnaire_id, change)
    return new_code


def add_item(
    session: Session,
    organisation_id: int,
    questionnaire_id: int,
    item: Item,
    *,
    section: int,
    position: int | None = None,
) -> str:
    """Add an item written from scratch to section index ``section``; returns its code."""

    def change(definition: QuestionnaireDefinition) -> None:
        items = _section(definition, section).items
        items.insert(len(items) if position is None else position, item)

    _edit(session, organisation_id, questionnaire_id, change)
    return item.code


def _renamed(item: Item, taken: set[str]) -> Item:
    """A copy of ``item`` whose code (and matrix rows' codes) do not clash with ``taken``."""
    data = item.model_dump()
    data["code"] = unique_code(item.code, taken)
    taken.add(data["code"])
    for row in data.get("rows", []):
        row["code"] = unique_code(row["code"], taken)
        taken.add(row["code"])
    return type(item).model_validate(data)


def add_from_library(
    session: Session,
    organisation_id: int,
    questionnaire_id: int,
    entry_code: str,
    *,
    section: int | None = None,
    position: int | None = None,
) -> list[str]:
    """Add a library entry (construct, item or block); returns the new item codes.

    A block (e.g. demographics) added with ``section=None`` becomes a new section. Codes that
    are already used get a suffix; the entry's construct is added when missing.

    Raises
    ------
    NotFound
        When ``entry_code`` is not in the library.
    """
    questionnaire = access.load_owned(session, Questionnaire, questionnaire_id, organisation_id)
    study = _study(session, organisation_id, questionnaire.study_id)
    added: list[str] = []

    def change(definition: QuestionnaireDefinition) -> None:
        try:
            insert = library.build_entry(
                entry_code,
                company_name=study.company_in(definition.languages),
                languages=definition.languages,
            )
        except KeyError:
            raise NotFound("Not found.") from None
        taken = definition.codes()
        items = [_renamed(item, taken) for item in insert.items]
        added.extend(item.code for item in items)
        known = {construct.code for construct in definition.constructs}
        definition.constructs.extend(c for c in insert.constructs if c.code not in known)
        if section is None:
            title = insert.title or dict(insert.items[0].label)
            new = Section(
                code=unique_code(entry_code, taken),
                title=title,
                description=insert.description or {},
                items=items,
            )
            definition.sections.insert(
                len(definition.sections) if position is None else position, new
            )
            return
        target = _section(definition, section).items
        at = len(target) if position is None else position
        target[at:at] = items

    _edit(session, organisation_id, questionnaire_id, change)
    return added


def replace_item(
    session: Session, organisation_id: int, questionnaire_id: int, code: str, item: Item
) -> None:
    """Replace the item ``code`` (its new version may have another code)."""

    def change(definition: QuestionnaireDefinition) -> None:
        items, index = _locate(definition, code)
        if items is definition.sections:
            raise NotFound("Not found.")
        items[index] = item

    _edit(session, organisation_id, questionnaire_id, change)


def duplicate_item(session: Session, organisation_id: int, questionnaire_id: int, code: str) -> str:
    """Copy an item (or section) right after itself with fresh codes; returns the new code."""
    new_code = ""

    def change(definition: QuestionnaireDefinition) -> None:
        nonlocal new_code
        items, index = _locate(definition, code)
        taken = definition.codes()
        original = items[index]
        if isinstance(original, Section):
            data = original.model_dump()
            data["code"] = unique_code(original.code, taken)
            taken.add(data["code"])
            copy_ = Section.model_validate(
                {**data, "items": [_renamed(item, taken).model_dump() for item in original.items]}
            )
        elif isinstance(original, MatrixRow):
            copy_ = original.model_copy(update={"code": unique_code(original.code, taken)})
        else:
            copy_ = _renamed(original, taken)
        new_code = copy_.code
        items.insert(index + 1, copy_)

    _edit(session, organisation_id, questionnaire_id, change)
    return new_code


def delete_item(session: Session, organisation_id: int, questionnaire_id: int, code: str) -> None:
    """Delete an item, a matrix row or a section (the page asks for confirmation first).

    Refused (InvalidQuestionnaire) when display logic still refers to it.
    """

    def change(definition: QuestionnaireDefinition) -> None:
        items, index = _locate(definition, code)
        del items[index]

    _edit(session, organisation_id, questionnaire_id, change)


def move_item(
    session: Session,
    organisation_id: int,
    questionnaire_id: int,
    code: str,
    direction: Direction,
) -> None:
    """Move an item, matrix row or section one place up or down.

    An item at the top (bottom) of its section moves to the end (start) of the previous (next)
    section. Refused when the move would make display logic refer forward.
    """

    def change(definition: QuestionnaireDefinition) -> None:
        items, index = _locate(definition, code)
        step = -1 if direction == "up" else 1
        target = index + step
        if 0 <= target < len(items):
            items[index], items[target] = items[target], items[index]
            return
        if items is definition.sections or not any(s.items is items for s in definition.sections):
            return  # already first/last section or matrix row
        section_index = next(i for i, s in enumerate(definition.sections) if s.items is items)
        neighbour = section_index + step
        if 0 <= neighbour < len(definition.sections):
            moved = items.pop(index)
            destination = definition.sections[neighbour].items
            destination.insert(len(destination) if step < 0 else 0, moved)

    _edit(session, organisation_id, questionnaire_id, change)


# Publishing and versions ----------------------------------------------------------------------


def publication_problems(
    session: Session, organisation_id: int, questionnaire_id: int
) -> list[Problem]:
    """What stands in the way of publishing the current draft (empty when nothing does)."""
    definition = draft_definition(session, organisation_id, questionnaire_id)
    return validate_definition(definition, publish=True)


def publish(
    session: Session, organisation_id: int, questionnaire_id: int, *, user_id: int | None
) -> QuestionnaireVersion:
    """Freeze the draft as the published version respondents answer from now on.

    Publishing when the latest version is already published changes nothing.

    Raises
    ------
    InvalidQuestionnaire
        With every problem, e.g. each missing translation.
    """
    version = get_version(session, organisation_id, questionnaire_id)
    if version.is_published:
        return version
    _check(definition_of(version), publish=True)
    version.status = VersionStatus.published.value
    version.published_at = utcnow()
    version.published_by = user_id
    session.add(version)
    session.flush()
    return version


def diff_versions(
    session: Session,
    organisation_id: int,
    questionnaire_id: int,
    old_number: int,
    new_number: int,
) -> VersionDiff:
    """Differences from version ``old_number`` to ``new_number``, comparability breaks flagged."""
    old = get_version(session, organisation_id, questionnaire_id, old_number)
    new = get_version(session, organisation_id, questionnaire_id, new_number)
    return diff_definitions(definition_of(old), definition_of(new))


# Import and export ----------------------------------------------------------------------------


def _read_upload(data: bytes, filename: str) -> QuestionnaireDefinition:
    suffix = PurePath(filename).suffix.lower()
    result: ImportResult
    if suffix == ".json":
        result = import_json(data)
    elif suffix == ".xlsx":
        result = import_xlsform(data)
    else:
        raise InvalidQuestionnaire([Problem("import.unknown_format", (), {"filename": filename})])
    if result.definition is None or result.problems:
        raise InvalidQuestionnaire(result.problems)
    return result.definition


def import_questionnaire(
    session: Session,
    *,
    organisation_id: int,
    study_id: int,
    data: bytes,
    filename: str,
) -> Questionnaire:
    """A new questionnaire from a native JSON (.json) or XLSForm (.xlsx) file, all or nothing.

    Raises
    ------
    InvalidQuestionnaire
        With every problem (sheet and row for XLSForm); nothing is saved.
    """
    study = _study(session, organisation_id, study_id)
    definition = _read_upload(data, filename)
    return _create(session, organisation_id, study_id, definition, study.name)


def import_into(
    session: Session, organisation_id: int, questionnaire_id: int, *, data: bytes, filename: str
) -> QuestionnaireVersion:
    """Replace the draft of an existing questionnaire with an imported file, all or nothing."""
    access.load_owned(session, Questionnaire, questionnaire_id, organisation_id)
    definition = _read_upload(data, filename)
    return save_definition(session, organisation_id, questionnaire_id, definition)


def export_questionnaire(
    session: Session,
    organisation_id: int,
    questionnaire_id: int,
    *,
    file_format: ExportFormat,
    number: int | None = None,
) -> tuple[bytes, str, str]:
    """(content, file name, media type) of a version (the latest when ``number`` is None)."""
    version = get_version(session, organisation_id, questionnaire_id, number)
    definition = definition_of(version)
    stem = f"questionnaire-{questionnaire_id}-v{version.number}"
    if file_format == "json":
        return export_json(definition).encode("utf-8"), f"{stem}.json", "application/json"
    return export_xlsform(definition), f"{stem}.xlsx", XLSX_MEDIA_TYPE
