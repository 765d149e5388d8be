"""The store's DSO view: invoices, the applications that pay them, snapshots (upsert)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING

from tests.dso.seed import AS_OF, add_invoice, day, seed_ledger

if TYPE_CHECKING:
    from gateway.storage import Store


async def test_invoices_are_the_open_items_of_every_status(store: Store) -> None:
    await seed_ledger(store)
    rows = await store.dso_invoices()
    assert [(r.partner_id, r.invoice_number, str(r.amount)) for r in rows] == [
        ("northwind", "N0", "500.00"),
        ("northwind", "N1", "1000.00"),  # closed: still a sale
        ("northwind", "N2", "2000.00"),
        ("northwind", "N3", "3000.00"),
        ("bigbox", "B2", "800.00"),
        ("bigbox", "B1", "1200.00"),
    ]
    assert rows[1].invoice_date == day("2026-01-10") and rows[1].due_date == day("2026-02-09")
    assert [r.invoice_number for r in await store.dso_invoices(until=day("2026-01-10"))] == [
        "N0",
        "N1",
        "B2",
    ]
    assert [r.invoice_number for r in await store.dso_invoices(partner_id="bigbox")] == [
        "B2",
        "B1",
    ]


async def test_payments_leave_out_reversed_and_on_account(store: Store) -> None:
    await seed_ledger(store)
    rows = await store.dso_payments()
    assert [
        (r.partner_id, r.invoice_number, r.effective_date.isoformat(), str(r.amount), r.kind)
        for r in rows
    ] == [
        ("northwind", "N1", "2026-02-20", "980.00", "payment"),
        ("northwind", "N1", "2026-02-20", "20.00", "discount"),
        ("northwind", "N2", "2026-03-01", "500.00", "payment"),
        ("northwind", "N0", "2026-04-05", "50.00", "deduction"),
        ("bigbox", "B2", "2026-03-10", "800.00", "write_off"),
    ]
    until = [r.kind for r in await store.dso_payments(until=AS_OF)]
    assert until == ["payment", "discount", "payment", "write_off"]
    # Before N2 was invoiced, its payment (dated later anyway) is not there either.
    assert [r.invoice_number for r in await store.dso_payments(until=day("2026-02-20"))] == [
        "N1",
        "N1",
    ]
    assert [r.amount for r in await store.dso_payments(partner_id="bigbox")] == [Decimal("800.00")]


async def test_snapshots_upsert_and_say_which_rows_were_new(store: Store) -> None:
    first = {"*": {"dso": "10.00"}, "bigbox": {"dso": "20.00"}}
    assert await store.put_dso_snapshots(AS_OF, 90, first) == ["*", "bigbox"]
    again: dict[str, dict[str, object]] = {
        "*": {"dso": "11.00"},
        "bigbox": {"dso": "21.00"},
        "northwind": {"dso": None},
    }
    assert await store.put_dso_snapshots(AS_OF, 90, again) == ["northwind"]
    assert await store.put_dso_snapshots(AS_OF, 30, {"*": {"dso": "5.00"}}) == ["*"]
    assert await store.put_dso_snapshots(AS_OF, 90, {}) == []

    stored = await store.dso_snapshot("bigbox", AS_OF, 90)
    assert stored is not None
    assert stored.figures == {"dso": "21.00"}  # the repeat rewrote the figures
    assert (stored.partner_id, stored.as_of, stored.period_days) == ("bigbox", AS_OF, 90)
    assert stored.created_at.year >= 2026
    assert await store.dso_snapshot("bigbox", AS_OF, 30) is None
    assert [(s.partner_id, s.figures) for s in await store.dso_snapshots(period_days=90)] == [
        ("*", {"dso": "11.00"}),
        ("bigbox", {"dso": "21.00"}),
        ("northwind", {"dso": None}),
    ]


async def test_previous_snapshots_are_each_partners_latest_before_a_day(store: Store) -> None:
    def figures(dso: str) -> dict[str, object]:
        return {"dso": dso}

    await store.put_dso_snapshots(day("2026-03-01"), 90, {"*": figures("1"), "a": figures("2")})
    await store.put_dso_snapshots(day("2026-03-02"), 90, {"*": figures("3")})
    await store.put_dso_snapshots(day("2026-03-03"), 90, {"*": figures("4"), "a": figures("5")})
    await store.put_dso_snapshots(day("2026-03-02"), 30, {"a": figures("6")})

    before = await store.previous_dso_snapshots(day("2026-03-03"), 90)
    assert {pid: (s.as_of.day, s.figures["dso"]) for pid, s in before.items()} == {
        "*": (2, "3"),
        "a": (1, "2"),
    }
    assert await store.previous_dso_snapshots(day("2026-03-01"), 90) == {}
    history = await store.dso_snapshots(period_days=90, partner_id="a")
    assert [s.as_of for s in history] == [day("2026-03-03"), day("2026-03-01")]
    assert [s.partner_id for s in await store.dso_snapshots(period_days=90, limit=1)] == ["*"]
    assert [
        s.partner_id for s in await store.dso_snapshots(period_days=90, as_of=dt.date(2026, 3, 2))
    ] == ["*"]


async def test_payments_written_by_the_cash_store_count_until_reversed(store: Store) -> None:
    """The DSO view reads what ``CashStore`` (cash application) writes and reverses."""
    from gateway.storage.cash_rows import NewApplication

    item = await add_invoice(store, "bigbox", "B9", "2026-03-01", "2026-03-31", "100.00")
    paid = await store.add_cash_application(
        NewApplication("bigbox", "payment", Decimal("60.00"), day("2026-03-05"), "auto", None, item)
    )
    await store.add_cash_application(
        NewApplication("bigbox", "on_account", Decimal("5.00"), day("2026-03-05"), "carl")
    )
    assert [(r.invoice_number, r.amount) for r in await store.dso_payments()] == [
        ("B9", Decimal("60.00"))
    ]
    assert await store.reverse_cash_application(paid, "carl")
    assert await store.dso_payments() == []
