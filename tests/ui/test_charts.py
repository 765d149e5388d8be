"""The SVG chart geometry: round axis ticks, lines broken at missing values, bar shares."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from gateway.web.ui.charts import BOTTOM, HEIGHT, LEFT, TOP, bar_chart, line_chart, nice_ticks


def test_ticks_are_round_and_cover_the_highest_value() -> None:
    assert nice_ticks(135) == [0, 50, 100, 150]
    assert nice_ticks(90) == [0, 20, 40, 60, 80, 100]
    assert nice_ticks(12) == [0, 2.5, 5, 7.5, 10, 12.5]
    assert nice_ticks(0) == [0, 0.2, 0.4, 0.6, 0.8, 1.0]
    assert nice_ticks(100) == [0, 20, 40, 60, 80, 100]


def test_line_chart_places_months_values_and_breaks_at_gaps() -> None:
    months = [dt.date(2025, 12, 31), dt.date(2026, 1, 31), dt.date(2026, 2, 28)]
    chart = line_chart(
        months,
        [("dso", "DSO", [Decimal("100"), None, Decimal("50")])],
        title="t",
        description="d",
        rules=[("alert", "alert", 60)],
    )
    [series] = chart.series
    bottom = HEIGHT - BOTTOM
    assert [p.x for p in series.points] == [LEFT, chart.right]
    assert [p.y for p in series.points] == [TOP, round(bottom - (bottom - TOP) / 2, 1)]
    assert series.segments == ("60.0,44.0", "696.0,168.0")  # two pieces: the gap breaks it
    assert series.points[0].text == "Dec 2025: DSO 100 days"
    assert [(t.label, t.sublabel) for t in chart.x_ticks] == [
        ("Dec", "2025"),
        ("Jan", "2026"),
        ("Feb", ""),
    ]
    assert [t.label for t in chart.y_ticks] == ["0", "20", "40", "60", "80", "100"]
    assert chart.rules[0].label == "alert 60"


def test_bars_are_shares_of_the_total() -> None:
    chart = bar_chart(
        [("current", "Current", Decimal("300.00")), ("over_90", "Over 90", Decimal("100.00"))],
        title="t",
        description="d",
    )
    first, second = chart.bars
    assert first.width == 3 * second.width > 0
    assert (first.text, second.text) == ("300.00 (75%)", "100.00 (25%)")
    empty = bar_chart([("current", "Current", Decimal("0.00"))], title="t", description="d")
    assert empty.bars[0].width == 0 and empty.bars[0].text == "0.00 (0%)"
