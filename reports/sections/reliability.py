"""Internal consistency and convergent validity of every construct."""

from __future__ import annotations

from reports.document import Column, Table, format_number
from reports.sections.context import ReportContext, at_least, finite


def reliability_table(ctx: ReportContext) -> Table | None:
    """α (with Feldt's interval), ω, CR and AVE by CB-SEM; α, ρ_A, ρ_C and AVE by PLS (as
    SmartPLS and seminr report them); ordinal α and categorical ω for ordered items."""
    reliability = ctx.result.get("reliability") or {}
    if not reliability:
        return None
    ordinal = any("alpha_ordinal" in values for values in reliability.values())
    rows = []
    for construct, values in reliability.items():
        alpha, cr, ave = values.get("alpha"), values.get("cr"), values.get("ave")
        good = at_least(alpha, 0.7) and at_least(cr, 0.7) and at_least(ave, 0.5)
        verdicts = [ctx.t("ok" if good else "not_ok")]
        if finite(cr) and cr > 0.95:
            verdicts.append(ctx.t("redundant"))
        if ctx.is_pls:
            measures = [alpha, values.get("rho_a"), values.get("rho_c")]
        else:
            interval = (
                f"[{format_number(values.get('alpha_ci_lower'), 'coef')}, "
                f"{format_number(values.get('alpha_ci_upper'), 'coef')}]"
            )
            measures = [alpha, interval, values.get("omega"), cr]
            if ordinal:
                measures += [values.get("alpha_ordinal"), values.get("omega_categorical")]
        rows.append(
            [ctx.name(construct), values.get("n_items"), *measures, ave, "; ".join(verdicts)]
        )
    if ctx.is_pls:
        measure_columns = [
            Column(ctx.t("alpha"), "coef"),
            Column("ρ_A", "coef"),
            Column("ρ_C", "coef"),
        ]
    else:
        measure_columns = [
            Column(ctx.t("alpha"), "coef"),
            Column(ctx.t("alpha_ci")),
            Column(ctx.t("omega"), "coef"),
            Column(ctx.t("cr"), "coef"),
        ]
        if ordinal:
            measure_columns += [
                Column(ctx.t("alpha_ordinal"), "coef"),
                Column(ctx.t("omega_categorical"), "coef"),
            ]
    return Table(
        "reliability",
        ctx.t("tab_reliability"),
        [
            Column(ctx.t("construct")),
            Column("k", "int"),
            *measure_columns,
            Column(ctx.t("ave"), "coef"),
            Column(ctx.t("verdict")),
        ],
        rows,
        note=ctx.t("note_reliability_pls" if ctx.is_pls else "note_reliability"),
    )
