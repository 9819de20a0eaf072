"""``loyaltylab analyze``: the full loyalty analysis of a data file from the command line.

Registered on the main app in :mod:`loyaltylab.cli` as ``app.command("analyze")(analyze)``.
Bad input (unreadable file, unknown or non-numeric columns, a model that is not identified or
does not converge) ends with exit code 2 and one line on stderr.
"""

from __future__ import annotations

import json
import math
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

import pandas as pd
import typer

from analysis.io import read_table
from analysis.pipeline import AnalysisResult
from analysis.pipeline import analyze as run_analysis
from analysis.pls.pipeline import PlsAnalysis

MAX_MODEL_BYTES = 256 * 1024
BAD_INPUT = 2
DEFAULT_SCALE = (1.0, 7.0)
"""The answer scale both ``analyze`` (with ``--reverse``) and ``report`` assume when not told."""
REVERSE_HINT_R = -0.3
"""An item correlating this negatively with the rest of its construct is probably reverse-keyed."""


def _fail(message: str) -> NoReturn:
    typer.echo(f"error: {' '.join(str(message).split())}", err=True)
    raise typer.Exit(BAD_INPUT)


def _read_model(path: Path) -> str:
    try:
        if path.stat().st_size > MAX_MODEL_BYTES:
            _fail(f"model file {path.name} is larger than {MAX_MODEL_BYTES // 1024} KB")
        return path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        _fail(f"model file {path} does not exist")
    except UnicodeDecodeError:
        _fail(f"model file {path.name} is not UTF-8 text")
    except OSError as error:
        _fail(f"cannot read model file {path}: {error.strerror or error}")


def _split_items(values: Sequence[str] | None) -> list[str]:
    """``--reverse a --reverse b`` and ``--reverse a,b`` both name two items."""
    return [item.strip() for value in values or () for item in value.split(",") if item.strip()]


def _number(value: object, digits: int = 3) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def _pvalue(value: float) -> str:
    if value is None or math.isnan(value):
        return "-"
    return "<.001" if value < 0.001 else f"{value:.3f}".replace("0.", ".", 1)


def _table(title: str, frame: pd.DataFrame, formats: dict[str, object] | None = None) -> str:
    """Plain aligned text: text columns left-aligned, numbers right-aligned."""
    formats = formats or {}
    header = [str(c) for c in frame.columns]
    cells = [
        [formats.get(c, _number)(v) for c, v in zip(frame.columns, row, strict=True)]
        for row in frame.itertuples(index=False)
    ]
    numeric = [pd.api.types.is_numeric_dtype(frame[c]) for c in frame.columns]
    widths = [max([len(h), *(len(r[i]) for r in cells)]) for i, h in enumerate(header)]

    def line(values: list[str]) -> str:
        return "  ".join(
            v.rjust(w) if right else v.ljust(w)
            for v, w, right in zip(values, widths, numeric, strict=True)
        ).rstrip()

    rule = "-" * len(line(header))
    return "\n".join([title, rule, line(header), rule, *map(line, cells), ""])


def _matrix(title: str, matrix: pd.DataFrame) -> str:
    frame = matrix.reset_index(names="")
    return _table(title, frame)


def _fit_line(label: str, fit: dict, *, scaled: bool = False) -> str:
    """Chi-square and fit indices; ``scaled``: the scaled-shifted (WLSMV) versions."""
    suffix = "_scaled" if scaled else ""

    def value(name: str) -> object:
        return fit.get(name + suffix)

    return (
        f"{label}: {'scaled ' if scaled else ''}chi2({_number(fit.get('df'), 0)}) = "
        f"{_number(value('chisq'), 2)}, p {_pvalue(value('pvalue') or math.nan)}, "
        f"CFI = {_number(value('cfi'))}, TLI = {_number(value('tli'))}, "
        f"RMSEA = {_number(value('rmsea'))} "
        f"[{_number(value('rmsea_ci_lower'))}, {_number(value('rmsea_ci_upper'))}], "
        f"SRMR = {_number(fit.get('srmr'))}"
    )


def render(result: AnalysisResult) -> str:
    """The readable report printed without ``--json``."""
    scaled = result.model.test == "scaled.shifted"
    estimator = result.model.estimator
    if result.ordered:
        count = len(result.ordered)
        estimator += f", {count} ordered item{'s' if count != 1 else ''}"
    parts = [
        f"Rows read: {result.n_rows}   used: {result.n_used}   missing data: {result.missing}",
        *(f"  dropped {line}" for line in _drop_lines(result)),
        "",
        f"Model fit ({estimator})",
        "  " + _fit_line("measurement model", result.measurement_model.fit, scaled=scaled),
        "  " + _fit_line("structural model ", result.model.fit, scaled=scaled),
        "",
    ]
    for warning in [*result.measurement_model.warnings, *result.model.warnings]:
        parts.append(f"warning: {warning}")
    if parts[-1] != "":
        parts.append("")
    columns = ["construct", "n_items", "alpha", "alpha_ci_lower", "alpha_ci_upper", "omega"]
    columns += [c for c in ("alpha_ordinal", "omega_categorical") if c in result.reliability]
    reliability = result.reliability[[*columns, "cr", "ave"]].rename(
        columns={
            "alpha_ci_lower": "alpha 95% lo",
            "alpha_ci_upper": "alpha 95% hi",
            "alpha_ordinal": "ordinal alpha",
            "omega_categorical": "categorical omega",
        }
    )
    parts.append(
        _table("Reliability and convergent validity (alpha, CR >= .70; AVE >= .50)", reliability)
    )
    items = result.item_total.rename(columns={"r_drop": "item-rest r"})
    parts.append(_table("Items", items))
    parts += reverse_hints(result.item_total)
    if len(result.constructs) > 1:
        parts.append(
            _matrix("Fornell-Larcker (sqrt AVE on the diagonal)", result.fornell_larcker_matrix)
        )
        parts.append(_table("HTMT (flag at >= .85)", result.htmt))
    estimates = result.model.estimates
    paths = estimates[estimates["op"].isin(["~", ":="])]
    if not paths.empty:
        columns = ["lhs", "op", "rhs", "est", "se", "std_all", "pvalue"]
        frame = paths[columns].rename(columns={"est": "B", "std_all": "beta", "pvalue": "p"})
        if result.bootstrap is not None:
            boot = result.bootstrap
            keys = [_parameter_key(row) for row in paths.itertuples()]
            frame = frame.assign(
                **{
                    "boot 95% lo": [boot["ci_lower"].get(k, math.nan) for k in keys],
                    "boot 95% hi": [boot["ci_upper"].get(k, math.nan) for k in keys],
                }
            )
        title = "Paths and defined effects"
        if result.bootstrap is not None:
            title += " (bootstrap intervals: of beta for paths, of B for defined effects)"
        parts.append(_table(title, frame, {"p": _pvalue}))
    structural_r2 = {
        name: value
        for name, value in result.model.r2.items()
        if name not in result.model.spec.observed_variables or name in result.model.spec.regressions
    }
    if structural_r2:
        r2 = pd.DataFrame({"variable": list(structural_r2), "R2": list(structural_r2.values())})
        parts.append(_table("R-squared", r2))
    parts.extend(score_tables(result))
    parts.extend(importance_performance_table(result))
    parts.extend(group_tables(result))
    return "\n".join(parts)


def importance_performance_table(result: AnalysisResult | PlsAnalysis) -> list[str]:
    """The importance-performance map of the final outcome, when there is one."""
    if result.importance_performance is None:
        return []
    title = f"Importance-performance map (total effects on {result.target})"
    return [_table(title, result.importance_performance)]


def score_tables(result: AnalysisResult | PlsAnalysis) -> list[str]:
    """Construct scores (item means) and their correlations, whatever the estimator."""
    parts = []
    construct_rows = result.descriptives[result.descriptives["kind"] == "construct"]
    parts.append(
        _table(
            "Construct scores",
            construct_rows[["variable", "n", "mean", "sd", "skew", "kurtosis", "top2_pct"]],
        )
    )
    if not result.correlations.empty:
        pearson = result.correlations[result.correlations["method"] == "pearson"]
        parts.append(
            _table("Correlations of construct scores (Pearson)",
                   pearson[["x", "y", "n", "r", "ci_lower", "ci_upper", "pvalue"]],
                   {"pvalue": _pvalue})
        )  # fmt: skip
    return parts


def group_tables(result: AnalysisResult | PlsAnalysis) -> list[str]:
    """The NPS and the comparisons of groups, whatever the estimator."""
    parts = []
    if result.nps is not None:
        nps = result.nps[
            ["group", "n", "promoters_pct", "detractors_pct", "nps", "ci_lower", "ci_upper"]
        ]
        parts.append(_table("Net Promoter Score (95% CI)", nps.fillna({"group": "all"}), {}))
    if result.groups is not None:
        tests = result.groups.tests[
            [
                "variable",
                "test",
                "k",
                "statistic",
                "df1",
                "df2",
                "pvalue",
                "hedges_g",
                "eta_squared",
            ]
        ]
        parts.append(_table(f"Comparison by {result.group_column}", tests, {"pvalue": _pvalue}))
        if not result.groups.posthoc.empty:
            posthoc = result.groups.posthoc[
                ["variable", "group_a", "group_b", "diff", "se", "t", "df", "pvalue", "hedges_g"]
            ]
            parts.append(_table("Games-Howell pairs", posthoc, {"pvalue": _pvalue}))
    return parts


def reverse_hints(item_total: pd.DataFrame) -> list[str]:
    """A line for each item that runs against the rest of its construct: reverse-keyed?"""
    hints = [
        f"hint: {row.item} correlates {row.r_drop:.2f} with the rest of {row.construct}: "
        f"reverse-keyed? (--reverse {row.item}, or take it off --reverse)"
        for row in item_total.itertuples(index=False)
        if row.r_drop <= REVERSE_HINT_R
    ]
    return [*hints, ""] if hints else []


def scale_warning(data: pd.DataFrame, items: Sequence[str], scale: tuple[float, float]) -> str:
    """A warning when the answers to ``items`` stay well inside the assumed scale (e.g. 1-5
    answers read on the default 1-7 scale, which would reverse-key them wrongly)."""
    values = data[[item for item in items if item in data]].apply(pd.to_numeric, errors="coerce")
    low, high = values.min().min(), values.max().max()
    if pd.isna(low) or (low <= scale[0] + 1 and high >= scale[1] - 1):
        return ""
    return (
        f"warning: the reverse-keyed items' answers run from {low:g} to {high:g}, read on a "
        f"{scale[0]:g}-{scale[1]:g} scale; give --scale-min and --scale-max if that is not "
        "their scale"
    )


def _drop_lines(result: AnalysisResult | PlsAnalysis, shown: int = 5) -> list[str]:
    reasons, counts = list(result.dropped["reason"]), list(result.dropped["n"])
    lines = [
        f"{n} row{'s' if n != 1 else ''}: {reason}"
        for reason, n in zip(reasons[:shown], counts[:shown], strict=True)
    ]
    if len(reasons) > shown:
        lines.append(f"{sum(counts[shown:])} rows: {len(reasons) - shown} other patterns")
    return lines


def _parameter_key(row) -> str:
    return row.lhs if row.op == ":=" else f"{row.lhs}{row.op}{row.rhs}"


def analyze(
    data: Path = typer.Argument(..., help="Responses: .csv (UTF-8), .xlsx or .sav."),
    model: Path = typer.Option(..., "--model", help="lavaan model syntax file (.lavaan)."),
    json_out: Path | None = typer.Option(
        None, "--json", help="Write the full results as JSON to this file instead of tables."
    ),
    reverse: list[str] | None = typer.Option(
        None, "--reverse", help="Reverse-worded item (repeat, or separate with commas)."
    ),
    scale_min: float | None = typer.Option(
        None, "--scale-min", help="Lowest answer code (with --reverse: 1 unless given)."
    ),
    scale_max: float | None = typer.Option(
        None, "--scale-max", help="Highest answer code (with --reverse: 7 unless given)."
    ),
    missing: str = typer.Option("listwise", "--missing", help="listwise or fiml."),
    bootstrap: int = typer.Option(0, "--bootstrap", help="Bootstrap resamples (0: none)."),
    seed: int | None = typer.Option(None, "--seed", help="Seed of the bootstrap."),
    group: str | None = typer.Option(None, "--group", help="Column to compare groups by."),
    nps: str | None = typer.Option(None, "--nps", help="0-10 likelihood-to-recommend column."),
    ordered: list[str] | None = typer.Option(
        None,
        "--ordered",
        help="Ordered (ordinal) items, fitted by WLSMV as lavaan's ordered=: 'all' or item "
        "names (repeat, or separate with commas).",
    ),
    estimator: str = typer.Option(
        "ML", "--estimator", help="ML (covariance-based SEM) or pls (PLS path modelling)."
    ),
    pls_scheme: str = typer.Option(
        "path", "--pls-scheme", help="PLS inner weighting: path, factorial or centroid."
    ),
    pls_unscaled: bool = typer.Option(
        False, "--pls-unscaled", help="PLS on centred items instead of standardized ones."
    ),
    consistent: bool = typer.Option(
        False, "--consistent", help="Consistent PLS (PLSc) for the reflective constructs."
    ),
) -> None:
    """Reliability, validity, CFA/SEM and comparisons for a survey data file."""
    reverse_items = _split_items(reverse)
    ordered_items: list[str] | bool = _split_items(ordered)
    if "all" in ordered_items:
        if len(ordered_items) > 1:
            _fail("--ordered takes 'all' or item names, not both")
        ordered_items = True
    if missing not in ("listwise", "fiml"):
        _fail(f"--missing must be listwise or fiml, not {missing!r}")
    estimator = {"ml": "ML", "pls": "pls"}.get(estimator.lower(), estimator)
    if estimator not in ("ML", "pls"):
        _fail(f"--estimator must be ML or pls, not {estimator!r}")
    if estimator != "pls" and (consistent or pls_unscaled or pls_scheme != "path"):
        _fail("--pls-scheme, --pls-unscaled and --consistent need --estimator pls")
    if pls_scheme not in ("path", "factorial", "centroid"):
        _fail(f"--pls-scheme must be path, factorial or centroid, not {pls_scheme!r}")
    scale_given = scale_min is not None and scale_max is not None
    if reverse_items:
        # The scale `report` assumes, so both commands reverse-key the same way.
        scale_min = DEFAULT_SCALE[0] if scale_min is None else scale_min
        scale_max = DEFAULT_SCALE[1] if scale_max is None else scale_max
    if bootstrap < 0:
        _fail("--bootstrap must be 0 or more")
    model_text = _read_model(model)
    try:
        frame = read_table(data)
        if reverse_items and not scale_given:
            warning = scale_warning(frame, reverse_items, (scale_min, scale_max))
            if warning:
                typer.echo(warning, err=True)
        # The engine's warnings (Heywood cases) are part of the report; not Python noise.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = run_analysis(
                frame,
                model=model_text,
                reverse=reverse_items,
                scale_min=scale_min,
                scale_max=scale_max,
                missing=missing,
                bootstrap=bootstrap,
                seed=seed,
                group=group,
                nps=nps,
                ordered=ordered_items,
                estimator=estimator,
                pls_scheme=pls_scheme,
                pls_scaled=not pls_unscaled,
                consistent=consistent,
            )
    except ValueError as error:
        _fail(str(error))
    if json_out is None:
        if isinstance(result, PlsAnalysis):
            # Imported here: the PLS report builds on this module's table helpers.
            from loyaltylab.cli_analyze_pls import render_pls

            typer.echo(render_pls(result))
        else:
            typer.echo(render(result))
        return
    document = json.dumps(result.to_dict(), indent=2, ensure_ascii=False, allow_nan=False)
    try:
        json_out.write_text(document + "\n", encoding="utf-8")
    except OSError as error:
        _fail(f"cannot write {json_out}: {error.strerror or error}")
    typer.echo(f"wrote {json_out}")
