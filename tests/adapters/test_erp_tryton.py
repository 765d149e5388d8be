"""The Tryton connector against a real Tryton 8.2 server (``tests.support.tryton``).

Orders come from BigBox's real 850 sample, translated by the gateway, with a fresh PO
number per test so that tests sharing the session's server never see each other's sales.
What Tryton holds is read back with the support module's own JSON-RPC client, not the
connector's.
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import uuid
from decimal import Decimal
from typing import TYPE_CHECKING, Any, cast

import pytest
from pydantic import SecretStr

from adapters.erp_tryton import TrytonConnector, TrytonSettings, register
from gateway.errors import ConfigError, PermanentDeliveryError, TransientDeliveryError
from gateway.model import LineItem, ProductId, PurchaseOrder
from gateway.partners import PartnerRegistry
from gateway.ports import AdapterRegistry, GatewayContext, PaymentRecord
from gateway.settings import Settings
from tests.support.orders import sample_order
from tests.support.tryton import (
    NOT_SALABLE,
    TrytonClient,
    TrytonServer,
    free_port,
    run_server,
    tryton_server,  # noqa: F401  (session fixture)
)

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from pathlib import Path

# The session's first test also waits for the template database (about a minute on a cold
# cache); the suite's 120 s per-test limit would count that against it.
pytestmark = pytest.mark.timeout(600)

SETTINGS = Settings()


@pytest.fixture(scope="module")
def partners() -> PartnerRegistry:
    return PartnerRegistry.load(SETTINGS.partners_dir)


@pytest.fixture(scope="module")
def bigbox_order() -> PurchaseOrder:
    return sample_order("bigbox")


def fresh(order: PurchaseOrder, **update: Any) -> PurchaseOrder:
    return order.model_copy(update={"po_number": f"T{uuid.uuid4().hex[:10].upper()}", **update})


def connector_for(
    server: TrytonServer, partners: PartnerRegistry | None, **settings: Any
) -> TrytonConnector:
    config = TrytonSettings(
        url=server.url,
        database=server.database,
        user=server.user,
        password_secret="TRYTON_TEST",
        **settings,
    )
    return TrytonConnector(config, SecretStr(server.password), partners=partners)


@pytest.fixture
async def connector(
    tryton_server: TrytonServer,  # noqa: F811
    partners: PartnerRegistry,
) -> AsyncIterator[TrytonConnector]:
    erp = connector_for(tryton_server, partners)
    yield erp
    await erp.close()


@pytest.fixture
async def rpc(tryton_server: TrytonServer) -> AsyncIterator[TrytonClient]:  # noqa: F811
    async with tryton_server.client() as client:
        yield client


async def sales_for(rpc: TrytonClient, po_number: str) -> list[dict[str, Any]]:
    return await rpc.search_read(
        "sale.sale",
        [("reference", "=", po_number)],
        ["state", "party", "lines", "invoices", "shipment_address", "invoice_address", "number"],
    )


async def test_push_order_creates_a_confirmed_sale_with_the_partner_lines(
    connector: TrytonConnector, rpc: TrytonClient, bigbox_order: PurchaseOrder
) -> None:
    order = fresh(bigbox_order)

    result = await connector.push_order(order, partner_id="bigbox")

    assert result.created is True
    assert result.status == "processing"  # confirmed; invoicing and shipping under way
    (sale,) = await sales_for(rpc, order.po_number)
    assert str(sale["id"]) == result.erp_order_id
    assert sale["state"] == "processing"
    (party,) = await rpc.call(
        "model.party.party.read", [sale["party"]], ["name", "identifiers.code"]
    )
    assert party["name"] == "BigBox Mart Stores"
    assert [i["code"] for i in party["identifiers."]] == ["bigbox"]
    lines = await rpc.search_read(
        "sale.line",
        [("sale", "=", sale["id"])],
        ["product.code", "quantity", "unit.symbol", "unit_price", "note"],
        [("id", "ASC")],
    )
    # CA → EA through the partner's unit conversions (6 mugs, 4 skillets a case), price per EA.
    assert [
        (line["product."]["code"], line["quantity"], line["unit."]["symbol"], line["unit_price"])
        for line in lines
    ] == [
        ("MUG-16-SS", 72.0, "u", Decimal("3.9000")),
        ("SKILLET-10-CI", 32.0, "u", Decimal("10.2500")),
        ("SPATULA-SET-3", 24.0, "u", Decimal("5.2500")),
    ]
    assert [line["note"] for line in lines] == ["PO line 1", "PO line 2", "PO line 3"]
    assert [d["sku"] for d in result.detail["lines"]] == [
        "MUG-16-SS",
        "SKILLET-10-CI",
        "SPATULA-SET-3",
    ]
    addresses = await rpc.call(
        "model.party.address.read",
        [sale["shipment_address"], sale["invoice_address"]],
        ["party_name", "street", "city", "postal_code", "subdivision.code", "country.code"],
    )
    by_id = {a["id"]: a for a in addresses}
    ship_to, bill_to = by_id[sale["shipment_address"]], by_id[sale["invoice_address"]]
    assert (ship_to["party_name"], ship_to["street"], ship_to["city"]) == (
        "BIGBOX MART STORE 1042",
        "2500 MAIN STREET",
        "SPRINGDALE",
    )
    assert ship_to["subdivision."]["code"] == "US-AR"
    assert ship_to["country."]["code"] == "US"
    assert (bill_to["party_name"], bill_to["postal_code"]) == ("BIGBOX MART STORES INC", "72700")


async def test_pushing_the_same_order_again_finds_the_sale(
    connector: TrytonConnector, rpc: TrytonClient, bigbox_order: PurchaseOrder
) -> None:
    order = fresh(bigbox_order)
    first = await connector.push_order(order, partner_id="bigbox")

    again = await asyncio.gather(
        *(connector.push_order(order, partner_id="bigbox") for _ in range(3))
    )

    assert first.created is True
    assert [r.created for r in again] == [False, False, False]
    assert {r.erp_order_id for r in again} == {first.erp_order_id}
    assert len(await sales_for(rpc, order.po_number)) == 1


async def test_a_fresh_connector_finds_the_sale_too(
    tryton_server: TrytonServer,  # noqa: F811
    partners: PartnerRegistry,
    connector: TrytonConnector,
    rpc: TrytonClient,
    bigbox_order: PurchaseOrder,
) -> None:
    order = fresh(bigbox_order)
    first = await connector.push_order(order, partner_id="bigbox")
    other = connector_for(tryton_server, partners)
    try:
        second = await other.push_order(order, partner_id="bigbox")
    finally:
        await other.close()

    assert (second.created, second.erp_order_id) == (False, first.erp_order_id)
    assert len(await sales_for(rpc, order.po_number)) == 1


async def test_draft_setting_leaves_the_sale_for_a_person(
    tryton_server: TrytonServer,  # noqa: F811
    partners: PartnerRegistry,
    rpc: TrytonClient,
    bigbox_order: PurchaseOrder,
) -> None:
    order = fresh(bigbox_order)
    erp = connector_for(tryton_server, partners, confirm=False)
    try:
        result = await erp.push_order(order, partner_id="bigbox")
    finally:
        await erp.close()

    assert (result.created, result.status) == (True, "draft")
    (sale,) = await sales_for(rpc, order.po_number)
    assert sale["state"] == "draft"


async def test_unknown_product_is_permanent_and_creates_nothing(
    connector: TrytonConnector, rpc: TrytonClient, bigbox_order: PurchaseOrder
) -> None:
    unknown = LineItem(
        line_number="4",
        quantity=Decimal(1),
        uom="EA",
        unit_price=Decimal("9.99"),
        product_ids=(ProductId(qualifier="IN", value="99999999"),),
    )
    order = fresh(bigbox_order, lines=(*bigbox_order.lines, unknown))

    with pytest.raises(PermanentDeliveryError, match=r"line 4 \(IN 99999999\)"):
        await connector.push_order(order, partner_id="bigbox")

    assert await sales_for(rpc, order.po_number) == []


async def test_a_line_tryton_refuses_is_permanent_with_trytons_message(
    connector: TrytonConnector, rpc: TrytonClient, bigbox_order: PurchaseOrder
) -> None:
    code, name, _ = NOT_SALABLE
    refused = LineItem(
        line_number="1",
        quantity=Decimal(2),
        uom="EA",
        unit_price=Decimal("1.00"),
        product_ids=(ProductId(qualifier="VP", value=code),),
    )
    order = fresh(bigbox_order, lines=(refused,))

    with pytest.raises(PermanentDeliveryError) as caught:
        await connector.push_order(order, partner_id="bigbox")

    message = str(caught.value)
    assert message.startswith("Tryton UserError: ")
    assert f'"[{code}] {name}" for field "Product"' in message
    assert "is not valid according to its domain" in message
    assert await sales_for(rpc, order.po_number) == []


async def test_a_stopped_server_is_transient(
    tmp_path: Path,
    tryton_server: TrytonServer,  # noqa: F811
    partners: PartnerRegistry,
    bigbox_order: PurchaseOrder,
) -> None:
    assert tryton_server.template is not None
    cm = run_server(tryton_server.template, tmp_path / "tryton")
    server = await asyncio.to_thread(cm.__enter__)
    erp = connector_for(server, partners)
    try:
        assert await erp.health() is True
        created = await erp.push_order(fresh(bigbox_order), partner_id="bigbox")
        assert created.created is True

        await asyncio.to_thread(server.stop)

        assert await erp.health() is False
        with pytest.raises(TransientDeliveryError, match="cannot reach the server"):
            await erp.push_order(fresh(bigbox_order), partner_id="bigbox")
    finally:
        await erp.close()
        await asyncio.to_thread(cm.__exit__, None, None, None)


async def test_nothing_listening_is_transient(
    tryton_server: TrytonServer,  # noqa: F811
    bigbox_order: PurchaseOrder,
) -> None:
    nowhere = TrytonServer(
        url=f"http://127.0.0.1:{free_port()}",
        database=tryton_server.database,
        user=tryton_server.user,
        password=tryton_server.password,
        data_dir=tryton_server.data_dir,
        startup_seconds=0,
    )
    erp = connector_for(nowhere, None)
    try:
        with pytest.raises(TransientDeliveryError):
            await erp.push_order(fresh(bigbox_order), partner_id="bigbox")
    finally:
        await erp.close()


async def test_a_wrong_password_is_permanent(
    tryton_server: TrytonServer,  # noqa: F811
    bigbox_order: PurchaseOrder,
) -> None:
    config = TrytonSettings(
        url=tryton_server.url,
        database=tryton_server.database,
        user=tryton_server.user,
        password_secret="TRYTON_TEST",
    )
    erp = TrytonConnector(config, SecretStr("not-the-password"))
    try:
        assert await erp.health() is False
        with pytest.raises(PermanentDeliveryError, match="login refused"):
            await erp.push_order(fresh(bigbox_order), partner_id="bigbox")
    finally:
        await erp.close()


async def test_an_expired_session_logs_in_again(
    connector: TrytonConnector, bigbox_order: PurchaseOrder
) -> None:
    assert await connector.health() is True
    # What the server sees after its session timeout: a key it does not know (HTTP 401).
    bogus = base64.b64encode(b"admin:1:0123456789abcdef").decode()
    connector.rpc._auth = f"Session {bogus}"

    result = await connector.push_order(fresh(bigbox_order), partner_id="bigbox")

    assert result.created is True
    assert connector.rpc._auth != f"Session {bogus}"


async def test_posted_invoice_comes_back_as_a_canonical_invoice(
    connector: TrytonConnector, rpc: TrytonClient, bigbox_order: PurchaseOrder
) -> None:
    _, cursor = await connector.invoices_since(None, limit=10_000)
    order = fresh(bigbox_order)
    pushed = await connector.push_order(order, partner_id="bigbox")
    (sale,) = await sales_for(rpc, order.po_number)
    (invoice_id,) = sale["invoices"]
    nothing, same = await connector.invoices_since(cursor)
    assert (nothing, same) == ([], cursor)  # a draft invoice is not sent

    await rpc.call("model.account.invoice.post", [invoice_id])
    page, next_cursor = await connector.invoices_since(cursor)

    (posted,) = page
    assert (posted.partner_id, posted.erp_invoice_id) == ("bigbox", str(invoice_id))
    invoice = posted.invoice
    (number,) = await rpc.call("model.account.invoice.read", [invoice_id], ["number"])
    assert invoice.invoice_number == number["number"]
    assert invoice.po_number == order.po_number
    assert invoice.po_date == order.po_date
    assert invoice.currency == "USD"
    assert invoice.transaction_type == "DI"
    assert invoice.total_amount == Decimal("734.80")  # 12 CA x 23.40 + 8 CA x 41.00 + 24 x 5.25
    assert invoice.lines_total == invoice.total_amount
    assert [(line.quantity, line.uom, line.unit_price) for line in invoice.lines] == [
        (Decimal("72.0"), "EA", Decimal("3.9000")),
        (Decimal("32.0"), "EA", Decimal("10.2500")),
        (Decimal("24.0"), "EA", Decimal("5.2500")),
    ]
    assert invoice.lines[0].product_ids == (
        ProductId(qualifier="VN", value="MUG-16-SS"),
        ProductId(qualifier="BP", value="88812001"),
        ProductId(qualifier="UP", value="081234500108"),
    )
    assert invoice.terms is not None
    assert (invoice.terms.net_days, invoice.terms.description) == (30, "Net 30")
    bill_to, ship_to = invoice.parties
    assert (bill_to.role, bill_to.name) == ("BT", "BIGBOX MART STORES INC")
    assert (ship_to.role, ship_to.name) == ("ST", "BIGBOX MART STORE 1042")
    assert ship_to.address is not None
    assert (ship_to.address.city, ship_to.address.state) == ("SPRINGDALE", "AR")
    assert pushed.erp_order_id == str(sale["id"])
    assert await connector.invoices_since(next_cursor) == ([], next_cursor)


async def test_record_payment_pays_the_invoice_once(
    connector: TrytonConnector, rpc: TrytonClient, bigbox_order: PurchaseOrder
) -> None:
    order = fresh(bigbox_order)
    await connector.push_order(order, partner_id="bigbox")
    (sale,) = await sales_for(rpc, order.po_number)
    (invoice_id,) = sale["invoices"]
    await rpc.call("model.account.invoice.post", [invoice_id])
    (invoice,) = await rpc.call("model.account.invoice.read", [invoice_id], ["number"])
    today = dt.datetime.now(dt.UTC).date()

    def cash(key: str, amount: str, kind: str = "payment") -> PaymentRecord:
        return PaymentRecord(
            key=key,
            partner_id="bigbox",
            invoice_number=invoice["number"],
            erp_invoice_id=None,
            kind=kind,
            amount=Decimal(amount),
            effective_date=today,
        )

    partial = await connector.record_payment(cash("o2c-application-1", "100.00"))
    again = await connector.record_payment(cash("o2c-application-1", "100.00"))
    with pytest.raises(PermanentDeliveryError, match=r"enter a write-off of 5\.00 on invoice"):
        await connector.record_payment(cash("o2c-application-2", "5.00", "write_off"))
    with pytest.raises(PermanentDeliveryError, match=r"enter a reversal of 100\.00"):
        await connector.record_payment(cash("o2c-application-1-reversal", "-100.00"))
    rest = await connector.record_payment(cash("o2c-application-3", "634.80"))

    number = invoice["number"]
    assert (partial, again, rest) == (
        f"tryton invoice {number} posted",
        f"tryton invoice {number} posted",
        f"tryton invoice {number} paid",
    )
    (after,) = await rpc.call(
        "model.account.invoice.read", [invoice_id], ["state", "amount_to_pay", "payment_lines"]
    )
    assert after["state"] == "paid"
    assert len(after["payment_lines"]) == 2
    with pytest.raises(PermanentDeliveryError, match="no posted customer invoice"):
        await connector.pay_invoice("NO-SUCH", Decimal(1), today, "CHK-3")


async def test_registered_factory_builds_the_connector_from_settings(
    monkeypatch: pytest.MonkeyPatch,
    tryton_server: TrytonServer,  # noqa: F811
    partners: PartnerRegistry,
) -> None:
    monkeypatch.setenv("O2C_SECRET_TRYTON_TEST", tryton_server.password)
    registry = AdapterRegistry()
    register(registry)
    ctx = GatewayContext(
        settings=Settings(),
        store=cast("Any", None),  # the factory needs settings and partners only
        partners=partners,
        receive=cast("Any", None),
    )
    settings = {
        "url": tryton_server.url,
        "database": tryton_server.database,
        "user": tryton_server.user,
        "password_secret": "TRYTON_TEST",
        "confirm": True,
    }

    erp = await registry.erps["tryton"](ctx, settings)
    try:
        assert erp.name == "tryton"
        assert await erp.health() is True
    finally:
        await erp.close()
    with pytest.raises(ConfigError, match="confirmm"):
        await registry.erps["tryton"](ctx, {**settings, "confirmm": False})
