"""The summary: the findings of every section in a few sentences."""

from __future__ import annotations

from collections.abc import Mapping

from reports.document import Paragraph, Section, format_number
from reports.sections.context import SATISFACTION, ReportContext, at_least, finite, p_text, verdict
from reports.sections.descriptives import nps_values
from reports.sections.drivers import trap
from reports.sections.sem import indirect_rows
from reports.sections.trends import difference_sentences


def summary(ctx: ReportContext) -> Section:
    section = Section("summary", ctx.t("sec_summary"))
    blocks = section.blocks
    blocks.append(Paragraph(ctx.t("sum_intro", n_used=ctx.n_used), "lead"))
    for row in ctx.structural_paths():
        beta, pvalue = row.get("std_all"), row.get("pvalue")
        values = {
            "src": ctx.name(row["rhs"]),
            "dst": ctx.name(row["lhs"]),
            "beta": format_number(beta, "coef"),
            "p": p_text(pvalue),
        }
        if finite(pvalue) and pvalue < 0.05 and finite(beta):
            size = abs(beta)
            strength = ctx.t("strong" if size >= 0.5 else "moderate" if size >= 0.3 else "weak")
            key = "sum_path_pos" if beta > 0 else "sum_path_neg"
            blocks.append(Paragraph(ctx.t(key, strength=strength, **values), "bullet"))
        else:
            blocks.append(Paragraph(ctx.t("sum_path_ns", **values), "bullet"))
    for row in indirect_rows(ctx):
        lo, hi = row["ci"]
        significant = finite(lo) and finite(hi) and (lo > 0 or hi < 0)
        blocks.append(
            Paragraph(
                ctx.t(
                    "sum_indirect",
                    effect=row["name"],
                    ci=ctx.t("ci_bootstrap" if row["bootstrap"] else "ci_delta"),
                    est=format_number(row["est"], "dec3"),
                    lo=format_number(lo, "dec3"),
                    hi=format_number(hi, "dec3"),
                    verdict=ctx.t("indirect_sig" if significant else "indirect_ns"),
                ),
                "bullet",
            )
        )
    r2 = ctx.result.get("r2") or {}
    outcome = ctx.outcome()
    if outcome is not None and finite(r2.get(outcome)):
        blocks.append(
            Paragraph(
                ctx.t("sum_r2", pct=f"{100 * r2[outcome]:.0f}", name=ctx.name(outcome)), "bullet"
            )
        )
    pls_indices = ctx.result.get("indices") if ctx.is_pls else None
    if pls_indices:
        listed = [f"{ctx.name(c)} {v:.0f}" for c, v in pls_indices.items() if finite(v)]
        blocks.append(Paragraph(ctx.t("sum_indices_pls", list=ctx.join(listed)), "bullet"))
    else:
        described = ctx.described("construct")
        listed = [
            f"{ctx.name(row['variable'])} {ctx.index(row['mean']):.0f}"
            for row in described.to_dict("records")
        ]
        blocks.append(Paragraph(ctx.t("sum_indices", list=ctx.join(listed)), "bullet"))
    topbox = _topbox_sentence(ctx)
    if topbox:
        blocks.append(Paragraph(topbox, "bullet"))
    blocks.extend(Paragraph(text, "bullet") for text in difference_sentences(ctx))
    nps = nps_values(ctx)
    if nps is not None:
        blocks.append(
            Paragraph(
                ctx.t(
                    "sum_nps",
                    nps=f"{nps['nps']:+.0f}",
                    promoters=f"{nps['promoters_pct']:.0f}",
                    detractors=f"{nps['detractors_pct']:.0f}",
                    lo=f"{nps['ci_lower']:.0f}",
                    hi=f"{nps['ci_upper']:.0f}",
                ),
                "bullet",
            )
        )
    fit = ctx.result.get("fit") or {}
    if fit:
        robust = "cfi_robust" in fit
        suffix = "_robust" if robust else ""
        cfi, rmsea = fit.get(f"cfi{suffix}"), fit.get(f"rmsea{suffix}")
        blocks.append(
            Paragraph(
                ctx.t(
                    "sum_fit_robust" if robust else "sum_fit",
                    verdict=ctx.t(
                        overall_fit({"cfi": cfi, "rmsea": rmsea, "srmr": fit.get("srmr")})
                    ),
                    cfi=format_number(cfi, "coef3"),
                    rmsea=format_number(rmsea, "coef3"),
                    srmr=format_number(fit.get("srmr"), "coef3"),
                ),
                "bullet",
            )
        )
    reliability = ctx.result.get("reliability") or {}
    weak = [
        ctx.name(c)
        for c, values in reliability.items()
        if not (at_least(values.get("alpha"), 0.7) and at_least(values.get("cr"), 0.7))
    ]
    if reliability:
        text = (
            ctx.t("sum_reliability_weak", list=ctx.join(weak))
            if weak
            else ctx.t("sum_reliability_ok")
        )
        blocks.append(Paragraph(text, "bullet"))
    found = trap(ctx)
    if found is not None and found.diminishing_returns:
        quadratic = found.coefficients.set_index("term").loc["quadratic"]
        blocks.append(
            Paragraph(
                ctx.t(
                    "sum_trap",
                    b=format_number(quadratic["estimate"], "dec3"),
                    p=p_text(quadratic["pvalue"]),
                ),
                "bullet",
            )
        )
    return section


def overall_fit(fit: Mapping[str, float | None]) -> str:
    verdicts = [
        verdict(fit.get("cfi"), (0.95, 0.90, True)),
        verdict(fit.get("rmsea"), (0.06, 0.08, False)),
        verdict(fit.get("srmr"), (0.08, 0.08, False)),
    ]
    verdicts = [v for v in verdicts if v]
    if not verdicts or "poor" in verdicts:
        return "poor"
    return "good" if all(v == "good" for v in verdicts) else "acceptable"


def _topbox_sentence(ctx: ReportContext) -> str:
    """Share in the top two boxes of the satisfaction items, overall then by facet.

    Reverse-worded items are left out: after recoding, their top box is the share who
    *disagree* with a negative statement, which the statement's wording would misstate.
    """
    items = [
        item for item in ctx.constructs.get(SATISFACTION, []) if item not in ctx.request.reverse
    ]
    if not items:
        return ""
    top2 = ctx.described("item").set_index("variable")["top2_pct"]
    overall, *facets = items
    values = {"pct": f"{top2[overall]:.0f}", "name": _quoted_label(ctx, overall)}
    if not facets:
        return ctx.t("sum_topbox_single", **values)
    listed = [f"{_quoted_label(ctx, item)} {top2[item]:.0f}%" for item in facets]
    return ctx.t("sum_topbox", list=ctx.join(listed), **values)


def _quoted_label(ctx: ReportContext, code: str) -> str:
    """An item's wording in quotation marks, without its closing full stop."""
    label = ctx.item_label(code).strip().rstrip(".。!！") or code
    return f"“{label}”"
