"""The respondent hot path: concurrent respondents over real HTTP, write turns, route order,
and the cache of parsed questionnaire versions."""

from __future__ import annotations

import asyncio
import copy
import re
import threading
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from sqlalchemy import func
from sqlmodel import Session, select
from starlette.routing import Match

from loyaltylab.accounts.models import Organisation
from loyaltylab.app import HEALTH_ROUTES, SESSION_COOKIE
from loyaltylab.db import TurnTakingSession, serialized_writes
from loyaltylab.fieldwork import service as fieldwork
from loyaltylab.fieldwork.models import Response, ResponseStatus, SubmissionKey
from loyaltylab.middleware import EdgeMiddleware
from loyaltylab.questionnaires import service as questionnaires
from loyaltylab.questionnaires.models import QuestionnaireVersion
from loyaltylab.respond import form as questions_form
from loyaltylab.respond import routes as respond
from loyaltylab.respond import service as respondent_service
from loyaltylab.settings import Settings
from tests.loyaltylab.fieldwork_support import FIELDWORK_QUESTIONNAIRE, publish
from tests.web_support import sql_statements

FORM = re.compile(r'name="(csrf_token|submission_key)" value="([^"]+)"')
ABOUT_NO = {"complained": "no", "visits": "3"}
LOYALTY = {"nps": "9", "sat1": "4", "channels": ["web", "app"], "region": "north", "attn": "app"}
RESPONDENTS = 40


@pytest.fixture
def settings(settings: Settings) -> Settings:
    # Served over plain HTTP here: cookies must not be Secure, or httpx would not send them.
    return settings.model_copy(update={"base_url": "http://127.0.0.1"})


def complete_questionnaire(live_url: str, slug: str) -> list[int]:
    """One respondent with its own cookies: consent, page 0 (refused, then answered), page 2,
    the thank-you page. Returns every status code seen."""
    statuses = []
    with httpx.Client(base_url=live_url, timeout=60) as client:

        def get(path: str) -> httpx.Response:
            response = client.get(path)
            statuses.append(response.status_code)
            return response

        def post(path: str, data: dict) -> httpx.Response:
            form = dict(FORM.findall(get(path.removesuffix("/start")).text))
            response = client.post(path, data={**form, **data})
            statuses.append(response.status_code)
            return response

        page = post(f"/s/{slug}/start", {"consent": "yes"}).headers["location"]
        post(page, {"action": "next"})  # nothing answered: the page comes back, 400
        page = post(page, {**ABOUT_NO, "action": "next"}).headers["location"]
        done = post(page, {**LOYALTY, "action": "next"}).headers["location"]
        thanks = get(done)
        statuses.append(200 if 'role="status"' in thanks.text else 0)
    return statuses


@pytest.mark.slow
def test_concurrent_respondents_are_all_acknowledged_and_stored(live_url, session, wave):
    with ThreadPoolExecutor(RESPONDENTS) as pool:
        runs = list(
            pool.map(
                lambda _: complete_questionnaire(live_url, wave.public_slug), range(RESPONDENTS)
            )
        )
    for statuses in runs:
        assert statuses == [200, 303, 200, 400, 200, 303, 200, 303, 200, 200]
    session.expire_all()
    complete = select(func.count()).where(Response.status == ResponseStatus.complete)
    assert session.exec(complete).one() == RESPONDENTS
    # consent + page 0 + page 2 per respondent; the refused page stored no key.
    assert session.exec(select(func.count()).select_from(SubmissionKey)).one() == 3 * RESPONDENTS


def test_sqlite_writers_of_a_process_take_turns(engine):
    turn = serialized_writes(engine)
    if engine.dialect.name != "sqlite":
        assert not hasattr(turn, "acquire")  # row locks: nothing to serialise
        return
    assert serialized_writes(engine) is turn
    order: list[str] = []
    with turn:
        waiter = threading.Thread(target=lambda: (turn.acquire(), order.append("second")))
        waiter.start()
        waiter.join(timeout=0.2)
        assert waiter.is_alive()  # waits for the writer in the process
        order.append("first")
    waiter.join(timeout=5)
    turn.release()
    assert order == ["first", "second"]


def test_a_session_holds_the_write_turn_from_its_first_write_to_the_end_of_its_transaction(
    engine,
):
    if engine.dialect.name != "sqlite":
        pytest.skip("SQLite only")
    turn = serialized_writes(engine)
    with TurnTakingSession(engine) as session:
        session.exec(select(Organisation)).all()
        assert not turn.locked()  # reading takes no turn
        session.add(Organisation(name="First"))
        session.flush()
        assert turn.locked()
        other = threading.Thread(target=lambda: write(engine, "Second"))
        other.start()
        other.join(timeout=0.2)
        assert other.is_alive()  # the other writer waits for the turn
        session.commit()
        assert session.info.get("write_turn") is None
    other.join(timeout=5)
    assert not other.is_alive() and not turn.locked()
    with TurnTakingSession(engine) as session:
        session.add(Organisation(name="Rolled back"))
        session.flush()
        session.rollback()
        assert not turn.locked()
    with Session(engine) as session:
        names = session.exec(select(Organisation.name).order_by(Organisation.id)).all()
    assert names == ["First", "Second"]


def write(engine, name: str) -> None:
    with TurnTakingSession(engine) as session:
        session.add(Organisation(name=name))
        session.commit()


def test_every_sqlite_connection_runs_wal_with_normal_sync(engine):
    if engine.dialect.name != "sqlite":
        pytest.skip("SQLite pragmas")
    connections = [engine.connect() for _ in range(3)]  # new ones and, below, pooled ones
    for connection in connections:
        connection.close()
    for _ in range(2):
        with engine.connect() as connection:
            pragmas = {
                name: connection.exec_driver_sql(f"PRAGMA {name}").scalar()
                for name in ("journal_mode", "synchronous", "foreign_keys", "busy_timeout")
            }
        assert pragmas == {
            "journal_mode": "wal",
            "synchronous": 1,  # NORMAL
            "foreign_keys": 1,
            "busy_timeout": 10_000,
        }


def test_health_checks_and_respondent_routes_come_early_and_no_other_route_matches_them(
    app: FastAPI,
):
    routes = app.router.routes
    lean = [*HEALTH_ROUTES, *respond.ROUTES]
    first = routes.index(HEALTH_ROUTES[0])
    # Behind at most the /static and /api/v1 mounts: every route before them is a
    # failed match each of their requests pays for.
    assert first <= 2 and routes[first : first + len(lean)] == lean
    # Plain routes: no FastAPI dependency resolution or parameter parsing per request.
    assert not any(isinstance(route, APIRoute) for route in lean)
    assert app.url_path_for("static", path="app.css") == "/static/app.css"
    others = routes[: first + len(HEALTH_ROUTES)] + routes[first + len(lean) :]
    for path in ("/s/abc", "/s/abc/start", "/s/abc/page/0", "/i/abc/done", "/i/abc/language"):
        for method in ("GET", "POST"):
            scope = {"type": "http", "path": path, "method": method, "root_path": ""}
            matching = [r for r in others if r.matches(dict(scope))[0] != Match.NONE]
            assert matching == [], (method, path)


def middleware_layers(app: FastAPI) -> list[type]:
    """The classes a request passes from the server to the router."""
    layers = []
    layer = app.middleware_stack or app.build_middleware_stack()
    while layer is not app.router:
        layers.append(type(layer))
        layer = layer.app
    return layers


def test_a_request_passes_one_middleware_layer_of_ours(app: FastAPI, client):
    assert client.get("/healthz").text == "ok"
    layers = middleware_layers(app)
    ours = [layer for layer in layers if layer.__module__.startswith("loyaltylab")]
    assert ours == [EdgeMiddleware]
    # FastAPI's own: the error and telemetry wrappers, its body limit, the exception handlers
    # and the exit stack. Before, our eight layers sat among them.
    assert len(layers) <= 6


def sets_session_cookie(response: httpx.Response) -> bool:
    return any(
        value.startswith(SESSION_COOKIE + "=") for value in response.headers.get_list("set-cookie")
    )


def test_the_session_cookie_is_signed_again_only_when_the_session_changes(client, wave, respondent):
    slug = wave.public_slug
    person = respondent(client, f"/s/{slug}")
    assert sets_session_cookie(person.get())  # a new session: its CSRF token
    chosen = person.post("/language", {"language": "en", "next": f"/s/{slug}"})
    assert chosen.status_code == 303 and sets_session_cookie(chosen)  # kept until consent
    unchanged = [person.get(), person.post("/start", {"consent": "yes"})]
    unchanged += [person.get("/page/0"), person.get("/page/0")]
    assert [response.status_code for response in unchanged] == [200, 303, 200, 200]
    assert not any(sets_session_cookie(response) for response in unchanged)
    assert "Cookie" in unchanged[-1].headers["vary"]  # read, so caches must tell sessions apart


def edited(title: str, extra_code: str | None = None) -> dict:
    data = copy.deepcopy(FIELDWORK_QUESTIONNAIRE)
    data["title"] = {"en": title, "zh-CN": title}
    if extra_code:
        data["sections"][0]["items"].append(
            {"type": "short_text", "code": extra_code, "label": {"en": "More", "zh-CN": "更多"}}
        )
    return data


def test_each_published_version_gets_its_own_definition_every_time(session, study):
    first = publish(session, study, edited("First"))
    second = publish(session, study, edited("Second", extra_code="more"))
    for _ in range(3):  # the second and third rounds come from the cache
        one = fieldwork.definition_for(session, first.id)
        two = fieldwork.definition_for(session, second.id)
        assert one.title["en"] == "First" and two.title["en"] == "Second"
        assert "more" not in fieldwork.variable_codes(one)
        assert "more" in fieldwork.variable_codes(two)
        assert fieldwork.page_codes(two, 0) == fieldwork.page_codes(one, 0) | {"more"}
    assert fieldwork.definition_for(session, first.id) is one  # cached, not parsed again


def test_a_draft_is_parsed_again_on_every_call(session, study):
    published = publish(session, study, edited("Published"))
    draft = questionnaires.get_draft(session, study.organisation_id, published.questionnaire_id)
    session.commit()
    before = fieldwork.definition_for(session, draft.id)
    assert fieldwork.definition_for(session, draft.id) is not before
    draft.definition = {**draft.definition, "title": {"en": "Edited", "zh-CN": "改"}}
    draft.definition["sections"][0]["items"].append(
        {"type": "short_text", "code": "later", "label": {"en": "Later", "zh-CN": "稍后"}}
    )
    session.add(draft)
    session.commit()
    after = fieldwork.definition_for(session, draft.id)
    assert after.title["en"] == "Edited"
    assert "later" in fieldwork.variable_codes(after) and "later" in fieldwork.page_codes(after, 0)
    assert "later" not in fieldwork.variable_codes(before)


def test_the_version_cache_is_bounded_and_keeps_the_recently_used(session, study, monkeypatch):
    monkeypatch.setattr(fieldwork.definition_cache, "size", 2)
    versions = [publish(session, study, edited(f"V{n}")) for n in range(3)]
    first = fieldwork.definition_for(session, versions[0].id)
    fieldwork.definition_for(session, versions[1].id)
    assert fieldwork.definition_for(session, versions[0].id) is first  # used again: kept
    third = fieldwork.definition_for(session, versions[2].id)  # evicts V1
    assert len(fieldwork.definition_cache) == 2
    assert fieldwork.definition_for(session, versions[0].id) is first
    assert fieldwork.definition_for(session, versions[2].id) is third
    again = fieldwork.definition_for(session, versions[1].id)
    assert again.title["en"] == "V1"
    assert session.get(QuestionnaireVersion, versions[1].id) is not None


def test_templates_are_not_checked_for_changes_outside_development(settings):
    from loyaltylab.app import create_app
    from loyaltylab.web import templates

    create_app(settings.model_copy(update={"env": "development"}))
    assert templates.env.auto_reload is True
    create_app(settings.model_copy(update={"env": "test"}))
    assert templates.env.auto_reload is False


TOKENS = re.compile(r'(name="(?:csrf_token|submission_key)" value=")[^"]+|data-autosave-key="[^"]+')


def page_without_tokens(person, page: int) -> str:
    return TOKENS.sub(r"\1", person.get(f"/page/{page}").text)


def test_a_page_the_same_for_everyone_is_written_once_as_it_would_be_each_time(
    client, session, wave, respondent, monkeypatch
):
    definition = fieldwork.definition_for(session, wave.questionnaire_version_id)
    # Page 2 has a question shown only for some answers; page 1's condition is the page's own.
    assert [questions_form.is_fixed(s) for s in definition.sections] == [True, True, False]
    memo = fieldwork.definition_memo(definition)
    person = respondent(client, f"/s/{wave.public_slug}")
    person.consent()
    person.answer(0, {"complained": "yes", "visits": "3"})
    assert ("questions", 1, "zh-CN") not in memo
    written_once = page_without_tokens(person, 1)
    assert ("questions", 1, "zh-CN") in memo
    assert page_without_tokens(person, 1) == written_once  # from the memo
    monkeypatch.setattr(questions_form, "is_fixed", lambda section: False)
    assert page_without_tokens(person, 1) == written_once  # as written each time
    monkeypatch.undo()
    assert 'name="ch1"' in written_once and "checked" not in written_once
    # Once answered, the page is written with the answers, not taken from the memo.
    person.answer(1, {"ch1": "2", "ch2": "3"}, action="back")
    assert 'value="2" checked' in person.get("/page/1").text


def test_a_draft_keeps_nothing_written_from_it(session, study):
    published = publish(session, study, edited("Published"))
    draft = questionnaires.get_draft(session, study.organisation_id, published.questionnaire_id)
    session.commit()
    first = fieldwork.definition_memo(fieldwork.definition_for(session, draft.id))
    first["questions"] = "written"
    assert fieldwork.definition_memo(fieldwork.definition_for(session, draft.id)) == {}


def sql_statements_of(engine, call) -> list[str]:
    """The kinds of SQL statement (SELECT, INSERT...) that ``call`` runs, in order."""
    with sql_statements(engine) as statements:
        call()
    return [statement.split()[0].upper() for statement in statements]


def test_each_respondent_step_runs_a_few_statements(client, engine, wave, respondent):
    person = respondent(client, f"/s/{wave.public_slug}")
    steps = {
        "consent page": person.get,
        "consent": lambda: person.post("/start", {"consent": "yes"}),
        "page": lambda: person.get("/page/0"),
        "answer": lambda: person.post("/page/0", {**ABOUT_NO, "action": "next"}),
        "last page": lambda: person.get("/page/2"),
        "complete": lambda: person.post("/page/2", {**LOYALTY, "action": "next"}),
        "thank-you page": lambda: person.get("/done"),
    }
    ran = {name: sql_statements_of(engine, step) for name, step in steps.items()}
    # The link's wave and the browser's response in one query (rows, no ORM objects); the
    # submission key first of the writes, the response again under the lock, its outcome last;
    # one query asks whether a completion has alert rules or webhooks.
    page_read = ["SELECT"]
    answer = ["SELECT", "INSERT", "SELECT", "UPDATE", "UPDATE"]
    assert ran == {
        "consent page": ["SELECT", "SELECT"],  # the wave, who runs the study
        "consent": ["SELECT", "INSERT", "INSERT", "UPDATE"],
        "page": page_read,
        "answer": answer,
        "last page": page_read,
        "complete": [*answer, "SELECT"],
        "thank-you page": page_read,
    }


def where_steps_run(monkeypatch) -> list[str]:
    """Where each respondent step runs from now on: "event loop" or "worker thread"."""
    ran_on: list[str] = []
    step = respond._step

    def noting_where(*args):
        try:
            asyncio.get_running_loop()
            ran_on.append("event loop")
        except RuntimeError:  # a worker thread runs no loop
            ran_on.append("worker thread")
        return step(*args)

    monkeypatch.setattr(respond, "_step", noting_where)
    return ran_on


def test_on_sqlite_every_step_runs_on_the_event_loop_and_on_postgresql_in_a_thread(
    client, engine, wave, respondent, monkeypatch
):
    ran_on = where_steps_run(monkeypatch)
    person = respondent(client, f"/s/{wave.public_slug}")
    person.consent()
    person.get("/page/0")
    # PostgreSQL statements wait for the network: there every step goes to a thread.
    where = "event loop" if engine.dialect.name == "sqlite" else "worker thread"
    assert ran_on == [where] * 3


def test_a_post_meeting_a_busy_sqlite_goes_to_a_thread_that_waits_for_the_lock(
    client, engine, session, wave, respondent, monkeypatch
):
    """The event loop never sleeps in SQLite's busy handler: a step finding the database locked
    (here by another connection's open write) fails at once on the loop, before writing, and
    runs again in a worker thread, which waits for the lock and stores the answer once."""
    if engine.dialect.name != "sqlite":
        pytest.skip("SQLite only")
    person = respondent(client, f"/s/{wave.public_slug}")
    person.consent()
    ran_on = where_steps_run(monkeypatch)
    blocker = engine.connect()
    blocker.exec_driver_sql("BEGIN IMMEDIATE")  # holds the write lock
    release = threading.Timer(0.3, blocker.rollback)
    release.start()
    try:
        posted = person.answer(0, ABOUT_NO)  # reading the page needs no lock (WAL)
    finally:
        release.join()
        blocker.close()
    assert posted.status_code == 303 and posted.headers["location"].endswith("/page/2")
    assert ran_on == ["event loop", "event loop", "worker thread"]
    session.expire_all()
    [stored] = session.exec(select(Response)).all()
    assert stored.current_page == 2
    assert session.exec(select(func.count()).select_from(SubmissionKey)).one() == 2


def test_the_wave_is_shared_while_its_row_is_unchanged_and_a_closed_wave_is_seen_closed(
    client, session, wave, respondent
):
    def through_link(slug: str):
        link = respondent_service.public_link(session, slug, [])
        return None if link is None else link[0]

    shared = through_link(wave.public_slug)
    assert fieldwork.wave_snapshot(session, wave_id=wave.id) is shared
    assert shared not in session  # belongs to no session: nothing flushes a change of it
    person = respondent(client, f"/s/{wave.public_slug}")
    assert person.get().status_code == 200
    fieldwork.close_wave(session, wave)
    session.commit()
    assert person.get().status_code == 410  # the very next request
    closed = through_link(wave.public_slug)
    assert closed is not shared and closed.status == "closed"
    assert through_link("no-such-link") is None
