"""Generated ledgers: the fast figures equal a direct reading of the definitions.

The reference below follows the issue's words one invoice at a time with ``Decimal`` and
``quantize(ROUND_HALF_UP)``; ``gateway.dso`` works in integer cents over sorted columns.
Dates cluster around D so that window edges, month edges and the 24-month limit are hit.
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from tempfile import TemporaryDirectory

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateway.dso import PORTFOLIO, Invoice, Ledger, Payment, compute, load_ledger

CENT = Decimal("0.01")
D = dt.date(2024, 3, 31)

amounts = st.integers(min_value=0, max_value=500_000).map(lambda c: Decimal(c).scaleb(-2))
offsets = st.integers(min_value=-800, max_value=40)  # days from D


@st.composite
def ledgers(draw: st.DrawFn) -> tuple[list[Invoice], list[Payment], dt.date, int]:
    partners = draw(st.lists(st.sampled_from(["A", "B", "C"]), min_size=1, max_size=3))
    invoices = []
    for n in range(draw(st.integers(min_value=0, max_value=25))):
        date = D + dt.timedelta(days=draw(offsets))
        due = date + dt.timedelta(days=draw(st.integers(min_value=-5, max_value=120)))
        invoices.append(Invoice(f"I{n}", draw(st.sampled_from(partners)), date, due, draw(amounts)))
    payments = []
    for invoice in invoices:
        for _ in range(draw(st.integers(min_value=0, max_value=3))):
            date = invoice.invoice_date + dt.timedelta(days=draw(st.integers(-10, 150)))
            part = draw(st.sampled_from([invoice.amount, invoice.amount / 2, Decimal(0)]))
            part = draw(st.one_of(st.just(part.quantize(CENT)), amounts, amounts.map(lambda a: -a)))
            payments.append(Payment(invoice.invoice_number, invoice.partner_id, date, part))
    as_of = D + dt.timedelta(days=draw(st.integers(min_value=-60, max_value=10)))
    return invoices, payments, as_of, draw(st.sampled_from([1, 30, 90, 365]))


def _round(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def reference(
    invoices: list[Invoice], payments: list[Payment], as_of: dt.date, n: int
) -> dict[str, dict[str, object]]:
    """The figures of one group of invoices, straight from the definitions."""
    start = as_of - dt.timedelta(days=n)
    booked = [i for i in invoices if i.invoice_date <= as_of]
    paid: dict[str, list[Payment]] = {}
    for p in payments:
        if p.payment_date <= as_of:
            paid.setdefault(p.invoice_number, []).append(p)
    open_ = {
        i.invoice_number: max(
            Decimal(0),
            i.amount - sum((p.amount for p in paid.get(i.invoice_number, [])), Decimal(0)),
        )
        for i in booked
    }
    ar = sum(open_.values(), Decimal(0))
    sales = sum((i.amount for i in booked if start < i.invoice_date), Decimal(0))
    buckets = dict.fromkeys(("current", "1_30", "31_60", "61_90", "over_90"), Decimal(0))
    for i in booked:
        late = (as_of - i.due_date).days
        name = (
            "current"
            if late <= 0
            else "1_30"
            if late <= 30
            else "31_60"
            if late <= 60
            else "61_90"
            if late <= 90
            else "over_90"
        )
        buckets[name] += open_[i.invoice_number]
    weight = weighted = Decimal(0)
    for i in booked:
        mine = paid.get(i.invoice_number, [])
        if mine and open_[i.invoice_number] == 0 and i.amount - sum(p.amount for p in mine) <= 0:
            last = max(p.payment_date for p in mine)
            if start < last <= as_of:
                weight += i.amount
                weighted += i.amount * (last - i.invoice_date).days
    row: dict[str, object] = {
        "ar": _round(ar),
        "sales": _round(sales),
        "aging": {k: _round(v) for k, v in buckets.items()},
        "average_days_to_pay": _round(weighted / weight) if weight else None,
    }
    if sales == 0:
        row |= {"dso": None, "best_possible_dso": None, "add": None, "countback_dso": None}
        return row
    dso = _round(ar / sales * n)
    bpdso = _round(buckets["current"] / sales * n)
    row |= {
        "dso": dso,
        "best_possible_dso": bpdso,
        "add": dso - bpdso,
        "countback_dso": _countback(booked, ar, as_of),
    }
    return row


def _countback(booked: list[Invoice], ar: Decimal, as_of: dt.date) -> Decimal:
    left, days = ar, Decimal(0)
    year, month = as_of.year, as_of.month
    for k in range(24):
        first = dt.date(year, month, 1)
        end = (
            as_of
            if k == 0
            else (dt.date(year + month // 12, month % 12 + 1, 1) - dt.timedelta(days=1))
        )
        length = (end - first).days + 1
        sales = sum((i.amount for i in booked if first <= i.invoice_date <= end), Decimal(0))
        if left == 0:
            break
        if left < sales:
            return _round(days + left / sales * length)
        left -= sales
        days += length
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return _round(days)


def _as_values(row: dict[str, object]) -> dict[str, object]:
    return {
        k: (
            Decimal(v)
            if isinstance(v, str)
            else {b: Decimal(x) for b, x in v.items()}
            if isinstance(v, dict)
            else v
        )
        for k, v in row.items()
    }


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ledgers())
def test_matches_the_definitions(case: tuple[list[Invoice], list[Payment], dt.date, int]) -> None:
    invoices, payments, as_of, n = case
    report = compute(Ledger.build(invoices, payments), as_of, n)
    partners = sorted({i.partner_id for i in invoices})
    assert list(report.partners) == [*partners, PORTFOLIO]
    for partner in partners:
        mine = [i for i in invoices if i.partner_id == partner]
        theirs = [p for p in payments if p.partner_id == partner]
        expected = reference(mine, theirs, as_of, n)
        assert _as_values(report.partners[partner].as_json()) == expected, partner
    assert _as_values(report.portfolio.as_json()) == reference(invoices, payments, as_of, n)


@settings(max_examples=100, deadline=None)
@given(ledgers())
def test_figures_add_up(case: tuple[list[Invoice], list[Payment], dt.date, int]) -> None:
    invoices, payments, as_of, n = case
    report = compute(Ledger.build(invoices, payments), as_of, n)
    rows = [row for pid, row in report.partners.items() if pid != PORTFOLIO]
    for row in report.partners.values():
        assert row.aging.total == row.ar  # the buckets add up to AR
        assert row.ar >= 0
        assert (row.dso is None) == (row.sales == 0)
        if row.dso is not None:
            assert row.best_possible_dso is not None and row.add is not None
            assert row.dso == row.best_possible_dso + row.add  # DSO = BPDSO + ADD
            assert 0 <= row.best_possible_dso <= row.dso
    assert report.portfolio.ar == sum((r.ar for r in rows), Decimal("0.00"))
    assert report.portfolio.sales == sum((r.sales for r in rows), Decimal("0.00"))


@settings(max_examples=25, deadline=None)
@given(ledgers())
def test_csv_gives_the_same_report(case: tuple[list[Invoice], list[Payment], dt.date, int]) -> None:
    invoices, payments, as_of, n = case
    with TemporaryDirectory() as tmp:
        inv_path, pay_path = Path(tmp, "i.csv"), Path(tmp, "p.csv")
        inv_path.write_text(
            "amount,due_date,invoice_date,partner_id,invoice_number\n"
            + "".join(
                f"{i.amount},{i.due_date},{i.invoice_date},{i.partner_id},{i.invoice_number}\n"
                for i in invoices
            ),
            encoding="utf-8",
        )
        pay_path.write_text(
            "invoice_number,partner_id,payment_date,amount\n"
            + "".join(
                f"{p.invoice_number},{p.partner_id},{p.payment_date},{p.amount}\n" for p in payments
            ),
            encoding="utf-8",
        )
        from_csv = compute(load_ledger(inv_path, pay_path), as_of, n)
    assert from_csv == compute(Ledger.build(invoices, payments), as_of, n)
