"""``loyaltylab analyze``: the full loyalty analysis of a data file from the command line.

Registered on the main app in :mod:`loyaltylab.cli` as ``app.command("analyze")(analyze)``.
Bad input (unreadable file, unknown or non-numeric columns, a model that is not identified or
does not converge) ends with exit code 2 and one line on stderr.

pandas and the statistics are imported when a command runs, not when the module is: ``loyaltylab
--help`` and ``loyaltylab analyze --help`` answer at once.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import typer

if TYPE_CHECKING:
    import pandas as pd

    from analysis.pipeline import AnalysisResult
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


def _missing_codes(values: Sequence[str] | None) -> list[float]:
    """``--missing-codes 9,99`` (or repeated): numbers, else exit 2 naming the bad one."""
    codes = []
    for text in _split_items(values):
        try:
            codes.append(float(text))
        except ValueError:
            _fail(f"--missing-codes takes numbers such as 9,99, not {text!r}")
    return codes


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
    import pandas as pd

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


def _index_suffix(test: str) -> str:
    """Which indices a fit line reports: normal-theory ones for the standard test, the
    ``.scaled`` ones of the scaled-shifted (WLSMV) test, and the ``.robust`` ones (lavaan's,
    Brosseau-Liard & Savalei) of the mean-scaled MLR/MLM tests."""
    return {"standard": "", "scaled.shifted": "_scaled"}.get(test, "_robust")


def _fit_line(label: str, fit: dict, *, test: str = "standard") -> str:
    """Chi-square and fit indices; with a robust test the scaled chi-square (its scaling
    factor, and shift for WLSMV) and the indices of :func:`_index_suffix`, as reviewers expect
    them reported."""
    chisq = (
        f"chi2({_number(fit.get('df'), 0)}) = {_number(fit.get('chisq'), 2)}, "
        f"p {_pvalue(fit.get('pvalue', math.nan))}"
    )
    if test != "standard":
        correction = f"scaling {_number(fit.get('chisq_scaling_factor'))}"
        if "chisq_shift_parameters" in fit:
            correction += f", shift {_number(fit.get('chisq_shift_parameters'), 2)}"
        chisq = (
            f"scaled chi2({_number(fit.get('df'), 0)}) = {_number(fit.get('chisq_scaled'), 2)} "
            f"({correction}), p {_pvalue(fit.get('pvalue_scaled', math.nan))}"
        )
    suffix = _index_suffix(test)
    return (
        f"{label}: {chisq}, CFI = {_number(fit.get('cfi' + suffix))}, "
        f"TLI = {_number(fit.get('tli' + suffix))}, RMSEA = {_number(fit.get('rmsea' + suffix))} "
        f"[{_number(fit.get('rmsea_ci_lower' + suffix))}, "
        f"{_number(fit.get('rmsea_ci_upper' + suffix))}], SRMR = {_number(fit.get('srmr'))}"
    )


def _estimation_line(result: AnalysisResult) -> str:
    options = result.model.options
    estimator = options.estimator
    if result.ordered:
        count = len(result.ordered)
        estimator += f", {count} ordered item{'s' if count != 1 else ''}"
    line = f"Model fit ({estimator}; standard errors: {options.se}"
    if options.test != "standard":
        indices = "scaled" if _index_suffix(options.test) == "_scaled" else "robust"
        line += f"; test: {options.test}, {indices} CFI/TLI/RMSEA"
    return line + ")"


def render(result: AnalysisResult) -> str:
    """The readable report printed without ``--json``."""
    import pandas as pd

    test = result.model.test
    parts = [
        f"Rows read: {result.n_rows}   used: {result.n_used}   missing data: {result.missing}",
        *(f"  dropped {line}" for line in _drop_lines(result)),
        *(f"  recoded {line}" for line in _recoded_lines(result)),
        "",
        _estimation_line(result),
        "  " + _fit_line("measurement model", result.measurement_model.fit, test=test),
        "  " + _fit_line("structural model ", result.model.fit, test=test),
        "",
    ]
    for model, warning in _warnings_by_model(result):
        parts.append(f"warning ({model} model): {warning}")
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
        parts.append(_table("HTMT2 (geometric means; flag at >= .85)", result.htmt2))
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
    if result.modindices is None:
        parts.append("Modification indices: not computed for WLSMV fits\n")
    elif not result.modindices.empty:
        parts.append(
            _table(
                "Modification indices (largest 10 of mi >= 3.84)",
                result.modindices.head(10),
            )
        )
    if result.common_method is not None:
        parts.append(_harman_text(result.common_method, test=test))
    if result.mardia is not None:
        m = result.mardia
        parts.append(
            f"Mardia's multivariate normality ({m['n']} complete rows, {m['n_vars']} items): "
            f"skewness b1p = {_number(m['b1p'])} (chi2 = {_number(m['skew'], 1)}, "
            f"p {_pvalue(m['p_skew'])}), kurtosis b2p = {_number(m['b2p'])} "
            f"(z = {_number(m['kurtosis'], 2)}, p {_pvalue(m['p_kurtosis'])})\n"
        )
    parts.extend(score_tables(result))
    parts.extend(importance_performance_table(result))
    parts.extend(group_tables(result))
    for tested in result.invariance.values():
        parts.append(_invariance_text(tested))
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


def _warnings_by_model(result: AnalysisResult) -> list[tuple[str, str]]:
    pairs = [("measurement", message) for message in result.measurement_model.warnings]
    if result.model is not result.measurement_model:
        pairs += [("structural", message) for message in result.model.warnings]
    return pairs


def _harman_text(harman, *, test: str) -> str:
    single, measurement = harman.single_factor, harman.measurement
    chisq = "chisq" if test == "standard" else "chisq_scaled"
    label = "chi2" if test == "standard" else "scaled chi2"
    cfi, rmsea = "cfi" + _index_suffix(test), "rmsea" + _index_suffix(test)

    def fit(values: dict) -> str:
        return (
            f"{label}({_number(values['df'], 0)}) = {_number(values[chisq], 2)}, "
            f"CFI = {_number(values[cfi])}, RMSEA = {_number(values[rmsea])}"
        )

    difference = (
        "not computed (see the note)"
        if math.isnan(harman.delta_chisq)
        else f"chi2({_number(harman.delta_df, 0)}) = {_number(harman.delta_chisq, 2)}, "
        f"p {_pvalue(harman.delta_pvalue)}"
    )
    lines = [
        "Common-method bias (Harman's single-factor test)",
        f"  one factor:        {fit(single)}",
        f"  measurement model: {fit(measurement)}",
        f"  difference: {difference}; first factor: {harman.first_factor_share:.1%} of the "
        "variance",
        f"  note: {harman.note}",
        "",
    ]
    return "\n".join(lines)


def _invariance_text(tested) -> str:
    title = f"Measurement invariance across {tested.column} ({tested.estimator}, {tested.missing}"
    if tested.partial:
        title += f"; free across groups: {', '.join(tested.partial)}"
    title += ")"
    sizes = ", ".join(f"{name} {n}" for name, n in tested.sizes.items())
    if tested.table is None:
        reason = {
            "one_group": "only one group",
            "too_few_answers": f"group {tested.group} has fewer than {tested.needed} answers",
            "not_estimable": f"the models cannot be estimated: {tested.detail}",
        }[tested.problem]
        return f"{title}\n  groups: {sizes}\n  not tested: {reason}\n"
    columns = ["level", "chisq", "df", "cfi", "rmsea", "delta_chisq", "delta_df", "delta_pvalue",
               "delta_cfi", "holds"]  # fmt: skip
    robust = tested.table["chisq_scaled"].notna().any()
    if robust:
        columns = ["level", "chisq_scaled", "df", "cfi_robust", "rmsea_robust", *columns[5:]]
    return _table(f"{title}\n  groups: {sizes}", tested.table[columns], {"delta_pvalue": _pvalue})


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
    import pandas as pd

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


def _estimator_name(estimator: str | None, *, ordered: bool, choices: Sequence[str]) -> str | None:
    """``--estimator`` in the library's spelling (case-insensitive), or exit 2 for an unknown
    name or one that contradicts ``--ordered``; None leaves the choice to the library (ML, or
    WLSMV with ordered items)."""
    if estimator is None:
        return None
    names = {name.lower(): name for name in (*choices, "pls")}
    if estimator.lower() not in names:
        _fail(f"--estimator must be one of {', '.join(names.values())}, not {estimator!r}")
    name = names[estimator.lower()]
    if name == "WLSMV" and not ordered:
        _fail("--estimator WLSMV needs --ordered (the ordered items: 'all' or their names)")
    if ordered and name not in ("WLSMV", "pls"):
        _fail(f"--ordered items are fitted by WLSMV, not {name}: leave out --estimator")
    return name


def _recoded_lines(result: AnalysisResult | PlsAnalysis) -> list[str]:
    """One line per item and missing-value code recoded as a missing answer."""
    return [
        f"{row.n} answer{'s' if row.n != 1 else ''} {row.code:g} of {row.item} as missing"
        for row in result.recoded.itertuples()
    ]


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
    estimator: str | None = typer.Option(
        None,
        "--estimator",
        help="ML (the default; WLSMV with --ordered), MLR (robust SEs and scaled chi-square; "
        "with --missing fiml too), MLM (Satorra-Bentler; complete data), WLSMV (ordered items; "
        "needs --ordered) or pls (PLS path modelling).",
    ),
    missing_codes: list[str] | None = typer.Option(
        None,
        "--missing-codes",
        help="Answer codes meaning no answer, e.g. 9,99 for don't know / refused.",
    ),
    invariance: list[str] | None = typer.Option(
        None,
        "--invariance",
        help="Column (wave, segment) to test configural/metric/scalar invariance across; repeat "
        "for several.",
    ),
    free: list[str] | None = typer.Option(
        None,
        "--free",
        help="Parameter left free across groups in the invariance tests (partial invariance), "
        "e.g. 'loy2~1' or 'SAT=~sat2'; repeat or separate with commas.",
    ),
    decimal: str | None = typer.Option(
        None, "--decimal", help="Decimal mark of a CSV file, . or , (detected if not given)."
    ),
    encoding: str | None = typer.Option(
        None,
        "--encoding",
        help="Text encoding of a CSV file, e.g. utf-8, gb18030, cp1252, big5 (detected if not "
        "given).",
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
    import warnings

    from analysis.io import read_table
    from analysis.pipeline import AnalysisResult
    from analysis.pipeline import analyze as run_analysis
    from analysis.sem.options import ESTIMATORS

    reverse_items = _split_items(reverse)
    ordered_items: list[str] | bool = _split_items(ordered)
    if "all" in ordered_items:
        if len(ordered_items) > 1:
            _fail("--ordered takes 'all' or item names, not both")
        ordered_items = True
    if missing not in ("listwise", "fiml"):
        _fail(f"--missing must be listwise or fiml, not {missing!r}")
    estimator = _estimator_name(estimator, ordered=bool(ordered_items), choices=ESTIMATORS)
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
    codes = _missing_codes(missing_codes)
    if free and not invariance:
        _fail("--free needs --invariance (it frees parameters across the groups compared)")
    model_text = _read_model(model)
    try:
        frame = read_table(data, decimal=decimal, encoding=encoding)
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
                invariance=_split_items(invariance),
                partial=_split_items(free),
                missing_codes=codes,
                ordered=ordered_items,
                estimator=estimator,
                pls_scheme=pls_scheme,
                pls_scaled=not pls_unscaled,
                consistent=consistent,
            )
    except ValueError as error:
        _fail(str(error))
    if json_out is None:
        if isinstance(result, AnalysisResult):
            typer.echo(render(result))
        else:
            # Imported here: the PLS report builds on this module's table helpers.
            from loyaltylab.cli_analyze_pls import render_pls

            typer.echo(render_pls(result))
        return
    document = json.dumps(result.to_dict(), indent=2, ensure_ascii=False, allow_nan=False)
    try:
        json_out.write_text(document + "\n", encoding="utf-8")
    except OSError as error:
        _fail(f"cannot write {json_out}: {error.strerror or error}")
    typer.echo(f"wrote {json_out}")
