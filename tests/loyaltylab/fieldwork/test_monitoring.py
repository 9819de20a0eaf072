"""Monitoring a wave in the organisation's time zone (completes per day as a chart, dropout by
page), the time zone setting itself, and the navigation each role gets."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from loyaltylab.accounts.models import Organisation, Role
from loyaltylab.fieldwork.models import Channel, Response, ResponseStatus, Wave
from loyaltylab.questionnaires.models import QuestionnaireVersion
from loyaltylab.studies.models import Study
from tests.loyaltylab.forms_support import page_forms, submit


def _response(wave: Wave, *, submitted: datetime | None, page: int = 0) -> Response:
    return Response(
        organisation_id=wave.organisation_id,
        wave_id=wave.id,
        questionnaire_version_id=wave.questionnaire_version_id,
        channel=Channel.web,
        language="en",
        status=ResponseStatus.complete if submitted else ResponseStatus.partial,
        current_page=page,
        started_at=submitted or datetime(2026, 4, 1, tzinfo=UTC),
        submitted_at=submitted,
        duration_seconds=300.0 if submitted else None,
        answer_values=[],
    )


@pytest.fixture
def fielded(session: Session, wave: Wave) -> Wave:
    """Three completes near midnight in Shanghai, and three respondents who stopped."""
    for moment in (
        datetime(2026, 4, 1, 10, 0, tzinfo=UTC),  # 18:00 on 1 April in Shanghai
        datetime(2026, 4, 1, 20, 0, tzinfo=UTC),  # 04:00 on 2 April in Shanghai
        datetime(2026, 4, 3, 1, 0, tzinfo=UTC),  # 09:00 on 3 April in Shanghai
    ):
        session.add(_response(wave, submitted=moment))
    for page in (0, 0, 2):
        session.add(_response(wave, submitted=None, page=page))
    session.commit()
    return wave


def _days(html: str) -> list[tuple[str, str]]:
    table = html.split('fw-days"', 1)[1].split("</table>", 1)[0]
    return re.findall(r'<time datetime="([\d-]+)">[\d-]+</time></th><td>(\d+)</td>', table)


def test_completes_per_day_are_counted_in_the_organisation_s_days_and_drawn(
    client: TestClient,
    session: Session,
    organisation: Organisation,
    owner,
    login: Callable,
    fielded: Wave,
) -> None:
    login(client, owner.email)
    in_utc = client.get(f"/waves/{fielded.id}").text
    assert _days(in_utc) == [("2026-04-01", "2"), ("2026-04-03", "1")]
    organisation.time_zone = "Asia/Shanghai"
    session.add(organisation)
    session.commit()
    page = client.get(f"/waves/{fielded.id}").text
    assert _days(page) == [("2026-04-01", "1"), ("2026-04-02", "1"), ("2026-04-03", "1")]
    chart = page.split('class="fw-chart"', 1)[1].split("</svg>", 1)[0]
    assert [re.sub(r"\s", "", t) for t in re.findall(r"<title>([^<]*)</title>", chart)] == [
        "2026-04-01:1",
        "2026-04-02:1",
        "2026-04-03:1",
    ]
    assert "Completes per day" in page and "(Asia/Shanghai)" in page


def test_dropout_by_page_shows_where_respondents_stop(
    client: TestClient, owner, login: Callable, fielded: Wave
) -> None:
    login(client, owner.email)
    page = client.get(f"/waves/{fielded.id}").text
    table = page.split('fw-dropout"', 1)[1].split("</table>", 1)[0]
    rows = re.findall(r'<th scope="row">(\d)\. ([^<]+)</th><td>(\d+)</td><td>(\d+)</td>', table)
    # Three completes; partial responses stopped twice on page 1 and once on page 3.
    assert rows == [
        ("1", "About you", "6", "2"),
        ("2", "Your complaint", "4", "0"),
        ("3", "Loyalty", "4", "1"),
    ]
    assert "33.3%" in table and "25.0%" in table
    chinese = client.get(f"/waves/{fielded.id}", headers={"Accept-Language": "zh-CN"}).text
    assert "1. 关于您" in chinese


def test_wave_times_are_typed_and_shown_in_the_organisation_s_time_zone(
    client: TestClient,
    session: Session,
    organisation: Organisation,
    owner,
    login: Callable,
    study: Study,
    version: QuestionnaireVersion,
) -> None:
    organisation.time_zone = "Asia/Shanghai"
    session.add(organisation)
    session.commit()
    login(client, owner.email)
    page = f"/studies/{study.id}/waves"
    form = client.get(page).text
    assert "Times are in Asia/Shanghai (UTC+08:00)" in form
    created = submit(
        client,
        page,
        page,
        name="2026-Q3",
        opens_at="2026-07-01T09:00",
        closes_at="2026-09-30T18:00",
    )
    assert created.status_code == 303
    wave = session.exec(select(Wave)).one()
    opens = wave.opens_at if wave.opens_at.tzinfo else wave.opens_at.replace(tzinfo=UTC)
    assert opens == datetime(2026, 7, 1, 1, 0, tzinfo=UTC)
    detail = client.get(f"/waves/{wave.id}").text
    assert "2026-07-01 09:00" in detail and "2026-09-30 18:00" in detail
    edit = f"/waves/{wave.id}/edit"
    shown = page_forms(client.get(edit).text)[edit]
    assert (shown["opens_at"], shown["closes_at"]) == ("2026-07-01T09:00", "2026-09-30T18:00")


def test_owners_set_the_time_zone_others_may_not(
    client: TestClient,
    session: Session,
    organisation: Organisation,
    owner,
    make_member: Callable,
    login: Callable,
) -> None:
    login(client, owner.email)
    refused = submit(client, "/org/settings", "/org/settings", time_zone="Mars/Olympus_Mons")
    assert refused.status_code == 400 and "Choose a time zone from the list." in refused.text
    saved = submit(client, "/org/settings", "/org/settings", time_zone="Europe/London")
    assert saved.status_code == 303
    session.refresh(organisation)
    assert organisation.time_zone == "Europe/London"
    researcher = TestClient(client.app, base_url="https://testserver")
    make_member(organisation, email="researcher@northwind.example", role=Role.researcher)
    login(researcher, "researcher@northwind.example")
    assert researcher.get("/org/settings").status_code == 403


@pytest.mark.parametrize(
    ("role", "shown", "hidden"),
    [
        (Role.owner, ("/outbox", "/org/audit", "/org/settings", "/org/members"), ()),
        (Role.researcher, ("/outbox", "/org/members"), ("/org/audit", "/org/settings")),
    ],
)
def test_the_navigation_offers_what_each_role_may_use(
    client: TestClient,
    organisation: Organisation,
    make_member: Callable,
    login: Callable,
    role: Role,
    shown: tuple[str, ...],
    hidden: tuple[str, ...],
) -> None:
    make_member(organisation, email="member@northwind.example", role=role)
    login(client, "member@northwind.example")
    page = client.get("/studies").text
    nav = page.split('class="mainnav"', 1)[1].split("</nav>", 1)[0]
    for path in shown:
        assert f'href="{path}"' in nav
        assert client.get(path).status_code == 200
    for path in hidden:
        assert f'href="{path}"' not in nav
        assert client.get(path).status_code == 403


def test_a_client_member_s_navigation_has_no_outbox(
    client: TestClient,
    client_organisation: Organisation,
    make_member: Callable,
    login: Callable,
    study: Study,
) -> None:
    make_member(client_organisation, email="client@contoso.example", role=Role.client)
    login(client, "client@contoso.example")
    nav = client.get("/studies").text.split('class="mainnav"', 1)[1].split("</nav>", 1)[0]
    assert 'href="/outbox"' not in nav and 'href="/org/audit"' not in nav
    assert client.get("/outbox").status_code == 403
