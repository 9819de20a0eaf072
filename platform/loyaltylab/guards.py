"""Request input that no route can use, refused once for every route before any route reads it.

- An id beyond the database's integers (64-bit signed) names no object: 404, as any missing
  object does. Routes parse ids with pydantic, which accepts these values; SQLite would then
  raise ``OverflowError`` and PostgreSQL ``NumericValueOutOfRange`` (a 500) on the lookup.
- A NUL character is in no text anyone types, and PostgreSQL refuses to store it: the form is
  refused with a message instead of failing when the text reaches the database.
- A number longer than Python converts (``sys.get_int_max_str_digits()``, 4,300 digits) would
  make any ``int()`` of it raise: refused with a message before any route parses it.
"""

from __future__ import annotations

import re
import sys

from fastapi import Request
from pydantic import TypeAdapter, ValidationError

from loyaltylab.errors import InvalidInput, NotFound
from loyaltylab.i18n import N_

# The range of BIGINT (PostgreSQL) and of SQLite's INTEGER.
DATABASE_INTEGERS = range(-(2**63), 2**63)
_INTEGER = TypeAdapter(int)
FORM_CONTENT_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
NUL_MESSAGE = N_("The text contains a NUL character, which is not allowed. Please remove it.")
LONG_NUMBER_MESSAGE = N_("A number in the form has far more digits than any answer can have.")
# int() accepts surrounding white space, a sign and underscores between digits.
_INTEGER_TEXT = re.compile(r"\s*[+-]?[\d_]+\s*")


def names_no_database_row(value: str) -> bool:
    """Whether ``value`` parses as an integer the way a route's ``int`` parameter parses it, but
    no database row can have it as id (``2**63``, ``10**30``, a 5,000-digit number)."""
    if not any(character.isdigit() for character in value):
        return False
    try:
        number = _INTEGER.validate_python(value)
    except ValidationError as error:
        return any(detail["type"] == "int_parsing_size" for detail in error.errors())
    return number not in DATABASE_INTEGERS


async def refuse_unusable_input(request: Request) -> None:
    """An app-wide dependency: out-of-range ids in the path or query answer 404; NUL characters
    anywhere in the path, query or form fields and unconvertible numbers a clear 400."""
    for value in request.path_params.values():
        if not isinstance(value, str):
            continue
        if "\x00" in value or names_no_database_row(value):
            raise NotFound("This page does not exist.")
    for name, value in request.query_params.multi_items():
        _refuse_unusable_text(name, value)
        if names_no_database_row(value):
            raise NotFound("This page does not exist.")
    content_type = request.headers.get("content-type", "")
    if request.method == "POST" and content_type.startswith(FORM_CONTENT_TYPES):
        form = await request.form()  # parsed once: the route's Form() parameters reuse it
        for name, field in form.multi_items():
            _refuse_unusable_text(name, field if isinstance(field, str) else "")


def _refuse_unusable_text(name: str, value: str) -> None:
    if "\x00" in name or "\x00" in value:
        raise InvalidInput(NUL_MESSAGE)
    if len(value) > sys.get_int_max_str_digits() and _INTEGER_TEXT.fullmatch(value):
        raise InvalidInput(LONG_NUMBER_MESSAGE)
