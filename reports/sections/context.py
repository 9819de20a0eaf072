"""What every report section reads: the request, the analysis result, words and names."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from analysis import descriptives
from analysis.prepare import prepare
from analysis.syntax import ModelSpec, parse_model
from reports.document import format_number
from reports.i18n import has_key, translate

if TYPE_CHECKING:
    from reports.build import ReportRequest

Progress = Callable[[float, str], None]
"""``progress(fraction_done, message)``, called as the report is built and rendered."""

LANGUAGE_TAGS = {"en": ("en", "en-US", "en-GB"), "zh": ("zh-CN", "zh", "zh-Hans")}
SATISFACTION = "SAT"
LOYALTY_OUTCOMES = ("LOY", "BHL", "ATL", "WOM")


class ReportContext:
    """The request, the analysis result and the prepared answers, with the helpers that name
    constructs and items and read estimates in the report's language."""

    def __init__(
        self, data: pd.DataFrame, result: Mapping[str, Any], request: ReportRequest
    ) -> None:
        self.request = request
        self.language = request.language
        self.t("table")  # validates the language early
        self.result = result
        self.is_pls = str(result.get("estimator") or "").lower() == "pls"
        self.spec: ModelSpec = parse_model(request.model)
        weights = result.get("weights") if self.is_pls else None
        self.constructs: dict[str, list[str]] = (
            {construct: list(items) for construct, items in weights.items()}
            if weights
            else {k: list(v) for k, v in self.spec.latent.items()}
        )
        self.items = [item for items in self.constructs.values() for item in items]
        missing = "fiml" if request.missing in ("fiml", "ml") else "listwise"
        self.raw = data
        # The answers as analysed (codes recoded, reverse-keyed items turned), for the answer
        # distributions and the scores the driver charts place.
        self.prepared = prepare(
            data,
            self.items,
            reverse=request.reverse,
            scale_min=request.scale_min,
            scale_max=request.scale_max,
            missing=missing,
            missing_codes=request.missing_codes,
        )
        self.data = self.prepared.data
        self.scores = descriptives.construct_scores(self.data, self.constructs)
        self.estimates = list(result.get("estimates") or [])
        self.latent = set(self.constructs)

    # -- words -------------------------------------------------------------------------
    def t(self, key: str, **values: object) -> str:
        return translate(key, self.language, **values)

    def texts(self, texts: Mapping[str, str] | None) -> str:
        """A multilingual text in the report's language ("" without one)."""
        for tag in LANGUAGE_TAGS[self.language]:
            if texts and texts.get(tag, "").strip():
                return texts[tag]
        return ""

    def join(self, parts: Sequence[str]) -> str:
        return ("、" if self.language == "zh" else ", ").join(parts)

    def sentences(self, parts: Sequence[str]) -> str:
        """Sentences run on: a space between English ones, none after Chinese full stops."""
        return ("" if self.language == "zh" else " ").join(part for part in parts if part)

    def name(self, construct: str) -> str:
        definition = self.request.definition
        if definition is not None:
            for entry in definition.constructs:
                if entry.code == construct and (text := self.texts(entry.name)):
                    return text
        key = f"c_{construct}"
        return self.t(key) if has_key(key) else construct

    def item_label(self, code: str) -> str:
        definition = self.request.definition
        if definition is not None:
            for variable in definition.variables():
                if variable.code == code:
                    return self.texts(variable.label)
        return ""

    def item_code(self, code: str) -> str:
        """An item's code, marked (R) when reverse-worded."""
        return code + ("\u00a0(R)" if code in self.request.reverse else "")

    def item_display(self, code: str) -> str:
        label = self.item_label(code)
        return f"{self.item_code(code)} {label}".strip() if label else self.item_code(code)

    def index(self, mean: float) -> float:
        request = self.request
        return (mean - request.scale_min) / (request.scale_max - request.scale_min) * 100

    def short_title(self, key: str) -> str:
        """A table's name for a spreadsheet tab, e.g. "Reliability" or "By region"."""
        group = self.request.group or ""
        return self.t(f"sheet_{key}", group=group) if has_key(f"sheet_{key}") else ""

    # -- the analysis result -----------------------------------------------------------
    @property
    def n_rows(self) -> int:
        return int(self.result.get("n_rows") or self.prepared.n_rows)

    @property
    def n_used(self) -> int:
        return int(self.result.get("n_used") or self.prepared.n_used)

    def described(self, kind: str) -> pd.DataFrame:
        """The analysis' descriptives of the items (``"item"``) or construct scores."""
        stored = pd.DataFrame(self.result.get("descriptives") or [])
        if stored.empty:
            return stored
        return stored[stored["kind"] == kind].reset_index(drop=True)

    def rows(self, op: str) -> list[dict[str, Any]]:
        return [row for row in self.estimates if row.get("op") == op]

    def structural_paths(self) -> list[dict[str, Any]]:
        return [
            row for row in self.rows("~") if row["lhs"] in self.latent and row["rhs"] in self.latent
        ]

    def total_effects(self, target: str) -> dict[str, float]:
        """Standardized total effect of every construct on ``target``: (I − B)⁻¹ − I."""
        order = list(self.constructs)
        position = {name: i for i, name in enumerate(order)}
        beta = np.zeros((len(order), len(order)))
        for row in self.structural_paths():
            beta[position[row["lhs"]], position[row["rhs"]]] = row.get("std_all") or 0.0
        total = np.linalg.inv(np.eye(len(order)) - beta) - np.eye(len(order))
        effects = total[position[target]]
        return {
            name: float(effects[position[name]])
            for name in order
            if abs(effects[position[name]]) > 1e-12
        }

    def outcome(self) -> str | None:
        endogenous = [row["lhs"] for row in self.structural_paths()]
        if not endogenous:
            return None
        for preferred in LOYALTY_OUTCOMES:
            if preferred in endogenous:
                return preferred
        sources = {row["rhs"] for row in self.structural_paths()}
        final = [name for name in dict.fromkeys(endogenous) if name not in sources]
        return (final or endogenous)[-1]

    def missing_text(self) -> str:
        return self.t("missing_fiml" if self.prepared.missing == "fiml" else "missing_listwise")


def finite(value: object) -> bool:
    return isinstance(value, int | float) and not math.isnan(float(value))


def at_least(value: object, threshold: float) -> bool:
    return finite(value) and float(value) >= threshold  # type: ignore[arg-type]


def p_text(pvalue: float) -> str:
    if not finite(pvalue):
        return "p = –"
    return "p < .001" if pvalue < 0.001 else f"p = {format_number(pvalue, 'p')}"


def verdict(value: object, rule: tuple[float, float, bool] | None) -> str:
    """``good``, ``acceptable`` or ``poor`` by ``(good, acceptable, higher_is_better)``."""
    if rule is None or not finite(value):
        return ""
    good, acceptable, higher_is_better = rule
    number = float(value)  # type: ignore[arg-type]
    if higher_is_better:
        return "good" if number >= good else "acceptable" if number >= acceptable else "poor"
    return "good" if number <= good else "acceptable" if number <= acceptable else "poor"


def square(value: object) -> pd.DataFrame | None:
    """A symmetric construct × construct matrix from ``{a: {b: v}}`` (either triangle)."""
    if not isinstance(value, Mapping) or not value:
        return None
    names = list(dict.fromkeys([*value, *(b for inner in value.values() for b in inner)]))
    matrix = pd.DataFrame(np.nan, index=names, columns=names)
    for a, inner in value.items():
        for b, number in inner.items():
            if finite(number):
                matrix.loc[a, b] = matrix.loc[b, a] = float(number)
    return matrix
