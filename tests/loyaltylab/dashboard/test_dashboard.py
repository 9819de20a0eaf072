"""The trend dashboard: indices, NPS and change computed from stored responses, SVG charts
with data tables, client visibility and the open-text release."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from analysis.invariance import measurement_invariance
from analysis.trends import trend_indices
from loyaltylab.accounts.models import Organisation, Role
from loyaltylab.dashboard.charts import Series, trend_chart
from loyaltylab.dashboard.service import build_dashboard
from loyaltylab.fieldwork import service as fieldwork
from loyaltylab.fieldwork.models import Channel, Response, ResponseStatus, WaveStatus
from loyaltylab.studies.models import Study
from tests.loyaltylab.fieldwork_support import TRACKER_QUESTIONNAIRE, fielded_wave, publish
from tests.loyaltylab.reports_support import fielded_waves

SECRET_COMMENT = "The manager Mr Zhang was rude"


@pytest.fixture
def tracked_study(session: Session, study: Study) -> Study:
    version = publish(session, study, TRACKER_QUESTIONNAIRE)
    rng = np.random.default_rng(7)
    first = [[int(rng.integers(1, 4)), 3, 6, None] for _ in range(40)]
    second = [[int(rng.integers(3, 6)), 1, 10, SECRET_COMMENT] for _ in range(40)]
    fielded_wave(session, study, version.id, "2026-Q1", first)
    fielded_wave(session, study, version.id, "2026-Q2", second)
    return study


def test_the_page_shows_indices_nps_and_significant_change_with_tables(
    app: FastAPI, tracked_study: Study, owner: Any, login: Callable
) -> None:
    browser = TestClient(app, base_url="https://testserver")
    login(browser, owner.email)
    page = browser.get(f"/studies/{tracked_study.id}/dashboard")
    assert page.status_code == 200
    assert page.text.count("<svg") == 2  # SAT and NPS
    assert "<table" in page.text and "Satisfaction" in page.text
    # Wave 1: every NPS answer is 6 (detractor) -> -100; wave 2: all 10 -> +100.
    assert "-100.0" in page.text and "200.0" in page.text
    assert "<strong>*</strong>" in page.text
    assert SECRET_COMMENT in page.text  # researchers read open text


def test_the_index_agrees_with_a_hand_computation(session: Session, tracked_study: Study):
    from loyaltylab.fieldwork.data import responses_dataframe
    from loyaltylab.fieldwork.models import Wave

    waves = session.exec(
        select(Wave).where(Wave.study_id == tracked_study.id).order_by(Wave.id)
    ).all()
    data = responses_dataframe(session, [w.id for w in waves])
    data["wave"] = data["wave_id"].map({w.id: w.name for w in waves})
    result = trend_indices(
        data,
        wave="wave",
        constructs={"SAT": ["sat1", "sat2"]},
        scale_ranges={"sat1": (1, 5), "sat2": (1, 5)},
        reverse=["sat2"],
    )
    first = data[data["wave"] == "2026-Q1"]
    expected = (((first["sat1"] - 1) / 4 * 100 + (5 - first["sat2"]) / 4 * 100) / 2).mean()
    assert result.loc[0, "value"] == pytest.approx(expected)
    assert result.loc[1, "pvalue"] < 0.001


def test_a_client_sees_open_text_only_once_released(
    app: FastAPI,
    session: Session,
    tracked_study: Study,
    client_organisation: Organisation,
    make_member: Callable,
    login: Callable,
) -> None:
    make_member(client_organisation, email="viewer@contoso.example", role=Role.client)
    browser = TestClient(app, base_url="https://testserver")
    login(browser, "viewer@contoso.example")
    page = browser.get(f"/studies/{tracked_study.id}/dashboard")
    assert page.status_code == 200 and "<svg" in page.text
    assert SECRET_COMMENT not in page.text
    tracked_study.release_open_text = True
    session.add(tracked_study)
    session.commit()
    assert SECRET_COMMENT in browser.get(f"/studies/{tracked_study.id}/dashboard").text


def test_a_segment_breakdown_uses_contact_attributes(
    app: FastAPI, session: Session, study: Study, owner: Any, login: Callable
) -> None:
    version = publish(session, study, TRACKER_QUESTIONNAIRE)
    contacts = fieldwork.add_contacts(
        session,
        study_id=study.id,
        organisation_id=study.organisation_id,
        rows=[{"external_id": str(i), "attributes": {"tier": t}} for i, t in enumerate("gs")],
    )
    wave = fielded_wave(session, study, version.id, "W1", [])
    for contact, score in zip(contacts, (5, 1), strict=True):
        session.add(
            Response(
                organisation_id=study.organisation_id,
                wave_id=wave.id,
                questionnaire_version_id=version.id,
                channel=Channel.web,
                language="en",
                status=ResponseStatus.complete,
                contact_id=contact.id,
                answer_values=[score, 6 - score, 9, None],
            )
        )
    session.commit()
    browser = TestClient(app, base_url="https://testserver")
    login(browser, owner.email)
    page = browser.get(f"/studies/{study.id}/dashboard?segment=contact:tier").text
    assert "<td>g</td>" in page and "<td>s</td>" in page
    assert "100.0" in page and "0.0" in page


def test_chart_text_is_escaped() -> None:
    svg = trend_chart(["<w1>", "w2"], [Series("<script>", [(50, 40, 60), None])], low=0, high=100)
    assert "<script>" not in svg and "&lt;script&gt;" in svg and "&lt;w1&gt;" in svg


def _closed(session: Session, waves: list[Any]) -> list[Any]:
    for wave in waves:
        wave.status = WaveStatus.closed
        session.add(wave)
    session.commit()
    return waves


def test_measurement_invariance_across_two_waves_is_shown(
    app: FastAPI, session: Session, study: Study, owner: Any, login: Callable
) -> None:
    from loyaltylab.fieldwork.data import responses_dataframe

    waves = _closed(
        session, fielded_waves(session, study, names=("2026-Q1", "2026-Q2"), completes=200)
    )
    browser = TestClient(app, base_url="https://testserver")
    login(browser, owner.email)
    page = browser.get(f"/studies/{study.id}/dashboard").text
    assert "Measurement invariance across waves" in page
    assert "2026-Q1 n=200, 2026-Q2 n=200" in page
    for level in ("Configural", "Metric", "Scalar"):
        assert f'<th scope="row">{level}</th>' in page

    # The page shows what the analysis library computes from the stored responses.
    dashboard = build_dashboard(session, study, segment=None, with_open_text=False, language="en")
    invariance = dashboard.invariance
    assert invariance is not None and invariance.problem is None
    data = responses_dataframe(session, [wave.id for wave in waves])
    data["wave"] = data["wave_id"].map({wave.id: wave.name for wave in waves})
    definition = fieldwork.definition_for(session, waves[0].questionnaire_version_id)
    points = {v.code: v.item.scale.points for v in definition.variables() if v.construct}
    for item in definition.reverse_keyed():
        data[item] = 1 + points[item] - data[item]
    expected = measurement_invariance(
        data,
        constructs=dashboard.invariance_constructs,
        group="wave",
        group_order=["2026-Q1", "2026-Q2"],
    )
    pd.testing.assert_frame_equal(invariance.table, expected)
    assert f"{expected.loc[2, 'cfi']:.3f}" in page
    # Both waves were simulated from one population model: the measurement is the same.
    assert invariance.highest_level == "scalar"
    assert "Scalar invariance holds" in page


def test_invariance_says_why_it_was_not_tested(
    app: FastAPI, session: Session, tracked_study: Study, owner: Any, login: Callable
) -> None:
    browser = TestClient(app, base_url="https://testserver", headers={"Accept-Language": "zh-CN"})
    login(browser, owner.email)
    page = browser.get(f"/studies/{tracked_study.id}/dashboard").text
    # 40 answers per wave to the two SAT items: too few for a factor model.
    dashboard = build_dashboard(
        session, tracked_study, segment=None, with_open_text=False, language="en"
    )
    invariance = dashboard.invariance
    assert invariance is not None and invariance.problem == "too_few_answers"
    assert (invariance.sizes[invariance.group], invariance.needed) == (40, 50)
    assert "测量不变性" in page and "40" in page and "Not tested" not in page


def test_invariance_needs_two_waves(session: Session, study: Study) -> None:
    _closed(session, fielded_waves(session, study, names=("2026-Q1",), completes=60))
    dashboard = build_dashboard(session, study, segment=None, with_open_text=False, language="en")
    invariance = dashboard.invariance
    assert invariance is not None and invariance.problem == "one_group" and invariance.table is None
