"""Posted Tryton customer invoices as canonical ``Invoice`` models, and their payments.

``TrytonInvoices.since`` pages ``account.invoice`` records of type ``out`` in state
``posted`` or ``paid`` by the id of their accounting move: Tryton creates a customer
invoice's move when it posts it, so move ids follow posting order, and a later
payment (which rewrites the invoice) does not bring the invoice back. The PO number
comes through the invoice's sales (``invoice.sales``), whose ``reference`` is the PO
number ``push_order`` wrote. ``record_payment`` runs the ``account.invoice.pay`` wizard
over JSON-RPC, as the desktop client does. Imports only ``adapters.erp_tryton_rpc``,
``gateway.model`` and ``gateway.errors``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from gateway.errors import PermanentDeliveryError
from gateway.model import Address, Invoice, LineItem, Party, ProductId, Terms

if TYPE_CHECKING:
    import datetime as dt
    from collections.abc import Mapping

    from adapters.erp_tryton_rpc import Record, TrytonRpc
    from gateway.partners import PartnerRegistry

log = logging.getLogger(__name__)

_INVOICE_FIELDS = [
    "number",
    "invoice_date",
    "currency.code",
    "party",
    "invoice_address",
    "total_amount",
    "payment_term.name",
    "sales",
    "move",
    "lines_to_pay",
]
_ADDRESS_FIELDS = [
    "party_name",
    "street",
    "city",
    "postal_code",
    "country.code",
    "subdivision.code",
]


@dataclass(frozen=True, slots=True)
class PostedInvoice:
    """One posted invoice: whom it is for, Tryton's id and the canonical invoice."""

    partner_id: str | None
    """The gateway partner whose identifier the invoice's party carries (None: not ours)."""
    erp_invoice_id: str
    invoice: Invoice


class TrytonInvoices:
    """Reads posted customer invoices and records payments against them.

    Args:
        rpc: the logged-in JSON-RPC session.
        payment_method: name of the ``account.invoice.payment.method`` for payments.
        units: X12 unit code → Tryton unit symbol (read backwards for invoice lines).
        partners: profiles, to name the partner and add its own part numbers to lines.
    """

    def __init__(
        self,
        rpc: TrytonRpc,
        *,
        payment_method: str,
        units: Mapping[str, str],
        partners: PartnerRegistry | None,
    ) -> None:
        self.rpc = rpc
        self._payment_method = payment_method
        self._x12_units = {symbol: code for code, symbol in reversed(list(units.items()))}
        self._partners = partners

    async def since(
        self, cursor: str | None, *, limit: int = 100
    ) -> tuple[list[PostedInvoice], str]:
        """Invoices posted after ``cursor`` (oldest first) and the cursor for the next call.

        ``cursor`` is what the previous call returned, or None (or "") for all of them.
        """
        after = int(cursor) if cursor else 0
        records: list[Record] = await self.rpc.call(
            "model.account.invoice.search_read",
            [("type", "=", "out"), ("state", "in", ["posted", "paid"]), ("move", ">", after)],
            0,
            limit,
            [("move.id", "ASC")],
            _INVOICE_FIELDS,
        )
        if not records:
            return [], str(after)
        ids = [r["id"] for r in records]
        lines = await self.rpc.call(
            "model.account.invoice.line.search_read",
            [("invoice", "in", ids), ("type", "=", "line")],
            0,
            None,
            [("invoice", "ASC"), ("sequence", "ASC"), ("id", "ASC")],
            ["invoice", "product.code", "quantity", "unit.symbol", "unit_price", "description"],
        )
        sales = await self._read(
            "sale.sale",
            {s for r in records for s in r["sales"]},
            ["reference", "sale_date", "shipment_address"],
        )
        addresses = await self._read(
            "party.address",
            {r["invoice_address"] for r in records}
            | {s["shipment_address"] for s in sales.values() if s["shipment_address"]},
            _ADDRESS_FIELDS,
        )
        parties = await self._read(
            "party.party", {r["party"] for r in records}, ["name", "identifiers.code"]
        )
        maturities = await self._read(
            "account.move.line", {m for r in records for m in r["lines_to_pay"]}, ["maturity_date"]
        )
        out: list[PostedInvoice] = []
        for record in records:
            context = _Context(sales, addresses, parties, maturities)
            own = [line for line in lines if line["invoice"] == record["id"]]
            out.append(self._posted(record, own, context))
        return out, str(records[-1]["move"])

    async def _read(self, model: str, ids: set[int], fields: list[str]) -> dict[int, Record]:
        if not ids:
            return {}
        rows: list[Record] = await self.rpc.call(f"model.{model}.read", sorted(ids), fields)
        return {row["id"]: row for row in rows}

    def _posted(self, record: Record, lines: list[Record], ctx: _Context) -> PostedInvoice:
        sales = [ctx.sales[s] for s in record["sales"] if s in ctx.sales]
        sale = next((s for s in sales if s["reference"]), None)
        party = ctx.parties[record["party"]]
        partner_id = self._partner_id(party)
        invoice_date: dt.date = record["invoice_date"]
        parties = [_party("BT", party["name"], ctx.addresses.get(record["invoice_address"]))]
        if sale and sale["shipment_address"] in ctx.addresses:
            parties.append(_party("ST", party["name"], ctx.addresses[sale["shipment_address"]]))
        total: Decimal = record["total_amount"]
        invoice = Invoice(
            invoice_number=record["number"],
            invoice_date=invoice_date,
            po_number=sale["reference"] if sale else None,
            po_date=sale["sale_date"] if sale else None,
            transaction_type="CR" if total < 0 else "DI",
            currency=(record.get("currency.") or {}).get("code"),
            parties=tuple(parties),
            terms=_terms(record, invoice_date, ctx.maturities),
            lines=tuple(self._line(n, line, partner_id) for n, line in enumerate(lines, 1)),
            total_amount=total,
        )
        return PostedInvoice(partner_id, str(record["id"]), invoice)

    def _partner_id(self, party: Record) -> str | None:
        codes = [i["code"] for i in party.get("identifiers.") or []]
        if self._partners is None:
            return codes[0] if codes else None
        return next((code for code in codes if code in self._partners), None)

    def _line(self, number: int, line: Record, partner_id: str | None) -> LineItem:
        sku = (line.get("product.") or {}).get("code")
        product_ids = [ProductId(qualifier="VN", value=sku)] if sku else []
        if sku and partner_id and self._partners is not None:
            xref = self._partners.by_id(partner_id).business.item_xref
            for item in xref.items:
                if item.sku == sku and item.partner_part:
                    product_ids.append(ProductId(qualifier="BP", value=item.partner_part))
                if item.sku == sku and item.upc:
                    product_ids.append(ProductId(qualifier="UP", value=item.upc))
        symbol = (line.get("unit.") or {}).get("symbol")
        return LineItem(
            line_number=str(number),
            quantity=Decimal(str(line["quantity"])),
            uom=self._x12_units.get(symbol, symbol) if symbol else None,
            unit_price=line["unit_price"],
            product_ids=tuple(product_ids),
            description=line.get("description") or None,
        )

    async def record_payment(
        self, invoice_number: str, amount: Decimal, date: dt.date, reference: str
    ) -> str:
        """Pay ``amount`` on the posted customer invoice ``invoice_number``; returns its state.

        Idempotent on ``reference``: a payment line already carrying it is not paid twice.
        A partial payment leaves the rest open (the wizard's "partial" choice).
        """
        found: list[Record] = await self.rpc.call(
            "model.account.invoice.search_read",
            [("type", "=", "out"), ("number", "=", invoice_number)],
            0,
            1,
            None,
            ["state", "payment_lines"],
        )
        if not found or found[0]["state"] not in ("posted", "paid"):
            raise PermanentDeliveryError(f"no posted customer invoice {invoice_number} in Tryton")
        invoice = found[0]
        paid = await self._read("account.move.line", set(invoice["payment_lines"]), ["description"])
        if any(line["description"] == reference for line in paid.values()):
            return str(invoice["state"])
        if invoice["state"] == "paid":
            raise PermanentDeliveryError(f"invoice {invoice_number} is already paid in full")
        await self._pay(invoice["id"], amount, date, reference)
        (after,) = await self.rpc.call("model.account.invoice.read", [invoice["id"]], ["state"])
        return str(after["state"])

    async def _pay(self, invoice_id: int, amount: Decimal, date: dt.date, reference: str) -> None:
        methods = await self.rpc.call(
            "model.account.invoice.payment.method.search",
            [("name", "=", self._payment_method)],
            0,
            1,
            None,
        )
        if not methods:
            raise PermanentDeliveryError(f"Tryton has no payment method {self._payment_method!r}")
        context = {
            "active_model": "account.invoice",
            "active_id": invoice_id,
            "active_ids": [invoice_id],
        }
        session, start, _end = await self.rpc.call("wizard.account.invoice.pay.create")
        try:
            view = await self.rpc.call(
                "wizard.account.invoice.pay.execute", session, {}, start, context=context
            )
            data: dict[str, Any] = {"start": _values(view)}
            data["start"].update(
                amount=amount, payment_method=methods[0], date=date, description=reference
            )
            result = await self.rpc.call(
                "wizard.account.invoice.pay.execute", session, data, "choice", context=context
            )
            if "view" in result:  # "ask": partial payment or overpayment
                data["ask"] = _values(result)
                data["ask"].setdefault("type", "partial")
                await self.rpc.call(
                    "wizard.account.invoice.pay.execute", session, data, "pay", context=context
                )
        finally:
            await self.rpc.call("wizard.account.invoice.pay.delete", session, context=context)


@dataclass(frozen=True, slots=True)
class _Context:
    sales: dict[int, Record]
    addresses: dict[int, Record]
    parties: dict[int, Record]
    maturities: dict[int, Record]


def _values(result: Record) -> dict[str, Any]:
    """A wizard view's defaults without the dotted display keys (``"company."``)."""
    defaults: dict[str, Any] = result["view"].get("defaults") or {}
    return {key: value for key, value in defaults.items() if not key.endswith(".")}


def _party(role: str, party_name: str, address: Record | None) -> Party:
    if address is None:
        return Party(role=role, name=party_name)
    state = (address.get("subdivision.") or {}).get("code")
    return Party(
        role=role,
        name=address.get("party_name") or party_name,
        address=Address(
            lines=tuple(line for line in (address.get("street") or "").splitlines() if line),
            city=address.get("city") or None,
            state=state.split("-", 1)[-1] if state else None,
            postal_code=address.get("postal_code") or None,
            country=(address.get("country.") or {}).get("code"),
        ),
    )


def _terms(record: Record, invoice_date: dt.date, maturities: dict[int, Record]) -> Terms | None:
    name = (record.get("payment_term.") or {}).get("name")
    dates = [
        maturities[m]["maturity_date"]
        for m in record["lines_to_pay"]
        if m in maturities and maturities[m]["maturity_date"]
    ]
    if not dates and not name:
        return None
    due = max(dates) if dates else None
    return Terms(
        terms_type="01" if due else None,
        basis_date_code="3" if due else None,
        net_due_date=due,
        net_days=(due - invoice_date).days if due else None,
        description=name,
    )
