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
import zipfile
from dataclasses import dataclass, field
from typing import Any

MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 50_000
MAX_COLUMNS = 50
MAX_CELL_CHARS = 500
MAX_ID_CHARS = 100
MAX_NAME_CHARS = 200
MAX_XLSX_UNPACKED = 60 * 1024 * 1024
ID_COLUMNS = ("external_id", "id", "customer_id", "customer id", "客户编号", "编号")
EMAIL_COLUMNS = ("email", "e-mail", "mail", "邮箱", "电子邮件")
PHONE_COLUMNS = ("phone", "mobile", "telephone", "电话", "手机")
NAME_COLUMNS = ("name", "full name", "full_name", "姓名", "称呼")
LANGUAGE_COLUMNS = ("language", "lang", "locale", "语言")
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


class ContactFileRejected(Exception):
    """The whole file is refused; ``reason`` is one of the codes below, ``params`` its details.

    ``too_large``, ``not_a_table``, ``unreadable``, ``too_many_rows``, ``too_many_columns``,
    ``no_id_column``, ``empty``, ``duplicate_column``.
    """

    def __init__(self, reason: str, **params: Any) -> None:
        super().__init__(reason)
        self.reason = reason
        self.params = params


@dataclass(frozen=True)
class RowProblem:
    row: int
    """The row number as a spreadsheet shows it (the header is row 1)."""
    code: str
    """``missing_id``, ``duplicate_id``, ``bad_email``, ``bad_phone``, ``bad_language`` or
    ``too_long``."""
    column: str = ""
    value: str = ""


@dataclass
class ContactFile:
    rows: list[dict[str, Any]] = field(default_factory=list)
    """``external_id``, ``email``, ``phone``, ``name``, ``language``, ``attributes``: ready for
    ``add_contacts``."""
    problems: list[RowProblem] = field(default_factory=list)
    attribute_names: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems and bool(self.rows)


def read_contacts(content: bytes, filename: str) -> ContactFile:
    """Parse a contact list; raise :class:`ContactFileRejected` for a file refused outright."""
    if len(content) > MAX_BYTES:
        raise ContactFileRejected("too_large", max_mb=MAX_BYTES // (1024 * 1024))
    name = filename.lower()
    if content.startswith(b"PK\x03\x04"):
        table = _xlsx_table(content)
    elif name.endswith((".xlsx", ".xlsm", ".xls")):
        raise ContactFileRejected("not_a_table")
    else:
        table = _csv_table(content)
    return _contacts(table)


def _csv_table(content: bytes) -> list[list[Any]]:
    if b"\x00" in content[:4096]:
        raise ContactFileRejected("not_a_table")
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = content.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise ContactFileRejected("not_a_table")
    sample = text[:8192]
    try:
        dialect: Any = csv.Sniffer().sniff(sample, delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
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
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            # A zip bomb is refused before anything is inflated.
            if sum(info.file_size for info in archive.infolist()) > MAX_XLSX_UNPACKED:
                raise ContactFileRejected("too_large", max_mb=MAX_BYTES // (1024 * 1024))
            if "xl/workbook.xml" not in archive.namelist():
                raise ContactFileRejected("not_a_table")
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except ContactFileRejected:
        raise
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
    special = {id_index, email_index, phone_index, name_index, language_index}
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
