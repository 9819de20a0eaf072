"""``loyaltylab report``: a research report (PDF, Word, Excel and/or HTML) from a data file.

Registered on the main app in :mod:`loyaltylab.cli` as ``app.command("report")(report)``. Takes
the options of ``loyaltylab analyze``; one analysis feeds every format asked for
(``--format pdf,docx,xlsx``), and ``--bundle`` writes the reproducibility bundle the methods
appendix mentions. Bad input ends with exit code 2 and one line on stderr.
"""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

import typer

from loyaltylab.cli_analyze import DEFAULT_SCALE, _fail, _read_model, _split_items
from reports.i18n import LANGUAGES
from reports.render import FORMATS


def _progress(fraction: float, message: str) -> None:
    if sys.stderr.isatty():
        sys.stderr.write(f"\r{fraction:4.0%} {message[:60]:<60}")
        sys.stderr.flush()


def report(
    data: Path = typer.Argument(..., help="Responses: .csv (UTF-8), .xlsx or .sav."),
    model: Path = typer.Option(..., "--model", help="lavaan model syntax file (.lavaan)."),
    fmt: str = typer.Option(
        "pdf", "--format", help="pdf, docx, xlsx or html; several separated by commas."
    ),
    lang: str = typer.Option("en", "--lang", help="Report language: en or zh."),
    output: Path = typer.Option(
        ...,
        "-o",
        "--output",
        help="File to write; with several formats, its name with each format's extension.",
    ),
    bundle: Path | None = typer.Option(
        None, "--bundle", help="Also write the reproducibility bundle (.zip) to this file."
    ),
    reverse: list[str] | None = typer.Option(
        None, "--reverse", help="Reverse-worded item (repeat, or separate with commas)."
    ),
    scale_min: float = typer.Option(DEFAULT_SCALE[0], "--scale-min", help="Lowest answer code."),
    scale_max: float = typer.Option(DEFAULT_SCALE[1], "--scale-max", help="Highest answer code."),
    missing: str = typer.Option("listwise", "--missing", help="listwise or fiml."),
    bootstrap: int = typer.Option(0, "--bootstrap", help="Bootstrap resamples (0: none)."),
    estimator: str = typer.Option(
        "ML", "--estimator", help="ML, MLR, MLM, WLSMV (every item as ordered) or pls (PLS-SEM)."
    ),
    seed: int | None = typer.Option(None, "--seed", help="Seed of the bootstrap."),
    group: str | None = typer.Option(None, "--group", help="Column to compare groups by."),
    nps: str | None = typer.Option(None, "--nps", help="0-10 likelihood-to-recommend column."),
    wave: str | None = typer.Option(None, "--wave", help="Column of survey waves (trends)."),
    title: str = typer.Option("", "--title", help="Study name on the title page."),
    client: str = typer.Option("", "--client", help="Client on the title page."),
    encoding: str | None = typer.Option(
        None,
        "--encoding",
        help="Text encoding of a CSV file, e.g. utf-8, gb18030, cp1252, big5 (detected if not "
        "given).",
    ),
) -> None:
    """Write a research report on a survey data file, in one or more formats."""
    # Imported here: matplotlib and WeasyPrint are not needed by the other commands.
    from analysis.io import read_table, value_labels
    from reports.build import ReportRequest
    from reports.exports import reproducibility_bundle
    from reports.fonts import FontMissingError
    from reports.render import render
    from reports.run import make_report

    formats = list(dict.fromkeys(part.strip().lower() for part in fmt.split(",") if part.strip()))
    unknown = [name for name in formats if name not in FORMATS]
    if not formats or unknown:
        _fail(f"--format must be one or more of {', '.join(FORMATS)}, not {fmt!r}")
    if lang not in LANGUAGES:
        _fail(f"--lang must be one of {', '.join(LANGUAGES)}, not {lang!r}")
    if missing not in ("listwise", "fiml"):
        _fail(f"--missing must be listwise or fiml, not {missing!r}")
    if bootstrap < 0:
        _fail("--bootstrap must be 0 or more")
    from analysis.sem.options import ESTIMATORS

    names = {name.lower(): name for name in (*ESTIMATORS, "pls")}
    if estimator.lower() not in names:
        _fail(f"--estimator must be one of {', '.join(names.values())}, not {estimator!r}")
    targets = _targets(output, formats)
    for path in [*targets.values(), *([bundle] if bundle else [])]:
        if not path.parent.is_dir():
            _fail(f"folder {path.parent} does not exist")
    request = ReportRequest(
        model=_read_model(model),
        language=lang,
        reverse=tuple(_split_items(reverse)),
        scale_min=scale_min,
        scale_max=scale_max,
        missing=missing,
        bootstrap=bootstrap,
        estimator=names[estimator.lower()],
        seed=seed if seed is not None else ReportRequest.seed,
        group=group,
        nps=nps,
        wave=wave,
        study=title,
        client=client,
    )
    try:
        frame = read_table(data, encoding=encoding)
        if wave is not None and wave not in frame.columns:
            _fail(f"--wave column {wave!r} is not in {data.name}")
        # Groups of an SPSS file are named by its value labels, not their codes.
        request = replace(request, value_labels=value_labels(data))
        first, *others = formats
        made = make_report(frame, request, first, progress=_progress)
        files = {targets[first]: made.content}
        files |= {targets[name]: render(made.document, name) for name in others}
        if bundle is not None:
            files[bundle] = reproducibility_bundle(frame, request, made.result)
    except (ValueError, FontMissingError) as error:
        _fail(str(error))
    if sys.stderr.isatty():
        sys.stderr.write("\n")
    for path, content in files.items():
        try:
            path.write_bytes(content)
        except OSError as error:
            _fail(f"cannot write {path}: {error.strerror or error}")
        typer.echo(f"wrote {path}")


def _targets(output: Path, formats: list[str]) -> dict[str, Path]:
    """Format -> file: ``output`` itself for one format, else ``output`` with each format's
    extension (``report.pdf`` -> ``report.pdf``, ``report.docx``...)."""
    if len(formats) == 1:
        return {formats[0]: output}
    return {name: output.with_suffix(f".{name}") for name in formats}
