"""Fuzzing every route: random path parameters, query parameters and form fields, signed in as
an owner with a valid CSRF token, never get a 500.

The routes and the fields each reads are taken from the application (as the tenancy tests
take them), so new routes are fuzzed without editing this file. Hypothesis draws the requests
from a fixed seed with a bounded number of examples: the run is the same every time and takes
well under a minute.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st

from loyaltylab.accounts.models import Organisation, User
from loyaltylab.security import CSRF_HEADER
from tests.loyaltylab.tenancy_support import (
    ENDPOINTS,
    FORM_VALUES,
    PATH_PARAM_FIXTURES,
    PUBLIC_PATH_PARAMS,
    SESSION_ENDING,
    Endpoint,
)
from tests.web_support import csrf_from

FUZZED = [endpoint for endpoint in ENDPOINTS if endpoint.path not in SESSION_ENDING]
EXAMPLES = 400

# What users and attackers type: text of any script, NUL and control characters, numbers far
# beyond any integer column, numbers written oddly, very long text.
awkward_text = st.one_of(
    st.text(max_size=40),
    st.sampled_from(
        ["", " ", "\x00", "a\x00b", "-1", "0", "1.5", "1e309", "NaN", "../..", "%", "²", "٣"]
    ),
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.just("9" * 5000),
    st.text(alphabet="满意度Zoé<>&\"'", min_size=1000, max_size=3000),
)


def _fields(endpoint: Endpoint, kind: str) -> list[str]:
    """The names of the route's (and its dependencies') query or form parameters."""
    names: list[str] = []
    pending = [getattr(endpoint.route, "dependant", None)]
    while pending:
        dependant = pending.pop()
        if dependant is None:
            continue
        params = dependant.query_params if kind == "query" else dependant.body_params
        for param in params:
            model_fields = getattr(param.field_info.annotation, "model_fields", {})
            names.extend(list(model_fields) or [param.alias])
        pending.extend(dependant.dependencies)
    return list(dict.fromkeys(names))


@pytest.fixture
def owner_client(
    client: TestClient, owner: User, tenant_a: dict[str, Any], login: Callable
) -> TestClient:
    login(client, owner.email)
    client.headers[CSRF_HEADER] = csrf_from(client, "/account")
    return client


@pytest.fixture
def valid_path_values(request: pytest.FixtureRequest) -> dict[str, str]:
    """A valid value (organisation A's object) of every path parameter of the app."""
    return {
        name: str(request.getfixturevalue(fixture).id)
        for name, fixture in PATH_PARAM_FIXTURES.items()
    } | {name: value for name, value in PUBLIC_PATH_PARAMS.items() if name not in ("page",)}


def test_the_fuzzed_routes_read_path_query_and_form_parameters() -> None:
    assert len(FUZZED) > 100
    assert "wave" in _fields(
        next(e for e in FUZZED if e.label == "GET /studies/{study_id}/exports/data.csv"), "query"
    )
    assert {"name", "client"} <= set(
        _fields(next(e for e in FUZZED if e.label == "POST /studies/{study_id}"), "form")
    )


@pytest.mark.slow
@seed(20261206)
@settings(
    max_examples=EXAMPLES,
    derandomize=True,
    deadline=None,
    database=None,
    phases=[Phase.explicit, Phase.generate],  # shrinking would take minutes; the example says all
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)
@given(data=st.data())
def test_no_route_answers_500_to_any_parameters_or_form(
    owner_client: TestClient,
    tenant_a: dict[str, Any],
    valid_path_values: dict[str, str],
    data: st.DataObject,
) -> None:
    endpoint = data.draw(st.sampled_from(FUZZED), label="route")
    path_values = {
        name: data.draw(
            st.one_of(st.just(valid_path_values.get(name, "1")), awkward_text), label=name
        )
        for name in endpoint.path_params
    }
    url = endpoint.path.format(**{name: quote(v, safe="") for name, v in path_values.items()})
    query = {name: data.draw(awkward_text, label=f"?{name}") for name in _fields(endpoint, "query")}
    form: dict[str, str] = {}
    if endpoint.method != "GET":
        for name in _fields(endpoint, "form"):
            valid = FORM_VALUES[name](tenant_a) if name in FORM_VALUES else "probe"
            form[name] = data.draw(st.one_of(st.just(valid), awkward_text), label=name)
    response = owner_client.request(
        endpoint.method,
        url,
        params=query,
        data=form or None,
        follow_redirects=False,
    )
    assert response.status_code < 500, _shortened(f"{endpoint.label} {url} {query} {form}")


def _shortened(text: str) -> str:
    return text if len(text) < 2000 else f"{text[:1000]} … {text[-500:]}"


def test_fuzzing_sees_the_owners_pages(owner_client: TestClient, tenant_a: Any) -> None:
    """The fuzzing is signed in: what it gets past is the real route, not the login page."""
    assert isinstance(tenant_a["organisation"], Organisation)
    assert owner_client.get("/studies").status_code == 200
