"""What a clerk does to a line of the AR review queue: the actions of :class:`CashReview`.

:class:`ReviewActions` holds the actions (apply, deduct, on account, write off, note,
resolve, reverse) and :class:`CashActionError`; :mod:`gateway.cash.review` adds the
reading side and is the module callers import. See its docstring for the rules.

Imports the standard library, ``gateway.storage``, ``gateway.partners`` and
``gateway.errors``; must not import ``gateway.pipeline``, ``gateway.web`` or ``gateway.cli``.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Final

from gateway.errors import CashActionError as CashActionError  # re-exported: it was defined here
from gateway.storage.cash_rows import ZERO, NewApplication

if TYPE_CHECKING:
    import datetime as dt
    from collections.abc import Callable, Sequence

    from gateway.partners import PartnerRegistry
    from gateway.storage import OpenItem, Store
    from gateway.storage.cash_rows import RemittanceLineRecord

_CENT: Final = Decimal("0.01")
_REASON_CODE: Final = re.compile(r"[A-Za-z0-9]{1,16}")
MAX_NOTE: Final = 2000
"""Longest note text one action adds."""


def _amount(value: object, what: str) -> Decimal:
    """A positive amount of at most two decimal places, or a :class:`CashActionError`."""
    if not isinstance(value, Decimal) or not value.is_finite():
        raise CashActionError(f"{what}: expected an amount such as 125.00, got {value!r}")
    if value <= 0:
        raise CashActionError(f"{what}: the amount must be above zero, got {value}")
    if value != value.quantize(_CENT):
        raise CashActionError(f"{what}: at most two decimal places, got {value}")
    return value.quantize(_CENT)


def _actor(actor: str) -> str:
    if not isinstance(actor, str) or not actor.strip():
        raise CashActionError("who is acting is not known; sign in again")
    return actor.strip()[:200]


def snapshot(line: RemittanceLineRecord) -> dict[str, Any]:
    """A line's figures for the audit log (amounts as text)."""
    return {
        "review": line.review,
        "unplaced": str(line.unplaced),
        "shortfall": str(line.shortfall),
        "note": line.note,
    }


class ReviewActions:
    """The clerk's actions on queue lines; see :class:`gateway.cash.review.CashReview`."""

    def __init__(
        self, store: Store, partners: PartnerRegistry, *, today: Callable[[], dt.date]
    ) -> None:
        self._store = store
        self._partners = partners
        self._today = today

    # -- helpers, inside the action's unit ---------------------------------------------------
    async def _open_line(self, line_id: int) -> RemittanceLineRecord:
        """The line, locked, if it is in the queue; else a :class:`CashActionError`."""
        line = await self._store.remittance_line(line_id, lock=True)
        if line is None:
            raise CashActionError(f"there is no remittance line #{line_id}")
        if line.review != "open":
            raise CashActionError(
                f"line #{line_id} is not in the review queue (it is {line.review}); "
                "reverse one of its applications to work on it again"
            )
        return line

    async def _take(self, item: OpenItem, amount: Decimal) -> None:
        """Take ``amount`` off the item's open amount, which must still be what was read."""
        ok = await self._store.change_open_amount(
            item.id, expected=item.open_amount, new=item.open_amount - amount
        )
        if not ok:
            raise CashActionError(
                f"invoice {item.invoice_number} changed while you worked on it; "
                "reload the line and try again"
            )

    async def _shortfall_item(self, line: RemittanceLineRecord, amount: Decimal) -> OpenItem:
        """The line's invoice when ``amount`` fits its shortfall; else a refusal."""
        if line.shortfall <= 0 or line.item_id is None:
            raise CashActionError(
                f"line #{line.id} has no shortfall on an open invoice to settle "
                f"(status {line.status}, invoice {line.invoice_number or 'none'})"
            )
        if amount > line.shortfall:
            raise CashActionError(
                f"{amount} is more than the {line.shortfall} still open on invoice "
                f"{line.invoice_number}"
            )
        item = await self._store.open_item_by_id(line.item_id, lock=True)
        assert item is not None  # the line's join found it
        return item

    async def _record(
        self,
        line: RemittanceLineRecord,
        kind: str,
        amount: Decimal,
        actor: str,
        *,
        item: OpenItem | None = None,
        reason_code: str | None = None,
    ) -> int:
        if item is not None:
            await self._take(item, amount)
        return await self._store.add_cash_application(
            NewApplication(
                partner_id=line.partner_id,
                kind=kind,
                amount=amount,
                effective_date=self._today(),
                actor=actor,
                line_id=line.id,
                open_item_id=item.id if item is not None else None,
                reason_code=reason_code,
            )
        )

    async def _finish(
        self,
        line: RemittanceLineRecord,
        action: str,
        actor: str,
        *,
        settle: bool,
        **detail: Any,
    ) -> None:
        """Resolve the line when nothing is left (money actions), then audit the action."""
        after = await self._store.remittance_line(line.id)
        assert after is not None
        if settle and after.review == "open" and after.unplaced == 0 and after.shortfall == 0:
            await self._store.update_remittance_line(line.id, review="resolved")
            after = await self._store.remittance_line(line.id)
            assert after is not None
        await self._store.audit(
            actor,
            f"cash.{action}",
            f"remittance_line:{line.id}",
            {"before": snapshot(line), "after": snapshot(after), **detail},
        )

    # -- actions -------------------------------------------------------------------------
    async def apply(self, line_id: int, splits: Sequence[tuple[int, Decimal]], actor: str) -> None:
        """Put the line's cash on open invoices of its partner: ``(open_item_id, amount)``.

        The total may not exceed the line's unplaced cash, nor any amount what is open on
        its invoice; an invoice that reaches zero closes.
        """
        who = _actor(actor)
        if not splits:
            raise CashActionError("choose at least one invoice and an amount for it")
        cleaned = [(item_id, _amount(amount, f"invoice #{item_id}")) for item_id, amount in splits]
        ids = [item_id for item_id, _ in cleaned]
        if len(set(ids)) != len(ids):
            raise CashActionError("an invoice appears twice: give one amount per invoice")
        total = sum((amount for _, amount in cleaned), ZERO)
        async with self._store.unit():
            line = await self._open_line(line_id)
            if total > line.unplaced:
                raise CashActionError(
                    f"{total} is more than the {line.unplaced} of this line's cash not yet placed"
                )
            for item_id in sorted(ids):  # locks in id order, as the worker takes them
                await self._store.open_item_by_id(item_id, lock=True)
            done = []
            for item_id, amount in cleaned:
                item = await self._store.open_item_by_id(item_id)
                if item is None or item.partner_id != line.partner_id:
                    raise CashActionError(
                        f"invoice #{item_id} is not an invoice of partner {line.partner_id}"
                    )
                if item.status != "open" or item.open_amount <= 0:
                    raise CashActionError(f"invoice {item.invoice_number} is closed")
                if line.currency and item.currency and line.currency != item.currency:
                    raise CashActionError(
                        f"the payment is in {line.currency} and invoice {item.invoice_number} "
                        f"in {item.currency}"
                    )
                if amount > item.open_amount:
                    raise CashActionError(
                        f"{amount} is more than the {item.open_amount} open on invoice "
                        f"{item.invoice_number}"
                    )
                await self._record(line, "payment", amount, who, item=item)
                done.append({"invoice": item.invoice_number, "amount": str(amount)})
            await self._finish(line, "apply", who, settle=True, splits=done)

    async def deduct(self, line_id: int, amount: Decimal, reason_code: str, actor: str) -> None:
        """Record (part of) the shortfall on the line's invoice as a deduction."""
        who = _actor(actor)
        value = _amount(amount, "deduction")
        code = reason_code.strip() if isinstance(reason_code, str) else ""
        if not _REASON_CODE.fullmatch(code):
            raise CashActionError(
                f"a deduction needs a reason code of 1 to 16 letters or digits "
                f"(e.g. 01 pricing, CS customer), got {reason_code!r}"
            )
        async with self._store.unit():
            line = await self._open_line(line_id)
            item = await self._shortfall_item(line, value)
            await self._record(line, "deduction", value, who, item=item, reason_code=code.upper())
            await self._finish(
                line,
                "deduct",
                who,
                settle=True,
                invoice=item.invoice_number,
                amount=str(value),
                reason_code=code.upper(),
            )

    async def on_account(self, line_id: int, amount: Decimal, actor: str) -> None:
        """Leave (part of) the line's unplaced cash on the partner's account."""
        who = _actor(actor)
        value = _amount(amount, "on account")
        async with self._store.unit():
            line = await self._open_line(line_id)
            if value > line.unplaced:
                raise CashActionError(
                    f"{value} is more than the {line.unplaced} of this line's cash not yet placed"
                )
            await self._record(line, "on_account", value, who)
            await self._finish(line, "on_account", who, settle=True, amount=str(value))

    async def write_off(self, line_id: int, amount: Decimal, actor: str) -> None:
        """Write off a small shortfall, up to the partner's ``business.cash.amount_tolerance``."""
        who = _actor(actor)
        value = _amount(amount, "write-off")
        async with self._store.unit():
            line = await self._open_line(line_id)
            tolerance = self._tolerance(line.partner_id)
            if value > tolerance:
                raise CashActionError(
                    f"{value} is more than the write-off tolerance of {tolerance} agreed with "
                    f"{line.partner_id}; record a deduction with a reason code instead"
                )
            item = await self._shortfall_item(line, value)
            await self._record(line, "write_off", value, who, item=item)
            await self._finish(
                line, "write_off", who, settle=True, invoice=item.invoice_number, amount=str(value)
            )

    def _tolerance(self, partner_id: str) -> Decimal:
        if partner_id not in self._partners:
            return ZERO
        return self._partners.by_id(partner_id).business.cash.amount_tolerance.quantize(_CENT)

    async def add_note(self, line_id: int, text: str, actor: str) -> None:
        """Add a note to the line (after any earlier ones)."""
        who = _actor(actor)
        body = text.strip() if isinstance(text, str) else ""
        if not body:
            raise CashActionError("the note is empty")
        if len(body) > MAX_NOTE:
            raise CashActionError(f"a note holds at most {MAX_NOTE} characters, got {len(body)}")
        async with self._store.unit():
            line = await self._store.remittance_line(line_id, lock=True)
            if line is None:
                raise CashActionError(f"there is no remittance line #{line_id}")
            note = f"{line.note}\n{body}" if line.note else body
            await self._store.update_remittance_line(line_id, note=note)
            await self._finish(line, "note", who, settle=False, text=body)

    async def resolve(self, line_id: int, actor: str) -> None:
        """Take the line out of the queue: a person has finished with it."""
        who = _actor(actor)
        async with self._store.unit():
            line = await self._open_line(line_id)
            await self._store.update_remittance_line(line_id, review="resolved")
            await self._finish(line, "resolve", who, settle=False)

    async def reopen(self, line_id: int, actor: str) -> None:
        """Put a line that left the queue (resolved, or settled by the engine) back in it.

        Undoes :meth:`resolve`; the line's applications stay (reverse them one by one).
        """
        who = _actor(actor)
        async with self._store.unit():
            line = await self._store.remittance_line(line_id, lock=True)
            if line is None:
                raise CashActionError(f"there is no remittance line #{line_id}")
            if line.review == "open":
                raise CashActionError(f"line #{line_id} is already in the review queue")
            await self._store.update_remittance_line(line_id, review="open")
            await self._finish(line, "reopen", who, settle=False)

    async def reverse(self, application_id: int, actor: str) -> None:
        """Undo one application: its amount goes back on the invoice, the line to the queue."""
        who = _actor(actor)
        async with self._store.unit():
            app = await self._store.cash_application(application_id, lock=True)
            if app is None:
                raise CashActionError(f"there is no application #{application_id}")
            if app.reversed_at is not None:
                raise CashActionError(
                    f"application #{application_id} was already reversed on "
                    f"{app.reversed_at:%Y-%m-%d %H:%M} UTC by {app.reversed_by}"
                )
            if app.line_id is None:
                raise CashActionError(f"application #{application_id} belongs to no line")
            line = await self._store.remittance_line(app.line_id, lock=True)
            assert line is not None  # the foreign key holds
            if app.open_item_id is not None:
                await self._give_back(app.open_item_id, app.amount)
            if not await self._store.reverse_cash_application(application_id, who):
                raise CashActionError(f"application #{application_id} was already reversed")
            if line.review != "open":
                await self._store.update_remittance_line(line.id, review="open")
            await self._finish(
                line,
                "reverse",
                who,
                settle=False,
                application=application_id,
                kind=app.kind,
                invoice=app.invoice_number,
                amount=str(app.amount),
            )

    async def _give_back(self, item_id: int, amount: Decimal) -> None:
        item = await self._store.open_item_by_id(item_id, lock=True)
        assert item is not None  # the foreign key holds
        if item.open_amount + amount > item.amount:
            raise CashActionError(
                f"invoice {item.invoice_number} would owe {item.open_amount + amount}, more "
                f"than its amount {item.amount}; it has been changed outside the gateway"
            )
        await self._take(item, -amount)
