"""Waves and groups: the indices compared across them, and whether the measurement holds
(invariance) so that they may be compared."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from reports import charts
from reports.document import Column, Figure, Section, Table, format_number
from reports.sections.context import ReportContext, finite, p_text


def groups(ctx: ReportContext) -> Section:
    section = Section("groups", ctx.t("sec_groups"))
    names = list(ctx.constructs)
    for column, key in ((ctx.request.group, "group"), (ctx.request.wave, "wave")):
        compared = compared_groups(ctx, column)
        if compared is None:
            continue
        levels, summary, tests = compared
        labels = [level_label(ctx, column, level) for level in levels]
        rows = []
        for construct in names:
            test = tests.loc[construct]
            statistic = "t" if test["test"] == "welch_t" else "F"
            rows.append(
                [ctx.name(construct)]
                + [summary.loc[(construct, level), "mean"] for level in levels]
                + [f"{statistic} = {format_number(test['statistic'], 'dec2')}", test["pvalue"]]
            )
        title = ctx.t("tab_groups", group=column) if key == "group" else ctx.t("tab_waves")
        if key == "wave":
            section.blocks.append(
                Figure(
                    "waves",
                    ctx.t("fig_waves"),
                    charts.png(
                        charts.trend_chart(
                            labels,
                            {
                                ctx.name(c): [summary.loc[(c, level), "mean"] for level in levels]
                                for c in names
                            },
                            ctx.t("index"),
                        )
                    ),
                    width_cm=15,
                )
            )
        invariance, reason = invariance_table(ctx, column, key)
        note = ctx.t("note_groups" if key == "group" else "note_waves")
        section.blocks.append(
            Table(
                key,
                title,
                [Column(ctx.t("construct"))]
                + [Column(label, "dec1") for label in labels]
                + [Column(ctx.t("test")), Column("p", "p")],
                rows,
                note=ctx.sentences([note, reason]),
            )
        )
        if invariance is not None:
            section.blocks.append(invariance)
    return section


def compared_groups(
    ctx: ReportContext, column: str | None
) -> tuple[list[str], pd.DataFrame, pd.DataFrame] | None:
    """The levels of ``column`` in order, the 0–100 index means per construct and level, and
    the tests of their differences (unchanged by the linear rescaling of the scores), as the
    analysis compared them; None when it did not (fewer than two groups)."""
    if not column:
        return None
    stored = (ctx.result.get("comparisons") or {}).get(column)
    if not stored or not stored.get("summary") or not stored.get("tests"):
        return None
    summary = pd.DataFrame(stored["summary"])
    summary = summary[summary["variable"].isin(ctx.constructs)]
    summary["mean"] = summary["mean"].map(ctx.index)
    levels = [str(level) for level in sorted(summary["group"].unique(), key=_natural)]
    summary["group"] = summary["group"].map(str)
    tests = pd.DataFrame(stored["tests"]).set_index("variable")
    return levels, summary.set_index(["variable", "group"]), tests


def _natural(value: object) -> tuple[int, object]:
    return (0, float(value)) if isinstance(value, int | float | np.number) else (1, str(value))


def level_label(ctx: ReportContext, column: str, level: str) -> str:
    """A group's answer code as its respondents saw it: the option label of a choice
    question, a value label from the data file, else the code itself."""
    definition = ctx.request.definition
    found = definition.find_item(column) if definition is not None else None
    options = getattr(found[2], "options", None) if found else None
    for option in options or []:
        if option.value == level and (text := ctx.texts(option.label)):
            return text
    labels = ctx.request.value_labels.get(column) or {}
    for value, text in labels.items():
        if str(value) == level or (finite(value) and f"{float(value):g}" == level):
            return str(text)
    return level


def difference_sentences(ctx: ReportContext) -> list[str]:
    """The significant differences in the indices between waves and between groups, in
    words, with the groups' labels; a sentence saying so when there are none."""
    sentences = []
    for column in dict.fromkeys((ctx.request.wave, ctx.request.group)):
        compared = compared_groups(ctx, column)
        if compared is None:
            continue
        levels, summary, tests = compared
        wave = column == ctx.request.wave
        found = []
        for construct in ctx.constructs:
            pvalue = tests.loc[construct, "pvalue"]
            if not (finite(pvalue) and pvalue < 0.05):
                continue
            means = {level: summary.loc[(construct, level), "mean"] for level in levels}
            if wave:
                first, last = means[levels[0]], means[levels[-1]]
                key = "diff_rose" if last > first else "diff_fell"
                values = {"first": f"{first:.0f}", "last": f"{last:.0f}"}
            else:
                high, low = max(means, key=means.get), min(means, key=means.get)
                key = "diff_range"
                values = {
                    "high": level_label(ctx, column, high),
                    "high_value": f"{means[high]:.0f}",
                    "low": level_label(ctx, column, low),
                    "low_value": f"{means[low]:.0f}",
                }
            found.append(ctx.t(key, name=ctx.name(construct), p=p_text(pvalue), **values))
        where = (
            {
                "first": ctx.t("name_wave", level=levels[0]),
                "last": ctx.t("name_wave", level=levels[-1]),
            }
            if wave
            else {"group": column}
        )
        prefix = "sum_waves" if wave else "sum_groups"
        if found:
            sentences.append(ctx.t(prefix, list=ctx.join(found), **where))
        else:
            sentences.append(ctx.t(f"{prefix}_none", **where))
    return sentences


def tested_invariance(ctx: ReportContext) -> dict[str, Mapping[str, Any]]:
    """Grouping column -> the analysis' invariance test across its groups (two or more)."""
    return {
        column: tested
        for column, tested in (ctx.result.get("invariance") or {}).items()
        if tested and tested.get("problem") != "one_group"
    }


def invariance_table(ctx: ReportContext, column: str, key: str) -> tuple[Table | None, str]:
    """The configural, metric and scalar fits with their verdict in the note, or (None,
    the sentence saying why they were not tested)."""
    tested = tested_invariance(ctx).get(column)
    if not tested:
        return None, ""
    wave = key == "wave"
    between = ctx.t("between_waves") if wave else ctx.t("between_groups", group=column)
    sizes = {row["group"]: row["n"] for row in tested.get("groups") or []}

    def name(level: str) -> str:
        if wave:
            return ctx.t("name_wave", level=level)
        return ctx.t("name_group", group=column, level=level)

    problem, levels = tested.get("problem"), tested.get("levels") or []
    if problem == "too_few_answers":
        group = tested["group"]
        reason = ctx.t(
            "inv_too_few",
            between=between,
            name=name(group),
            answers=sizes.get(group, 0),
            needed=tested["needed"],
            unit=ctx.t("unit_wave" if wave else "unit_group"),
        )
        return None, reason
    if problem or not levels:
        detail = tested.get("detail") or ""
        return None, ctx.t("inv_not_estimable", between=between, detail=detail)
    rows = [
        [
            ctx.t(row["level"]),
            f"{format_number(row['chisq'], 'dec2')} ({format_number(row['df'], 'int')})",
            row["cfi"],
            row["delta_cfi"],
            row["rmsea"],
            row["delta_pvalue"],
            ctx.t("yes" if row["holds"] else "no"),
        ]
        for row in levels
    ]
    verdict = {"scalar": "inv_scalar", "metric": "inv_metric", "configural": "inv_configural"}
    compared = ctx.join(
        [f"{name(group) if wave else group} (n = {n:,})" for group, n in sizes.items()]
    )
    note = ctx.t(verdict.get(tested.get("highest_level") or "", "inv_none"), between=between)
    table = Table(
        f"invariance_{key}",
        ctx.t("tab_invariance_waves") if wave else ctx.t("tab_invariance_groups", group=column),
        [
            Column(ctx.t("level")),
            Column("χ² (df)"),
            Column("CFI", "coef3"),
            Column("ΔCFI", "coef3"),
            Column("RMSEA", "coef3"),
            Column(ctx.t("delta_chisq_p"), "p"),
            Column(ctx.t("holds")),
        ],
        rows,
        note=ctx.sentences([note, ctx.t("note_invariance", sizes=compared)]),
    )
    return table, ""
