"""The one defensive reader of uploaded and local files: size, zip bombs, encodings."""

from __future__ import annotations

import io
import zipfile

import pytest

from analysis.files import FileRejected, check_size, check_xlsx, decode_text, sniff_delimiter

MONTREAL = "external_id,name,email,city\nC1,Zoé Martin,zoe@example.com,Montréal\n"


@pytest.mark.parametrize(
    ("text", "encoding"),
    [
        (MONTREAL, "cp1252"),
        ("external_id,city\nC1,Montréal\n", "latin-1"),
        ("客户编号,姓名,城市\nC1,张伟,北京\nC2,李娜,上海\n", "gb18030"),
        ("sat1,满意\n5,6\n", "gbk"),
        ("客戶編號,姓名,城市\nC1,張偉,臺北\nC2,李娜,高雄\n", "big5"),
        ("id,name\nC1,Zoé 张伟\n", "utf-8"),
        ("id,name\nC1,Zoé 张伟\n", "utf-8-sig"),
        ("id,name\nC1,Zoé 张伟\n", "utf-16"),
    ],
)
def test_text_in_every_encoding_of_our_markets_reads_back(text: str, encoding: str) -> None:
    decoded = decode_text(text.encode(encoding))
    assert decoded.text == text
    assert decoded.certain


def test_montreal_is_not_read_as_gb18030() -> None:
    # The bug this reader replaced: b"Montr\xe9al" is also valid GB18030 ("Montr閍l").
    assert "Montr\xe9al".encode("cp1252").decode("gb18030") == "Montr閍l"
    decoded = decode_text(MONTREAL.encode("cp1252"))
    assert (decoded.encoding, "Montréal" in decoded.text) == ("cp1252", True)


def test_an_unsure_detection_says_so_and_names_the_rivals() -> None:
    content = "id,name\nC1,張偉\n".encode("big5")
    decoded = decode_text(content)
    assert not decoded.certain
    assert {decoded.encoding, *decoded.alternatives} == {"big5", "gb18030"}
    assert decode_text(content, encoding="big5").text == "id,name\nC1,張偉\n"


def test_a_chosen_encoding_is_used_or_refused() -> None:
    with pytest.raises(FileRejected) as wrong:
        decode_text("张伟".encode("gb18030"), encoding="utf-8")
    assert (wrong.value.reason, wrong.value.params) == ("wrong_encoding", {"encoding": "utf-8"})
    with pytest.raises(FileRejected, match="unknown_encoding"):
        decode_text(b"x", encoding="klingon")


def test_binary_content_is_not_text() -> None:
    with pytest.raises(FileRejected, match="not_text"):
        decode_text(b"\x89PNG\r\n\x1a\n\x00\x00\x00")


def test_the_size_limit() -> None:
    check_size(10, 10)
    with pytest.raises(FileRejected) as refused:
        check_size(11, 10)
    assert refused.value.params == {"max_bytes": 10}


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def test_a_zip_bomb_is_refused_before_it_is_inflated(tmp_path) -> None:
    bomb = _zip({"xl/workbook.xml": b"<x/>", "xl/worksheets/sheet1.xml": b"0" * 5_000_000})
    assert len(bomb) < 20_000
    for source in (bomb, tmp_path / "bomb.xlsx"):
        (tmp_path / "bomb.xlsx").write_bytes(bomb)
        with pytest.raises(FileRejected, match="unpacks_too_large"):
            check_xlsx(source, max_unpacked=1_000_000)
    check_xlsx(bomb, max_unpacked=10_000_000)


@pytest.mark.parametrize(
    ("content", "reason"),
    [(b"PK\x03\x04 not a zip", "damaged"), (_zip({"word/document.xml": b"<x/>"}), "not_xlsx")],
)
def test_what_is_not_a_workbook_is_refused(content: bytes, reason: str) -> None:
    with pytest.raises(FileRejected) as refused:
        check_xlsx(content, max_unpacked=10_000_000)
    assert refused.value.reason == reason


@pytest.mark.parametrize(
    ("sample", "delimiter"),
    [("a,b,c\n1,2,3\n", ","), ("a;b;c\n1,5;2;3\n", ";"), ("a\tb\n1\t2\n", "\t"), ("a\n1\n", ",")],
)
def test_the_delimiter_is_sniffed(sample: str, delimiter: str) -> None:
    assert sniff_delimiter(sample) == delimiter
