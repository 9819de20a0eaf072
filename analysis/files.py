"""One defensive reader for every file a user hands over: uploads in the web app (contact lists,
questionnaires) and the command line's data files.

Pure (bytes and paths in, text or a refusal out), so that the web app and the CLI share it.
It bounds the size, refuses an XLSX "zip bomb" before anything is inflated, and decodes text
whose encoding nobody stated: UTF-8 (with or without a byte-order mark) when the bytes are
UTF-8, else the most plausible of the encodings spreadsheets in our markets save CSV in,
detected with ``charset-normalizer`` and flagged as a guess when another one is as plausible.
"""

from __future__ import annotations

import codecs
import csv
import io
import os
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = [
    "ENCODINGS",
    "DecodedText",
    "FileRejected",
    "check_size",
    "check_xlsx",
    "decode_text",
    "sniff_delimiter",
]

# What Excel and WPS save "CSV" as in Chinese, Taiwanese and Western European locales.
ENCODINGS = ("utf-8", "gb18030", "cp1252", "big5")
# charset-normalizer's names for them.
_DETECTOR_NAMES = {"utf_8": "utf-8", "gb18030": "gb18030", "cp1252": "cp1252", "big5": "big5"}
# Enough text to recognise an encoding; detection on a whole large file costs seconds.
DETECTION_BYTES = 64 * 1024
DELIMITERS = ",;\t"


class FileRejected(ValueError):
    """The whole file is refused. ``reason`` is a stable code, ``params`` its details:

    ``too_large`` (``max_bytes``), ``damaged`` (not a readable zip), ``not_xlsx`` (a zip but
    no workbook), ``unpacks_too_large`` (``max_bytes``),
    ``not_text`` (binary content), ``wrong_encoding`` (``encoding``: the bytes are not text in
    the encoding the user chose), ``unknown_encoding`` (``encoding``).
    """

    def __init__(self, reason: str, **params: Any) -> None:
        super().__init__(f"{reason} {params}" if params else reason)
        self.reason = reason
        self.params = params


@dataclass(frozen=True)
class DecodedText:
    text: str
    encoding: str
    """A Python codec name: one of :data:`ENCODINGS`, ``utf-8-sig`` or ``utf-16``."""
    certain: bool
    """False when the encoding is a guess that another encoding rivals: ask the user."""
    alternatives: tuple[str, ...] = ()
    """The other encodings the bytes are plausible text in (when not certain)."""


def check_size(size: int, max_bytes: int) -> None:
    if size > max_bytes:
        raise FileRejected("too_large", max_bytes=max_bytes)


def check_xlsx(source: bytes | str | os.PathLike[str], *, max_unpacked: int) -> None:
    """Refuse what is not an XLSX workbook, or unpacks to more than ``max_unpacked`` bytes,
    reading only the zip's directory."""
    opened = io.BytesIO(source) if isinstance(source, bytes) else Path(source)
    try:
        with zipfile.ZipFile(opened) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError):
        raise FileRejected("damaged") from None
    if sum(member.file_size for member in members) > max_unpacked:
        raise FileRejected("unpacks_too_large", max_bytes=max_unpacked)
    if "xl/workbook.xml" not in {member.filename for member in members}:
        raise FileRejected("not_xlsx")


def decode_text(content: bytes, *, encoding: str | None = None) -> DecodedText:
    """Text from bytes: in ``encoding`` when the user chose one, else detected.

    Raises
    ------
    FileRejected
        ``not_text`` for binary content (NUL bytes outside UTF-16), ``wrong_encoding`` when
        the bytes are not text in the chosen encoding, ``unknown_encoding``.

    Examples
    --------
    >>> decode_text("Montréal".encode("utf-8")).text
    'Montréal'
    >>> decoded = decode_text("city\\nMontréal\\nQuébec\\n".encode("cp1252"))
    >>> decoded.text.split()[1], decoded.encoding
    ('Montréal', 'cp1252')
    """
    if encoding:
        return _decode_as(content, encoding)
    if content.startswith(codecs.BOM_UTF8):
        return _decode_as(content, "utf-8-sig")
    if content.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return _decode_as(content, "utf-16")
    if b"\x00" in content[:DETECTION_BYTES]:
        raise FileRejected("not_text")
    try:
        # Text that is valid UTF-8 and not ASCII is UTF-8 but by the rarest accident.
        return DecodedText(content.decode("utf-8"), "utf-8", certain=True)
    except UnicodeDecodeError:
        pass
    try:
        # Every two-byte character within GB2312 (both bytes 0xA1-0xFE: the common simplified
        # hanzi): GB text. Windows-1252 would need two accented capitals or symbols in a row
        # for each, Big5 puts the second byte below 0xA1 in about half its characters.
        return DecodedText(_decode_if_gb2312(content), "gb18030", certain=True)
    except UnicodeDecodeError:
        pass
    plausible = _plausible_encodings(content)
    if not plausible:
        raise FileRejected("not_text")
    best, *others = plausible
    return DecodedText(content.decode(best), best, certain=not others, alternatives=tuple(others))


def _decode_as(content: bytes, encoding: str) -> DecodedText:
    try:
        codecs.lookup(encoding)
    except LookupError:
        raise FileRejected("unknown_encoding", encoding=encoding) from None
    try:
        text = content.decode(encoding)
    except UnicodeDecodeError:
        raise FileRejected("wrong_encoding", encoding=encoding) from None
    return DecodedText(text.removeprefix("\ufeff"), encoding, certain=True)


def _decode_if_gb2312(content: bytes) -> str:
    content.decode("gb2312")
    return content.decode("gb18030")  # the same text; GB18030 is the superset files are in


def _plausible_encodings(content: bytes) -> list[str]:
    """The candidate encodings the whole content decodes in, most plausible first."""
    from charset_normalizer import from_bytes

    # Detection restricted to the candidates: among every codec, short Latin-1 text is as
    # plausible in a dozen Baltic and Central European code pages as in Windows-1252.
    matches = from_bytes(
        content[:DETECTION_BYTES], cp_isolation=list(_DETECTOR_NAMES), explain=False
    )
    ranked = [
        _DETECTOR_NAMES[match.encoding] for match in matches if match.encoding in _DETECTOR_NAMES
    ]
    plausible = []
    for candidate in ranked:
        try:
            content.decode(candidate)  # the sample decoded; the rest of the file must too
        except UnicodeDecodeError:
            continue
        plausible.append(candidate)
    return plausible


def sniff_delimiter(sample: str) -> str:
    """The field separator (comma, semicolon or tab) of CSV text, from its first lines; comma
    when the sample does not tell."""
    lines = "\n".join(sample.splitlines()[:20])
    try:
        return csv.Sniffer().sniff(lines, delimiters=DELIMITERS).delimiter
    except csv.Error:
        return ","
