"""The dashboard as a client reads it: breakdowns by contact attributes and by answers, with
missing values counted as "not stated" (never "nan"); response rates that stay below 100%;
confidence intervals drawn; legends and tables that fit or scroll, reachable by keyboard."""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session

from loyaltylab.dashboard.charts import WIDTH, Series, trend_chart
from loyaltylab.fieldwork import service as fieldwork
from loyaltylab.fieldwork.models import Channel, Response, ResponseStatus, WaveStatus
from loyaltylab.studies.models import Study
from tests.loyaltylab.fieldwork_support import TRACKER_QUESTIONNAIRE, publish, texts

# The dashboard tests' questionnaire (sat1, reverse-keyed sat2, NPS, open text) plus a question
# to break results down by.
QUESTIONNAIRE = copy.deepcopy(TRACKER_QUESTIONNAIRE)
QUESTIONNAIRE["sections"][0]["items"].append(
    {
        "type": "dropdown",
        "code": "region",
        "label": texts("Where do you live?", "您住在哪里?"),
        "options": [
            {"value": "n", "label": texts("North China", "华北")},
            {"value": "s", "label": texts("South China", "华南")},
        ],
    }
)


@pytest.fixture
def study_with_segments(session: Session, study: Study) -> Study:
    """One wave: two invited gold/silver customers, one invited customer without a tier, and
    three public-link respondents, one of whom left the region question unanswered."""
    version = publish(session, study, QUESTIONNAIRE)
    contacts = fieldwork.add_contacts(
        session,
        study_id=study.id,
        organisation_id=study.organisation_id,
        rows=[
            {"external_id": "1", "attributes": {"tier": "gold"}},
            {"external_id": "2", "attributes": {"tier": "silver"}},
            {"external_id": "3", "attributes": {"region": "x"}},
        ],
    )
    wave = fieldwork.create_wave(
        session,
        fieldwork.WaveSettings(name="W1"),
        study_id=study.id,
        organisation_id=study.organisation_id,
        version_id=version.id,
    )
    fieldwork.open_wave(session, wave)
    invitations = fieldwork.issue_invitations(session, wave, contacts)
    answers = [
        [sat, 6 - sat, 9, None, region]
        for sat, region in ((5, "n"), (3, "s"), (4, "n"), (2, "s"), (1, None), (5, "n"))
    ]
    for index, values in enumerate(answers):
        invited = invitations[index].invitation if index < 3 else None
        session.add(
            Response(
                organisation_id=study.organisation_id,
                wave_id=wave.id,
                questionnaire_version_id=version.id,
                channel=Channel.invitation if invited else Channel.web,
                contact_id=invitations[index].contact.id if invited else None,
                invitation_id=invited.id if invited else None,
                language="en",
                status=ResponseStatus.complete,
                answer_values=values,
            )
        )
        if invited is not None:
            invited.used_at = invited.created_at
            session.add(invited)
    wave.status = WaveStatus.closed
    session.add(wave)
    session.commit()
    return study


@pytest.fixture
def reader(app: FastAPI, owner: Any, login: Callable) -> TestClient:
    browser = TestClient(app, base_url="https://testserver")
    login(browser, owner.email)
    return browser


def _group_rows(page: str) -> dict[str, str]:
    """The satisfaction table's rows: group -> n."""
    table = page[page.index("<table") : page.index("</table>")]
    return dict(re.findall(r"<tr><td>([^<]+)</td><th scope=\"row\">W1</th><td>(\d+)</td>", table))


def test_missing_attributes_are_counted_as_not_stated(
    reader: TestClient, study_with_segments: Study
) -> None:
    page = reader.get(f"/studies/{study_with_segments.id}/dashboard?segment=contact:tier").text
    assert "nan" not in page.lower().replace("nanjing", "")
    # gold, silver; the untiered customer and the three public-link respondents: not stated.
    assert _group_rows(page) == {"All respondents": "6", "gold": "1", "silver": "1",
                                 "Not stated": "4"}  # fmt: skip
    assert list(_group_rows(page))[-1] == "Not stated"


def test_a_breakdown_by_a_questions_answers_uses_its_option_labels(
    app: FastAPI, reader: TestClient, study_with_segments: Study
) -> None:
    url = f"/studies/{study_with_segments.id}/dashboard"
    form = reader.get(url).text
    assert '<optgroup label="Customer attributes">' in form
    assert '<option value="answer:region">Where do you live?</option>' in form
    page = reader.get(f"{url}?segment=answer:region").text
    assert _group_rows(page) == {"All respondents": "6", "North China": "3",
                                 "South China": "2", "Not stated": "1"}  # fmt: skip
    chinese = reader.get(f"{url}?segment=answer:region", headers={"Accept-Language": "zh-CN"})
    assert "华北" in chinese.text and "未填写" in chinese.text


def test_the_response_rate_counts_invitations_and_shows_public_link_apart(
    reader: TestClient, study_with_segments: Study
) -> None:
    page = reader.get(f"/studies/{study_with_segments.id}/dashboard").text
    rates = page[page.index('id="rates-title"') :]
    row = re.search(r'<th scope="row">W1</th>((?:<td>[^<]*</td>){5})', rates)[1]
    # Invited 3, all three answered: 100%; 3 public-link completes; 6 in all.
    assert re.findall(r"<td>([^<]*)</td>", row) == ["3", "3", "100.0%", "3", "6"]


def test_every_scrolling_table_is_reachable_by_keyboard(
    reader: TestClient, study_with_segments: Study
) -> None:
    page = reader.get(f"/studies/{study_with_segments.id}/dashboard?segment=contact:tier").text
    wraps = re.findall(r'<div class="table-wrap"[^>]*>', page)
    assert wraps and all('tabindex="0"' in w and 'role="region"' in w for w in wraps)
    for labelled in re.findall(r'aria-labelledby="([^"]+)"', " ".join(wraps)):
        assert f'id="{labelled}"' in page


def test_the_chart_draws_confidence_intervals_and_fits_its_legend() -> None:
    names = [f"Customers in a very long segment name number {i}" for i in range(8)]
    series = [
        Series(name, [(50 + i, 45 + i, 55 + i), (60, 52, 68)]) for i, name in enumerate(names)
    ]
    svg = str(trend_chart(["Q1", "Q2"], series, low=0, high=100))
    height = float(re.search(r'viewBox="0 0 \d+ ([\d.]+)"', svg)[1])
    assert svg.count("<polygon") == len(series)  # a shaded band per series
    assert len(re.findall(r"<path d=\"M[^\"]*H[^\"]*H", svg)) == 2 * len(series)  # capped whiskers
    # Every legend line inside the drawing: long names wrap onto lines of their own.
    for x, line in re.findall(r'<tspan x="([\d.]+)" dy="[\d.]+">([^<]*)</tspan>', svg):
        assert float(x) + 7.5 * len(line) <= WIDTH
    for y, inner in re.findall(r'<text x="[\d.]+" y="([\d.]+)"[^>]*>((?:<tspan.*?</tspan>)+)', svg):
        assert float(y) + 17 * (inner.count("<tspan") - 1) <= height
    assert " ".join(re.findall(r">([^<]+)</tspan>", svg)).count("very long segment") == 8
