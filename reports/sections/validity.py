"""Discriminant validity (Fornell–Larcker, HTMT and HTMT2), construct correlations, and
Harman's single-factor test of common-method variance."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from reports.document import Block, Column, Table, format_number, stars
from reports.sections.context import ReportContext, p_text, square


def validity_blocks(ctx: ReportContext) -> list[Block]:
    blocks: list[Block] = []
    fornell = square(ctx.result.get("fornell_larcker"))
    if fornell is not None:
        table = _lower_triangle(ctx, "fornell_larcker", "tab_fl", fornell, diagonal=True)
        violations = [
            f"{ctx.name(a)}–{ctx.name(b)}"
            for i, a in enumerate(fornell.index)
            for b in fornell.index[:i]
            if abs(fornell.loc[a, b]) >= min(fornell.loc[a, a], fornell.loc[b, b])
        ]
        table.note = ctx.t("note_fl")
        if violations:
            table.note += " " + ctx.t("note_fl_violations", list=ctx.join(violations))
        blocks.append(table)
    htmt = _htmt_table(ctx)
    if htmt is not None:
        blocks.append(htmt)
    correlations = _correlation_table(ctx)
    if correlations is not None:
        blocks.append(correlations)
    harman = harman_table(ctx)
    if harman is not None:
        blocks.append(harman)
    return blocks


def _lower_triangle(
    ctx: ReportContext, key: str, title: str, matrix: pd.DataFrame, *, diagonal: bool
) -> Table:
    order = [c for c in ctx.constructs if c in matrix.index]
    rows: list[list[object]] = []
    for i, a in enumerate(order):
        row: list[object] = [f"{i + 1}. {ctx.name(a)}"]
        for j, b in enumerate(order):
            row.append(matrix.loc[a, b] if j < i or (diagonal and j == i) else "")
        rows.append(row)
    return Table(
        key,
        ctx.t(title),
        [Column(ctx.t("construct"))] + [Column(str(j + 1), "coef") for j in range(len(order))],
        rows,
    )


def _htmt_table(ctx: ReportContext) -> Table | None:
    """HTMT below the diagonal and HTMT2 (geometric means) above it, in one matrix."""
    htmt = square(ctx.result.get("htmt"))
    if htmt is None:
        return None
    htmt2 = square(ctx.result.get("htmt2"))
    order = [c for c in ctx.constructs if c in htmt.index]
    rows: list[list[object]] = []
    for i, a in enumerate(order):
        row: list[object] = [f"{i + 1}. {ctx.name(a)}"]
        for j, b in enumerate(order):
            if j < i:
                row.append(htmt.loc[a, b])
            elif j > i and htmt2 is not None and a in htmt2.index and b in htmt2.index:
                row.append(htmt2.loc[a, b])
            else:
                row.append("—" if j == i else "")
        rows.append(row)
    exceeding = [
        f"{ctx.name(a)}–{ctx.name(b)}"
        for i, a in enumerate(order)
        for b in order[:i]
        if htmt.loc[a, b] >= 0.85 or (htmt2 is not None and htmt2.loc[a, b] >= 0.85)
    ]
    note = ctx.t("note_htmt2" if htmt2 is not None else "note_htmt")
    if exceeding:
        note = ctx.sentences([note, ctx.t("note_htmt_exceeds", list=ctx.join(exceeding))])
    return Table(
        "htmt",
        ctx.t("tab_htmt2" if htmt2 is not None else "tab_htmt"),
        [Column(ctx.t("construct"))] + [Column(str(j + 1), "coef") for j in range(len(order))],
        rows,
        note=note,
    )


def _correlation_table(ctx: ReportContext) -> Table | None:
    long = pd.DataFrame(ctx.result.get("correlations") or [])
    if long.empty:
        return None
    long = long[long["method"] == "pearson"]
    lookup = {(row["x"], row["y"]): row for row in long.to_dict("records")}
    described = ctx.described("construct").set_index("variable")
    order = [c for c in ctx.constructs if c in described.index]
    rows: list[list[object]] = []
    for i, a in enumerate(order):
        row: list[object] = [
            f"{i + 1}. {ctx.name(a)}",
            described.loc[a, "mean"],
            described.loc[a, "sd"],
        ]
        for j, b in enumerate(order):
            if j < i:
                pair = lookup.get((b, a)) or lookup.get((a, b))
                row.append(f"{format_number(pair['r'], 'coef')}{stars(pair['pvalue'])}")
            else:
                row.append("—" if j == i else "")
        rows.append(row)
    return Table(
        "correlations",
        ctx.t("tab_corr"),
        [Column(ctx.t("construct")), Column(ctx.t("mean"), "dec2"), Column(ctx.t("sd"), "dec2")]
        # Right-aligned as the numbers they are (stars and all), not left against the SD column.
        + [Column(str(j + 1), "coef") for j in range(len(order))],
        rows,
        note=ctx.t("note_corr"),
    )


def harman_table(ctx: ReportContext) -> Table | None:
    """The single-factor CFA beside the measurement model, with the test's known weakness."""
    test: Mapping[str, Any] | None = ctx.result.get("common_method")
    if not test:
        return None
    robust = "chisq_scaled" in test["measurement"]
    chisq_key = "chisq_scaled" if robust else "chisq"
    rows = [
        [
            ctx.t(label),
            f"{format_number(fit.get(chisq_key), 'dec2')} ({format_number(fit.get('df'), 'int')})",
            fit.get("cfi_robust" if robust else "cfi"),
            fit.get("rmsea_robust" if robust else "rmsea"),
            fit.get("srmr"),
        ]
        for label, fit in (
            ("harman_single", test["single_factor"]),
            ("measurement_model", test["measurement"]),
        )
    ]
    share = test.get("first_factor_share")
    verdict = ctx.t(
        "harman_dominates" if test.get("single_factor_dominates") else "harman_not_dominates",
        share=f"{100 * share:.0f}" if isinstance(share, int | float) else "–",
    )
    difference = ctx.t(
        "harman_difference",
        chisq=format_number(test.get("delta_chisq"), "dec2"),
        df=format_number(test.get("delta_df"), "int"),
        p=p_text(test.get("delta_pvalue", float("nan"))),
    )
    return Table(
        "harman",
        ctx.t("tab_harman"),
        [
            Column(ctx.t("model")),
            Column("χ² (df)"),
            Column("CFI", "coef3"),
            Column("RMSEA", "coef3"),
            Column("SRMR", "coef3"),
        ],
        rows,
        note=ctx.sentences([difference, verdict, ctx.t("harman_weakness")]),
    )
