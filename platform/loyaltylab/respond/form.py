"""The respondent form's questions, written once in Python.

The respondent pages and the designer's preview both build a page's questions here and write
them with ``respond/_questions.html``, so the preview cannot differ from what respondents see.
Radios, checkboxes and scale segments are written here rather than in Jinja macros: as macros
they were most of a 30-item page's time.

A rating scale (Likert items, matrix rows, NPS) is one row of tappable segments, real radio
inputs styled by ``respond.css``: it works without JavaScript, with the keyboard (arrow keys
move within the row) and with a screen reader (each point's label carries its anchor).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from markupsafe import Markup, escape

from surveys.definition import (
    NPS_MAX,
    NPS_MIN,
    Item,
    LikertItem,
    LikertScale,
    MatrixItem,
    MatrixRow,
    NpsItem,
    Section,
    display_order,
)

Translate = Callable[[dict[str, str]], str]
SUMMARY_LABEL_LENGTH = 80
"""Question texts in the error summary are cut to this many characters."""

# Item types whose options are radios or checkboxes written as a list (see option_inputs).
_OPTION_KINDS = {
    "single_choice": "radio",
    "attention_check": "radio",
    "multiple_choice": "checkbox",
}


@dataclass
class Scale:
    """A rating scale as a page shows it, in the respondent's language, with the parts of its
    segments that do not depend on the question written once."""

    points: tuple[tuple[str, str, str], ...]
    """(value, number shown, anchor or "") of each point."""
    low: str
    """The anchor under the first point ("0 · Not at all likely" for NPS)."""
    high: str
    """The anchor under the last point."""
    not_applicable: str = ""
    """The label of the "not applicable" choice, "" when not offered."""
    fully_labelled: bool = False
    """Every point has its own anchor (then a matrix shows them all in a key)."""

    def __post_init__(self) -> None:
        # What follows each radio: its label's text (the anchor spoken, not shown).
        self.label_tails = [
            f">{number}{_spoken(anchor)}</label></span>" for _value, number, anchor in self.points
        ]
        self.ends = (
            f'<p class="r-ends" aria-hidden="true"><span>{escape(self.low)}</span>'
            f"<span>{escape(self.high)}</span></p>"
            if self.low or self.high
            else ""
        )

    @cached_property
    def head(self) -> Markup:
        """The column heads of a matrix on a wide screen (hidden on a phone)."""
        heads = "".join(
            f"<span>{escape(number)}{'<br>' if anchor else ''}{escape(anchor)}</span>"
            for _value, number, anchor in self.points
        )
        na_head = f"<span>{escape(self.not_applicable)}</span>" if self.not_applicable else ""
        return Markup(
            f'<div class="r-matrix-head" aria-hidden="true"><span></span>'
            f'<span class="r-head-points">{heads}</span>{na_head}</div>'
        )

    @cached_property
    def key(self) -> Markup:
        """Every point's anchor, once above a matrix on a phone; empty unless fully labelled."""
        if not self.fully_labelled:
            return Markup()
        entries = "".join(
            f"<li><b>{escape(number)}</b> {escape(anchor)}</li>"
            for _value, number, anchor in self.points
        )
        return Markup(f'<ol class="r-key" aria-hidden="true">{entries}</ol>')


def _spoken(anchor: str) -> str:
    return f'<span class="r-sr"> {escape(anchor)}</span>' if anchor else ""


@dataclass
class Question:
    """A question (or matrix row) as ``respond/_questions.html`` writes it, in the respondent's
    language: texts resolved, its answer, and its inputs written once, here."""

    code: str
    label: str
    help: str
    error: str | None
    described: Markup
    """The aria attributes linking the field (or its first option) to the hint and error."""
    inputs: Markup | None = None
    """Radios, checkboxes, scale segments or a select's options; None for text fields."""
    value: str = ""
    """The answer shown in a text or number field."""


@dataclass
class Entry:
    """One item of a page: its question, and for a matrix its rows and their shared scale."""

    item: Item
    q: Question
    scale: Scale | None = None
    rows: list[Question] = field(default_factory=list)


def is_fixed(section: Section) -> bool:
    """Whether a section shows the same questions in the same order to everyone: no randomised
    order and no display condition on any of its items or matrix rows."""
    if section.randomize:
        return False
    for item in section.items:
        if item.condition is not None:
            return False
        if isinstance(item, MatrixItem) and (
            item.randomize or any(row.condition is not None for row in item.rows)
        ):
            return False
    return True


def page_entries(
    section: Section,
    *,
    t: Translate,
    values: Mapping[str, Any],
    errors: Mapping[str, str],
    seed: str,
    shown: Callable[[Item], bool] | None = None,
    row_shown: Callable[[MatrixRow], bool] | None = None,
) -> list[Entry]:
    """The items of ``section`` in display order, ready to write.

    ``values`` are the answers to show (stored, or as posted when the page comes back with
    problems), ``errors`` the message per variable code, ``seed`` the respondent's order of
    randomised items, ``shown`` and ``row_shown`` the display-logic tests of items and matrix
    rows (None shows every one: the preview). A matrix whose rows are all hidden is left out.
    """
    entries = []
    scales: dict[tuple, Scale] = {}
    for item in display_order(section.items, randomize=section.randomize, seed=seed):
        if shown is not None and not shown(item):
            continue
        entry = _entry(item, t, values, errors, seed, scales, row_shown)
        if isinstance(item, MatrixItem) and not entry.rows:
            continue
        entries.append(entry)
    return entries


def summary(
    entries: list[Entry], errors: Mapping[str, str], label: Callable[[str], str]
) -> list[tuple[str, str, str]]:
    """(code, shortened question text, problem) for each error, in the order shown; then any
    error of a question not shown (a hidden one answered by a forged post), named by
    ``label(code)``."""
    result = []
    for entry in entries:
        for question in entry.rows or [entry.q]:
            if question.code in errors:
                result.append((question.code, _shortened(question.label), errors[question.code]))
    named = {code for code, _label, _problem in result}
    for code, problem in errors.items():
        if code not in named:
            result.append((code, _shortened(label(code)), problem))
    return result


def _shortened(label: str) -> str:
    label = " ".join(label.split())
    if len(label) <= SUMMARY_LABEL_LENGTH:
        return label
    return label[: SUMMARY_LABEL_LENGTH - 1].rstrip() + "…"


def _entry(
    item: Item,
    t: Translate,
    values: Mapping[str, Any],
    errors: Mapping[str, str],
    seed: str,
    scales: dict[tuple, Scale],
    row_shown: Callable[[MatrixRow], bool] | None,
) -> Entry:
    def question(code: str, label: str, help_text: str = "") -> Question:
        error = errors.get(code)
        return Question(code, label, help_text, error, _described(code, help_text, error))

    q = question(item.code, t(item.label), t(item.help))
    if isinstance(item, MatrixItem):
        scale = rating_scale(item.scale, t, scales)
        # Shuffled before filtering, so that a row keeps its place whatever else is shown.
        rows = display_order(item.rows, randomize=item.randomize, seed=f"{seed}:{item.code}")
        if row_shown is not None:
            rows = [row for row in rows if row_shown(row)]
        questions = []
        for row in rows:
            row_question = question(row.code, t(row.label))
            row_question.inputs = scale_inputs(
                row.code, scale, _chosen(values, row.code), row_question.described
            )
            questions.append(row_question)
        return Entry(item, q, scale, questions)
    if isinstance(item, LikertItem | NpsItem):
        if isinstance(item, LikertItem):
            scale = rating_scale(item.scale, t, scales)
        else:
            scale = nps_scale(item, t)
        q.inputs = scale_inputs(item.code, scale, _chosen(values, item.code), q.described)
        return Entry(item, q, scale)
    options = getattr(item, "options", None)
    if options is not None:
        labelled = [(str(option.value), t(option.label)) for option in options]
        chosen = _chosen(values, item.code)
        if item.type == "dropdown":
            q.inputs = select_options(labelled, chosen)
        else:
            kind = _OPTION_KINDS[item.type]
            q.inputs = option_inputs(item.code, kind, labelled, chosen, q.described)
    else:
        current = values.get(item.code)
        q.value = "" if current is None or isinstance(current, list) else str(current)
    return Entry(item, q)


def _chosen(values: Mapping[str, Any], code: str) -> set[str]:
    current = values.get(code)
    if current is None:
        return set()
    return {str(value) for value in current} if isinstance(current, list) else {str(current)}


def _described(code: str, help_text: str, error: str | None) -> Markup:
    ids = [f"f-{code}-hint"] if help_text else []
    if error:
        ids.append(f"f-{code}-error")
    described = Markup(' aria-describedby="{}"').format(" ".join(ids)) if ids else Markup()
    return described + Markup(' aria-invalid="true"') if error else described


def rating_scale(scale: LikertScale, t: Translate, known: dict[tuple, Scale]) -> Scale:
    """A Likert scale (of an item or a matrix) in the respondent's language; the items of a
    page mostly share one scale, found again in ``known``."""
    anchors = tuple(t(anchor) for anchor in scale.anchors)
    not_applicable = t(scale.not_applicable) if scale.not_applicable else ""
    signature = (scale.points, anchors, not_applicable)
    if signature not in known:
        points = []
        for point in range(1, scale.points + 1):
            anchor = scale.anchor_for(point)
            points.append((str(point), str(point), t(anchor) if anchor else ""))
        known[signature] = Scale(
            tuple(points),
            low=points[0][2],
            high=points[-1][2],
            not_applicable=not_applicable,
            fully_labelled=len(anchors) == scale.points,
        )
    return known[signature]


def nps_scale(item: NpsItem, t: Translate) -> Scale:
    """0 to 10, the ends labelled with the item's own words."""
    low, high = t(item.low_label), t(item.high_label)
    points = [(str(point), str(point), "") for point in range(NPS_MIN, NPS_MAX + 1)]
    points[0] = ("0", "0", low)
    points[-1] = (str(NPS_MAX), str(NPS_MAX), high)
    return Scale(tuple(points), low=f"0 · {low}", high=f"{NPS_MAX} · {high}")


def scale_inputs(code: str, scale: Scale, chosen: set[str], described: str) -> Markup:
    """One row of segments (radios ``f-CODE``, ``f-CODE-1``, ...), the end anchors under it and
    the "not applicable" choice. ``described`` (already markup) goes on the first radio."""
    name = escape(code)
    parts = [f'<div class="r-scale points-{len(scale.points)}">']
    for index, ((value, _number, _anchor), tail) in enumerate(
        zip(scale.points, scale.label_tails, strict=True)
    ):
        field_id = f"f-{name}-{index}" if index else f"f-{name}"
        parts.append(
            f'<span class="r-point"><input type="radio" id="{field_id}" name="{name}"'
            f' value="{value}"{" checked" if value in chosen else ""}'
            f'{described if index == 0 else ""}><label for="{field_id}"{tail}'
        )
    parts.append("</div>")
    parts.append(scale.ends)
    if scale.not_applicable:
        field_id = f"f-{name}-{len(scale.points)}"
        parts.append(
            f'<div class="r-na"><input type="radio" id="{field_id}" name="{name}" value="na"'
            f'{" checked" if "na" in chosen else ""}><label for="{field_id}">'
            f"{escape(scale.not_applicable)}</label></div>"
        )
    return Markup("".join(parts))


def option_inputs(
    code: str, kind: str, options: list[tuple[str, str]], chosen: set[str], described: str
) -> Markup:
    """The ``<div class="r-option">`` input-and-label pairs of a choice question.

    ``chosen`` values are checked; ``described`` (already markup: the aria attributes) goes on
    the first input. Every text is escaped here.
    """
    name = escape(code)
    parts = []
    for index, (value, label) in enumerate(options):
        field_id = f"f-{name}-{index}" if index else f"f-{name}"
        parts.append(
            f'<div class="r-option"><input type="{kind}" id="{field_id}" name="{name}"'
            f' value="{escape(value)}"{" checked" if value in chosen else ""}'
            f'{described if index == 0 else ""}><label for="{field_id}">{escape(label)}'
            "</label></div>"
        )
    return Markup("".join(parts))


def select_options(options: list[tuple[str, str]], chosen: set[str]) -> Markup:
    """The ``<option>`` elements of a dropdown (after its empty "Choose…" option)."""
    return Markup(
        "".join(
            f'<option value="{escape(value)}"{" selected" if value in chosen else ""}>'
            f"{escape(label)}</option>"
            for value, label in options
        )
    )
