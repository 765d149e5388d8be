"""The matching rules: which open invoice a remittance line is about, most certain rule first.

Each rule answers with a :class:`Finding`: an invoice with the rule's confidence and a
reason, or a final "no" (the reference points somewhere, but not safely at one open
invoice), or ``None`` ("this rule knows nothing; try the next one"). Only the partner's
own book is searched, and a closed invoice is never returned. The stages, in order:

1. :func:`by_reference`: the invoice number as sent (1.00), normalized (0.95), or the PO
   number resolved to its one open invoice (0.90; 0.85 when the amount has to pick it).
2. :func:`by_near_miss`: one mistyped or transposed character (rapidfuzz OSA distance 1),
   only when the amount confirms exactly one candidate (0.80).
3. :func:`by_amount`: no usable reference, and the amount equals what is open on exactly
   one invoice of the partner (0.60), when the partner allows amount-only matching.

Imports only the standard library, rapidfuzz and ``gateway.cash``; must not import
``gateway.pipeline``, ``gateway.web`` or ``gateway.cli``.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Final, NamedTuple

from rapidfuzz import process
from rapidfuzz.distance import OSA

from gateway.cash.ledger import normalize_reference
from gateway.cash.results import ZERO

if TYPE_CHECKING:
    from gateway.cash.items import OpenItem
    from gateway.cash.ledger import Ledger, PartnerBook
    from gateway.cash.results import PartnerRules, Rule
    from gateway.model import RemittanceLine

CENT: Final = Decimal("0.01")
_HUNDRED: Final = Decimal(100)
NEAR_MISS_MIN_LENGTH: Final = 5
"""Shorter numbers are one typo away from too many others for a near miss to mean anything."""


class Amounts(NamedTuple):
    """The money on one remittance line, read once."""

    paid: Decimal
    discount: Decimal
    """The discount the partner says it took (RMR06), or zero."""
    deduction: Decimal
    """The adjustments (ADX) as a positive amount withheld."""
    codes: tuple[str, ...]
    invoice_amount: Decimal | None

    @classmethod
    def of(cls, line: RemittanceLine) -> Amounts:
        """Read the amounts of a line; a missing paid amount counts as zero."""
        paid = line.paid_amount if line.paid_amount is not None else ZERO
        discount = line.discount_amount or ZERO
        if not line.adjustments:
            return cls(paid, discount, ZERO, (), line.invoice_amount)
        deduction = -sum((a.amount for a in line.adjustments), ZERO)
        codes = tuple(a.reason_code for a in line.adjustments)
        return cls(paid, discount, deduction, codes, line.invoice_amount)

    @property
    def gross(self) -> Decimal:
        """Paid plus discount plus deductions: what the partner says the invoice was."""
        return self.paid + self.discount + self.deduction

    def confirms(self, item: OpenItem, remaining: Decimal) -> bool:
        """True when the line's amounts account exactly for this invoice."""
        if remaining > 0:
            if self.paid == remaining or self.gross == remaining:
                return True
            earned = discount_allowed(item)
            if earned > 0 and self.paid == remaining - earned:
                return True
        elif self.paid == item.amount or self.gross == item.amount:
            return True
        return self.invoice_amount is not None and self.invoice_amount == item.amount


class Finding(NamedTuple):
    """A rule's answer: ``item`` to apply to, or ``item is None`` for a final no."""

    item: OpenItem | None
    rule: Rule
    confidence: float
    reason: str


def discount_allowed(item: OpenItem) -> Decimal:
    """The early-payment discount the invoice's terms give, in currency units, to the cent."""
    if item.discount_percent <= 0:
        return ZERO
    return (item.amount * item.discount_percent / _HUNDRED).quantize(CENT, ROUND_HALF_UP)


def _no(rule: Rule, reason: str) -> Finding:
    return Finding(None, rule, 0.0, reason)


def _closed(ledger: Ledger, item: OpenItem, rule: Rule, how: str) -> Finding:
    if item.is_open:
        return _no(
            rule, f"{how} invoice {item.invoice_number}, already settled earlier in this run"
        )
    return _no(rule, f"{how} invoice {item.invoice_number}, which is closed")


def by_reference(
    ledger: Ledger,
    book: PartnerBook,
    line: RemittanceLine,
    amounts: Amounts,
    rules: PartnerRules,
) -> Finding | None:
    """Stage 1: the invoice number (as sent, then normalized) or the PO number."""
    reference = line.reference.strip()
    primary = "po" if line.reference_qualifier.strip().upper() == "PO" else "invoice"
    kinds = [primary] + [k for k in rules.references if k != primary]
    for kind in kinds:
        confirm = kind != primary  # a number in the other field must also carry the amount
        found = (
            _by_po(ledger, book, reference, amounts)
            if kind == "po"
            else _by_invoice(ledger, book, reference)
        )
        if found is not None:
            if confirm:
                return _confirmed(ledger, found, amounts)
            return _typo_guard(ledger, book, reference, found, amounts)
    for ref in line.references:  # REF*PO inside the RMR loop names the order the item belongs to
        if ref.qualifier.strip().upper() == "PO" and primary != "po":
            found = _by_po(ledger, book, ref.value, amounts)
            if found is not None:
                return found
    return None


def _confirmed(ledger: Ledger, found: Finding, amounts: Amounts) -> Finding:
    item = found.item
    if item is None or amounts.confirms(item, ledger.remaining(item)):
        return found
    return _no(
        found.rule,
        f"{found.reason}, but that is not the field the reference came in and the amount "
        f"{amounts.paid} does not confirm it",
    )


def _typo_guard(
    ledger: Ledger, book: PartnerBook, reference: str, found: Finding, amounts: Amounts
) -> Finding:
    """A reference that names an invoice the amount does not fit may be a typo of another.

    Invoice numbers are dense: one wrong digit often makes another valid number. When the
    amount does not fit the invoice named but fits one a single typo away, nobody can tell
    which was meant, so the line waits for a person.
    """
    item = found.item
    if item is None or found.rule not in ("exact", "normalized"):
        return found
    if amounts.confirms(item, ledger.remaining(item)):
        return found
    fits = [
        other
        for other in near_misses(book, normalize_reference(reference))
        if other is not item and amounts.confirms(other, ledger.remaining(other))
    ]
    if not fits:
        return found
    names = ", ".join(sorted(i.invoice_number for i in fits))
    return _no(
        found.rule,
        f"{found.reason}, but the amount does not fit it and fits {names}, one typo away",
    )


def near_misses(book: PartnerBook, key: str) -> list[OpenItem]:
    """The partner's invoices whose normalized number is one edit or transposition from ``key``.

    Only for keys of :data:`NEAR_MISS_MIN_LENGTH` characters or more that hold a digit;
    the key itself is not a near miss of itself.
    """
    if len(key) < NEAR_MISS_MIN_LENGTH or not any(c.isdigit() for c in key):
        return []
    choices = book.keys_sharing(key, (len(key) - 2) // 2)
    near = process.extract(key, choices, scorer=OSA.distance, score_cutoff=1, limit=None)
    seen: set[str] = set()
    found: list[OpenItem] = []
    for choice, score, _ in near:
        if score > 0 and choice not in seen:
            seen.add(choice)
            found += book.by_normalized.get(choice)
    return found


def _by_invoice(ledger: Ledger, book: PartnerBook, reference: str) -> Finding | None:
    item = book.by_number.get(reference)
    if item is not None:
        if ledger.remaining(item) <= 0:
            return _closed(ledger, item, "exact", "the reference is")
        return Finding(item, "exact", 1.0, f"invoice number {reference} found as sent")
    key = normalize_reference(reference)
    found = book.by_normalized.get(key) if key else []
    if not found:
        return None
    if len(found) > 1:
        names = ", ".join(sorted(i.invoice_number for i in found))
        return _no("normalized", f"reference {reference!r} reads as several invoices: {names}")
    item = found[0]
    how = f"the reference {reference!r} reads as"
    if ledger.remaining(item) <= 0:
        return _closed(ledger, item, "normalized", how)
    return Finding(
        item,
        "normalized",
        0.95,
        f"{how} invoice {item.invoice_number} (case, spaces, punctuation, prefix and leading "
        "zeros ignored)",
    )


def _by_po(ledger: Ledger, book: PartnerBook, reference: str, amounts: Amounts) -> Finding | None:
    key = normalize_reference(reference)
    found = book.by_po.get(key) if key else []
    if not found:
        return None
    po = reference.strip()
    still_open = [i for i in found if ledger.remaining(i) > 0]
    if not still_open:
        return _no("po", f"every invoice of PO {po} is closed")
    if len(still_open) == 1 and len(found) == 1:
        item = still_open[0]
        return Finding(
            item, "po", 0.9, f"PO {po} belongs to one open invoice, {item.invoice_number}"
        )
    # Several invoices share the PO (split shipments, or one already paid): only an amount
    # that fits exactly one of them, and none of the closed ones, may pick it.
    fits = [i for i in found if amounts.confirms(i, ledger.remaining(i))]
    names = ", ".join(sorted(i.invoice_number for i in found))
    if len(fits) == 1 and any(fits[0] is i for i in still_open):
        item = fits[0]
        return Finding(
            item,
            "po",
            0.85,
            f"PO {po} is on invoices {names}; only {item.invoice_number} is open for this amount",
        )
    return _no("po", f"PO {po} is on invoices {names} and the amount does not pick one open one")


def by_near_miss(
    ledger: Ledger, book: PartnerBook, line: RemittanceLine, amounts: Amounts
) -> Finding | None:
    """Stage 2: one mistyped or transposed character, confirmed by the amount."""
    reference = line.reference.strip()
    candidates = near_misses(book, normalize_reference(reference))
    if not candidates:
        return None
    fits = [i for i in candidates if amounts.confirms(i, ledger.remaining(i))]
    names = ", ".join(sorted(i.invoice_number for i in candidates))
    if len(fits) == 1 and ledger.remaining(fits[0]) > 0:
        item = fits[0]
        return Finding(
            item,
            "near_miss",
            0.8,
            f"reference {reference!r} is one typo from invoice {item.invoice_number} and the "
            f"amount confirms it; no other candidate",
        )
    if not fits:
        why = "none of them fits the amount"
    elif len(fits) > 1:
        why = "the amount fits more than one"
    else:
        why = "the one that fits the amount is closed"
    return _no("near_miss", f"reference {reference!r} is one typo from {names}, but {why}")


def by_amount(
    ledger: Ledger, partner_id: str, line: RemittanceLine, amounts: Amounts, rules: PartnerRules
) -> Finding:
    """Stage 3: the amount alone, when it is open on exactly one of the partner's invoices."""
    reference = line.reference.strip()
    what = f"reference {reference!r} names no invoice or PO" if reference else "no reference"
    if not rules.allow_amount_only:
        return _no("amount_only", f"{what}, and amount-only matching is off for this partner")
    found = {id(i): i for i in ledger.open_with_amount(partner_id, amounts.paid)}
    if amounts.gross != amounts.paid:
        found |= {id(i): i for i in ledger.open_with_amount(partner_id, amounts.gross)}
    if len(found) == 1:
        item = next(iter(found.values()))
        return Finding(
            item,
            "amount_only",
            0.6,
            f"{what}; {ledger.remaining(item)} is open on exactly one invoice of this partner, "
            f"{item.invoice_number}",
        )
    if not found:
        return _no("amount_only", f"{what}, and no open invoice is for {amounts.paid}")
    return _no("amount_only", f"{what}, and {len(found)} open invoices are for {amounts.paid}")
