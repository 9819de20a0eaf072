"""Sign-in timing tells nobody which addresses have accounts: with the real argon2 parameters,
an unknown or inactive address takes as long as a known one with a wrong password."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

import pytest
from argon2 import PasswordHasher
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session

from loyaltylab import security
from loyaltylab.accounts.models import Organisation
from tests.web_support import create_member

ATTEMPTS = 3


@pytest.mark.slow
def test_an_unknown_or_inactive_address_takes_as_long_as_a_known_one(
    app: FastAPI,
    session: Session,
    organisation: Organisation,
    csrf: Callable,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(security, "_hasher", PasswordHasher())  # production parameters
    create_member(session, organisation, email="known@northwind.example")
    inactive = create_member(session, organisation, email="inactive@northwind.example")
    inactive.is_active = False
    session.add(inactive)
    session.commit()
    browser = TestClient(app, base_url="https://testserver")

    def seconds_to_refuse(email: str) -> float:
        token = csrf(browser, "/login")
        started = time.perf_counter()
        response = browser.post(
            "/login", data={"email": email, "password": "not the password", "csrf_token": token}
        )
        elapsed = time.perf_counter() - started
        assert response.status_code == 400
        return elapsed

    emails = ("known@northwind.example", "nobody@northwind.example", "inactive@northwind.example")
    # Interleaved, so that a burst of load on the machine hits every kind alike.
    samples: dict[str, list[float]] = {email: [] for email in emails}
    for _ in range(ATTEMPTS):
        for email in emails:
            samples[email].append(seconds_to_refuse(email))
    median = {email: statistics.median(times) for email, times in samples.items()}
    known, unknown, inactive_time = (median[email] for email in emails)
    # Without the dummy check the unknown address answered in ~3% of the known one's time.
    assert unknown > 0.6 * known, median
    assert inactive_time > 0.6 * known, median
