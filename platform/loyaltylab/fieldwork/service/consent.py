"""A study's consent texts, shown before the first page."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import bindparam
from sqlmodel import Session, select

from loyaltylab.fieldwork.models import (
    StudyConsent,
)

_CONSENT_OF_STUDY = select(StudyConsent).where(StudyConsent.study_id == bindparam("study_id"))


def set_consent_texts(
    session: Session, *, study_id: int, organisation_id: int, texts: Mapping[str, str]
) -> StudyConsent:
    consent = session.exec(select(StudyConsent).where(StudyConsent.study_id == study_id)).first()
    if consent is None:
        consent = StudyConsent(study_id=study_id, organisation_id=organisation_id)
    consent.texts = {language: text.strip() for language, text in texts.items() if text.strip()}
    session.add(consent)
    session.flush()
    return consent


def consent_texts(session: Session, study_id: int) -> dict[str, str]:
    consent = session.exec(_CONSENT_OF_STUDY, params={"study_id": study_id}).first()
    return dict(consent.texts) if consent else {}
