"""Exact rounding of the DSO figures: cents and hundredths of a day, half up.

Every figure is a ratio of integers (cents, days), so it is rounded with integer
arithmetic and turned into a ``Decimal`` once at the end: the result equals
``Decimal(numerator / denominator).quantize(Decimal("0.01"), ROUND_HALF_UP)`` computed
with unlimited precision (ties go away from zero).

Imports only the standard library.
"""

from __future__ import annotations

from decimal import Decimal


def hundredths(value: int) -> Decimal:
    """An integer count of hundredths as an exact two-decimal ``Decimal`` (``-12.05``)."""
    sign = "-" if value < 0 else ""
    whole, part = divmod(abs(value), 100)
    return Decimal(f"{sign}{whole}.{part:02d}")


def money(cents: int) -> Decimal:
    """Integer cents as an exact ``Decimal`` with two decimals (``1234.50``)."""
    return hundredths(cents)


def ratio(numerator: int, denominator: int) -> Decimal:
    """``numerator / denominator`` rounded half up to hundredths; ``denominator`` > 0."""
    if denominator <= 0:
        raise ZeroDivisionError("ratio needs a positive denominator")
    scaled = abs(numerator) * 100
    rounded = (2 * scaled + denominator) // (2 * denominator)
    return hundredths(rounded if numerator >= 0 else -rounded)
