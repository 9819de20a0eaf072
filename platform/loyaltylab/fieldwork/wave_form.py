"""The new-wave and edit-wave form: its fields as typed, read into the questionnaire version and
the service's :class:`~loyaltylab.fieldwork.service.WaveSettings` with every problem found at once
(each at its field)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel
from sqlmodel import Session

from loyaltylab import i18n
from loyaltylab.fieldwork import service, texts
from loyaltylab.fieldwork.models import QuotaSource, Wave
from loyaltylab.guards import whole_number
from loyaltylab.timeutil import from_local, local

FIELD_LABELS = {
    "name": i18n.N_("Wave name"),
    "version_id": i18n.N_("Questionnaire"),
    "opens_at": i18n.N_("Opens at"),
    "closes_at": i18n.N_("Closes at"),
    "target": i18n.N_("Target sample size"),
    "quota_source": i18n.N_("Count quotas by"),
    "quota_attribute": i18n.N_("Contact attribute or question"),
    "quotas": i18n.N_("Quota per group"),
}
QUOTA_SOURCES = {
    QuotaSource.contact: i18n.N_("A contact attribute (invited and phoned contacts)"),
    QuotaSource.answer: i18n.N_("The answer to a question (every respondent)"),
}


class Unreadable(ValueError):
    """A field's text cannot be read; the message is the msgid to show at the field."""


def _moment(value: str, time_zone: str) -> datetime | None:
    if not value.strip():
        return None
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        raise Unreadable(texts.DATE_FORMAT) from None
    return from_local(moment, time_zone)


def _moment_value(moment: datetime | None, time_zone: str) -> str:
    """A stored time as the ``datetime-local`` field shows it, in the organisation's zone."""
    if moment is None:
        return ""
    shown = local(moment, time_zone)
    return shown.strftime("%Y-%m-%dT%H:%M:%S" if shown.second else "%Y-%m-%dT%H:%M")


def _quotas(attribute: str, text: str) -> tuple[str | None, dict[str, int]]:
    """One ``value: number`` per line (or comma); ``attribute=value: number`` names the
    attribute on the line, as the form of earlier versions wrote it."""
    attribute_name = attribute.strip() or None
    quotas: dict[str, int] = {}
    for part in text.replace("\n", ",").split(","):
        if not part.strip():
            continue
        cell, _, count = part.rpartition(":")
        if "=" in cell:
            name, _, cell = cell.partition("=")
            if attribute_name not in (None, name.strip()):
                raise Unreadable(
                    i18n.N_("Quotas are on one attribute or question: the one named above.")
                )
            attribute_name = name.strip()
        cell = cell.strip()
        number = whole_number(count)
        if not cell or not number:
            raise Unreadable(texts.QUOTA_SYNTAX)
        quotas[cell] = number
    return attribute_name, quotas


class WaveForm(BaseModel):
    """The fields of the new-wave and edit-wave forms, as typed."""

    name: str = ""
    version_id: str = ""
    opens_at: str = ""
    closes_at: str = ""
    target: str = ""
    quota_source: str = QuotaSource.contact.value
    quota_attribute: str = ""
    quotas: str = ""

    def read(self, time_zone: str) -> tuple[int | None, service.WaveSettings, dict[str, str]]:
        """The version id, the settings of ``service.create_wave`` / ``update_wave`` and the
        fields that cannot be read (field -> message, in the reader's language). A field that
        cannot be read is None (the version id, a time) or empty (the quotas)."""
        errors: dict[str, str] = {}

        def read_field(field: str, reader: Any, *args: Any) -> Any:
            try:
                return reader(*args)
            except Unreadable as problem:
                errors[field] = i18n.gettext(str(problem))
                return None

        version_id = whole_number(self.version_id)
        if version_id is None:
            errors["version_id"] = i18n.gettext(texts.CHOOSE_VERSION)
        target = self.target.strip()
        if target and whole_number(target) is None:
            errors["target"] = i18n.gettext(texts.TARGET_NUMBER)
        source = (
            QuotaSource(self.quota_source)
            if self.quota_source in QuotaSource.__members__
            else QuotaSource.contact
        )
        attribute, quotas = read_field("quotas", _quotas, self.quota_attribute, self.quotas) or (
            self.quota_attribute.strip() or None,
            {},
        )
        if source == QuotaSource.contact and attribute:
            attribute = attribute.lower()  # contact files' column names are read in lower case
        settings = service.WaveSettings(
            name=self.name,
            opens_at=read_field("opens_at", _moment, self.opens_at, time_zone),
            closes_at=read_field("closes_at", _moment, self.closes_at, time_zone),
            target=whole_number(target),
            quota_source=source,
            quota_attribute=attribute,
            quotas=quotas,
        )
        return version_id, settings, errors

    def check(
        self,
        session: Session,
        *,
        study_id: int,
        organisation_id: int,
        time_zone: str,
        wave: Wave | None = None,
    ) -> tuple[int | None, service.WaveSettings, dict[str, str]]:
        """The version id, the settings and every problem of the form, each at its field:
        what cannot be read, then the wave rules the rest breaks."""
        version_id, settings, errors = self.read(time_zone)
        problems = service.wave_problems(
            session,
            settings,
            study_id=study_id,
            organisation_id=organisation_id,
            version_id=version_id,
            wave=wave,
        )
        attribute = settings.quota_attribute or ""
        if (
            "quotas" not in problems
            and settings.quotas
            and attribute
            and settings.quota_source == QuotaSource.contact
            and not service.contact_has_attribute(session, study_id, attribute)
        ):
            problems["quotas"] = "no contact has the quota attribute"
        answers: list[str] = []
        if settings.quota_source == QuotaSource.answer and version_id is not None:
            try:
                definition = service.definition_for(session, version_id)
            except LookupError:
                definition = None
            if definition is not None:
                answers = service.quota_answers(definition, attribute) or []
        messages = texts.wave_errors(problems, attribute=attribute, answers=", ".join(answers))
        found = messages | errors
        # In the order of the form's fields, as the error summary lists them.
        return (
            version_id,
            settings,
            {field: found[field] for field in FIELD_LABELS if field in found},
        )

    @classmethod
    def of(cls, wave: Wave, time_zone: str) -> WaveForm:
        return cls(
            name=wave.name,
            version_id=str(wave.questionnaire_version_id),
            opens_at=_moment_value(wave.opens_at, time_zone),
            closes_at=_moment_value(wave.closes_at, time_zone),
            target=str(wave.target or ""),
            quota_source=wave.quota_source.value,
            quota_attribute=wave.quota_attribute or "",
            quotas="\n".join(f"{cell}: {n}" for cell, n in wave.quotas.items()),
        )
