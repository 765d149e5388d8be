"""Server-rendered SVG charts: the geometry of a line chart and of a horizontal bar chart.

The functions here compute coordinates and labels; the templates (``dso_macros.html``)
draw them as inline SVG. The page's Content Security Policy allows no ``style``
attribute, so colours and dashes come from CSS classes (``static/dso.css``) and sizes
from SVG presentation attributes (``x``, ``width``, ``points``). Every chart carries a
title and a description for assistive technology; the pages print the same numbers
in a table beside it.

Imports only the standard library.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    import datetime as dt
    from collections.abc import Sequence

WIDTH: Final = 760
HEIGHT: Final = 340
LEFT: Final = 60
RIGHT: Final = 64
TOP: Final = 44
BOTTOM: Final = 48
_STEPS: Final = (1.0, 2.0, 2.5, 5.0)
BAR_WIDTH: Final = 560
BAR_LABEL: Final = 110
BAR_ROW: Final = 28


@dataclass(frozen=True, slots=True)
class Tick:
    """One axis mark: where it is (pixels) and its label (a second line may follow)."""

    position: float
    label: str
    sublabel: str = ""


@dataclass(frozen=True, slots=True)
class Point:
    """One value on the chart, with the words a tooltip or screen reader gets."""

    x: float
    y: float
    text: str


@dataclass(frozen=True, slots=True)
class Series:
    """One line: ``key`` names its CSS class; ``segments`` are polyline point lists.

    A missing value breaks the line, so a series may have several segments.
    """

    key: str
    name: str
    segments: tuple[str, ...]
    points: tuple[Point, ...]


@dataclass(frozen=True, slots=True)
class Rule:
    """A horizontal reference line (a threshold) across the plot."""

    key: str
    y: float
    label: str


@dataclass(frozen=True, slots=True)
class LineChart:
    """Everything the template needs to draw a line chart."""

    title: str
    description: str
    unit: str
    width: int
    height: int
    left: int
    top: int
    right: float
    bottom: float
    x_ticks: tuple[Tick, ...]
    y_ticks: tuple[Tick, ...]
    series: tuple[Series, ...]
    rules: tuple[Rule, ...]


def nice_ticks(high: float, count: int = 5) -> list[float]:
    """Round tick values from 0 up to at least ``high``: steps of 1, 2, 2.5 or 5 × 10^k."""
    if high <= 0:
        high = 1.0
    raw = high / count
    power = 10.0 ** math.floor(math.log10(raw))
    step = next((s * power for s in _STEPS if s * power >= raw), 10 * power)
    top = math.ceil(high / step - 1e-9) * step
    return [round(i * step, 6) for i in range(round(top / step) + 1)]


def _number(value: float) -> str:
    return f"{value:,.1f}".removesuffix(".0")


def month_ticks(months: Sequence[dt.date], xs: Sequence[float]) -> tuple[Tick, ...]:
    """Month labels (``Apr``), with the year under the first month and under each January."""
    return tuple(
        Tick(x, month.strftime("%b"), str(month.year) if i == 0 or month.month == 1 else "")
        for i, (month, x) in enumerate(zip(months, xs, strict=True))
    )


def line_chart(
    months: Sequence[dt.date],
    series: Sequence[tuple[str, str, Sequence[Decimal | None]]],
    *,
    title: str,
    description: str,
    unit: str = "days",
    rules: Sequence[tuple[str, str, int]] = (),
) -> LineChart:
    """A line chart of ``(key, name, values)`` series over months; ``rules`` are thresholds.

    Values are not negative (DSO, BPDSO and ADD never are); the y axis starts at 0.
    """
    right, bottom = WIDTH - RIGHT, HEIGHT - BOTTOM
    plot_w, plot_h = right - LEFT, bottom - TOP
    values = [float(v) for _, _, vs in series for v in vs if v is not None]
    ticks = nice_ticks(max([*values, *(float(d) for _, _, d in rules), 0.0]))
    top_value = ticks[-1]

    def y_of(value: float) -> float:
        return round(bottom - value / top_value * plot_h, 1)

    count = len(months)
    xs = [
        round(LEFT + (i * plot_w / (count - 1) if count > 1 else plot_w / 2), 1)
        for i in range(count)
    ]
    drawn = []
    for key, name, vs in series:
        segments: list[list[str]] = [[]]
        points = []
        for month, x, value in zip(months, xs, vs, strict=True):
            if value is None:
                segments.append([])
                continue
            y = y_of(float(value))
            segments[-1].append(f"{x},{y}")
            points.append(Point(x, y, f"{month.strftime('%b %Y')}: {name} {value} {unit}"))
        lines = tuple(" ".join(s) for s in segments if s)
        drawn.append(Series(key=key, name=name, segments=lines, points=tuple(points)))
    return LineChart(
        title=title,
        description=description,
        unit=unit,
        width=WIDTH,
        height=HEIGHT,
        left=LEFT,
        top=TOP,
        right=right,
        bottom=bottom,
        x_ticks=month_ticks(months, xs),
        y_ticks=tuple(Tick(y_of(t), _number(t)) for t in ticks),
        series=tuple(drawn),
        rules=tuple(Rule(key, y_of(float(days)), f"{label} {days}") for key, label, days in rules),
    )


@dataclass(frozen=True, slots=True)
class Bar:
    """One horizontal bar: its row, length and words."""

    key: str
    label: str
    y: float
    width: float
    text: str


@dataclass(frozen=True, slots=True)
class BarChart:
    """A horizontal bar chart: bars share one scale (the total) and one left edge."""

    title: str
    description: str
    width: int
    height: int
    left: int
    bars: tuple[Bar, ...]
    row: int


def bar_chart(
    bars: Sequence[tuple[str, str, Decimal]], *, title: str, description: str
) -> BarChart:
    """Bars of ``(key, label, amount)``, each as a share of the sum of all the amounts."""
    total = sum((amount for _, _, amount in bars), Decimal(0))
    length = BAR_WIDTH - BAR_LABEL - 150  # room for the amount and share after each bar
    drawn = []
    for i, (key, label, amount) in enumerate(bars):
        share = amount / total if total > 0 else Decimal(0)
        width = round(float(share) * length, 1)
        percent = f"{share * 100:.0f}%"
        drawn.append(Bar(key, label, i * BAR_ROW, width, f"{amount:,} ({percent})"))
    return BarChart(
        title=title,
        description=description,
        width=BAR_WIDTH,
        height=len(bars) * BAR_ROW + 4,
        left=BAR_LABEL,
        bars=tuple(drawn),
        row=BAR_ROW,
    )
