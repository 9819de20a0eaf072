"""Translating XLSForm ``relevant`` expressions to display conditions and back.

Supported forms (what forms written in Excel or KoboToolbox use for skip logic)::

    ${x} = 'yes'      ${x} != 'no'     ${age} >= 18      ${x} = ''   ${x} != ''
    selected(${x}, 'a')   count-selected(${x}) > 0   not(...)   ... and ...   ... or ...

Anything else (arithmetic, other functions, comparisons between two questions) is reported as
not convertible. Imports are normalised: ``not(x = v)`` becomes ``ne`` and ``x = a or x = b``
becomes ``in``, so that export followed by import gives the same condition.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, cast

from surveys.conditions import AllOf, AnyOf, Comparison, Condition, Not

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<ref>\$\{[^}]*\})
      | (?P<string>'[^']*'|"[^"]*")
      | (?P<number>-?\d+(?:\.\d+)?)
      | (?P<op>!=|>=|<=|=|>|<)
      | (?P<punct>[(),])
      | (?P<word>[A-Za-z][A-Za-z0-9_-]*)
      | (?P<dot>\.)
    )""",
    re.VERBOSE,
)
_OPS = {"=": "eq", "!=": "ne", ">": "gt", ">=": "ge", "<": "lt", "<=": "le"}
_FLIPPED = {"eq": "eq", "ne": "ne", "gt": "lt", "ge": "le", "lt": "gt", "le": "ge"}
_SYMBOLS = {value: key for key, value in _OPS.items()}
MAX_EXPRESSION_LENGTH = 2000


class RelevantError(ValueError):
    """The expression is not one of the supported forms."""


def _tokenise(text: str) -> list[tuple[str, str]]:
    tokens, position = [], 0
    text = text.rstrip()
    while position < len(text):
        match = _TOKEN.match(text, position)
        if not match or match.end() == position:
            raise RelevantError(f"unexpected '{text[position:].strip()[:20]}'")
        kind = match.lastgroup or ""
        tokens.append((kind, match.group(kind)))
        position = match.end()
    return tokens


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = _tokenise(text)
        self.index = 0

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.index] if self.index < len(self.tokens) else None

    def take(self, kind: str | None = None, value: str | None = None) -> tuple[str, str]:
        token = self.peek()
        if token is None or (kind and token[0] != kind) or (value and token[1] != value):
            expected = value or kind or "more"
            found = token[1] if token else "the end"
            raise RelevantError(f"expected {expected} but found {found}")
        self.index += 1
        return token

    def at_word(self, word: str) -> bool:
        token = self.peek()
        return token is not None and token[0] == "word" and token[1] == word

    def parse(self) -> Condition:
        condition = self.disjunction()
        if self.peek() is not None:
            raise RelevantError(f"unexpected '{self.peek()[1]}'")  # type: ignore[index]
        return condition

    def disjunction(self) -> Condition:
        parts = [self.conjunction()]
        while self.at_word("or"):
            self.take()
            parts.append(self.conjunction())
        return parts[0] if len(parts) == 1 else AnyOf(any=parts)

    def conjunction(self) -> Condition:
        parts = [self.unary()]
        while self.at_word("and"):
            self.take()
            parts.append(self.unary())
        return parts[0] if len(parts) == 1 else AllOf(all=parts)

    def unary(self) -> Condition:
        if self.at_word("not"):
            self.take()
            self.take("punct", "(")
            inner = self.disjunction()
            self.take("punct", ")")
            return Not(negated=inner)
        token = self.peek()
        if token == ("punct", "("):
            self.take()
            inner = self.disjunction()
            self.take("punct", ")")
            return inner
        if self.at_word("selected"):
            self.take()
            self.take("punct", "(")
            item = self.reference()
            self.take("punct", ",")
            value = self.literal()
            self.take("punct", ")")
            return Comparison(item=item, op="eq", value=value)
        if self.at_word("count-selected"):
            return self.count_selected()
        return self.comparison()

    def count_selected(self) -> Condition:
        self.take()
        self.take("punct", "(")
        item = self.reference()
        self.take("punct", ")")
        op = _OPS[self.take("op")[1]]
        number = self.literal()
        if (op, number) in (("gt", 0), ("ge", 1), ("ne", 0)):
            return Comparison(item=item, op="answered")
        if (op, number) in (("eq", 0), ("lt", 1), ("le", 0)):
            return Not(negated=Comparison(item=item, op="answered"))
        raise RelevantError("count-selected() can only be compared with 0 or 1")

    def comparison(self) -> Condition:
        token = self.peek()
        if token is not None and token[0] == "ref":
            item = self.reference()
            op = _OPS[self.take("op")[1]]
            value = self.literal()
        else:
            value = self.literal()
            op = _FLIPPED[_OPS[self.take("op")[1]]]
            item = self.reference()
        if value == "":
            if op == "ne":
                return Comparison(item=item, op="answered")
            if op == "eq":
                return Not(negated=Comparison(item=item, op="answered"))
            raise RelevantError("only = and != can compare with ''")
        return Comparison(item=item, op=op, value=value)

    def reference(self) -> str:
        kind, text = self.take()
        if kind != "ref":
            raise RelevantError(f"expected a question reference ${{...}} but found {text}")
        return text[2:-1].strip()

    def literal(self) -> str | int | float:
        kind, text = self.take()
        if kind == "string":
            return text[1:-1]
        if kind == "number":
            return float(text) if "." in text else int(text)
        raise RelevantError(f"expected a value but found {text}")


def _normalise(condition: Condition) -> Condition:
    """Canonical form: flattened and/or, ``not eq`` as ``ne``, or-ed equalities as ``in``."""
    if isinstance(condition, Not):
        inner = _normalise(condition.negated)
        if isinstance(inner, Comparison) and inner.op == "eq":
            return inner.model_copy(update={"op": "ne"})
        return Not(negated=inner)
    if isinstance(condition, AllOf):
        parts: list[Condition] = []
        for part in map(_normalise, condition.all):
            parts.extend(part.all if isinstance(part, AllOf) else [part])
        return AllOf(all=parts)
    if isinstance(condition, AnyOf):
        parts = []
        for part in map(_normalise, condition.any):
            parts.extend(part.any if isinstance(part, AnyOf) else [part])
        comparisons = [p for p in parts if isinstance(p, Comparison) and p.op in ("eq", "in")]
        if len(comparisons) == len(parts):
            items = {p.item for p in comparisons}
            if len(items) == 1:
                values: list[Any] = []
                for p in comparisons:
                    values.extend(cast(list[Any], p.value) if p.op == "in" else [p.value])
                return Comparison(item=items.pop(), op="in", value=values)
        return AnyOf(any=parts)
    return condition


def parse_relevant(text: str, coerce: Callable[[str, Any], Any] | None = None) -> Condition:
    """The condition for XLSForm expression ``text``.

    ``coerce(item, value)`` may convert literal values to the referenced question's type
    (e.g. ``'5'`` to ``5`` for a rating scale).

    Raises
    ------
    RelevantError
        When the expression is not of a supported form.
    """
    if len(text) > MAX_EXPRESSION_LENGTH:
        raise RelevantError(f"longer than {MAX_EXPRESSION_LENGTH} characters")
    condition = _normalise(_Parser(text).parse())
    if coerce is None:
        return condition
    return _coerce(condition, coerce)


def _coerce(condition: Condition, coerce: Callable[[str, Any], Any]) -> Condition:
    if isinstance(condition, Comparison):
        if condition.value is None:
            return condition
        if isinstance(condition.value, list):
            value: Any = [coerce(condition.item, v) for v in condition.value]
        else:
            value = coerce(condition.item, condition.value)
        return condition.model_copy(update={"value": value})
    if isinstance(condition, AllOf):
        return AllOf(all=[_coerce(part, coerce) for part in condition.all])
    if isinstance(condition, AnyOf):
        return AnyOf(any=[_coerce(part, coerce) for part in condition.any])
    return Not(negated=_coerce(condition.negated, coerce))


def _literal(value: Any) -> str:
    if isinstance(value, str):
        return f'"{value}"' if "'" in value else f"'{value}'"
    return repr(value)


def to_relevant(condition: Condition, is_multiple: Callable[[str], bool]) -> str:
    """The XLSForm expression for ``condition``; ``is_multiple(code)`` tells select_multiple."""

    def render(node: Condition, nested: bool) -> str:
        if isinstance(node, Comparison):
            return comparison(node)
        if isinstance(node, Not):
            return f"not({render(node.negated, False)})"
        joiner, parts = (" and ", node.all) if isinstance(node, AllOf) else (" or ", node.any)
        text = joiner.join(render(part, True) for part in parts)
        return f"({text})" if nested else text

    def comparison(node: Comparison) -> str:
        ref = f"${{{node.item}}}"
        if node.op == "answered":
            return f"{ref} != ''"
        if node.op == "in":
            values = node.value if isinstance(node.value, list) else [node.value]
            parts = [comparison(Comparison(item=node.item, op="eq", value=v)) for v in values]
            return "(" + " or ".join(parts) + ")"
        if is_multiple(node.item) and node.op in ("eq", "ne"):
            selected = f"selected({ref}, {_literal(node.value)})"
            return selected if node.op == "eq" else f"not({selected})"
        return f"{ref} {_SYMBOLS[node.op]} {_literal(node.value)}"

    return render(condition, False)
