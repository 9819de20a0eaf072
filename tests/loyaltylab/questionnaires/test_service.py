"""Questionnaire services on a real database: tenancy, drafts and versions, editing, imports."""

from __future__ import annotations

import pytest
from sqlmodel import select

from loyaltylab.accounts.models import Organisation, OrganisationKind
from loyaltylab.errors import InvalidQuestionnaire, NotFound
from loyaltylab.questionnaires import service
from loyaltylab.questionnaires.models import QuestionnaireVersion
from loyaltylab.studies.models import Study
from surveys.definition import ShortTextItem
from surveys.json_format import export_json
from surveys.library import create_from_template
from surveys.xlsform import export_xlsform


@pytest.fixture
def questionnaire(session, organisation, study):
    created = service.create_questionnaire(
        session, organisation_id=organisation.id, study_id=study.id
    )
    session.commit()
    return created


def test_template_questionnaire_is_created_as_a_draft_with_the_company_name(
    session, organisation, study, questionnaire
):
    (version,) = service.list_versions(session, organisation.id, questionnaire.id)
    assert (version.number, version.status) == (1, "draft")
    definition = service.definition_of(version)
    assert definition.sections[0].items[0].rows[0].label["en"] == (
        "Overall, I am satisfied with Contoso."
    )
    assert questionnaire.title == "Contoso 顾客调查"
    assert service.publication_problems(session, organisation.id, questionnaire.id) == []


def test_blank_questionnaire(session, organisation, study):
    blank = service.create_questionnaire(
        session, organisation_id=organisation.id, study_id=study.id, template=None, title="Pilot"
    )
    definition = service.draft_definition(session, organisation.id, blank.id)
    assert definition.sections == [] and definition.title == {"zh-CN": "Pilot", "en": "Pilot"}
    with pytest.raises(InvalidQuestionnaire) as refused:
        service.publish(session, organisation.id, blank.id, user_id=None)
    assert [p.code for p in refused.value.problems] == ["sections.empty"]


def test_other_organisations_see_nothing(session, organisation, study, questionnaire):
    other = Organisation(name="Other", kind=OrganisationKind.research)
    session.add(other)
    session.commit()
    with pytest.raises(NotFound):
        service.list_versions(session, other.id, questionnaire.id)
    with pytest.raises(NotFound):
        service.publish(session, other.id, questionnaire.id, user_id=None)
    with pytest.raises(NotFound):
        service.create_questionnaire(session, organisation_id=other.id, study_id=study.id)
    assert service.list_questionnaires(session, other.id) == []
    assert [q.id for q in service.list_questionnaires(session, organisation.id)] == [
        questionnaire.id
    ]


def test_publish_freezes_and_editing_makes_a_new_draft(session, organisation, owner, questionnaire):
    published = service.publish(session, organisation.id, questionnaire.id, user_id=owner.id)
    session.commit()
    assert published.status == "published" and published.published_by == owner.id
    frozen = dict(published.definition)

    service.add_item(
        session,
        organisation.id,
        questionnaire.id,
        ShortTextItem(code="store", label={"en": "Which store?", "zh-CN": "哪家门店?"}),
        section=0,
    )
    session.commit()
    versions = service.list_versions(session, organisation.id, questionnaire.id)
    assert [(v.number, v.status) for v in versions] == [(1, "published"), (2, "draft")]
    session.refresh(versions[0])
    assert versions[0].definition == frozen
    assert service.definition_of(versions[1]).find_item("store") is not None
    # A second edit changes the same draft.
    service.move_item(session, organisation.id, questionnaire.id, "store", "up")
    assert len(service.list_versions(session, organisation.id, questionnaire.id)) == 2
    service.publish(session, organisation.id, questionnaire.id, user_id=owner.id)
    diff = service.diff_versions(session, organisation.id, questionnaire.id, 1, 2)
    assert diff.kinds("store") == {"item_added"} and diff.breaking == ()


def test_invalid_save_changes_nothing(session, organisation, questionnaire):
    definition = service.draft_definition(session, organisation.id, questionnaire.id)
    definition.sections[0].items[1].rows[0].code = "sat1"  # duplicate
    definition.model = "LOY ~ SAT + NOPE"
    with pytest.raises(InvalidQuestionnaire) as refused:
        service.save_definition(session, organisation.id, questionnaire.id, definition)
    assert {p.code for p in refused.value.problems} == {
        "code.duplicate",
        "model.unknown_construct",
    }
    session.rollback()
    stored = service.draft_definition(session, organisation.id, questionnaire.id)
    assert stored.sections[0].items[1].rows[0].code == "val1"


def test_publish_is_refused_with_every_missing_translation(session, organisation, questionnaire):
    definition = service.draft_definition(session, organisation.id, questionnaire.id)
    del definition.sections[0].items[0].rows[0].label["en"]
    del definition.title["zh-CN"]
    service.save_definition(session, organisation.id, questionnaire.id, definition)
    with pytest.raises(InvalidQuestionnaire) as refused:
        service.publish(session, organisation.id, questionnaire.id, user_id=None)
    assert sorted(p.location() for p in refused.value.problems) == [
        "section 1 / item sat / row sat1",
        "title",
    ]
    assert service.get_version(session, organisation.id, questionnaire.id).status == "draft"


def test_removing_a_language_deletes_its_texts_and_adding_one_asks_for_them(
    session, organisation, questionnaire
):
    before = service.draft_definition(session, organisation.id, questionnaire.id)
    assert service.texts_in(before, "en") == sum(1 for texts in before.texts() if texts) > 50
    service.save_details(
        session,
        organisation.id,
        questionnaire.id,
        title={"en": "Contoso loyalty 2026"},
        introduction={"en": "Five minutes."},
        languages=["en"],
    )
    english = service.draft_definition(session, organisation.id, questionnaire.id)
    assert english.languages == ["en"] and service.texts_in(english, "zh-CN") == 0
    assert "zh-CN" not in export_json(english)
    assert service.publication_problems(session, organisation.id, questionnaire.id) == []
    assert questionnaire.title == "Contoso loyalty 2026"

    service.save_details(
        session,
        organisation.id,
        questionnaire.id,
        title={"en": "Contoso loyalty 2026"},
        introduction={},
        languages=["zh-CN", "en"],
    )
    problems = service.publication_problems(session, organisation.id, questionnaire.id)
    assert {p.code for p in problems} == {"text.missing_translation"}
    # Every English text but the (now empty) introduction and the constructs' names and
    # definitions, which respondents never see.
    unseen = 1 + 2 * len(english.constructs)
    assert len(problems) == service.texts_in(english, "en") - unseen

    with pytest.raises(InvalidQuestionnaire) as refused:
        service.save_details(
            session,
            organisation.id,
            questionnaire.id,
            title={},
            introduction={},
            languages=["zh-CN", "en"],
        )
    assert [p.location() for p in refused.value.problems] == ["title"]


def test_add_from_library_duplicate_move_and_delete(session, organisation, questionnaire):
    org, qid = organisation.id, questionnaire.id
    added = service.add_from_library(session, org, qid, "SAT", section=0)
    assert added == ["sat_2"]
    definition = service.draft_definition(session, org, qid)
    rows = [row.code for row in definition.sections[0].items[-1].rows]
    assert rows == ["sat1_2", "sat2_2", "sat3_2", "sat4_2", "sat5_2"]

    assert service.add_from_library(session, org, qid, "TRU", section=0) == ["tru"]
    assert "TRU" in {c.code for c in service.draft_definition(session, org, qid).constructs}
    assert service.add_from_library(session, org, qid, "attention") == ["attention"]
    # Sections share the code namespace of items, so the new section gets a suffix.
    assert service.draft_definition(session, org, qid).sections[-1].code == "attention_2"

    copy_code = service.duplicate_item(session, org, qid, "nps")
    assert copy_code == "nps_2"
    items = [i.code for i in service.draft_definition(session, org, qid).sections[1].items]
    assert items[items.index("nps") + 1] == "nps_2"

    service.move_item(session, org, qid, "val", "up")
    service.move_item(session, org, qid, "loy", "up")  # first of section 2 -> end of section 1
    sections = service.draft_definition(session, org, qid).sections
    assert [i.code for i in sections[0].items][:2] == ["val", "sat"]
    assert sections[0].items[-1].code == "loy"
    service.delete_item(session, org, qid, "nps_2")
    assert service.draft_definition(session, org, qid).find_item("nps_2") is None
    with pytest.raises(NotFound):
        service.delete_item(session, org, qid, "nps_2")
    with pytest.raises(NotFound):
        service.add_from_library(session, org, qid, "NOPE", section=0)


def test_moves_and_deletes_that_break_logic_are_refused(session, organisation, study):
    questionnaire = service.create_questionnaire(
        session, organisation_id=organisation.id, study_id=study.id, template="complaint_handling"
    )
    org, qid = organisation.id, questionnaire.id
    with pytest.raises(InvalidQuestionnaire) as refused:
        service.delete_item(session, org, qid, "complained")
    assert [p.code for p in refused.value.problems] == ["logic.unknown_item"]
    with pytest.raises(InvalidQuestionnaire) as refused:
        service.move_item(session, org, qid, "complaint", "up")  # the section before its screener
    assert [p.code for p in refused.value.problems] == ["logic.forward"]
    assert service.draft_definition(session, org, qid).find_item("complained") is not None


def test_import_json_and_xlsform_all_or_nothing(session, organisation, study):
    definition = create_from_template("dual_drive", company_name="Contoso")
    from_json = service.import_questionnaire(
        session,
        organisation_id=organisation.id,
        study_id=study.id,
        data=export_json(definition).encode(),
        filename="wave1.json",
    )
    assert service.draft_definition(session, organisation.id, from_json.id) == definition
    from_xlsx = service.import_questionnaire(
        session,
        organisation_id=organisation.id,
        study_id=study.id,
        data=export_xlsform(definition),
        filename="Wave1.XLSX",
    )
    assert service.draft_definition(session, organisation.id, from_xlsx.id) == definition
    session.commit()
    count = len(session.exec(select(QuestionnaireVersion)).all())
    for data, filename, code in [
        (b"\x89PNG\r\n\x1a\n" + bytes(64), "photo.xlsx", "import.not_xlsx"),
        (b"{}", "form.csv", "import.unknown_format"),
        (b'{"title": {}}', "q.json", "import.schema"),
    ]:
        with pytest.raises(InvalidQuestionnaire) as refused:
            service.import_questionnaire(
                session,
                organisation_id=organisation.id,
                study_id=study.id,
                data=data,
                filename=filename,
            )
        assert refused.value.problems[0].code == code
    assert len(session.exec(select(QuestionnaireVersion)).all()) == count


def test_export_and_reimport_into_an_existing_questionnaire(session, organisation, questionnaire):
    content, filename, media_type = service.export_questionnaire(
        session, organisation.id, questionnaire.id, file_format="xlsx"
    )
    assert filename == f"questionnaire-{questionnaire.id}-v1.xlsx"
    assert media_type.endswith("spreadsheetml.sheet")
    version = service.import_into(
        session, organisation.id, questionnaire.id, data=content, filename=filename
    )
    assert version.number == 1
    content, filename, _ = service.export_questionnaire(
        session, organisation.id, questionnaire.id, file_format="json"
    )
    assert content.decode().startswith('{\n  "schema_version": 1')


def test_demo_study_gets_a_published_bilingual_questionnaire(session, organisation, owner):
    study = Study(organisation_id=organisation.id, name="Demo", company_name="Northwind Coffee")
    session.add(study)
    session.flush()
    created = service.create_questionnaire(
        session, organisation_id=organisation.id, study_id=study.id, template="svl"
    )
    version = service.publish(session, organisation.id, created.id, user_id=owner.id)
    session.commit()
    definition = service.definition_of(version)
    assert version.is_published and definition.languages == ["zh-CN", "en"]
    assert "Northwind Coffee" in definition.title["en"]
