"""Invoices and cash applications for the DSO service tests, written into a real store.

Applications are inserted with ``sa.insert(cash_applications)`` inside ``store.unit()``:
the cash store's own insert (helper A's ``CashStore``) was being written at the same time.

:func:`seed_ledger` writes the data set whose figures the tests check by hand, as of
:data:`AS_OF` (2026-03-31) over 90 days, the window 2026-01-01..2026-03-31:

northwind (warn 50, alert 65)
  N0  2025-11-01 due 2025-12-01   500.00  unpaid; a deduction of 50.00 dated 2026-04-05
  N1  2026-01-10 due 2026-02-09  1000.00  payment 980.00 + discount 20.00 on 2026-02-20
  N2  2026-02-15 due 2026-03-17  2000.00  payment 500.00 on 2026-03-01; 1500.00 on
                                          2026-03-05 reversed; 100.00 on account
  N3  2026-03-20 due 2026-04-19  3000.00  unpaid
  AR 5000.00 (current 3000, 1_30 1500, over_90 500), sales 6000.00:
  DSO 5000/6000×90 = 75.00, BPDSO 3000/6000×90 = 45.00, ADD 30.00,
  countback: March 3000 (31 d), February 2000 (28 d) → 59.00, days to pay N1: 41.00.
bigbox (warn 35, alert 45)
  B2  2025-12-15 due 2026-01-14   800.00  written off 800.00 on 2026-03-10
  B1  2026-03-01 due 2026-03-31  1200.00  unpaid (due on the as-of date: current)
  AR 1200.00, sales 1200.00: DSO 90.00, BPDSO 90.00, ADD 0.00, countback 31.00,
  days to pay B2: 85.00.
portfolio ``*``
  AR 6200.00, sales 7200.00: DSO 77.50, BPDSO 52.50, ADD 25.00, countback 59.00,
  days to pay (1000×41 + 800×85) / 1800 = 60.56.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING

import sqlalchemy as sa

from gateway.storage import OpenItem
from gateway.storage.schema import cash_applications

if TYPE_CHECKING:
    from gateway.storage import Store

AS_OF = dt.date(2026, 3, 31)
NOW = dt.datetime(2026, 3, 31, 12, 0, tzinfo=dt.UTC)


def day(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


async def add_invoice(
    store: Store, partner: str, number: str, date: str, due: str, amount: str, *, paid: str = "0"
) -> int:
    """An open item; ``paid`` lowers its open amount (closed when nothing is left)."""
    left = Decimal(amount) - Decimal(paid)
    return await store.add_open_item(
        OpenItem(
            partner_id=partner,
            invoice_number=number,
            invoice_date=day(date),
            due_date=day(due),
            amount=Decimal(amount),
            open_amount=left,
            currency="USD",
            status="open" if left > 0 else "closed",
        )
    )


async def add_application(
    store: Store,
    item_id: int | None,
    partner: str,
    kind: str,
    amount: str,
    date: str,
    *,
    reversed_: bool = False,
) -> int:
    """One ``cash_applications`` row (``reversed_``: undone by a person later)."""
    values = {
        "line_id": None,
        "partner_id": partner,
        "open_item_id": item_id,
        "kind": kind,
        "amount": Decimal(amount),
        "reason_code": None,
        "effective_date": day(date),
        "actor": "auto",
        "created_at": NOW,
        "reversed_at": NOW if reversed_ else None,
        "reversed_by": "carl" if reversed_ else None,
        "erp_state": "pending",
    }
    async with store.unit() as unit:
        stmt = sa.insert(cash_applications).values(values).returning(cash_applications.c.id)
        return int((await unit.connection.execute(stmt)).scalar_one())


async def seed_ledger(store: Store) -> dict[str, int]:
    """The data set of the module docstring; the open item ids by invoice number."""
    ids = {
        "N0": await add_invoice(store, "northwind", "N0", "2025-11-01", "2025-12-01", "500.00"),
        "N1": await add_invoice(
            store, "northwind", "N1", "2026-01-10", "2026-02-09", "1000.00", paid="1000.00"
        ),
        "N2": await add_invoice(
            store, "northwind", "N2", "2026-02-15", "2026-03-17", "2000.00", paid="500.00"
        ),
        "N3": await add_invoice(store, "northwind", "N3", "2026-03-20", "2026-04-19", "3000.00"),
        "B2": await add_invoice(
            store, "bigbox", "B2", "2025-12-15", "2026-01-14", "800.00", paid="800.00"
        ),
        "B1": await add_invoice(store, "bigbox", "B1", "2026-03-01", "2026-03-31", "1200.00"),
    }
    await add_application(store, ids["N1"], "northwind", "payment", "980.00", "2026-02-20")
    await add_application(store, ids["N1"], "northwind", "discount", "20.00", "2026-02-20")
    await add_application(store, ids["N2"], "northwind", "payment", "500.00", "2026-03-01")
    await add_application(
        store, ids["N2"], "northwind", "payment", "1500.00", "2026-03-05", reversed_=True
    )
    await add_application(store, None, "northwind", "on_account", "100.00", "2026-03-05")
    await add_application(store, ids["N0"], "northwind", "deduction", "50.00", "2026-04-05")
    await add_application(store, ids["B2"], "bigbox", "write_off", "800.00", "2026-03-10")
    return ids
