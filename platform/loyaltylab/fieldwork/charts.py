"""The monitoring chart of a wave: complete responses per day, as SVG built on the server.

No JavaScript, every text escaped. The chart is decorative for screen readers
(``aria-hidden``): the page gives the same numbers as a table.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

from markupsafe import Markup, escape

# A narrow drawing with large type: scaled to a 390-pixel phone, labels stay readable.
WIDTH, HEIGHT = 420, 200
LEFT, RIGHT, TOP, BOTTOM = 36, 8, 12, 30
FONT = 13
MAX_BAR = 28
BAR = "#1d6b35"
MAX_LABELS = 6


def _every_day(days: Sequence[tuple[date, int]]) -> list[tuple[date, int]]:
    """The days from the first to the last complete, the days without one as zero."""
    counts = dict(days)
    first, last = days[0][0], days[-1][0]
    return [
        (first + timedelta(days=n), counts.get(first + timedelta(days=n), 0))
        for n in range((last - first).days + 1)
    ]


def _nice_ceiling(value: int) -> int:
    """The axis maximum: 1, 2 or 5 times a power of ten, at least ``value``."""
    step = 1
    while True:
        for multiple in (1, 2, 5):
            if multiple * step >= value:
                return multiple * step
        step *= 10


def completes_chart(days: Sequence[tuple[date, int]]) -> Markup:
    """A bar per day from the first complete response to the last; empty markup without any."""
    if not days:
        return Markup()
    series = _every_day(days)
    top = _nice_ceiling(max(count for _day, count in series))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = plot_w / len(series)
    bar = min(max(slot * 0.8, 1.0), MAX_BAR)

    def y(value: float) -> float:
        return TOP + plot_h * (1 - value / top)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
        'class="fw-chart" aria-hidden="true" focusable="false">'
    ]
    # Counts are whole: a middle line only where it is a whole number.
    for tick in (0, top // 2, top) if top % 2 == 0 else (0, top):
        parts.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(tick):.1f}" y2="{y(tick):.1f}" '
            f'stroke="#d5dbe3"/><text x="{LEFT - 6}" y="{y(tick) + 4:.1f}" text-anchor="end" '
            f'font-size="{FONT}" fill="#4a5563">{tick:g}</text>'
        )
    label_every = max(1, -(-len(series) // MAX_LABELS))
    for index, (day, count) in enumerate(series):
        x = LEFT + index * slot + (slot - bar) / 2
        if count:
            parts.append(
                f'<rect x="{x:.1f}" y="{y(count):.1f}" width="{bar:.1f}" '
                f'height="{y(0) - y(count):.1f}" fill="{BAR}"><title>{escape(day.isoformat())}'
                f": {count}</title></rect>"
            )
        if index % label_every == 0:
            parts.append(
                f'<text x="{LEFT + (index + 0.5) * slot:.1f}" y="{HEIGHT - BOTTOM + 16}" '
                f'text-anchor="middle" font-size="{FONT}" fill="#4a5563">'
                f"{escape(day.strftime('%m-%d'))}</text>"
            )
    parts.append("</svg>")
    return Markup("".join(parts))
