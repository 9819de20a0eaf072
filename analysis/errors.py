"""Errors raised by :mod:`analysis` for bad models and data.

Every error is a :class:`ValueError` subclass, so callers that only want to show a message can
catch ``ValueError``; callers that map errors to user-facing texts catch the specific class.
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = [
    "AnalysisError",
    "ConvergenceError",
    "IdentificationError",
    "ModelSyntaxError",
    "ModelTooComplexError",
    "NonNumericDataError",
    "UnknownVariableError",
]


class AnalysisError(ValueError):
    """Base class of every input error raised by :mod:`analysis`."""


class ModelSyntaxError(AnalysisError):
    """The lavaan model syntax cannot be parsed.

    Attributes
    ----------
    line : int or None
        1-based line number of the offending statement, ``None`` when it concerns the whole model.
    detail : str
        The message without the ``line N:`` prefix.
    """

    def __init__(self, detail: str, *, line: int | None = None) -> None:
        self.line = line
        self.detail = detail
        super().__init__(f"line {line}: {detail}" if line is not None else detail)


class ModelTooComplexError(ModelSyntaxError):
    """The model is beyond the size or nesting the parser accepts (refused before parsing, so
    that no input can exhaust the stack or the memory).

    Attributes
    ----------
    limit : int
        The limit exceeded.
    measure : str
        What exceeds it: ``"characters"`` (the whole model), ``"terms"`` or ``"nesting"``
        (parentheses) of an expression.
    """

    def __init__(self, detail: str, *, measure: str, limit: int, line: int | None = None) -> None:
        super().__init__(detail, line=line)
        self.measure = measure
        self.limit = limit


class UnknownVariableError(AnalysisError):
    """The model names variables that are not columns of the data.

    Attributes
    ----------
    missing : tuple of str
        The unknown names, in model order.
    """

    def __init__(self, missing: Sequence[str]) -> None:
        self.missing = tuple(missing)
        names = ", ".join(repr(name) for name in self.missing)
        noun = "variable is" if len(self.missing) == 1 else "variables are"
        super().__init__(f"the model's observed {noun} not in the data: {names}")


class NonNumericDataError(AnalysisError):
    """Model variables hold values that are not numbers.

    Attributes
    ----------
    columns : tuple of str
        The offending columns.
    """

    def __init__(self, columns: Sequence[str], *, hint: str = "") -> None:
        self.columns = tuple(columns)
        names = ", ".join(repr(name) for name in self.columns)
        super().__init__(f"these model variables are not numeric: {names}" + hint)


class IdentificationError(AnalysisError):
    """The model is not identified (negative degrees of freedom, an under-determined factor or a
    singular information matrix); the message says which part."""


class ConvergenceError(AnalysisError):
    """The estimator did not reach a solution."""
