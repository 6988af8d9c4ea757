"""The engagement report's charts: matplotlib figures drawn to SVG, as ``data:`` URIs.

Figures are made with :class:`matplotlib.figure.Figure`, never with ``pyplot``: nothing is
registered in pyplot's global list of open figures, no display or GUI backend is touched
(SVG is written by matplotlib's own renderer whatever the backend), and each figure is
cleared as soon as it is drawn, so memory stays flat however many charts a report has.
Text stays text (UTF-8 in the SVG, drawn in the reader's sans-serif font): half the size of
drawing every letter as a path, and å, ä, ö come out as written.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import matplotlib
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator, NullFormatter, NullLocator

DPI = 100
TIMELINE_SIZE = (4.8, 2.6)  # inches: 480 × 260 CSS pixels
#: Okabe–Ito colours (told apart with colour blindness), and a marker and line style each,
#: so that the lines differ in more than colour.
METRIC_STYLES: dict[str, tuple[str, str, str]] = {
    "reactions": ("#0072B2", "o", "-"),
    "comments": ("#D55E00", "s", "--"),
    "shares": ("#009E73", "^", "-."),
    "saves": ("#CC79A7", "D", ":"),
}
#: A chart's title (a simulated audience's warning): dark orange, readable on white.
TITLE_COLOUR = "#9a3412"
_FALLBACK_STYLE = ("#4f5868", "v", "-")
_RC: dict[str, Any] = {
    "font.family": "sans-serif",
    # Measured with matplotlib's own DejaVu Sans (always there); shown with the first of these
    # the reader has: the narrower ones fit in the room DejaVu takes.
    "font.sans-serif": ["DejaVu Sans", "Noto Sans", "Arial", "Helvetica"],
    "font.size": 9,
    "text.color": "#1d2330",
    "axes.labelcolor": "#1d2330",
    "axes.edgecolor": "#4f5868",
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "axes.axisbelow": True,
    "grid.color": "#d9dde4",
    "grid.linewidth": 0.6,
    "xtick.color": "#4f5868",
    "ytick.color": "#4f5868",
    "legend.frameon": False,
    "svg.fonttype": "none",
    "svg.hashsalt": "campaign-report",  # the same data gives the same bytes
    # Labels come from post files (tags, languages): `$…$` there is text, never maths.
    "text.parse_math": False,
}


@dataclass(frozen=True)
class Chart:
    """A drawn chart: a ``data:`` URI for ``<img src>``, and its size in CSS pixels."""

    src: str
    width: int
    height: int


@dataclass(frozen=True)
class Line:
    """One metric over time: (age in hours, count) points, oldest first."""

    metric: str
    label: str
    points: Sequence[tuple[float, int]]


@dataclass(frozen=True)
class Bars:
    """One metric's value for each group of a bar chart (None: no value)."""

    metric: str
    label: str
    values: Sequence[float | None]


def age_label(hours: float) -> str:
    """An age as people say it: ``1 h``, ``6 h``, ``3 d`` (days from two days on)."""
    if hours >= 48:
        return f"{round(hours / 24, 1):g} d"
    if hours >= 1:
        return f"{round(hours, 1):g} h"
    return f"{round(hours * 60):g} min"


def timeline_chart(lines: Sequence[Line], *, title: str | None = None) -> Chart:
    """Counts by age: one line per metric, the age axis logarithmic (1 h … 30 d).
    ``title``, if given, is written above the chart (in the drawing itself)."""
    ages = sorted({hours for line in lines for hours, _ in line.points})
    width, height = TIMELINE_SIZE
    with matplotlib.rc_context(_RC):
        # Fixed margins (room for six-digit counts) instead of a layout engine: a report draws
        # one of these per publication, and working the layout out takes as long as drawing.
        figure = Figure(figsize=TIMELINE_SIZE, dpi=DPI)
        top = 0.3 if title else 0.1
        figure.subplots_adjust(
            left=0.62 / width, right=1 - 0.15 / width, bottom=0.55 / height, top=1 - top / height
        )
        if title:
            _title(figure, title, x=0.62 / width, y=1 - 0.06 / height)
        axes = figure.add_subplot()
        for line in lines:
            colour, marker, style = METRIC_STYLES.get(line.metric, _FALLBACK_STYLE)
            axes.plot(
                [hours for hours, _ in line.points],
                [count for _, count in line.points],
                color=colour,
                marker=marker,
                linestyle=style,
                linewidth=1.6,
                markersize=4.5,
                label=line.label,
            )
        if ages and ages[0] > 0:
            axes.set_xscale("log")
            axes.xaxis.set_minor_locator(NullLocator())
            axes.xaxis.set_minor_formatter(NullFormatter())
        if 0 < len(ages) <= 8:
            axes.set_xticks(ages, [age_label(hours) for hours in ages])
        if len(ages) == 1 and ages[0] > 0:
            axes.set_xlim(ages[0] / 2, ages[0] * 2)
        axes.set_ylim(bottom=0)
        axes.yaxis.set_major_locator(MaxNLocator(integer=True))
        axes.grid(axis="x", visible=False)
        axes.set_xlabel("Age of the post")
        axes.legend(loc="upper left", fontsize=8)
        return _draw(figure)


def bar_chart(groups: Sequence[str], bars: Sequence[Bars], *, title: str | None = None) -> Chart:
    """Grouped bars: for each group, one bar per metric side by side; ``title``, if given,
    is written above the chart (in the drawing itself)."""
    many = len(groups) > 6 or any(len(group) > 12 for group in groups)
    width = min(9.6, max(4.8, 1.2 + 0.22 * len(groups) * max(len(bars), 1)))
    with matplotlib.rc_context(_RC):
        figure = Figure(figsize=(width, 3.0 if many else 2.6), dpi=DPI, layout="constrained")
        axes = figure.add_subplot()
        step = 0.8 / max(len(bars), 1)
        for index, series in enumerate(bars):
            colour, _, _ = METRIC_STYLES.get(series.metric, _FALLBACK_STYLE)
            offset = (index - (len(bars) - 1) / 2) * step
            axes.bar(
                [position + offset for position in range(len(groups))],
                [float("nan") if value is None else value for value in series.values],
                width=step,
                color=colour,
                label=series.label,
            )
        axes.set_xticks(
            range(len(groups)),
            list(groups),
            rotation=35 if many else 0,
            ha="right" if many else "center",
            rotation_mode="anchor",
        )
        axes.grid(axis="x", visible=False)
        axes.set_ylim(bottom=0)
        axes.set_ylabel("Average")
        axes.legend(loc="lower left", bbox_to_anchor=(0, 1.0), ncols=max(len(bars), 1), fontsize=8)
        if title:
            _title(figure, title, x=0.01, y=0.99)
        return _draw(figure)


def _title(figure: Figure, text: str, *, x: float, y: float) -> None:
    """A chart's title, left-aligned at the top, bold, in a warning colour."""
    figure.suptitle(
        text, x=x, y=y, ha="left", va="top", fontsize=9, fontweight="bold", color=TITLE_COLOUR
    )


def _draw(figure: Figure) -> Chart:
    buffer = io.BytesIO()
    try:
        figure.savefig(buffer, format="svg", metadata={"Date": None})
        width, height = (round(size * DPI) for size in figure.get_size_inches())
    finally:
        figure.clear()  # frees the artists now instead of at the next garbage collection
    encoded = base64.b64encode(buffer.getvalue()).decode("ascii")
    return Chart(f"data:image/svg+xml;base64,{encoded}", width, height)
