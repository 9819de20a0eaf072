"""Reading survey data files (CSV, Excel, SPSS) defensively."""

from __future__ import annotations

import csv
import io
import os
import re
import zipfile
from collections import Counter
from pathlib import Path

import pandas as pd

from analysis.files import FileRejected, check_xlsx, decode_text, sniff_delimiter

__all__ = ["MAX_BYTES", "MAX_COLUMNS", "MAX_ROWS", "DataFileError", "read_table", "value_labels"]

MAX_BYTES = 100 * 1024 * 1024
MAX_ROWS = 1_000_000
MAX_COLUMNS = 5_000
# An XLSX is a zip; its unpacked size is bounded so a small "zip bomb" cannot exhaust memory.
_MAX_UNPACKED_RATIO = 100
_FORMATS = {".csv": "csv", ".txt": "csv", ".xlsx": "xlsx", ".sav": "sav", ".zsav": "sav"}
NOT_APPLICABLE = ["na"]
"""Read as missing besides pandas' defaults ("NA", "N/A", ""): LoyaltyLab's exports write a
"not applicable" answer as ``na``."""


class DataFileError(ValueError):
    """A data file cannot be read: wrong type, too large, malformed or empty."""


# Fields like 4,5 in a semicolon- or tab-separated file: decimal commas (European spreadsheets).
_DECIMAL_COMMA_FIELD = re.compile(r"[+-]?\d+,\d+")


def _sniff_decimal(lines: list[str], delimiter: str) -> str:
    """``","`` when the data lines of a file not separated by commas hold decimal commas."""
    if delimiter == ",":
        return "."
    for row in csv.reader(lines, delimiter=delimiter):
        if any(_DECIMAL_COMMA_FIELD.fullmatch(field.strip()) for field in row):
            return ","
    return "."


def _read_csv(
    path: Path, decimal: str | None, encoding: str | None
) -> tuple[pd.DataFrame, list[str]]:
    try:
        decoded = decode_text(path.read_bytes(), encoding=encoding)
    except FileRejected as refused:
        raise DataFileError(_refusal(path, refused)) from None
    if not decoded.certain:
        likely = ", ".join((decoded.encoding, *decoded.alternatives))
        raise DataFileError(
            f"{path.name}: its text encoding is not certain (it reads as {likely}); "
            "say which with --encoding, or save it as CSV UTF-8"
        )
    text = decoded.text
    if not text.strip():
        raise DataFileError(f"{path.name} is empty")
    header_line = text.splitlines()[0]
    delimiter = sniff_delimiter(header_line)
    header = next(csv.reader([header_line], delimiter=delimiter))
    if decimal is None:
        decimal = _sniff_decimal(text.splitlines()[1:200], delimiter)
    elif decimal == delimiter:
        raise DataFileError(
            f"{path.name} separates its fields with {delimiter!r}, so {decimal!r} cannot also be "
            "its decimal mark"
        )
    try:
        frame = pd.read_csv(
            io.StringIO(text),
            sep=delimiter,
            decimal=decimal,
            nrows=MAX_ROWS + 1,
            low_memory=False,
            na_values=NOT_APPLICABLE,
        )
    except pd.errors.EmptyDataError:
        raise DataFileError(f"{path.name} has no header row") from None
    except (pd.errors.ParserError, csv.Error) as error:
        raise DataFileError(f"{path.name} is not a well-formed CSV file: {error}") from None
    return frame, header


def _refusal(path: Path, refused: FileRejected) -> str:
    """A refusal of :mod:`analysis.files` as this module's messages word it."""
    encoding = refused.params.get("encoding")
    messages = {
        "not_text": f"{path.name} is not a text (CSV) file",
        "wrong_encoding": f"{path.name} is not text in the encoding {encoding}",
        "unknown_encoding": f"unknown text encoding {encoding!r}",
        "not_xlsx": f"{path.name} is not an Excel .xlsx workbook",
        "damaged": f"{path.name} is not an Excel .xlsx workbook",
        "unpacks_too_large": f"{path.name} unpacks to more than the allowed size",
    }
    return messages.get(refused.reason, f"{path.name} cannot be read ({refused.reason})")


def _read_xlsx(path: Path) -> tuple[pd.DataFrame, list[str]]:
    max_unpacked = min(_MAX_UNPACKED_RATIO * max(path.stat().st_size, 1), 4 * MAX_BYTES)
    try:
        check_xlsx(path, max_unpacked=max_unpacked)
    except FileRejected as refused:
        raise DataFileError(_refusal(path, refused)) from None
    try:
        header = pd.read_excel(path, sheet_name=0, engine="openpyxl", header=None, nrows=1)
        frame = pd.read_excel(
            path, sheet_name=0, engine="openpyxl", nrows=MAX_ROWS + 1, na_values=NOT_APPLICABLE
        )
    except (ValueError, KeyError, OSError, zipfile.BadZipFile) as error:
        raise DataFileError(f"{path.name} cannot be read as an Excel workbook: {error}") from None
    return frame, ["" if pd.isna(v) else str(v) for v in header.iloc[0]] if len(header) else []


def _read_sav(path: Path) -> tuple[pd.DataFrame, list[str]]:
    import pyreadstat

    try:
        frame, _ = pyreadstat.read_sav(str(path), row_limit=MAX_ROWS + 1)
    except pyreadstat.ReadstatError as error:
        raise DataFileError(f"{path.name} cannot be read as an SPSS file: {error}") from None
    return frame, list(frame.columns)


def read_table(
    path: str | os.PathLike[str], *, decimal: str | None = None, encoding: str | None = None
) -> pd.DataFrame:
    """Read a respondents-by-variables table from CSV, Excel (.xlsx) or SPSS (.sav).

    CSV is UTF-8 (a byte-order mark, as Excel writes, is fine) or, detected, GB18030,
    Windows-1252 or Big5 (an unclear case is refused: pass ``encoding``); the delimiter (comma,
    semicolon or tab) is detected from the header line, and a semicolon- or tab-separated file
    whose numbers are written ``4,5`` is read with decimal commas (as European spreadsheets
    save CSV). Excel: the first sheet, header in the first row. In both, ``na`` (LoyaltyLab's
    "not applicable") is a missing value. SPSS: numeric codes, not value labels (the codes are
    what is analysed); user-missing values (e.g. LoyaltyLab's 99, "not applicable") are missing.

    Parameters
    ----------
    path : str or path-like
        The file; its extension (``.csv``, ``.txt``, ``.xlsx``, ``.sav``, ``.zsav``) decides how
        it is read.
    decimal : {".", ","}, optional
        Decimal mark of a CSV file; detected when not given.
    encoding : str, optional
        Text encoding of a CSV file (``utf-8``, ``gb18030``, ``cp1252``, ``big5``, ...);
        detected when not given (see :func:`analysis.files.decode_text`).

    Returns
    -------
    pandas.DataFrame

    Raises
    ------
    DataFileError
        (a ``ValueError``) if the file is missing, larger than ``MAX_BYTES``, of another type,
        malformed, without rows, with more than ``MAX_ROWS`` rows or ``MAX_COLUMNS`` columns,
        with duplicate or blank column names, or whose delimiter is the decimal mark asked
        for. The message names the file and the problem.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     csv_path = Path(folder) / "wave1.csv"
    ...     _ = csv_path.write_text("sat1;sat2\\n5;6\\n7;4\\n", encoding="utf-8")
    ...     read_table(csv_path).shape
    (2, 2)
    """
    path = Path(path)
    kind = _FORMATS.get(path.suffix.lower())
    if kind is None:
        raise DataFileError(
            f"{path.name}: unsupported file type {path.suffix or '(none)'!r}; "
            "use .csv, .xlsx or .sav"
        )
    if not path.is_file():
        raise DataFileError(f"{path} does not exist or is not a file")
    size = path.stat().st_size
    if size == 0:
        raise DataFileError(f"{path.name} is empty")
    if size > MAX_BYTES:
        raise DataFileError(f"{path.name} is larger than {MAX_BYTES // (1024 * 1024)} MB")
    if decimal not in (None, ".", ","):
        raise DataFileError(f"the decimal mark must be '.' or ',', not {decimal!r}")
    if kind == "csv":
        frame, header = _read_csv(path, decimal, encoding)
    else:
        frame, header = {"xlsx": _read_xlsx, "sav": _read_sav}[kind](path)
    name = path.name
    if frame.shape[1] > MAX_COLUMNS:
        raise DataFileError(f"{name} has more than {MAX_COLUMNS} columns")
    if len(frame) > MAX_ROWS:
        raise DataFileError(f"{name} has more than {MAX_ROWS} rows")
    header = [str(column).strip() for column in header]
    if not header or len(header) != frame.shape[1]:
        raise DataFileError(f"{name}: the header row does not match the data")
    if "" in header:
        raise DataFileError(f"{name}: column {header.index('') + 1} has no name in the header row")
    repeated = sorted(column for column, count in Counter(header).items() if count > 1)
    if repeated:
        raise DataFileError(f"{name}: column name(s) used more than once: {', '.join(repeated)}")
    if frame.empty:
        raise DataFileError(f"{name} has a header but no data rows")
    frame.columns = header
    return frame


def value_labels(path: str | os.PathLike[str]) -> dict[str, dict[float, str]]:
    """The value labels an SPSS file gives its coded columns (column -> code -> label); none for
    other files. Read with :func:`read_table` first, which checks the file.

    Examples
    --------
    >>> value_labels("answers.csv")
    {}
    """
    path = Path(path)
    if _FORMATS.get(path.suffix.lower()) != "sav":
        return {}
    import pyreadstat

    try:
        _, meta = pyreadstat.read_sav(str(path), metadataonly=True)
    except pyreadstat.ReadstatError as error:
        raise DataFileError(f"{path.name} cannot be read as an SPSS file: {error}") from None
    return {column: dict(labels) for column, labels in meta.variable_value_labels.items()}
