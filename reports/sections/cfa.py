"""The confirmatory factor analysis: the estimator used, loadings, fit (with the robust
measures of MLR, MLM and WLSMV beside the ML ones) and the modification indices."""

from __future__ import annotations

from collections.abc import Mapping

from reports.document import Block, Column, Paragraph, Section, Table, format_number
from reports.sections.context import ReportContext, at_least, verdict

MODINDICES_SHOWN = 10

_FIT_ROWS = (
    # label, key, threshold, (good, acceptable, higher is better)
    ("χ²", "chisq", "", None),
    ("df", "df", "", None),
    ("p", "pvalue", "", None),
    ("CFI", "cfi", "≥ .95 / ≥ .90", (0.95, 0.90, True)),
    ("TLI", "tli", "≥ .95 / ≥ .90", (0.95, 0.90, True)),
    ("RMSEA", "rmsea", "≤ .06 / ≤ .08", (0.06, 0.08, False)),
    ("fit_rmsea_ci", "rmsea_ci", "", None),
    ("SRMR", "srmr", "≤ .08", (0.08, 0.08, False)),
    ("AIC", "aic", "", None),
    ("BIC", "bic", "", None),
)
_ROBUST_ROWS = (
    ("fit_chisq_scaled", "chisq_scaled", "", None),
    ("fit_p_scaled", "pvalue_scaled", "", None),
    ("fit_scaling_factor", "chisq_scaling_factor", "", None),
    ("fit_cfi_robust", "cfi_robust", "≥ .95 / ≥ .90", (0.95, 0.90, True)),
    ("fit_tli_robust", "tli_robust", "≥ .95 / ≥ .90", (0.95, 0.90, True)),
    ("fit_rmsea_robust", "rmsea_robust", "≤ .06 / ≤ .08", (0.06, 0.08, False)),
    ("fit_rmsea_ci_robust", "rmsea_ci_robust", "", None),
)
_SE_NAMES = {
    "standard": "se_standard",
    "robust.huber.white": "se_huber_white",
    "robust.sem": "se_robust_sem",
}
_TEST_NAMES = {
    "standard": "test_standard",
    "yuan.bentler.mplus": "test_yuan_bentler",
    "satorra.bentler": "test_satorra_bentler",
    "scaled.shifted": "test_scaled_shifted",
}


def estimation_paragraph(ctx: ReportContext) -> Paragraph:
    """Which estimator, standard errors and test statistic produced the numbers."""
    result = ctx.result
    estimator = str(result.get("estimator") or "ML")
    se, test = str(result.get("se") or "standard"), str(result.get("test") or "standard")
    return Paragraph(
        ctx.t(
            "estimation_used",
            estimator=estimator,
            estimator_text=ctx.t(f"estimator_{estimator.lower()}"),
            se=ctx.t(_SE_NAMES[se]) if se in _SE_NAMES else se,
            test=ctx.t(_TEST_NAMES[test]) if test in _TEST_NAMES else test,
        ),
        "lead",
    )


def cfa(ctx: ReportContext) -> Section:
    section = Section("cfa", ctx.t("sec_cfa"))
    section.blocks.append(estimation_paragraph(ctx))
    rows = []
    for row in ctx.rows("=~"):
        beta = row.get("std_all")
        quality = (
            "good"
            if at_least(beta, 0.7)
            else "acceptable"
            if at_least(beta, 0.5)
            else "weak_loading"
        )
        rows.append(
            [
                ctx.name(row["lhs"]),
                ctx.item_code(row["rhs"]),
                ctx.item_label(row["rhs"]),
                row.get("est"),
                row.get("se") or None,
                beta,
                row.get("pvalue"),
                ctx.t(quality),
            ]
        )
    if rows:
        section.blocks.append(
            Table(
                "loadings",
                ctx.t("tab_loadings"),
                [
                    Column(ctx.t("construct")),
                    Column(ctx.t("item")),
                    Column(ctx.t("text")),
                    Column("B", "dec3"),
                    Column("SE", "dec3"),
                    Column("β", "coef3"),
                    Column("p", "p"),
                    Column(ctx.t("verdict")),
                ],
                rows,
                note=ctx.t("note_loadings"),
            )
        )
    fits = [
        (ctx.t("measurement_model"), ctx.result.get("measurement_fit") or {}),
        (ctx.t("structural_model"), ctx.result.get("fit") or {}),
    ]
    fits = [(label, fit) for label, fit in fits if fit]
    if fits:
        section.blocks.append(fit_table(ctx, fits))
    section.blocks.extend(modindices_blocks(ctx))
    return section


def _fit_value(fit: Mapping[str, float], key: str) -> str:
    if key in ("rmsea_ci", "rmsea_ci_robust"):
        suffix = "_robust" if key.endswith("robust") else ""
        return (
            f"[{format_number(fit.get(f'rmsea_ci_lower{suffix}'), 'coef3')}, "
            f"{format_number(fit.get(f'rmsea_ci_upper{suffix}'), 'coef3')}]"
        )
    if key in ("chisq", "chisq_scaled", "aic", "bic"):
        return format_number(fit.get(key), "dec2")
    if key == "df":
        return format_number(fit.get(key), "int")
    if key == "chisq_scaling_factor":
        return format_number(fit.get(key), "dec3")
    return format_number(fit.get(key), "p" if key.startswith("pvalue") else "coef3")


def fit_table(ctx: ReportContext, fits: list[tuple[str, Mapping[str, float]]]) -> Table:
    """ML fit, and with a robust estimator the scaled χ², its scaling factor and the robust
    CFI, TLI and RMSEA (Brosseau-Liard & Savalei) beside it, per model."""
    robust = any("chisq_scaled" in fit for _label, fit in fits)
    specs = _FIT_ROWS + (_ROBUST_ROWS if robust else ())
    columns = [Column(ctx.t("index_fit")), Column(ctx.t("threshold"))]
    for label, _fit in fits:
        columns += [Column(label), Column(ctx.t("verdict"))]
    rows = []
    for name, key, threshold, rule in specs:
        # Names with words in them are catalog keys ("fit_..."); symbols (χ², CFI) are the same in
        # every language.
        label = ctx.t(name) if name.startswith("fit_") else name
        row: list[object] = [label, threshold]
        for _label, fit in fits:
            row += [_fit_value(fit, key), ctx.t(verdict(fit.get(key), rule)) if rule else ""]
        rows.append(row)
    note = ctx.t("note_fit")
    if robust:
        note = ctx.sentences([note, ctx.t("note_fit_robust")])
    return Table("fit", ctx.t("tab_fit"), columns, rows, note=note)


def modindices_blocks(ctx: ReportContext) -> list[Block]:
    """The largest modification indices (χ² ≥ 3.84), with the caution they need."""
    indices = ctx.result.get("modindices")
    if indices is None:
        return []
    if not indices:
        return [Paragraph(ctx.t("no_modindices"), "note")]
    largest = sorted(indices, key=lambda row: -(row.get("mi") or 0))[:MODINDICES_SHOWN]
    return [
        Table(
            "modindices",
            ctx.t("tab_modindices"),
            [
                Column(ctx.t("parameter")),
                Column("MI", "dec2"),
                Column("EPC", "dec3"),
                Column("SEPC", "coef3"),
            ],
            [
                [f"{row['lhs']} {row['op']} {row['rhs']}", row["mi"], row["epc"], row["sepc_all"]]
                for row in largest
            ],
            note=ctx.sentences(
                [
                    ctx.t("note_modindices", shown=len(largest), total=len(indices)),
                    ctx.t("modindices_caution"),
                ]
            ),
        )
    ]
