"""Outbound X12 writing: element formatting and segment assembly for the outbound engine.

:func:`segment` makes one segment: a list of element strings, the tag first, trailing
empty elements dropped, lengths checked against the version's dictionary. The outbound
mappings (``engine_out``) name the element formatters here.

Canonical form, outbound (:mod:`gateway.mapping.x12_read` holds the inbound half):

- Decimals are written in the shortest plain form (``1.5``, ``100``). N2 elements
  carry whole cents: an amount with a fraction of a cent is refused, never rounded.
- Dates are written CCYYMMDD; times HHMM, or HHMMSS(D(D)) when they have seconds.
- A description longer than one PID05 is split at spaces over several PIDs
  (``split: PID05`` in an outbound mapping).

Imports only ``gateway.errors`` and ``gateway.model``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

from gateway.errors import MappingError

if TYPE_CHECKING:
    from decimal import Decimal

    from gateway.model import Terms


@dataclass(frozen=True, slots=True)
class OutboundSet:
    """One outbound transaction set: its body segments (no ST/SE) and where it belongs."""

    transaction_set: str
    functional_id: str
    segments: list[list[str]]


# -- writing elements -------------------------------------------------------------------

# Longest value an element takes where a model value could exceed it, by version
# (004010, 005010); the values are the X12 dictionary maximum lengths (e.g. data element
# 127 Reference Identification: 30 in 004010, 50 in 005010; 610 Amount N2: 15).
MAX_LENGTH: dict[str, tuple[int, int]] = {
    **dict.fromkeys(("BIG02", "BIG04", "BAK03"), (22, 22)),
    **dict.fromkeys(("BIG05", "BAK05"), (30, 30)),
    **dict.fromkeys(("N102", "N201", "N202", "PER02"), (60, 60)),
    **dict.fromkeys(("N301", "N302"), (55, 55)),
    **dict.fromkeys(("N104", "REF03", "PID05", "ITD12", "SAC15"), (80, 80)),
    **dict.fromkeys(("PER04", "PER06", "PER08"), (80, 256)),
    "N401": (30, 30),
    "N403": (15, 15),
    "REF02": (30, 50),
    **dict.fromkeys(("IT101", "PO101"), (20, 20)),
    "TDS01": (10, 15),
    "SAC05": (15, 15),
    "ITD08": (10, 10),
}


def segment(tag: str, *elements: str | None, version: str = "004010") -> list[str]:
    """A segment as element strings: None is empty, trailing empties dropped, lengths checked."""
    out = [tag, *(e or "" for e in elements)]
    while len(out) > 1 and not out[-1]:
        out.pop()
    which = 1 if version >= "005" else 0
    for i in range(1, len(out)):
        limit = MAX_LENGTH.get(f"{tag}{i:02d}")
        if limit is not None and len(out[i]) > limit[which]:
            raise MappingError(
                f"{tag}{i:02d} is {len(out[i])} characters; {version} allows {limit[which]}",
                path=f"{tag}{i:02d}",
            )
    return out


def fmt_real(value: Decimal | None) -> str | None:
    """An R element: plain notation, no exponent, no trailing fractional zeros."""
    if value is None:
        return None
    out = format(value, "f")
    if "." in out:
        out = out.rstrip("0").rstrip(".")
    return "0" if out in ("-0", "") else out


def fmt_cents(value: Decimal | None, ref: str) -> str | None:
    """An N2 element: whole cents. A fraction of a cent is refused, never rounded away."""
    if value is None:
        return None
    scaled = value.scaleb(2)
    if scaled != scaled.to_integral_value():
        raise MappingError(f"{ref} takes whole cents; {value} has a fraction of a cent", path=ref)
    return str(int(scaled))


def fmt_date(value: dt.date | None) -> str | None:
    """A DT element, CCYYMMDD."""
    return None if value is None else f"{value.year:04d}{value.month:02d}{value.day:02d}"


def fmt_time(value: dt.time | None) -> str | None:
    """A TM element: HHMM, or HHMMSS plus up to two decimal places of a second."""
    if value is None:
        return None
    out = f"{value.hour:02d}{value.minute:02d}"
    if value.second or value.microsecond:
        out += f"{value.second:02d}"
    if value.microsecond:
        if value.microsecond % 10_000:
            raise MappingError(f"time {value} is finer than TM allows (hundredths of a second)")
        out += f"{value.microsecond // 10_000:02d}".rstrip("0")
    return out


def fmt_int(value: int | None) -> str | None:
    """An N0 element."""
    return None if value is None else str(value)


# -- values computed before writing --------------------------------------------------


def due_dates(terms: Terms, invoice_date: dt.date) -> Terms:
    """Terms with ITD04/ITD06 filled in from the days, when the days count from the invoice date.

    Only for basis date code ``3`` (invoice date) or none; other bases need a date the
    invoice does not carry. Not applied by default, so that reading an 810 back gives an
    equal invoice: a partner whose guide wants the dates gets an invoice updated with it.
    """
    if terms.basis_date_code not in (None, "3"):
        return terms
    update: dict[str, dt.date] = {}
    if terms.discount_due_date is None and terms.discount_days is not None:
        update["discount_due_date"] = invoice_date + dt.timedelta(days=terms.discount_days)
    if terms.net_due_date is None and terms.net_days is not None:
        update["net_due_date"] = invoice_date + dt.timedelta(days=terms.net_days)
    return terms.model_copy(update=update) if update else terms
