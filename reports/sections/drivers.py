"""Drivers of loyalty: the importance-performance map, Griffin's loyalty quadrants and the
satisfaction trap."""

from __future__ import annotations

from analysis import drivers
from reports import charts
from reports.document import Column, Figure, Paragraph, Section, Table, format_number
from reports.sections.context import LOYALTY_OUTCOMES, SATISFACTION, ReportContext, p_text


def trap(ctx: ReportContext) -> drivers.SatisfactionTrap | None:
    loyalty = next((c for c in LOYALTY_OUTCOMES if c in ctx.constructs), None)
    if SATISFACTION not in ctx.constructs or loyalty is None:
        return None
    return drivers.satisfaction_trap(ctx.scores, satisfaction=SATISFACTION, loyalty=loyalty)


def importance_performance(ctx: ReportContext) -> list[Figure | Table]:
    """The analysis' map of the final outcome's drivers: standardized total effects by
    CB-SEM, unstandardized total effects on the 0–100 scores by PLS (Ringle & Sarstedt)."""
    stored = ctx.result.get("importance_performance") or {}
    records, target = stored.get("constructs") or [], stored.get("target")
    if not records or not target:
        return []
    quadrant_names = {key: ctx.t(key) for key in charts.IPA_QUADRANTS}
    return [
        Figure(
            "ipa",
            ctx.t("fig_ipa"),
            charts.png(
                charts.ipa_chart(
                    [ctx.name(r["construct"]) for r in records],
                    [r["importance"] for r in records],
                    [r["performance"] for r in records],
                    (ctx.t("importance"), ctx.t("performance")),
                    quadrant_names,
                )
            ),
            width_cm=14,
        ),
        Table(
            "ipa",
            ctx.t("tab_ipa", name=ctx.name(target)),
            [
                Column(ctx.t("construct")),
                Column(ctx.t("importance"), "coef3"),
                Column(ctx.t("performance"), "dec1"),
                Column(ctx.t("quadrant")),
            ],
            [
                [ctx.name(r["construct"]), r["importance"], r["performance"], ctx.t(r["quadrant"])]
                for r in records
            ],
            note=ctx.t("note_ipma_pls" if ctx.is_pls else "note_ipa", name=ctx.name(target)),
        ),
    ]


def driver_section(ctx: ReportContext) -> Section:
    section = Section("drivers", ctx.t("sec_drivers"))
    section.blocks.extend(importance_performance(ctx))
    request = ctx.request
    if "ATL" in ctx.constructs and "BHL" in ctx.constructs:
        quadrants = drivers.loyalty_quadrants(
            ctx.scores,
            attitudinal="ATL",
            behavioural="BHL",
            scale_min=request.scale_min,
            scale_max=request.scale_max,
        )
        records = quadrants.to_dict("records")
        section.blocks.append(
            Figure(
                "griffin",
                ctx.t("fig_griffin"),
                charts.png(
                    charts.quadrant_chart(
                        {
                            (r["attitudinal"] == "high", r["behavioural"] == "high"): (
                                ctx.t(r["segment"]),
                                float(r["pct"]),
                            )
                            for r in records
                        },
                        (ctx.name("ATL"), ctx.name("BHL")),
                        (ctx.t("low"), ctx.t("high")),
                    )
                ),
                width_cm=10,
            )
        )
        section.blocks.append(
            Table(
                "griffin",
                ctx.t("tab_griffin"),
                [
                    Column(ctx.t("segment")),
                    Column(ctx.t("attitudinal")),
                    Column(ctx.t("behavioural")),
                    Column(ctx.t("n"), "int"),
                    Column(ctx.t("pct"), "pct"),
                ],
                [
                    [
                        ctx.t(r["segment"]),
                        ctx.t(r["attitudinal"]),
                        ctx.t(r["behavioural"]),
                        r["n"],
                        r["pct"],
                    ]
                    for r in records
                ],
                note=ctx.t("note_griffin"),
            )
        )
    elif section.blocks:
        section.blocks.append(Paragraph(ctx.t("griffin_missing"), "note"))
    found = trap(ctx)
    if found is not None:
        quadratic = found.coefficients.set_index("term").loc["quadratic"]
        loyalty = next(c for c in LOYALTY_OUTCOMES if c in ctx.constructs)
        section.blocks.append(
            Paragraph(
                ctx.t(
                    "trap_text",
                    loy=ctx.name(loyalty),
                    sat=ctx.name(SATISFACTION),
                    n=found.n,
                    b=format_number(quadratic["estimate"], "dec3"),
                    p=p_text(quadratic["pvalue"]),
                    verdict=ctx.t("trap_yes" if found.diminishing_returns else "trap_no"),
                )
            )
        )
    return section
