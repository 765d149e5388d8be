"""The closed list of named transforms a mapping file may use, and their parameters.

A mapping file names a transform (``transform: x12_date``) or a transform with
parameters (``transform: {implied_decimal: {places: 2}}``); :func:`make` checks the
name and parameters when the spec is loaded and returns a plain function
``str -> value``. Nothing in a mapping file is evaluated as Python: this table is
the whole vocabulary.

Inbound, a transform gets the element already stripped of surrounding blanks and
never empty (an empty element is None before any transform runs). A transform that
cannot read its value raises :class:`TransformProblem`; the engine turns it into a
``MappingError`` naming the element and segment.

Imports only the standard library, ``gateway.business`` and ``gateway.x12.reader``.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Final, TypeAlias

from gateway.mapping.x12_read import calendar_date
from gateway.x12.reader import text as utf8_text

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from gateway.business import BusinessSettings

Transform: TypeAlias = "Callable[[str], object]"

__all__ = ["KNOWN", "TransformProblem", "make"]


class TransformProblem(Exception):  # noqa: N818  # caught in the engine, never crosses it
    """A value a transform cannot read; the engine adds the element and segment."""


class SpecProblem(Exception):  # noqa: N818  # caught in the loader, never crosses it
    """A transform named with wrong parameters; the loader adds file, line and key path."""


# -- readers ----------------------------------------------------------------------------


def _text(value: str) -> str | None:
    """Free text: re-decoded as UTF-8 where the partner sent UTF-8, stripped."""
    return (value if value.isascii() else utf8_text(value)).strip() or None


def _decimal(value: str) -> Decimal:
    """An R element: explicit decimal point, no ``+``, ``_``, NaN or non-ASCII digits."""
    if value.isascii() and value.replace(".", "", 1).isdigit():
        return Decimal(value)  # digits with at most one point: always a finite decimal
    try:
        found = Decimal(value)
    except InvalidOperation:
        found = None
    if found is None or not found.is_finite() or "_" in value or value[0] == "+":
        raise TransformProblem(f"expected a decimal number, found {value!r}")
    if not value.isascii():
        raise TransformProblem(f"expected a decimal number, found {value!r}")
    return found


def _integer(value: str) -> int:
    digits = value[1:] if value[0] == "-" else value
    if not (digits.isascii() and digits.isdigit()):
        raise TransformProblem(f"expected a whole number, found {value!r}")
    return int(value)


def _x12_date(value: str) -> dt.date:
    """CCYYMMDD or YYMMDD; a D8/RD8 period (``CCYYMMDD-CCYYMMDD``) gives its start."""
    found = calendar_date(value[:8] if len(value) == 17 and value[8] == "-" else value)
    if found is None:
        raise TransformProblem(f"expected a date CCYYMMDD, found {value!r}")
    return found


def _period_start(value: str) -> dt.date | None:
    """The start of a D8/RD8 period (``CCYYMMDD-CCYYMMDD``); None when unreadable."""
    return calendar_date(value[:8])


def _x12_time(value: str) -> dt.time:
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
    raise TransformProblem(f"expected a time HHMM[SS], found {value!r}")


def _iso_date(value: str) -> dt.date:
    """An ISO 8601 date, or the date part of an ISO date-time (cXML ``orderDate``)."""
    try:
        return dt.date.fromisoformat(value[:10])
    except ValueError:
        raise TransformProblem(f"expected a date YYYY-MM-DD, found {value!r}") from None


# -- factories: parameters checked at load ----------------------------------------------


def _params(params: Mapping[str, object], allowed: set[str]) -> None:
    unknown = sorted(set(params) - allowed)
    if unknown:
        known = ", ".join(sorted(allowed)) or "none"
        raise SpecProblem(f"unknown parameter {unknown[0]!r}; this transform takes: {known}")


def _int_param(params: Mapping[str, object], name: str, default: int | None = None) -> int:
    value = params.get(name, default)
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise SpecProblem(f"{name}: expected a whole number of at least 0, found {value!r}")
    return value


def _implied_decimal(params: Mapping[str, object], _b: BusinessSettings | None) -> Transform:
    _params(params, {"places"})
    places = _int_param(params, "places", 2)
    # N2 amounts are whole cents: '15.00' is refused, never read as 1500 or 15
    what = "whole cents (N2)" if places == 2 else f"a number with {places} implied decimals"

    def read(value: str) -> Decimal:
        digits = value[1:] if value[0] == "-" else value
        if not (digits.isascii() and digits.isdigit()):
            raise TransformProblem(f"expected {what}, found {value!r}")
        return Decimal(value).scaleb(-places)

    return read


def _code_table(params: Mapping[str, object], _b: BusinessSettings | None) -> Transform:
    _params(params, {"map", "default", "strict"})
    table = params.get("map")
    if not isinstance(table, dict) or not table:
        raise SpecProblem("map: expected a mapping of partner codes to ours, e.g. {ST: ship_to}")
    codes = {str(k): str(v) for k, v in table.items()}
    strict = bool(params.get("strict", False))
    default = params.get("default")

    def read(value: str) -> str:
        found = codes.get(value)
        if found is not None:
            return found
        if strict:
            raise TransformProblem(f"code {value!r} is not in the table ({', '.join(codes)})")
        return value if default is None else str(default)

    return read


def _pad(params: Mapping[str, object], _b: BusinessSettings | None) -> Transform:
    _params(params, {"width", "char", "side"})
    width = _int_param(params, "width")
    char = str(params.get("char", " "))
    side = params.get("side", "left")
    if len(char) != 1 or side not in ("left", "right"):
        raise SpecProblem("expected char: one character and side: left or right")
    if side == "left":
        return lambda value: value.rjust(width, char)
    return lambda value: value.ljust(width, char)


def _uom(params: Mapping[str, object], business: BusinessSettings | None) -> Transform:
    """A partner's unit code to ours, by the profile's ``business.uom`` table (code only)."""
    _params(params, set())
    table = {c.partner_uom: c.our_uom for c in (business.uom if business else ()) if c.sku is None}
    return lambda value: table.get(value, value)


def _xref(params: Mapping[str, object], business: BusinessSettings | None) -> Transform:
    """A partner part number (or UPC) to our SKU, by the profile's item cross-reference."""
    _params(params, {"by", "strict"})
    by = params.get("by", "part")
    if by not in ("part", "upc"):
        raise SpecProblem(f"by: expected part or upc, found {by!r}")
    strict = bool(params.get("strict", False))

    def read(value: str) -> str:
        found = None
        if business is not None:
            xref = business.item_xref
            found = xref.sku_for(upc=value) if by == "upc" else xref.sku_for(partner_part=value)
        if found is None:
            if strict:
                raise TransformProblem(f"no SKU for the partner's item {value!r}")
            return value
        return found

    return read


def _constant(params: Mapping[str, object], _b: BusinessSettings | None) -> Transform:
    _params(params, {"value"})
    value = params.get("value")
    return lambda _: value


def _plain(fn: Transform) -> Callable[[Mapping[str, object], BusinessSettings | None], Transform]:
    def factory(params: Mapping[str, object], _b: BusinessSettings | None) -> Transform:
        _params(params, set())
        return fn

    return factory


FACTORIES: Final[
    dict[str, Callable[[Mapping[str, object], BusinessSettings | None], Transform]]
] = {
    "text": _plain(_text),
    "x12_date": _plain(_x12_date),
    "x12_period_start": _plain(_period_start),
    "x12_time": _plain(_x12_time),
    "iso_date": _plain(_iso_date),
    "decimal": _plain(_decimal),
    "integer": _plain(_integer),
    "implied_decimal": _implied_decimal,
    "code_table": _code_table,
    "trim": _plain(str.strip),
    "upper": _plain(str.upper),
    "pad": _pad,
    "uom": _uom,
    "xref": _xref,
    "constant": _constant,
}
KNOWN: Final = tuple(sorted(FACTORIES))
"""Every transform name a mapping file may use."""


def make(
    name: str, params: Mapping[str, object] | None, business: BusinessSettings | None
) -> Transform:
    """The transform ``name`` with ``params``, for a partner's business settings.

    Raises:
        SpecProblem: unknown name or bad parameters (the loader adds where).
    """
    factory = FACTORIES.get(name)
    if factory is None:
        raise SpecProblem(f"unknown transform {name!r}; known: {', '.join(KNOWN)}")
    return factory(params or {}, business)
