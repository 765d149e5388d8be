"""The ledger the DSO figures are computed from: invoices and payments, columnar and linked.

An :class:`Invoice` or :class:`Payment` is one row of an ERP export. A :class:`Ledger`
holds many of them as parallel lists of plain ints (dates as proleptic ordinals, amounts
in integer cents), so one as-of computation over a million invoices stays in fast loops
and slices with no ``Decimal`` in them:

- invoices sorted by partner, then invoice date (ties keep their source order), with
  ``partner_starts`` giving each partner's slice;
- payments sorted by payment date, each linked to the invoice it pays (the same
  ``partner_id`` and ``invoice_number``). A payment naming no invoice of the ledger is left
  out of every figure and its source line kept in ``unmatched_payments``.

Invoice amounts must not be negative (enter a credit as a negative payment on its invoice);
every amount has at most two decimals. Partner id ``*`` is reserved for the portfolio row.

Imports only the standard library and ``gateway.errors``.
"""

from __future__ import annotations

import gc
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import accumulate, chain, repeat
from typing import TYPE_CHECKING, Final, cast

from gateway.errors import LedgerError as LedgerError  # re-exported: it was defined here

if TYPE_CHECKING:
    import datetime as dt
    from collections.abc import Iterable, Iterator, Sequence
    from decimal import Decimal

PORTFOLIO: Final = "*"
"""The partner id of the row for all partners together."""
_DATE_BITS: Final = 22  # date.max.toordinal() is 3,652,059 < 2**22
_SEPARATOR: Final = "\x1f"  # joins partner id and invoice number; no partner id holds it


@dataclass(frozen=True, slots=True)
class Invoice:
    """One invoice of an AR export."""

    invoice_number: str
    partner_id: str
    invoice_date: dt.date
    due_date: dt.date
    amount: Decimal


@dataclass(frozen=True, slots=True)
class Payment:
    """One payment applied to one invoice (a negative amount reverses cash)."""

    invoice_number: str
    partner_id: str
    payment_date: dt.date
    amount: Decimal


@dataclass(slots=True)
class InvoiceColumns:
    """Invoices as parallel lists in source order: ordinal dates, amounts in cents.

    ``lines`` holds each row's line in ``source`` for error messages.
    """

    source: str = "invoices"
    numbers: list[str] = field(default_factory=list)
    partners: list[str] = field(default_factory=list)
    dates: list[int] = field(default_factory=list)
    dues: list[int] = field(default_factory=list)
    cents: list[int] = field(default_factory=list)
    lines: Sequence[int] = field(default_factory=list)


@dataclass(slots=True)
class PaymentColumns:
    """Payments as parallel lists in source order: ordinal dates, amounts in cents."""

    source: str = "payments"
    numbers: list[str] = field(default_factory=list)
    partners: list[str] = field(default_factory=list)
    dates: list[int] = field(default_factory=list)
    cents: list[int] = field(default_factory=list)
    lines: Sequence[int] = field(default_factory=list)


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while building columns of millions of items.

    Allocating millions of row objects triggers full collections, and each one walks every
    live list again, the growing columns included: quadratic in effect. Nothing built here
    forms a cycle, so nothing is lost by waiting; reference counting still frees as it goes.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def to_cents(amount: Decimal) -> int | None:
    """The amount in integer cents, or None when it is not finite or has finer decimals."""
    if not amount.is_finite():
        return None
    scaled = amount.scaleb(2)
    if scaled != scaled.to_integral_value():
        return None
    return int(scaled)


@dataclass(frozen=True, slots=True)
class Ledger:
    """Invoices grouped by partner and payments by date, linked; build with :meth:`build`.

    The lists are shared with every computation and must not be changed.
    """

    partner_ids: tuple[str, ...]
    """Sorted; partner ``k`` owns invoices ``partner_starts[k]:partner_starts[k + 1]``."""
    partner_starts: tuple[int, ...]
    inv_partner: list[int]
    inv_date: list[int]
    inv_due: list[int]
    inv_cents: list[int]
    inv_net: list[int]
    """Each invoice's amount less all its payments, whatever their date."""
    pay_invoice: list[int]
    """For each payment, the position of its invoice in the ``inv_*`` lists."""
    pay_date: list[int]
    pay_cents: list[int]
    unmatched_payments: tuple[int, ...] = ()
    """Source lines of payments that name no invoice of the ledger."""
    payment_source: str = "payments"

    @classmethod
    def build(cls, invoices: Iterable[Invoice], payments: Iterable[Payment]) -> Ledger:
        """A ledger from rows; amounts with more than two decimals are refused.

        Raises:
            LedgerError: a bad amount, a reserved partner id or a repeated invoice.
        """
        inv, pay = InvoiceColumns(), PaymentColumns()
        inv_lines: list[int] = []
        pay_lines: list[int] = []
        problems: list[str] = []
        for line, invoice in enumerate(invoices, 1):
            cents = to_cents(invoice.amount)
            if cents is None or cents < 0:
                problems.append(f"{inv.source}:{line}: amount: {_bad_amount(invoice.amount)}")
                continue
            inv.numbers.append(invoice.invoice_number)
            inv.partners.append(invoice.partner_id)
            inv.dates.append(invoice.invoice_date.toordinal())
            inv.dues.append(invoice.due_date.toordinal())
            inv.cents.append(cents)
            inv_lines.append(line)
        for line, payment in enumerate(payments, 1):
            cents = to_cents(payment.amount)
            if cents is None:
                problems.append(
                    f"{pay.source}:{line}: amount: expected an amount with at most 2 decimals, "
                    f"found {payment.amount}"
                )
                continue
            pay.numbers.append(payment.invoice_number)
            pay.partners.append(payment.partner_id)
            pay.dates.append(payment.payment_date.toordinal())
            pay.cents.append(cents)
            pay_lines.append(line)
        if problems:
            raise LedgerError("ledger", problems)
        inv.lines, pay.lines = inv_lines, pay_lines
        return cls.from_columns(inv, pay)

    @classmethod
    def from_columns(cls, invoices: InvoiceColumns, payments: PaymentColumns) -> Ledger:
        """Sort and link checked columns (amounts in cents, invoice amounts not negative).

        Raises:
            LedgerError: a partner id ``*`` or with a control character, or an invoice that
                appears twice for one partner.
        """
        with collector_paused():
            return cls._linked(invoices, payments)

    @classmethod
    def _linked(cls, invoices: InvoiceColumns, payments: PaymentColumns) -> Ledger:
        partner_ids = tuple(sorted(set(invoices.partners)))
        _check_partner_ids(invoices, partner_ids)
        code = {partner: k for k, partner in enumerate(partner_ids)}
        codes = list(map(code.__getitem__, invoices.partners))
        order = _order(codes, invoices.dates)
        count = len(order)
        counts = Counter(codes)
        sizes = [counts[k] for k in range(len(partner_ids))]
        position = [0] * count
        for sorted_at, source_at in enumerate(order):
            position[source_at] = sorted_at
        keys = map(_SEPARATOR.join, zip(invoices.partners, invoices.numbers, strict=True))
        index = dict(zip(keys, position, strict=True))
        if len(index) != count:
            raise LedgerError(invoices.source, _duplicates(invoices))
        pay_keys = map(_SEPARATOR.join, zip(payments.partners, payments.numbers, strict=True))
        targets = list(map(index.get, pay_keys))
        pay_invoice, pay_date, pay_cents = _by_date(targets, payments)
        cents = list(map(invoices.cents.__getitem__, order))
        net = cents.copy()
        for invoice, paid in zip(pay_invoice, pay_cents, strict=True):
            net[invoice] -= paid
        return cls(
            partner_ids=partner_ids,
            partner_starts=(0, *accumulate(sizes)),
            inv_partner=list(chain.from_iterable(map(repeat, range(len(sizes)), sizes))),
            inv_date=list(map(invoices.dates.__getitem__, order)),
            inv_due=list(map(invoices.dues.__getitem__, order)),
            inv_cents=cents,
            inv_net=net,
            pay_invoice=pay_invoice,
            pay_date=pay_date,
            pay_cents=pay_cents,
            unmatched_payments=tuple(payments.lines[j] for j, t in enumerate(targets) if t is None)
            if None in targets
            else (),
            payment_source=payments.source,
        )


def _by_date(
    targets: list[int | None], payments: PaymentColumns
) -> tuple[list[int], list[int], list[int]]:
    """Invoice position, date and cents of the linked payments, by date then source order."""
    shift = max(len(targets).bit_length(), 1)
    # One sort of plain ints (date, then source position): stable and fast.
    by_date = sorted(
        [
            d << shift | j
            for j, (d, t) in enumerate(zip(payments.dates, targets, strict=True))
            if t is not None
        ]
    )
    picked = [packed & ((1 << shift) - 1) for packed in by_date]
    linked = cast("list[int]", targets)  # only positions of linked payments are picked
    return (
        list(map(linked.__getitem__, picked)),
        [packed >> shift for packed in by_date],
        list(map(payments.cents.__getitem__, picked)),
    )


def _order(codes: list[int], dates: list[int]) -> list[int]:
    """Source positions sorted by partner code, then date, then source position."""
    shift = max(len(codes).bit_length(), 1)
    packed = sorted(
        [
            (c << _DATE_BITS | d) << shift | i
            for i, (c, d) in enumerate(zip(codes, dates, strict=True))
        ]
    )
    mask = (1 << shift) - 1
    return [key & mask for key in packed]


def _check_partner_ids(invoices: InvoiceColumns, partner_ids: tuple[str, ...]) -> None:
    for partner in partner_ids:
        if partner == PORTFOLIO:
            why = "'*' is reserved for the portfolio row"
        elif not partner.isprintable():
            why = f"{partner!r} holds a control character"
        else:
            continue
        line = invoices.lines[invoices.partners.index(partner)]
        raise LedgerError(invoices.source, [f"{invoices.source}:{line}: partner_id: {why}"])


def _bad_amount(amount: Decimal) -> str:
    return f"expected a non-negative amount with at most 2 decimals, found {amount}"


def _duplicates(invoices: InvoiceColumns) -> list[str]:
    first: dict[tuple[str, str], int] = {}
    problems = []
    for partner, number, line in zip(
        invoices.partners, invoices.numbers, invoices.lines, strict=True
    ):
        seen = first.setdefault((partner, number), line)
        if seen != line:
            problems.append(
                f"{invoices.source}:{line}: invoice_number: invoice {number!r} of partner "
                f"{partner!r} appears again (first on line {seen})"
            )
    return problems
