"""Order to cash through a real Tryton: the issue's "done means" test, in one process.

A partner uploads an 850 with the OpenSSH ``sftp`` client to the gateway's hosted SFTP
server; the worker puts the sale into Tryton (``tests.support.tryton``) over JSON-RPC.
The test posts the sale's invoice in Tryton with its own JSON-RPC client; the invoice
poller turns it into an 810 in the partner's ``outbound/``, which the partner downloads
with ``sftp`` and which pyx12's reader (an independent parser) reads back. The partner
uploads a 997 for it and the 810 becomes ``accepted``. The same 850 sent again under a
new ISA13 makes no second sale.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import uuid
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import pyx12.x12file

from gateway.service import Running, serve
from gateway.settings import Settings
from gateway.storage import DocumentQuery, State
from gateway.storage.migrate import upgrade
from tests.adapters.conftest import make_key, wait_for
from tests.adapters.sftp_client import run_sftp
from tests.support.tryton import (
    TrytonClient,
    TrytonServer,
    free_port,
    tryton_server,  # noqa: F401  (session fixture)
)

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from gateway.storage import DocumentRecord, Store
    from tests.adapters.conftest import KeyPair

# The session's first Tryton test also waits for the template database.
pytestmark = [pytest.mark.timeout(600)]

ROOT = Path(__file__).resolve().parents[2]
PARTNER = "loopmart"
SENDER = "LOOPMART"


def profile(key: KeyPair) -> str:
    return f"""\
id: {PARTNER}
display_name: LoopMart Stores
identity:
  isa: [{{qualifier: ZZ, id: {SENDER}}}]
  gs_ids: [{SENDER}]
x12:
  "850": {{version: "004010", functional_ack: "997"}}
  "810": {{version: "004010", functional_ack: "997"}}
  "820": {{version: "004010", functional_ack: "997"}}
channels:
  inbound: {{kind: sftp_hosted, username: {PARTNER}, authorized_keys: ["{key.public_line}"]}}
  outbound: {{kind: sftp_hosted, username: {PARTNER}, authorized_keys: ["{key.public_line}"]}}
business:
  currency: USD
  payment_terms: {{terms_type: "08", basis_date_code: "3", discount_percent: 1,
                   discount_days: 10, net_days: 30, description: 1 PCT 10 NET 30}}
  item_xref:
    items:
      - {{partner_part: LM-77001, sku: SKU-1001}}
      - {{partner_part: LM-77002, sku: SKU-1002}}
      - {{partner_part: LM-77003, upc: "012345678905", sku: SKU-1003}}
mappings:
  "850": {{base: x12/850/004010}}
  "810": {{base: x12/810/004010}}
  "820": {{base: x12/820/004010}}
"""


def order_850(po: str, isa13: int) -> bytes:
    segs = [
        f"ISA*00*{'':10}*00*{'':10}*ZZ*{SENDER:<15}*ZZ*{'O2CGATEWAY':<15}*260301*0900*U*00401*"
        f"{isa13:09d}*0*P*>",
        f"GS*PO*{SENDER}*O2CGATEWAY*20260301*0900*{isa13}*X*004010",
        "ST*850*0001",
        f"BEG*00*SA*{po}**20260301",
        "N1*BT*LOOPMART STORES INC*92*HQ",
        "N3*1 LOOP ROAD",
        "N4*COLUMBUS*OH*43215*US",
        "N1*ST*LOOPMART STORE 7*92*0007",
        "N3*700 MARKET STREET",
        "N4*DAYTON*OH*45402*US",
        "PO1*1*5*EA*10.00**BP*LM-77001",
        "PO1*2*3*EA*24.50**BP*LM-77002",
        "PO1*3*8*EA*3.75**UP*012345678905",
        "CTT*3",
        "SE*13*0001",
        f"GE*1*{isa13}",
        f"IEA*1*{isa13:09d}",
    ]
    return "~\n".join(segs).encode("ascii") + b"~\n"


def ack_997(gs06: str, st02: str, isa13: int) -> bytes:
    segs = [
        f"ISA*00*{'':10}*00*{'':10}*ZZ*{SENDER:<15}*ZZ*{'O2CGATEWAY':<15}*260302*0900*U*00401*"
        f"{isa13:09d}*0*P*>",
        f"GS*FA*{SENDER}*O2CGATEWAY*20260302*0900*{isa13}*X*004010",
        "ST*997*0001",
        f"AK1*IN*{gs06}",
        f"AK2*810*{st02}",
        "AK5*A",
        "AK9*A*1*1*1",
        "SE*6*0001",
        f"GE*1*{isa13}",
        f"IEA*1*{isa13:09d}",
    ]
    return "~\n".join(segs).encode("ascii") + b"~\n"


def remittance_820(invoice_number: str, paid: str, isa13: int) -> bytes:
    """The partner pays one invoice by ACH today and says so with an 820 naming it (RMR*IV).

    Today: Tryton books the payment on its date, and the test company's fiscal periods
    cover the current year.
    """
    today = dt.datetime.now(dt.UTC).strftime("%Y%m%d")
    st = [
        "ST*820*0001",
        f"BPR*C*{paid}*C*ACH*CCP*01*999000001*DA*1234567890*1512345678**01*999000002*DA"
        f"*9876543210*{today}",
        f"TRN*1*LM{isa13:07d}*1512345678",
        "N1*PR*LOOPMART STORES INC*92*HQ",
        "N1*PE*O2C DEMO SUPPLIER INC",
        "ENT*1",
        f"RMR*IV*{invoice_number}**{paid}*{paid}",
    ]
    segs = [
        f"ISA*00*{'':10}*00*{'':10}*ZZ*{SENDER:<15}*ZZ*{'O2CGATEWAY':<15}*260320*0900*U*00401*"
        f"{isa13:09d}*0*P*>",
        f"GS*RA*{SENDER}*O2CGATEWAY*20260320*0900*{isa13}*X*004010",
        *st,
        f"SE*{len(st) + 1}*0001",
        f"GE*1*{isa13}",
        f"IEA*1*{isa13:09d}",
    ]
    return "~\n".join(segs).encode("ascii") + b"~\n"


class Partner:
    """The partner's side: the OpenSSH client with its key, in its own work folder."""

    def __init__(self, port: int, key: KeyPair, workdir: Path) -> None:
        self.port, self.key, self.workdir = port, key, workdir

    async def sftp(self, batch: str) -> str:
        run = await run_sftp(
            port=self.port, user=PARTNER, key=self.key.private, batch=batch, workdir=self.workdir
        )
        assert run.returncode == 0, run.output
        return run.output

    async def upload(self, name: str, data: bytes) -> None:
        (self.workdir / name).write_bytes(data)
        await self.sftp(f"put {name} /inbound/{name}")

    async def listing(self) -> list[str]:
        output = await self.sftp("ls -1 /outbound")
        return [line.strip().rsplit("/", 1)[-1] for line in output.splitlines() if ".x12" in line]


async def _sales(rpc: TrytonClient, po: str) -> list[dict[str, Any]]:
    return await rpc.search_read(
        "sale.sale", [("reference", "=", po)], ["state", "party", "lines", "invoices"]
    )


@pytest.fixture
async def gateway(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    tryton_server: TrytonServer,  # noqa: F811
) -> AsyncIterator[tuple[Running, Partner]]:
    key = make_key(tmp_path, "loopmart_key")
    partners_dir = tmp_path / "partners"
    partners_dir.mkdir()
    (partners_dir / f"{PARTNER}.yaml").write_text(profile(key))
    monkeypatch.setenv("O2C_SECRET_TRYTON_E2E", tryton_server.password)
    settings = Settings(
        data_dir=tmp_path / "data",
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'o2c.db'}",
        partners_dir=partners_dir,
        mappings_dir=ROOT / "mappings",
        http_port=free_port(),
        sftp_port=free_port(),
        invoice_poll_seconds=0.2,
        ack_check_seconds=0.5,
        erp={
            "connector": "tryton",
            "url": tryton_server.url,
            "database": tryton_server.database,
            "user": tryton_server.user,
            "password_secret": "TRYTON_E2E",
        },
    )
    settings.data_dir.mkdir()
    await upgrade(settings.database_url)
    stop = asyncio.Event()
    ready: asyncio.Future[Running] = asyncio.get_running_loop().create_future()
    task = asyncio.create_task(
        serve(settings, "all", stop=stop, on_ready=ready.set_result, install_signal_handlers=False)
    )
    try:
        await asyncio.wait({ready, task}, timeout=60, return_when=asyncio.FIRST_COMPLETED)
        if task.done():
            task.result()  # serve failed to start: its error
        running = ready.result()
        assert running.sftp_port == settings.sftp_port
        assert set(running.services) >= {"invoice_poller", "ack_overdue"}
        workdir = tmp_path / "partner"
        workdir.mkdir()
        yield running, Partner(settings.sftp_port, key, workdir)
    finally:
        stop.set()
        await asyncio.wait_for(task, 60)


async def _set_of(store: Store, po: str, interchange: str) -> DocumentRecord | None:
    found = await store.search(DocumentQuery(doc_type="850", business_key=po))
    return next((d for d in found if d.controls.interchange_control == interchange), None)


def _pyx12_segments(data: bytes) -> dict[str, list[Any]]:
    """Segments by id, and their ids in order under ``"order"``, as pyx12's reader reads them."""
    by_id: dict[str, list[Any]] = {}
    reader = pyx12.x12file.X12Reader(io.StringIO(data.decode("ascii")))
    try:
        for seg in reader:
            by_id.setdefault(seg.get_seg_id(), []).append(seg)
            by_id.setdefault("order", []).append(seg.get_seg_id())
    finally:
        reader.close()
    return by_id


async def test_order_to_invoice_to_ack_through_tryton(
    gateway: tuple[Running, Partner],
    tryton_server: TrytonServer,  # noqa: F811
) -> None:
    running, partner = gateway
    store = running.context.store
    po = f"LM{uuid.uuid4().hex[:8].upper()}"

    # 1. the partner uploads an 850; the sale appears in Tryton
    await partner.upload("po-1.x12", order_850(po, 501))

    async def delivered() -> bool:
        found = await _set_of(store, po, "000000501")
        return found is not None and found.state == State.DELIVERED

    await wait_for(delivered, within=60)
    async with tryton_server.client() as rpc:
        (sale,) = await _sales(rpc, po)
        assert sale["state"] == "processing"  # quoted and confirmed
        (party,) = await rpc.call("model.party.party.read", [sale["party"]], ["identifiers.code"])
        assert [i["code"] for i in party["identifiers."]] == [PARTNER]
        lines = await rpc.search_read(
            "sale.line",
            [("sale", "=", sale["id"])],
            ["product.code", "quantity", "unit_price"],
            [("id", "ASC")],
        )
        assert [(x["product."]["code"], x["quantity"], x["unit_price"]) for x in lines] == [
            ("SKU-1001", 5.0, Decimal("10.0000")),
            ("SKU-1002", 3.0, Decimal("24.5000")),
            ("SKU-1003", 8.0, Decimal("3.7500")),
        ]

        # 2. the invoice is posted in Tryton; an 810 appears in the partner's outbound/
        (invoice_id,) = sale["invoices"]
        await rpc.call("model.account.invoice.post", [invoice_id])
        (posted,) = await rpc.call("model.account.invoice.read", [invoice_id], ["number"])

    async def the_810() -> list[DocumentRecord]:
        return await store.search(DocumentQuery(doc_type="810", business_key=posted["number"]))

    await wait_for(the_810, within=30)
    (invoice_doc,) = await the_810()
    await wait_for(lambda: _state_is(store, invoice_doc.id, State.SENT), within=30)
    name = f"{PARTNER}-810-{invoice_doc.id}-{invoice_doc.controls.interchange_control}.x12"
    assert name in await partner.listing()
    await partner.sftp(f"get /outbound/{name} got-810.x12")
    data = (partner.workdir / "got-810.x12").read_bytes()

    # 3. pyx12 reads it back: totals, numbers and control numbers as recorded
    segs = _pyx12_segments(data)
    controls = invoice_doc.controls
    assert segs["ISA"][0].get_value("ISA13") == controls.interchange_control
    assert segs["ISA"][0].get_value("ISA08").strip() == SENDER
    assert segs["GS"][0].get_value("GS01") == "IN"
    assert segs["GS"][0].get_value("GS06") == controls.group_control
    assert segs["ST"][0].get_value("ST02") == controls.transaction_control
    assert segs["IEA"][0].get_value("IEA02") == controls.interchange_control
    big = segs["BIG"][0]
    assert (big.get_value("BIG02"), big.get_value("BIG04")) == (posted["number"], po)
    # 5 x 10.00 + 3 x 24.50 + 8 x 3.75 = 153.50, in cents
    assert segs["TDS"][0].get_value("TDS01") == "15350"
    assert [s.get_value("IT102") for s in segs["IT1"]] == ["5", "3", "8"]
    assert segs["ITD"][0].get_value("ITD03") == "1"  # the agreed 1% 10 days discount
    order = segs["order"]
    assert int(segs["SE"][0].get_value("SE01")) == order.index("SE") - order.index("ST") + 1
    (item,) = await store.open_items(partner_id=PARTNER)
    assert (item.invoice_number, item.amount, item.po_number) == (
        posted["number"],
        Decimal("153.50"),
        po,
    )

    # 4. the partner's 997 accepts it
    assert controls.group_control is not None and controls.transaction_control is not None
    await partner.upload(
        "ack-810.x12", ack_997(controls.group_control, controls.transaction_control, 502)
    )
    await wait_for(lambda: _state_is(store, invoice_doc.id, State.ACCEPTED), within=30)

    # 5. the same 850 again under a new ISA13: processed, but no second sale
    await partner.upload("po-1-again.x12", order_850(po, 503))

    async def resent_delivered() -> bool:
        again = await _set_of(store, po, "000000503")
        return again is not None and again.state == State.DELIVERED

    await wait_for(resent_delivered, within=30)
    again = await _set_of(store, po, "000000503")
    assert again is not None
    delivery = [e for e in await store.events(again.id) if e.kind == "delivery"]
    assert "already there, not created again" in delivery[-1].message
    async with tryton_server.client() as rpc:
        assert len(await _sales(rpc, po)) == 1

    # 6. the partner pays the invoice and remits an 820: the cash is applied to the open
    # item in the service and the payment pushed to Tryton, whose invoice is then paid
    await partner.upload("remit-1.x12", remittance_820(posted["number"], "153.50", 504))

    async def item_closed() -> bool:
        found = await store.open_item(PARTNER, posted["number"])
        return found is not None and found.status == "closed"

    await wait_for(item_closed, within=30)
    (application,) = await store.cash_applications(partner_id=PARTNER)
    assert (application.kind, application.amount, application.actor) == (
        "payment",
        Decimal("153.50"),
        "auto",
    )

    async def pushed() -> bool:
        rows = await store.cash_applications(partner_id=PARTNER)
        return rows[0].erp_state in ("pushed", "failed")

    await wait_for(pushed, within=30)
    (application,) = await store.cash_applications(partner_id=PARTNER)
    assert application.erp_state == "pushed", application.erp_error
    async with tryton_server.client() as rpc:
        (paid,) = await rpc.call("model.account.invoice.read", [invoice_id], ["state"])
        assert paid["state"] == "paid"


async def _state_is(store: Store, doc_id: int, state: State) -> bool:
    doc = await store.get(doc_id)
    return doc is not None and doc.state == state
