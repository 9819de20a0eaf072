"""Studies through the real app: create, list, view, edit, client organisations."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from loyaltylab.accounts.models import Organisation, OrganisationKind, Role, User
from loyaltylab.fieldwork import service as fieldwork
from loyaltylab.questionnaires import service as questionnaires
from loyaltylab.studies.models import Study


@pytest.fixture
def researcher_client(
    client: TestClient, organisation: Organisation, make_member: Callable, login: Callable
) -> TestClient:
    make_member(organisation, email="researcher@northwind.example", role=Role.researcher)
    login(client, "researcher@northwind.example")
    return client


def submit(browser: TestClient, csrf: Callable, page: str, action: str, /, **data: str):
    return browser.post(
        action, data={**data, "csrf_token": csrf(browser, page)}, follow_redirects=False
    )


def new_study(browser: TestClient, csrf: Callable, session: Session, /, **data: str) -> Study:
    """The study the new-study form creates from ``data``."""
    assert submit(browser, csrf, "/studies/new", "/studies", **data).status_code == 303
    return session.exec(select(Study)).one()


def test_a_researcher_creates_views_and_edits_a_study(
    researcher_client: TestClient, csrf: Callable, session: Session, organisation: Organisation
) -> None:
    created = submit(
        researcher_client, csrf, "/studies/new", "/studies",
        name="  Hotel   loyalty 2026 ", company_name_en="Fabrikam Hotels",
        company_name_zh="Fabrikam 酒店", description="Wave one",
    )  # fmt: skip
    assert created.status_code == 303
    study = session.exec(select(Study)).one()
    assert created.headers["location"] == f"/studies/{study.id}"
    assert study.name == "Hotel loyalty 2026" and study.organisation_id == organisation.id
    assert study.company_names == {"en": "Fabrikam Hotels", "zh-CN": "Fabrikam 酒店"}
    assert "Hotel loyalty 2026" in researcher_client.get("/studies").text
    assert "Fabrikam Hotels" in researcher_client.get(f"/studies/{study.id}").text

    updated = submit(
        researcher_client, csrf, f"/studies/{study.id}/edit", f"/studies/{study.id}",
        name="Hotel loyalty 2027", company_name_en="", company_name_zh="Fabrikam 酒店",
        description="",
    )  # fmt: skip
    assert updated.status_code == 303
    session.expire_all()
    saved = session.get(Study, study.id)
    assert saved.name == "Hotel loyalty 2027"
    # A language without its own name is written with the other one.
    assert (saved.company_in("en"), saved.company_in("zh-CN")) == ("Fabrikam 酒店", "Fabrikam 酒店")


def test_the_company_is_named_in_each_language_of_the_list_and_the_questionnaire(
    researcher_client: TestClient, csrf: Callable, session: Session
) -> None:
    study = new_study(
        researcher_client, csrf, session,
        name="Coffee 2026", company_name_en="Fabrikam Coffee", company_name_zh="Fabrikam咖啡",
    )  # fmt: skip
    english = researcher_client.get("/studies").text
    assert "Fabrikam Coffee" in english and "Fabrikam咖啡" not in english
    chinese = researcher_client.get("/studies", headers={"Accept-Language": "zh-CN"}).text
    assert "Fabrikam咖啡" in chinese and "Fabrikam Coffee" not in chinese
    questionnaire = questionnaires.create_questionnaire(
        session, organisation_id=study.organisation_id, study_id=study.id
    )
    session.commit()
    definition = questionnaires.definition_of(
        questionnaires.get_version(session, study.organisation_id, questionnaire.id)
    )
    labels = [variable.label for variable in definition.variables()]
    english_texts = " ".join(label.get("en", "") for label in labels)
    chinese_texts = " ".join(label.get("zh-CN", "") for label in labels)
    assert "Fabrikam Coffee" in english_texts and "咖啡" not in english_texts
    assert "Fabrikam咖啡" in chinese_texts and "Fabrikam Coffee" not in chinese_texts


def test_every_problem_of_the_study_form_is_shown_at_once_at_its_field(
    researcher_client: TestClient, csrf: Callable, session: Session
) -> None:
    response = submit(
        researcher_client, csrf, "/studies/new", "/studies",
        name="   ", company_name_en="x" * 201, description="d" * 4001, client="not-a-number",
        new_client="",
    )  # fmt: skip
    assert response.status_code == 400
    summary = response.text.split('class="error-summary"', 1)[1].split("</div>", 1)[0]
    assert "There are 4 problems" in summary
    for field, label in (
        ("name", "Study name"),
        ("company_name_en", "Company surveyed, in English"),
        ("description", "Description"),
        ("client", "Client organisation"),
    ):
        assert f'href="#f-{field}"><strong>{label}</strong>' in summary
        assert f'id="f-{field}-error"' in response.text
    assert session.exec(select(Study)).first() is None
    assert session.exec(select(Organisation).where(Organisation.kind == "client")).all() == []


def test_the_study_page_goes_questionnaires_waves_reports_with_the_next_step(
    researcher_client: TestClient,
    csrf: Callable,
    session: Session,
    organisation: Organisation,
) -> None:
    study = new_study(
        researcher_client, csrf, session,
        name="Retail", company_name_en="Contoso", new_client="Contoso Retail Group",
    )  # fmt: skip
    page = researcher_client.get(f"/studies/{study.id}").text
    parts = ("questionnaires", "waves", "reports")
    positions = [page.index(f'id="{part}-title"') for part in parts]
    assert positions == sorted(positions)
    assert "Contoso Retail Group" in page  # the client company
    assert f"/studies/{study.id}/questionnaires/new" in page.split('id="next-title"')[1]
    questionnaire = questionnaires.create_questionnaire(
        session, organisation_id=organisation.id, study_id=study.id
    )
    questionnaires.publish(session, organisation.id, questionnaire.id, user_id=None)
    session.commit()
    page = researcher_client.get(f"/studies/{study.id}").text
    assert f"/studies/{study.id}/waves#new" in page.split('id="next-title"')[1]
    assert f"/studies/{study.id}/privacy" in page
    designer = researcher_client.get(f"/questionnaires/{questionnaire.id}").text
    assert f"/studies/{study.id}/waves#new" in designer  # after publishing: the next step


def test_the_respondents_contact_and_privacy_note_are_edited_on_the_study_form(
    researcher_client: TestClient, csrf: Callable, session: Session
) -> None:
    study = new_study(researcher_client, csrf, session, name="Loyalty")
    edit, action = f"/studies/{study.id}/edit", f"/studies/{study.id}"
    refused = submit(
        researcher_client, csrf, edit, action,
        name="Loyalty", contact_name="Li Wei", contact_email="not an address",
        privacy_zh_cn="我们只保存您的答案。",
    )  # fmt: skip
    assert refused.status_code == 400 and 'href="#f-contact_email"' in refused.text
    assert 'value="Li Wei"' in refused.text and "我们只保存您的答案。" in refused.text
    saved = submit(
        researcher_client, csrf, edit, action,
        name="Loyalty", contact_name="  Li   Wei ", contact_email="li.wei@northwind.example",
        privacy_en="We keep your answers only.", privacy_zh_cn="我们只保存您的答案。",
    )  # fmt: skip
    assert saved.status_code == 303
    session.expire_all()
    study = session.get(Study, study.id)
    assert (study.contact_name, study.contact_email) == ("Li Wei", "li.wei@northwind.example")
    assert fieldwork.consent_texts(session, study.id) == {
        "en": "We keep your answers only.",
        "zh-CN": "我们只保存您的答案。",
    }
    form = researcher_client.get(edit).text
    assert 'value="li.wei@northwind.example"' in form and "We keep your answers only." in form
    too_long = submit(researcher_client, csrf, edit, action, name="Loyalty", privacy_en="x" * 4001)
    assert too_long.status_code == 400 and 'href="#f-privacy_en"' in too_long.text


def test_a_new_client_organisation_is_managed_by_the_research_organisation(
    researcher_client: TestClient, csrf: Callable, session: Session, organisation: Organisation
) -> None:
    response = submit(
        researcher_client, csrf, "/studies/new", "/studies", name="Retail", new_client="Tailspin"
    )
    assert response.status_code == 303
    client_org = session.exec(select(Organisation).where(Organisation.name == "Tailspin")).one()
    assert client_org.kind == OrganisationKind.client
    assert client_org.managing_organisation_id == organisation.id
    assert session.exec(select(Study)).one().client_organisation_id == client_org.id
    assert "Tailspin" in researcher_client.get("/studies/new").text  # offered next time


def test_a_study_cannot_be_commissioned_by_another_organisations_client(
    researcher_client: TestClient, csrf: Callable, session: Session
) -> None:
    other = Organisation(name="Other research")
    session.add(other)
    session.commit()
    foreign_client = Organisation(
        name="Foreign client", kind=OrganisationKind.client, managing_organisation_id=other.id
    )
    session.add(foreign_client)
    session.commit()
    for value in (str(foreign_client.id), str(other.id), "not-a-number"):
        response = submit(
            researcher_client, csrf, "/studies/new", "/studies", name="Sneaky", client=value
        )
        assert response.status_code == 400, value
        assert "Choose a client organisation from the list." in response.text
    assert "Foreign client" not in researcher_client.get("/studies/new").text
    assert session.exec(select(Study)).first() is None


def test_the_api_lists_the_organisations_studies_only(
    client: TestClient, owner: User, study: Study, session: Session, login: Callable
) -> None:
    other = Organisation(name="Other research")
    session.add(other)
    session.commit()
    session.add(Study(organisation_id=other.id, name="Not ours"))
    session.commit()
    login(client, owner.email)
    assert [item["name"] for item in client.get("/api/session/studies").json()] == [study.name]
    me = client.get("/api/session/me").json()
    assert me["email"] == owner.email and me["role"] == "owner"
