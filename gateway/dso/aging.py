"""Due-date aging: open amounts in buckets by days past due on the as-of date.

Days past due = as-of date − due date. ``current`` holds 0 and below (not yet due, or due
on the as-of date), then ``1_30``, ``31_60``, ``61_90`` and ``over_90``. The buckets of a
partner add up to its AR exactly.

Imports only the standard library and ``gateway.dso.rounding``.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Final

from gateway.dso.rounding import money

BUCKETS: Final = ("current", "1_30", "31_60", "61_90", "over_90")
"""Bucket names, in the order of :attr:`Aging.amounts` and of the JSON output."""


def age_open_items(open_cents: list[int], due_days: list[int], as_of: int, into: list[int]) -> None:
    """Add each open amount (cents) to its bucket in ``into`` (five cent totals).

    ``due_days`` and ``as_of`` are ordinals; the two lists run in parallel.
    """
    b0 = b1 = b2 = b3 = b4 = 0
    for cents, due in zip(open_cents, due_days, strict=True):
        late = as_of - due
        if late <= 0:
            b0 += cents
        elif late <= 30:
            b1 += cents
        elif late <= 60:
            b2 += cents
        elif late <= 90:
            b3 += cents
        else:
            b4 += cents
    into[0] += b0
    into[1] += b1
    into[2] += b2
    into[3] += b3
    into[4] += b4


@dataclass(frozen=True, slots=True)
class Aging:
    """Open amounts per bucket, in currency units with two decimals."""

    current: Decimal
    days_1_30: Decimal
    days_31_60: Decimal
    days_61_90: Decimal
    over_90: Decimal

    @classmethod
    def from_cents(cls, cents: list[int]) -> Aging:
        """Aging from the five cent totals, in :data:`BUCKETS` order."""
        return cls(*(money(c) for c in cents))

    @property
    def amounts(self) -> tuple[Decimal, ...]:
        """The five amounts in :data:`BUCKETS` order."""
        return (self.current, self.days_1_30, self.days_31_60, self.days_61_90, self.over_90)

    @property
    def total(self) -> Decimal:
        """The sum of the buckets: the AR."""
        return sum(self.amounts, Decimal("0.00"))

    def as_json(self) -> dict[str, str]:
        """``{"current": "1.00", "1_30": ..., "over_90": ...}``."""
        return {name: str(amount) for name, amount in zip(BUCKETS, self.amounts, strict=True)}
