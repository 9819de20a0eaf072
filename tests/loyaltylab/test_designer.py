"""The questionnaire designer's pages, through the real app and database."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from loyaltylab.accounts.models import Organisation, OrganisationKind, Role
from loyaltylab.demo import seed_demo
from surveys import service
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
        "总体而言,我对Contoso感到满意" in editor.get(response.headers["location"], headers=ZH).text
    )
    assert "ready to publish" in designer.text
    assert "Contoso" in designer.text
    listing = editor.get(f"/studies/{study.id}/questionnaires")
    assert f"/questionnaires/{created.id}" in listing.text


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

    condition = {"csrf_token": token, "item": "nps", "op": "le", "value": "6"}
    assert post(editor, f"{base}/items/improve/condition", condition).status_code == 303
    refused = post(editor, f"{base}/items/nps/delete", {"csrf_token": token})
    assert refused.status_code == 400 and "nps" in codes(
        draft(session, organisation, questionnaire)
    )
    assert "refers to &#39;nps&#39;" in refused.text

    deleted = post(editor, f"{base}/items/improve/delete", {"csrf_token": token})
    assert deleted.status_code == 303
    assert "improve" not in codes(draft(session, organisation, questionnaire))


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


def test_display_condition_offers_only_earlier_items(
    editor, token, session, organisation, questionnaire
):
    base = f"/questionnaires/{questionnaire.id}"
    page = editor.get(f"{base}/items/loy/condition")
    assert '<option value="sat1"' in page.text and '<option value="improve"' not in page.text
    forward = post(
        editor,
        f"{base}/items/loy/condition",
        {"csrf_token": token, "item": "improve", "op": "answered"},
    )
    assert forward.status_code == 400 and "Choose an earlier question" in forward.text

    saved = post(
        editor,
        f"{base}/items/improve/condition",
        {"csrf_token": token, "item": "nps", "op": "le", "value": "6"},
    )
    assert saved.status_code == 303
    item = draft(session, organisation, questionnaire).find_item("improve")[2]
    assert item.condition == Comparison(item="nps", op="le", value=6)
    assert "Shown when" in editor.get(base).text

    section = post(
        editor,
        f"{base}/items/comments/condition",
        {
            "csrf_token": token,
            "condition_json": '{"any": [{"item": "sat1", "op": "le", "value": 3}]}',
        },
    )
    assert section.status_code == 303
    assert draft(session, organisation, questionnaire).sections[2].condition is not None

    bad_value = post(
        editor,
        f"{base}/items/improve/condition",
        {"csrf_token": token, "item": "sat1", "op": "eq", "value": "99"},
        headers=ZH,
    )
    assert bad_value.status_code == 400 and "值 99 与“sat1”不符" in bad_value.text

    removed = post(
        editor, f"{base}/items/improve/condition", {"csrf_token": token, "action": "remove"}
    )
    assert removed.status_code == 303
    assert draft(session, organisation, questionnaire).find_item("improve")[2].condition is None


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
    english = editor.get(f"{base}/preview?lang=en")
    assert "Overall, I am satisfied with Contoso." in english.text
    assert script not in english.text and "&lt;script&gt;alert(1)&lt;/script&gt;" in english.text
    chinese = editor.get(f"{base}/preview?lang=zh-CN")
    assert 'lang="zh-CN"' in chinese.text and "Contoso 的员工很友好。" in chinese.text
    assert script not in editor.get(base).text


def test_another_organisation_gets_404(app, session, questionnaire, make_member, login, csrf):
    other = Organisation(name="Fabrikam Insights", kind=OrganisationKind.research)
    session.add(other)
    session.commit()
    make_member(other, email="owner@fabrikam.example")
    outsider = TestClient(app, base_url="https://testserver")
    login(outsider, "owner@fabrikam.example")
    base = f"/questionnaires/{questionnaire.id}"
    for path in (base, f"{base}/preview", f"{base}/export?format=json", f"{base}/items/sat"):
        assert outsider.get(path).status_code == 404
    response = post(outsider, f"{base}/publish", {"csrf_token": csrf(outsider, "/studies")})
    assert response.status_code == 404


def test_client_role_reads_but_cannot_change(
    client, session, organisation, questionnaire, make_member, login, csrf
):
    make_member(organisation, email="viewer@northwind.example", role=Role.client)
    login(client, "viewer@northwind.example")
    base = f"/questionnaires/{questionnaire.id}"
    page = client.get(base)
    assert page.status_code == 200 and f"{base}/publish" not in page.text
    assert f"{base}/items/sat/delete" not in page.text
    assert client.get(f"{base}/preview").status_code == 200
    assert client.get(f"{base}/items/sat").status_code == 403
    token = csrf(client, "/studies")
    for path in (f"{base}/publish", f"{base}/items/sat/delete", f"{base}/items/sat/duplicate"):
        assert post(client, path, {"csrf_token": token}).status_code == 403
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
    (questionnaire,) = service.list_questionnaires(session, research.id)
    version = service.latest_published(session, research.id, questionnaire.id)
    assert version is not None and version.number == 1
    definition = service.definition_of(version)
    assert definition.languages == ["zh-CN", "en"] and definition.model
