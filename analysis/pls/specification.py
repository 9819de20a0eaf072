"""The PLS path model read from lavaan syntax: blocks of indicators, their modes, the paths.

``SAT =~ s1 + s2`` makes a reflective block (outer estimation mode A, correlation weights),
``QUAL <~ q1 + q2`` a composite of formative indicators (mode B, regression weights) and
``SAT ~ QUAL + VAL`` the structural paths. A data column used directly in a path
(``LOY ~ SAT + age``) becomes a single-item construct of its own name.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from functools import cached_property
from typing import Literal

from analysis.errors import ModelSyntaxError
from analysis.syntax import DefinedParameter, ModelSpec, parse_model

__all__ = ["Block", "PlsModel", "pls_model"]

Mode = Literal["A", "B"]
_MODE_OF_OPERATOR: dict[str, Mode] = {"=~": "A", "<~": "B"}


@dataclass(frozen=True)
class Block:
    """One construct and its indicators.

    Attributes
    ----------
    construct : str
        The construct's name.
    items : tuple of str
        Its indicators (data columns), in syntax order.
    mode : {"A", "B"}
        Outer estimation mode: ``"A"`` for reflective blocks (``=~``), ``"B"`` for composites
        of formative indicators (``<~``).
    implicit : bool
        A data column used directly in a path, made a single-item construct.
    """

    construct: str
    items: tuple[str, ...]
    mode: Mode
    implicit: bool = False

    @property
    def reflective(self) -> bool:
        """Measured by reflective indicators (mode A)."""
        return self.mode == "A"


@dataclass(frozen=True)
class PlsModel:
    """A PLS path model.

    Attributes
    ----------
    blocks : tuple of Block
        One per construct, in order of definition (implicit single-item constructs last).
    paths : tuple of (str, str)
        ``(predictor, outcome)`` per structural path, in syntax order.
    labels : dict of str to (str, str, str)
        Parameter label -> its ``(lhs, op, rhs)`` row.
    defined : tuple of DefinedParameter
        ``name := expression`` statements over the labels.
    """

    blocks: tuple[Block, ...]
    paths: tuple[tuple[str, str], ...]
    labels: dict[str, tuple[str, str, str]]
    defined: tuple[DefinedParameter, ...] = ()

    @property
    def constructs(self) -> tuple[str, ...]:
        return tuple(block.construct for block in self.blocks)

    @property
    def items(self) -> tuple[str, ...]:
        """Every indicator, block after block."""
        return tuple(item for block in self.blocks for item in block.items)

    def block(self, construct: str) -> Block:
        return self.blocks[self.constructs.index(construct)]

    def predecessors(self, construct: str) -> tuple[str, ...]:
        """The constructs with a path into ``construct``, in syntax order."""
        return tuple(a for a, b in self.paths if b == construct)

    @property
    def endogenous(self) -> tuple[str, ...]:
        """Constructs with at least one incoming path, in construct order."""
        outcomes = {b for _, b in self.paths}
        return tuple(name for name in self.constructs if name in outcomes)

    @property
    def exogenous(self) -> tuple[str, ...]:
        outcomes = {b for _, b in self.paths}
        return tuple(name for name in self.constructs if name not in outcomes)

    @property
    def final_outcome(self) -> str | None:
        """The one construct with paths into it and none out of it (e.g. loyalty), if one."""
        sources = {a for a, _ in self.paths}
        finals = [name for name in self.endogenous if name not in sources]
        return finals[0] if len(finals) == 1 else None

    @cached_property
    def order(self) -> tuple[str, ...]:
        """Constructs in causal order: every predecessor before its outcomes."""
        placed: list[str] = []
        remaining = list(self.constructs)
        while remaining:
            ready = [c for c in remaining if set(self.predecessors(c)) <= set(placed)]
            if not ready:  # a feedback loop, which pls_model() refuses
                break
            placed.extend(ready)
            remaining = [c for c in remaining if c not in ready]
        return tuple(placed)

    def without_path(self, predictor: str, outcome: str) -> PlsModel:
        """The model without one path; constructs left without any path are dropped."""
        paths = tuple(path for path in self.paths if path != (predictor, outcome))
        connected = {name for path in paths for name in path}
        return PlsModel(
            blocks=tuple(block for block in self.blocks if block.construct in connected),
            paths=paths,
            labels={},
        )


def pls_model(model: str | ModelSpec, *, columns: Collection[str] | None = None) -> PlsModel:
    """Read a PLS path model from lavaan syntax.

    Parameters
    ----------
    model : str or ModelSpec
        ``=~`` reflective blocks (mode A), ``<~`` composites (mode B), ``~`` paths, optional
        labels and ``:=`` defined parameters over them.
    columns : collection of str, optional
        The data's columns: names in paths that are neither constructs nor columns are
        reported as unknown.

    Returns
    -------
    PlsModel

    Raises
    ------
    ModelSyntaxError
        For what PLS cannot estimate: covariances, intercepts, thresholds, fixed values,
        shared labels, higher-order constructs, items in two blocks, constructs without any
        path, feedback loops.

    Examples
    --------
    >>> m = pls_model("IMAG =~ i1 + i2\\nQUAL <~ q1 + q2\\nSAT =~ s1 + s2\\n"
    ...               "SAT ~ IMAG + QUAL\\nLOY ~ SAT")
    >>> [(b.construct, b.mode, b.items) for b in m.blocks][-2:]
    [('SAT', 'A', ('s1', 's2')), ('LOY', 'A', ('LOY',))]
    >>> m.endogenous, m.order
    (('SAT', 'LOY'), ('IMAG', 'QUAL', 'SAT', 'LOY'))
    """
    spec = parse_model(model) if isinstance(model, str) else model
    for row in spec.rows:
        _check_row(row)
    blocks: list[Block] = []
    seen_items: dict[str, str] = {}
    for name in spec.latent_variables:
        operator = "=~" if name in spec.latent else "<~"
        items = spec.latent[name] if operator == "=~" else spec.composites[name]
        for item in items:
            if item in spec.latent_variables:
                raise ModelSyntaxError(
                    f"'{item}' is a construct used as an indicator of '{name}': higher-order "
                    "constructs are not available in PLS here; use the items of '"
                    f"{item}' (repeated indicators) instead",
                    line=_line(spec, name, operator, item),
                )
            if item in seen_items:
                raise ModelSyntaxError(
                    f"item '{item}' is an indicator of both '{seen_items[item]}' and "
                    f"'{name}'; in PLS every item belongs to one block",
                    line=_line(spec, name, operator, item),
                )
            seen_items[item] = name
        blocks.append(Block(name, items, _MODE_OF_OPERATOR[operator]))
    paths = tuple((row.rhs, row.lhs) for row in spec.rows if row.op == "~")
    known = set(spec.latent_variables)
    for name in dict.fromkeys(name for path in paths for name in path):
        if name in known:
            continue
        if name in seen_items:
            raise ModelSyntaxError(
                f"'{name}' is an indicator of '{seen_items[name]}' and cannot also be in a "
                "path; a path joins constructs",
                line=next(r.line for r in spec.rows if r.op == "~" and name in (r.lhs, r.rhs)),
            )
        if columns is not None and name not in columns:
            raise ModelSyntaxError(
                f"'{name}' in a path is neither a construct ('=~' or '<~') nor a data column",
                line=next(r.line for r in spec.rows if r.op == "~" and name in (r.lhs, r.rhs)),
            )
        blocks.append(Block(name, (name,), "A", implicit=True))
        known.add(name)
    if not paths:
        raise ModelSyntaxError("a PLS path model needs at least one path ('~')")
    connected = {name for path in paths for name in path}
    for block in blocks:
        if block.construct not in connected:
            raise ModelSyntaxError(
                f"construct '{block.construct}' is in no path; PLS estimates every block "
                "through its neighbours in the structural model",
                line=_line(spec, block.construct, "=~" if block.mode == "A" else "<~"),
            )
    result = PlsModel(blocks=tuple(blocks), paths=paths, labels=_labels(spec), defined=spec.defined)
    _check_recursive(result)
    return result


def _check_row(row) -> None:
    if row.op in ("~~", "~1", "|"):
        what = {"~~": "covariances ('~~')", "~1": "intercepts ('~ 1')", "|": "thresholds ('|')"}
        raise ModelSyntaxError(
            f"{what[row.op]} have no place in a PLS path model: remove "
            f"'{row.lhs} {row.op} {row.rhs}'".replace(" ~1 ", " ~ 1").rstrip(),
            line=row.line,
        )
    if row.fixed is not None or row.free or row.start is not None:
        raise ModelSyntaxError(
            f"PLS estimates every weight, loading and path; fixed values, NA* and start() "
            f"are not available (in '{row.lhs} {row.op} {row.rhs}')",
            line=row.line,
        )


def _labels(spec: ModelSpec) -> dict[str, tuple[str, str, str]]:
    labels: dict[str, tuple[str, str, str]] = {}
    for row in spec.rows:
        if not row.label:
            continue
        if row.label in labels:
            raise ModelSyntaxError(
                f"label '{row.label}' is used twice; PLS has no equality constraints",
                line=row.line,
            )
        labels[row.label] = (row.lhs, row.op, row.rhs)
    return labels


def _line(spec: ModelSpec, lhs: str, op: str, rhs: str | None = None) -> int:
    return next(
        row.line for row in spec.rows if row.lhs == lhs and row.op == op and rhs in (None, row.rhs)
    )


def _check_recursive(model: PlsModel) -> None:
    """Refuse feedback loops: Lohmöller's algorithm needs a recursive inner model."""
    placed = set(model.order)
    in_loop = [name for name in model.constructs if name not in placed]
    if in_loop:
        raise ModelSyntaxError(
            "the structural model has a feedback loop through "
            + ", ".join(f"'{name}'" for name in in_loop)
            + "; PLS path models must be recursive"
        )
