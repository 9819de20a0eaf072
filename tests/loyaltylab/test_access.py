"""The access policy (loyaltylab/access.py) on a real database: what each kind of member may
read and change of each resource, another tenant nothing; and that the pages load objects by
id only through it."""

from __future__ import annotations

import ast
import importlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session, select

from loyaltylab import access
from loyaltylab.accounts import service as accounts
from loyaltylab.accounts.models import Membership, Organisation, OrganisationKind, Role
from loyaltylab.deps import OrgContext
from loyaltylab.errors import NotFound, PermissionDenied
from loyaltylab.fieldwork.models import Wave
from loyaltylab.followup.models import FollowUpCase
from loyaltylab.questionnaires.models import Questionnaire
from loyaltylab.reports_web.models import Report
from loyaltylab.studies.models import Study
from loyaltylab.timeutil import utcnow
from tests.web_support import create_member

WEB_APP = Path(__file__).resolve().parents[2] / "platform" / "loyaltylab"

# Who: (the organisation the membership is in, its role, acting for the client company,
# case handler). "research" is the organisation running the study, "client" the company that
# commissioned it, "other" another research organisation.
MEMBERS = {
    "owner": ("research", Role.owner, False, False),
    "researcher": ("research", Role.researcher, False, False),
    "client member of the research organisation": ("research", Role.client, True, False),
    "case handler of the research organisation": ("research", Role.client, True, True),
    "client company's user": ("client", Role.client, False, False),
    "client company's case handler": ("client", Role.client, False, True),
    "client company's owner": ("client", Role.owner, False, False),
    "another tenant's owner": ("other", Role.owner, False, False),
}

# What each may do; everything else is not found.
TEAM = {
    "study: read",
    "study: team",
    "study: edit",
    "wave: read",
    "wave: edit",
    "shared report: read",
    "shared report: edit",
    "draft report: read",
    "draft report: edit",
    "contact: edit",
    "case: read",
    "questionnaire: owned",
}
CLIENT = {"study: read", "shared report: read"}
ALLOWED = {
    "owner": TEAM,
    "researcher": TEAM,
    "client member of the research organisation": CLIENT,
    "case handler of the research organisation": CLIENT | {"case: read"},
    "client company's user": CLIENT,
    "client company's case handler": CLIENT | {"case: read"},
    "client company's owner": CLIENT,
    "another tenant's owner": set(),
}


@pytest.fixture
def other_organisation(session: Session) -> Organisation:
    other = Organisation(name="Fabrikam Insights", kind=OrganisationKind.research)
    session.add(other)
    session.commit()
    return other


@pytest.fixture
def member(
    session: Session,
    organisation: Organisation,
    client_organisation: Organisation,
    other_organisation: Organisation,
) -> Callable[[str], OrgContext]:
    """``member(kind)``: the context a request of that kind of member gets, from the same
    memberships query as the request dependency."""
    organisations = {
        "research": organisation,
        "client": client_organisation,
        "other": other_organisation,
    }

    def make(kind: str) -> OrgContext:
        where, role, acting, handler = MEMBERS[kind]
        email = kind.replace(" ", "-").replace("'", "") + "@example.com"
        user = create_member(session, organisations[where], email=email, role=role)
        membership = session.exec(select(Membership).where(Membership.user_id == user.id)).one()
        membership.client_organisation_id = client_organisation.id if acting else None
        membership.case_handler = handler
        session.add(membership)
        session.commit()
        ((found, organisation_row, acting_for),) = accounts.usable_memberships(session, user.id)
        return OrgContext(user=user, organisation=acting_for or organisation_row, membership=found)

    return make


@pytest.fixture
def draft_report(session: Session, study: Study, wave: Wave) -> Report:
    """A generated report of the study, not shared with the client."""
    report = Report(
        generated_at=utcnow(),
        organisation_id=study.organisation_id,
        study_id=study.id,
        questionnaire_version_id=wave.questionnaire_version_id,
        title="Draft",
        language="en",
        formats=["pdf"],
        wave_ids=[wave.id],
    )
    session.add(report)
    session.commit()
    return report


@pytest.fixture
def loaders(
    study: Study,
    wave: Wave,
    report: Report,
    draft_report: Report,
    contact: Any,
    followup_case: FollowUpCase,
    questionnaire: Questionnaire,
) -> dict[str, Callable[[Session, OrgContext], Any]]:
    """Each permission as the policy's loader of organisation A's object, and what it returns."""
    return {
        "study: read": lambda s, c: access.readable_study(s, c, study.id) == study,
        "study: team": lambda s, c: access.team_study(s, c, study.id) == study,
        "study: edit": lambda s, c: access.editable_study(s, c, study.id) == study,
        "wave: read": lambda s, c: tuple(access.readable_wave(s, c, wave.id)) == (wave, study),
        "wave: edit": lambda s, c: tuple(access.editable_wave(s, c, wave.id)) == (wave, study),
        "shared report: read": lambda s, c: access.readable_report(s, c, report.id)[0] == report,
        "shared report: edit": lambda s, c: access.editable_report(s, c, report.id)[0] == report,
        "draft report: read": lambda s, c: (
            access.readable_report(s, c, draft_report.id)[0] == draft_report
        ),
        "draft report: edit": lambda s, c: (
            access.editable_report(s, c, draft_report.id)[0] == draft_report
        ),
        "contact: edit": lambda s, c: (
            tuple(access.editable_contact(s, c, contact.id)) == (contact, study)
        ),
        "case: read": lambda s, c: access.readable_case(s, c, followup_case.id) == followup_case,
        "questionnaire: owned": lambda s, c: (
            access.load_owned(s, Questionnaire, questionnaire.id, c.organisation_id)
            == questionnaire
        ),
    }


@pytest.mark.parametrize("kind", list(MEMBERS))
def test_each_member_reaches_exactly_what_the_policy_allows(
    session: Session, member: Callable[[str], OrgContext], loaders: dict, kind: str
) -> None:
    ctx = member(kind)
    reached = set()
    for permission, load in loaders.items():
        try:
            assert load(session, ctx), f"{permission} loaded another object"
        except NotFound:
            continue
        reached.add(permission)
    assert reached == ALLOWED[kind]


@pytest.mark.parametrize("kind", list(MEMBERS))
def test_the_page_checks_agree_with_the_queries(
    session: Session, member: Callable[[str], OrgContext], study: Study, wave: Wave, kind: str
) -> None:
    """What a page offers (is_study_team, may_edit on a loaded object) is what loads."""
    ctx = member(kind)
    team = "study: team" in ALLOWED[kind]
    editor = "study: edit" in ALLOWED[kind]
    assert access.is_study_team(ctx, study) is team
    assert access.may_edit(ctx, study) is editor
    assert access.may_edit(ctx, wave) is editor


@pytest.mark.parametrize("kind", list(MEMBERS))
def test_only_case_handlers_among_client_users_list_cases(
    member: Callable[[str], OrgContext], kind: str
) -> None:
    ctx = member(kind)
    if ctx.role is Role.client and not ctx.membership.case_handler:
        with pytest.raises(PermissionDenied):
            access.require_case_reader(ctx)
    else:
        access.require_case_reader(ctx)


def test_another_tenant_lists_only_its_own(
    session: Session,
    member: Callable[[str], OrgContext],
    other_organisation: Organisation,
    report: Report,
    contact: Any,
    followup_case: FollowUpCase,
    questionnaire: Questionnaire,
) -> None:
    own = Study(organisation_id=other_organisation.id, name="Fabrikam's own study")
    session.add(own)
    session.commit()
    ctx = member("another tenant's owner")
    assert session.exec(access.readable_studies(ctx)).all() == [own]
    assert session.exec(access.readable_waves(ctx)).all() == []
    assert session.exec(access.editable_waves(ctx)).all() == []
    assert session.exec(access.readable_reports(ctx)).all() == []
    assert session.exec(access.editable_reports(ctx)).all() == []
    assert session.exec(select(FollowUpCase).where(access.case_readable(ctx))).all() == []
    assert session.exec(access.owned(Questionnaire, ctx.organisation_id)).all() == []
    # The research organisation's owner, for contrast, lists them all.
    owner = member("owner")
    assert session.exec(access.readable_studies(owner)).all() != []
    assert [row[0] for row in session.exec(access.readable_reports(owner))] == [report]
    assert questionnaire in session.exec(access.owned(Questionnaire, owner.organisation_id)).all()


# --- the pages load by id only through the policy ----------------------------------------------


def _route_modules() -> list[Path]:
    return sorted(
        path
        for path in WEB_APP.rglob("*.py")
        if path.name in ("routes.py", "pages.py") or path.parent.name == "routes"
    )


def _tenant_gets(path: Path) -> list[tuple[int, str, ast.expr]]:
    """``session.get(Model, key)`` calls of a module on a table with ``organisation_id``: (line,
    model, key)."""
    module = importlib.import_module(
        ".".join(path.relative_to(WEB_APP.parent).with_suffix("").parts)
    )
    calls = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "get"
            and len(node.args) == 2
            and isinstance(node.args[0], ast.Name)
        ):
            continue
        table = getattr(getattr(module, node.args[0].id, None), "__table__", None)
        if table is not None and "organisation_id" in table.c:
            calls.append((node.lineno, node.args[0].id, node.args[1]))
    return calls


def test_the_check_finds_a_tenant_table_loaded_by_id() -> None:
    calls = _tenant_gets(WEB_APP / "reports_web" / "routes.py")
    assert ("Job", "report.job_id") in {(model, ast.unparse(key)) for _line, model, key in calls}


def test_pages_load_tenant_objects_by_id_only_through_the_policy() -> None:
    """A page may follow a foreign key of an object it loaded (``session.get(Study,
    wave.study_id)``); an id from the request goes through loyaltylab.access, whose WHERE
    holds the tenancy."""
    by_request_id = [
        f"{path.relative_to(WEB_APP)}:{line}: session.get({model}, {ast.unparse(key)})"
        for path in _route_modules()
        for line, model, key in _tenant_gets(path)
        if not isinstance(key, ast.Attribute)
    ]
    assert by_request_id == []
