"""Outbound X12 writing: element formatting and the segment renderers 810 and 855 share.

Each renderer turns a model into segments: lists of element strings, the tag first,
trailing empty elements dropped, lengths checked against the version's dictionary.

Canonical form, outbound (:mod:`gateway.mapping.x12_read` holds the inbound half):

- Decimals are written in the shortest plain form (``1.5``, ``100``). N2 elements
  carry whole cents: an amount with a fraction of a cent is refused, never rounded.
- Dates are written CCYYMMDD; times HHMM, or HHMMSS(D(D)) when they have seconds.
- A description longer than one PID05 is split at spaces over several PIDs.

Imports only ``gateway.errors`` and ``gateway.model``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from gateway.errors import MappingError

if TYPE_CHECKING:
    import datetime as dt
    from collections.abc import Sequence
    from decimal import Decimal

    from gateway.model import AllowanceCharge, Contact, DateRef, Party, ProductId, Reference
    from gateway.model import Terms as TermsModel


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


# -- segment renderers shared by 810 and 855 -------------------------------------------


def party_segments(party: Party, version: str) -> list[list[str]]:
    """One N1 loop: N1, N2, N3, N4, PER."""
    out = [segment("N1", party.role, party.name, party.id_qualifier, party.id, version=version)]
    names = party.additional_names
    out += [segment("N2", *names[i : i + 2], version=version) for i in range(0, len(names), 2)]
    address = party.address
    if address is not None:
        lines = address.lines
        out += [segment("N3", *lines[i : i + 2], version=version) for i in range(0, len(lines), 2)]
        place = (address.city, address.state, address.postal_code, address.country)
        if any(p is not None for p in place):
            out.append(segment("N4", *place, version=version))
    out += [contact_segment(c, version) for c in party.contacts]
    return out


def contact_segment(contact: Contact, version: str) -> list[str]:
    """PER with its phone, email and fax pairs."""
    pairs = (("TE", contact.phone), ("EM", contact.email), ("FX", contact.fax))
    flat = [x for q, v in pairs if v is not None for x in (q, v)]
    return segment("PER", contact.function_code, contact.name, *flat, version=version)


def reference_segment(ref: Reference, version: str) -> list[str]:
    """REF."""
    return segment("REF", ref.qualifier, ref.value, ref.description, version=version)


def date_segment(date: DateRef, version: str) -> list[str]:
    """DTM."""
    return segment(
        "DTM",
        date.qualifier,
        fmt_date(date.date),
        fmt_time(date.time),
        date.time_code,
        version=version,
    )


def terms_segment(terms: TermsModel, version: str) -> list[str]:
    """ITD, e.g. ``ITD*01*3*2**10**30`` for 2% 10 days, net 30."""
    return segment(
        "ITD",
        terms.terms_type,
        terms.basis_date_code,
        fmt_real(terms.discount_percent),
        fmt_date(terms.discount_due_date),
        fmt_int(terms.discount_days),
        fmt_date(terms.net_due_date),
        fmt_int(terms.net_days),
        fmt_cents(terms.discount_amount, "ITD08"),
        None,
        None,
        None,
        terms.description,
        version=version,
    )


def sac_segment(ac: AllowanceCharge, version: str) -> list[str]:
    """SAC: indicator, code, amount in cents, percent, method and description."""
    return segment(
        "SAC",
        ac.indicator,
        ac.code,
        None,
        None,
        fmt_cents(ac.amount, "SAC05"),
        ac.percent_basis,
        fmt_real(ac.percent),
        *([None] * 4),
        ac.method,
        None,
        None,
        ac.description,
        version=version,
    )


def product_elements(ids: Sequence[ProductId]) -> list[str]:
    """Qualifier/value pairs for PO106.../IT106...."""
    return [x for pid in ids for x in (pid.qualifier, pid.value)]


def pid_segments(text_value: str | None, version: str) -> list[list[str]]:
    """PID*F****description, split at spaces over several PIDs when it is longer than PID05."""
    if text_value is None:
        return []
    limit = MAX_LENGTH["PID05"][1 if version >= "005" else 0]
    chunks: list[str] = []
    rest = text_value
    while len(rest) > limit:
        cut = rest.rfind(" ", 1, limit + 1)
        if cut <= 0:
            raise MappingError(
                f"description has a word longer than PID05 allows ({limit})", path="PID05"
            )
        chunks.append(rest[:cut])
        rest = rest[cut + 1 :]
    chunks.append(rest)
    return [segment("PID", "F", None, None, None, c, version=version) for c in chunks]
