"""Differences between two questionnaire versions, and what breaks comparability across waves.

Items are matched by their stable code; a matrix row counts as an item of its own. A change
*breaks comparability* when answers from the two versions can no longer be pooled or compared
as the same measure: the number of scale points changed, the question type changed, an item
moved to another construct, was removed from or added to an existing construct, its reverse
keying changed, or option values of a choice question were changed or removed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from surveys.definition import (
    CHOICE_TYPES,
    NPS_MAX,
    NPS_MIN,
    Item,
    LikertItem,
    MatrixItem,
    NpsItem,
    QuestionnaireDefinition,
    Texts,
)
from surveys.problems import CATALOG

BREAKING = frozenset(
    {
        "scale_points_changed",
        "type_changed",
        "construct_changed",
        "removed_from_construct",
        "added_to_construct",
        "reverse_changed",
        "option_values_changed",
    }
)

# Kinds whose before/after are yes/no, said in words ("required" -> "optional").
_YES_NO_KINDS = frozenset({"required_changed", "reverse_changed"})


@dataclass(frozen=True)
class Change:
    """One difference between two versions."""

    kind: str
    code: str
    before: Any = None
    after: Any = None

    @property
    def breaks_comparability(self) -> bool:
        return self.kind in BREAKING

    def message(self, locale: str = "en") -> str:
        before, after = self.before, self.after
        if self.kind in _YES_NO_KINDS:
            before, after = (
                CATALOG.text(f"{self.kind}.{'yes' if value else 'no'}", locale, context="change")
                for value in (before, after)
            )
        if self.kind == "option_values_changed":
            before, after = ", ".join(before), ", ".join(after)
        return CATALOG.format(
            self.kind, locale, context="change", code=self.code, before=before, after=after
        )


@dataclass(frozen=True)
class VersionDiff:
    changes: tuple[Change, ...]

    @property
    def breaking(self) -> tuple[Change, ...]:
        """The changes that break comparability across waves."""
        return tuple(change for change in self.changes if change.breaks_comparability)

    def kinds(self, code: str) -> set[str]:
        """Kinds of change to ``code``."""
        return {change.kind for change in self.changes if change.code == code}


@dataclass(frozen=True)
class _Element:
    """An item or matrix row, reduced to what matters for comparison."""

    type: str
    label: Texts
    help: Texts
    option_values: tuple[str, ...]
    option_labels: tuple[Any, ...]
    points: int | None
    anchors: Any
    construct: str | None
    reverse: bool
    required: bool
    condition: Any
    section: str
    rank: int


def _scale_facts(item: Item) -> tuple[int | None, Any]:
    if isinstance(item, (LikertItem, MatrixItem)):
        scale = item.scale
        return scale.points, (scale.anchors, scale.not_applicable)
    if isinstance(item, NpsItem):
        return NPS_MAX - NPS_MIN + 1, (item.low_label, item.high_label)
    return None, None


def _elements(definition: QuestionnaireDefinition) -> dict[str, _Element]:
    result: dict[str, _Element] = {}
    for section in definition.sections:
        for item in section.items:
            points, anchors = _scale_facts(item)
            options = item.options if isinstance(item, CHOICE_TYPES) else []
            condition = item.condition.model_dump() if item.condition else None
            common = {
                "option_values": tuple(option.value for option in options),
                "option_labels": tuple(option.label for option in options),
                "points": points,
                "anchors": anchors,
                "required": item.required,
                "condition": condition,
                "section": section.code,
            }
            result[item.code] = _Element(
                type=item.type,
                label=item.label,
                help=item.help,
                construct=getattr(item, "construct_code", None),
                reverse=bool(getattr(item, "reverse", False)),
                rank=len(result),
                **common,
            )
            if isinstance(item, MatrixItem):
                for row in item.rows:
                    row_condition = row.condition.model_dump() if row.condition else None
                    result[row.code] = _Element(
                        type="matrix_row",
                        label=row.label,
                        help={},
                        construct=row.construct_code,
                        reverse=row.reverse,
                        rank=len(result),
                        **{**common, "condition": (condition, row_condition)},
                    )
    return result


def _element_changes(code: str, old: _Element, new: _Element, constructs: set[str]) -> list[Change]:
    changes = []
    if old.type != new.type:
        changes.append(Change("type_changed", code, old.type, new.type))
    if old.points is not None and new.points is not None and old.points != new.points:
        changes.append(Change("scale_points_changed", code, old.points, new.points))
    elif old.anchors != new.anchors and old.points is not None and new.points is not None:
        changes.append(Change("anchors_changed", code))
    if old.construct != new.construct:
        if old.construct and new.construct:
            changes.append(Change("construct_changed", code, old.construct, new.construct))
        elif old.construct:
            changes.append(Change("removed_from_construct", code, old.construct, None))
        elif new.construct in constructs:
            changes.append(Change("added_to_construct", code, None, new.construct))
    if old.construct and new.construct and old.reverse != new.reverse:
        changes.append(Change("reverse_changed", code, old.reverse, new.reverse))
    if old.option_values != new.option_values:
        if set(old.option_values) - set(new.option_values) or old.type != new.type:
            changes.append(
                Change(
                    "option_values_changed", code, list(old.option_values), list(new.option_values)
                )
            )
        else:
            changes.append(Change("option_labels_changed", code))
    elif old.option_labels != new.option_labels:
        changes.append(Change("option_labels_changed", code))
    for kind, before, after in (
        ("label_changed", old.label, new.label),
        ("help_changed", old.help, new.help),
        ("condition_changed", old.condition, new.condition),
    ):
        if before != after:
            changes.append(Change(kind, code))
    if old.required != new.required:
        changes.append(Change("required_changed", code, old.required, new.required))
    return changes


def _moves(old: dict[str, _Element], new: dict[str, _Element]) -> list[Change]:
    # Compare positions among the items both versions share, so that one insertion does not
    # make everything after it look moved. Rows move with their matrix.
    common = [code for code in old if code in new and old[code].type != "matrix_row"]
    old_rank = {code: i for i, code in enumerate(common)}
    new_rank = {code: i for i, code in enumerate(sorted(common, key=lambda c: new[c].rank))}
    changes = []
    for code in common:
        before, after = old[code], new[code]
        if before.section != after.section or old_rank[code] != new_rank[code]:
            changes.append(
                Change(
                    "moved",
                    code,
                    f"{before.section} #{old_rank[code] + 1}",
                    f"{after.section} #{new_rank[code] + 1}",
                )
            )
    return changes


def diff_definitions(old: QuestionnaireDefinition, new: QuestionnaireDefinition) -> VersionDiff:
    """Every difference from ``old`` to ``new``, in questionnaire order."""
    changes: list[Change] = []
    for field_name in ("title", "introduction", "languages", "settings"):
        if getattr(old, field_name) != getattr(new, field_name):
            changes.append(Change("questionnaire_changed", field_name))
    old_constructs = {c.code: c for c in old.constructs}
    new_constructs = {c.code: c for c in new.constructs}
    changes.extend(Change("construct_added", c) for c in new_constructs if c not in old_constructs)
    changes.extend(
        Change("construct_removed", c) for c in old_constructs if c not in new_constructs
    )
    if old.model.split() != new.model.split():
        changes.append(Change("model_changed", "model", old.model, new.model))
    old_sections = {s.code: (i, s) for i, s in enumerate(old.sections)}
    new_sections = {s.code: (i, s) for i, s in enumerate(new.sections)}
    for code, (index, section) in new_sections.items():
        if code not in old_sections:
            changes.append(Change("section_added", code))
            continue
        old_index, old_section = old_sections[code]
        if (old_index, old_section.title, old_section.description, old_section.randomize) != (
            index,
            section.title,
            section.description,
            section.randomize,
        ):
            changes.append(Change("section_changed", code))
        if old_section.condition != section.condition:
            changes.append(Change("condition_changed", code))
    changes.extend(Change("section_removed", c) for c in old_sections if c not in new_sections)

    old_elements, new_elements = _elements(old), _elements(new)
    kept_constructs = set(old_constructs) & set(new_constructs)
    for code, element in old_elements.items():
        if code not in new_elements:
            changes.append(Change("item_removed", code))
            if element.construct:
                changes.append(Change("removed_from_construct", code, element.construct, None))
    for code, element in new_elements.items():
        if code not in old_elements:
            changes.append(Change("item_added", code))
            if element.construct in kept_constructs:
                changes.append(Change("added_to_construct", code, None, element.construct))
        else:
            changes.extend(_element_changes(code, old_elements[code], element, kept_constructs))
    changes.extend(_moves(old_elements, new_elements))
    return VersionDiff(tuple(changes))
