"""The CJK font every report format uses, found through fontconfig / matplotlib."""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from functools import cache
from pathlib import Path

CJK_FAMILY = "Noto Sans CJK SC"
_INSTALL_HINT = "install it with: apt-get install fonts-noto-cjk"


class FontMissingError(RuntimeError):
    """The CJK font reports need is not installed."""


@dataclass(frozen=True)
class ReportFont:
    family: str
    regular: Path
    bold: Path | None


def _fc_match(pattern: str) -> Path | None:
    if shutil.which("fc-match") is None:
        return None
    found = subprocess.run(
        ["fc-match", "-f", "%{family}\t%{file}", pattern],
        capture_output=True,
        text=True,
        check=False,
    ).stdout
    family, _, file = found.partition("\t")
    # fc-match always answers with *some* font; only an exact family match counts.
    if CJK_FAMILY not in family.split(","):
        return None
    return Path(file) if file and Path(file).is_file() else None


def _matplotlib_lookup() -> Path | None:
    from matplotlib import font_manager

    for entry in font_manager.fontManager.ttflist:
        if entry.name == CJK_FAMILY and Path(entry.fname).is_file():
            return Path(entry.fname)
    return None


@cache
def report_font() -> ReportFont:
    """Locate Noto Sans CJK SC (regular and bold), or raise :class:`FontMissingError`."""
    regular = _fc_match(f"{CJK_FAMILY}:style=Regular") or _matplotlib_lookup()
    if regular is None:
        raise FontMissingError(f"the report font {CJK_FAMILY!r} is not installed; {_INSTALL_HINT}")
    bold = _fc_match(f"{CJK_FAMILY}:style=Bold")
    return ReportFont(CJK_FAMILY, regular, bold)
