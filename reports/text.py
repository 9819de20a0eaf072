"""Measuring and wrapping text by its width in letters, for charts and table columns.

A CJK (full-width) character counts as two letters. Lines break at spaces and between CJK
characters; a no-break space (U+00A0, as in "sat5 (R)") keeps its neighbours together, and
nothing is ever cut off.
"""

from __future__ import annotations

import re
import unicodedata
from itertools import groupby


def is_wide(character: str) -> bool:
    """CJK and other full-width characters: about twice as wide as a Latin letter."""
    return unicodedata.east_asian_width(character) in ("W", "F")


def text_width(text: str) -> int:
    """Width of ``text`` in average Latin letters."""
    return sum(2 if is_wide(character) else 1 for character in text)


def _pieces(text: str) -> list[str]:
    """``text`` cut where a line may break: words with their trailing spaces, and every CJK
    character on its own."""
    return [
        piece
        for token in re.findall(r"[^ \t\r\n]+[ \t\r\n]*", text.strip())
        for wide, run in groupby(token, key=is_wide)
        for piece in (list(run) if wide else ["".join(run)])
    ]


def longest_word(text: str) -> int:
    """Width of the widest piece of ``text`` no line break may split."""
    return max((text_width(piece.rstrip()) for piece in _pieces(text)), default=0)


def wrap_lines(text: str, width: float) -> list[str]:
    """``text`` as lines at most ``width`` letters wide (a longer word gets a line of its own)."""
    pieces = _pieces(text)
    lines: list[str] = []
    line = ""
    for piece in pieces:
        if line and text_width(line + piece.rstrip()) > width:
            lines.append(line.rstrip())
            line = ""
        line += piece
    if line.strip():
        lines.append(line.rstrip())
    return lines
