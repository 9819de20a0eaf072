"""Parser for lavaan model syntax.

Supports the operators ``=~`` (measurement), ``<~`` (composite of formative indicators, estimated
by PLS only), ``~`` (regression), ``~~`` (variance/covariance), ``~ 1`` (intercept), ``|``
(thresholds of an ordered item, ``y1 | t1 + t2``) and ``:=`` (defined parameter), modifiers
``label*x``, ``1*x`` (fixed), ``NA*x`` (free), ``start(0.5)*x``, several formulas per line
separated by ``;``, formulas continued over lines, and ``#``/``!`` comments. Defined parameters
are parsed into a small expression tree (numbers, labels, ``+ - * / ^``, parentheses and a few
functions) that is evaluated without ``eval``.

References
----------
Rosseel, Y. (2012). lavaan: An R package for structural equation modeling. *Journal of
Statistical Software*, 48(2), 1-36. https://doi.org/10.18637/jss.v048.i02
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from analysis.errors import ModelSyntaxError, ModelTooComplexError

__all__ = [
    "DefinedParameter",
    "Expression",
    "ModelSpec",
    "ModelSyntaxError",
    "ParameterRow",
    "measurement_syntax",
    "parse_model",
]

_NAME = r"[^\W\d][\w.]*"
_NAME_RE = re.compile(rf"^{_NAME}$")
_NUMBER_RE = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")
_OPERATORS = ("=~", "<~", "~~", ":=", "~", "|")
_THRESHOLD_RE = re.compile(r"^t[1-9]\d*$")
_UNSUPPORTED = {
    "==": "equality constraints with '==' are not supported; give the parameters the same label",
}
_CONTINUES_AFTER = ("+", "*", "=~", "<~", "~~", "~", ":=", "|", "-", "/", "^", "(", ",")
_CONTINUES_BEFORE = ("+", "*", "/", "^", ")")
# Limits checked before parsing: the expression parser recurses (a few frames per parenthesis,
# one per unary sign or power) and its tree is evaluated recursively, so unbounded input would
# end in RecursionError. A real model is a few thousand characters; a defined parameter a few
# dozen tokens (``ind := a*b``, ``total := c + a*b``).
MAX_MODEL_CHARS = 50_000
MAX_EXPRESSION_TOKENS = 200
MAX_EXPRESSION_NESTING = 20


@dataclass(frozen=True)
class ParameterRow:
    """One formula term as the user wrote it.

    Attributes
    ----------
    lhs, op, rhs : str
        As in lavaan's parameter table; intercepts have ``op="~1"`` and ``rhs=""``,
        thresholds ``op="|"`` and ``rhs="t1"``, ``"t2"``...
    label : str
        The parameter label (``""`` when none). Terms sharing a label are constrained equal.
    fixed : float or None
        The value the parameter is fixed to, ``None`` when free or left to the defaults.
    free : bool
        ``True`` when the user freed it explicitly with ``NA*``.
    start : float or None
        A starting value given with ``start(value)*``.
    line : int
        1-based line of the statement.
    """

    lhs: str
    op: str
    rhs: str
    label: str = ""
    fixed: float | None = None
    free: bool = False
    start: float | None = None
    line: int = 0


class Expression:
    """Arithmetic over parameter labels, parsed from the right-hand side of ``:=``.

    Evaluated by walking a tree of tuples; names resolve through a mapping, so nothing from
    the model text is ever executed.
    """

    _FUNCTIONS: Mapping[str, tuple[Callable[[float], float], Callable[[float], float]]] = {
        "sqrt": (math.sqrt, lambda x: 0.5 / math.sqrt(x)),
        "exp": (math.exp, math.exp),
        "log": (math.log, lambda x: 1.0 / x),
        "abs": (abs, lambda x: math.copysign(1.0, x)),
    }

    def __init__(self, text: str, tree: tuple) -> None:
        self.text = text
        self._tree = tree

    def __repr__(self) -> str:
        return f"Expression({self.text!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Expression) and other._tree == self._tree

    def __hash__(self) -> int:
        return hash(self._tree)

    @property
    def names(self) -> tuple[str, ...]:
        """Labels the expression refers to, in order of first appearance."""
        found: list[str] = []

        def walk(node: tuple) -> None:
            if node[0] == "name" and node[1] not in found:
                found.append(node[1])
            for child in node[1:]:
                if isinstance(child, tuple):
                    walk(child)

        walk(self._tree)
        return tuple(found)

    def evaluate(self, values: Mapping[str, float]) -> float:
        """Value of the expression for the given label values.

        Examples
        --------
        >>> parse_model("y ~ a*x + b*z\\nd := (a - b)^2 / 2").defined[0].expression.evaluate(
        ...     {"a": 3.0, "b": 1.0})
        2.0
        """
        return self.value_and_gradient(values, ())[0]

    def value_and_gradient(
        self, values: Mapping[str, float], wrt: Sequence[str]
    ) -> tuple[float, np.ndarray]:
        """Value and gradient with respect to the labels in ``wrt`` (forward-mode)."""
        position = {name: i for i, name in enumerate(wrt)}
        size = len(wrt)

        def walk(node: tuple) -> tuple[float, np.ndarray]:
            kind = node[0]
            if kind == "num":
                return node[1], np.zeros(size)
            if kind == "name":
                grad = np.zeros(size)
                if node[1] in position:
                    grad[position[node[1]]] = 1.0
                return float(values[node[1]]), grad
            if kind == "neg":
                value, grad = walk(node[1])
                return -value, -grad
            if kind == "call":
                function, derivative = self._FUNCTIONS[node[1]]
                value, grad = walk(node[2])
                return function(value), derivative(value) * grad
            left, dleft = walk(node[1])
            right, dright = walk(node[2])
            if kind == "+":
                return left + right, dleft + dright
            if kind == "-":
                return left - right, dleft - dright
            if kind == "*":
                return left * right, dleft * right + left * dright
            if kind == "/":
                return left / right, (dleft * right - left * dright) / right**2
            value = left**right
            grad = right * left ** (right - 1) * dleft
            if np.any(dright):
                grad = grad + value * math.log(left) * dright
            return value, grad

        return walk(self._tree)


@dataclass(frozen=True)
class DefinedParameter:
    """A ``name := expression`` statement."""

    name: str
    expression: Expression
    line: int


@dataclass(frozen=True)
class ModelSpec:
    """A parsed lavaan model.

    Attributes
    ----------
    rows : tuple of ParameterRow
        Every user-written term, in syntax order (one per left/right-hand side combination).
    defined : tuple of DefinedParameter
        ``:=`` statements in syntax order.
    latent : dict
        Factor -> its indicators in order (``=~``).
    composites : dict
        Composite -> its formative indicators in order (``<~``); PLS estimates them, the
        covariance-based engine does not.
    regressions : dict
        Outcome -> its predictors in order (``~``).
    covariances : tuple of (str, str)
        User-written ``~~`` terms, variances included as ``(x, x)``.
    intercepts : tuple of str
        Variables with a user-written ``~ 1`` term.
    latent_variables : tuple of str
        Factors and composites in order of first definition.
    observed_variables : tuple of str
        Names that must be data columns, in lavaan's order (indicators, observed outcomes,
        observed predictors, others).
    text : str
        The model syntax as given.
    """

    rows: tuple[ParameterRow, ...]
    defined: tuple[DefinedParameter, ...]
    latent: dict[str, tuple[str, ...]] = field(hash=False)
    regressions: dict[str, tuple[str, ...]] = field(hash=False)
    covariances: tuple[tuple[str, str], ...]
    intercepts: tuple[str, ...]
    latent_variables: tuple[str, ...]
    observed_variables: tuple[str, ...]
    text: str = ""
    composites: dict[str, tuple[str, ...]] = field(default_factory=dict, hash=False)

    @property
    def labels(self) -> tuple[str, ...]:
        """Distinct parameter labels in order of first use."""
        return tuple(dict.fromkeys(row.label for row in self.rows if row.label))


def parse_model(text: str) -> ModelSpec:
    """Parse lavaan model syntax.

    Parameters
    ----------
    text : str
        Model syntax, e.g. ``"SAT =~ s1 + s2 + s3\\nLOY ~ SAT"``.

    Returns
    -------
    ModelSpec
        The parsed model.

    Raises
    ------
    ModelSyntaxError
        With the 1-based line number and what is wrong.

    References
    ----------
    Rosseel, Y. (2012). lavaan: An R package for structural equation modeling. *Journal of
    Statistical Software*, 48(2), 1-36.

    Examples
    --------
    >>> spec = parse_model('''
    ... SAT =~ s1 + s2 + s3   # satisfaction
    ... LOY =~ l1 + l2 + l3
    ... LOY ~ b*SAT
    ... s1 ~~ l1; twice := 2*b
    ... ''')
    >>> spec.latent["SAT"]
    ('s1', 's2', 's3')
    >>> spec.observed_variables
    ('s1', 's2', 's3', 'l1', 'l2', 'l3')
    >>> spec.defined[0].expression.evaluate({"b": 0.4})
    0.8
    >>> parse_model("LOY =~ l1 + l2\\nV S")
    Traceback (most recent call last):
    ...
    analysis.errors.ModelSyntaxError: line 2: expected an operator (=~, <~, ~, ~~, |, :=) in 'V S'
    """
    if not isinstance(text, str):
        raise ModelSyntaxError(f"the model must be text, not {type(text).__name__}")
    if len(text) > MAX_MODEL_CHARS:
        raise ModelTooComplexError(
            f"the model has {len(text):,} characters; at most {MAX_MODEL_CHARS:,} are accepted",
            measure="characters",
            limit=MAX_MODEL_CHARS,
        )
    rows: list[ParameterRow] = []
    defined: list[DefinedParameter] = []
    for line, statement in _statements(text):
        operator = _find_operator(statement, line)
        left, right = (part.strip() for part in statement.split(operator, 1))
        if not left:
            raise ModelSyntaxError(
                f"nothing on the left of '{operator}' in '{statement}'", line=line
            )
        if not right:
            raise ModelSyntaxError(
                f"nothing on the right of '{operator}' in '{statement}'", line=line
            )
        if operator == ":=":
            if not _NAME_RE.match(left):
                raise ModelSyntaxError(
                    f"'{left}' is not a valid name for a defined parameter", line=line
                )
            defined.append(DefinedParameter(left, _parse_expression(right, line), line))
            continue
        for lhs in _split_terms(left, line):
            if not _NAME_RE.match(lhs):
                raise ModelSyntaxError(f"'{lhs}' is not a valid variable name", line=line)
            rows.extend(
                _parse_term(lhs, operator, term, line) for term in _split_terms(right, line)
            )
    if not rows:
        raise ModelSyntaxError("the model has no formulas")
    return _build_spec(rows, defined, text)


def measurement_syntax(constructs: Mapping[str, Sequence[str]]) -> str:
    """lavaan measurement model for constructs and their items.

    Parameters
    ----------
    constructs : mapping
        Construct code -> item column names (at least one each).

    Returns
    -------
    str
        One ``CODE =~ item1 + item2 + ...`` line per construct.

    Examples
    --------
    >>> print(measurement_syntax({"SAT": ["sat1", "sat2"], "LOY": ["loy1", "loy2"]}))
    SAT =~ sat1 + sat2
    LOY =~ loy1 + loy2
    """
    lines = []
    for construct, items in constructs.items():
        items = list(items)
        for name in (construct, *items):
            if not isinstance(name, str) or not _NAME_RE.match(name):
                raise ModelSyntaxError(f"{name!r} cannot be used as a name in model syntax")
        if not items:
            raise ModelSyntaxError(f"construct {construct!r} has no items")
        lines.append(f"{construct} =~ " + " + ".join(items))
    return "\n".join(lines)


def _statements(text: str) -> list[tuple[int, str]]:
    """Split into (line, statement), dropping comments and joining continued formulas."""
    pieces: list[tuple[int, str]] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        code = re.split(r"[#!]", raw, maxsplit=1)[0]
        pieces.extend((number, part.strip()) for part in code.split(";") if part.strip())
    statements: list[tuple[int, str]] = []
    for number, piece in pieces:
        if statements and (
            statements[-1][1].endswith(_CONTINUES_AFTER) or piece.startswith(_CONTINUES_BEFORE)
        ):
            statements[-1] = (statements[-1][0], f"{statements[-1][1]} {piece}")
        else:
            statements.append((number, piece))
    return statements


def _find_operator(statement: str, line: int) -> str:
    for token, message in _UNSUPPORTED.items():
        if token in statement:
            raise ModelSyntaxError(f"{message} (in '{statement}')", line=line)
    positions = {op: statement.find(op) for op in _OPERATORS if op in statement}
    if not positions:
        if re.search(r"[<>]", statement):
            raise ModelSyntaxError(
                f"inequality constraints are not supported (in '{statement}')", line=line
            )
        raise ModelSyntaxError(
            f"expected an operator (=~, <~, ~, ~~, |, :=) in '{statement}'", line=line
        )
    # The leftmost operator wins; at equal positions the longer one ('~~' before '~').
    return min(positions, key=lambda op: (positions[op], -len(op)))


def _split_terms(side: str, line: int) -> list[str]:
    terms, depth, current = [], 0, ""
    for char in side:
        depth += char == "("
        depth -= char == ")"
        if char == "+" and depth == 0 and not re.search(r"(\d[eE]|[*(])\s*$", current):
            terms.append(current.strip())
            current = ""
        else:
            current += char
    terms.append(current.strip())
    if any(not term for term in terms):
        raise ModelSyntaxError(f"empty term in '{side}' (a '+' too many?)", line=line)
    return terms


def _parse_term(lhs: str, operator: str, term: str, line: int) -> ParameterRow:
    *modifiers, name = (part.strip() for part in term.split("*"))
    label, fixed, start, free = "", None, None, False
    for modifier in modifiers:
        if _NUMBER_RE.match(modifier):
            fixed = float(modifier)
        elif modifier == "NA":
            free = True
        elif match := re.fullmatch(r"start\(\s*([^()]+?)\s*\)", modifier):
            if not _NUMBER_RE.match(match.group(1)):
                raise ModelSyntaxError(f"start() needs a number, got '{modifier}'", line=line)
            start = float(match.group(1))
        elif match := re.fullmatch(r"(?:label|equal)\(\s*[\"']?([^()\"']+)[\"']?\s*\)", modifier):
            label = match.group(1).strip()
        elif _NAME_RE.match(modifier):
            label = modifier
        else:
            raise ModelSyntaxError(
                f"'{modifier}' in '{term}' is not a label, a number, NA or start(...)", line=line
            )
    if fixed is not None and free:
        raise ModelSyntaxError(f"'{term}' is both fixed and free (NA)", line=line)
    if name == "1":
        if operator != "~":
            raise ModelSyntaxError(f"an intercept needs '~ 1', not '{operator} 1'", line=line)
        return ParameterRow(lhs, "~1", "", label, fixed, free, start, line)
    if operator == "|":
        if not _THRESHOLD_RE.match(name):
            raise ModelSyntaxError(
                f"thresholds are named t1, t2, ... (lowest first), not '{name}' (in '{term}')",
                line=line,
            )
        return ParameterRow(lhs, "|", name, label, fixed, free, start, line)
    if not _NAME_RE.match(name):
        raise ModelSyntaxError(f"'{name}' is not a valid variable name (in '{term}')", line=line)
    if operator in ("=~", "<~", "~") and name == lhs:
        raise ModelSyntaxError(f"'{lhs} {operator} {name}' relates a variable to itself", line=line)
    return ParameterRow(lhs, operator, name, label, fixed, free, start, line)


_TOKEN_RE = re.compile(
    rf"\s*(?:(?P<num>(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?)|(?P<name>{_NAME})|(?P<op>[-+*/^()]))"
)


def _parse_expression(text: str, line: int) -> Expression:
    tokens: list[tuple[str, object]] = []
    position = 0
    stripped = text.rstrip()
    while position < len(stripped):
        match = _TOKEN_RE.match(stripped, position)
        if not match or match.end() == position:
            bad = stripped[position:].strip()[:1]
            raise ModelSyntaxError(f"unexpected '{bad}' in expression '{text}'", line=line)
        if match.group("num"):
            tokens.append(("num", float(match.group("num"))))
        elif match.group("name"):
            tokens.append(("name", match.group("name")))
        else:
            tokens.append(("op", match.group("op")))
        position = match.end()
    _check_expression_size(tokens, text, line)
    parser = _ExpressionParser(tokens, text, line)
    tree = parser.expression()
    if parser.index != len(tokens):
        raise ModelSyntaxError(f"unexpected '{tokens[parser.index][1]}' in '{text}'", line=line)
    return Expression(text.strip(), tree)


def _check_expression_size(tokens: list[tuple[str, object]], text: str, line: int) -> None:
    depth = 0
    for _kind, value in tokens:
        depth += (value == "(") - (value == ")")
        if depth > MAX_EXPRESSION_NESTING:
            raise ModelTooComplexError(
                f"the expression '{text.strip()[:40]}…' nests parentheses more than "
                f"{MAX_EXPRESSION_NESTING} deep",
                measure="nesting",
                limit=MAX_EXPRESSION_NESTING,
                line=line,
            )
    if len(tokens) > MAX_EXPRESSION_TOKENS:
        raise ModelTooComplexError(
            f"the expression '{text.strip()[:40]}…' has {len(tokens):,} terms and operators; "
            f"at most {MAX_EXPRESSION_TOKENS} are accepted",
            measure="terms",
            limit=MAX_EXPRESSION_TOKENS,
            line=line,
        )


class _ExpressionParser:
    """Recursive descent: sum -> product -> unary -> power -> atom (``^`` right-associative)."""

    def __init__(self, tokens: list[tuple[str, object]], text: str, line: int) -> None:
        self.tokens, self.text, self.line, self.index = tokens, text, line, 0

    def _peek(self) -> tuple[str, object] | None:
        return self.tokens[self.index] if self.index < len(self.tokens) else None

    def _error(self, what: str) -> ModelSyntaxError:
        return ModelSyntaxError(f"{what} in expression '{self.text.strip()}'", line=self.line)

    def expression(self) -> tuple:
        node = self._product()
        while (token := self._peek()) and token[1] in ("+", "-"):
            self.index += 1
            node = (token[1], node, self._product())
        return node

    def _product(self) -> tuple:
        node = self._unary()
        while (token := self._peek()) and token[1] in ("*", "/"):
            self.index += 1
            node = (token[1], node, self._unary())
        return node

    def _unary(self) -> tuple:
        token = self._peek()
        if token and token[1] in ("-", "+"):
            self.index += 1
            operand = self._unary()
            return ("neg", operand) if token[1] == "-" else operand
        return self._power()

    def _power(self) -> tuple:
        base = self._atom()
        if (token := self._peek()) and token[1] == "^":
            self.index += 1
            return ("^", base, self._unary())
        return base

    def _atom(self) -> tuple:
        token = self._peek()
        if token is None:
            raise self._error("unexpected end")
        self.index += 1
        kind, value = token
        if kind == "num":
            return ("num", value)
        if kind == "name":
            following = self._peek()
            if following and following[1] == "(":
                if value not in Expression._FUNCTIONS:
                    allowed = ", ".join(Expression._FUNCTIONS)
                    raise self._error(f"unknown function '{value}' (allowed: {allowed})")
                self.index += 1
                argument = self.expression()
                self._expect(")")
                return ("call", value, argument)
            return ("name", value)
        if value == "(":
            node = self.expression()
            self._expect(")")
            return node
        raise self._error(f"unexpected '{value}'")

    def _expect(self, symbol: str) -> None:
        token = self._peek()
        if token is None or token[1] != symbol:
            raise self._error(f"expected '{symbol}'")
        self.index += 1


def _unique(values: Sequence[str]) -> list[str]:
    return list(dict.fromkeys(values))


def _build_spec(rows: list[ParameterRow], defined: list[DefinedParameter], text: str) -> ModelSpec:
    seen: dict[tuple[str, str, str], int] = {}
    for row in rows:
        key = (row.lhs, row.op, row.rhs)
        if row.op == "~~":
            first, second = sorted((row.lhs, row.rhs))
            key = (first, second, "~~")
        if key in seen:
            raise ModelSyntaxError(
                f"'{row.lhs} {row.op} {row.rhs}'".replace(" ~1 ", " ~ 1")
                + f" is already specified on line {seen[key]}",
                line=row.line,
            )
        seen[key] = row.line

    latent_variables = _unique([row.lhs for row in rows if row.op in ("=~", "<~")])
    latent = {
        factor: tuple(row.rhs for row in rows if row.op == "=~" and row.lhs == factor)
        for factor in _unique([row.lhs for row in rows if row.op == "=~"])
    }
    composites = {
        composite: tuple(row.rhs for row in rows if row.op == "<~" and row.lhs == composite)
        for composite in _unique([row.lhs for row in rows if row.op == "<~"])
    }
    for name in set(latent) & set(composites):
        line = next(row.line for row in rows if row.op == "<~" and row.lhs == name)
        raise ModelSyntaxError(
            f"'{name}' is defined both by '=~' and by '<~'; use one of them", line=line
        )
    regressions = {
        outcome: tuple(row.rhs for row in rows if row.op == "~" and row.lhs == outcome)
        for outcome in _unique([row.lhs for row in rows if row.op == "~"])
    }
    # lavaan's ordering of observed variables (lav_partable_vnames "ov").
    lv = set(latent_variables)
    indicators = _unique([row.rhs for row in rows if row.op in ("=~", "<~") and row.rhs not in lv])
    outcomes = [name for name in regressions if name not in lv and name not in indicators]
    predictors = _unique(
        [
            row.rhs
            for row in rows
            if row.op == "~" and row.rhs not in lv and row.rhs not in indicators
        ]
    )
    predictors = [name for name in predictors if name not in outcomes]
    ordered = [*indicators, *outcomes, *predictors]
    for row in rows:
        if row.op == "|" and row.lhs in lv:
            raise ModelSyntaxError(
                f"'{row.lhs}' is a latent variable; only ordered observed items have thresholds",
                line=row.line,
            )
    extra = _unique(
        [name for row in rows if row.op == "~~" for name in (row.lhs, row.rhs) if name not in lv]
        + [row.lhs for row in rows if row.op in ("~1", "|") and row.lhs not in lv]
    )
    observed = tuple(ordered + [name for name in extra if name not in ordered])

    labels = {row.label for row in rows if row.label}
    variables = lv | set(observed)
    for row in rows:
        if row.label in variables:
            raise ModelSyntaxError(
                f"label '{row.label}' is also a variable name; use another label", line=row.line
            )
    known = set(labels)
    for parameter in defined:
        if parameter.name in known:
            raise ModelSyntaxError(
                f"'{parameter.name}' is defined twice or is already a label", line=parameter.line
            )
        unknown = [name for name in parameter.expression.names if name not in known]
        if unknown:
            raise ModelSyntaxError(
                f"'{parameter.name} := {parameter.expression.text}' uses unknown label(s) "
                + ", ".join(f"'{name}'" for name in unknown)
                + " (label a parameter first, e.g. 'y ~ a*x')",
                line=parameter.line,
            )
        known.add(parameter.name)
    return ModelSpec(
        rows=tuple(rows),
        defined=tuple(defined),
        latent=latent,
        regressions=regressions,
        covariances=tuple((row.lhs, row.rhs) for row in rows if row.op == "~~"),
        intercepts=tuple(row.lhs for row in rows if row.op == "~1"),
        latent_variables=tuple(latent_variables),
        observed_variables=observed,
        text=text,
        composites=composites,
    )
