"""``/api/v1``: a FastAPI application of its own, mounted by the web app.

Its own application, so that its OpenAPI document lists the API alone, no page's CSRF check
applies (no cookie authenticates here) and every error is a problem document. Every object is
loaded through the key's organisation: another organisation's key gets 404 for all of them.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, BackgroundTasks, Depends, FastAPI, Path, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from sqlalchemy.engine import Engine
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from loyaltylab import access
from loyaltylab.accounts.models import Organisation
from loyaltylab.api import problems, schemas, service
from loyaltylab.api.auth import STATE_KEY, ReadKey, WriteKey
from loyaltylab.api.models import ApiKey
from loyaltylab.db import SessionDep
from loyaltylab.errors import DomainError
from loyaltylab.fieldwork import events
from loyaltylab.fieldwork import service as fieldwork
from loyaltylab.fieldwork.contacts_import import normalise_language
from loyaltylab.fieldwork.invitation_mail import mail_contacts
from loyaltylab.fieldwork.models import Contact, ContactEvent, Wave
from loyaltylab.guards import refuse_unusable_input
from loyaltylab.i18n import N_
from loyaltylab.mail import deliver_all
from loyaltylab.privacy.service import erase_contact
from loyaltylab.reports_web.models import FILE_KINDS, Report
from loyaltylab.reports_web.routes import EXTENSIONS, MEDIA_TYPES
from loyaltylab.reports_web.service import report_file
from loyaltylab.settings import Settings
from loyaltylab.studies.models import Study
from loyaltylab.timeutil import utcnow

API_PREFIX = "/api/v1"
DEFAULT_PAGE = 100
MAX_PAGE = 500
Id = Annotated[int, Path(ge=1, le=schemas.MAX_ID)]
ExternalIdPath = Annotated[
    str, Path(min_length=1, max_length=100, pattern=schemas.PRINTABLE, description="The CRM's id.")
]

router = APIRouter(responses=problems.RESPONSES)


def _organisation(session: SessionDep, key: ApiKey) -> Organisation:
    return session.get(Organisation, key.organisation_id)


def _study(session: SessionDep, key: ApiKey, study_id: int) -> Study:
    return access.load_owned(session, Study, study_id, key.organisation_id)


def _wave(session: SessionDep, key: ApiKey, wave_id: int) -> Wave:
    return access.load_owned(session, Wave, wave_id, key.organisation_id)


def _study_out(study: Study) -> schemas.StudyOut:
    return schemas.StudyOut.model_validate(study, from_attributes=True)


def _waves_out(session: SessionDep, waves: list[Wave]) -> list[schemas.WaveOut]:
    counts = service.wave_counts(session, waves)
    return [
        schemas.WaveOut(
            id=wave.id,
            study_id=wave.study_id,
            name=wave.name,
            status=wave.status,
            opens_at=wave.opens_at,
            closes_at=wave.closes_at,
            target=wave.target,
            event_delay_minutes=wave.event_delay_minutes,
            event_cooldown_days=wave.event_cooldown_days,
            counts=schemas.WaveCountsOut(**vars(counts[wave.id])),
        )
        for wave in waves
    ]


# --- reading -------------------------------------------------------------------------------


@router.get("/me", tags=["organisation"], summary=N_("The key and its organisation"))
def me(session: SessionDep, key: ReadKey) -> schemas.MeOut:
    organisation = _organisation(session, key)
    return schemas.MeOut(
        organisation=schemas.OrganisationOut(id=organisation.id, name=organisation.name),
        key=schemas.KeyOut.model_validate(key, from_attributes=True),
    )


@router.get("/studies", tags=["studies"], summary=N_("The organisation's studies"))
def list_studies(session: SessionDep, key: ReadKey) -> list[schemas.StudyOut]:
    return [_study_out(study) for study in service.studies(session, key.organisation_id)]


@router.get("/studies/{study_id}", tags=["studies"], summary=N_("A study"))
def get_study(session: SessionDep, key: ReadKey, study_id: Id) -> schemas.StudyOut:
    return _study_out(_study(session, key, study_id))


@router.get(
    "/studies/{study_id}/waves",
    tags=["waves"],
    summary=N_("A study's waves, with status and counts"),
)
def list_waves(session: SessionDep, key: ReadKey, study_id: Id) -> list[schemas.WaveOut]:
    study = _study(session, key, study_id)
    return _waves_out(session, service.study_waves(session, study))


@router.get("/waves/{wave_id}", tags=["waves"], summary=N_("A wave, with status and counts"))
def get_wave(session: SessionDep, key: ReadKey, wave_id: Id) -> schemas.WaveOut:
    return _waves_out(session, [_wave(session, key, wave_id)])[0]


@router.get(
    "/waves/{wave_id}/responses",
    tags=["responses"],
    summary=N_("A wave's responses, oldest change first, a page at a time"),
)
def list_responses(
    session: SessionDep,
    key: ReadKey,
    wave_id: Id,
    cursor: Annotated[
        str | None,
        Query(
            max_length=200,
            pattern=r"^[A-Za-z0-9_-]+$",
            description="The previous page's `next_cursor`.",
        ),
    ] = None,
    updated_since: Annotated[
        schemas.AwareDatetime | None,
        Query(description="Only responses changed at or after this time (with its time zone)."),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = DEFAULT_PAGE,
    language: Annotated[
        str | None,
        Query(
            max_length=20,
            pattern=r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$",
            description="The labels' language (default: the questionnaire's first).",
        ),
    ] = None,
) -> schemas.ResponsePageOut:
    wave = _wave(session, key, wave_id)
    after = service.Cursor.decode(cursor) if cursor else None
    page, following = service.response_page(
        session, wave, after=after, updated_since=updated_since, limit=limit
    )
    definition = fieldwork.definition_for(session, wave.questionnaire_version_id)
    languages = definition.languages
    wanted = fieldwork.preferred_language(language, languages)
    variables = definition.variables()
    items = [
        schemas.ResponseOut(
            id=response.id,
            status=response.status,
            channel=response.channel,
            language=response.language,
            external_id=external_id,
            excluded=response.excluded,
            started_at=response.started_at,
            updated_at=response.updated_at,
            submitted_at=response.submitted_at,
            answers=service.labelled_answers(
                response, variables, language=wanted, languages=languages
            ),
        )
        for response, external_id in page
    ]
    return schemas.ResponsePageOut(
        items=items, next_cursor=following.encode() if following else None
    )


@router.get(
    "/studies/{study_id}/analysis",
    tags=["analysis"],
    summary=N_("The latest analysis results of a study (from its latest generated report)"),
)
def latest_analysis(session: SessionDep, key: ReadKey, study_id: Id) -> schemas.AnalysisOut:
    report = service.latest_result(session, _study(session, key, study_id))
    return schemas.AnalysisOut(
        study_id=report.study_id,
        report_id=report.id,
        title=report.title,
        generated_at=report.generated_at,
        result=report.result,
    )


@router.get("/studies/{study_id}/reports", tags=["reports"], summary=N_("A study's reports"))
def list_reports(session: SessionDep, key: ReadKey, study_id: Id) -> list[schemas.ReportOut]:
    study = _study(session, key, study_id)
    return [
        schemas.ReportOut(
            id=report.id,
            title=report.title,
            language=report.language,
            generated_at=report.generated_at,
            files=[
                schemas.ReportFileOut(
                    kind=kind, size=size, url=f"{API_PREFIX}/reports/{report.id}/files/{kind}"
                )
                for kind, size in sorted(sizes.items())
            ],
        )
        for report, sizes in service.study_reports(session, study)
    ]


@router.get(
    "/reports/{report_id}/files/{kind}",
    tags=["reports"],
    summary=N_("Download a report file"),
    response_class=Response,
    responses={200: {"content": {media: {} for media in set(MEDIA_TYPES.values())}}},
)
def download_report_file(
    session: SessionDep,
    key: ReadKey,
    report_id: Id,
    kind: Annotated[Literal[FILE_KINDS], Path()],  # type: ignore[valid-type]
) -> Response:
    report = access.load_owned(session, Report, report_id, key.organisation_id)
    stored = report_file(session, report, kind)
    name = f"report-{report.id}-{report.language}.{EXTENSIONS.get(kind, kind)}"
    return Response(
        stored.content,
        media_type=MEDIA_TYPES[kind],
        headers={
            "content-disposition": f'attachment; filename="{name}"',
            "cache-control": "private, no-store",
        },
    )


# --- changing ------------------------------------------------------------------------------


@router.post(
    "/studies/{study_id}/contacts",
    tags=["contacts"],
    summary=N_("Insert or update contacts by external id"),
)
def upsert_contacts(
    session: SessionDep, key: WriteKey, study_id: Id, body: schemas.ContactsIn
) -> schemas.ContactsOut:
    """What a contact leaves out keeps its earlier value; attributes are merged."""
    study = _study(session, key, study_id)
    rows = []
    for contact in body.contacts:
        named = {
            name: getattr(contact, name)
            for name in ("tier", "region", "tenure", "spend", "channel")
            if getattr(contact, name) is not None
        }
        rows.append(
            {
                "external_id": contact.external_id,
                "email": contact.email,
                "phone": contact.phone,
                "name": contact.name,
                "language": contact.language and normalise_language(contact.language),
                "attributes": {**contact.attributes, **named},
            }
        )
    contacts, created = service.upsert_contacts(session, study, rows)
    return schemas.ContactsOut(
        created=created,
        updated=len(contacts) - created,
        contacts=[
            schemas.ContactOut(
                id=contact.id,
                external_id=contact.external_id,
                pseudonym=contact.pseudonym,
                opted_out=contact.opted_out_at is not None,
            )
            for contact in contacts
        ],
    )


@router.delete(
    "/studies/{study_id}/contacts/{external_id}",
    tags=["contacts"],
    summary=N_("Erase a contact with their responses (a data subject's request)"),
)
def erase(
    session: SessionDep, key: WriteKey, study_id: Id, external_id: ExternalIdPath
) -> schemas.ErasureOut:
    """As the study's privacy page does: the contact, their responses, invitations and
    e-mails go; the audit log keeps the random pseudonym only."""
    study = _study(session, key, study_id)
    contact = service.contact_by_external_id(session, study, external_id)
    erasure = erase_contact(session, contact, by=service.actor(key), study_id=study.id)
    return schemas.ErasureOut(external_id=external_id, responses_erased=erasure.responses)


@router.post(
    "/waves/{wave_id}/invitations",
    tags=["invitations"],
    summary=N_("Invite contacts to a wave now, or at a time"),
)
def invite(
    request: Request,
    session: SessionDep,
    key: WriteKey,
    background: BackgroundTasks,
    wave_id: Id,
    body: schemas.InvitationsIn,
) -> schemas.InvitationsOut:
    """Each contact gets the wave's invitation e-mail with a personal link, in their language.
    With `send_at` in the future, the e-mails go out then (the wave must be open then)."""
    wave = _wave(session, key, wave_id)
    study = session.get(Study, wave.study_id)
    contacts, unknown = service.contacts_by_external_id(session, study, body.external_ids)
    skipped = [schemas.Skipped(external_id=i, reason="unknown") for i in unknown]
    now = utcnow()
    if body.send_at is not None and body.send_at > now:
        scheduled = []
        for contact in contacts:
            outcome = events.schedule_invitation(
                session, wave=wave, contact=contact, send_at=body.send_at, now=now
            )
            if outcome.status is events.Outcome.scheduled:
                scheduled.append(contact.external_id)
            else:
                skipped.append(
                    schemas.Skipped(external_id=contact.external_id, reason=outcome.status.value)
                )
        return schemas.InvitationsOut(
            sent=[], scheduled=scheduled, send_at=body.send_at, skipped=skipped
        )
    if not fieldwork.is_accepting(wave, now):
        raise events.WaveNotTakingEvents(N_("The wave is not open: it cannot send invitations."))
    for contact in contacts:
        if contact.opted_out_at is not None:
            skipped.append(schemas.Skipped(external_id=contact.external_id, reason="opted_out"))
        elif not contact.email:
            skipped.append(schemas.Skipped(external_id=contact.external_id, reason="no_email"))
    mailable = [c for c in contacts if c.opted_out_at is None and c.email]
    settings: Settings = request.app.state.settings
    organisation = _organisation(session, key)
    mailed = mail_contacts(
        session, settings, organisation, wave, study, mailable, kind="invitation"
    )
    written = {contact.id for contact, _message in mailed}
    skipped += [
        schemas.Skipped(external_id=contact.external_id, reason="answered")
        for contact in mailable
        if contact.id not in written
    ]
    if settings.smtp_url and mailed:
        background.add_task(
            deliver_all,
            request.app.state.engine,
            [message.id for _contact, message in mailed],
            settings.smtp_url,
        )
    return schemas.InvitationsOut(
        sent=[contact.external_id for contact, _message in mailed],
        scheduled=[],
        send_at=None,
        skipped=skipped,
    )


@router.post(
    "/waves/{wave_id}/events",
    tags=["invitations"],
    summary=N_("Report an event (e.g. complaint_closed) that invites the contact"),
    status_code=202,
    responses={200: {"model": schemas.EventOut, "description": "Not scheduled: see `outcome`."}},
)
def report_event(
    session: SessionDep, key: WriteKey, wave_id: Id, body: schemas.EventIn
) -> JSONResponse:
    """The contact gets the wave's invitation after the wave's delay, unless they had one
    after an event within the wave's cool-down (`cooled_down`) or opted out (`opted_out`).
    Reporting the same `event_id` again changes nothing (`duplicate`). 202 when scheduled."""
    wave = _wave(session, key, wave_id)
    study = session.get(Study, wave.study_id)
    contact = service.contact_by_external_id(session, study, body.external_id)
    outcome = events.record_event(
        session,
        wave=wave,
        contact=contact,
        event=body.event,
        event_id=body.event_id,
        now=utcnow(),
    )
    stored: ContactEvent = outcome.event
    owner = contact if stored.contact_id == contact.id else session.get(Contact, stored.contact_id)
    payload = schemas.EventOut(
        outcome=outcome.status,
        event=stored.event,
        event_id=stored.event_id,
        external_id=owner.external_id,
        received_at=stored.received_at,
        send_at=outcome.send_at,
    )
    status = 202 if outcome.status is events.Outcome.scheduled else 200
    return JSONResponse(payload.model_dump(mode="json"), status_code=status)


# --- the application -----------------------------------------------------------------------


class AuditCalls:
    """Writes every call made with a key to the organisation's audit log, with its status,
    after the response (whether the call succeeded, was refused or failed)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500

        async def note_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, note_status)
        finally:
            key = scope.get("state", {}).get(STATE_KEY)
            if key is not None:
                await run_in_threadpool(
                    service.record_call,
                    scope["app"].state.engine,
                    key,
                    method=scope["method"],
                    path=scope["path"],
                    status=status,
                    now=utcnow(),
                )


DESCRIPTION = """\
LoyaltyLab's REST API: contacts, invitations and event-triggered invitations, studies, waves,
responses, analysis results and report files of one organisation.

Authenticate with an organisation API key: `Authorization: Bearer llk_...`. Owners create keys
under *Organisation → API keys*; a key with **read** scope reads, one with **write** scope also
changes. Every error is an RFC 9457 problem document (`application/problem+json`). See
`docs/api.md` for examples.
"""


def create_api_app(settings: Settings, engine: Engine) -> FastAPI:
    api = FastAPI(
        title="LoyaltyLab API",
        version="1",
        description=DESCRIPTION,
        openapi_url="/openapi.json",
        docs_url=None,
        redoc_url=None,
        # Ids beyond the database's integers are not found, NUL characters refused (as on the
        # pages): never a database error.
        dependencies=[Depends(refuse_unusable_input)],
    )
    api.state.settings = settings
    api.state.engine = engine
    api.add_exception_handler(DomainError, problems.handle_domain_error)  # type: ignore[arg-type]
    api.add_exception_handler(StarletteHTTPException, problems.handle_http_error)  # type: ignore[arg-type]
    api.add_exception_handler(RequestValidationError, problems.handle_validation_error)  # type: ignore[arg-type]
    api.add_exception_handler(Exception, problems.handle_unexpected)
    api.add_middleware(AuditCalls)
    api.include_router(router)
    return api
