"""Days sales outstanding per trading partner on an as-of date D, over a period of N days.

The window is (D − N days, D]. For each partner, and for all partners together (the
portfolio row ``*``):

- open(i) = amount − payments dated ≤ D, for invoices dated ≤ D, never below 0;
  AR = Σ open(i); sales = Σ amount of the invoices dated in the window.
- DSO = AR / sales × N. Best possible DSO (BPDSO) = Σ open(i) with due date ≥ D (the
  ``current`` aging bucket) / sales × N. ADD (average days delinquent) = DSO − BPDSO, taken
  from the two rounded figures so the published numbers always add up.
- Countback DSO: walk calendar months back from D's month. A month's sales are its invoices
  dated ≤ D and its days are the month's days up to D (D's day of month for D's own month).
  While the remaining AR covers a month's sales, subtract them and add the month's days
  (a month without sales is covered whole); then add remaining AR / that month's sales × its
  days. At most 24 months are walked, D's month included: AR the 24 months do not cover adds
  nothing more, so the figure is capped at their days.
- Average days to pay: over invoices dated ≤ D that payments dated ≤ D pay in full and
  whose last such payment falls in the window, Σ amount × (last payment date − invoice
  date) / Σ amount.

Amounts are rounded to cents and days to hundredths, half up (``Decimal``, exact). DSO,
BPDSO, ADD and countback DSO are null when the window's sales are 0; average days to pay is
null when no invoice with an amount was paid in full in the window. Every partner of the
ledger gets a row, even with nothing dated ≤ D.

Imports only the standard library, ``gateway.errors`` and ``gateway.dso``.
"""

from __future__ import annotations

import datetime as dt
from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field
from itertools import compress
from typing import TYPE_CHECKING, Final

from gateway.dso.aging import Aging, age_open_items
from gateway.dso.ledger import PORTFOLIO
from gateway.dso.rounding import money, ratio
from gateway.errors import UsageError

if TYPE_CHECKING:
    from collections.abc import Mapping
    from decimal import Decimal

    from gateway.dso.ledger import Ledger

COUNTBACK_MONTHS: Final = 24
_POSITIVE: Final = (0).__lt__


@dataclass(frozen=True, slots=True)
class PartnerFigures:
    """One row of the report: amounts in currency units, days with two decimals."""

    ar: Decimal
    sales: Decimal
    dso: Decimal | None
    best_possible_dso: Decimal | None
    add: Decimal | None
    countback_dso: Decimal | None
    aging: Aging
    average_days_to_pay: Decimal | None

    def as_json(self) -> dict[str, object]:
        """The row as JSON values: every ``Decimal`` as a string such as ``"1234.50"``."""
        return {
            "ar": str(self.ar),
            "sales": str(self.sales),
            "dso": _text(self.dso),
            "best_possible_dso": _text(self.best_possible_dso),
            "add": _text(self.add),
            "countback_dso": _text(self.countback_dso),
            "aging": self.aging.as_json(),
            "average_days_to_pay": _text(self.average_days_to_pay),
        }


@dataclass(frozen=True, slots=True)
class DsoReport:
    """The figures of every partner on one as-of date; the portfolio row ``*`` comes last."""

    as_of: dt.date
    period_days: int
    partners: Mapping[str, PartnerFigures]

    @property
    def portfolio(self) -> PartnerFigures:
        """The row for all partners together."""
        return self.partners[PORTFOLIO]

    def as_json(self) -> dict[str, object]:
        """``{"as_of", "period_days", "partners": {ID: row}}``, rows as in ``PartnerFigures``."""
        return {
            "as_of": self.as_of.isoformat(),
            "period_days": self.period_days,
            "partners": {pid: row.as_json() for pid, row in self.partners.items()},
        }


@dataclass(slots=True)
class _Totals:
    """Additive cent and day sums of one partner, from which its figures follow."""

    aging: list[int] = field(default_factory=lambda: [0] * 5)
    sales: int = 0
    months: list[int] = field(default_factory=list)
    paid_cents: int = 0
    paid_cent_days: int = 0

    def absorb(self, other: _Totals) -> None:
        self.aging = [a + b for a, b in zip(self.aging, other.aging, strict=True)]
        self.sales += other.sales
        self.months = [a + b for a, b in zip(self.months, other.months, strict=True)]
        self.paid_cents += other.paid_cents
        self.paid_cent_days += other.paid_cent_days


def compute(ledger: Ledger, as_of: dt.date, period_days: int = 90) -> DsoReport:
    """The DSO report of every partner of ``ledger`` on ``as_of`` over ``period_days``.

    Raises:
        UsageError: ``period_days`` is below 1.
    """
    if period_days < 1:
        raise UsageError(f"the period must be at least 1 day, found {period_days}")
    day = as_of.toordinal()
    start = day - period_days
    remaining = _remaining(ledger, day)
    months = _month_starts(as_of)
    month_days = _month_days(as_of, months)
    totals = [
        _partner_totals(ledger, k, remaining, day=day, start=start, months=months)
        for k in range(len(ledger.partner_ids))
    ]
    _add_days_to_pay(ledger, remaining, totals, day=day, start=start)
    whole = _Totals(months=[0] * len(months))
    for partner in totals:
        whole.absorb(partner)
    rows = {
        pid: _figures(partner, period_days, month_days)
        for pid, partner in zip(ledger.partner_ids, totals, strict=True)
    }
    rows[PORTFOLIO] = _figures(whole, period_days, month_days)
    return DsoReport(as_of=as_of, period_days=period_days, partners=rows)


def _remaining(ledger: Ledger, day: int) -> list[int]:
    """Each invoice's amount less its payments dated ≤ ``day``, in cents (may be < 0).

    Starts from the amounts and subtracts the payments up to ``day``, or from the net of
    all payments and adds back those after ``day``, whichever touches fewer payments.
    """
    cut = bisect_right(ledger.pay_date, day)
    if cut <= len(ledger.pay_date) - cut:
        remaining = ledger.inv_cents.copy()
        for invoice, cents in zip(ledger.pay_invoice[:cut], ledger.pay_cents[:cut], strict=True):
            remaining[invoice] -= cents
        return remaining
    remaining = ledger.inv_net.copy()
    for invoice, cents in zip(ledger.pay_invoice[cut:], ledger.pay_cents[cut:], strict=True):
        remaining[invoice] += cents
    return remaining


def _partner_totals(
    ledger: Ledger, k: int, remaining: list[int], *, day: int, start: int, months: list[int]
) -> _Totals:
    """Sales, month sales and aging of partner ``k`` (its invoices are sorted by date)."""
    dates, cents = ledger.inv_date, ledger.inv_cents
    first, end = ledger.partner_starts[k], ledger.partner_starts[k + 1]
    last = bisect_right(dates, day, first, end)  # invoices dated ≤ D: first..last
    sales = sum(cents[bisect_right(dates, start, first, last) : last])
    totals = _Totals(sales=sales, months=[0] * len(months))
    upper = last
    for m, month_start in enumerate(months):
        lower = bisect_left(dates, month_start, first, upper)
        totals.months[m] = sum(cents[lower:upper])
        upper = lower
    open_items = list(compress(range(first, last), map(_POSITIVE, remaining[first:last])))
    age_open_items(
        [remaining[i] for i in open_items],
        [ledger.inv_due[i] for i in open_items],
        day,
        totals.aging,
    )
    return totals


def _add_days_to_pay(
    ledger: Ledger, remaining: list[int], totals: list[_Totals], *, day: int, start: int
) -> None:
    """Add invoices paid in full by a last payment in the window to their partner's sums."""
    low = bisect_right(ledger.pay_date, start)
    high = bisect_right(ledger.pay_date, day)
    # Payments are sorted by date, so the dict keeps each invoice's last payment date.
    last_paid = dict(zip(ledger.pay_invoice[low:high], ledger.pay_date[low:high], strict=True))
    dates, cents, partner = ledger.inv_date, ledger.inv_cents, ledger.inv_partner
    for invoice, paid_on in last_paid.items():
        if remaining[invoice] <= 0 and dates[invoice] <= day:
            row = totals[partner[invoice]]
            row.paid_cents += cents[invoice]
            row.paid_cent_days += cents[invoice] * (paid_on - dates[invoice])


def _figures(totals: _Totals, period_days: int, month_days: list[int]) -> PartnerFigures:
    ar = sum(totals.aging)
    sales = totals.sales
    dso = bpdso = add = countback = None
    if sales > 0:
        dso = ratio(ar * period_days, sales)
        bpdso = ratio(totals.aging[0] * period_days, sales)
        add = dso - bpdso
        countback = _countback(ar, totals.months, month_days)
    days_to_pay = ratio(totals.paid_cent_days, totals.paid_cents) if totals.paid_cents > 0 else None
    return PartnerFigures(
        ar=money(ar),
        sales=money(sales),
        dso=dso,
        best_possible_dso=bpdso,
        add=add,
        countback_dso=countback,
        aging=Aging.from_cents(totals.aging),
        average_days_to_pay=days_to_pay,
    )


def _countback(ar: int, month_sales: list[int], month_days: list[int]) -> Decimal:
    """Countback DSO: whole months AR covers, newest first, then a fraction of the next."""
    left, days = ar, 0
    for sales, length in zip(month_sales, month_days, strict=True):
        if left == 0:
            break
        if left < sales:
            return ratio(days * sales + left * length, sales)
        left -= sales
        days += length
    return ratio(days, 1)


def _month_starts(as_of: dt.date) -> list[int]:
    """Ordinals of the first day of D's month and of the 23 months before it, newest first.

    Fewer when the calendar starts sooner (an as-of date in year 1 or 2).
    """
    year, month = as_of.year, as_of.month
    starts: list[int] = []
    while len(starts) < COUNTBACK_MONTHS and year >= 1:
        starts.append(dt.date(year, month, 1).toordinal())
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return starts


def _month_days(as_of: dt.date, starts: list[int]) -> list[int]:
    """Days of each countback month up to D: D's day of month, then whole months.

    Whole months are the gaps between month starts, so February has 29 days in leap years.
    """
    return [as_of.day] + [after - first for first, after in zip(starts[1:], starts, strict=False)]


def _text(value: Decimal | None) -> str | None:
    return None if value is None else str(value)
