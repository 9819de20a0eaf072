"""Fieldwork storage under real concurrency (threads, one session each, the real database)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func
from sqlmodel import Session, select

from loyaltylab.fieldwork import service
from loyaltylab.fieldwork.models import (
    Channel,
    InvitationLink,
    Response,
    SubmissionKey,
    Wave,
    WaveInvitation,
    utcnow,
)
from loyaltylab.respond import service as respondent

THREADS = 32


def start(engine, wave_id: int, key: str, invitation_id: int | None = None) -> str:
    """One consent submit in its own transaction, as a request would run it."""
    with Session(engine, expire_on_commit=False) as session:
        wave = session.get(Wave, wave_id)
        invitation = session.get(WaveInvitation, invitation_id) if invitation_id else None
        try:
            claim = respondent.claim_submission(session, key, organisation_id=wave.organisation_id)
            response = respondent.start_response(
                session,
                wave,
                channel=Channel.invitation if invitation else Channel.web,
                language="en",
                claim=claim,
                invitation=invitation,
            )
            session.commit()
            return f"created {response.id}"
        except service.RepeatedSubmission:
            session.rollback()
            return f"repeat {respondent.stored_outcome(session, key).response_id}"
        except service.LinkUsed:
            session.rollback()
            return "used"


def complete(engine, response_id: int, key: str) -> str:
    with Session(engine, expire_on_commit=False) as session:
        response = session.get(Response, response_id)
        wave = session.get(Wave, response.wave_id)
        try:
            claim = respondent.claim_submission(session, key, organisation_id=wave.organisation_id)
            pages = [
                ({"complained": "no"}, 0),
                ({"nps": "7"}, 2),
            ]
            outcome = ""
            for raw, page in pages:
                response.current_page = page
                outcome = respondent.save_page(
                    session, response, wave=wave, page=page, raw=raw, action="next", claim=claim
                ).outcome
            session.commit()
            return outcome
        except (service.RepeatedSubmission, service.LinkUsed):
            session.rollback()
            return "refused"


def count(session: Session, model) -> int:
    return session.exec(select(func.count()).select_from(model)).one()


def test_200_concurrent_submits_of_one_key_store_one_response(engine, session, wave):
    with ThreadPoolExecutor(THREADS) as pool:
        results = list(pool.map(lambda _: start(engine, wave.id, "same-key"), range(200)))
    created = [r for r in results if r.startswith("created")]
    assert len(created) == 1
    response_id = created[0].split()[1]
    assert results.count(f"repeat {response_id}") == 199
    assert count(session, Response) == 1 and count(session, SubmissionKey) == 1


def test_200_concurrent_different_keys_store_200_responses(engine, session, wave):
    with ThreadPoolExecutor(THREADS) as pool:
        results = list(pool.map(lambda n: start(engine, wave.id, f"key-{n}"), range(200)))
    assert all(r.startswith("created") for r in results)
    assert count(session, Response) == 200


def test_personal_link_one_response_one_complete_under_concurrency(engine, session, study, wave):
    [contact] = service.add_contacts(
        session,
        study_id=study.id,
        organisation_id=study.organisation_id,
        rows=[{"external_id": "A"}],
    )
    [link] = service.issue_invitations(session, wave, [contact])
    session.commit()
    invitation_id = link.invitation.id
    with ThreadPoolExecutor(THREADS) as pool:
        starts = list(pool.map(lambda n: start(engine, wave.id, f"s{n}", invitation_id), range(40)))
    assert sum(r.startswith("created") for r in starts) == 1
    assert count(session, Response) == 1
    response_id = session.exec(select(Response.id)).one()
    with ThreadPoolExecutor(THREADS) as pool:
        outcomes = list(pool.map(lambda n: complete(engine, response_id, f"c{n}"), range(40)))
    assert outcomes.count(respondent.DONE) == 1
    session.expire_all()
    invitation = session.get(WaveInvitation, invitation_id)
    assert invitation.used_at is not None and invitation.response_id == response_id
    with pytest.raises(service.LinkUsed):
        service.check_invitation(invitation)


def test_wave_rules(session, study, version):
    with pytest.raises(service.FieldworkError):
        service.create_wave(
            session,
            service.WaveSettings(name="x", quotas={"gold": 5}),
            study_id=study.id,
            organisation_id=study.organisation_id,
            version_id=version.id,
        )
    wave = service.create_wave(
        session,
        service.WaveSettings(name="2026-Q4", opens_at=utcnow().replace(year=2030)),
        study_id=study.id,
        organisation_id=study.organisation_id,
        version_id=version.id,
    )
    assert len(wave.public_slug) >= 20 and not service.is_accepting(wave)
    with pytest.raises(service.InvalidTransition):
        service.close_wave(session, wave)
    service.open_wave(session, wave)
    assert not service.is_accepting(wave)  # opens in 2030
    with pytest.raises(service.WaveNotOpen):
        service.check_entry(session, wave)
    wave.opens_at = None
    assert service.is_accepting(wave)
    service.close_wave(session, wave)
    assert not service.is_accepting(wave)


def test_contacts_keep_their_pseudonym_and_tokens_are_hashed(session, study, wave):
    rows = [{"external_id": "C9", "email": "a@example.com", "attributes": {"tier": "gold"}}]
    [first] = service.add_contacts(
        session, study_id=study.id, organisation_id=study.organisation_id, rows=rows
    )
    [again] = service.add_contacts(
        session,
        study_id=study.id,
        organisation_id=study.organisation_id,
        rows=[{"external_id": "C9", "attributes": {"region": "north"}}],
    )
    assert again.id == first.id and again.pseudonym == first.pseudonym
    assert again.attributes == {"tier": "gold", "region": "north"}
    [link] = service.issue_invitations(session, wave, [first])
    stored = session.exec(select(InvitationLink.token_hash)).all()
    assert stored and all(link.token not in token_hash for token_hash in stored)
    assert service.invitation_by_token(session, link.token).id == link.invitation.id
    assert service.invitation_by_token(session, link.token[:-1] + "x") is None
