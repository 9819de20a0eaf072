"""Analysis-ready data exports: CSV, XLSX, SPSS .sav, a codebook and a reproducibility bundle.

Variable labels are the item wording and value labels the scale anchors, both from the
questionnaire definition (:mod:`surveys.definition`) in the requested language.
"""

from __future__ import annotations

import io
import json
import os
import zipfile
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
from openpyxl import Workbook

from languages import text_in
from reports.build import ReportRequest
from reports.sections.methods import software_versions
from reports.workbook import set_text

# Excel and LibreOffice run a cell starting with one of these as a formula (OWASP CSV injection).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
_BUNDLE_DATE = (2000, 1, 1, 0, 0, 0)


def neutralise(value: object) -> object:
    """A text cell Excel would evaluate gets a leading apostrophe; other values pass unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def _text(texts: Mapping[str, str] | None, language: str) -> str:
    # A label in another language beats none in a data file's codebook.
    return text_in(texts, language, fallbacks=("en", "zh_CN"))


def labels_from_definition(
    definition: Any, language: str
) -> tuple[dict[str, str], dict[str, dict[float, str]], dict[str, dict[str, Any]]]:
    """Variable labels, value labels and codebook facts (construct, reverse, type) per code."""
    from surveys.definition import CHOICE_TYPES, LikertItem, MatrixItem, NpsItem

    variable_labels: dict[str, str] = {}
    value_labels: dict[str, dict[float, str]] = {}
    facts: dict[str, dict[str, Any]] = {}
    if definition is None:
        return variable_labels, value_labels, facts
    for variable in definition.variables():
        item = variable.item
        variable_labels[variable.code] = _text(variable.label, language)
        facts[variable.code] = {
            "type": item.type,
            "construct": variable.construct or "",
            "reverse": variable.reverse,
        }
        values: dict[float, str] = {}
        if isinstance(item, LikertItem | MatrixItem):
            for point in range(1, item.scale.points + 1):
                anchor = item.scale.anchor_for(point)
                if anchor and (text := _text(anchor, language)):
                    values[float(point)] = text
            if item.scale.not_applicable:
                values[NOT_APPLICABLE_CODE] = _text(item.scale.not_applicable, language)
        elif isinstance(item, NpsItem):
            values = {0.0: _text(item.low_label, language), 10.0: _text(item.high_label, language)}
        elif isinstance(item, CHOICE_TYPES):
            for option in item.options:
                try:
                    values[float(option.value)] = _text(option.label, language)
                except ValueError:
                    continue  # text codes carry their meaning themselves
        if values:
            value_labels[variable.code] = values
    return variable_labels, value_labels, facts


def codebook(data: pd.DataFrame, *, definition: Any = None, language: str = "en") -> pd.DataFrame:
    """One row per column: name, label, type, construct, reverse, value labels, valid, missing."""
    variable_labels, value_labels, facts = labels_from_definition(definition, language)
    rows = []
    for column in data.columns:
        fact = facts.get(column, {})
        series = data[column]
        rows.append(
            {
                "variable": column,
                "label": variable_labels.get(column, ""),
                "item_type": fact.get("type", ""),
                "storage": "numeric" if pd.api.types.is_numeric_dtype(series) else "text",
                "construct": fact.get("construct", ""),
                "reverse": bool(fact.get("reverse", False)),
                "value_labels": "; ".join(
                    f"{value:g} = {label}" for value, label in value_labels.get(column, {}).items()
                ),
                "n_valid": int(series.notna().sum()),
                "n_missing": int(series.isna().sum()),
            }
        )
    return pd.DataFrame(rows)


def csv_bytes(frame: pd.DataFrame) -> bytes:
    """UTF-8 with a byte-order mark (Excel detects the encoding), formula cells neutralised,
    whole numbers written as such (a column of whole numbers with gaps is stored as floats:
    "12", not "12.0")."""
    safe = frame.copy()
    for column in safe.columns:
        if pd.api.types.is_float_dtype(safe[column]) and _whole(safe[column]):
            safe[column] = safe[column].astype("Int64")
        elif not pd.api.types.is_numeric_dtype(safe[column]):
            safe[column] = safe[column].map(neutralise)
    safe.columns = [neutralise(str(column)) for column in safe.columns]
    return safe.to_csv(index=False, lineterminator="\r\n").encode("utf-8-sig")


def _whole(series: pd.Series) -> bool:
    """Every value is a whole number that a 64-bit integer holds exactly."""
    values = series.dropna()
    return bool(values.mod(1).eq(0).all() and values.abs().lt(2**53).all())


def write_csv(frame: pd.DataFrame, path: str | os.PathLike[str]) -> None:
    Path(path).write_bytes(csv_bytes(frame))


def xlsx_bytes(data: pd.DataFrame, *, definition: Any = None, language: str = "en") -> bytes:
    """A workbook with the data (text stored as literal text, never formulas) and a codebook."""
    workbook = Workbook()
    for sheet, frame in (
        (workbook.active, data),
        (workbook.create_sheet(), codebook(data, definition=definition, language=language)),
    ):
        sheet.title = "data" if frame is data else "codebook"
        for column_index, column in enumerate(frame.columns, start=1):
            set_text(sheet.cell(1, column_index), str(column))
            for row_index, value in enumerate(frame[column].tolist(), start=2):
                if value is None or (isinstance(value, float) and value != value):
                    continue
                cell = sheet.cell(row_index, column_index)
                if isinstance(value, str):
                    set_text(cell, value)
                else:
                    cell.value = value.item() if hasattr(value, "item") else value
        sheet.freeze_panes = "A2"
    workbook.properties.creator = "LoyaltyLab"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


_SCALE_TYPES = ("nps", "numeric")
_ORDINAL_TYPES = ("likert", "matrix")
NOT_APPLICABLE = "na"  # surveys.definition.NOT_APPLICABLE: the stored answer "not applicable"
_ISO_MOMENT = "%Y-%m-%dT%H:%M:%SZ"
_YES_NO = {"en": ("No", "Yes"), "zh": ("否", "是")}
NOT_APPLICABLE_CODE = 99.0
"""The code of a rating scale's "not applicable" answer in .sav files (a user-missing value)."""


@dataclass
class _SpssVariable:
    """One column as SPSS stores it: values, value labels, measurement level and format."""

    values: pd.Series
    labels: dict[float, str] = field(default_factory=dict)
    measure: str = "nominal"
    format: str | None = None
    not_applicable: bool = False
    """Holds the user-missing "not applicable" code."""


def _is_text(series: pd.Series) -> bool:
    return pd.api.types.is_object_dtype(series) or pd.api.types.is_string_dtype(series)


def _moments(series: pd.Series) -> pd.Series | None:
    """The column as naive UTC datetimes when it holds dates (or ISO 8601 UTC text), else None."""
    if pd.api.types.is_datetime64_any_dtype(series):
        moments = series
    elif _is_text(series) and series.notna().any():
        moments = pd.to_datetime(
            series.astype("string"), format=_ISO_MOMENT, errors="coerce", utc=True
        )
        if moments.notna().sum() != series.notna().sum():
            return None
    else:
        return None
    if getattr(moments.dt, "tz", None) is not None:
        moments = moments.dt.tz_convert("UTC").dt.tz_localize(None)
    return moments


def _categories(series: pd.Series, options: dict[str, str]) -> _SpssVariable:
    """Text codes as numbers 1..k (in the questionnaire's option order, else sorted) with the
    options' labels (else the codes themselves) as value labels."""
    present = [value for value in series.dropna().astype(str).unique() if value not in options]
    codes = [*options, *sorted(present)]
    numbers = {code: float(number) for number, code in enumerate(codes, start=1)}
    labels = {numbers[code]: options.get(code) or code for code in codes}
    return _SpssVariable(
        series.map(lambda value: numbers.get(str(value)) if pd.notna(value) else None).astype(
            "float64"
        ),
        labels,
        "nominal",
        f"F{len(str(len(codes)))}.0",
    )


def _spss_variable(
    series: pd.Series,
    *,
    item_type: str,
    labels: dict[float, str],
    options: dict[str, str],
    category: bool,
    language: str,
) -> _SpssVariable:
    """How one export column goes into the .sav file."""
    moments = _moments(series)
    if moments is not None:
        return _SpssVariable(moments, measure="scale", format="DATETIME20")
    not_applicable = NOT_APPLICABLE_CODE in labels
    if _is_text(series):
        if item_type in _ORDINAL_TYPES and series.eq(NOT_APPLICABLE).any():
            # "Not applicable" is a user-missing code with its label, as SPSS users record it.
            series = series.replace(NOT_APPLICABLE, str(NOT_APPLICABLE_CODE))
            not_applicable = True
        numbers = pd.to_numeric(series, errors="coerce")
        if numbers.notna().sum() == series.notna().sum():
            series = numbers
    if pd.api.types.is_bool_dtype(series):
        no, yes = _YES_NO.get(language, _YES_NO["en"])
        return _SpssVariable(series.astype("float64"), {0.0: no, 1.0: yes}, "nominal", "F1.0")
    if pd.api.types.is_numeric_dtype(series):
        values = series.astype("float64")
        whole = values.dropna().mod(1).eq(0).all()
        width = len(str(int(values.abs().max()))) if values.notna().any() else 1
        fmt = f"F{width + (values.lt(0).any())}.0" if whole else None
        if item_type in _ORDINAL_TYPES:
            measure = "ordinal"
        elif item_type in _SCALE_TYPES or (not item_type and not series.name.endswith("_id")):
            measure = "scale"
        else:
            measure = "nominal"
        return _SpssVariable(values, labels, measure, fmt, not_applicable)
    text = series.astype("string")
    if options or category:
        return _categories(text, options)
    return _SpssVariable(text.fillna("").astype(object))


def write_sav(
    data: pd.DataFrame,
    path: str | os.PathLike[str],
    *,
    definition: Any = None,
    language: str = "en",
    categories: Collection[str] = (),
) -> None:
    """SPSS .sav as SPSS users expect it.

    Variable labels are the item wording; scale items carry their anchors as value labels
    (NPS: 0 and 10, "not applicable": user-missing 99) and the ordinal level, NPS and numeric
    items the scale level. Text codes of choice questions and the text columns named in
    ``categories`` (contact attributes such as region, the wave, the channel) become numbers
    1..k labelled with the option labels or the texts themselves; dates become SPSS dates;
    free text and multiple choices stay strings.
    """
    import pyreadstat

    variable_labels, value_labels, facts = labels_from_definition(definition, language)
    options = _option_labels(definition, language)
    variables = {
        column: _spss_variable(
            data[column],
            item_type=facts.get(column, {}).get("type", ""),
            labels=value_labels.get(column, {}),
            options=options.get(column, {}),
            category=column in categories,
            language=language,
        )
        for column in data.columns
    }
    frame = pd.DataFrame({column: variable.values for column, variable in variables.items()})
    not_applicable = [column for column, variable in variables.items() if variable.not_applicable]
    pyreadstat.write_sav(
        frame,
        os.fspath(path),
        column_labels={c: variable_labels.get(c, "") for c in frame.columns},
        variable_value_labels={c: v.labels for c, v in variables.items() if v.labels},
        variable_measure={c: v.measure for c, v in variables.items()},
        variable_format={c: v.format for c, v in variables.items() if v.format},
        missing_ranges={column: [NOT_APPLICABLE_CODE] for column in not_applicable},
    )


def _option_labels(definition: Any, language: str) -> dict[str, dict[str, str]]:
    """Choice questions with text codes: code -> option label, in the questionnaire's order."""
    from surveys.definition import CHOICE_TYPES, MultipleChoiceItem

    if definition is None:
        return {}
    found: dict[str, dict[str, str]] = {}
    for variable in definition.variables():
        item = variable.item
        if isinstance(item, CHOICE_TYPES) and not isinstance(item, MultipleChoiceItem):
            codes = {option.value: _text(option.label, language) for option in item.options}
            if not all(_is_number(code) for code in codes):
                found[variable.code] = codes
    return found


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


_REPRODUCE = '''"""Re-run the analysis behind the report and compare every number with results.json.

Usage: python reproduce.py   (needs the LoyaltyLab ``analysis`` package: pip install loyaltylab)
"""

import json
import math
import sys
from pathlib import Path

from analysis.io import read_table
from analysis.pipeline import analyze

HERE = Path(__file__).resolve().parent
OPTIONS = json.loads((HERE / "options.json").read_text(encoding="utf-8"))
TOLERANCE = 1e-6


def differences(expected, actual, where="results"):
    if isinstance(expected, dict) and isinstance(actual, dict):
        for key in expected.keys() | actual.keys():
            yield from differences(expected.get(key), actual.get(key), f"{where}.{key}")
    elif isinstance(expected, list) and isinstance(actual, list) and len(expected) == len(actual):
        for index, (a, b) in enumerate(zip(expected, actual)):
            yield from differences(a, b, f"{where}[{index}]")
    elif isinstance(expected, float) and isinstance(actual, (int, float)):
        if not math.isclose(expected, actual, rel_tol=TOLERANCE, abs_tol=TOLERANCE):
            yield f"{where}: {expected!r} != {actual!r}"
    elif expected != actual:
        yield f"{where}: {expected!r} != {actual!r}"


def main():
    data = read_table(HERE / "data.csv")
    model = (HERE / "model.lavaan").read_text(encoding="utf-8")
    result = analyze(data, model=model, **OPTIONS).to_dict()
    (HERE / "reproduced.json").write_text(json.dumps(result, indent=1, ensure_ascii=False))
    expected = json.loads((HERE / "results.json").read_text(encoding="utf-8"))
    problems = list(differences(expected, result))
    for line in problems[:20]:
        print(line)
    print("reproduced: all numbers match" if not problems else f"{len(problems)} differences")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
'''

_README = """# Reproducibility bundle

- `data.csv`: the responses analysed (UTF-8 with BOM; text cells that begin with = + - @ carry
  a leading apostrophe so spreadsheets do not run them).
- `codebook.csv`: every variable with its label, construct, reverse keying and value labels.
- `model.lavaan`: the model in lavaan syntax (runs unchanged in R: `lavaan::sem(model, data)`).
- `options.json`: the analysis options (reverse-keyed items, scale, missing data, bootstrap, seed).
- `results.json`: every number in the report, as `analysis.pipeline.analyze(...).to_dict()`.
- `reproduce.py`: re-runs the analysis and compares with `results.json`
  (`python reproduce.py`; exit code 0 when everything matches).

Software: {software}.
"""


def reproducibility_bundle(
    data: pd.DataFrame,
    request: ReportRequest,
    result: Mapping[str, Any],
) -> bytes:
    """A zip with the data, codebook, model, options, results, script and README."""
    options = request.analysis_options()
    options.pop("model")
    options["reverse"] = list(options["reverse"])
    files = {
        "data.csv": csv_bytes(data),
        "codebook.csv": csv_bytes(
            codebook(data, definition=request.definition, language=request.language)
        ),
        "model.lavaan": request.model.encode("utf-8"),
        "options.json": json.dumps(options, indent=2).encode("utf-8"),
        "results.json": json.dumps(result, indent=1, ensure_ascii=False).encode("utf-8"),
        "reproduce.py": _REPRODUCE.encode("utf-8"),
        "README.md": _README.format(software=", ".join(software_versions())).encode("utf-8"),
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in files.items():
            info = zipfile.ZipInfo(f"reproducibility/{name}", date_time=_BUNDLE_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, content)
    return buffer.getvalue()
