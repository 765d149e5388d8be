"""The open items of every partner, indexed for matching, with what is still open in this run.

:class:`Ledger` keeps one :class:`PartnerBook` per partner: invoices by number as written,
by normalized number, by PO number and by open amount, plus the sorted normalized numbers
that near-miss matching scores with rapidfuzz. The ledger also tracks the amount still open
on each invoice while a run applies cash, so that no invoice is settled twice beyond what
was open on it, across lines and payments.

:func:`normalize_reference` is the one definition of "the same number written differently".

Imports only the standard library and ``gateway.cash.items``; must not import
``gateway.pipeline``, ``gateway.web`` or ``gateway.cli``.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections import Counter
from decimal import Decimal
from typing import TYPE_CHECKING, Final, Generic, TypeVar

if TYPE_CHECKING:
    from collections.abc import Iterable

    from gateway.cash.items import OpenItem

_NOT_ALNUM: Final = re.compile(r"[^0-9A-Z]+")
_DROP: Final = {c: None for c in range(128) if not chr(c).isalnum()}
# Words partners put in front of the number itself: "INV-0042", "Invoice No. 42", "#42",
# "PO 4500"; only stripped when a digit follows, so "INVERNESS1" keeps its letters.
_PREFIX: Final = re.compile(r"^(?:INVOICE|INVC|INV|IN|PO)?(?:NUMBER|NBR|NUM|NO|NR)?(?=[0-9])")
_PREFIX_STARTS: Final = ("IN", "PO", "NO", "NU", "NB", "NR")
_ZERO: Final = Decimal(0)
_END: Final = "\U0010ffff"
K = TypeVar("K")


def normalize_reference(text: str) -> str:
    """The comparable form of an invoice or PO number.

    Upper case, without spaces and punctuation, without a leading ``INV``/``INVOICE``/
    ``PO``/``NO`` word and without leading zeros: ``"inv # 00042"`` and ``"42"`` are the
    same number. An empty result means the text names nothing.
    """
    key = text.upper()
    if not key.isalnum():
        key = key.translate(_DROP)
        if not key.isascii():
            key = _NOT_ALNUM.sub("", key)
    if key.startswith(_PREFIX_STARTS):
        key = _PREFIX.sub("", key, count=1)
    if key[:1] == "0":
        key = key.lstrip("0") or "0"
    return key


class MultiIndex(Generic[K]):
    """Items by a key that a few items may share; built at C speed for the common unique case."""

    __slots__ = ("_many", "_one")

    def __init__(self, keys: list[K], items: list[OpenItem]) -> None:
        self._one: dict[K, OpenItem] = dict(zip(keys, items, strict=True))
        self._many: dict[K, list[OpenItem]] = {}
        if len(self._one) != len(items):
            shared = {key for key, count in Counter(keys).items() if count > 1}
            for key, item in zip(keys, items, strict=True):
                if key in shared:
                    self._many.setdefault(key, []).append(item)

    def get(self, key: K) -> list[OpenItem]:
        """Every item with this key, in input order; empty when none."""
        many = self._many.get(key)
        if many is not None:
            return many
        one = self._one.get(key)
        return [] if one is None else [one]

    def keys(self) -> list[K]:
        """Every key."""
        return list(self._one)


class PartnerBook:
    """One partner's open items (closed ones too, so a reference to one is recognised).

    Each index is built the first time a rule asks for it: a partner whose payments all
    quote exact invoice numbers never pays for normalizing, PO or amount indexes.
    """

    __slots__ = ("_amount", "_keys", "_normalized", "_number", "_po", "_reversed", "items")

    def __init__(self, items: list[OpenItem]) -> None:
        self.items = items
        self._number: dict[str, OpenItem] | None = None
        self._normalized: MultiIndex[str] | None = None
        self._po: MultiIndex[str] | None = None
        self._amount: MultiIndex[Decimal] | None = None
        self._keys: list[str] | None = None
        self._reversed: list[str] | None = None

    @property
    def by_number(self) -> dict[str, OpenItem]:
        """Invoices by their number exactly as the ERP wrote it."""
        if self._number is None:
            self._number = {item.invoice_number: item for item in self.items}
        return self._number

    @property
    def by_normalized(self) -> MultiIndex[str]:
        """Invoices by :func:`normalize_reference` of their number (numbers may clash)."""
        if self._normalized is None:
            numbers = [i.invoice_number for i in self.items]
            keys = [n if n.isdigit() and n[:1] != "0" else normalize_reference(n) for n in numbers]
            self._normalized = MultiIndex(keys, self.items)
        return self._normalized

    @property
    def by_po(self) -> MultiIndex[str]:
        """Invoices by normalized PO number."""
        if self._po is None:
            with_po = [i for i in self.items if i.po_number]
            numbers = [i.po_number or "" for i in with_po]
            keys = [n if n.isdigit() and n[:1] != "0" else normalize_reference(n) for n in numbers]
            self._po = MultiIndex(keys, with_po)
        return self._po

    @property
    def by_amount(self) -> MultiIndex[Decimal]:
        """Open invoices by the amount open on them when the run started."""
        if self._amount is None:
            still_open = [i for i in self.items if i.open_amount > 0]
            self._amount = MultiIndex([i.open_amount for i in still_open], still_open)
        return self._amount

    def keys_sharing(self, key: str, size: int) -> list[str]:
        """Normalized numbers that start, or end, with the same ``size`` characters as ``key``.

        A single edit or transposition cannot touch both the first and the last ``size``
        characters of a number longer than ``2 * size + 1``, so these are all the numbers
        that can be one edit from ``key``: the candidates near-miss matching scores.
        """
        if self._keys is None:
            self._keys = sorted(self.by_normalized.keys())
            self._reversed = sorted(k[::-1] for k in self._keys)
        assert self._reversed is not None
        head, tail = key[:size], key[::-1][:size]
        keys, back = self._keys, self._reversed
        found = keys[bisect_left(keys, head) : bisect_left(keys, head + _END)]
        found += [k[::-1] for k in back[bisect_left(back, tail) : bisect_left(back, tail + _END)]]
        return found


class Ledger:
    """Every partner's book, and the amount still open on each invoice during a run."""

    def __init__(self, items: Iterable[OpenItem] = ()) -> None:
        groups: dict[str, list[OpenItem]] = {}
        get = groups.get
        for item in items:
            found = get(item.partner_id)
            if found is None:
                groups[item.partner_id] = [item]
            else:
                found.append(item)
        self._books = {partner: PartnerBook(found) for partner, found in groups.items()}
        self._remaining: dict[int, Decimal] = {}
        # invoices part-paid in this run, by partner and the amount now open on them
        self._moved: dict[str, dict[Decimal, dict[int, OpenItem]]] = {}

    def book(self, partner_id: str) -> PartnerBook | None:
        """The partner's book, or None when the partner has no open items at all."""
        return self._books.get(partner_id)

    def __len__(self) -> int:
        return sum(len(book.items) for book in self._books.values())

    def remaining(self, item: OpenItem) -> Decimal:
        """What is still open on the invoice in this run (never below zero)."""
        value = self._remaining.get(id(item))
        if value is None:
            return item.open_amount if item.open_amount > 0 else _ZERO
        return value

    def settle(self, item: OpenItem, amount: Decimal) -> None:
        """Take ``amount`` (cash plus discount granted) off the invoice's open amount."""
        before = self.remaining(item)
        left = before - amount
        left = left if left > 0 else _ZERO
        self._remaining[id(item)] = left
        moved = self._moved.get(item.partner_id)
        if moved is None:
            moved = self._moved[item.partner_id] = {}
        if before != item.open_amount:
            moved.get(before, {}).pop(id(item), None)
        if left > 0:
            moved.setdefault(left, {})[id(item)] = item

    def open_with_amount(self, partner_id: str, amount: Decimal) -> list[OpenItem]:
        """The partner's invoices whose amount still open in this run is exactly ``amount``."""
        book = self._books.get(partner_id)
        if book is None:
            return []
        found = [i for i in book.by_amount.get(amount) if self.remaining(i) == amount]
        moved = self._moved.get(partner_id, {}).get(amount, {})
        found += [i for i in moved.values() if i.open_amount != amount]
        return found
