"""The raw data of a wave: one row per response (partial and excluded too), with metadata (the
reason of each exclusion too), quality flags, the contact's attributes and one column per item
code.

Writing the files (CSV with BOM, XLSX, formula cells neutralised) is :mod:`reports.exports`'s
job; this module only assembles the table.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
from sqlmodel import Session, select

from loyaltylab.fieldwork.data import METADATA_COLUMNS, responses_dataframe
from loyaltylab.fieldwork.models import Contact, Response, Wave
from loyaltylab.fieldwork.service import definition_for
from surveys.quality import flag_lists, quality_flags

ATTRIBUTE_PREFIX = "contact_"


def raw_frame(session: Session, wave: Wave) -> pd.DataFrame:
    data = responses_dataframe(session, [wave.id], include_partial=True, include_excluded=True)
    definition = definition_for(session, wave.questionnaire_version_id)
    answers = [column for column in data.columns if column not in _metadata(data)]
    meta = data[_metadata(data)].copy()
    meta.insert(0, "wave", wave.name)
    meta["quality_flags"] = [
        ";".join(flags) for flags in flag_lists(quality_flags(data, definition))
    ]
    for column in ("started_at", "submitted_at"):
        meta[column] = meta[column].dt.strftime("%Y-%m-%dT%H:%M:%SZ")
    if "excluded" in meta:
        reasons = _exclusion_reasons(session, wave.id)
        meta.insert(
            meta.columns.get_loc("excluded") + 1,
            "exclusion_reason",
            [reasons.get(int(response_id)) for response_id in meta["response_id"]],
        )
    attributes = contact_attributes(session, wave.study_id, data["contact"])
    items = data[answers].map(_cell)
    return pd.concat([meta, attributes, items], axis=1)


def _exclusion_reasons(session: Session, wave_id: int) -> dict[int, str]:
    rows = session.exec(
        select(Response.id, Response.exclusion_reason).where(
            Response.wave_id == wave_id, Response.exclusion_reason.is_not(None)
        )
    ).all()
    return {response_id: reason for response_id, reason in rows}


def _metadata(data: pd.DataFrame) -> list[str]:
    return [column for column in METADATA_COLUMNS if column in data]


def _cell(value: Any) -> Any:
    """Multiple-choice answers (lists) as ``a;b``: one value per cell."""
    if isinstance(value, list):
        return ";".join(str(v) for v in value)
    return value


def contact_attributes(session: Session, study_id: int, pseudonyms: pd.Series) -> pd.DataFrame:
    """The attributes of the contacts behind ``pseudonyms`` (one row each, in their order),
    one ``contact_<name>`` column per attribute; empty where a response has no contact."""
    wanted = pseudonyms.dropna().unique().tolist()
    by_pseudonym: dict[str, dict[str, Any]] = {}
    if wanted:
        rows = session.exec(
            select(Contact.pseudonym, Contact.attributes).where(
                Contact.study_id == study_id, Contact.pseudonym.in_(wanted)
            )
        ).all()
        by_pseudonym = {pseudonym: attributes for pseudonym, attributes in rows}
    names = list(dict.fromkeys(name for a in by_pseudonym.values() for name in a))
    return pd.DataFrame(
        {
            ATTRIBUTE_PREFIX + name: [by_pseudonym.get(p, {}).get(name) for p in pseudonyms]
            for name in names
        },
        index=pseudonyms.index,
    )
