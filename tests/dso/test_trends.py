"""Month-end trends and the DSO thresholds of partner profiles."""

from __future__ import annotations

from decimal import Decimal

import pytest

from gateway.business import DsoThresholds
from gateway.dso import DsoReport, Ledger, compute, crossed_thresholds, month_ends, trend
from gateway.dso.thresholds import level_of
from gateway.errors import UsageError
from tests.dso.rows import day, inv, pay


def test_month_ends() -> None:
    assert month_ends(day("2024-03-31"), 3) == [
        day("2024-01-31"),
        day("2024-02-29"),
        day("2024-03-31"),
    ]
    # Mid-month: the month-ends before it; across a year end.
    assert month_ends(day("2024-01-15"), 3) == [
        day("2023-10-31"),
        day("2023-11-30"),
        day("2023-12-31"),
    ]
    assert len(month_ends(day("2024-01-15"))) == 12
    with pytest.raises(UsageError):
        month_ends(day("2024-01-15"), 0)


def test_trend_is_compute_on_each_month_end() -> None:
    ledger = Ledger.build(
        [
            inv("1", "A", "2024-01-10", "2024-02-09", "100.00"),
            inv("2", "A", "2024-02-10", "2024-03-11", "200.00"),
        ],
        [pay("1", "A", "2024-02-20", "100.00")],
    )
    found = trend(ledger, day("2024-03-15"), 3, period_days=30)
    assert found.month_ends == (day("2023-12-31"), day("2024-01-31"), day("2024-02-29"))
    assert found.reports == tuple(compute(ledger, end, 30) for end in found.month_ends)
    series = found.series("A")
    # 12-31: nothing yet; 01-31: 100 open on sales 100 in (01-01, 01-31] → 30 days;
    # 02-29: invoice 1 paid, 200 open on sales 200 in (01-30, 02-29] → 30 days.
    assert [figures.dso for _, figures in series] == [None, Decimal("30.00"), Decimal("30.00")]
    assert [figures.ar for _, figures in series] == [
        Decimal("0.00"),
        Decimal("100.00"),
        Decimal("200.00"),
    ]


def test_threshold_levels() -> None:
    limits = DsoThresholds(warn_days=45, alert_days=60)
    assert level_of(None, limits) is None
    assert level_of(Decimal("45.00"), limits) is None  # "above" is strict
    assert level_of(Decimal("45.01"), limits) == "warn"
    assert level_of(Decimal("60.00"), limits) == "warn"
    assert level_of(Decimal("60.01"), limits) == "alert"


def _report(dso_by_partner: dict[str, str]) -> DsoReport:
    # One invoice on D per partner, sales 900 over N = 90: DSO = open / 10.
    invoices = [inv(p, p, "2024-03-31", "2024-04-30", "900.00") for p in dso_by_partner]
    payments = [
        pay(p, p, "2024-03-31", str(Decimal("900.00") - Decimal(dso) * 10))
        for p, dso in dso_by_partner.items()
    ]
    return compute(Ledger.build(invoices, payments), day("2024-03-31"))


def test_crossed_thresholds() -> None:
    limits = {
        "A": DsoThresholds(warn_days=45, alert_days=60),
        "B": DsoThresholds(),
        "C": DsoThresholds(),
    }
    before = _report({"A": "40", "B": "50", "C": "70", "D": "90"})
    now = _report({"A": "61", "B": "55", "C": "70", "D": "90"})
    every = crossed_thresholds(now, limits)
    assert [(c.partner_id, c.level, c.dso, c.threshold_days) for c in every] == [
        ("A", "alert", Decimal("61.00"), 60),
        ("B", "warn", Decimal("55.00"), 45),
        ("C", "alert", Decimal("70.00"), 60),
    ]  # D has no thresholds; the portfolio row is never checked
    rising = crossed_thresholds(now, limits, previous=before)
    assert [(c.partner_id, c.level, c.previous_dso) for c in rising] == [
        ("A", "alert", Decimal("40.00"))
    ]
