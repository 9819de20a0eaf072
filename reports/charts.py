"""Report charts drawn with matplotlib (Agg): each function returns the Figure, :func:`png` its
PNG bytes.

Every chart uses Noto Sans CJK SC so Chinese labels render; glyphs the font lacks (emoji in a
user's item label) fall back to DejaVu Sans or an empty box instead of failing the report.
"""

from __future__ import annotations

import io
import math
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import matplotlib
import numpy as np
from matplotlib import font_manager
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import Ellipse, FancyArrowPatch, Rectangle

from reports.fonts import report_font
from reports.text import wrap_lines

PALETTE = {
    "ink": "#1f2a37",
    "muted": "#6b7280",
    "accent": "#1d4e89",
    "accent2": "#3c8dbc",
    "good": "#2e7d32",
    "bad": "#c62828",
    "neutral": "#b0b7c3",
    "grid": "#e5e7eb",
}
DPI = 160
IPA_QUADRANTS = ("concentrate here", "keep up the good work", "low priority", "possible overkill")


def _style() -> dict[str, object]:
    font = report_font()
    font_manager.fontManager.addfont(str(font.regular))
    if font.bold is not None:
        font_manager.fontManager.addfont(str(font.bold))
    return {
        "font.family": [font.family, "DejaVu Sans"],
        "font.size": 8.5,
        "axes.edgecolor": PALETTE["muted"],
        "axes.labelcolor": PALETTE["ink"],
        "xtick.color": PALETTE["ink"],
        "ytick.color": PALETTE["ink"],
        "axes.spines.top": False,
        "axes.spines.right": False,
        "svg.hashsalt": "loyaltylab",
    }


@contextmanager
def _drawing() -> Iterator[None]:
    """The report's style; an emoji in a label is drawn as a box, not worth a warning."""
    with matplotlib.rc_context(_style()), warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Glyph .* missing from")
        warnings.filterwarnings("ignore", message="Matplotlib currently does not support")
        yield


def _draw(draw: Callable[[Figure], None], width_in: float, height_in: float) -> Figure:
    """A figure of the given size in inches, drawn by ``draw`` in the report's style."""
    with _drawing():
        figure = Figure(figsize=(width_in, height_in), layout="constrained")
        FigureCanvasAgg(figure)
        draw(figure)
        # Lay out once in this style, so text extents are those of the report's font.
        figure.draw_without_rendering()
    return figure


def png(figure: Figure) -> bytes:
    """The figure as PNG bytes at the report's resolution."""
    buffer = io.BytesIO()
    with _drawing():
        figure.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None})
    return buffer.getvalue()


def wrap_text(text: str, width: int) -> str:
    """``text`` on lines of at most ``width`` letters (see :func:`reports.text.wrap_lines`)."""
    return "\n".join(wrap_lines(text, width))


def _legend_below(figure: Figure, axes, **options: object) -> None:
    """The axes' legend under the plot, read row by row, in the fewest rows that fit the
    figure's width, with the entries spread evenly over those rows."""
    handles, labels = axes.get_legend_handles_labels()
    renderer = figure.canvas.get_renderer()

    def legend(columns: int):
        # Matplotlib fills a legend column by column; this order reads row by row instead.
        order = [i for column in range(columns) for i in range(column, len(labels), columns)]
        return figure.legend(
            [handles[i] for i in order],
            [labels[i] for i in order],
            ncols=columns,
            loc="outside lower center",
            frameon=False,
            **options,
        )

    for columns in range(len(labels), 0, -1):
        drawn = legend(columns)
        fits = drawn.get_window_extent(renderer).width <= figure.bbox.width * 0.98
        if fits or columns == 1:
            rows = math.ceil(len(labels) / columns)
            if math.ceil(len(labels) / rows) < columns:
                drawn.remove()
                legend(math.ceil(len(labels) / rows))
            return
        drawn.remove()


def distribution_chart(
    labels: Sequence[str],
    shares: np.ndarray,
    categories: Sequence[str],
) -> Figure:
    """Stacked 100% bars, one per item: share of each answer category, low (red) to high (blue).

    Item labels wrap over as many lines as they need; the legend sits under the bars in as
    many columns as fit.
    """
    shares = np.asarray(shares, dtype=float)
    k = len(categories)
    colours = _diverging(k)

    def draw(figure: Figure) -> None:
        axes = figure.add_subplot()
        y = np.arange(len(labels))[::-1]
        left = np.zeros(len(labels))
        for j in range(k):
            axes.barh(
                y,
                shares[:, j],
                left=left,
                color=colours[j],
                height=0.72,
                label=wrap_text(categories[j], 22),
                edgecolor="white",
                linewidth=0.4,
            )
            for row, (start, width) in enumerate(zip(left, shares[:, j], strict=True)):
                if width >= 7:
                    axes.text(
                        start + width / 2,
                        y[row],
                        f"{width:.0f}",
                        ha="center",
                        va="center",
                        fontsize=6.5,
                        color="white"
                        if j in (0, k - 1) or abs(j - (k - 1) / 2) > 1.5
                        else PALETTE["ink"],
                    )
            left += shares[:, j]
        axes.set_yticks(y, wrapped)
        axes.set_xlim(0, 100)
        axes.set_xlabel("%")
        axes.spines["left"].set_visible(False)
        axes.tick_params(axis="y", length=0)
        _legend_below(figure, axes, fontsize=7, handlelength=1.2, columnspacing=0.9)

    wrapped = [wrap_text(label, 40) for label in labels]
    lines = sum(label.count("\n") + 1 for label in wrapped)
    return _draw(draw, 7.0, 1.3 + 0.16 * lines + 0.14 * len(labels))


def _diverging(k: int) -> list[tuple[float, float, float, float]]:
    from matplotlib import colormaps

    cmap = colormaps["RdYlBu"]
    return [cmap(0.08 + 0.84 * j / max(k - 1, 1)) for j in range(k)]


def nps_chart(
    detractors: float, passives: float, promoters: float, labels: Sequence[str], title: str
) -> Figure:
    """One stacked bar: detractors, passives, promoters (%), with the NPS written above."""

    def draw(figure: Figure) -> None:
        axes = figure.add_subplot()
        left = 0.0
        for value, colour, label in zip(
            (detractors, passives, promoters),
            (PALETTE["bad"], PALETTE["neutral"], PALETTE["good"]),
            labels,
            strict=True,
        ):
            axes.barh([0], [value], left=left, color=colour, height=0.55, label=label)
            if value >= 5:
                axes.text(
                    left + value / 2,
                    0,
                    f"{value:.0f}%",
                    ha="center",
                    va="center",
                    color="white",
                    fontsize=9,
                    fontweight="bold",
                )
            left += value
        axes.set_xlim(0, 100)
        axes.set_yticks([])
        axes.spines["left"].set_visible(False)
        axes.set_title(title, loc="left", fontsize=11, color=PALETTE["ink"], fontweight="bold")
        _legend_below(figure, axes)

    return _draw(draw, 6.5, 1.7)


@dataclass(frozen=True)
class PathEdge:
    source: str
    target: str
    beta: float
    pvalue: float


def _layers(nodes: Sequence[str], edges: Sequence[PathEdge]) -> dict[str, int]:
    """Longest-path layer of each construct: exogenous ones in layer 0."""
    layer = dict.fromkeys(nodes, 0)
    for _ in range(len(nodes)):
        changed = False
        for edge in edges:
            if layer[edge.target] < layer[edge.source] + 1:
                layer[edge.target] = layer[edge.source] + 1
                changed = True
        if not changed:
            break
    return layer


def path_diagram(
    nodes: Sequence[str],
    names: dict[str, str],
    edges: Sequence[PathEdge],
    r2: dict[str, float],
) -> Figure:
    """Constructs as ellipses left to right by causal order, arrows labelled with β and stars."""
    from reports.document import format_number, stars

    layer = _layers(nodes, edges)
    columns: dict[int, list[str]] = {}
    for node in nodes:
        columns.setdefault(layer[node], []).append(node)
    n_columns = max(columns) + 1
    tallest = max(len(c) for c in columns.values())
    position = {}
    for index, members in columns.items():
        for rank, node in enumerate(members):
            # Stagger middle layers so arrows from first to last layer do not cross the boxes.
            offset = (
                0.5 if (0 < index < n_columns - 1 and len(members) == 1 and n_columns > 2) else 0
            )
            y = (len(members) - 1) / 2 - rank + offset
            position[node] = (index * 3.2, y * 1.7)
    width, height = 2.1, 1.0

    ellipses: dict[str, Ellipse] = {}

    def draw_all(figure: Figure) -> None:
        axes = figure.add_subplot()
        axes.set_aspect("equal")
        axes.axis("off")
        for node, (x, y) in position.items():
            endogenous = node in r2
            ellipse = Ellipse(
                (x, y),
                width,
                height,
                facecolor="#e8f0fa" if endogenous else "white",
                edgecolor=PALETTE["accent"],
                linewidth=1.4,
                zorder=3,
            )
            axes.add_patch(ellipse)
            ellipses[node] = ellipse
            name = wrap_text(names.get(node, node), 14)
            axes.text(
                x,
                y + (0.14 if endogenous else 0),
                name,
                ha="center",
                va="center",
                fontsize=9.5 if name.count("\n") < 2 else 8,
                fontweight="bold",
                color=PALETTE["ink"],
                zorder=4,
            )
            if endogenous:
                axes.text(
                    x,
                    y - 0.27,
                    f"R² = {format_number(r2[node], 'coef')}",
                    ha="center",
                    va="center",
                    fontsize=8,
                    color=PALETTE["accent"],
                    zorder=4,
                )
        for edge in edges:
            (x0, y0), (x1, y1) = position[edge.source], position[edge.target]
            significant = edge.pvalue < 0.05
            axes.add_patch(
                FancyArrowPatch(
                    (x0, y0),
                    (x1, y1),
                    arrowstyle="-|>",
                    mutation_scale=14,
                    linewidth=0.8 + 2.0 * min(abs(edge.beta), 1),
                    color=PALETTE["accent"] if significant else PALETTE["muted"],
                    linestyle="-" if significant else (0, (4, 3)),
                    patchA=ellipses[edge.source],
                    patchB=ellipses[edge.target],
                    zorder=2,
                )
            )
            label = f"{format_number(edge.beta, 'coef')}{stars(edge.pvalue)}"
            axes.text(
                x0 + (x1 - x0) * 0.5,
                y0 + (y1 - y0) * 0.5,
                label,
                ha="center",
                va="center",
                fontsize=9,
                color=PALETTE["ink"],
                zorder=5,
                bbox={"boxstyle": "round,pad=0.2", "fc": "white", "ec": "none"},
            )
        xs = [p[0] for p in position.values()]
        ys = [p[1] for p in position.values()]
        axes.set_xlim(min(xs) - width * 0.65, max(xs) + width * 0.65)
        axes.set_ylim(min(ys) - height, max(ys) + height)

    return _draw(draw_all, min(1.6 + 2.1 * n_columns, 7.0), 1.2 + 1.05 * tallest)


def ipa_chart(
    names: Sequence[str],
    importance: Sequence[float],
    performance: Sequence[float],
    axis_labels: tuple[str, str],
    quadrant_labels: dict[str, str],
) -> Figure:
    """Importance (x) against performance (y), split at the means into four quadrants."""

    def draw(figure: Figure) -> None:
        axes = figure.add_subplot()
        x = np.asarray(importance, dtype=float)
        y = np.asarray(performance, dtype=float)
        axes.axvline(x.mean(), color=PALETTE["muted"], linewidth=0.8, linestyle="--")
        axes.axhline(y.mean(), color=PALETTE["muted"], linewidth=0.8, linestyle="--")
        axes.scatter(x, y, s=70, color=PALETTE["accent"], zorder=3)
        for name, xi, yi in zip(names, x, y, strict=True):
            # Labels point inwards, so the outermost ones stay inside the plot.
            right_half = xi > x.mean()
            axes.annotate(
                wrap_text(name, 20),
                (xi, yi),
                xytext=(-6 if right_half else 6, 5),
                textcoords="offset points",
                ha="right" if right_half else "left",
                fontsize=8.5,
            )
        pad_x = max(np.ptp(x) * 0.35, 0.05)
        pad_y = max(np.ptp(y) * 0.35, 5)
        axes.set_xlim(x.min() - pad_x, x.max() + pad_x)
        axes.set_ylim(max(y.min() - pad_y, 0), min(y.max() + pad_y, 100))
        corners = {
            "concentrate here": (0.98, 0.03, "right", "bottom"),
            "keep up the good work": (0.98, 0.97, "right", "top"),
            "low priority": (0.02, 0.03, "left", "bottom"),
            "possible overkill": (0.02, 0.97, "left", "top"),
        }
        for key, (cx, cy, ha, va) in corners.items():
            axes.text(
                cx,
                cy,
                quadrant_labels[key],
                transform=axes.transAxes,
                ha=ha,
                va=va,
                fontsize=7.5,
                color=PALETTE["muted"],
                style="normal",
            )
        axes.set_xlabel(axis_labels[0])
        axes.set_ylabel(axis_labels[1])
        axes.grid(color=PALETTE["grid"], linewidth=0.5)

    return _draw(draw, 6.0, 4.0)


def index_chart(names: Sequence[str], values: Sequence[float]) -> Figure:
    """Horizontal bars of 0–100 indices, each labelled with its value."""

    def draw(figure: Figure) -> None:
        axes = figure.add_subplot()
        y = np.arange(len(names))[::-1]
        axes.barh(y, values, height=0.6, color=PALETTE["accent"])
        for yi, value in zip(y, values, strict=True):
            axes.text(value + 1, yi, f"{value:.1f}", va="center", fontsize=8.5)
        axes.set_yticks(y, [wrap_text(name, 24) for name in names])
        axes.set_xlim(0, 100)
        axes.tick_params(axis="y", length=0)
        axes.spines["left"].set_visible(False)
        axes.grid(axis="x", color=PALETTE["grid"], linewidth=0.5)
        axes.set_axisbelow(True)

    return _draw(draw, 6.0, 0.9 + 0.42 * len(names))


def quadrant_chart(
    cells: dict[tuple[bool, bool], tuple[str, float]],
    axis_labels: tuple[str, str],
    level_labels: tuple[str, str],
) -> Figure:
    """A 2×2 grid (attitude × behaviour) with each segment's name and share."""

    def draw(figure: Figure) -> None:
        axes = figure.add_subplot()
        axes.set_xlim(0, 2)
        axes.set_ylim(0, 2)
        axes.set_aspect("equal")
        top = max(share for _, share in cells.values()) or 1
        for (attitude_high, behaviour_high), (name, share) in cells.items():
            x, y = (1 if behaviour_high else 0), (1 if attitude_high else 0)
            shade = 0.15 + 0.75 * share / top
            axes.add_patch(
                Rectangle(
                    (x + 0.03, y + 0.03),
                    0.94,
                    0.94,
                    facecolor=(0.11, 0.31, 0.54, shade),
                    edgecolor="white",
                )
            )
            colour = "white" if shade > 0.5 else PALETTE["ink"]
            axes.text(
                x + 0.5,
                y + 0.58,
                name,
                ha="center",
                va="center",
                fontsize=10,
                color=colour,
                fontweight="bold",
            )
            axes.text(
                x + 0.5,
                y + 0.36,
                f"{share:.1f}%",
                ha="center",
                va="center",
                fontsize=13,
                color=colour,
            )
        axes.set_xticks([0.5, 1.5], [level_labels[0], level_labels[1]])
        axes.set_yticks([0.5, 1.5], [level_labels[0], level_labels[1]])
        axes.set_xlabel(axis_labels[1])
        axes.set_ylabel(axis_labels[0])
        for spine in axes.spines.values():
            spine.set_visible(False)
        axes.tick_params(length=0)

    return _draw(draw, 4.6, 4.2)


def trend_chart(waves: Sequence[str], series: dict[str, Sequence[float]], ylabel: str) -> Figure:
    """Index per wave on the whole 0–100 scale (as the dashboard draws it), one line per
    construct; the legend under the plot gives each construct's latest value."""

    def draw(figure: Figure) -> None:
        axes = figure.add_subplot()
        x = np.arange(len(waves))
        for name, values in series.items():
            label = wrap_text(f"{name} ({values[-1]:.0f})", 30)
            axes.plot(x, values, marker="o", linewidth=1.8, label=label)
        axes.set_xticks(x, [wrap_text(wave, 14) for wave in waves])
        axes.set_xlim(-0.3, len(waves) - 0.7)
        axes.set_ylim(0, 100)
        axes.set_yticks(range(0, 101, 25))
        axes.set_ylabel(ylabel)
        axes.grid(axis="y", color=PALETTE["grid"], linewidth=0.5)
        _legend_below(figure, axes, fontsize=8)

    return _draw(draw, 6.5, 3.4)
