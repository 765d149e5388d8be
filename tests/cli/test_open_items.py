"""``o2c open-items import|list`` against a real database (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import TYPE_CHECKING

from tests.cli.test_admin import ROOT, env, run, upgraded, with_store

if TYPE_CHECKING:
    from pathlib import Path

    import pytest

    from gateway.storage import OpenItem, Store

__all__ = ["env", "upgraded"]  # fixtures
SAMPLE = ROOT / "partners" / "initech" / "open-items.csv"
HEADER = (
    "invoice_number,partner_id,po_number,invoice_date,due_date,amount,open_amount,currency,"
    "discount_percent,discount_days\n"
)


def test_import_maps_isa_ids_to_profiles_and_skips_what_is_known(
    upgraded: Path, database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = run("open-items", "import", str(SAMPLE))
    assert code == 0, capsys.readouterr().err
    assert out.startswith(f"imported 4 open items from {SAMPLE}; 0 already known")

    async def read(store: Store) -> list[OpenItem]:
        return await store.open_items(partner_id="initech")

    items = with_store(database_url, upgraded, read)
    assert [i.invoice_number for i in items] == ["INV-24031", "INV-24032", "INV-24040", "INV-24047"]
    first = items[0]
    assert first.partner_id == "initech"  # the ISA id INITECHAP names the profile
    assert first.po_number == "4500011111" and first.amount == Decimal("520.00")
    assert first.discount_percent == Decimal(1) and first.discount_days == 15
    assert first.status == "open" and first.currency == "USD"

    code, out = run("open-items", "import", str(SAMPLE))  # again: nothing twice
    assert code == 0 and "imported 0 open items" in out and "4 already known" in out
    assert "skipped initech INV-24031: already an open item" in out

    code, out = run("open-items", "list", "--partner", "initech", "--format", "json")
    rows = json.loads(out)
    assert code == 0 and len(rows) == 4
    assert rows[3] == {
        "partner_id": "initech",
        "invoice_number": "INV-24047",
        "po_number": "4500011377",
        "invoice_date": "2024-04-08",
        "due_date": "2024-05-23",
        "amount": "1210.00",
        "open_amount": "1210.00",
        "currency": "USD",
        "status": "open",
    }


def test_unknown_partners_and_bad_rows_refuse_the_whole_file(
    upgraded: Path, database_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    unknown = tmp_path / "unknown.csv"
    unknown.write_text(
        HEADER
        + "A-1,initech,,2025-01-01,2025-02-01,10.00,10.00,USD,,\n"
        + "A-2,NOBODY,,2025-01-01,2025-02-01,10.00,10.00,USD,,\n"
    )
    code, _ = run("open-items", "import", str(unknown))
    assert code == 1
    assert "no partner profile for partner_id NOBODY" in capsys.readouterr().err
    bad = tmp_path / "bad.csv"
    bad.write_text(HEADER + "A-3,initech,,2025-13-01,2025-02-01,ten,10.00,USD,,\n")
    code, _ = run("open-items", "import", str(bad))
    err = capsys.readouterr().err
    assert code == 1 and "bad.csv:2" in err

    async def count(store: Store) -> int:
        return len(await store.open_items())

    assert with_store(database_url, upgraded, count) == 0  # nothing half-imported
    # --partner gives every row to one profile
    code, out = run("open-items", "import", str(unknown), "--partner", "northwind")
    assert code == 0 and "imported 2 open items" in out
    assert with_store(database_url, upgraded, count) == 2
