"""The methods appendix: the model, the data handling, the estimator and why, CB-SEM or PLS,
the bootstrap, invariance, and the software."""

from __future__ import annotations

import platform
from importlib import metadata

from reports.document import Paragraph, Section
from reports.sections.cfa import estimation_paragraph
from reports.sections.context import ReportContext
from reports.sections.trends import tested_invariance


def software_versions() -> list[str]:
    """``name version`` of the software that produced the numbers and the document."""
    versions = [f"Python {platform.python_version()}"]
    for package in ("loyaltylab", "numpy", "scipy", "pandas", "matplotlib"):
        try:
            versions.append(f"{package} {metadata.version(package)}")
        except metadata.PackageNotFoundError:
            continue
    return versions


def methods(ctx: ReportContext) -> Section:
    section = Section("methods", ctx.t("sec_methods"))
    request = ctx.request
    blocks = section.blocks
    blocks.append(Paragraph(ctx.t("methods_model"), "lead"))
    blocks.append(Paragraph(request.model.strip(), "code"))
    blocks.append(
        Paragraph(
            ctx.t(
                "methods_estimation",
                missing=ctx.missing_text(),
                lo=f"{request.scale_min:g}",
                hi=f"{request.scale_max:g}",
                reverse=ctx.join(list(request.reverse)) or ctx.t("none"),
            )
        )
    )
    if request.missing_codes:
        codes = ctx.join([f"{code:g}" for code in request.missing_codes])
        blocks.append(Paragraph(ctx.t("methods_missing_codes", codes=codes)))
    if ctx.is_pls:
        blocks.extend(_pls_estimation(ctx))
    else:
        blocks.append(estimation_paragraph(ctx))
        if request.bootstrap:
            blocks.append(
                Paragraph(ctx.t("methods_bootstrap", n=request.bootstrap, seed=request.seed))
            )
        else:
            blocks.append(Paragraph(ctx.t("methods_no_bootstrap")))
    tested = tested_invariance(ctx)
    if tested:
        compared = [
            ctx.t("between_waves") if column == request.wave else column for column in tested
        ]
        blocks.append(
            Paragraph(
                ctx.t(
                    "methods_invariance",
                    list=ctx.join(compared),
                    estimator=str(ctx.result.get("estimator") or "ML"),
                    missing=ctx.missing_text(),
                    needed=max(values["needed"] for values in tested.values()),
                )
            )
        )
    blocks.append(Paragraph(ctx.t("methods_choice_title"), "lead"))
    blocks.append(Paragraph(ctx.t("methods_estimators")))
    blocks.append(Paragraph(ctx.t("methods_cbsem_pls")))
    blocks.append(Paragraph(ctx.t("methods_software", list=ctx.join(software_versions()))))
    blocks.append(Paragraph(ctx.t("methods_repro")))
    return section


def _pls_estimation(ctx: ReportContext) -> list[Paragraph]:
    settings = ctx.result.get("pls") or {}
    consistent = "pls_consistent" if settings.get("consistent") else "pls_not_consistent"
    paragraphs = [
        Paragraph(
            ctx.t(
                "methods_pls",
                scheme=ctx.t(f"scheme_{settings.get('scheme', 'path')}"),
                scaled=ctx.t("pls_scaled" if settings.get("scaled", True) else "pls_unscaled"),
                consistent=ctx.t(consistent),
                iterations=settings.get("iterations", "–"),
                tolerance=f"{settings.get('tolerance', 1e-7):g}",
            )
        )
    ]
    boot = ctx.result.get("bootstrap") or {}
    if boot.get("n_boot"):
        paragraphs.append(
            Paragraph(
                ctx.t(
                    "methods_pls_bootstrap",
                    n=boot["n_boot"],
                    n_ok=boot.get("n_ok", boot["n_boot"]),
                    seed=boot.get("seed", ctx.request.seed),
                )
            )
        )
    else:
        paragraphs.append(Paragraph(ctx.t("methods_pls_no_bootstrap")))
    return paragraphs
