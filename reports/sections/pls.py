"""PLS-SEM results as researchers know them from SmartPLS: the measurement model (loadings,
weights, reliability, discriminant validity), the structural model with bootstrap intervals and
f², R², Q² and PLSpredict, and the ACSI-style satisfaction indices."""

from __future__ import annotations

from reports import charts
from reports.document import Column, Figure, Paragraph, Section, Table
from reports.sections.context import ReportContext, finite
from reports.sections.reliability import reliability_table
from reports.sections.sem import path_figure
from reports.sections.validity import validity_blocks


def measurement(ctx: ReportContext) -> Section:
    section = Section("measurement", ctx.t("sec_measurement_pls"))
    outer = ctx.result.get("outer") or []
    bootstrapped = any("loading_ci_lower" in row for row in outer)
    rows = []
    for row in outer:
        # Mode A blocks are read by their loadings, mode B (composites) by their weights.
        read = "loading" if row.get("mode", "A") == "A" else "weight"
        rows.append(
            [
                ctx.name(row["construct"]),
                ctx.item_code(row["item"]),
                row.get("mode", "A"),
                row["loading"],
                row["weight"],
                *(
                    [row.get(f"{read}_ci_lower"), row.get(f"{read}_ci_upper")]
                    if bootstrapped
                    else []
                ),
                row.get("vif"),
            ]
        )
    if rows:
        section.blocks.append(
            Table(
                "outer",
                ctx.t("tab_outer"),
                [
                    Column(ctx.t("construct")),
                    Column(ctx.t("item")),
                    Column(ctx.t("mode")),
                    Column(ctx.t("loading"), "coef3"),
                    Column(ctx.t("weight"), "coef3"),
                    *(
                        [Column(ctx.t("ci_lower"), "coef3"), Column(ctx.t("ci_upper"), "coef3")]
                        if bootstrapped
                        else []
                    ),
                    Column("VIF", "dec2"),
                ],
                rows,
                note=ctx.t("note_outer_boot" if bootstrapped else "note_outer"),
            )
        )
    reliability = reliability_table(ctx)
    if reliability is not None:
        section.blocks.append(reliability)
    section.blocks.extend(validity_blocks(ctx))
    return section


def structural(ctx: ReportContext) -> Section:
    section = Section("structural", ctx.t("sec_structural"))
    paths = ctx.structural_paths()
    if not paths:
        return section
    section.blocks.append(path_figure(ctx, paths, ctx.t("note_path_figure_pls")))
    f2 = ctx.result.get("f2") or {}
    bootstrapped = any(finite(p.get("se")) for p in paths)
    section.blocks.append(
        Table(
            "paths",
            ctx.t("tab_paths_pls"),
            [
                Column(ctx.t("path")),
                Column("β", "coef3"),
                Column("SE", "dec3"),
                Column("t", "dec2"),
                Column("p", "p"),
                Column(ctx.t("ci_lower"), "coef3"),
                Column(ctx.t("ci_upper"), "coef3"),
                Column("f²", "dec3"),
            ],
            [
                [
                    f"{ctx.name(p['rhs'])} → {ctx.name(p['lhs'])}",
                    p.get("est"),
                    p.get("se"),
                    p.get("z"),
                    p.get("pvalue"),
                    p.get("ci_lower"),
                    p.get("ci_upper"),
                    (f2.get(p["lhs"]) or {}).get(p["rhs"]),
                ]
                for p in paths
            ],
            note=ctx.sentences(
                [
                    ctx.t("note_paths_pls_boot" if bootstrapped else "note_paths_pls_noboot"),
                    ctx.t("note_f2"),
                ]
            ),
        )
    )
    effects = [
        e for e in ctx.result.get("effects") or [] if finite(e.get("indirect")) and e["indirect"]
    ]
    if effects:
        section.blocks.append(
            Table(
                "effects",
                ctx.t("tab_effects"),
                [
                    Column(ctx.t("effect")),
                    Column(ctx.t("direct"), "coef3"),
                    Column(ctx.t("indirect"), "coef3"),
                    Column(ctx.t("ci_lower"), "coef3"),
                    Column(ctx.t("ci_upper"), "coef3"),
                    Column(ctx.t("total"), "coef3"),
                ],
                [
                    [
                        f"{ctx.name(e['from'])} → {ctx.name(e['to'])}",
                        e["direct"],
                        e["indirect"],
                        e.get("indirect_ci_lower"),
                        e.get("indirect_ci_upper"),
                        e["total"],
                    ]
                    for e in effects
                ],
                note=ctx.t("note_effects"),
            )
        )
    section.blocks.append(_predictive(ctx))
    prediction = _plspredict(ctx)
    if prediction is not None:
        section.blocks.append(prediction)
    return section


def _predictive(ctx: ReportContext) -> Table:
    r2, r2_adj, q2 = (ctx.result.get(key) or {} for key in ("r2", "r2_adj", "q2"))
    pls_settings = ctx.result.get("pls") or {}
    return Table(
        "r2_q2",
        ctx.t("tab_r2_q2"),
        [
            Column(ctx.t("construct")),
            Column("R²", "coef3"),
            Column(ctx.t("r2_adj"), "coef3"),
            Column("Q²", "coef3"),
        ],
        [[ctx.name(c), value, r2_adj.get(c), q2.get(c)] for c, value in r2.items()],
        note=ctx.t("note_r2_q2", distance=pls_settings.get("omission_distance", 7)),
    )


def _plspredict(ctx: ReportContext) -> Table | None:
    """PLSpredict (Shmueli et al., 2019): out-of-sample errors of PLS against a linear model."""
    predicted = ctx.result.get("plspredict")
    if not predicted or not predicted.get("items"):
        return None
    rows = []
    better = 0
    for row in predicted["items"]:
        wins = (
            finite(row.get("pls_rmse"))
            and finite(row.get("lm_rmse"))
            and row["pls_rmse"] < row["lm_rmse"]
        )
        better += bool(wins)
        rows.append(
            [
                ctx.name(row["construct"]),
                ctx.item_code(row["item"]),
                row["q2_predict"],
                row["pls_rmse"],
                row["lm_rmse"],
                row["pls_mae"],
                row["lm_mae"],
            ]
        )
    total = len(rows)
    # Shmueli et al. (2019): PLS beating the benchmark on all, most, few or none of the items.
    if better == total:
        power = "power_high"
    elif better * 2 >= total:
        power = "power_medium"
    else:
        power = "power_low" if better else "power_none"
    return Table(
        "plspredict",
        ctx.t("tab_plspredict"),
        [
            Column(ctx.t("construct")),
            Column(ctx.t("item")),
            Column("Q²predict", "coef3"),
            Column("RMSE PLS", "dec3"),
            Column("RMSE LM", "dec3"),
            Column("MAE PLS", "dec3"),
            Column("MAE LM", "dec3"),
        ],
        rows,
        note=ctx.sentences(
            [
                ctx.t(
                    "note_plspredict",
                    folds=predicted.get("folds", 10),
                    repetitions=predicted.get("repetitions", 10),
                    better=better,
                    total=total,
                ),
                ctx.t(power),
            ]
        ),
    )


def satisfaction_indices(ctx: ReportContext) -> Section | None:
    """The ACSI-style 0–100 index of every construct (rescaled unstandardized outer weights,
    Fornell et al. 1996) beside the plain mean index."""
    indices = ctx.result.get("indices")
    if not indices:
        return None
    section = Section("pls_indices", ctx.t("sec_pls_indices"))
    described = ctx.described("construct").set_index("variable")
    names = [c for c in ctx.constructs if c in indices and finite(indices[c])]
    section.blocks.append(
        Figure(
            "pls_indices",
            ctx.t("fig_pls_indices"),
            charts.png(
                charts.index_chart([ctx.name(c) for c in names], [indices[c] for c in names])
            ),
            width_cm=13,
        )
    )
    section.blocks.append(
        Table(
            "pls_indices",
            ctx.t("tab_pls_indices"),
            [
                Column(ctx.t("construct")),
                Column(ctx.t("pls_index"), "dec1"),
                Column(ctx.t("mean_index"), "dec1"),
            ],
            [
                [
                    ctx.name(c),
                    indices[c],
                    ctx.index(described.loc[c, "mean"]) if c in described.index else None,
                ]
                for c in names
            ],
            note=ctx.t("note_pls_indices"),
        )
    )
    gof = ctx.result.get("gof")
    if finite(gof):
        section.blocks.append(Paragraph(ctx.t("pls_gof", gof=f"{gof:.3f}"), "note"))
    return section
