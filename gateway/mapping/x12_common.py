"""Shared pieces of the X12 mappers: tree walk, element readers/writers, common segments.

The common segment groups are those every document carries: N1 parties, REF, DTM,
ITD, SAC, CUR and PID.

Inbound, each segment has one reader that turns its elements into a dict of canonical
field names; :func:`collect` walks one loop once and files each reader's result by a
table of rules, and :func:`build` validates the finished document in one pydantic-core
call (faster than one model call per party, line and product id). Outbound, each group
has one renderer that turns a model into segments: lists of element strings, the tag
first, trailing empty elements dropped.

Canonical form (what an X12 round trip keeps equal):

- Text is stripped of surrounding whitespace and free text is re-decoded as UTF-8; an
  empty element is None, or is left out of a tuple. A REF without REF02 has value ``""``.
- Decimals compare by value: inbound keeps the digits as sent (``1.50``), outbound
  writes the shortest plain form (``1.5``, ``100``). N2 elements carry whole cents:
  an amount with a fraction of a cent is refused, never rounded.
- Dates are written CCYYMMDD; two-digit years read as 2000-2049 or 1950-1999.
  Times are written HHMM, or HHMMSS(D(D)) when they have seconds.
- An address with no part set is None; a description longer than one PID05 is split
  at spaces over several PIDs and joined with one space when read.

Imports only ``gateway.errors``, ``gateway.model`` and ``gateway.x12.reader``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import TYPE_CHECKING, Literal, Protocol, TypeVar, cast

from pydantic import BaseModel, ValidationError

from gateway.errors import MappingError
from gateway.x12.reader import Segment, text

if TYPE_CHECKING:
    from gateway.model import AllowanceCharge, Contact, DateRef, Party, ProductId, Reference
    from gateway.model import Terms as TermsModel

Fields = dict[str, object]
"""Canonical field name -> value, for one model (nested models as dicts or tuples of dicts)."""
M = TypeVar("M", bound=BaseModel)


class Loop(Protocol):
    """What the mappers need of the validator's loop tree: an id and ordered content."""

    @property
    def id(self) -> str:
        """The loop id (its first segment's tag for 810/820/850/855)."""
        ...

    @property
    def content(self) -> Sequence[Segment | Loop]:
        """Segments and child loops, in file order."""
        ...


@dataclass(frozen=True, slots=True)
class OutboundSet:
    """One outbound transaction set: its body segments (no ST/SE) and where it belongs."""

    transaction_set: str
    functional_id: str
    segments: list[list[str]]


# -- walking the tree -------------------------------------------------------------------

Mode = Literal["merge", "first", "append", "extend"]
"""How :func:`collect` files a reader's result: merge a dict (first value wins), set a
field once, append to a list, or extend a list."""
SegmentRule = tuple[str, Callable[[Segment], object], Mode]
LoopRule = tuple[str, Callable[["Loop"], object], Mode]


def collect(
    node: Loop, segments: Mapping[str, SegmentRule], loops: Mapping[str, LoopRule] | None = None
) -> Fields:
    """Walk ``node``'s content once and file each reader's result by the rule for its tag.

    Content with no rule is skipped; readers that return None add nothing. Lists become
    tuples at the end.
    """
    fields: Fields = {}
    lists: dict[str, list[object]] = {}
    for child in node.content:
        if isinstance(child, Segment):
            rule = segments.get(child.elements[0])
            if rule is None:
                continue
            name, read, mode = rule
            value = read(child)
        else:
            if loops is None or (loop_rule := loops.get(child.id)) is None:
                continue
            name, read_loop, mode = loop_rule
            value = read_loop(child)
        if value is None:
            continue
        if mode == "append":
            if name in lists:
                lists[name].append(value)
            else:
                lists[name] = [value]
        elif mode == "merge":  # no typing.cast here: this is the hot path
            if not fields:
                fields = value  # type: ignore[assignment]  # readers return fresh dicts
            else:
                fields.update({k: v for k, v in value.items() if k not in fields})  # type: ignore[attr-defined]
        elif mode == "extend":
            lists.setdefault(name, []).extend(value)  # type: ignore[arg-type]
        elif name not in fields:
            fields[name] = value
    for name, items in lists.items():
        fields[name] = tuple(items)
    return fields


def opening(reader: Callable[[Segment], object]) -> Callable[[Loop], object]:
    """Apply a segment reader to a loop's first segment (PID loop -> PID)."""

    def read(loop: Loop) -> object:
        first = loop.content[0] if loop.content else None
        return reader(first) if isinstance(first, Segment) else None

    return read


def walk(node: Loop) -> Iterator[Segment]:
    """Every segment under ``node``, depth first, in file order."""
    for child in node.content:
        if isinstance(child, Segment):
            yield child
        else:
            yield from walk(child)


def select(node: Loop, tag: str, qualifier: str | None = None) -> list[Segment | Loop]:
    """Direct children of ``node`` with this tag or loop id, and element 01 == ``qualifier``.

    For a loop, the qualifier is read from its first segment ("the N1 loops whose N101
    is ST"); for a segment, from itself ("REF whose REF01 is DP").
    """
    found: list[Segment | Loop] = []
    for child in node.content:
        if isinstance(child, Segment):
            head: Segment | None = child if child.elements[0] == tag else None
        elif child.id == tag and child.content and isinstance(child.content[0], Segment):
            head = child.content[0]
        else:
            head = None
        if head is not None and (qualifier is None or head.get(1).strip() == qualifier):
            found.append(child)
    return found


# -- reading elements -------------------------------------------------------------------
#
# A reader names a segment's elements once by unpacking ``padded(seg, n)``, then converts
# each value; the converters take the segment and position only to name them in errors.

_SPACES = " \t\r\n"


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
    return value.strip(_SPACES) or None


def required(value: str, seg: Segment, index: int, what: str) -> str:
    """An identifier or code that must be there."""
    found = value.strip(_SPACES)
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
    if value.isdigit() and value.isascii():
        return Decimal(value)
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
    value = value.strip(_SPACES)
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
    value = value.strip(_SPACES)
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
    value = value.strip(_SPACES)
    if not value:
        if needed:
            raise mapping_error(seg, index, what, "required, but empty or absent")
        return None
    digits = value[1:] if value[0] == "-" else value
    if not (digits.isascii() and digits.isdigit()):
        raise mapping_error(seg, index, what, f"expected a whole number, found {value!r}")
    return int(value)


@lru_cache(maxsize=4096)
def _calendar_date(value: str) -> dt.date | None:
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
    value = value.strip(_SPACES)
    if not value:
        if needed:
            raise mapping_error(seg, index, what, "required, but empty or absent")
        return None
    found = _calendar_date(value)
    if found is None:
        raise mapping_error(seg, index, what, f"expected a date CCYYMMDD, found {value!r}")
    return found


def clock(value: str, seg: Segment, index: int, what: str) -> dt.time | None:
    """A TM element, HHMM[SS[D[D]]], as a time."""
    value = value.strip(_SPACES)
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


def build(model: type[M], fields: Fields) -> M:
    """Validate a collected document; a model rule it breaks becomes a MappingError."""
    try:
        return model.model_validate(fields, strict=True)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = "".join(
            f"[{part}]" if isinstance(part, int) else f".{part}" for part in first["loc"]
        ).lstrip(".")
        count = exc.error_count()
        more = f" (and {count - 1} more)" if count > 1 else ""
        raise MappingError(
            f"{model.__name__} {where or '(document)'}: {first['msg']}{more}", path=where or None
        ) from exc


def need(fields: Fields, name: str, ref: str, what: str) -> None:
    """Raise when a business-required value was never read (its segment is absent)."""
    if fields.get(name) is None:
        raise MappingError(f"{ref} ({what}) is required, but the segment is absent", path=ref)


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
        "value": value.strip(_SPACES),
        "description": words(text_),
    }


def date_ref(seg: Segment) -> Fields:
    """DTM: qualifier, date (DTM02, or a D8/RD8 period in DTM05/06), time, time code."""
    _, qualifier, date, time, zone, period_format, period = padded(seg, 6)[:7]
    found = day(date, seg, 2, "date")
    if found is None and period_format.strip(_SPACES) in ("D8", "RD8"):
        found = _calendar_date(period.strip(_SPACES)[:8])
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
    it = iter(pairs)
    for qualifier, value in zip(it, it, strict=False):
        q, v = qualifier.strip(_SPACES), value.strip(_SPACES)
        if q and v:
            found.append({"qualifier": q, "value": v})
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
        field = _COMMUNICATION.get(els[i].strip(_SPACES))
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


def joined(fields: Fields, name: str) -> None:
    """Join the texts collected under ``name`` (several PIDs) with one space."""
    parts = fields.get(name)
    if parts is not None:
        fields[name] = parts[0] if len(parts) == 1 else " ".join(parts)  # type: ignore[index, arg-type]


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
