"""The app's routes enumerated, with the values and forms that reach each one, and a tenant's
footprint in the database: what the tenancy and client-access tests walk."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from sqlalchemy import select as select_rows
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel
from starlette.routing import Mount, Route

from loyaltylab.accounts.models import Role
from loyaltylab.app import create_app
from loyaltylab.settings import Settings

# Path parameter -> fixture creating organisation A's object (with an ``id``) for it.
PATH_PARAM_FIXTURES = {
    "study_id": "study",
    "membership_id": "researcher_membership",
    "wave_id": "wave",
    "response_id": "phone_response",
    "page": "first_page",
    "questionnaire_id": "questionnaire",
    "code": "questionnaire_item",
    "contact_id": "contact",
    "report_id": "report",
    "kind": "report_file_kind",
    "session_id": "owner_session",
    "rule_id": "alert_rule",
    "case_id": "followup_case",
    "action_id": "improvement_action",
    "subscription_id": "webhook",
    "delivery_id": "webhook_delivery",
    "key_id": "organisation_api_key",
}


# Path parameters of public routes: secrets in the link, not object ids.
PUBLIC_PATH_PARAMS = {"token": "not-a-valid-token", "key": "not-a-valid-key", "page": "1"}


# Reachable without signing in, by design. Anything else must send anonymous users to log in.
PUBLIC_ROUTES = frozenset(
    {
        ("GET", "/signup"),
        ("POST", "/signup"),
        ("GET", "/signup/confirm/{token}"),
        ("POST", "/signup/confirm/{token}"),
        ("GET", "/login"),
        ("POST", "/login"),
        ("POST", "/logout"),
        ("POST", "/language"),
        ("GET", "/password/forgot"),
        ("POST", "/password/forgot"),
        ("GET", "/password/reset/{token}"),
        ("POST", "/password/reset/{token}"),
        ("GET", "/invite/{token}"),
        ("POST", "/invite/{token}"),
        ("GET", "/healthz"),
        ("GET", "/readyz"),
        # The API's reference describes the API, never an organisation's data.
        ("GET", "/api/docs"),
        # A contact opts out of a study's e-mails through the signed link in every e-mail.
        ("GET", "/o/{token}"),
        ("POST", "/o/{token}"),
        # Respondents answer through a public (/s/) or personal (/i/) link, without an account.
        *(
            (method, prefix + page)
            for prefix in ("/s/{key}", "/i/{key}")
            for method, page in (
                ("GET", ""),
                ("POST", "/start"),
                ("GET", "/page/{page}"),
                ("POST", "/page/{page}"),
                ("GET", "/done"),
                ("GET", "/saved"),
                ("POST", "/language"),
            )
        ),
        ("GET", "/s/{key}/resume/{token}"),
    }
)


# /sms/inbound: the SMS gateway posts replies there, authenticated by its signature or token
# (tests/loyaltylab/sms/test_sms.py), not by a browser session.
PUBLIC_MOUNTS = frozenset({"/static", "/sms"})
# Applications of their own that sessions never reach: the API takes organisation keys, and
# tests/loyaltylab/api/test_api.py walks its routes the same way with a second organisation's key.
KEY_MOUNTS = frozenset({"/api/v1"})


# Routes that end the caller's own session: walked last.
SESSION_ENDING = frozenset({"/logout", "/account/sessions/end-all"})


# A valid value per form field name, so that a request gets past validation.
FORM_VALUES: dict[str, Callable[[dict[str, Any]], str]] = {
    "email": lambda a: "someone.new@fabrikam.example",
    "password": lambda a: "a brand new passphrase",
    "name": lambda a: "Probe",
    "organisation": lambda a: "Probe Ltd",
    "role": lambda a: Role.client.value,
    "lang": lambda a: "en",
    "next": lambda a: "/studies",
    "organisation_id": lambda a: str(a["organisation"].id),
    "client": lambda a: str(a["client"].id),
    "company_name_en": lambda a: "Probe",
    "company_name_zh": lambda a: "Probe",
    "description": lambda a: "Probe",
    "new_client": lambda a: "",
    "version_id": lambda a: "1",
    "action": lambda a: "close",
    "excluded": lambda a: "1",
    "confirm": lambda a: "erase",
    "release_open_text": lambda a: "1",
    "retention_months": lambda a: "12",
    "language": lambda a: "en",
    "bootstrap": lambda a: "0",
    "locale": lambda a: "en",
    "quota_source": lambda a: "contact",
    "quota_attribute": lambda a: "",
    "ids": lambda a: "1",
    "reason": lambda a: "probe",
    "back": lambda a: "",
    "time_zone": lambda a: "Asia/Shanghai",
}


UNSAFE_METHODS = ("POST", "PUT", "PATCH", "DELETE")


def walking_order(endpoint: Endpoint) -> tuple[bool, bool]:
    """Reads first, then changes, then whatever signs the walker out."""
    return endpoint.method in UNSAFE_METHODS, endpoint.path in SESSION_ENDING


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str
    route: APIRoute | Route

    @property
    def label(self) -> str:
        return f"{self.method} {self.path}"

    @property
    def is_public(self) -> bool:
        return (self.method, self.path) in PUBLIC_ROUTES

    @property
    def path_params(self) -> list[str]:
        return list(getattr(self.route, "param_convertors", {}))


def walk_routes(routes: list[Any], prefix: str) -> Iterator[Endpoint]:
    for route in routes:
        if hasattr(route, "original_router"):  # FastAPI 0.165: an include_router() branch
            yield from walk_routes(
                route.original_router.routes, prefix + route.include_context.prefix
            )
        elif isinstance(route, Mount):
            if prefix + route.path not in PUBLIC_MOUNTS | KEY_MOUNTS:
                raise AssertionError(
                    f"Mount {prefix + route.path} is not covered: enumerate its routes here "
                    "or list it in PUBLIC_MOUNTS if it is public."
                )
        elif isinstance(route, APIRoute | Route):
            for method in sorted((route.methods or set()) - {"HEAD"}):
                yield Endpoint(method, prefix + route.path, route)
        else:
            raise AssertionError(f"Unknown kind of route {route!r}: teach _walk about it.")


def app_endpoints(app: FastAPI) -> list[Endpoint]:
    return list(walk_routes(app.routes, ""))


def enumerate_endpoints() -> list[Endpoint]:
    probe = create_app(
        Settings(env="test", database_url="sqlite://", secret_key="k" * 40, base_url="https://x")
    )
    try:
        return app_endpoints(probe)
    finally:
        probe.state.engine.dispose()


ENDPOINTS = enumerate_endpoints()


# Strings that only organisation A's data contains: none may show up in B's responses.
A_STUDY_NAME = "Northwind private tracker"
A_MARKERS = (A_STUDY_NAME, "owner@northwind.example", "Northwind Research", "Contoso Retail")

CONTACT_EMAIL = "maria.lopez@customer.example"
CONTACT_PHONE = "+86 138 0013 8000"


def path_values(endpoint: Endpoint, request: pytest.FixtureRequest) -> dict[str, str] | str:
    """Organisation A's object id for each path parameter, or an explanation of what's missing."""
    values = {}
    for name in endpoint.path_params:
        if endpoint.is_public and name in PUBLIC_PATH_PARAMS:
            values[name] = PUBLIC_PATH_PARAMS[name]
        elif name in PATH_PARAM_FIXTURES:
            values[name] = str(request.getfixturevalue(PATH_PARAM_FIXTURES[name]).id)
        else:
            return (
                f"{endpoint.label}: unknown path parameter {{{name}}}. Add it to "
                "PATH_PARAM_FIXTURES in tests/loyaltylab/tenancy_support.py with a fixture that "
                "creates organisation A's object, so that the tenancy tests cover this route. "
                "If the route is public by design (no sign-in), list it in PUBLIC_ROUTES and "
                "give its parameters a value in PUBLIC_PATH_PARAMS instead."
            )
    return values


def endpoint_url(endpoint: Endpoint, values: dict[str, str]) -> str:
    return endpoint.path.format(**values)


def form_data(endpoint: Endpoint, tenant: dict[str, Any]) -> dict[str, str]:
    """Every form field the route reads, filled with a valid value (ids of organisation A)."""
    fields: dict[str, str] = {}
    dependant = getattr(endpoint.route, "dependant", None)
    for param in getattr(dependant, "body_params", []):
        annotation = param.field_info.annotation
        names = list(getattr(annotation, "model_fields", {})) or [param.alias]
        for name in names:
            fields[name] = FORM_VALUES[name](tenant) if name in FORM_VALUES else "probe"
    return fields


def footprint(engine: Engine, organisation_ids: set[int]) -> dict[str, dict[Any, tuple]]:
    """Every row belonging to these organisations, followed through foreign keys.

    A row belongs to them if a foreign key leads to a row that does (a study of A, a question of
    that study, ...), plus the rows such rows refer to (A's members' accounts).
    """
    tables = SQLModel.metadata.sorted_tables
    with engine.connect() as connection:
        rows = {
            table.name: {
                tuple(row._mapping[c.name] for c in table.primary_key.columns): dict(row._mapping)
                for row in connection.execute(select_rows(table))
            }
            for table in tables
        }
    owned: dict[str, set[Any]] = defaultdict(set)
    owned["organisation"] = {(org_id,) for org_id in organisation_ids}

    def refers_to_owned(table: Any, row: dict[str, Any]) -> bool:
        return any(
            (row[fk.parent.name],) in owned[fk.column.table.name]
            for fk in table.foreign_keys
            if row[fk.parent.name] is not None
        )

    grew = True
    while grew:
        grew = False
        for table in tables:
            for key, row in rows[table.name].items():
                if key not in owned[table.name] and refers_to_owned(table, row):
                    owned[table.name].add(key)
                    grew = True
    referenced: dict[str, set[Any]] = defaultdict(set)
    for table in tables:
        for key in owned[table.name]:
            for fk in table.foreign_keys:
                value = rows[table.name][key][fk.parent.name]
                if value is not None:
                    referenced[fk.column.table.name].add((value,))
    return {
        table.name: {
            key: tuple(sorted(rows[table.name][key].items()))
            for key in (owned[table.name] | referenced[table.name]) & rows[table.name].keys()
        }
        for table in tables
    }
