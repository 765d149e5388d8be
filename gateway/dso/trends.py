"""Month-end DSO figures per partner, for the dashboard's 12-month trend.

Imports only the standard library, ``gateway.errors`` and ``gateway.dso``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

from gateway.dso.metrics import compute
from gateway.errors import UsageError

if TYPE_CHECKING:
    from gateway.dso.ledger import Ledger
    from gateway.dso.metrics import DsoReport, PartnerFigures


@dataclass(frozen=True, slots=True)
class Trend:
    """One report per month-end, oldest first."""

    reports: tuple[DsoReport, ...]

    @property
    def month_ends(self) -> tuple[dt.date, ...]:
        """The as-of dates of the reports, oldest first."""
        return tuple(report.as_of for report in self.reports)

    def series(self, partner_id: str) -> list[tuple[dt.date, PartnerFigures]]:
        """``(month end, figures)`` of one partner (``*`` for the portfolio), oldest first."""
        return [
            (report.as_of, report.partners[partner_id])
            for report in self.reports
            if partner_id in report.partners
        ]


def month_ends(as_of: dt.date, months: int = 12) -> list[dt.date]:
    """The last ``months`` month-ends on or before ``as_of``, oldest first.

    ``as_of`` itself is the newest when it is the last day of its month.

    Raises:
        UsageError: ``months`` is below 1.
    """
    if months < 1:
        raise UsageError(f"a trend needs at least 1 month, found {months}")
    newest = as_of.replace(day=1) - dt.timedelta(days=1)
    if (as_of + dt.timedelta(days=1)).day == 1:
        newest = as_of
    ends = [newest]
    while len(ends) < months:
        ends.append(ends[-1].replace(day=1) - dt.timedelta(days=1))
    return ends[::-1]


def trend(ledger: Ledger, as_of: dt.date, months: int = 12, *, period_days: int = 90) -> Trend:
    """The report on each of the last ``months`` month-ends on or before ``as_of``."""
    return Trend(
        reports=tuple(compute(ledger, end, period_days) for end in month_ends(as_of, months))
    )
