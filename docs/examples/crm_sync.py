"""Push a CRM's customers to a LoyaltyLab study and report closed complaints as events.

Run it from a CRM's scheduled jobs (standard library only, Python 3.9+)::

    export LOYALTYLAB_API_KEY=llk_...            # a write key: Organisation -> API keys
    python crm_sync.py --base-url https://loyalty.example.com --study 12 --wave 34 \\
        --customers customers.csv --complaints closed_complaints.csv

``customers.csv`` has a header and the columns ``external_id`` and any of ``email``, ``phone``,
``name``, ``language``, ``tier``, ``region``, ``tenure``, ``spend``, ``channel``; other columns
become attributes. ``closed_complaints.csv`` has ``external_id`` and ``case_id``: each closed
case is reported once as a ``complaint_closed`` event, with the case id as the event id, so
running the script again never invites anyone twice. See docs/api.md.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
import time
import urllib.error
import urllib.request
from typing import Any

BATCH = 500
NAMED = ("email", "phone", "name", "language", "tier", "region", "channel")
NUMBERS = ("tenure", "spend")


class ApiError(Exception):
    """A problem document the API answered with."""

    def __init__(self, problem: dict[str, Any]) -> None:
        fields = "; ".join(f"{e['field']}: {e['message']}" for e in problem.get("errors", []))
        super().__init__(f"{problem.get('status')} {problem.get('detail')} {fields}".strip())
        self.problem = problem


class LoyaltyLab:
    def __init__(self, base_url: str, key: str) -> None:
        self.base = base_url.rstrip("/") + "/api/v1"
        self.key = key

    def call(self, method: str, path: str, body: Any = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            self.base + path,
            data=data,
            method=method,
            headers={"Authorization": f"Bearer {self.key}", "Content-Type": "application/json"},
        )
        for _attempt in range(5):
            try:
                with urllib.request.urlopen(request, timeout=30) as response:
                    return json.load(response)
            except urllib.error.HTTPError as error:
                if error.code == 429:  # over the key's rate limit: wait as told, then again
                    time.sleep(int(error.headers.get("Retry-After", "5")))
                    continue
                raise ApiError(json.load(error)) from None
        raise RuntimeError("still rate-limited after 5 attempts")


def contact_row(row: dict[str, str]) -> dict[str, Any]:
    contact: dict[str, Any] = {"external_id": row["external_id"].strip()}
    attributes = {}
    for column, value in row.items():
        value = (value or "").strip()
        if column == "external_id" or not value:
            continue
        if column in NAMED:
            contact[column] = value
        elif column in NUMBERS:
            contact[column] = float(value)
        else:
            attributes[column] = value
    if attributes:
        contact["attributes"] = attributes
    return contact


def push_customers(api: LoyaltyLab, study: int, path: str) -> tuple[int, int]:
    with open(path, newline="", encoding="utf-8-sig") as handle:
        contacts = [contact_row(row) for row in csv.DictReader(handle)]
    created = updated = 0
    for start in range(0, len(contacts), BATCH):
        result = api.call(
            "POST", f"/studies/{study}/contacts", {"contacts": contacts[start : start + BATCH]}
        )
        created, updated = created + result["created"], updated + result["updated"]
    return created, updated


def report_complaints(api: LoyaltyLab, wave: int, path: str) -> dict[str, int]:
    outcomes: dict[str, int] = {}
    with open(path, newline="", encoding="utf-8-sig") as handle:
        for row in csv.DictReader(handle):
            event = {
                "external_id": row["external_id"].strip(),
                "event": "complaint_closed",
                "event_id": f"complaint-{row['case_id'].strip()}",
            }
            outcome = api.call("POST", f"/waves/{wave}/events", event)["outcome"]
            outcomes[outcome] = outcomes.get(outcome, 0) + 1
    return outcomes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--study", type=int, required=True)
    parser.add_argument("--wave", type=int, required=True)
    parser.add_argument("--customers", help="CSV of customers to push")
    parser.add_argument("--complaints", help="CSV of closed complaints (external_id, case_id)")
    args = parser.parse_args(argv)
    key = os.environ.get("LOYALTYLAB_API_KEY", "")
    if not key:
        print("Set LOYALTYLAB_API_KEY to a write key of your organisation.", file=sys.stderr)
        return 2
    api = LoyaltyLab(args.base_url, key)
    try:
        if args.customers:
            created, updated = push_customers(api, args.study, args.customers)
            print(f"contacts: {created} created, {updated} updated")
        if args.complaints:
            outcomes = report_complaints(api, args.wave, args.complaints)
            print("complaint events: " + ", ".join(f"{n} {k}" for k, n in sorted(outcomes.items())))
    except ApiError as error:
        print(f"LoyaltyLab refused: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
