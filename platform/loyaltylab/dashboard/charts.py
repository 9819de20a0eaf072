"""Trend charts as SVG markup built on the server: no JavaScript, every text escaped.

Each chart is decorative for screen readers (``aria-hidden``): the page puts a data table with
the same numbers beside it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

from reports.text import text_width, wrap_lines

# A narrow drawing with large type: the SVG scales to its card, so on a 390-pixel phone the
# 13-unit labels still come out at about 10 pixels.
WIDTH, PLOT_HEIGHT = 420, 172
LEFT, RIGHT, TOP, AXIS_LABELS = 40, 12, 14, 30
FONT = 13
LEGEND_ROW, LEGEND_SWATCH = 17, 22
# An average letter of the 13-unit font is about 7.5 units wide (CJK characters twice that).
LETTER = 7.5
# Room between the plot's edges and the first/last wave, so their labels are not cut off.
INSET = 36
CAP = 5
# Distinguishable in print and for common colour-vision deficiencies (Okabe & Ito).
COLOURS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000")
DASHES = ("", "6 3", "2 3", "8 3 2 3", "4 4", "1 2", "10 4")


@dataclass(frozen=True)
class Series:
    name: str
    points: Sequence[tuple[float, float, float] | None]
    """Per wave: (value, lower, upper), or None where the wave has no data."""


def _number(value: float) -> str:
    return f"{value:.1f}"


def _legend_layout(names: Sequence[str]) -> tuple[int, list[list[str]], list[float]]:
    """Legend columns (up to 3, as the longest name leaves room for), each name's lines (a
    name wider than its column wraps) and the top of each legend row."""
    plot_w = WIDTH - LEFT - RIGHT
    widest = max((text_width(name) for name in names), default=0) * LETTER + LEGEND_SWATCH + 12
    columns = max(1, min(3, int(plot_w // widest)))
    room = (plot_w / columns - LEGEND_SWATCH - 6) / LETTER
    lines = [wrap_lines(name, room) or [""] for name in names]
    tops, top = [], TOP + PLOT_HEIGHT + AXIS_LABELS
    for start in range(0, len(names), columns):
        tops.append(top)
        top += LEGEND_ROW * max(len(entry) for entry in lines[start : start + columns])
    return columns, lines, [*tops, top]


def trend_chart(
    waves: Sequence[str], series: Sequence[Series], *, low: float, high: float
) -> Markup:
    """A line chart of ``series`` over ``waves`` on a fixed [low, high] axis.

    Each line carries its 95% confidence interval as a shaded band and a capped whisker per
    wave; the legend below has as many rows as the series need, and long names wrap, so no
    name is cut off.
    """
    plot_w = WIDTH - LEFT - RIGHT
    step = (plot_w - 2 * INSET) / max(len(waves) - 1, 1)
    columns, legend_lines, row_tops = _legend_layout([line.name for line in series])
    height = row_tops[-1] + 6

    def x(index: int) -> float:
        return LEFT + (INSET + index * step if len(waves) > 1 else plot_w / 2)

    def y(value: float) -> float:
        clipped = min(max(value, low), high)
        return TOP + PLOT_HEIGHT * (high - clipped) / (high - low)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" '
        'class="trend-chart" aria-hidden="true" focusable="false" role="presentation">'
    ]
    for tick in range(5):
        value = low + (high - low) * tick / 4
        parts.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{_number(y(value))}" '
            f'y2="{_number(y(value))}" stroke="#ddd"/>'
            f'<text x="{LEFT - 6}" y="{_number(y(value) + 4)}" text-anchor="end" '
            f'font-size="{FONT}">{value:g}</text>'
        )
    for index, wave in enumerate(waves):
        parts.append(
            f'<text x="{_number(x(index))}" y="{TOP + PLOT_HEIGHT + 18}" text-anchor="middle" '
            f'font-size="{FONT}">{escape(wave)}</text>'
        )
    for number, line in enumerate(series):
        colour, dash = COLOURS[number % len(COLOURS)], DASHES[number % len(DASHES)]
        parts += _series(line, colour, dash, x, y)
        column, row = number % columns, number // columns
        legend_x = LEFT + column * (plot_w / columns)
        legend_y = row_tops[row] + 10
        text_x = _number(legend_x + LEGEND_SWATCH)
        name = "".join(
            f'<tspan x="{text_x}" dy="{0 if index == 0 else LEGEND_ROW}">{escape(text)}</tspan>'
            for index, text in enumerate(legend_lines[number])
        )
        parts.append(
            f'<line x1="{_number(legend_x)}" x2="{_number(legend_x + 18)}" y1="{legend_y - 4}" '
            f'y2="{legend_y - 4}" stroke="{colour}" stroke-width="2"'
            + (f' stroke-dasharray="{dash}"' if dash else "")
            + f'/><text x="{text_x}" y="{legend_y}" font-size="{FONT}">{name}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def _series(line: Series, colour: str, dash: str, x, y) -> list[str]:
    """One series: its confidence band, whiskers with caps, points and line."""
    parts: list[str] = []
    runs: list[list[tuple[int, tuple[float, float, float]]]] = [[]]
    for index, point in enumerate(line.points):
        if point is None or math.isnan(point[0]):
            runs.append([])
        else:
            runs[-1].append((index, point))
    for run in (run for run in runs if run):
        with_interval = [(i, p) for i, p in run if not (math.isnan(p[1]) or math.isnan(p[2]))]
        if len(with_interval) > 1:
            upper = [f"{_number(x(i))},{_number(y(p[2]))}" for i, p in with_interval]
            lower = [f"{_number(x(i))},{_number(y(p[1]))}" for i, p in reversed(with_interval)]
            parts.append(
                f'<polygon points="{" ".join(upper + lower)}" fill="{colour}" '
                'fill-opacity="0.15" stroke="none"/>'
            )
        for index, (_value, lower_value, upper_value) in with_interval:
            cx, top, bottom = x(index), y(upper_value), y(lower_value)
            parts.append(
                f'<path d="M{_number(cx)} {_number(top)}V{_number(bottom)}'
                f"M{_number(cx - CAP)} {_number(top)}H{_number(cx + CAP)}"
                f'M{_number(cx - CAP)} {_number(bottom)}H{_number(cx + CAP)}" '
                f'stroke="{colour}" stroke-width="1.5" fill="none"/>'
            )
        points = " ".join(f"{_number(x(i))},{_number(y(p[0]))}" for i, p in run)
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        parts.append(
            f'<polyline points="{points}" fill="none" stroke="{colour}" '
            f'stroke-width="2"{dash_attr}/>'
        )
        parts += [
            f'<circle cx="{_number(x(i))}" cy="{_number(y(p[0]))}" r="3" fill="{colour}"/>'
            for i, p in run
        ]
    return parts
