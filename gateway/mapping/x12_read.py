"""Inbound X12 reading: element converters and the segment readers several documents share.

The element converters turn one element into a canonical value and name the element
(``BEG03``) in the MappingError when it is unreadable. The shared segment readers cover
the groups every document carries: N1 parties, REF, DTM, ITD, SAC, CUR, PER, SDQ and
PID; each turns its segment into a dict of canonical field names.

Canonical form, inbound (:mod:`gateway.mapping.x12_write` holds the outbound half):

- Text is stripped of surrounding whitespace and free text is re-decoded as UTF-8; an
  empty element is None, or is left out of a tuple. A REF without REF02 has value ``""``.
- Decimals keep the digits as sent (``1.50``) and compare by value. N2 elements carry
  whole cents (two implied decimals).
- Dates are CCYYMMDD or YYMMDD; two-digit years read as 2000-2049 or 1950-1999.
  Times are HHMM, or HHMMSS(D(D)).
- An address with no part set is None; a description spread over several PIDs is
  joined with one space (:func:`gateway.mapping.x12_loops.joined`).

Imports only ``gateway.errors``, ``gateway.x12.reader`` and ``gateway.mapping.x12_loops``.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import TYPE_CHECKING, cast

from gateway.errors import MappingError
from gateway.mapping.x12_loops import Fields, Loop, SegmentRule, collect
from gateway.x12.reader import Segment, text

if TYPE_CHECKING:
    from collections.abc import Sequence

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


# -- segment readers shared by several documents ---------------------------------------


def currency(seg: Segment) -> str | None:
    """CUR: CUR02 is the currency whoever CUR01 names (BY, SE, PR...)."""
    _, _entity, currency_code = padded(seg, 2)[:3]
    return code(currency_code)


def reference(seg: Segment) -> Fields:
    """REF: qualifier, value, description."""
    _, qualifier, value, text_ = padded(seg, 3)[:4]
    return {
        "qualifier": required(qualifier, seg, 1, "reference qualifier"),
        "value": value.strip(SPACES),
        "description": words(text_),
    }


def date_ref(seg: Segment) -> Fields:
    """DTM: qualifier, date (DTM02, or a D8/RD8 period in DTM05/06), time, time code."""
    _, qualifier, date, time, zone, period_format, period = padded(seg, 6)[:7]
    found = day(date, seg, 2, "date")
    if found is None and period_format.strip(SPACES) in ("D8", "RD8"):
        found = calendar_date(period.strip(SPACES)[:8])
    if found is None:
        raise mapping_error(seg, 2, "date", "required, but empty or absent")
    return {
        "qualifier": required(qualifier, seg, 1, "date qualifier"),
        "date": found,
        "time": clock(time, seg, 3, "time"),
        "time_code": code(zone),
    }


def terms(seg: Segment) -> Fields:
    """ITD: terms of sale."""
    els = padded(seg, 12)
    _, kind, basis, percent, discount_due, discount_days, net_due, net_days, discount = els[:9]
    return {
        "terms_type": code(kind),
        "basis_date_code": code(basis),
        "discount_percent": real(percent, seg, 3, "discount percent"),
        "discount_due_date": day(discount_due, seg, 4, "discount due date"),
        "discount_days": whole(discount_days, seg, 5, "discount days"),
        "net_due_date": day(net_due, seg, 6, "net due date"),
        "net_days": whole(net_days, seg, 7, "net days"),
        "discount_amount": cents(discount, seg, 8, "discount amount"),
        "description": words(els[12]),
    }


def allowance_charge(seg: Segment) -> Fields | None:
    """SAC: one allowance or charge; SAC01 N (no allowance or charge) carries none."""
    els = padded(seg, 15)
    _, indicator, ac_code, _agency, _agency_code, amount, basis, percent = els[:8]
    found = required(indicator, seg, 1, "allowance or charge indicator")
    if found not in ("A", "C"):
        return None
    return {
        "indicator": found,
        "code": required(ac_code, seg, 2, "allowance or charge code"),
        "amount": cents(amount, seg, 5, "amount"),
        "percent_basis": code(basis),
        "percent": real(percent, seg, 7, "percent"),
        "method": code(els[12]),
        "description": words(els[15]),
    }


def description(seg: Segment) -> str | None:
    """PID: the free-form description in PID05."""
    els = seg.elements
    return words(els[5]) if len(els) > 5 else None


def product_ids(pairs: Sequence[str]) -> tuple[Fields, ...]:
    """Product id qualifier/value pairs (the elements from PO106, IT106...)."""
    found: list[Fields] = []
    for i in range(1, len(pairs), 2):  # a lone trailing qualifier is dropped
        qualifier = pairs[i - 1].strip(SPACES)
        value = pairs[i].strip(SPACES)
        if qualifier and value:
            found.append({"qualifier": qualifier, "value": value})
    return tuple(found)


def destinations(seg: Segment) -> list[Fields]:
    """SDQ: location/quantity pairs (SDQ03/04 ... SDQ21/22) under one SDQ02 qualifier."""
    els = padded(seg, 2)
    qualifier = code(els[2])
    found: list[Fields] = []
    for i in range(3, len(els) - 1, 2):
        location = code(els[i])
        if location is not None:
            quantity = real(els[i + 1], seg, i + 1, "destination quantity", needed=True)
            found.append(
                {"location_qualifier": qualifier, "location": location, "quantity": quantity}
            )
    return found


_COMMUNICATION = {"TE": "phone", "EM": "email", "FX": "fax"}


def contact(seg: Segment) -> Fields:
    """PER: function, name and the first phone (TE), email (EM) and fax (FX)."""
    els = padded(seg, 8)
    found: Fields = {
        "function_code": required(els[1], seg, 1, "contact function"),
        "name": words(els[2]),
    }
    for i in (3, 5, 7):
        field = _COMMUNICATION.get(els[i].strip(SPACES))
        if field is not None and field not in found:
            found[field] = code(els[i + 1])
    return found


def _n1(seg: Segment) -> Fields:
    _, role, name, id_qualifier, id_code = padded(seg, 4)[:5]
    return {
        "role": required(role, seg, 1, "entity identifier"),
        "name": words(name),
        "id_qualifier": code(id_qualifier),
        "id": code(id_code),
    }


def _two_lines(seg: Segment) -> list[str]:
    """N2 names or N3 address lines: up to two free-text elements."""
    _, first, second = padded(seg, 2)[:3]
    return [line for line in (words(first), words(second)) if line]


def _n4(seg: Segment) -> Fields:
    _, city, state, postal_code, country = padded(seg, 4)[:5]
    return {
        "city": words(city),
        "state": code(state),
        "postal_code": code(postal_code),
        "country": code(country),
    }


_PARTY: dict[str, SegmentRule] = {
    "N1": ("", _n1, "merge"),
    "N2": ("additional_names", _two_lines, "extend"),
    "N3": ("lines", _two_lines, "extend"),
    "N4": ("place", _n4, "first"),
    "PER": ("contacts", contact, "append"),
}


def party(loop: Loop) -> Fields:
    """N1 loop: N1 role, name and id; N2 more names; N3/N4 the address; PER contacts."""
    fields = collect(loop, _PARTY)
    place = cast("Fields | None", fields.pop("place", None))
    lines = fields.pop("lines", ())
    if lines or (place and any(v is not None for v in place.values())):
        fields["address"] = {"lines": lines, **(place or {})}
    return fields
