"""The readable report of ``loyaltylab analyze --estimator pls`` (PLS path modelling)."""

from __future__ import annotations

import pandas as pd

from analysis.pls.pipeline import PlsAnalysis
from loyaltylab.cli_analyze import (
    _drop_lines,
    _matrix,
    _pvalue,
    _table,
    group_tables,
    importance_performance_table,
    score_tables,
)

SCHEMES = {"path": "path weighting", "factorial": "factorial", "centroid": "centroid"}


def render_pls(result: PlsAnalysis) -> str:
    """Reliability, validity, paths, effects, R²/Q², PLSpredict and indices as text tables."""
    pls, boot = result.pls, result.bootstrap
    settings = pls.settings
    method = "consistent PLS (PLSc)" if settings.consistent else "PLS"
    items = "standardized" if settings.scaled else "centred"
    parts = [
        f"Rows read: {result.n_rows}   used: {result.n_used}   missing data: listwise",
        *(f"  dropped {line}" for line in _drop_lines(result)),
        "",
        f"{method} path model: {SCHEMES[settings.scheme]} scheme, {items} items, "
        f"converged in {pls.iterations} iterations (tolerance {settings.tol:g}); "
        f"GoF = {pls.gof:.3f}",
        "",
    ]
    parts.extend(f"warning: {warning}" for warning in pls.warnings)
    if pls.warnings:
        parts.append("")
    reliability = pls.reliability()[["construct", "mode", "n_items", "alpha", "rho_a", "rho_c",
                                     "ave"]]  # fmt: skip
    parts.append(
        _table("Reliability and convergent validity (alpha, rho_A, rho_C .70-.95; AVE >= .50)",
               reliability.rename(columns={"n_items": "items"}))
    )  # fmt: skip
    table = pls.outer()[["construct", "item", "mode", "weight", "loading", "vif"]]
    if boot is not None:  # bootstrap rows are in the same (item) order
        table["loading 95% lo"] = boot.loadings["ci_lower"].to_numpy()
        table["loading 95% hi"] = boot.loadings["ci_upper"].to_numpy()
        table["weight p"] = boot.weights["pvalue"].to_numpy()
    parts.append(_table("Outer model (loadings >= .708; VIF < 3)", table, {"weight p": _pvalue}))
    if len(result.constructs) > 1:
        parts.append(_matrix("Fornell-Larcker (sqrt AVE on the diagonal)", pls.fornell_larcker()))
        htmt = pls.htmt().rename(columns={"htmt": "HTMT"})
        htmt["HTMT2"] = pls.htmt(geometric=True)["htmt"]
        if boot is not None:
            htmt["HTMT 95% hi"] = boot.htmt["ci_upper"].to_numpy()
        parts.append(_table("HTMT and HTMT2 (flag at >= .85)", htmt))
    paths = (
        pls.paths().merge(result.f2, on=["from", "to"]).merge(pls.inner_vif(), on=["from", "to"])
    )
    if boot is not None:
        stats = boot.paths[["se", "t", "pvalue", "ci_lower", "ci_upper", "bca_lower",
                            "bca_upper"]]  # fmt: skip
        paths = pd.concat([paths, stats.reset_index(drop=True)], axis=1).rename(
            columns={
                "pvalue": "p",
                "ci_lower": "95% lo",
                "ci_upper": "95% hi",
                "bca_lower": "BCa lo",
                "bca_upper": "BCa hi",
            }
        )
    title = "Paths (f2 .02/.15/.35)"
    if boot is not None:
        title += f", bootstrap: {boot.n_ok} of {boot.n_boot} resamples"
    parts.append(_table(title, paths, {"p": _pvalue}))
    effects = pls.effects()
    if boot is not None:
        total = boot.total.set_index(["from", "to"])
        effects = effects.join(
            total[["ci_lower", "ci_upper"]].rename(
                columns={"ci_lower": "total 95% lo", "ci_upper": "total 95% hi"}
            ),
            on=["from", "to"],
        )
    parts.append(_table("Direct, indirect and total effects", effects))
    explained = pls.r2().merge(result.q2[["construct", "q2"]], on="construct", how="left")
    parts.append(_table("R-squared and blindfolding Q2 (Q2 > 0: predictive relevance)",
                        explained))  # fmt: skip
    if result.prediction is not None:
        prediction = result.prediction
        parts.append(
            _table(f"PLSpredict ({prediction.folds} folds x {prediction.repetitions}; "
                   f"predictive power: {prediction.power})", prediction.items)
        )  # fmt: skip
    if result.indices is not None:
        indices = pd.DataFrame({"construct": result.indices.index, "index": result.indices})
        parts.append(_table("Satisfaction indices (0-100, ACSI method)", indices))
    parts.extend(importance_performance_table(result))
    parts.extend(score_tables(result))
    parts.extend(group_tables(result))
    return "\n".join(parts)
