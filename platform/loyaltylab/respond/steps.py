"""The respondent's steps, one function each: the entry (consent), start, show a page, submit
a page, save for later, resume, done and switch language.

They take the request, the session and the respondent's :class:`Access` and return the page;
the respondent routes (:mod:`loyaltylab.respond.routes`) run them for the public and personal
links, the interviewer's phone pages (:mod:`loyaltylab.fieldwork.routes.phone`) for telephone
interviews. The database work is :mod:`loyaltylab.respond.service`.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from markupsafe import Markup
from sqlalchemy import bindparam
from sqlmodel import Session, select
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

import languages
from loyaltylab.accounts.models import Organisation
from loyaltylab.fieldwork import service
from loyaltylab.fieldwork.models import (
    Channel,
    Contact,
    ResponseStatus,
    StudyConsent,
    Wave,
    WaveInvitation,
)
from loyaltylab.fieldwork.models import Response as SurveyResponse
from loyaltylab.followup import service as followup
from loyaltylab.respond import form as questions
from loyaltylab.respond import service as respondent
from loyaltylab.respond.texts import LANGUAGE_NAMES, text
from loyaltylab.studies.models import Study
from loyaltylab.web import redirect, render, templates
from loyaltylab.webhooks import service as webhooks
from loyaltylab.webhooks.models import WebhookEvent
from surveys.definition import QuestionnaireDefinition, text_for
from surveys.pages import item_shown, shown_pages

SESSION_LANGUAGE = "respond_lang"
RESPONDENT_PREFIXES = ("/s/", "/i/")
"""The paths of the respondent links: the public link and the personal invitation."""
STATUS_CODES = {
    "closed": 410,
    "not_open": 403,
    "full": 410,
    "used": 409,
    "completed": 409,
    "expired": 410,
    "invalid": 404,
}
RESUME_COOKIE_AGE = 90 * 24 * 3600
RESUME_COOKIE = "loyaltylab_resume_"
"""The start of a public link's resume cookie's name; the wave's id follows."""


@dataclass
class Access:
    """Who is answering which wave through which link."""

    wave: Wave
    base: str
    channel: Channel
    key: str
    invitation: WaveInvitation | None = None
    contact: Contact | None = None
    response: respondent.StoredResponse | None = None
    """The link's response as the step read it; a step that writes it loads it under the lock."""

    @property
    def resume_cookie(self) -> str:
        return f"{RESUME_COOKIE}{self.wave.id}"


def resume_token(request: Request, submission_key: str) -> str:
    """The public link's resume cookie, derived from the consent form's submission key.

    Derived, not stored: a repeated consent submit gets the same cookie back.
    """
    secret = request.app.state.settings.secret_key.encode()
    return hmac.new(secret, f"resume:{submission_key}".encode(), hashlib.sha256).hexdigest()


def _language(request: Request, access: Access, definition: QuestionnaireDefinition) -> str:
    """The response's language; before consent the one the respondent picked, else their
    contact's (personal links), else the browser's, else the questionnaire's first."""
    if access.response is not None:
        return access.response.language
    chosen = request.session.get(SESSION_LANGUAGE)
    if chosen in definition.languages:
        return chosen
    if access.contact is not None and access.contact.language:
        # The language the contact was written to in (the contact file's language column).
        return service.preferred_language(access.contact.language, definition.languages)
    accept = request.headers.get("accept-language", "").lower()
    for language in definition.languages:
        if accept.startswith(language.lower().split("-")[0]):
            return language
    return definition.languages[0]


def _context(request: Request, session: Session, access: Access, **extra: Any) -> dict[str, Any]:
    definition = service.definition_for(session, access.wave.questionnaire_version_id)
    language = _language(request, access, definition)
    fallbacks = definition.languages

    def t(texts: dict[str, str]) -> str:
        return text_for(texts, language, fallbacks)

    def ui(key: str, **params: object) -> str:
        return text(key, language, **params)

    return {
        "access": access,
        "static": static_prefix(request),
        "definition": definition,
        "language": language,
        "t": t,
        "ui": ui,
        "title": t(definition.title),
        "language_names": LANGUAGE_NAMES,
        "errors": {},
        **extra,
    }


def static_prefix(request: Request) -> str:
    """``/static/`` under the app's root path: found once per app (url_for walked the routes
    on every call, twice a page)."""
    prefix = getattr(request.app.state, "respond_static", None)
    if prefix is None:
        prefix = request.app.state.respond_static = str(request.app.url_path_for("static", path=""))
    return request.scope.get("root_path", "") + prefix


def _page(
    request: Request, template: str, context: dict[str, Any], *, status_code: int = 200
) -> HTMLResponse:
    response = render(request, template, context, status_code=status_code)
    response.headers["cache-control"] = "no-store"
    return response


def status_page(
    request: Request, session: Session, access: Access | None, reason: str
) -> HTMLResponse:
    """Closed, not open yet, full, used, completed, expired or invalid: a clear page in the
    respondent's language."""
    reason = reason if reason in STATUS_CODES else "invalid"
    if access is None:
        language = request.session.get(SESSION_LANGUAGE) or _browser_language(request)
        context = {
            "language": language,
            "static": static_prefix(request),
            "ui": lambda key, **p: text(key, language, **p),
        }
    else:
        context = _context(request, session, access)
    context["reason"] = reason
    return _page(request, "respond/status.html", context, status_code=STATUS_CODES[reason])


def is_respondent_request(request: Request) -> bool:
    return request.url.path.startswith(RESPONDENT_PREFIXES)


def respondent_status_page(request: Request, reason: str) -> HTMLResponse:
    """The status page outside a step (the link is unknown, or a step left a rule to the
    app's domain-error handler): in the language the respondent chose in this browser, else
    the browser's."""
    return status_page(request, None, None, reason)


def _browser_language(request: Request) -> str:
    accept = request.headers.get("accept-language", "").lower()
    first = accept.split(",")[0].split(";")[0]
    return languages.bcp47(languages.locale_of(first) or languages.DEFAULT_LOCALE)


def _go(access: Access, outcome: str) -> Response:
    if outcome == respondent.DONE:
        return redirect(f"{access.base}/done")
    if outcome == respondent.SAVED:
        return redirect(f"{access.base}/saved")
    page = outcome.removeprefix("page:")
    return redirect(f"{access.base}/page/{page}" if page.isdigit() else access.base)


def entry(request: Request, session: Session, access: Access) -> Response:
    response = access.response
    try:
        if response is not None and response.status == ResponseStatus.complete:
            raise service.LinkUsed() if access.invitation else LinkCompleted()
        if access.invitation is not None and response is None:
            service.check_invitation(access.invitation)
        if response is None:
            service.check_entry(session, access.wave, access.contact)
        else:
            service.check_accepting(access.wave)
    except service.FieldworkError as error:
        return status_page(request, session, access, error.reason)
    if response is not None:
        definition = service.definition_for(session, access.wave.questionnaire_version_id)
        page = respondent.resume_page(definition, response)
        return redirect(f"{access.base}/page/{page}?{WELCOME_BACK}=1")
    return _consent_page(request, session, access)


class LinkCompleted(service.FieldworkError, reason="completed"):
    """The public link's survey was completed in this browser."""


WELCOME_BACK = "welcome"
"""The query flag of the page a returning respondent is sent to: it shows "welcome back"."""


# Who runs the study, its contact and its privacy note by language: one query, built once.
_CONSENT_FACTS = (
    select(Organisation.name, Study.contact_name, Study.contact_email, StudyConsent.texts)
    .join(Organisation, Organisation.id == Study.organisation_id)
    .outerjoin(StudyConsent, StudyConsent.study_id == Study.id)
    .where(Study.id == bindparam("study_id"))
)


def _consent_page(
    request: Request, session: Session, access: Access, *, error: bool = False
) -> HTMLResponse:
    context = _context(request, session, access, submission_key=respondent.new_submission_key())
    t, ui = context["t"], context["ui"]
    organisation, contact_name, contact_email, notes = session.exec(
        _CONSENT_FACTS, params={"study_id": access.wave.study_id}
    ).one()
    context.update(
        organisation=organisation,
        privacy_note=t(notes or {}) or ui("privacy_default"),
        contact_name=contact_name,
        contact_email=contact_email,
    )
    if error:
        context["errors"] = {"consent": ui("consent_required")}
        context["summary"] = [("consent", ui("consent_agree"), ui("consent_required"))]
    return _page(request, "respond/consent.html", context, status_code=400 if error else 200)


def start(request: Request, session: Session, access: Access, form: FormData) -> Response:
    key = str(form.get("submission_key", ""))
    if form.get("consent") != "yes":
        return _consent_page(request, session, access, error=True)
    definition = service.definition_for(session, access.wave.questionnaire_version_id)
    try:
        claim = respondent.claim_submission(
            session, key, organisation_id=access.wave.organisation_id
        )
    except service.RepeatedSubmission:
        session.rollback()
        stored = respondent.stored_outcome(session, key)
        result = _go(access, stored.outcome if stored else "")
    else:
        token = resume_token(request, key) if access.channel == Channel.web else None
        try:
            response = respondent.start_response(
                session,
                access.wave,
                channel=access.channel,
                language=_language(request, access, definition),
                claim=claim,
                contact=access.contact,
                invitation=access.invitation,
                resume_token=token,
            )
        except service.LinkUsed:
            # Another tab started first: continue with that response.
            session.rollback()
            return redirect(access.base)
        result = _go(access, f"page:{response.current_page}")
    if access.channel == Channel.web:
        _set_resume_cookie(request, access, result, resume_token(request, key))
    return result


def _set_resume_cookie(request: Request, access: Access, response: Response, token: str) -> None:
    response.set_cookie(
        access.resume_cookie,
        token,
        max_age=RESUME_COOKIE_AGE,
        path=access.base,
        httponly=True,
        samesite="lax",
        secure=request.app.state.settings.https,
    )


def _page_context(
    request: Request,
    session: Session,
    access: Access,
    page: int,
    *,
    posted: dict[str, Any] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """The page's questions; ``posted``: the valid answers of a page shown again with problems
    (the questions shown then follow them rather than what was stored)."""
    context = _context(request, session, access, **extra)
    definition: QuestionnaireDefinition = context["definition"]
    response = access.response
    known = service.answers_of(response, definition)
    pages = shown_pages(definition, known)
    if posted is not None:
        on_page = service.page_codes(definition, page)
        known = {code: value for code, value in known.items() if code not in on_page} | posted
    errors: dict[str, str] = context["errors"]
    values = extra.get("values") or known
    section = definition.sections[page]
    fixed_questions = None
    entries: list[questions.Entry] = []
    if (
        not errors
        and questions.is_fixed(section)
        and not service.page_codes(definition, page) & set(values)
    ):
        fixed_questions = _fixed_questions(definition, page, context)
    else:
        entries = questions.page_entries(
            section,
            t=context["t"],
            values=values,
            errors=errors,
            seed=f"{response.id}:{section.code}",
            shown=lambda item: item_shown(item, known),
            row_shown=lambda row: item_shown(row, known),
        )
    summary = []
    if errors:
        variables = {variable.code: variable.label for variable in definition.variables()}
        summary = questions.summary(
            entries, errors, lambda code: context["t"](variables.get(code, {})) or code
        )
    position = pages.index(page)
    context.update(
        section=section,
        page=page,
        entries=entries,
        fixed_questions=fixed_questions,
        summary=summary,
        position=position + 1,
        total=len(pages),
        first=position == 0,
        last=position == len(pages) - 1,
        submission_key=respondent.new_submission_key(),
        autosave_key=respondent.new_submission_key(),
        save_later=access.channel != Channel.phone,
        page_form=PAGE_FORM,
    )
    return context


def _fixed_questions(
    definition: QuestionnaireDefinition, page: int, context: dict[str, Any]
) -> Markup:
    """A page's questions as HTML, for a page not answered yet that shows the same to everyone
    (:func:`questions.is_fixed`): written once per published version, page and language
    instead of on every request (building and writing them was most of a page's time)."""
    memo = service.definition_memo(definition)
    key = ("questions", page, context["language"])
    html = memo.get(key)
    if html is None:
        entries = questions.page_entries(
            definition.sections[page], t=context["t"], values={}, errors={}, seed=""
        )
        template = templates.get_template("respond/_questions.html")
        html = memo[key] = Markup(template.render(entries=entries, ui=context["ui"]))
    return html


PAGE_FORM = "r-page"
"""The id of a questionnaire page's form, which the language buttons submit too."""


def show_page(request: Request, session: Session, access: Access, page: int) -> Response:
    response = access.response
    if response is None:
        return redirect(access.base)
    if response.status == ResponseStatus.complete:
        return redirect(f"{access.base}/done")
    definition = service.definition_for(session, access.wave.questionnaire_version_id)
    known = service.answers_of(response, definition)
    if page not in shown_pages(definition, known) or page > response.current_page:
        return redirect(f"{access.base}/page/{respondent.resume_page(definition, response)}")
    welcome = WELCOME_BACK in request.query_params
    context = _page_context(request, session, access, page, welcome=welcome)
    return _page(request, "respond/page.html", context)


def submit_page(
    request: Request, session: Session, access: Access, page: int, form: FormData
) -> Response:
    switch_to = str(form.get("language") or "")
    try:
        action = respondent.PageAction(str(form.get("action") or "next"))
    except ValueError:
        action = respondent.PageAction.next
    if switch_to:
        # A language button of the page: keep what was answered, as an autosave would.
        action = respondent.PageAction.autosave
    autosave = action == respondent.PageAction.autosave and not switch_to
    response = access.response
    if response is None or response.status == ResponseStatus.complete:
        if autosave:
            return JSONResponse({"saved": False}, status_code=409)
        return redirect(f"{access.base}/done" if response else access.base)
    if not service.is_accepting(access.wave):
        raise service.WaveNotOpen()
    key = str(form.get("submission_key", ""))
    raw = {}
    for name in form:
        values = [str(value) for value in form.getlist(name)]
        raw[name] = values[0] if len(values) == 1 else values
    try:
        claim = respondent.claim_submission(
            session, key, organisation_id=access.wave.organisation_id
        )
    except service.RepeatedSubmission:
        session.rollback()
        if autosave:
            # Stored before, maybe with other answers: the script saves again with a new key.
            return _autosaved(None)
        stored = respondent.stored_outcome(session, key)
        return _go(access, stored.outcome if stored else "")
    try:
        result = respondent.save_page(
            session, response, wave=access.wave, page=page, raw=raw, action=action, claim=claim
        )
    except service.FieldworkError as error:
        # E.g. the respondent's quota group filled up: say so in the respondent's language.
        session.rollback()
        return status_page(request, session, access, error.reason)
    if autosave:
        return _autosaved(result.unsaved)
    stored = result.response
    if switch_to:
        respondent.set_language(session, stored, switch_to)
        return redirect(f"{access.base}/page/{page}")
    if result.ok:
        if result.outcome == respondent.DONE:
            _after_completion(request, session, access, stored)
        return _go(access, result.outcome)
    session.rollback()  # nothing of a page with problems is kept
    language = response.language
    errors = {code: problem.message(language) for code, problem in result.errors.items()}
    context = _page_context(
        request, session, access, page, posted=result.answers, errors=errors, values=result.values
    )
    return _page(request, "respond/page.html", context, status_code=400)


# What a completion sets off: the wave's alert rules, the organisation's webhooks. Asked in one
# query, as most waves have neither.
_COMPLETION_WORK = select(
    followup.has_rules(bindparam("wave_id")),
    webhooks.has_subscriptions(bindparam("organisation_id")),
)


def _after_completion(
    request: Request, session: Session, access: Access, response: SurveyResponse
) -> None:
    """Alerts and follow-up case, and the ``response.completed`` webhook: in the completing
    transaction, so a case or a delivery exists only for a committed response."""
    rules, subscribed = session.exec(
        _COMPLETION_WORK,
        params={"wave_id": access.wave.id, "organisation_id": access.wave.organisation_id},
    ).one()
    if rules:
        followup.check_response(session, response, request.app.state.settings)
    if subscribed:
        _announce_completion(session, access, response)


def _announce_completion(session: Session, access: Access, response: SurveyResponse) -> None:
    """The ``response.completed`` webhook; the job queue sends it once this commits."""
    webhooks.emit(
        session,
        organisation_id=access.wave.organisation_id,
        event=WebhookEvent.response_completed,
        payload={
            "response_id": response.id,
            "wave_id": access.wave.id,
            "study_id": access.wave.study_id,
            "channel": access.channel.value,
            "language": response.language,
            "contact_external_id": access.contact.external_id if access.contact else None,
            "submitted_at": response.submitted_at,
        },
    )


def _autosaved(unsaved: set[str] | None) -> JSONResponse:
    """What the page's script reads after an autosave: whether it was stored (None: the key
    had been used), the key for its next save, and the answers left out as not valid yet."""
    return JSONResponse(
        {
            "saved": unsaved is not None,
            "key": respondent.new_submission_key(),
            "unsaved": sorted(unsaved or ()),
        },
        headers={"cache-control": "no-store"},
    )


def saved(request: Request, session: Session, access: Access) -> Response:
    """After "save and continue later": how to come back (for the public link, a link that
    carries the resume cookie to another device)."""
    response = access.response
    if response is None or response.status == ResponseStatus.complete:
        return redirect(access.base)
    resume_link = None
    if access.channel == Channel.web:
        token = request.cookies.get(access.resume_cookie, "")
        resume_link = request.app.state.settings.absolute_url(f"{access.base}/resume/{token}")
    context = _context(request, session, access, resume_link=resume_link)
    return _page(request, "respond/saved.html", context)


def resume(request: Request, session: Session, access: Access, token: str) -> Response:
    """A public link's resume link: on any device, continue the response it names."""
    response = respondent.response_by_resume_token(session, access.wave.id, token)
    if response is None:
        return status_page(request, session, access, "invalid")
    result = redirect(access.base)
    _set_resume_cookie(request, access, result, token)
    return result


def done(request: Request, session: Session, access: Access) -> Response:
    if access.response is None or access.response.status != ResponseStatus.complete:
        return redirect(access.base)
    return _page(request, "respond/done.html", _context(request, session, access))


def switch_language(request: Request, session: Session, access: Access, form: FormData) -> Response:
    language = str(form.get("language", ""))
    if access.response is not None:
        stored = respondent.lock_response(session, access.response.id)
        respondent.set_language(session, stored, language)
    else:
        request.session[SESSION_LANGUAGE] = language
    target = str(form.get("next", ""))
    return redirect(target if target.startswith(access.base) else access.base)


async def in_thread(handler: Callable[..., Response], request: Request, *args: Any) -> Response:
    """Parse the form here, then run the database work in a worker thread.

    A SQLite writer waiting for the lock must never block the event loop: the transaction it
    waits for commits in a worker thread scheduled by this very loop.
    """
    form = await request.form()
    return await run_in_threadpool(handler, request, *args, form)
