"""Reading CSV, XLSX and SPSS files written here, and rejecting bad ones with clear errors."""

import zipfile

import numpy as np
import pandas as pd
import pyreadstat
import pytest

from analysis import io as data_io
from analysis.io import DataFileError, read_table

FRAME = pd.DataFrame(
    {"respondent": [1, 2, 3], "sat1": [5.0, np.nan, 7.0], "tier": ["gold", "silver", "gold"]}
)


def _assert_same(frame: pd.DataFrame) -> None:
    assert list(frame.columns) == list(FRAME.columns)
    assert frame["sat1"].tolist()[::2] == [5.0, 7.0] and np.isnan(frame["sat1"].iloc[1])
    assert frame["tier"].tolist() == ["gold", "silver", "gold"]
    assert frame["respondent"].tolist() == [1, 2, 3]


@pytest.mark.parametrize(("encoding", "separator"), [("utf-8", ","), ("utf-8-sig", ";")])
def test_csv_with_or_without_bom_and_any_delimiter(tmp_path, encoding, separator):
    path = tmp_path / "wave.csv"
    FRAME.to_csv(path, index=False, encoding=encoding, sep=separator)
    _assert_same(read_table(path))


def test_xlsx(tmp_path):
    path = tmp_path / "wave.xlsx"
    FRAME.to_excel(path, index=False)
    _assert_same(read_table(path))


def test_sav_reads_codes_not_labels(tmp_path):
    path = tmp_path / "wave.sav"
    pyreadstat.write_sav(
        FRAME, str(path), variable_value_labels={"sat1": {5.0: "agree", 7.0: "strongly agree"}}
    )
    frame = read_table(path)
    _assert_same(frame)
    assert frame["sat1"].dtype.kind == "f"


def test_chinese_text_survives(tmp_path):
    path = tmp_path / "wave.csv"
    pd.DataFrame({"满意度1": [5, 6], "区域": ["华东", "华南"]}).to_csv(path, index=False)
    assert read_table(path)["区域"].tolist() == ["华东", "华南"]


@pytest.mark.parametrize(
    ("encoding", "text"),
    [("gbk", "满意度,区域\n5,华东\n"), ("cp1252", "sat1,city\n5,Montréal\n")],
)
def test_csv_in_a_legacy_encoding_is_detected(tmp_path, encoding, text):
    path = tmp_path / "wave.csv"
    path.write_bytes(text.encode(encoding))
    frame = read_table(path)
    assert list(frame.columns) + frame.iloc[0].astype(str).tolist() == text.replace(
        "\n", ","
    ).strip(",").split(",")


def test_the_encoding_can_be_stated(tmp_path):
    path = tmp_path / "wave.csv"
    path.write_bytes("id,name\nC1,張偉\n".encode("big5"))
    assert read_table(path, encoding="big5")["name"].tolist() == ["張偉"]
    with pytest.raises(DataFileError, match="not text in the encoding utf-8"):
        read_table(path, encoding="utf-8")


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("wave.csv", b"", "is empty"),
        ("wave.csv", b"sat1,sat2\n\x00\x01\x02binary", "not a text"),
        ("wave.csv", "id,name\nC1,張偉\n".encode("big5"), "big5, gb18030.*--encoding"),
        ("wave.csv", b"sat1,sat2\n", "no data rows"),
        ("wave.csv", b"sat1,sat1\n1,2\n", "more than once: sat1"),
        ("wave.csv", b"sat1,,sat3\n1,2,3\n", "column 2 has no name"),
        ("wave.csv", b'sat1,sat2\n1,"2\n', "well-formed"),
        ("wave.xlsx", b"PK not really a zip", "not an Excel"),
        ("wave.sav", b"$FL2 broken", "SPSS"),
        ("wave.json", b"{}", "unsupported file type '.json'"),
    ],
)
def test_bad_files_are_rejected(tmp_path, name, content, message):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(DataFileError, match=message):
        read_table(path)


def test_missing_file(tmp_path):
    with pytest.raises(DataFileError, match="does not exist"):
        read_table(tmp_path / "absent.csv")


def test_size_and_row_limits(tmp_path, monkeypatch):
    path = tmp_path / "wave.csv"
    pd.DataFrame({"q": range(50)}).to_csv(path, index=False)
    monkeypatch.setattr(data_io, "MAX_ROWS", 10)
    with pytest.raises(DataFileError, match="more than 10 rows"):
        read_table(path)
    monkeypatch.setattr(data_io, "MAX_BYTES", 20)
    with pytest.raises(DataFileError, match="larger than"):
        read_table(path)


def test_xlsx_that_unpacks_to_far_more_than_its_size_is_refused(tmp_path):
    path = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/worksheets/sheet1.xml", b"0" * 5_000_000)
    with pytest.raises(DataFileError, match="unpacks to more"):
        read_table(path)


def test_duplicate_xlsx_headers(tmp_path):
    path = tmp_path / "wave.xlsx"
    pd.DataFrame([[1, 2]], columns=["q", "q "]).to_excel(path, index=False)
    with pytest.raises(DataFileError, match="more than once: q"):
        read_table(path)
