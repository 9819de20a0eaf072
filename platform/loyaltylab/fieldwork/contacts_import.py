"""Reading a contact list (CSV or XLSX) defensively: all or nothing.

A file is refused outright when it is too large, is not really CSV or XLSX, or has absurd
dimensions; otherwise every bad row is reported with its row number (the header is row 1, as a
spreadsheet shows it) and nothing is imported until the file is clean. Reasons and problems are
stable codes with parameters: the web layer words them in the user's language.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from typing import Any

from analysis.files import FileRejected, check_size, check_xlsx, decode_text, sniff_delimiter
from loyaltylab.errors import InvalidInput
from loyaltylab.i18n import N_

MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 50_000
MAX_COLUMNS = 50
MAX_CELL_CHARS = 500
MAX_ID_CHARS = 100
MAX_NAME_CHARS = 200
MAX_XLSX_UNPACKED = 60 * 1024 * 1024
PREVIEW_ROWS = 6
ID_COLUMNS = ("external_id", "id", "customer_id", "customer id", "客户编号", "编号")
EMAIL_COLUMNS = ("email", "e-mail", "mail", "邮箱", "电子邮件")
PHONE_COLUMNS = ("phone", "mobile", "telephone", "电话", "手机")
NAME_COLUMNS = ("name", "full name", "full_name", "姓名", "称呼")
LANGUAGE_COLUMNS = ("language", "lang", "locale", "语言")
CHANNEL_COLUMNS = ("channel", "preferred channel", "渠道", "联系方式")
CHANNEL_NAMES = {
    "email": "email",
    "e-mail": "email",
    "mail": "email",
    "邮件": "email",
    "邮箱": "email",
    "电子邮件": "email",
    "sms": "sms",
    "text": "sms",
    "短信": "sms",
}
LANGUAGE_NAMES = {
    "english": "en",
    "英文": "en",
    "英语": "en",
    "chinese": "zh-CN",
    "中文": "zh-CN",
    "简体中文": "zh-CN",
    "汉语": "zh-CN",
    "繁體中文": "zh-TW",
}
_LANGUAGE_TAG = re.compile(r"^[a-z]{2,3}(-[a-z0-9]{2,8})*$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_PHONE = re.compile(r"^\+?[0-9 ()./-]{5,40}$")
_INTEGER = re.compile(r"^-?\d{1,15}$")
_DECIMAL = re.compile(r"^-?\d{1,15}\.\d+$")


# Why a whole file is refused (the stable code) -> what the uploader reads.
REJECTIONS = {
    "too_large": N_("The file is larger than %(max_mb)s MB."),
    "not_a_table": N_("This is not a CSV or XLSX file."),
    "unreadable": N_("The XLSX file is damaged or not really an XLSX file."),
    "too_many_rows": N_("The file has more than %(max_rows)s rows."),
    "too_many_columns": N_("The file has more than %(max_columns)s columns."),
    "no_id_column": N_("The first row must name the columns, one of them %(expected)s."),
    "empty": N_("The file has no contacts."),
    "duplicate_column": N_("The column %(column)s appears twice."),
    "wrong_encoding": N_(
        "The file is not text in the encoding %(encoding)s: choose another encoding, or "
        "let it be detected."
    ),
    "encoding_unsure": N_(
        "The file's text encoding could not be told for certain, so nothing was imported. "
        "Check the preview below, choose the encoding in which the names read correctly and "
        "upload the file again."
    ),
}


class ContactFileRejected(InvalidInput):
    """The whole file is refused: ``reason`` is a code of :data:`REJECTIONS`, the message its
    text and ``params`` its details. The contacts page shows it above the upload form."""

    def __init__(self, reason: str, **params: Any) -> None:
        super().__init__(REJECTIONS[reason], **params)
        self.reason = reason

    def __str__(self) -> str:
        return self.reason


class EncodingUnsure(ContactFileRejected):
    """The CSV file's text encoding is not certain: the user picks one, seeing the first rows
    as each plausible encoding reads them (``previews``: encoding -> rows, most likely first)."""

    def __init__(self, previews: dict[str, list[list[Any]]]) -> None:
        super().__init__("encoding_unsure")
        self.previews = previews


@dataclass(frozen=True)
class RowProblem:
    row: int
    """The row number as a spreadsheet shows it (the header is row 1)."""
    code: str
    """``missing_id``, ``duplicate_id``, ``bad_email``, ``bad_phone``, ``bad_language``,
    ``bad_channel``, ``sms_without_phone`` or ``too_long``."""
    column: str = ""
    value: str = ""


@dataclass
class ContactFile:
    rows: list[dict[str, Any]] = field(default_factory=list)
    """``external_id``, ``email``, ``phone``, ``name``, ``language``, ``channel``,
    ``attributes``: ready for ``add_contacts``."""
    problems: list[RowProblem] = field(default_factory=list)
    attribute_names: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems and bool(self.rows)


def read_contacts(content: bytes, filename: str, *, encoding: str | None = None) -> ContactFile:
    """Parse a contact list; raise :class:`ContactFileRejected` for a file refused outright.

    A CSV file is read in ``encoding`` when given, else in the encoding detected; when the
    detection is unsure, :class:`EncodingUnsure` carries a preview in each plausible one.
    """
    try:
        check_size(len(content), MAX_BYTES)
        if content.startswith(b"PK\x03\x04"):
            check_xlsx(content, max_unpacked=MAX_XLSX_UNPACKED)
            return _contacts(_xlsx_table(content))
        if filename.lower().endswith((".xlsx", ".xlsm", ".xls")):
            raise ContactFileRejected("not_a_table")
        decoded = decode_text(content, encoding=encoding)
    except FileRejected as refused:
        raise _rejection(refused) from None
    if not decoded.certain:
        raise EncodingUnsure(
            {
                candidate: _csv_table(content.decode(candidate))[:PREVIEW_ROWS]
                for candidate in (decoded.encoding, *decoded.alternatives)
            }
        )
    return _contacts(_csv_table(decoded.text))


def _rejection(refused: FileRejected) -> ContactFileRejected:
    if refused.reason in ("too_large", "unpacks_too_large"):
        return ContactFileRejected("too_large", max_mb=MAX_BYTES // (1024 * 1024))
    if refused.reason in ("wrong_encoding", "unknown_encoding"):
        return ContactFileRejected("wrong_encoding", encoding=refused.params["encoding"])
    if refused.reason == "damaged":
        return ContactFileRejected("unreadable")
    return ContactFileRejected("not_a_table")


def _csv_table(text: str) -> list[list[Any]]:
    dialect = csv.excel()
    dialect.delimiter = sniff_delimiter(text[:8192])
    table = []
    try:
        for row in csv.reader(io.StringIO(text, newline=""), dialect):
            table.append(row)
            _check_dimensions(len(table), len(row))
    except csv.Error:
        raise ContactFileRejected("not_a_table") from None
    return table


def _xlsx_table(content: bytes) -> list[list[Any]]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds of errors on a damaged file
        raise ContactFileRejected("unreadable") from None
    try:
        sheet = workbook.worksheets[0]
        table = []
        for row in sheet.iter_rows(values_only=True):
            table.append(list(row))
            _check_dimensions(len(table), len(row))
    except ContactFileRejected:
        raise
    except Exception:
        raise ContactFileRejected("unreadable") from None
    finally:
        workbook.close()
    return table


def _check_dimensions(rows: int, columns: int) -> None:
    if rows > MAX_ROWS + 1:
        raise ContactFileRejected("too_many_rows", max_rows=MAX_ROWS)
    if columns > MAX_COLUMNS:
        raise ContactFileRejected("too_many_columns", max_columns=MAX_COLUMNS)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _typed(value: str) -> Any:
    """Numbers stay numbers (spend, tenure are analysis variables); everything else is text."""
    if _INTEGER.match(value):
        return int(value)
    if _DECIMAL.match(value):
        return float(value)
    return value


def normalise_language(value: str) -> str | None:
    """A language as a contact file writes it, as a BCP-47 tag: ``zh_CN`` -> ``zh-CN``,
    ``Chinese`` or ``中文`` -> ``zh-CN``, ``EN`` -> ``en``; None for what is not a language."""
    text = value.strip()
    named = LANGUAGE_NAMES.get(text.lower())
    if named:
        return named
    tag = text.replace("_", "-").lower()
    if not _LANGUAGE_TAG.match(tag):
        return None
    primary, *rest = tag.split("-")
    # Region subtags are upper case, script subtags title case (zh-Hans-CN).
    return "-".join([primary, *(part.upper() if len(part) == 2 else part.title() for part in rest)])


def _column(header: list[str], names: tuple[str, ...]) -> int | None:
    return next((header.index(name) for name in names if name in header), None)


def _contacts(table: list[list[Any]]) -> ContactFile:
    while table and not any(_cell(value) for value in table[-1]):
        table.pop()
    if len(table) < 2:
        raise ContactFileRejected("empty")
    header = [_cell(value).lower() for value in table[0]]
    seen = set()
    for column in header:
        if column and column in seen:
            raise ContactFileRejected("duplicate_column", column=column)
        seen.add(column)
    id_index = _column(header, ID_COLUMNS)
    if id_index is None:
        raise ContactFileRejected("no_id_column", expected=ID_COLUMNS[0])
    email_index = _column(header, EMAIL_COLUMNS)
    phone_index = _column(header, PHONE_COLUMNS)
    name_index = _column(header, NAME_COLUMNS)
    language_index = _column(header, LANGUAGE_COLUMNS)
    channel_index = _column(header, CHANNEL_COLUMNS)
    special = {id_index, email_index, phone_index, name_index, language_index, channel_index}
    attributes = [(i, column) for i, column in enumerate(header) if column and i not in special]
    result = ContactFile(attribute_names=[column for _i, column in attributes])
    first_row: dict[str, int] = {}
    for number, raw in enumerate(table[1:], start=2):
        cells = [_cell(value) for value in raw] + [""] * (len(header) - len(raw))
        if not any(cells):
            continue
        problems = _row_problems(number, header, cells, id_index, email_index, phone_index)
        language = None
        if language_index is not None and cells[language_index]:
            written = cells[language_index]
            language = normalise_language(written)
            if language is None:
                problems.append(RowProblem(number, "bad_language", header[language_index], written))
        channel = None
        if channel_index is not None and cells[channel_index]:
            written = cells[channel_index]
            channel = CHANNEL_NAMES.get(written.lower())
            if channel is None:
                problems.append(RowProblem(number, "bad_channel", header[channel_index], written))
            elif channel == "sms" and (phone_index is None or not cells[phone_index]):
                problems.append(RowProblem(number, "sms_without_phone", header[channel_index]))
        if name_index is not None and len(cells[name_index]) > MAX_NAME_CHARS:
            problems.append(RowProblem(number, "too_long", header[name_index]))
        external_id = cells[id_index]
        if external_id and external_id in first_row:
            problems.append(RowProblem(number, "duplicate_id", header[id_index], external_id))
        first_row.setdefault(external_id, number)
        result.problems.extend(problems)
        if problems:
            continue
        result.rows.append(
            {
                "external_id": external_id,
                "email": cells[email_index] if email_index is not None else None,
                "phone": cells[phone_index] if phone_index is not None else None,
                "name": cells[name_index] if name_index is not None else None,
                "language": language,
                "channel": channel,
                "attributes": {column: _typed(cells[i]) for i, column in attributes if cells[i]},
            }
        )
    if result.problems:
        result.rows = []
    return result


def _row_problems(
    number: int,
    header: list[str],
    cells: list[str],
    id_index: int,
    email_index: int | None,
    phone_index: int | None,
) -> list[RowProblem]:
    problems = [
        RowProblem(number, "too_long", header[i], value[:40] + "…")
        for i, value in enumerate(cells[: len(header)])
        if len(value) > MAX_CELL_CHARS
    ]
    if not cells[id_index]:
        problems.append(RowProblem(number, "missing_id", header[id_index]))
    elif len(cells[id_index]) > MAX_ID_CHARS:
        problems.append(RowProblem(number, "too_long", header[id_index], cells[id_index][:40]))
    if email_index is not None and cells[email_index] and not _EMAIL.match(cells[email_index]):
        problems.append(RowProblem(number, "bad_email", header[email_index], cells[email_index]))
    if phone_index is not None and cells[phone_index] and not _PHONE.match(cells[phone_index]):
        problems.append(RowProblem(number, "bad_phone", header[phone_index], cells[phone_index]))
    return problems
