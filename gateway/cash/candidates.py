"""Scoring open invoices as candidates for a remittance line, with a reason a clerk can read.

:func:`score` rates one invoice for one line from 0 to 1 with the matching engine's own
pieces: :func:`gateway.cash.ledger.normalize_reference` equality, one edit or
transposition (rapidfuzz OSA distance 1, as :func:`gateway.cash.match.near_misses`),
otherwise rapidfuzz similarity of the normalized numbers; the PO number; and the amount
(equal to what is open, equal once discount and deductions are added, equal to the
invoice amount, or a part payment). :func:`rank` orders a partner's invoices best first,
the engine's own invoice ahead of the rest.

Imports only the standard library, rapidfuzz and ``gateway.cash``; must not import
``gateway.pipeline``, ``gateway.web`` or ``gateway.cli``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Final, Protocol

from rapidfuzz import fuzz
from rapidfuzz.distance import OSA

from gateway.cash.ledger import normalize_reference
from gateway.cash.match import NEAR_MISS_MIN_LENGTH

if TYPE_CHECKING:
    import datetime as dt
    from collections.abc import Iterable
    from decimal import Decimal

_SIMILAR: Final = 75.0
"""Below this rapidfuzz ratio two numbers are not called alike."""


class ItemLike(Protocol):
    """What scoring reads of an open item (a stored :class:`gateway.storage.OpenItem`)."""

    @property
    def id(self) -> int:
        """The item's id."""
        ...

    @property
    def invoice_number(self) -> str:
        """The invoice number."""
        ...

    @property
    def po_number(self) -> str | None:
        """The customer's PO number."""
        ...

    @property
    def amount(self) -> Decimal:
        """The invoice amount."""
        ...

    @property
    def open_amount(self) -> Decimal:
        """What is still owed."""
        ...

    @property
    def due_date(self) -> dt.date:
        """When it is due."""
        ...


@dataclass(frozen=True, slots=True)
class LineFacts:
    """What scoring reads of a remittance line."""

    reference: str
    qualifier: str | None
    paid: Decimal
    gross: Decimal
    """Paid plus discount plus deductions: what the partner says the invoice was."""
    engine_invoice: str | None = None


def _edit(a: str, b: str) -> str:
    """Say in words how two numbers one edit apart differ."""
    if len(a) == len(b):
        diff = [i for i in range(len(a)) if a[i] != b[i]]
        if len(diff) == 2 and a[diff[0]] == b[diff[1]] and a[diff[1]] == b[diff[0]]:
            return "two characters are swapped"
        i = diff[0]
        what = "digit" if a[i].isdigit() and b[i].isdigit() else "character"
        return f"one {what} differs ({a[i]} for {b[i]})"
    return "one character is missing" if len(a) < len(b) else "one character too many"


def _identity(facts: LineFacts, item: ItemLike) -> tuple[float, str | None]:
    """How well the line's reference names this invoice (0..0.6), and why."""
    ref = normalize_reference(facts.reference)
    number = normalize_reference(item.invoice_number)
    po = normalize_reference(item.po_number) if item.po_number else ""
    if ref and ref == number:
        if facts.reference.strip() == item.invoice_number:
            return 0.6, "the reference is this invoice number"
        return 0.6, f"the reference {facts.reference.strip()!r} reads as this invoice number"
    if ref and ref == po:
        return 0.55, f"the reference is its PO number {item.po_number}"
    if not ref or not number:
        return 0.0, None
    if len(ref) >= NEAR_MISS_MIN_LENGTH and OSA.distance(ref, number) == 1:
        return 0.45, f"the reference is one typo from the invoice number: {_edit(ref, number)}"
    similarity = fuzz.ratio(ref, number)
    if similarity >= _SIMILAR:
        return 0.4 * similarity / 100, f"the reference is {similarity:.0f}% like the number"
    return 0.0, None


def _amount(facts: LineFacts, item: ItemLike) -> tuple[float, str | None]:
    """How well the line's amount fits the invoice (0..0.4), and why."""
    paid, still = facts.paid, item.open_amount
    if paid <= 0:
        return 0.0, None
    if paid == still:
        return 0.4, "the amount equals what is open"
    if facts.gross == still:
        return 0.35, "the amount plus discount and deductions equals what is open"
    if paid == item.amount:
        return 0.25, f"the amount equals the invoice amount ({still} is open)"
    if paid < still:
        return 0.1, f"the amount pays part of the {still} open"
    return 0.0, None


def score(facts: LineFacts, item: ItemLike) -> tuple[float, str]:
    """The item's score for the line (0..1, two places) and the reason in plain language."""
    identity, named = _identity(facts, item)
    fit, amount = _amount(facts, item)
    parts = [p for p in (named, amount) if p]
    if item.invoice_number == facts.engine_invoice:
        parts.insert(0, "the engine's choice")
    reason = "; ".join(parts) if parts else "no reference or amount in common"
    return round(min(1.0, identity + fit), 2), reason


def rank(
    facts: LineFacts, items: Iterable[ItemLike], limit: int
) -> list[tuple[ItemLike, float, str]]:
    """The items best first, the engine's own invoice ahead; at most ``limit``."""
    scored = [(item, *score(facts, item)) for item in items]
    scored.sort(
        key=lambda found: (
            found[0].invoice_number != facts.engine_invoice,
            -found[1],
            found[0].due_date,
            found[0].id,
        )
    )
    return scored[: max(limit, 0)]
