"""Request input that no route can use, refused once for every route before any route reads it.

- An id beyond the id columns' integers names no object: 404, as any missing object does.
  Routes parse ids with pydantic, which accepts any size; SQLite would then raise
  ``OverflowError`` (beyond 64 bits) and PostgreSQL ``NumericValueOutOfRange`` (beyond the
  32 bits of its INTEGER, the type of every id column) on the lookup: a 500.
- A NUL character is in no text anyone types, and PostgreSQL refuses to store it: the form is
  refused with a message instead of failing when the text reaches the database.
- A number longer than Python converts (``sys.get_int_max_str_digits()``, 4,300 digits) would
  make any ``int()`` of it raise: refused with a message before any route parses it.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Container, Iterable, Mapping
from typing import Any, get_args

from fastapi import Request
from pydantic import TypeAdapter, ValidationError
from starlette.datastructures import FormData

from loyaltylab.errors import InvalidInput, NotFound
from loyaltylab.i18n import N_

# The range of INTEGER on PostgreSQL, the narrowest of the id columns on either database.
DATABASE_INTEGERS = range(-(2**31), 2**31)
_INTEGER = TypeAdapter(int)
FORM_CONTENT_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
NUL_MESSAGE = N_("The text contains a NUL character, which is not allowed. Please remove it.")
LONG_NUMBER_MESSAGE = N_("A number in the form has far more digits than any answer can have.")
# int() accepts surrounding white space, a sign and underscores between digits.
_INTEGER_TEXT = re.compile(r"\s*[+-]?[\d_]+\s*")


def names_no_database_row(value: str) -> bool:
    """Whether ``value`` parses as an integer the way a route's ``int`` parameter parses it, but
    no database row can have it as id (``2**31``, ``10**30``, a 5,000-digit number)."""
    if not any(character.isdigit() for character in value):
        return False
    try:
        number = _INTEGER.validate_python(value)
    except ValidationError as error:
        return any(detail["type"] == "int_parsing_size" for detail in error.errors())
    return number not in DATABASE_INTEGERS


async def refuse_unusable_input(request: Request) -> None:
    """An app-wide dependency: ids beyond the database's integers in the path or query answer
    404; NUL characters anywhere in the path, query or form fields and unconvertible numbers a
    clear 400."""
    integer_path_params, integer_query_params = _integer_params(request.scope.get("route"))
    content_type = request.headers.get("content-type", "")
    form = None
    if request.method == "POST" and content_type.startswith(FORM_CONTENT_TYPES):
        form = await request.form()  # parsed once: the route's Form() parameters reuse it
    refuse_unusable(
        request.path_params,
        request.query_params.multi_items(),
        form,
        integer_path_params=integer_path_params,
        integer_query_params=integer_query_params,
    )


def refuse_unusable(
    path_params: Mapping[str, Any],
    query: Iterable[tuple[str, str]],
    form: FormData | None,
    *,
    integer_path_params: Container[str] = frozenset(),
    integer_query_params: Container[str] = frozenset(),
) -> None:
    """What :func:`refuse_unusable_input` checks, for a route that has no dependencies (the
    respondent pages): raises NotFound or InvalidInput."""
    for name, value in path_params.items():
        if not isinstance(value, str):
            continue
        if "\x00" in value or (name in integer_path_params and names_no_database_row(value)):
            raise NotFound("This page does not exist.")
    for name, value in query:
        _refuse_unusable_text(name, value)
        if name in integer_query_params and names_no_database_row(value):
            raise NotFound("This page does not exist.")
    if form is not None:
        for name, field in form.multi_items():
            _refuse_unusable_text(name, field if isinstance(field, str) else "")


def _integer_params(route: object) -> tuple[frozenset[str], frozenset[str]]:
    """The names of the path and of the query parameters that the route or one of its
    dependencies reads as ``int`` (found once per route, then kept on it)."""
    found = getattr(route, "_integer_params", None)
    if found is not None:
        return found
    path: set[str] = set()
    query: set[str] = set()
    pending = [getattr(route, "dependant", None)]
    while pending:
        dependant = pending.pop()
        if dependant is None:
            continue
        path.update(p.name for p in dependant.path_params if _is_integer(p.field_info.annotation))
        query.update(
            p.alias for p in dependant.query_params if _is_integer(p.field_info.annotation)
        )
        pending.extend(dependant.dependencies)
    found = (frozenset(path), frozenset(query))
    if route is not None:
        route._integer_params = found  # type: ignore[attr-defined]
    return found


def _is_integer(annotation: object) -> bool:
    """``int``, ``int | None``, ``Annotated[int, ...]``."""
    return annotation is int or int in get_args(annotation)


def whole_number(text: str, *, maximum: int = DATABASE_INTEGERS.stop - 1) -> int | None:
    """The number ``text`` writes in ASCII digits (spaces around allowed) when it is at most
    ``maximum``, by default the largest id; else None.

    ``str.isdigit()`` is no test before ``int()``: it also accepts "²" and "٣", and says nothing
    of the size, while PostgreSQL's INTEGER (every id column) ends at 2**31 - 1.
    """
    digits = text.strip()
    if not (digits.isascii() and digits.isdigit()):
        return None
    if len(digits.lstrip("0")) > len(str(maximum)):
        return None
    number = int(digits)
    return number if number <= maximum else None


def _refuse_unusable_text(name: str, value: str) -> None:
    if "\x00" in name or "\x00" in value:
        raise InvalidInput(NUL_MESSAGE)
    if len(value) > sys.get_int_max_str_digits() and _INTEGER_TEXT.fullmatch(value):
        raise InvalidInput(LONG_NUMBER_MESSAGE)
