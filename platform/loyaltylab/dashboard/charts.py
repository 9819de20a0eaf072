"""Trend charts as SVG markup built on the server: no JavaScript, every text escaped.

Each chart is decorative for screen readers (``aria-hidden``): the page puts a data table with
the same numbers beside it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

# A narrow drawing with large type: the SVG scales to its card, so on a 390-pixel phone the
# 13-unit labels still come out at about 10 pixels.
WIDTH, HEIGHT = 420, 250
LEFT, RIGHT, TOP, BOTTOM = 40, 12, 14, 64
FONT = 13
LEGEND_COLUMNS, LEGEND_ROW = 3, 17
# Room between the plot's edges and the first/last wave, so their labels are not cut off.
INSET = 36
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


def trend_chart(
    waves: Sequence[str], series: Sequence[Series], *, low: float, high: float
) -> Markup:
    """A line chart of ``series`` over ``waves`` on a fixed [low, high] axis, with CI whiskers."""
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    step = (plot_w - 2 * INSET) / max(len(waves) - 1, 1)

    def x(index: int) -> float:
        return LEFT + (INSET + index * step if len(waves) > 1 else plot_w / 2)

    def y(value: float) -> float:
        clipped = min(max(value, low), high)
        return TOP + plot_h * (high - clipped) / (high - low)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
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
            f'<text x="{_number(x(index))}" y="{HEIGHT - BOTTOM + 18}" text-anchor="middle" '
            f'font-size="{FONT}">{escape(wave)}</text>'
        )
    for number, line in enumerate(series):
        colour, dash = COLOURS[number % len(COLOURS)], DASHES[number % len(DASHES)]
        path, segments = [], []
        for index, point in enumerate(line.points):
            if point is None or math.isnan(point[0]):
                if path:
                    segments.append(path)
                path = []
                continue
            value, lower, upper = point
            path.append(f"{_number(x(index))},{_number(y(value))}")
            if not (math.isnan(lower) or math.isnan(upper)):
                parts.append(
                    f'<line x1="{_number(x(index))}" x2="{_number(x(index))}" '
                    f'y1="{_number(y(lower))}" y2="{_number(y(upper))}" stroke="{colour}" '
                    'stroke-width="1.5"/>'
                )
            parts.append(
                f'<circle cx="{_number(x(index))}" cy="{_number(y(value))}" r="3.5" '
                f'fill="{colour}"/>'
            )
        if path:
            segments.append(path)
        for points in segments:
            dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
            parts.append(
                f'<polyline points="{" ".join(points)}" fill="none" stroke="{colour}" '
                f'stroke-width="2"{dash_attr}/>'
            )
        legend_x = LEFT + (number % LEGEND_COLUMNS) * (plot_w / LEGEND_COLUMNS)
        legend_y = HEIGHT - 26 + (number // LEGEND_COLUMNS) * LEGEND_ROW
        parts.append(
            f'<line x1="{_number(legend_x)}" x2="{_number(legend_x + 18)}" y1="{legend_y - 4}" '
            f'y2="{legend_y - 4}" stroke="{colour}" stroke-width="2"'
            + (f' stroke-dasharray="{dash}"' if dash else "")
            + f'/><text x="{_number(legend_x + 22)}" y="{legend_y}" font-size="{FONT}">'
            f"{escape(line.name)}</text>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))
