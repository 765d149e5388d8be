"""Every DSO figure against values worked out by hand in the comments.

Scenario "ACME + BETA" is on D = 2024-03-31 with the default period N = 90. 2024 is a leap
year: D − 90 days = 2024-01-01 (Jan 31 + Feb 29 + Mar 31 = 91 days), so the window
(2024-01-01, 2024-03-31] starts on 2024-01-02 and an invoice dated 2024-01-01 is not a sale
of the period.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from gateway.dso import PORTFOLIO, DsoReport, Ledger, compute
from gateway.dso.rounding import ratio
from tests.dso.rows import day, inv, pay

D = day("2024-03-31")

ACME_INVOICES = [
    # A1: paid in full on 01-20, in the window: 2023-12-15 → 2024-01-20 is 16 + 20 = 36 days.
    inv("A1", "ACME", "2023-12-15", "2024-01-14", "400.00"),
    # A2: dated 01-01, just outside the window; 1000 − 250 = 750 open, 60 days past due.
    inv("A2", "ACME", "2024-01-01", "2024-01-31", "1000.00"),
    # A3: first day of the window; unpaid, 600 open, 03-31 − 02-01 = 59 days past due.
    inv("A3", "ACME", "2024-01-02", "2024-02-01", "600.00"),
    # A4: paid in full 03-20: 2024-02-15 → 03-20 is 14 (leap February) + 20 = 34 days.
    inv("A4", "ACME", "2024-02-15", "2024-03-16", "900.00"),
    # A5: 500 paid by D, 200 more on 04-05 (after D, ignored): 1000 open, not yet due.
    inv("A5", "ACME", "2024-03-10", "2024-04-09", "1500.00"),
    # A6: dated and due on D: 0 days past due, so current.
    inv("A6", "ACME", "2024-03-31", "2024-03-31", "300.00"),
    # A7: dated after D: ignored.
    inv("A7", "ACME", "2024-04-02", "2024-05-02", "5000.00"),
    # A8: overpaid (250 on 200) on 2023-12-28: open 0, never −50; last payment before window.
    inv("A8", "ACME", "2023-11-20", "2023-12-20", "200.00"),
    # A9: unpaid, due 2023-11-14: 16 + 31 + 31 + 29 + 31 = 138 days past due.
    inv("A9", "ACME", "2023-10-15", "2023-11-14", "800.00"),
    # A10: unpaid, due 2024-01-19: 12 + 29 + 31 = 72 days past due.
    inv("A10", "ACME", "2023-12-20", "2024-01-19", "350.00"),
    # A11: 450 − 150 = 300 open, due 03-06: 25 days past due.
    inv("A11", "ACME", "2024-02-05", "2024-03-06", "450.00"),
    # A12: dated after D but paid in full on 03-30, inside the window: still ignored.
    inv("A12", "ACME", "2024-04-10", "2024-05-10", "50.00"),
]
ACME_PAYMENTS = [
    pay("A1", "ACME", "2024-01-20", "400.00"),
    pay("A2", "ACME", "2024-02-10", "250.00"),
    pay("A4", "ACME", "2024-03-20", "900.00"),
    pay("A5", "ACME", "2024-03-25", "500.00"),
    pay("A5", "ACME", "2024-04-05", "200.00"),
    pay("A8", "ACME", "2023-12-28", "250.00"),
    pay("A11", "ACME", "2024-03-01", "150.00"),
    pay("A12", "ACME", "2024-03-30", "50.00"),
    pay("A1", "BETA", "2024-03-01", "99.00"),  # BETA has no invoice A1: left out
    pay("NOPE", "ACME", "2024-03-01", "99.00"),  # no such invoice: left out
]
# BETA: one old unpaid invoice, no sales in the window.
BETA_INVOICES = [inv("B1", "BETA", "2023-06-01", "2023-07-01", "500.00")]


@pytest.fixture(scope="module")
def report() -> DsoReport:
    ledger = Ledger.build(ACME_INVOICES + BETA_INVOICES, ACME_PAYMENTS)
    return compute(ledger, D)


def test_acme_amounts_and_aging(report: DsoReport) -> None:
    acme = report.partners["ACME"]
    # open: A2 750, A3 600, A5 1000, A6 300, A9 800, A10 350, A11 300 (A1, A4, A8 are 0).
    assert acme.ar == Decimal("4100.00")
    # Sales dated 01-02..03-31: A3 600 + A4 900 + A5 1500 + A6 300 + A11 450.
    assert acme.sales == Decimal("3750.00")
    # current A5 + A6; 1_30 A11; 31_60 A2 (60 days) + A3 (59); 61_90 A10 (72); over_90 A9.
    assert acme.aging.as_json() == {
        "current": "1300.00",
        "1_30": "300.00",
        "31_60": "1350.00",
        "61_90": "350.00",
        "over_90": "800.00",
    }
    assert acme.aging.total == acme.ar


def test_acme_days(report: DsoReport) -> None:
    acme = report.partners["ACME"]
    assert acme.dso == Decimal("98.40")  # 4100 / 3750 × 90 = 98.4
    assert acme.best_possible_dso == Decimal("31.20")  # current 1300 / 3750 × 90 = 31.2
    assert acme.add == Decimal("67.20")  # 98.40 − 31.20
    # Countback: March sales A5 + A6 = 1800 (31 days): 4100 − 1800 = 2300 left, 31 days.
    # February A4 + A11 = 1350 (29 days): 2300 − 1350 = 950 left, 60 days.
    # January A2 + A3 = 1600 > 950: 60 + 950 / 1600 × 31 = 60 + 18.40625 = 78.40625.
    assert acme.countback_dso == Decimal("78.41")
    # Paid in full with the last payment in the window: A1 (400, 36 days), A4 (900, 34).
    # (400 × 36 + 900 × 34) / 1300 = 45000 / 1300 = 34.6153…
    assert acme.average_days_to_pay == Decimal("34.62")


def test_no_sales_in_the_window_gives_nulls(report: DsoReport) -> None:
    beta = report.partners["BETA"]
    assert beta.ar == Decimal("500.00")
    assert beta.sales == Decimal("0.00")
    assert beta.aging.over_90 == Decimal("500.00")
    assert (beta.dso, beta.best_possible_dso, beta.add, beta.countback_dso) == (None,) * 4
    assert beta.average_days_to_pay is None


def test_portfolio_row(report: DsoReport) -> None:
    whole = report.partners[PORTFOLIO]
    assert list(report.partners) == ["ACME", "BETA", "*"]
    assert whole.ar == Decimal("4600.00")  # 4100 + 500
    assert whole.sales == Decimal("3750.00")
    assert whole.dso == Decimal("110.40")  # 4600 / 3750 × 90
    assert whole.best_possible_dso == Decimal("31.20")
    assert whole.add == Decimal("79.20")
    # 4600 − 1800 = 2800 (31 days), − 1350 = 1450 (60 days), 1450 / 1600 × 31 = 28.09375.
    assert whole.countback_dso == Decimal("88.09")
    assert whole.aging.over_90 == Decimal("1300.00")  # A9 800 + B1 500
    assert whole.average_days_to_pay == Decimal("34.62")


def test_json_shape(report: DsoReport) -> None:
    data = report.as_json()
    assert data["as_of"] == "2024-03-31"
    assert data["period_days"] == 90
    assert data["partners"]["BETA"] == {
        "ar": "500.00",
        "sales": "0.00",
        "dso": None,
        "best_possible_dso": None,
        "add": None,
        "countback_dso": None,
        "aging": {
            "current": "0.00",
            "1_30": "0.00",
            "31_60": "0.00",
            "61_90": "0.00",
            "over_90": "500.00",
        },
        "average_days_to_pay": None,
    }


def test_countback_in_a_short_month_and_mid_month() -> None:
    # D = 2023-03-15 (2023 is not a leap year), N = 30: window (02-13, 03-15].
    invoices = [
        inv("M1", "MID", "2023-03-05", "2023-04-04", "200.00"),
        inv("M2", "MID", "2023-02-10", "2023-03-12", "400.00"),
        inv("M3", "MID", "2023-01-20", "2023-02-19", "800.00"),
    ]
    payments = [pay("M3", "MID", "2023-02-01", "600.00")]
    mid = compute(Ledger.build(invoices, payments), day("2023-03-15"), 30).partners["MID"]
    assert mid.ar == Decimal("800.00")  # 200 + 400 + 200
    assert mid.sales == Decimal("200.00")  # only M1 is in the window
    assert mid.dso == Decimal("120.00")  # 800 / 200 × 30
    # March up to D: 200 sales, 15 days → 600 left; February: 400, 28 days → 200 left,
    # 43 days; January: 800 > 200 → 43 + 200 / 800 × 31 = 50.75.
    assert mid.countback_dso == Decimal("50.75")
    # M3 is not paid in full: no average days to pay.
    assert mid.average_days_to_pay is None


def test_countback_stops_after_24_months() -> None:
    # AR 10100: 100 of it sold on 2024-03-01, 10000 on 2021-01-10, long before the 24 months.
    invoices = [
        inv("OLD", "CAP", "2021-01-10", "2021-02-09", "10000.00"),
        inv("NEW", "CAP", "2024-03-01", "2024-03-31", "100.00"),
    ]
    cap = compute(Ledger.build(invoices, []), day("2024-03-15")).partners["CAP"]
    # March 2024 up to D: 15 days, covered (100); then 23 months without sales, April 2022
    # to February 2024: 2022-04-01 → 2024-03-01 is 365 + 335 = 700 days. No further month.
    assert cap.countback_dso == Decimal("715.00")
    assert cap.dso == Decimal("9090.00")  # 10100 / 100 × 90


def test_countback_is_zero_without_ar() -> None:
    invoices = [inv("P1", "PAID", "2024-03-01", "2024-03-31", "100.00")]
    payments = [pay("P1", "PAID", "2024-03-05", "100.00")]
    paid = compute(Ledger.build(invoices, payments), day("2024-03-15")).partners["PAID"]
    assert (paid.ar, paid.dso, paid.countback_dso) == (Decimal("0.00"),) + (Decimal("0.00"),) * 2
    assert paid.average_days_to_pay == Decimal("4.00")  # 03-01 → 03-05


def test_rounding_is_half_up() -> None:
    # N = 1: the window is D alone. AR 100 on sales 800: 100 / 800 × 1 = 0.125 → 0.13
    # (banker's rounding would give 0.12).
    invoices = [inv("R1", "RND", "2024-03-15", "2024-04-14", "800.00")]
    payments = [pay("R1", "RND", "2024-03-15", "700.00")]
    rnd = compute(Ledger.build(invoices, payments), day("2024-03-15"), 1).partners["RND"]
    assert rnd.dso == Decimal("0.13")
    assert ratio(1, 8) == Decimal("0.13")
    assert ratio(-1, 8) == Decimal("-0.13")
    assert ratio(2, 3) == Decimal("0.67")
    assert ratio(1, 200) == Decimal("0.01")  # 0.005 → 0.01
    assert ratio(1, 201) == Decimal("0.00")


def test_days_to_pay_can_be_negative_and_weights_by_amount() -> None:
    # Q1 prepaid 2 days before its date (−2 days, 300); Q2 paid after 10 days (100).
    invoices = [
        inv("Q1", "PRE", "2024-03-10", "2024-03-10", "300.00"),
        inv("Q2", "PRE", "2024-03-01", "2024-03-31", "100.00"),
    ]
    payments = [pay("Q1", "PRE", "2024-03-08", "300.00"), pay("Q2", "PRE", "2024-03-11", "100.00")]
    pre = compute(Ledger.build(invoices, payments), day("2024-03-31")).partners["PRE"]
    # (300 × −2 + 100 × 10) / 400 = 400 / 400 = 1.00
    assert pre.average_days_to_pay == Decimal("1.00")


def test_partial_payments_then_reversal() -> None:
    # 1000 invoice, 600 paid, 200 reversed (negative payment): 600 open, 45 days past due.
    invoices = [inv("V1", "REV", "2024-01-15", "2024-02-15", "1000.00")]
    payments = [pay("V1", "REV", "2024-02-01", "600.00"), pay("V1", "REV", "2024-02-20", "-200.00")]
    rev = compute(Ledger.build(invoices, payments), day("2024-03-31")).partners["REV"]
    assert rev.ar == Decimal("600.00")
    assert rev.aging.days_31_60 == Decimal("600.00")  # 03-31 − 02-15 = 45 days
    assert rev.average_days_to_pay is None


def test_the_same_ledger_on_an_earlier_date() -> None:
    # The ledger is built once; payments after an earlier D are added back (the other path).
    ledger = Ledger.build(ACME_INVOICES, ACME_PAYMENTS)
    early = compute(ledger, day("2024-01-31")).partners["ACME"]
    # On 01-31: A1 paid (01-20); A2 1000 and A3 600 unpaid; A8 0; A9 800; A10 350.
    assert early.ar == Decimal("2750.00")
    # Window (2023-11-02, 2024-01-31]: A1 400, A2 1000, A3 600, A8 200, A10 350 = 2550.
    assert early.sales == Decimal("2550.00")
    # Aging on 01-31: A2 due 01-31 current; A3 due 02-01 current; A10 12 days;
    # A9 due 2023-11-14: 16 + 31 + 31 = 78 days.
    assert early.aging.as_json() == {
        "current": "1600.00",
        "1_30": "350.00",
        "31_60": "0.00",
        "61_90": "800.00",
        "over_90": "0.00",
    }


def test_period_must_be_positive() -> None:
    from gateway.errors import UsageError

    with pytest.raises(UsageError, match="at least 1 day"):
        compute(Ledger.build([], []), D, 0)


def test_build_refuses_amounts_it_cannot_hold_exactly() -> None:
    from gateway.dso import Invoice, LedgerError, Payment

    with pytest.raises(LedgerError) as caught:
        Ledger.build(
            [Invoice("1", "A", D, D, Decimal("-1")), Invoice("2", "*", D, D, Decimal(1))],
            [Payment("1", "A", D, Decimal("1.001")), Payment("1", "A", D, Decimal("NaN"))],
        )
    assert caught.value.problems == [
        "invoices:1: amount: expected a non-negative amount with at most 2 decimals, found -1",
        "payments:1: amount: expected an amount with at most 2 decimals, found 1.001",
        "payments:2: amount: expected an amount with at most 2 decimals, found NaN",
    ]
    with pytest.raises(LedgerError, match="reserved for the portfolio row"):
        Ledger.build([Invoice("2", "*", D, D, Decimal(1))], [])
