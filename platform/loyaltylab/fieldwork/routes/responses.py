"""The responses of a wave: a searchable, paged list with quality flags, one response with every
answer, excluding or including responses in bulk (with a reason), and the raw data exports."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response
from sqlmodel import Session, select

from loyaltylab import access, i18n
from loyaltylab.audit import service as audit
from loyaltylab.db import SessionDep
from loyaltylab.deps import EditorDep, OrgContext, OrgDep
from loyaltylab.errors import InvalidInput
from loyaltylab.fieldwork import service, texts
from loyaltylab.fieldwork.data import wave_flags
from loyaltylab.fieldwork.export import raw_frame
from loyaltylab.fieldwork.models import Channel, Contact, ResponseStatus
from loyaltylab.fieldwork.models import Response as SurveyResponse
from loyaltylab.guards import whole_number
from loyaltylab.web import flash, redirect, render, ui_text
from reports.exports import csv_bytes, neutralise, xlsx_bytes
from surveys.definition import (
    NOT_APPLICABLE,
    LikertItem,
    MatrixItem,
    NpsItem,
    QuestionnaireDefinition,
)

router = APIRouter()
PAGE_SIZE = 50
FILTERS = ("status", "excluded", "channel", "flagged", "q")
EXCLUSION_MESSAGES = {
    True: i18n.N_("Responses excluded from analyses: %(count)s."),
    False: i18n.N_("Responses included in analyses again: %(count)s."),
}


@dataclass(frozen=True)
class Listing:
    """The filter of the responses page as its query string gives it."""

    status: str = ""
    excluded: str = ""
    channel: str = ""
    flagged: str = ""
    q: str = ""

    @classmethod
    def of(cls, params: Any) -> Listing:
        return cls(**{name: str(params.get(name, "")).strip()[:100] for name in FILTERS})

    def query(self, **changes: Any) -> str:
        """The query string of this filter (with ``changes``), empty values left out."""
        values = {name: getattr(self, name) for name in FILTERS} | changes
        return urlencode({name: value for name, value in values.items() if value})

    def criteria(self, flagged_ids: frozenset[int] | None) -> service.ResponseFilter:
        return service.ResponseFilter(
            status=ResponseStatus(self.status)
            if self.status in ResponseStatus.__members__
            else None,
            excluded={"1": True, "0": False}.get(self.excluded),
            channel=Channel(self.channel) if self.channel in Channel.__members__ else None,
            search=self.q,
            only_ids=flagged_ids if self.flagged else None,
        )


@router.get("/waves/{wave_id}/responses", response_class=HTMLResponse)
def list_responses(
    request: Request, session: SessionDep, ctx: OrgDep, wave_id: int, page: int = 1
) -> HTMLResponse:
    wave, study = access.readable_wave(session, ctx, wave_id)
    listing = Listing.of(request.query_params)
    flags = wave_flags(session, wave)
    flagged_ids = frozenset(response_id for response_id, raised in flags.items() if raised)
    page = max(page, 1)
    found = service.find_responses(
        session,
        wave.id,
        listing.criteria(flagged_ids),
        offset=(page - 1) * PAGE_SIZE,
        limit=PAGE_SIZE,
    )
    pages = max(1, -(-found.total // PAGE_SIZE))
    return render(
        request,
        "fieldwork/responses.html",
        {
            "wave": wave,
            "study": study,
            "found": found,
            "listing": listing,
            "page": page,
            "pages": pages,
            "flags": flags,
            "flagged_count": len(flagged_ids),
            "flag_label": texts.flag_label,
        },
    )


def _answer_text(item: Any, value: Any) -> str:
    """An answer as the researcher reads it: option labels in the interface language."""
    if value is None:
        return "—"
    if isinstance(item, LikertItem | MatrixItem):
        if value == NOT_APPLICABLE:
            return ui_text(item.scale.not_applicable)
        anchor = item.scale.anchor_for(int(value))
        return f"{value} · {ui_text(anchor)}" if anchor else str(value)
    if isinstance(item, NpsItem):
        return str(value)
    options = {option.value: ui_text(option.label) for option in getattr(item, "options", [])}
    if isinstance(value, list):
        return "; ".join(options.get(str(v), str(v)) for v in value)
    return options.get(str(value), str(value))


def answer_rows(
    definition: QuestionnaireDefinition, answers: dict[str, Any]
) -> list[dict[str, Any]]:
    """Every variable of the questionnaire with its question (a matrix row: its statement, the
    matrix's question as ``group``) and the response's answer."""
    rows = []
    for variable in definition.variables():
        # A matrix's rows come under its question, named once.
        matrix = variable.row is not None
        rows.append(
            {
                "section": ui_text(definition.sections[variable.section_index].title),
                "group": ui_text(variable.item.label) if matrix else "",
                "code": variable.code,
                "question": ui_text(variable.label),
                "answer": _answer_text(variable.item, answers.get(variable.code)),
                "answered": variable.code in answers,
            }
        )
    return rows


@router.get("/waves/{wave_id}/responses/{response_id}", response_class=HTMLResponse)
def show_response(
    request: Request, session: SessionDep, ctx: EditorDep, wave_id: int, response_id: int
) -> HTMLResponse:
    """Every answer of one response: raw data, the research organisation's (never a
    client's, like the raw exports)."""
    wave, study = access.editable_wave(session, ctx, wave_id)
    response = access.found(
        session,
        select(SurveyResponse).where(
            SurveyResponse.id == response_id, SurveyResponse.wave_id == wave.id
        ),
    )
    definition = service.definition_for(session, response.questionnaire_version_id)
    contact = session.get(Contact, response.contact_id) if response.contact_id else None
    return render(
        request,
        "fieldwork/response.html",
        {
            "wave": wave,
            "study": study,
            "response": response,
            "contact": contact,
            "rows": answer_rows(definition, service.answers_of(response, definition)),
            "flags": wave_flags(session, wave).get(response.id, []),
            "flag_label": texts.flag_label,
            "back": request.query_params.get("back", ""),
            "page_title": ui_text(definition.sections[response.current_page].title)
            if response.current_page < len(definition.sections)
            else "",
        },
    )


@router.post("/waves/{wave_id}/responses/exclusion")
def set_exclusion(
    request: Request,
    session: SessionDep,
    ctx: EditorDep,
    wave_id: int,
    ids: Annotated[list[str], Form()] = [],  # noqa: B006  (FastAPI copies form defaults)
    excluded: Annotated[str, Form()] = "",
    reason: Annotated[str, Form()] = "",
    back: Annotated[str, Form()] = "",
) -> Response:
    """Exclude (with the reason) or include again the ticked responses; back to the same
    filter and page."""
    wave, _study = access.editable_wave(session, ctx, wave_id)
    target = f"/waves/{wave.id}/responses" + (f"?{back}" if back and "//" not in back else "")
    response_ids = [number for value in ids if (number := whole_number(value)) is not None]
    if excluded not in ("0", "1"):
        raise InvalidInput("This action is not allowed here.")
    if not response_ids:
        flash(request, "Tick the responses to exclude or include first.", "error")
        return redirect(target)
    exclude = excluded == "1"
    count = service.set_excluded(session, wave, response_ids, excluded=exclude, reason=reason)
    audit.record(
        session,
        ctx,
        "responses.exclude" if exclude else "responses.include",
        object_type="wave",
        object_id=wave.id,
        responses=count,
        **({"reason": " ".join(reason.split())[:200]} if exclude and reason.strip() else {}),
    )
    flash(request, EXCLUSION_MESSAGES[exclude], "success", count=count)
    return redirect(target)


# --- raw data --------------------------------------------------------------------------------


@router.get("/waves/{wave_id}/export.csv")
def export_csv(session: SessionDep, ctx: EditorDep, wave_id: int) -> Response:
    return _export(session, ctx, wave_id, "csv")


@router.get("/waves/{wave_id}/export.xlsx")
def export_xlsx(session: SessionDep, ctx: EditorDep, wave_id: int) -> Response:
    return _export(session, ctx, wave_id, "xlsx")


def _export(session: Session, ctx: OrgContext, wave_id: int, kind: str) -> Response:
    # Raw data (contact attributes, open text) is the research organisation's, never a client's.
    wave, _study = access.editable_wave(session, ctx, wave_id)
    frame = raw_frame(session, wave)
    audit.record(
        session, ctx, "export.responses", object_type="wave", object_id=wave.id, format=kind
    )
    if kind == "csv":
        content, media_type = csv_bytes(frame), "text/csv; charset=utf-8"
    else:
        safe = frame.map(neutralise)
        content = xlsx_bytes(
            safe, definition=service.definition_for(session, wave.questionnaire_version_id)
        )
        media_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return Response(
        content,
        media_type=media_type,
        headers={
            "content-disposition": f'attachment; filename="wave-{wave.id}-responses.{kind}"',
            "cache-control": "no-store",
        },
    )
