"""Respondent page rendering: how long one thread takes to build a page, in process.

Seeds a fresh SQLite database with a published questionnaire (30 required 7-point items on
one page, and the same 30 statements as three 10-row matrices on another), starts a response
through the real consent form, then times the respondent step that serves each page (find the
link, read the response, build the questions, render the template) and the consent page:
no HTTP, no middleware, so what is measured is the page code alone. Prints the median and the
10th/90th percentiles of ``--repeats`` runs of each.

Usage: ``python bench/respond_page.py [--repeats 2000]``
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "platform"), str(ROOT), str(Path(__file__).parent)]

FIELDS = re.compile(r'name="(csrf_token|submission_key)" value="([^"]+)"')
ITEMS = 30


def definition_with_matrices():
    """30 likert items on page 1, the same statements as three 10-row matrices on page 2."""
    from seed import rating_definition

    from surveys.definition import QuestionnaireDefinition

    data = rating_definition(ITEMS, per_page=ITEMS).model_dump(mode="json")
    items = data["sections"][0]["items"]
    matrices = [
        {
            "type": "matrix",
            "code": f"m{block + 1}",
            "label": {"en": "How much do you agree?", "zh-CN": "您在多大程度上同意?"},
            "required": True,
            "scale": items[0]["scale"],
            "rows": [
                {"code": f"r{number + 1}", "label": items[number]["label"]}
                for number in range(block * 10, block * 10 + 10)
            ],
        }
        for block in range(3)
    ]
    data["sections"].append({"code": "matrices", "title": data["sections"][0]["title"]})
    data["sections"][1]["items"] = matrices
    return QuestionnaireDefinition.model_validate(data)


def timed(call, repeats: int) -> list[float]:
    for _ in range(min(50, repeats)):  # warm the caches and the template
        call()
    times = []
    for _ in range(repeats):
        began = time.perf_counter()
        call()
        times.append((time.perf_counter() - began) * 1000)
    return sorted(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=2000)
    args = parser.parse_args()

    from fastapi.testclient import TestClient
    from seed import open_wave
    from sqlmodel import Session, SQLModel, select
    from starlette.requests import Request

    import loyaltylab.models  # noqa: F401
    from loyaltylab.app import create_app
    from loyaltylab.fieldwork.models import Response
    from loyaltylab.respond import routes as respond
    from loyaltylab.respond import steps
    from loyaltylab.settings import Settings

    with tempfile.TemporaryDirectory() as directory:
        settings = Settings(
            env="test",
            database_url=f"sqlite:///{directory}/bench.db",
            secret_key="bench-" + "k" * 40,
            base_url="https://bench.example",
        )
        app = create_app(settings)
        SQLModel.metadata.create_all(app.state.engine)
        with Session(app.state.engine) as session:
            slug = open_wave(session, definition_with_matrices()).public_slug
        # The site's own name: another Host is refused.
        with TestClient(app, base_url="https://bench.example") as client:
            consent = client.get(f"/s/{slug}", headers={"accept-language": "zh-CN"})
            form = dict(FIELDS.findall(consent.text))
            client.post(f"/s/{slug}/start", data={**form, "consent": "yes"})
            cookies = "; ".join(f"{name}={value}" for name, value in client.cookies.items())
        with Session(app.state.engine) as session:
            response = session.exec(select(Response)).one()
            response.current_page = 1  # both pages may be shown
            session.add(response)
            session.commit()

        def request(path: str) -> Request:
            scope = {
                "type": "http",
                "method": "GET",
                "path": path,
                "root_path": "",
                "query_string": b"",
                "headers": [(b"cookie", cookies.encode()), (b"accept-language", b"zh-CN")],
                "app": app,
                "session": {},
                "router": app.router,
            }
            return Request(scope)

        def page(number: int):
            path = f"/s/{slug}/page/{number}"
            return lambda: respond._step(
                request(path), respond.public_access, slug, steps.show_page, (number,)
            )

        def consent_page():
            fresh = request(f"/s/{slug}")
            fresh.scope["headers"] = [(b"accept-language", b"zh-CN")]
            return respond._step(fresh, respond.public_access, slug, steps.entry, ())

        for name, call in (
            ("30 rating items, one page", page(0)),
            ("3 matrices of 10 rows", page(1)),
            ("consent page", consent_page),
        ):
            status = call().status_code
            times = timed(call, args.repeats)
            deciles = statistics.quantiles(times, n=10)
            print(
                f"{name:28} median {statistics.median(times):6.2f} ms"
                f"   p10 {deciles[0]:6.2f}   p90 {deciles[-1]:6.2f}   (status {status})"
            )
        app.state.engine.dispose()


if __name__ == "__main__":
    main()
