"""Analysis-ready data exports: CSV, XLSX, SPSS .sav, a codebook and a reproducibility bundle.

Variable labels are the item wording and value labels the scale anchors, both from the
questionnaire definition (:mod:`surveys.definition`) in the requested language.
"""

from __future__ import annotations

import io
import json
import os
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd
from openpyxl import Workbook

from reports.build import ReportRequest, software_versions
from reports.workbook import set_text

# Excel and LibreOffice run a cell starting with one of these as a formula (OWASP CSV injection).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
_LANGUAGE_TAGS = {"en": ("en",), "zh": ("zh-CN", "zh")}
_BUNDLE_DATE = (2000, 1, 1, 0, 0, 0)


def neutralise(value: object) -> object:
    """A text cell Excel would evaluate gets a leading apostrophe; other values pass unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def _text(texts: Mapping[str, str] | None, language: str) -> str:
    for tag in (*_LANGUAGE_TAGS.get(language, (language,)), "en", "zh-CN"):
        if texts and texts.get(tag, "").strip():
            return texts[tag]
    return ""


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
    """UTF-8 with a byte-order mark (Excel detects the encoding), formula cells neutralised."""
    safe = frame.copy()
    for column in safe.columns:
        if not pd.api.types.is_numeric_dtype(safe[column]):
            safe[column] = safe[column].map(neutralise)
    safe.columns = [neutralise(str(column)) for column in safe.columns]
    return safe.to_csv(index=False, lineterminator="\r\n").encode("utf-8-sig")


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


def write_sav(
    data: pd.DataFrame,
    path: str | os.PathLike[str],
    *,
    definition: Any = None,
    language: str = "en",
) -> None:
    """SPSS .sav with variable labels (item wording) and value labels (scale anchors)."""
    import pyreadstat

    variable_labels, value_labels, _facts = labels_from_definition(definition, language)
    frame = data.copy()
    for column in frame.columns:
        if pd.api.types.is_numeric_dtype(frame[column]):
            frame[column] = frame[column].astype("float64")
        else:
            frame[column] = frame[column].astype("string").fillna("").astype(object)
    pyreadstat.write_sav(
        frame,
        os.fspath(path),
        column_labels={c: variable_labels.get(c, "") for c in frame.columns},
        variable_value_labels={
            c: labels
            for c, labels in value_labels.items()
            if c in frame.columns and pd.api.types.is_numeric_dtype(frame[c])
        },
    )


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
