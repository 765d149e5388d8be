"""Inbound X12 reading: element converters for the hand-written 997/999 readers.

The element converters turn one element into a canonical value and name the element
(``AK302``) in the MappingError when it is unreadable. Business documents are read by
the declarative engine; ``functions`` shares :func:`calendar_date` with it.

Canonical form, inbound (:mod:`gateway.mapping.x12_write` holds the outbound half):

- Text is stripped of surrounding whitespace and free text is re-decoded as UTF-8; an
  empty element is None, or is left out of a tuple. A REF without REF02 has value ``""``.
- Decimals keep the digits as sent (``1.50``) and compare by value. N2 elements carry
  whole cents (two implied decimals).
- Dates are CCYYMMDD or YYMMDD; two-digit years read as 2000-2049 or 1950-1999.
  Times are HHMM, or HHMMSS(D(D)).

Imports only ``gateway.errors`` and ``gateway.x12.reader``.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import TYPE_CHECKING

from gateway.errors import MappingError
from gateway.x12.reader import text

if TYPE_CHECKING:
    from gateway.x12.reader import Segment

# -- reading elements -------------------------------------------------------------------
#
# A reader names a segment's elements once by unpacking ``padded(seg, n)``, then converts
# each value; the converters take the segment and position only to name them in errors.

SPACES = " \t\r\n"
"""What X12 readers strip from an element: ASCII blanks and line breaks."""


def padded(seg: Segment, last: int) -> list[str]:
    """The segment's elements, padded with empty strings so that ``[last]`` exists."""
    els = seg.elements
    short = last + 1 - len(els)
    return els + [""] * short if short > 0 else els


def mapping_error(seg: Segment, index: int, what: str, problem: str) -> MappingError:
    """A MappingError naming the element (``BEG03``), what it holds and where it is."""
    ref = f"{seg.elements[0]}{index:02d}"
    return MappingError(f"{ref} ({what}) in segment {seg.number}: {problem}", path=ref)


def code(value: str) -> str | None:
    """An identifier or code, stripped; None when empty."""
    return value.strip(SPACES) or None


def required(value: str, seg: Segment, index: int, what: str) -> str:
    """An identifier or code that must be there."""
    found = value.strip(SPACES)
    if not found:
        raise mapping_error(seg, index, what, "required, but empty or absent")
    return found


def words(value: str) -> str | None:
    """Free text (names, descriptions, addresses), re-decoded as UTF-8 and stripped."""
    return (value if value.isascii() else text(value)).strip() or None


def _decimal(value: str) -> Decimal | None:
    """``value`` as a Decimal, or None where X12 R does not allow it.

    ``Decimal`` also takes ``+1``, ``1_000``, ``NaN``, ``Infinity`` and non-ASCII digits.
    """
    if value.isascii() and value.replace(".", "", 1).isdigit():
        return Decimal(value)  # the usual case: digits with at most one point
    try:
        found = Decimal(value)
    except InvalidOperation:
        return None
    if not found.is_finite() or "_" in value or value[0] == "+" or not value.isascii():
        return None
    return found


def real(
    value: str, seg: Segment, index: int, what: str, *, needed: bool = False
) -> Decimal | None:
    """An R element (explicit decimal point; exponent allowed from 005010) as a Decimal."""
    value = value.strip(SPACES)
    if not value:
        if needed:
            raise mapping_error(seg, index, what, "required, but empty or absent")
        return None
    found = _decimal(value)
    if found is None:
        raise mapping_error(seg, index, what, f"expected a decimal number, found {value!r}")
    return found


def cents(
    value: str, seg: Segment, index: int, what: str, *, needed: bool = False
) -> Decimal | None:
    """An N2 element (whole cents, two implied decimals) as a Decimal in currency units."""
    value = value.strip(SPACES)
    if not value:
        if needed:
            raise mapping_error(seg, index, what, "required, but empty or absent")
        return None
    digits = value[1:] if value[0] == "-" else value
    if not (digits.isascii() and digits.isdigit()):
        raise mapping_error(seg, index, what, f"expected whole cents (N2), found {value!r}")
    return Decimal(value).scaleb(-2)


def whole(value: str, seg: Segment, index: int, what: str, *, needed: bool = False) -> int | None:
    """An N0 element (a whole number) as an int."""
    value = value.strip(SPACES)
    if not value:
        if needed:
            raise mapping_error(seg, index, what, "required, but empty or absent")
        return None
    digits = value[1:] if value[0] == "-" else value
    if not (digits.isascii() and digits.isdigit()):
        raise mapping_error(seg, index, what, f"expected a whole number, found {value!r}")
    return int(value)


@lru_cache(maxsize=4096)
def calendar_date(value: str) -> dt.date | None:
    """A CCYYMMDD or YYMMDD value as a date (00-49 are 20xx), or None when it is none."""
    if not (value.isascii() and value.isdigit()):
        return None
    if len(value) == 8:
        year = int(value[:4])
    elif len(value) == 6:
        yy = int(value[:2])
        year = (2000 if yy < 50 else 1900) + yy  # the usual X12 century window
    else:
        return None
    try:
        return dt.date(year, int(value[-4:-2]), int(value[-2:]))
    except ValueError:
        return None


def day(value: str, seg: Segment, index: int, what: str, *, needed: bool = False) -> dt.date | None:
    """A DT element, CCYYMMDD or YYMMDD, as a date."""
    value = value.strip(SPACES)
    if not value:
        if needed:
            raise mapping_error(seg, index, what, "required, but empty or absent")
        return None
    found = calendar_date(value)
    if found is None:
        raise mapping_error(seg, index, what, f"expected a date CCYYMMDD, found {value!r}")
    return found


def clock(value: str, seg: Segment, index: int, what: str) -> dt.time | None:
    """A TM element, HHMM[SS[D[D]]], as a time."""
    value = value.strip(SPACES)
    if not value:
        return None
    if value.isascii() and value.isdigit() and len(value) in (4, 6, 7, 8):
        fraction = value[6:]
        try:
            return dt.time(
                int(value[:2]),
                int(value[2:4]),
                int(value[4:6] or 0),
                int(fraction.ljust(6, "0")) if fraction else 0,
            )
        except ValueError:
            pass
    raise mapping_error(seg, index, what, f"expected a time HHMM[SS], found {value!r}")
