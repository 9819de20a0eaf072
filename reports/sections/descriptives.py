"""The sample, the construct indices, the items and their answers, the NPS, and normality."""

from __future__ import annotations

from analysis import descriptives
from reports import charts
from reports.document import Column, Figure, Paragraph, Section, Table
from reports.sections.context import ReportContext

NPS_KEYS = ("n", "promoters_pct", "passives_pct", "detractors_pct", "nps", "ci_lower", "ci_upper")
_DROP_LINES_SHOWN = 5


def sample(ctx: ReportContext) -> Section:
    section = Section("sample", ctx.t("sec_sample"))
    section.blocks.append(
        Paragraph(
            ctx.t("sample_text", n_rows=ctx.n_rows, n_used=ctx.n_used, missing=ctx.missing_text())
        )
    )
    lines = ctx.prepared.drop_summary()
    section.blocks.extend(Paragraph(line, "bullet") for line in lines[:_DROP_LINES_SHOWN])
    if len(lines) > _DROP_LINES_SHOWN:
        rest = int(ctx.prepared.dropped["n"].iloc[_DROP_LINES_SHOWN:].sum())
        section.blocks.append(Paragraph(ctx.t("more_drops", n=rest), "bullet"))
    recoded = ctx.result.get("missing_codes") or []
    if recoded:
        counts = [f"{row['item']} = {row['code']:g} ({row['n']:,})" for row in recoded]
        section.blocks.append(
            Paragraph(ctx.t("missing_codes_recoded", list=ctx.join(counts)), "bullet")
        )
    fieldwork = ctx.request.fieldwork
    if fieldwork is not None:
        counts_shown = [
            ("invitations", fieldwork.invitations),
            ("invited_completes", fieldwork.invited_completes),
        ]
        rows: list[list[object]] = [
            [ctx.t(key), f"{value:,}"] for key, value in counts_shown if value is not None
        ]
        if fieldwork.response_rate is not None:
            rows.append([ctx.t("response_rate"), f"{fieldwork.response_rate:.1f}"])
        counts_shown = [
            ("public_completes", fieldwork.public_completes),
            ("phone_completes", fieldwork.phone_completes),
            ("responses", fieldwork.responses),
            ("completes", fieldwork.completes),
        ]
        rows += [[ctx.t(key), f"{value:,}"] for key, value in counts_shown if value]
        rows.extend(
            [ctx.t("excluded", flag=flag), f"{n:,}"] for flag, n in fieldwork.exclusions.items()
        )
        rows.append([ctx.t("analysed"), f"{ctx.n_used:,}"])
        section.blocks.append(
            Table(
                "fieldwork",
                ctx.t("tab_fieldwork"),
                [Column(ctx.t("measure")), Column(ctx.t("value"))],
                rows,
            )
        )
    return section


def indices(ctx: ReportContext) -> Section:
    section = Section("indices", ctx.t("sec_descriptives"))
    described = ctx.described("construct")
    section.blocks.append(
        Table(
            "indices",
            ctx.t("tab_indices"),
            [
                Column(ctx.t("construct")),
                Column(ctx.t("n"), "int"),
                Column(ctx.t("mean"), "dec2"),
                Column(ctx.t("sd"), "dec2"),
                Column(ctx.t("index"), "dec1"),
                Column(ctx.t("top2"), "pct"),
            ],
            [
                [
                    ctx.name(row["variable"]),
                    row["n"],
                    row["mean"],
                    row["sd"],
                    ctx.index(row["mean"]),
                    row["top2_pct"],
                ]
                for row in described.to_dict("records")
            ],
            note=ctx.t("note_indices"),
        )
    )
    return section


def items(ctx: ReportContext) -> Section:
    section = Section("items", ctx.t("sec_items"))
    rows = [
        [
            ctx.item_code(row["variable"]),
            ctx.item_label(row["variable"]),
            row["n"],
            row["mean"],
            row["sd"],
            row["skew"],
            row["kurtosis"],
            row["top2_pct"],
        ]
        for row in ctx.described("item").to_dict("records")
    ]
    request = ctx.request
    section.blocks.append(
        Table(
            "items",
            ctx.t("tab_items"),
            [
                Column(ctx.t("code")),
                Column(ctx.t("text")),
                Column(ctx.t("n"), "int"),
                Column(ctx.t("mean"), "dec2"),
                Column(ctx.t("sd"), "dec2"),
                Column(ctx.t("skew"), "dec2"),
                Column(ctx.t("kurtosis"), "dec2"),
                Column(ctx.t("top2"), "pct"),
            ],
            rows,
            note=ctx.t("note_items", lo=f"{request.scale_min:g}", hi=f"{request.scale_max:g}"),
        )
    )
    mardia_table = _mardia(ctx)
    if mardia_table is not None:
        section.blocks.append(mardia_table)
    low, high = int(request.scale_min), int(request.scale_max)
    counts = descriptives.answer_counts(ctx.data, columns=ctx.items, scale_min=low, scale_max=high)
    counts = counts[counts["value"].between(low, high)]
    shares = (
        counts.pivot_table(index="variable", columns="value", values="pct", sort=False)
        .reindex(ctx.items)
        .fillna(0.0)
    )
    section.blocks.append(
        Figure(
            "distributions",
            ctx.t("fig_distributions"),
            charts.png(
                charts.distribution_chart(
                    [ctx.item_display(code) for code in ctx.items],
                    shares.to_numpy(),
                    _category_labels(ctx, low, high),
                )
            ),
        )
    )
    return section


def _mardia(ctx: ReportContext) -> Table | None:
    """Mardia's multivariate skewness and kurtosis: the evidence for a robust estimator."""
    mardia = ctx.result.get("mardia")
    if not mardia:
        return None
    p = int(mardia["n_vars"])
    skew_df = p * (p + 1) * (p + 2) / 6
    rows = [
        [ctx.t("mardia_skew"), mardia["b1p"], "χ²", mardia["skew"], skew_df, mardia["p_skew"]],
        [
            ctx.t("mardia_kurtosis"),
            mardia["b2p"],
            "z",
            mardia["kurtosis"],
            None,
            mardia["p_kurtosis"],
        ],
    ]
    normal = all(
        isinstance(value, int | float) and value >= 0.05
        for value in (mardia["p_skew"], mardia["p_kurtosis"])
    )
    return Table(
        "mardia",
        ctx.t("tab_mardia"),
        [
            Column(ctx.t("measure")),
            Column(ctx.t("coefficient"), "dec2"),
            Column(ctx.t("test")),
            Column(ctx.t("statistic"), "dec2"),
            Column("df", "int"),
            Column("p", "p"),
        ],
        rows,
        note=ctx.sentences(
            [
                ctx.t("note_mardia", n=mardia["n"], expected=f"{p * (p + 2)}"),
                ctx.t("mardia_normal" if normal else "mardia_nonnormal"),
            ]
        ),
    )


def _category_labels(ctx: ReportContext, low: int, high: int) -> list[str]:
    labels = [str(point) for point in range(low, high + 1)]
    definition = ctx.request.definition
    if definition is None:
        return labels
    from surveys.definition import LikertItem, MatrixItem

    for variable in definition.variables():
        item = variable.item
        if variable.code in ctx.items and isinstance(item, LikertItem | MatrixItem):
            for index, point in enumerate(range(low, high + 1)):
                anchor = (
                    item.scale.anchor_for(point - low + 1)
                    if item.scale.points == high - low + 1
                    else None
                )
                if anchor and (text := ctx.texts(anchor)):
                    labels[index] = f"{point} {text}"
            break
    return labels


def nps_values(ctx: ReportContext) -> dict[str, float] | None:
    stored = ctx.result.get("nps") if ctx.request.nps else None
    return {key: stored[key] for key in NPS_KEYS} if stored else None


def nps(ctx: ReportContext) -> Section | None:
    values = nps_values(ctx)
    if values is None:
        return None
    section = Section("nps", ctx.t("sec_nps"))
    section.blocks.append(
        Figure(
            "nps",
            ctx.t("fig_nps"),
            charts.png(
                charts.nps_chart(
                    values["detractors_pct"],
                    values["passives_pct"],
                    values["promoters_pct"],
                    [ctx.t("detractors"), ctx.t("passives"), ctx.t("promoters")],
                    f"NPS {values['nps']:+.0f}",
                )
            ),
            width_cm=14,
        )
    )
    section.blocks.append(
        Table(
            "nps",
            ctx.t("tab_nps"),
            [
                Column(ctx.t("n"), "int"),
                Column(ctx.t("promoters"), "pct"),
                Column(ctx.t("passives"), "pct"),
                Column(ctx.t("detractors"), "pct"),
                Column(ctx.t("nps"), "dec1"),
                Column(ctx.t("ci_lower"), "dec1"),
                Column(ctx.t("ci_upper"), "dec1"),
            ],
            [[values[key] for key in NPS_KEYS]],
            note=ctx.t("note_nps"),
        )
    )
    return section
