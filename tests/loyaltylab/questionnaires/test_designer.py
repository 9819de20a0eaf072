"""The questionnaire designer's pages, through the real app and database."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from loyaltylab.accounts.models import Membership, Organisation, OrganisationKind, Role
from loyaltylab.demo import STUDY_NAME, seed_demo
from loyaltylab.fieldwork import service as fieldwork
from loyaltylab.questionnaires import service
from loyaltylab.studies.models import Study
from surveys.conditions import Comparison
from surveys.definition import QuestionnaireDefinition

ZH = {"Accept-Language": "zh-CN"}


@pytest.fixture
def editor(client: TestClient, organisation, make_member, login) -> TestClient:
    make_member(organisation, email="designer@northwind.example", role=Role.researcher)
    login(client, "designer@northwind.example")
    return client


@pytest.fixture
def token(editor: TestClient, csrf) -> str:
    return csrf(editor, "/studies")


@pytest.fixture
def questionnaire(session: Session, organisation, study):
    created = service.create_questionnaire(
        session, organisation_id=organisation.id, study_id=study.id
    )
    session.commit()
    return created


def draft(session: Session, organisation, questionnaire) -> QuestionnaireDefinition:
    session.rollback()  # end the read transaction: see what the app committed
    return service.draft_definition(session, organisation.id, questionnaire.id)


def codes(definition: QuestionnaireDefinition) -> list[str]:
    return [item.code for _s, _i, item in definition.items()]


def likert(code: str, token: str, **fields: str) -> dict[str, str]:
    return {
        "csrf_token": token,
        "type": "likert",
        "section": "0",
        "code": code,
        "label-en": "The staff at Contoso are friendly.",
        "label-zh-CN": "Contoso 的员工很友好。",
        "required": "1",
        "points": "7",
        "anchors-en": "Strongly disagree\nStrongly agree",
        "anchors-zh-CN": "非常不同意\n非常同意",
        "construct": "VAL",
        **fields,
    }


def post(client: TestClient, url: str, data: dict, **options):
    return client.post(url, data=data, follow_redirects=False, **options)


def test_start_from_a_template_gives_a_complete_publishable_questionnaire(
    editor, token, session, organisation, study
):
    page = editor.get(f"/studies/{study.id}")
    assert f"/studies/{study.id}/questionnaires" in page.text
    assert (
        "Satisfaction → value → loyalty"
        in editor.get(f"/studies/{study.id}/questionnaires/new").text
    )

    refused = post(editor, f"/studies/{study.id}/questionnaires", {"csrf_token": token})
    assert refused.status_code == 400 and "Choose a template" in refused.text

    response = post(
        editor, f"/studies/{study.id}/questionnaires", {"csrf_token": token, "start": "svl"}
    )
    assert response.status_code == 303
    (created,) = service.list_questionnaires(session, organisation.id, study_id=study.id)
    assert response.headers["location"] == f"/questionnaires/{created.id}"
    definition = draft(session, organisation, created)
    assert {c.code for c in definition.constructs} == {"SAT", "VAL", "LOY"}
    assert "VAL ~ a*SAT" in definition.model and "ind := a*b" in definition.model
    assert "[Co.]" not in json.dumps(definition.model_dump(), ensure_ascii=False)
    designer = editor.get(response.headers["location"])
    assert "Overall, I am satisfied with Contoso." in designer.text  # texts in the UI language
    assert (
        "总体而言，我对 Contoso 感到满意"
        in editor.get(response.headers["location"], headers=ZH).text
    )
    assert "ready to publish" in designer.text
    assert "Contoso" in designer.text
    listing = editor.get(f"/studies/{study.id}/questionnaires")
    assert f"/questionnaires/{created.id}" in listing.text


def details_form(token: str, **fields) -> dict:
    return {
        "csrf_token": token,
        "title-zh-CN": "Contoso 顾客忠诚度调查 2026",
        "title-en": "Contoso loyalty survey 2026",
        "introduction-zh-CN": "本调查约需 5 分钟。",
        "introduction-en": "This survey takes about 5 minutes.",
        "languages": ["zh-CN", "en"],
        "default_language": "en",
        **fields,
    }


def test_title_introduction_and_languages_are_edited_in_the_designer(
    editor, token, session, organisation, questionnaire
):
    base = f"/questionnaires/{questionnaire.id}"
    assert f'href="{base}/details"' in editor.get(base).text
    page = editor.get(f"{base}/details")
    assert 'name="title-zh-CN"' in page.text and 'name="introduction-en"' in page.text
    assert 'value="en" checked' in page.text and 'value="zh-CN" checked' in page.text

    saved = post(editor, f"{base}/details", details_form(token))
    assert saved.status_code == 303 and saved.headers["location"] == base
    definition = draft(session, organisation, questionnaire)
    assert definition.languages == ["en", "zh-CN"]  # English is now the default
    assert definition.title["zh-CN"] == "Contoso 顾客忠诚度调查 2026"
    assert definition.introduction["en"] == "This survey takes about 5 minutes."
    assert "<h1>Contoso loyalty survey 2026</h1>" in editor.get(base).text
    chinese = editor.get(base, headers=ZH).text
    assert "<h1>Contoso 顾客忠诚度调查 2026</h1>" in chinese and "本调查约需 5 分钟。" in chinese

    # Removing a language deletes its texts, so it must be confirmed.
    english_only = details_form(token, languages="en")
    refused = post(editor, f"{base}/details", english_only)
    assert refused.status_code == 400 and "tick the box to confirm" in refused.text
    assert 'name="remove_texts"' in refused.text and 'name="title-en"' in refused.text
    assert draft(session, organisation, questionnaire).languages == ["en", "zh-CN"]
    removed = post(editor, f"{base}/details", {**english_only, "remove_texts": "1"})
    assert removed.status_code == 303
    definition = draft(session, organisation, questionnaire)
    assert definition.languages == ["en"]
    assert "'zh-CN':" not in str(definition.model_dump())

    # A new language comes back to this page for its title; the rest is listed to translate.
    added = post(editor, f"{base}/details", details_form(token, **{"title-en": "Loyalty 2026"}))
    assert added.status_code == 303 and added.headers["location"] == f"{base}/details"
    assert "简体中文 added" in editor.get(f"{base}/details").text
    assert "has no zh-CN translation" in editor.get(base).text
    assert draft(session, organisation, questionnaire).title == {"en": "Loyalty 2026"}

    for fields, message in (
        ({"languages": []}, "请至少保留一种语言。"),
        ({"languages": "zh-CN", "default_language": "en"}, "请从已勾选的语言中选择。"),
        ({"title-en": "", "title-zh-CN": ""}, "标题为空"),
    ):
        bad = post(editor, f"{base}/details", details_form(token, **fields), headers=ZH)
        assert bad.status_code == 400 and message in bad.text
    assert draft(session, organisation, questionnaire).title == {"en": "Loyalty 2026"}


def test_add_a_custom_item_edit_and_duplicate_it(
    editor, token, session, organisation, questionnaire
):
    base = f"/questionnaires/{questionnaire.id}"
    form = editor.get(f"{base}/items/new?section=0&type=likert")
    assert form.status_code == 200 and 'name="label-zh-CN"' in form.text

    added = post(editor, f"{base}/items", likert("staff", token))
    assert added.status_code == 303 and added.headers["location"].endswith("#part-staff")
    item = draft(session, organisation, questionnaire).find_item("staff")[2]
    assert item.construct_code == "VAL" and item.scale.points == 7
    assert item.label["zh-CN"] == "Contoso 的员工很友好。"

    edited = post(
        editor,
        f"{base}/items/staff",
        likert("staff", token, **{"label-en": "Staff are helpful.", "reverse": "1"}),
    )
    assert edited.status_code == 303
    item = draft(session, organisation, questionnaire).find_item("staff")[2]
    assert item.label["en"] == "Staff are helpful." and item.reverse

    duplicated = post(editor, f"{base}/items/staff/duplicate", {"csrf_token": token})
    assert duplicated.status_code == 303
    order = codes(draft(session, organisation, questionnaire))
    assert order[order.index("staff") + 1] == "staff_2"


def test_new_rating_items_start_on_the_agree_scale_in_every_language(
    editor, token, session, organisation, questionnaire
):
    base = f"/questionnaires/{questionnaire.id}"
    likert_form = editor.get(f"{base}/items/new?section=0&type=likert").text
    agree_en = "Strongly disagree\nDisagree\nSomewhat disagree\nNeither agree nor disagree"
    assert agree_en in likert_form and "非常不同意\n不同意\n有点不同意\n一般" in likert_form
    assert '<option value="7" selected>' in likert_form
    matrix_form = editor.get(f"{base}/items/new?section=0&type=matrix").text
    assert "非常同意</textarea>" in matrix_form and "Strongly agree</textarea>" in matrix_form
    assert "您在多大程度上同意以下说法？" in matrix_form
    nps_form = editor.get(f"{base}/items/new?section=0&type=nps").text
    assert 'value="完全不可能"' in nps_form and 'value="Extremely likely"' in nps_form

    # The labels as offered are saved as they are: seven labelled points in both languages.
    fields = {k: v for k, v in likert("staff", token).items() if not k.startswith("anchors")}
    fields["anchors-en"] = agree_en + "\nSomewhat agree\nAgree\nStrongly agree"
    fields["anchors-zh-CN"] = "非常不同意\n不同意\n有点不同意\n一般\n有点同意\n同意\n非常同意"
    assert post(editor, f"{base}/items", fields).status_code == 303
    scale = draft(session, organisation, questionnaire).find_item("staff")[2].scale
    assert [anchor["zh-CN"] for anchor in scale.anchors][3] == "一般"
    assert scale.anchor_for(7) == {"en": "Strongly agree", "zh-CN": "非常同意"}


def test_bad_item_input_is_explained_in_the_users_language_and_saves_nothing(
    editor, token, session, organisation, questionnaire
):
    base = f"/questionnaires/{questionnaire.id}"
    before = draft(session, organisation, questionnaire)
    english = post(editor, f"{base}/items", likert("9lives", token))
    assert english.status_code == 400
    assert "The code &#39;9lives&#39; is not a valid variable name" in english.text
    chinese = post(editor, f"{base}/items", likert("sat", token, points="x"), headers=ZH)
    assert chinese.status_code == 400 and "请输入整数。" in chinese.text
    duplicate = post(editor, f"{base}/items", likert("val", token), headers=ZH)
    assert duplicate.status_code == 400 and "编码“val”重复使用" in duplicate.text
    # The form keeps what was typed.
    assert "Contoso 的员工很友好。" in duplicate.text
    assert draft(session, organisation, questionnaire) == before


def test_delete_asks_for_confirmation_and_is_refused_while_logic_uses_the_item(
    editor, token, session, organisation, questionnaire
):
    base = f"/questionnaires/{questionnaire.id}"
    confirm = editor.get(f"{base}/items/improve/delete")
    assert confirm.status_code == 200 and "Delete question improve?" in confirm.text
    assert 'action="' + base + '/items/improve/delete"' in confirm.text
    assert "improve" in codes(draft(session, organisation, questionnaire))

    condition = clauses(token, ("nps", "le", "6"))
    assert post(editor, f"{base}/items/improve/condition", condition).status_code == 303
    refused = post(editor, f"{base}/items/nps/delete", {"csrf_token": token})
    assert refused.status_code == 400 and "nps" in codes(
        draft(session, organisation, questionnaire)
    )
    assert "refers to &#39;nps&#39;" in refused.text

    deleted = post(editor, f"{base}/items/improve/delete", {"csrf_token": token})
    assert deleted.status_code == 303
    assert "improve" not in codes(draft(session, organisation, questionnaire))


def test_each_section_and_item_has_edit_and_one_actions_menu(
    editor, token, session, organisation, questionnaire
):
    base = f"/questionnaires/{questionnaire.id}"
    definition = draft(session, organisation, questionnaire)
    parts = len(definition.sections) + len(codes(definition))
    page = editor.get(base).text
    assert page.count('<details class="part-menu" data-part-menu>') == parts
    assert page.count('<div class="part-actions">') == parts
    # Per part: one Edit link outside the menu; the rest is inside it, named after the part.
    menu = page[page.index('id="part-nps"') :]
    menu = menu[menu.index("<details") : menu.index("</details>")]
    for action in (
        f'href="{base}/items/nps/condition"',
        f'action="{base}/items/nps/duplicate"',
        'value="up" class="menu-item"',
        'value="down" class="menu-item"',
        f'href="{base}/items/nps/delete"',
    ):
        assert action in menu
    assert "actions for nps" in menu and "Move up<span" in menu
    # Two buttons per part (Edit and the menu's), and "Write" and "Add from the library" per
    # section's foot; no more six buttons per item.
    assert page.count('class="button small"') == 2 * parts + 2 * len(definition.sections)


def test_move_up_and_down_and_several_steps(editor, token, session, organisation, questionnaire):
    base = f"/questionnaires/{questionnaire.id}"
    assert codes(draft(session, organisation, questionnaire))[:4] == ["sat", "val", "loy", "nps"]
    post(editor, f"{base}/items/val/move", {"csrf_token": token, "direction": "up"})
    assert codes(draft(session, organisation, questionnaire))[:2] == ["val", "sat"]
    post(editor, f"{base}/items/val/move", {"csrf_token": token, "direction": "down"})
    assert codes(draft(session, organisation, questionnaire))[:2] == ["sat", "val"]
    # A drag of nps to the end of the first section: above loy, then across the boundary.
    post(editor, f"{base}/items/nps/move", {"csrf_token": token, "direction": "up", "steps": "2"})
    definition = draft(session, organisation, questionnaire)
    assert [item.code for item in definition.sections[0].items] == ["sat", "val", "nps"]


def clauses(token: str, *rows: tuple, action: str = "save") -> dict:
    """The condition builder's form: rows of (question, comparison, answer(s)[, "and"/"or"])."""
    data: dict = {"csrf_token": token, "action": action}
    for number, (item, op, value, *join) in enumerate(rows):
        data[f"clause-{number}-item"] = item
        data[f"clause-{number}-op"] = op
        data[f"clause-{number}-value"] = value
        if join:
            data[f"clause-{number}-join"] = join[0]
    return data


def test_condition_builder_makes_and_or_conditions_from_the_questions_answers(
    editor, token, session, organisation, questionnaire
):
    base = f"/questionnaires/{questionnaire.id}"
    url = f"{base}/items/gender/condition"
    page = editor.get(url).text
    # Only earlier questions, each with its own answers ready for designer.js.
    assert '<option value="age_band">' in page and '<option value="gender">' not in page
    assert '<option value="sat1">' in page and '<option value="sat">' not in page
    assert 'data-clause-template="nps"' in page and 'name="clause-__i__-value"' in page
    assert 'name="clause-0-item"' in page and 'name="clause-1-item"' not in page

    # Without JavaScript: add a row, choose its question, show its answers; nothing is saved.
    added = post(editor, url, clauses(token, ("nps", "le", ""), action="add"))
    assert added.status_code == 200 and 'name="clause-1-join"' in added.text
    assert 'id="f-clause-1-item" name="clause-1-item" data-clause-question autofocus' in added.text
    shown = post(editor, url, clauses(token, ("age_band", "eq", []), action="refresh"))
    assert 'name="clause-0-value" value="18-24"' in shown.text  # the options, as checkboxes
    assert "Under 18 <code" in shown.text
    assert draft(session, organisation, questionnaire).find_item("gender")[2].condition is None

    # (nps <= 6) OR (sat1 <= 3 AND age_band is 18-24 or 25-34): AND binds first.
    rows = (
        ("nps", "le", "6"),
        ("sat1", "le", "3", "or"),
        ("age_band", "eq", ["18-24", "25-34"], "and"),
    )
    assert post(editor, url, clauses(token, *rows)).status_code == 303
    condition = draft(session, organisation, questionnaire).find_item("gender")[2].condition
    assert condition.model_dump() == {
        "any": [
            {"item": "nps", "op": "le", "value": 6},
            {
                "all": [
                    {"item": "sat1", "op": "le", "value": 3},
                    {"item": "age_band", "op": "in", "value": ["18-24", "25-34"]},
                ]
            },
        ]
    }
    designer = editor.get(base).text
    assert "<code>nps</code> is at most <strong>6</strong>" in designer
    # The saved condition comes back as the same rows.
    again = editor.get(url).text
    assert '<option value="or" selected>' in again and '<option value="6" selected>' in again
    assert 'value="25-34" checked' in again and 'value="35-44" checked' not in again

    # "is not" with several answers is "none of them"; "is not answered" needs no answer.
    negated = (("age_band", "ne", ["18-24", "65plus"]), ("nps", "unanswered", "", "and"))
    assert post(editor, url, clauses(token, *negated)).status_code == 303
    assert "is none of <strong>18-24, 65plus</strong>" in editor.get(base).text
    again = editor.get(url).text
    assert '<option value="unanswered" selected>' in again and 'value="65plus" checked' in again

    # Every missing piece is named, in the reader's language; nothing is saved.
    before = draft(session, organisation, questionnaire)
    incomplete = (("", "eq", ""), ("nps", "ge", "", "and"), ("gender", "answered", "", "or"))
    refused = post(editor, url, clauses(token, *incomplete), headers=ZH)
    assert refused.status_code == 400
    assert 'href="#f-clause-0-item"' in refused.text and 'href="#f-clause-1-value"' in refused.text
    assert 'href="#f-clause-2-item"' in refused.text
    assert "请选择一道在此之前的题目。" in refused.text
    out_of_range = post(editor, url, clauses(token, ("sat1", "eq", "99")), headers=ZH)
    assert out_of_range.status_code == 400 and "值 99 与“sat1”不符" in out_of_range.text
    assert draft(session, organisation, questionnaire) == before

    removed = post(editor, url, {"csrf_token": token, "action": "remove"})
    assert removed.status_code == 303
    assert draft(session, organisation, questionnaire).find_item("gender")[2].condition is None


def test_a_matrix_row_gets_its_own_condition_kept_when_the_matrix_is_edited(
    editor, token, session, organisation, questionnaire
):
    base = f"/questionnaires/{questionnaire.id}"
    page = editor.get(f"{base}/items/loy4/condition").text
    # Questions before the matrix, not its own rows.
    assert '<option value="val3">' in page and '<option value="loy1">' not in page
    saved = post(editor, f"{base}/items/loy4/condition", clauses(token, ("val1", "ge", "4")))
    assert saved.status_code == 303 and saved.headers["location"].endswith("#part-loy4")
    designer = editor.get(base).text
    assert f'href="{base}/items/loy4/condition"' in designer
    assert "<code>val1</code> is at least <strong>4</strong>" in designer

    # Editing the matrix (and renaming the row) keeps the row's condition.
    matrix = draft(session, organisation, questionnaire).find_item("loy")[2]
    form = editor.get(f"{base}/items/loy").text
    assert 'name="row_original" value="loy4"' in form and "is at least" in form
    fields = {
        "csrf_token": token,
        "code": "loy",
        "label-en": matrix.label["en"],
        "label-zh-CN": matrix.label["zh-CN"],
        "required": "1",
        "points": "7",
        "anchors-en": "\n".join(a["en"] for a in matrix.scale.anchors),
        "anchors-zh-CN": "\n".join(a["zh-CN"] for a in matrix.scale.anchors),
        "row_original": [row.code for row in matrix.rows],
        "row_code": [row.code for row in matrix.rows[:3]] + ["loy4b"],
        "row_label-en": [row.label["en"] for row in matrix.rows],
        "row_label-zh-CN": [row.label["zh-CN"] for row in matrix.rows],
        "row_construct": ["LOY"] * 4,
    }
    edited = post(editor, f"{base}/items/loy", fields)
    assert edited.status_code == 303, edited.text[edited.text.find("problem") :][:2000]
    rows = draft(session, organisation, questionnaire).find_item("loy")[2].rows
    assert [row.code for row in rows] == ["loy1", "loy2", "loy3", "loy4b"]
    assert rows[3].condition == Comparison(item="val1", op="ge", value=4)
    assert rows[0].condition is None


def test_built_conditions_decide_what_respondents_are_asked(
    app, editor, token, session, organisation, study, questionnaire, respondent
):
    base = f"/questionnaires/{questionnaire.id}"
    # gender: (nps <= 6) OR (sat1 <= 3 AND loy1 >= 5); the statement loy4: val1 >= 4.
    gender = (("nps", "le", "6"), ("sat1", "le", "3", "or"), ("loy1", "ge", "5", "and"))
    assert (
        post(editor, f"{base}/items/gender/condition", clauses(token, *gender)).status_code == 303
    )
    loy4 = clauses(token, ("val1", "ge", "4"))
    assert post(editor, f"{base}/items/loy4/condition", loy4).status_code == 303
    assert post(editor, f"{base}/publish", {"csrf_token": token}).status_code == 303
    session.rollback()
    version = service.latest_published(session, organisation.id, questionnaire.id)
    wave = fieldwork.create_wave(
        session,
        fieldwork.WaveSettings(name="2026-Q4"),
        study_id=study.id,
        organisation_id=organisation.id,
        version_id=version.id,
    )
    fieldwork.open_wave(session, wave)
    session.commit()

    def answer(sat1: str, val1: str) -> tuple[str, str]:
        """Fill in pages 0-2 as one respondent; the loyalty page and the last page as shown."""
        person = respondent(
            TestClient(app, base_url="https://testserver"), f"/s/{wave.public_slug}"
        )
        person.consent()
        first = {f"sat{n}": "5" for n in range(1, 6)} | {"val1": val1, "val2": "5", "val3": "5"}
        assert person.answer(0, {**first, "sat1": sat1}).status_code == 303
        loyalty_page = person.get("/page/1").text
        loyalty = {"loy1": "6", "loy2": "6", "loy3": "6", "attention": "6", "nps": "9"}
        if 'name="loy4"' in loyalty_page:
            refused = person.answer(1, loyalty)  # a shown statement of a required matrix
            assert refused.status_code == 400 and 'href="#f-loy4"' in refused.text
            loyalty["loy4"] = "5"
        assert person.answer(1, loyalty).status_code == 303
        assert person.answer(2, {}).status_code == 303
        return loyalty_page, person.get("/page/3").text

    loyalty_page, last_page = answer(sat1="5", val1="2")
    assert 'name="loy3"' in loyalty_page and 'name="loy4"' not in loyalty_page
    assert 'name="age_band"' in last_page and 'name="gender"' not in last_page
    loyalty_page, last_page = answer(sat1="2", val1="5")
    assert 'name="loy4"' in loyalty_page and 'name="gender"' in last_page


def test_conditions_the_builder_cannot_show_are_kept_as_json(
    editor, token, session, organisation, questionnaire
):
    base = f"/questionnaires/{questionnaire.id}"
    either = [{"item": "sat1", "op": "le", "value": 3}, {"item": "nps", "op": "answered"}]
    nested = json.dumps({"not": {"any": either}})
    saved = post(
        editor,
        f"{base}/items/comments/condition",
        {"csrf_token": token, "action": "save", "condition_json": nested},
    )
    assert saved.status_code == 303
    assert draft(session, organisation, questionnaire).sections[2].condition is not None
    page = editor.get(f"{base}/items/comments/condition").text
    assert "in a form the builder cannot show" in page and "&#34;not&#34;" in page
    bad = post(
        editor,
        f"{base}/items/comments/condition",
        {"csrf_token": token, "action": "save", "condition_json": "{"},
        headers=ZH,
    )
    assert bad.status_code == 400 and 'href="#f-condition_json"' in bad.text


def model_form(token: str, definition: QuestionnaireDefinition, model: str) -> dict:
    data: dict[str, list[str] | str] = {"csrf_token": token, "model": model}
    data["construct_code"] = [c.code for c in definition.constructs] + ["TRU"]
    for language in ("en", "zh-CN"):
        data[f"construct_name-{language}"] = [c.name[language] for c in definition.constructs] + [
            "Trust" if language == "en" else "信任"
        ]
    return data


def test_constructs_and_model_are_checked_on_save(
    editor, token, session, organisation, questionnaire
):
    base = f"/questionnaires/{questionnaire.id}"
    definition = draft(session, organisation, questionnaire)
    page = editor.get(f"{base}/model")
    assert "VAL ~ SAT" in page.text and 'name="construct_code"' in page.text

    unknown = post(editor, f"{base}/model", model_form(token, definition, "LOY ~ FOO"))
    assert unknown.status_code == 400
    assert "uses &#39;FOO&#39;, which is not a construct" in unknown.text
    assert "LOY ~ FOO" in unknown.text  # kept for correcting
    syntax = post(editor, f"{base}/model", model_form(token, definition, "LOY ~~~ +"), headers=ZH)
    assert syntax.status_code == 400 and "结构模型" in syntax.text
    assert draft(session, organisation, questionnaire) == definition

    saved = post(editor, f"{base}/model", model_form(token, definition, "VAL ~ SAT\nLOY ~ VAL"))
    assert saved.status_code == 303
    changed = draft(session, organisation, questionnaire)
    assert changed.model == "VAL ~ SAT\nLOY ~ VAL"
    assert changed.constructs[-1].code == "TRU" and changed.constructs[-1].name["zh-CN"] == "信任"


def test_publish_refused_with_missing_translations_then_versions_and_diff(
    editor, token, session, organisation, questionnaire
):
    base = f"/questionnaires/{questionnaire.id}"
    post(editor, f"{base}/items", likert("staff", token, **{"label-zh-CN": ""}))
    refused = post(editor, f"{base}/publish", {"csrf_token": token})
    assert refused.status_code == 400
    assert "item staff" in refused.text and "has no zh-CN translation" in refused.text
    zh = editor.get(base, headers=ZH)
    assert "题目 staff" in zh.text and "缺少 zh-CN 翻译" in zh.text
    assert not service.get_version(session, organisation.id, questionnaire.id).is_published

    post(editor, f"{base}/items/staff", likert("staff", token))
    published = post(editor, f"{base}/publish", {"csrf_token": token})
    assert published.status_code == 303
    session.rollback()
    assert service.get_version(session, organisation.id, questionnaire.id).is_published
    assert "is published and frozen" in editor.get(base).text

    # Editing the published questionnaire starts version 2; version 1 stays as it was.
    post(editor, f"{base}/items/staff", likert("staff", token, points="5", reverse="1"))
    session.rollback()
    versions = service.list_versions(session, organisation.id, questionnaire.id)
    assert [(v.number, v.status) for v in versions] == [(1, "published"), (2, "draft")]
    assert service.definition_of(versions[0]).find_item("staff")[2].scale.points == 7

    diff = editor.get(f"{base}/versions?old=1&new=2")
    assert "The scale of staff changed from 7 to 5 points." in diff.text
    assert diff.text.count('class="tag tag-breaking"') == 2  # scale points and reverse keying
    assert "Breaks comparability" in diff.text


def test_json_and_xlsform_download_and_upload(
    editor, token, session, organisation, study, questionnaire
):
    base = f"/questionnaires/{questionnaire.id}"
    exported = editor.get(f"{base}/export?format=json")
    assert exported.status_code == 200 and exported.headers["content-type"] == "application/json"
    assert "attachment" in exported.headers["content-disposition"]
    workbook = editor.get(f"{base}/export?format=xlsx")
    assert workbook.content[:2] == b"PK"

    url = f"/studies/{study.id}/questionnaires/import"
    for name, content in (("q.json", exported.content), ("q.xlsx", workbook.content)):
        response = post(editor, url, {"csrf_token": token}, files={"file": (name, content)})
        assert response.status_code == 303, response.text
    imported = service.list_questionnaires(session, organisation.id, study_id=study.id)
    assert len(imported) == 3
    session.rollback()
    original = draft(session, organisation, questionnaire)
    assert draft(session, organisation, imported[0]) == original  # the XLSForm round trip

    bad = post(editor, url, {"csrf_token": token}, files={"file": ("q.xlsx", b"not a workbook")})
    assert bad.status_code == 400 and "is not an Excel workbook" in bad.text
    broken = json.loads(exported.content)
    broken["sections"][0]["items"][0]["code"] = "1bad"
    broken["sections"][1]["items"][0]["label"] = {"en": ""}
    bad_json = post(
        editor,
        url,
        {"csrf_token": token},
        files={"file": ("q.json", json.dumps(broken))},
        headers=ZH,
    )
    assert bad_json.status_code == 400 and "文件未导入" in bad_json.text
    assert "编码“1bad”不是有效的变量名" in bad_json.text and "题目文字为空" in bad_json.text
    wrong_type = post(editor, url, {"csrf_token": token}, files={"file": ("q.csv", b"a,b")})
    assert wrong_type.status_code == 400 and "neither a .json nor an .xlsx" in wrong_type.text
    assert len(service.list_questionnaires(session, organisation.id, study_id=study.id)) == 3

    into = post(editor, f"{base}/import", {"csrf_token": token}, files={"file": ("q.json", b"{")})
    assert into.status_code == 400 and "not valid JSON" in into.text
    assert draft(session, organisation, questionnaire) == original


def test_preview_in_each_language_escapes_user_text(
    editor, token, session, organisation, questionnaire
):
    base = f"/questionnaires/{questionnaire.id}"
    script = "<script>alert(1)</script>"
    post(editor, f"{base}/items", likert("staff", token, **{"label-en": script}))
    page = editor.get(f"{base}/preview?lang=en")
    assert f'src="{base}/preview/respondent?lang=en"' in page.text
    english = editor.get(f"{base}/preview/respondent?lang=en")
    assert "Overall, I am satisfied with Contoso." in english.text
    assert script not in english.text and "&lt;script&gt;alert(1)&lt;/script&gt;" in english.text
    # Framed by the designer's pages only.
    assert "frame-ancestors 'self'" in english.headers["content-security-policy"]
    assert english.headers["x-frame-options"] == "SAMEORIGIN"
    assert page.headers["x-frame-options"] == "DENY"
    chinese = editor.get(f"{base}/preview/respondent?lang=zh-CN")
    assert '<html lang="zh-CN">' in chinese.text and "Contoso 的员工很友好。" in chinese.text
    assert script not in editor.get(base).text


def test_another_organisation_gets_404(app, session, questionnaire, make_member, login, csrf):
    other = Organisation(name="Fabrikam Insights", kind=OrganisationKind.research)
    session.add(other)
    session.commit()
    make_member(other, email="owner@fabrikam.example")
    outsider = TestClient(app, base_url="https://testserver")
    login(outsider, "owner@fabrikam.example")
    base = f"/questionnaires/{questionnaire.id}"
    for path in (
        base,
        f"{base}/preview",
        f"{base}/preview/respondent",
        f"{base}/export?format=json",
        f"{base}/items/sat",
    ):
        assert outsider.get(path).status_code == 404
    response = post(outsider, f"{base}/publish", {"csrf_token": csrf(outsider, "/studies")})
    assert response.status_code == 404


def test_a_client_role_member_never_sees_the_designer(
    client, session, organisation, client_organisation, questionnaire, make_member, login, csrf
):
    """A client-role member of the research organisation represents a client company: it reads
    that company's commissioned studies, never a questionnaire in the designer."""
    viewer = make_member(organisation, email="viewer@northwind.example", role=Role.client)
    client_organisation.managing_organisation_id = organisation.id
    membership = session.exec(select(Membership).where(Membership.user_id == viewer.id)).one()
    membership.client_organisation_id = client_organisation.id
    session.add_all([client_organisation, membership])
    session.commit()
    login(client, "viewer@northwind.example")
    base = f"/questionnaires/{questionnaire.id}"
    for path in (base, f"{base}/preview", f"{base}/versions", f"{base}/items/sat"):
        assert client.get(path).status_code == 404, path
    token = csrf(client, "/studies")
    for path in (f"{base}/publish", f"{base}/items/sat/delete", f"{base}/items/sat/duplicate"):
        assert post(client, path, {"csrf_token": token}).status_code in (403, 404)
    session.rollback()
    assert not service.get_version(session, organisation.id, questionnaire.id).is_published
    assert "sat" in codes(draft(session, organisation, questionnaire))


def test_demo_study_gets_one_published_bilingual_questionnaire(session):
    seed_demo(session)
    seed_demo(session)
    session.commit()
    research = session.exec(
        select(Organisation).where(Organisation.name == "Northwind Research")
    ).one()
    study = session.exec(select(Study).where(Study.name == STUDY_NAME)).one()
    (questionnaire,) = service.list_questionnaires(session, research.id, study_id=study.id)
    version = service.latest_published(session, research.id, questionnaire.id)
    assert version is not None and version.number == 1
    definition = service.definition_of(version)
    assert definition.languages == ["zh-CN", "en"] and definition.model
