"""The cash-application tables through the store (SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import sqlalchemy.exc

from gateway.errors import UsageError
from gateway.storage import OpenItem, Store
from gateway.storage.cash_rows import NewApplication, NewRemittanceLine

D = Decimal
DAY = dt.date(2024, 4, 22)


async def _item(store: Store, number: str, amount: str) -> int:
    return await store.add_open_item(
        OpenItem(
            partner_id="acme",
            invoice_number=number,
            invoice_date=dt.date(2024, 4, 1),
            due_date=dt.date(2024, 5, 1),
            amount=D(amount),
            open_amount=D(amount),
            currency="USD",
        )
    )


def _line(
    index: int, reference: str, paid: str, *, status: str, invoice: str | None
) -> NewRemittanceLine:
    return NewRemittanceLine(
        line_index=index,
        reference_qualifier="IV",
        reference=reference,
        paid_amount=D(paid),
        invoice_amount=None,
        discount_amount=D("0.00"),
        adjustment_amount=D("0.00"),
        adjustment_codes=("01",) if status == "partial" else (),
        status=status,
        review="open",
        rule="exact" if invoice else "none",
        confidence=1.0 if invoice else 0.0,
        reason="test",
        invoice_number=invoice,
    )


async def _remittance(store: Store, trace: str = "T-1") -> int:
    doc = await store.receive(b"ISA*820~", partner_id="acme", channel="http")
    return await store.add_remittance(
        document_id=doc.id,
        partner_id="acme",
        trace_number=trace,
        payment_amount=D("150.00"),
        lines_total=D("150.00"),
        unapplied_amount=D("150.00"),
        currency="USD",
        payment_date=DAY,
    )


async def test_remittance_is_unique_per_document(store: Store) -> None:
    rid = await _remittance(store)
    remittance = await store.remittance(rid)
    assert remittance is not None and remittance.payment_amount == D("150.00")
    assert await store.remittance_of_document(remittance.document_id) == remittance
    assert [r.id for r in await store.remittances_with_trace("acme", "T-1")] == [rid]
    assert await store.remittances_with_trace("other", "T-1") == []
    with pytest.raises(sqlalchemy.exc.IntegrityError):
        await store.add_remittance(
            document_id=remittance.document_id,
            partner_id="acme",
            trace_number="T-2",
            payment_amount=D("1.00"),
            lines_total=D("1.00"),
            unapplied_amount=D("1.00"),
        )


async def test_open_amount_changes_only_from_the_expected_amount(store: Store) -> None:
    item_id = await _item(store, "INV-1", "100.00")
    assert not await store.change_open_amount(item_id, expected=D("99.00"), new=D("0.00"))
    assert await store.change_open_amount(item_id, expected=D("100.00"), new=D("0.00"))
    item = await store.open_item_by_id(item_id)
    assert item is not None and (item.open_amount, item.status) == (D("0.00"), "closed")
    assert await store.change_open_amount(item_id, expected=D("0.00"), new=D("25.50"))
    item = await store.open_item_by_id(item_id)
    assert item is not None and (item.open_amount, item.status) == (D("25.50"), "open")
    with pytest.raises(UsageError, match="below zero"):
        await store.change_open_amount(item_id, expected=D("25.50"), new=D("-0.01"))


async def test_line_figures_count_only_live_cash(store: Store) -> None:
    item_id = await _item(store, "INV-1", "100.00")
    rid = await _remittance(store)
    partial = await store.add_remittance_line(
        rid, "acme", _line(0, "INV-1", "90.00", status="partial", invoice="INV-1")
    )
    loose = await store.add_remittance_line(
        rid, "acme", _line(1, "???", "60.00", status="unmatched", invoice=None)
    )

    def app(kind: str, amount: str, line: int, item: int | None) -> NewApplication:
        return NewApplication("acme", kind, D(amount), DAY, "auto", line_id=line, open_item_id=item)

    await store.add_cash_application(app("payment", "90.00", partial, item_id))
    await store.change_open_amount(item_id, expected=D("100.00"), new=D("10.00"))
    await store.add_cash_application(app("discount", "1.00", loose, item_id))
    gone = await store.add_cash_application(app("payment", "20.00", loose, item_id))
    await store.add_cash_application(app("on_account", "15.00", loose, None))
    assert await store.reverse_cash_application(gone, "clerk")
    assert not await store.reverse_cash_application(gone, "clerk")

    first, second = await store.remittance_lines(remittance_id=rid)
    assert (first.placed, first.unplaced, first.shortfall) == (D("90.00"), D("0.00"), D("10.00"))
    assert first.item_id == item_id and first.adjustment_codes == ("01",)
    assert (second.placed, second.unplaced, second.shortfall) == (D("15.00"), D("45.00"), D("0"))
    assert second.trace_number == "T-1" and second.payment_date == DAY
    assert [ln.id for ln in await store.remittance_lines(min_paid=D("61"))] == [partial]
    assert [ln.id for ln in await store.remittance_lines(max_paid=D("60"))] == [loose]

    await store.update_remittance_line(loose, review="resolved", note="done")
    assert [ln.id for ln in await store.remittance_lines(review="open")] == [partial]
    with pytest.raises(KeyError):
        await store.update_remittance_line(999_999, review="open")

    reversed_ = await store.cash_application(gone)
    assert reversed_ is not None and reversed_.reversed_by == "clerk"
    assert reversed_.invoice_number == "INV-1" and reversed_.trace_number == "T-1"


async def test_erp_state_follows_the_push(store: Store) -> None:
    rid = await _remittance(store)
    line = await store.add_remittance_line(
        rid, "acme", _line(0, "X", "5.00", status="unmatched", invoice=None)
    )
    first = await store.add_cash_application(
        NewApplication("acme", "on_account", D("5.00"), DAY, "clerk", line_id=line)
    )
    assert [a.id for a in await store.applications_to_push()] == [first]
    assert await store.set_application_erp_state(first, reversed_=False, state="failed", error="x")
    failed = await store.cash_application(first)
    assert failed is not None and (failed.erp_state, failed.erp_attempts) == ("failed", 1)
    assert [a.id for a in await store.applications_to_push()] == [first]

    # reversed while the push ran: the outcome of the unreversed push is not recorded
    await store.reverse_cash_application(first, "clerk")
    assert not await store.set_application_erp_state(
        first, reversed_=False, state="pushed", reference="R1"
    )
    assert await store.set_application_erp_state(
        first, reversed_=True, state="pushed", reference="R1 / reversed R2"
    )
    pushed = await store.cash_application(first)
    assert pushed is not None and pushed.erp_state == "pushed"
    assert pushed.erp_reference == "R1 / reversed R2" and pushed.erp_error is None
    assert await store.applications_to_push() == []


async def test_reads_inside_a_unit_see_its_writes(store: Store) -> None:
    item_id = await _item(store, "INV-1", "100.00")
    with pytest.raises(RuntimeError):
        async with store.unit():
            assert await store.change_open_amount(item_id, expected=D("100.00"), new=D("40.00"))
            inside = await store.open_item_by_id(item_id, lock=True)
            assert inside is not None and inside.open_amount == D("40.00")
            await store.audit("clerk", "cash.test", "remittance_line:1", {"n": 1})
            assert len(await store.audit_entries(["remittance_line:1"])) == 1
            raise RuntimeError("roll back")
    item = await store.open_item_by_id(item_id)
    assert item is not None and item.open_amount == D("100.00")
    assert await store.audit_entries(["remittance_line:1"]) == []
