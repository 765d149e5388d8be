"""Hypothesis strategies for canonical documents whose every value X12 can carry.

Built for a model -> X12 -> model round trip that compares with ``==``, so each
value is one an X12 writer can put in the element it maps to and a reader gets
back unchanged (``Decimal`` compares by value, so ``12.50`` read back as
``12.5`` is still equal). The constraints respected:

- Text: printable ASCII (0x20-0x7E) without ``* ~ : ^ > |`` (the usual element,
  segment, component and repetition separators), never empty, never with a
  leading or trailing space, and within the min/max length of its 004010
  element (e.g. invoice and PO numbers 1-22, N102 names 1-60, N104 ids 2-80,
  REF02 1-30, N401 cities 2-30, N403 postal codes 3-15, PID05 1-80).
- Codes (ID elements) come from short realistic code lists of the right length.
- Amounts have at most 2 decimals and fit N2 and R elements: prices 0-999.99,
  allowances/charges 0.01-99999.99, percents 0.01-99.99; an invoice total is
  lines + charges - allowances rounded to cents, below 10^8 in magnitude and
  possibly negative. Quantities have at most 4 decimals, 0.0001-9999.9999
  (fits R 1/10). No negative zero anywhere.
- Dates lie in 1990-2089 (the ISA two-digit-year window); times are whole
  minutes, so HHMM suffices.
- X12 pairing rules hold: N103/N104 come together and N1 has a name or an id;
  IT102/IT103/IT104 (quantity, unit, price) are all set on invoice lines; PO1
  unit price basis only with a price; ACK02/ACK03, ACK04/ACK05 and SAC06/SAC07
  come in pairs; ACK quantities and dates only with an ACK status; SDQ
  destinations of a line share one qualifier and the line has a unit.
- No empty segment: an address has at least one part, terms always have a
  terms type, SAC always has a code and an amount.
- Lines are numbered "1".."n" (1-5 lines); product-id qualifiers (VN, UP, BP,
  IN, EN) are unique within a line (UP is 12 digits, EN 13); party roles are
  unique within a document.

Left at their defaults (an X12 mapping need not carry them): contacts,
additional party names, DTM time codes, line-level references, dates and
allowances on invoices, and the envelope unless ``with_envelope=True``.
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, TypeVar

from hypothesis import strategies as st

from gateway.model import (
    AckLine,
    Address,
    AllowanceCharge,
    DateRef,
    Destination,
    Envelope,
    Invoice,
    LineItem,
    Party,
    ProductId,
    PurchaseOrder,
    PurchaseOrderAck,
    Reference,
    Terms,
)

if TYPE_CHECKING:
    from collections.abc import Callable

X12_TEXT_ALPHABET = "".join(chr(c) for c in range(0x20, 0x7F) if chr(c) not in "*~:^>|")
MIN_DATE = dt.date(1990, 1, 1)
MAX_DATE = dt.date(2089, 12, 31)
CURRENCIES = ("USD", "CAD", "EUR", "GBP", "MXN")
PRODUCT_QUALIFIERS = ("VN", "UP", "BP", "IN", "EN")
UOMS = ("EA", "CA", "BX", "PK", "LB", "DZ")
_UPPER_DIGITS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
_CENT = Decimal("0.01")

T = TypeVar("T")


def x12_text(min_size: int = 1, max_size: int = 30) -> st.SearchStrategy[str]:
    """Free text an AN element can carry: no separators, no edge spaces, not empty."""
    raw = st.text(X12_TEXT_ALPHABET, min_size=min_size, max_size=max_size)
    return raw.map(str.strip).filter(lambda s: len(s) >= min_size)


def _digits(size: int) -> st.SearchStrategy[str]:
    return st.text("0123456789", min_size=size, max_size=size)


def _decimal(low: str, high: str, places: int) -> st.SearchStrategy[Decimal]:
    values = st.decimals(low, high, places=places, allow_nan=False, allow_infinity=False)
    return values.map(lambda d: d.copy_abs() if d.is_zero() else d)


def amounts(low: str = "0", high: str = "999.99") -> st.SearchStrategy[Decimal]:
    """Money with at most 2 decimals."""
    return _decimal(low, high, 2)


def quantities() -> st.SearchStrategy[Decimal]:
    """Positive quantities with at most 4 decimals that fit R 1/10."""
    return _decimal("0.0001", "9999.9999", 4)


def dates() -> st.SearchStrategy[dt.date]:
    """Dates inside the two-digit-year window, 1990-2089."""
    return st.dates(MIN_DATE, MAX_DATE)


def _times() -> st.SearchStrategy[dt.time]:
    return st.builds(dt.time, st.integers(0, 23), st.integers(0, 59))


def _optional(strategy: st.SearchStrategy[T]) -> st.SearchStrategy[T | None]:
    return st.none() | strategy


def addresses() -> st.SearchStrategy[Address]:
    """N3/N4 addresses with at least one part."""
    return st.builds(
        Address,
        lines=st.lists(x12_text(1, 55), max_size=2).map(tuple),
        city=_optional(x12_text(2, 30)),
        state=_optional(st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=2, max_size=2)),
        postal_code=_optional(st.text(_UPPER_DIGITS, min_size=3, max_size=10)),
        country=_optional(st.sampled_from(("US", "CA", "MX", "DE"))),
    ).filter(lambda a: a != Address())


@st.composite
def parties(draw: st.DrawFn, role: str) -> Party:
    """An N1 loop for ``role`` with a name, an id pair, or both."""
    name = draw(_optional(x12_text(1, 60)))
    qualifier = draw(_optional(st.sampled_from(("1", "9", "91", "92", "UL"))))
    if name is None and qualifier is None:
        name = draw(x12_text(1, 60))
    return Party(
        role=role,
        name=name,
        id_qualifier=qualifier,
        id=None if qualifier is None else draw(x12_text(2, 80)),
        address=draw(_optional(addresses())),
    )


def _party_lists(roles: tuple[str, ...]) -> st.SearchStrategy[tuple[Party, ...]]:
    unique_roles = st.lists(st.sampled_from(roles), min_size=1, max_size=len(roles), unique=True)
    return unique_roles.flatmap(lambda rs: st.tuples(*(parties(r) for r in rs)))


def references(
    qualifiers: tuple[str, ...] = ("IA", "DP", "VN", "BM", "CN"),
) -> st.SearchStrategy[Reference]:
    """REF segments: the value is always set."""
    return st.builds(
        Reference,
        qualifier=st.sampled_from(qualifiers),
        value=x12_text(1, 30),
        description=_optional(x12_text(1, 80)),
    )


def date_refs(qualifiers: tuple[str, ...]) -> st.SearchStrategy[DateRef]:
    """DTM segments, the time in whole minutes when present."""
    return st.builds(
        DateRef, qualifier=st.sampled_from(qualifiers), date=dates(), time=_optional(_times())
    )


@st.composite
def terms(draw: st.DrawFn) -> Terms:
    """ITD terms; a discount percent or amount always comes with discount days."""
    discounted = draw(st.booleans())
    return Terms(
        terms_type=draw(st.sampled_from(("01", "05", "08", "14"))),
        basis_date_code=draw(_optional(st.sampled_from(("1", "2", "3", "15")))),
        discount_percent=draw(amounts("0.01", "99.99")) if discounted else None,
        discount_due_date=draw(_optional(dates())) if discounted else None,
        discount_days=draw(st.integers(1, 999)) if discounted else None,
        net_due_date=draw(_optional(dates())),
        net_days=draw(_optional(st.integers(1, 999))),
        discount_amount=draw(_optional(amounts("0.01", "99999.99"))) if discounted else None,
        description=draw(_optional(x12_text(1, 80))),
    )


@st.composite
def allowances_charges(draw: st.DrawFn) -> AllowanceCharge:
    """SAC segments with a code and an amount; a percent comes with its basis."""
    percent = draw(_optional(amounts("0.01", "99.99")))
    return AllowanceCharge(
        indicator=draw(st.sampled_from(("A", "C"))),
        code=draw(st.sampled_from(("C310", "D240", "D500", "H850", "F800"))),
        amount=draw(amounts("0.01", "99999.99")),
        percent_basis=None if percent is None else draw(st.sampled_from(("1", "3"))),
        percent=percent,
        method=draw(_optional(st.sampled_from(("02", "06")))),
        description=draw(_optional(x12_text(1, 80))),
    )


def _product_id(qualifier: str) -> st.SearchStrategy[ProductId]:
    sizes = {"UP": 12, "EN": 13}
    value = _digits(sizes[qualifier]) if qualifier in sizes else x12_text(1, 30)
    return value.map(lambda v: ProductId(qualifier=qualifier, value=v))


def product_ids() -> st.SearchStrategy[tuple[ProductId, ...]]:
    """1-3 product ids of a line, each qualifier at most once."""
    qualifiers = st.lists(st.sampled_from(PRODUCT_QUALIFIERS), min_size=1, max_size=3, unique=True)
    return qualifiers.flatmap(lambda qs: st.tuples(*(_product_id(q) for q in qs)))


@st.composite
def _priced(draw: st.DrawFn, *, always: bool) -> tuple[Decimal | None, str | None]:
    price = draw(amounts()) if always else draw(_optional(amounts()))
    basis = None if price is None else draw(_optional(st.sampled_from(("PE", "CT", "QT"))))
    return price, basis


@st.composite
def destinations(draw: st.DrawFn) -> tuple[Destination, ...]:
    """SDQ store quantities of one line: one qualifier, 0-4 stores."""
    qualifier = draw(_optional(st.sampled_from(("92", "UL"))))
    stores = draw(st.lists(_digits(4), max_size=4, unique=True))
    return tuple(
        Destination(location_qualifier=qualifier, location=s, quantity=draw(quantities()))
        for s in stores
    )


@st.composite
def invoice_lines(draw: st.DrawFn, number: int) -> LineItem:
    """An IT1 loop: quantity, unit and price always set, as IT1's pairing rule wants."""
    price, basis = draw(_priced(always=True))
    return LineItem(
        line_number=str(number),
        quantity=draw(quantities()),
        uom=draw(st.sampled_from(UOMS)),
        unit_price=price,
        price_basis=basis,
        product_ids=draw(product_ids()),
        description=draw(_optional(x12_text(1, 80))),
    )


@st.composite
def order_lines(draw: st.DrawFn, number: int) -> LineItem:
    """A PO1 loop with optional price and SDQ destinations."""
    price, basis = draw(_priced(always=False))
    return LineItem(
        line_number=str(number),
        quantity=draw(quantities()),
        uom=draw(st.sampled_from(UOMS)),
        unit_price=price,
        price_basis=basis,
        product_ids=draw(product_ids()),
        description=draw(_optional(x12_text(1, 80))),
        destinations=draw(destinations()),
    )


@st.composite
def ack_lines(draw: st.DrawFn, number: int) -> AckLine:
    """A PO1 loop of an 855 with at most one ACK; its pairs are kept."""
    price, basis = draw(_priced(always=False))
    status = draw(_optional(st.sampled_from(("IA", "IB", "IC", "ID", "IQ", "IR"))))
    acked = status is not None and draw(st.booleans())
    scheduled = status is not None and draw(st.booleans())
    return AckLine(
        line_number=str(number),
        quantity=draw(quantities()),
        uom=draw(st.sampled_from(UOMS)),
        unit_price=price,
        price_basis=basis,
        product_ids=draw(product_ids()),
        description=draw(_optional(x12_text(1, 80))),
        status=status,
        ack_quantity=draw(quantities()) if acked else None,
        ack_uom=draw(st.sampled_from(UOMS)) if acked else None,
        scheduled_date_qualifier=draw(st.sampled_from(("067", "068"))) if scheduled else None,
        scheduled_date=draw(dates()) if scheduled else None,
    )


def _lines(make: Callable[[int], st.SearchStrategy[T]]) -> st.SearchStrategy[tuple[T, ...]]:
    """1-5 lines numbered "1".."n"."""
    return st.integers(1, 5).flatmap(lambda n: st.tuples(*(make(i) for i in range(1, n + 1))))


@st.composite
def envelopes(draw: st.DrawFn, functional_id: str, version: str = "004010") -> Envelope:
    """ISA/GS/ST identity: ids 2-15 upper-case letters and digits, ISA13 nine digits."""
    ids = st.text(_UPPER_DIGITS, min_size=2, max_size=15)
    return Envelope(
        sender_qualifier=draw(st.sampled_from(("01", "08", "12", "14", "ZZ"))),
        sender_id=draw(ids),
        receiver_qualifier=draw(st.sampled_from(("01", "08", "12", "14", "ZZ"))),
        receiver_id=draw(ids),
        interchange_control=f"{draw(st.integers(1, 999_999_999)):09d}",
        group_control=str(draw(st.integers(1, 999_999_999))),
        transaction_control=f"{draw(st.integers(1, 9999)):04d}",
        version=version,
        functional_id=functional_id,
        usage_indicator=draw(st.sampled_from(("P", "T"))),
        interchange_date=draw(dates()),
        interchange_time=draw(_times()),
        interchange_version="00401" if version.startswith("004") else "00501",
        group_sender_id=draw(_optional(ids)),
        group_receiver_id=draw(_optional(ids)),
    )


def _totalled(invoice: Invoice) -> Invoice:
    charges = sum(
        (ac.amount or 0) * (1 if ac.indicator == "C" else -1) for ac in invoice.allowances_charges
    )
    total = (invoice.lines_total + charges).quantize(_CENT, rounding=ROUND_HALF_UP)
    return invoice.model_copy(
        update={"total_amount": total.copy_abs() if total.is_zero() else total}
    )


def invoices(*, with_envelope: bool = False) -> st.SearchStrategy[Invoice]:
    """Valid canonical 810 invoices; see the module docstring for what X12 limits they keep."""
    return st.builds(
        Invoice,
        invoice_number=x12_text(1, 22),
        invoice_date=dates(),
        po_number=_optional(x12_text(1, 22)),
        po_date=_optional(dates()),
        release_number=_optional(x12_text(1, 30)),
        transaction_type=_optional(st.sampled_from(("DI", "CR", "DR"))),
        currency=_optional(st.sampled_from(CURRENCIES)),
        parties=_party_lists(("ST", "BT", "RE", "SU")),
        references=st.lists(references(), max_size=3).map(tuple),
        dates=st.lists(date_refs(("011", "003", "050")), max_size=2).map(tuple),
        terms=_optional(terms()),
        lines=_lines(invoice_lines),
        allowances_charges=st.lists(allowances_charges(), max_size=3).map(tuple),
        total_amount=st.just(Decimal(0)),
        envelope=envelopes("IN") if with_envelope else st.none(),
    ).map(_totalled)


def purchase_orders(*, with_envelope: bool = False) -> st.SearchStrategy[PurchaseOrder]:
    """Valid canonical 850 purchase orders, with the same X12 limits as ``invoices``."""
    return st.builds(
        PurchaseOrder,
        po_number=x12_text(1, 22),
        release_number=_optional(x12_text(1, 30)),
        po_date=dates(),
        purpose_code=st.sampled_from(("00", "01", "05")),
        order_type=st.sampled_from(("SA", "NE", "DS", "KN", "RL")),
        currency=_optional(st.sampled_from(CURRENCIES)),
        parties=_party_lists(("ST", "BT", "BY", "SU")),
        references=st.lists(references(), max_size=3).map(tuple),
        dates=st.lists(date_refs(("002", "010", "037", "038")), max_size=2).map(tuple),
        terms=_optional(terms()),
        allowances_charges=st.lists(allowances_charges(), max_size=2).map(tuple),
        lines=_lines(order_lines),
        envelope=envelopes("PO") if with_envelope else st.none(),
    )


def purchase_order_acks(*, with_envelope: bool = False) -> st.SearchStrategy[PurchaseOrderAck]:
    """Valid canonical 855 acknowledgements, with the same X12 limits as ``invoices``."""
    return st.builds(
        PurchaseOrderAck,
        purpose_code=st.sampled_from(("00", "06")),
        ack_type=st.sampled_from(("AC", "AD", "AE", "AK", "RJ")),
        po_number=x12_text(1, 22),
        po_date=dates(),
        ack_date=_optional(dates()),
        release_number=_optional(x12_text(1, 30)),
        currency=_optional(st.sampled_from(CURRENCIES)),
        parties=_party_lists(("ST", "BT", "BY", "SU")),
        references=st.lists(references(), max_size=2).map(tuple),
        dates=st.lists(date_refs(("002", "010", "017", "068")), max_size=2).map(tuple),
        lines=_lines(ack_lines),
        envelope=envelopes("PR") if with_envelope else st.none(),
    )
