"""The ``memory`` and ``folder`` ERP connectors (adapters/erp_basic.py)."""

from __future__ import annotations

import asyncio
import json
from typing import TYPE_CHECKING

import pytest

from adapters.erp_basic import FolderErp, MemoryErp, folder_erp, safe_name
from gateway.errors import ConfigError, TransientDeliveryError
from gateway.model import PurchaseOrder
from gateway.ports import load_adapters

if TYPE_CHECKING:
    from pathlib import Path

    from gateway.ports import GatewayContext


def _order(po: str) -> PurchaseOrder:
    return PurchaseOrder(po_number=po, purpose_code="00", order_type="SA")


def test_both_connectors_are_registered() -> None:
    registry = load_adapters()
    assert {"memory", "folder"} <= set(registry.erps)


async def test_memory_is_idempotent_and_has_a_fault_knob() -> None:
    erp = MemoryErp()
    erp.failures.append(TransientDeliveryError("down"))
    with pytest.raises(TransientDeliveryError):
        await erp.push_order(_order("M-1"), partner_id="p")
    first = await erp.push_order(_order("M-1"), partner_id="p")
    again = await erp.push_order(_order("M-1"), partner_id="p")
    other = await erp.push_order(_order("M-1"), partner_id="q")
    assert first.created and not again.created and other.created
    assert again.erp_order_id == first.erp_order_id != other.erp_order_id
    assert erp.pushes == 4 and len(erp.orders) == 2


async def test_folder_writes_once_and_answers_with_the_first_id(tmp_path: Path) -> None:
    erp = FolderErp(tmp_path / "erp")
    assert await erp.health()
    first = await erp.push_order(_order("F-1"), partner_id="bigbox")
    again = await erp.push_order(_order("F-1"), partner_id="bigbox")
    assert first.created and not again.created
    assert again.erp_order_id == first.erp_order_id
    path = tmp_path / "erp" / "bigbox" / "F-1.json"
    record = json.loads(path.read_text())
    assert record["erp_order_id"] == first.erp_order_id
    assert record["order"]["po_number"] == "F-1"
    assert [p.name for p in (tmp_path / "erp" / "bigbox").iterdir()] == ["F-1.json"]


async def test_folder_concurrent_pushes_make_one_order(tmp_path: Path) -> None:
    erp = FolderErp(tmp_path)
    results = await asyncio.gather(
        *(erp.push_order(_order("RACE-1"), partner_id="p") for _ in range(8))
    )
    assert sum(r.created for r in results) == 1
    assert len({r.erp_order_id for r in results}) == 1


async def test_folder_keeps_partner_po_numbers_inside_its_folder(tmp_path: Path) -> None:
    erp = FolderErp(tmp_path / "erp")
    await erp.push_order(_order("../../escape"), partner_id="p")
    await erp.push_order(_order("a/b"), partner_id="p")
    await erp.push_order(_order("a_b"), partner_id="p")
    files = sorted(p.name for p in (tmp_path / "erp" / "p").iterdir())
    assert len(files) == 3 and "a_b.json" in files
    assert not (tmp_path / "escape.json").exists()
    assert safe_name("PO-1.2_x") == "PO-1.2_x"
    assert safe_name("..") != ".." and "/" not in safe_name("a/b")


async def test_folder_factory_reads_its_settings(tmp_path: Path, ctx: GatewayContext) -> None:
    erp = await folder_erp(ctx, {"connector": "folder", "path": "orders"})
    assert erp.path == ctx.settings.data_dir / "orders"
    absolute = await folder_erp(ctx, {"connector": "folder", "path": str(tmp_path)})
    assert absolute.path == tmp_path
    with pytest.raises(ConfigError, match="only 'path'"):
        await folder_erp(ctx, {"connector": "folder", "dir": "x"})
