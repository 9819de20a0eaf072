"""Contact lists: good CSV and XLSX files, every bad row listed, files refused outright."""

from __future__ import annotations

import io
import zipfile

import pytest
from openpyxl import Workbook

from loyaltylab.fieldwork.contacts_import import (
    MAX_BYTES,
    MAX_COLUMNS,
    MAX_XLSX_UNPACKED,
    ContactFileRejected,
    EncodingUnsure,
    read_contacts,
)


def _xlsx(rows: list[list[object]]) -> bytes:
    workbook = Workbook()
    for row in rows:
        workbook.active.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def test_a_good_csv_file() -> None:
    content = (
        "external_id,email,phone,tier,region,spend\n"
        "C1,a@example.com,+86 138 0000 0000,gold,north,1250.5\n"
        "C2,,,bronze,south,80\n"
    ).encode("utf-8-sig")
    parsed = read_contacts(content, "contacts.csv")
    assert parsed.ok and parsed.attribute_names == ["tier", "region", "spend"]
    assert parsed.rows[0] == {
        "external_id": "C1",
        "email": "a@example.com",
        "phone": "+86 138 0000 0000",
        "name": None,
        "language": None,
        "channel": None,
        "attributes": {"tier": "gold", "region": "north", "spend": 1250.5},
    }
    assert parsed.rows[1]["email"] == "" and parsed.rows[1]["attributes"]["spend"] == 80


def test_a_semicolon_separated_gbk_file_from_chinese_excel() -> None:
    content = "客户编号;邮箱;等级\nK1;k1@example.cn;金卡\n".encode("gb18030")
    parsed = read_contacts(content, "名单.csv")
    assert parsed.rows == [
        {
            "external_id": "K1",
            "email": "k1@example.cn",
            "phone": None,
            "name": None,
            "language": None,
            "channel": None,
            "attributes": {"等级": "金卡"},
        }
    ]


def test_names_and_languages_are_read_and_a_bad_language_is_a_row_problem() -> None:
    content = (
        "客户编号,姓名,语言,tier\n"
        "K1,王芳,中文,gold\n"
        "K2,Ann Lee,en_GB,silver\n"
        "K3,,zh_cn,\n"
        "K4,Bo,Klingon!,gold\n"
    ).encode()
    parsed = read_contacts(content, "contacts.csv")
    assert [(p.row, p.code, p.value) for p in parsed.problems] == [(5, "bad_language", "Klingon!")]
    good = read_contacts(content.rsplit(b"K4", 1)[0], "contacts.csv")
    assert [(row["name"], row["language"]) for row in good.rows] == [
        ("王芳", "zh-CN"),
        ("Ann Lee", "en-GB"),
        ("", "zh-CN"),
    ]
    assert good.attribute_names == ["tier"] and good.rows[0]["attributes"] == {"tier": "gold"}


def test_a_good_xlsx_file() -> None:
    content = _xlsx([["ID", "Email", "tier", "tenure"], [1001, "x@example.com", "silver", 3]])
    parsed = read_contacts(content, "contacts.xlsx")
    assert parsed.rows == [
        {
            "external_id": "1001",
            "email": "x@example.com",
            "phone": None,
            "name": None,
            "language": None,
            "channel": None,
            "attributes": {"tier": "silver", "tenure": 3},
        }
    ]


def test_every_bad_row_is_listed_and_nothing_is_kept() -> None:
    content = (
        b"external_id,email,phone,tier\n"
        b"C1,ok@example.com,,gold\n"
        b",missing@example.com,,gold\n"
        b"C3,not-an-email,,silver\n"
        b"C1,dup@example.com,,bronze\n"
        b"C5,,call me,bronze\n"
        b"\n"
        b"C6,,,bronze\n"
    )
    parsed = read_contacts(content, "contacts.csv")
    assert not parsed.ok and parsed.rows == []
    assert [(p.row, p.code) for p in parsed.problems] == [
        (3, "missing_id"),
        (4, "bad_email"),
        (5, "duplicate_id"),
        (6, "bad_phone"),
    ]


@pytest.mark.parametrize(
    ("content", "name", "reason"),
    [
        (b"a" * (MAX_BYTES + 1), "big.csv", "too_large"),
        (b"\x89PNG\r\n\x1a\n\x00\x00binary", "contacts.csv", "not_a_table"),
        (b"external_id,tier\nC1,gold\n", "contacts.xlsx", "not_a_table"),
        (b"PK\x03\x04 not really a zip", "contacts.xlsx", "unreadable"),
        (b"tier,region\ngold,north\n", "contacts.csv", "no_id_column"),
        (b"external_id,tier\n", "contacts.csv", "empty"),
        (
            ("id," + ",".join(f"c{i}" for i in range(MAX_COLUMNS))).encode(),
            "w.csv",
            "too_many_columns",
        ),
        (b"id,tier,tier\nC1,a,b\n", "contacts.csv", "duplicate_column"),
    ],
)
def test_files_refused_outright(content: bytes, name: str, reason: str) -> None:
    with pytest.raises(ContactFileRejected) as refused:
        read_contacts(content, name)
    assert refused.value.reason == reason


def test_a_zip_that_is_not_a_workbook_is_refused() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("word/document.xml", "<x/>")
    with pytest.raises(ContactFileRejected, match="not_a_table"):
        read_contacts(buffer.getvalue(), "contacts.xlsx")


def test_a_windows_1252_csv_keeps_its_accents() -> None:
    content = (
        "external_id,name,email,city\n"
        "C1,Zoé Martin,zoe@example.com,Montréal\n"
        "C2,François Côté,fc@example.com,Québec\n"
    ).encode("cp1252")
    parsed = read_contacts(content, "contacts.csv")
    assert parsed.ok
    assert [row["name"] for row in parsed.rows] == ["Zoé Martin", "François Côté"]
    assert parsed.rows[0]["attributes"] == {"city": "Montréal"}


def test_an_unsure_encoding_is_asked_with_a_preview_in_each_candidate() -> None:
    content = "external_id,name\nC1,張偉\n".encode("big5")
    with pytest.raises(EncodingUnsure) as unsure:
        read_contacts(content, "contacts.csv")
    previews = unsure.value.previews
    assert {"big5", "gb18030"} <= set(previews)
    assert previews["big5"] == [["external_id", "name"], ["C1", "張偉"]]
    assert previews["gb18030"][1][1] != "張偉"
    chosen = read_contacts(content, "contacts.csv", encoding="big5")
    assert chosen.rows[0]["name"] == "張偉"


def test_a_wrongly_chosen_encoding_is_refused() -> None:
    with pytest.raises(ContactFileRejected) as refused:
        read_contacts("external_id,name\nC1,张伟\n".encode("gb18030"), "c.csv", encoding="utf-8")
    assert (refused.value.reason, refused.value.params) == ("wrong_encoding", {"encoding": "utf-8"})


def test_an_xlsx_zip_bomb_is_refused_unopened() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/workbook.xml", "<x/>")
        archive.writestr("xl/worksheets/sheet1.xml", b"0" * (MAX_XLSX_UNPACKED + 1))
    with pytest.raises(ContactFileRejected, match="too_large"):
        read_contacts(buffer.getvalue(), "contacts.xlsx")
