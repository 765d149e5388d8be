"""Tryton ERP connector: canonical orders in as confirmed sales, posted invoices out.

``push_order`` finds the customer party by a ``party.identifier`` whose code is the
partner id (creating party and addresses from the order when missing), resolves
each line through the partner's item cross-reference (buyer part number, then UPC,
then our own vendor part number) to a ``product.product`` code, converts partner
units to ours, and creates a ``sale.sale`` with the PO number as ``reference``; then
quotes and confirms it when ``confirm`` is set. It is idempotent on (party, PO
number): an existing sale is returned with ``created=False`` and moved on to the
configured state. ``invoices_since`` pages posted customer invoices in the order
they were posted; ``record_payment`` runs the ``account.invoice.pay`` wizard for the
cash the gateway applied (idempotent on the application's key).

Raw ``create`` calls skip Tryton's on_change autofill: addresses, line unit and unit
price are always sent. Imports only its sibling modules, pydantic and ``gateway``'s
``ports``, ``model`` and ``errors`` (partner profiles come through the context).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import weakref
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any, ClassVar, Final

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from adapters.erp_tryton_invoices import PostedInvoice, TrytonInvoices
from adapters.erp_tryton_rpc import Record, TrytonRpc
from gateway.errors import ConfigError, DeliveryError, PermanentDeliveryError
from gateway.ports import ErpResult

if TYPE_CHECKING:
    from pydantic import SecretStr

    from gateway.model import LineItem, Party, PurchaseOrder
    from gateway.partners import PartnerProfile, PartnerRegistry
    from gateway.ports import AdapterRegistry, GatewayContext, PaymentRecord

log = logging.getLogger(__name__)

PART_IDS: Final = ("BP", "IN", "PI", "CB")
"""Buyer's part number, buyer's item number, purchaser's item code, buyer's catalog number."""
UPC_IDS: Final = ("UP", "UK", "UA", "EN", "EO")
VENDOR_IDS: Final = ("VP", "VN", "VA", "SK")
"""Our own numbers as the buyer quotes them: tried as product codes after the cross-reference."""
DEFAULT_UNITS: Final = {"EA": "u", "PC": "u", "UN": "u", "KG": "kg", "LB": "lb", "GR": "g"}


class TrytonSettings(BaseModel):
    """The ``erp:`` settings block for ``connector: tryton``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    url: str = Field(pattern=r"^https?://[^/]+")
    """The server's base URL; JSON-RPC is at ``<url>/<database>/rpc/``."""
    database: str = Field(min_length=1)
    user: str = Field(min_length=1)
    password_secret: str = Field(min_length=1)
    """Name of the secret holding the password (``O2C_SECRET_<NAME>`` or the secrets dir)."""
    confirm: bool = True
    """Quote and confirm each new sale; False leaves it in draft for a person."""
    timeout: float = Field(default=30.0, gt=0)
    max_connections: int = Field(default=8, ge=1, le=64)
    payment_method: str = "Cash"
    """``account.invoice.payment.method`` name used by ``record_payment``."""
    units: dict[str, str] = Field(default_factory=lambda: dict(DEFAULT_UNITS))
    """X12 unit code (after the partner's conversions) → Tryton ``product.uom`` symbol."""


@dataclass(frozen=True, slots=True)
class _Line:
    number: str | None
    product_id: int
    quantity: Decimal
    unit_id: int
    unit_price: Decimal
    description: str | None


class TrytonConnector:
    """An ``ErpConnector`` for a remote Tryton 8 server over JSON-RPC.

    Args:
        settings: the connector's settings block.
        password: the Tryton user's password.
        partners: partner profiles, for their item cross-reference and unit conversions.
    """

    name = "tryton"
    kind: ClassVar[str] = "tryton"
    Config: ClassVar[type[TrytonSettings]] = TrytonSettings

    def __init__(
        self,
        settings: TrytonSettings,
        password: SecretStr,
        *,
        partners: PartnerRegistry | None = None,
    ) -> None:
        self.settings = settings
        self.rpc = TrytonRpc(
            settings.url,
            settings.database,
            settings.user,
            password,
            timeout=settings.timeout,
            max_connections=settings.max_connections,
        )
        self._partners = partners
        self._locks: weakref.WeakValueDictionary[tuple[str, ...], asyncio.Lock] = (
            weakref.WeakValueDictionary()
        )
        self._parties: dict[str, int] = {}
        self._units: dict[str, int] = {}
        self.invoices = TrytonInvoices(
            self.rpc,
            payment_method=settings.payment_method,
            units=settings.units,
            partners=partners,
        )

    async def push_order(self, order: PurchaseOrder, *, partner_id: str) -> ErpResult:
        """Create (or find) the sale for ``order`` and move it to the configured state."""
        async with self._lock("order", partner_id, order.po_number):
            profile = self._profile(partner_id)
            party_id = await self._party(partner_id, profile, order)
            sale_id = await self.rpc.search_one(
                "sale.sale", [("party", "=", party_id), ("reference", "=", order.po_number)]
            )
            created = sale_id is None
            if sale_id is None:
                lines = await self._lines(order, profile)
                sale_id = await self._create_sale(order, partner_id, party_id, lines)
            result = await self._advance(sale_id, created=created)
        log.info(
            "order %s in Tryton",
            "created" if created else "found",
            extra={"partner_id": partner_id, "po_number": order.po_number, "sale_id": sale_id},
        )
        return result

    async def health(self) -> bool:
        """True when the server answers an authenticated call."""
        try:
            await self.rpc.call("model.res.user.get_preferences", True)
        except DeliveryError:
            return False
        return True

    async def close(self) -> None:
        """Log out and close the HTTP connections."""
        await self.rpc.close()

    async def invoices_since(
        self, cursor: str | None, *, limit: int = 100
    ) -> tuple[list[PostedInvoice], str]:
        """Posted customer invoices after ``cursor``, and the next cursor.

        See ``TrytonInvoices.since``; ``cursor`` is opaque (None for the first call).
        """
        return await self.invoices.since(cursor, limit=limit)

    async def pay_invoice(
        self, invoice_number: str, amount: Decimal, date: dt.date, reference: str
    ) -> str:
        """Pay a posted invoice; see ``TrytonInvoices.record_payment``."""
        return await self.invoices.record_payment(invoice_number, amount, date, reference)

    async def record_payment(self, payment: PaymentRecord) -> str:
        """Record cash the gateway applied (``gateway.ports.PaymentSink``).

        Cash (kind ``payment``) is paid on the invoice with the ``account.invoice.pay``
        wizard, with ``payment.key`` as the line's description, which makes a repeat
        harmless. Discounts, deductions, write-offs, cash on account and reversals need
        accounts a company chooses (write-off methods, a deduction account), so they are
        refused with a message saying what to enter in Tryton by hand.

        Raises:
            PermanentDeliveryError: not cash on an invoice, or no such posted invoice.
        """
        if payment.kind != "payment" or payment.invoice_number is None or payment.amount <= 0:
            what = "a reversal" if payment.amount < 0 else f"a {payment.kind.replace('_', '-')}"
            on = f" on invoice {payment.invoice_number}" if payment.invoice_number else ""
            raise PermanentDeliveryError(
                f"the Tryton connector records cash on invoices only: enter {what} of "
                f"{abs(payment.amount)}{on} ({payment.key}) in Tryton by hand"
            )
        state = await self.invoices.record_payment(
            payment.invoice_number, payment.amount, payment.effective_date, payment.key
        )
        return f"tryton invoice {payment.invoice_number} {state}"

    def _profile(self, partner_id: str) -> PartnerProfile | None:
        if self._partners is None:
            return None
        try:
            return self._partners.by_id(partner_id)
        except ConfigError:  # an unknown partner has no cross-reference: codes only
            return None

    def _lock(self, *key: str) -> asyncio.Lock:
        """One lock per key, alive while someone holds or waits for it."""
        lock = self._locks.get(key)
        if lock is None:
            lock = self._locks[key] = asyncio.Lock()
        return lock

    async def _party(
        self, partner_id: str, profile: PartnerProfile | None, order: PurchaseOrder
    ) -> int:
        """The customer party carrying the identifier ``partner_id``, created when missing."""
        async with self._lock("party", partner_id):
            if partner_id not in self._parties:
                found = await self.rpc.search_one(
                    "party.party", [("identifiers.code", "=", partner_id)]
                )
                if found is None:
                    bill_to = _party_with_role(order, "BT") or _party_with_role(order, "BY")
                    name = (profile and profile.display_name) or (bill_to and bill_to.name)
                    identifiers = [["create", [{"code": partner_id}]]]
                    found = await self.rpc.create_one(
                        "party.party", {"name": name or partner_id, "identifiers": identifiers}
                    )
                self._parties[partner_id] = found
            return self._parties[partner_id]

    async def _address(self, partner_id: str, party_id: int, party: Party | None) -> int:
        """The party's address matching ``party`` (name, street, city, ZIP), created if missing."""
        address = party.address if party else None
        values: Record = {
            "party_name": party.name if party else None,
            "street_unstructured": "\n".join(address.lines) if address and address.lines else None,
            "city": address.city if address else None,
            "postal_code": address.postal_code if address else None,
        }
        domain: list[Any] = [("party", "=", party_id)]
        domain += [(field, "=", value) for field, value in values.items()]
        async with self._lock("party", partner_id):
            found = await self.rpc.search_one("party.address", domain)
            if found is not None:
                return found
            if address and address.country:
                values.update(await self._country(address.country, address.state))
            return await self.rpc.create_one("party.address", {"party": party_id, **values})

    async def _country(self, country: str, state: str | None) -> Record:
        """Tryton's country (by ISO alpha-2 or alpha-3) and subdivision, when it has them."""
        countries = await self.rpc.call(
            "model.country.country.search_read",
            ["OR", ("code", "=", country), ("code3", "=", country)],
            0,
            1,
            None,
            ["code"],
        )
        if not countries:
            return {}
        values: Record = {"country": countries[0]["id"]}
        if state:
            code = f"{countries[0]['code']}-{state}"
            subdivision = await self.rpc.search_one("country.subdivision", [("code", "=", code)])
            if subdivision is not None:
                values["subdivision"] = subdivision
        return values

    async def _lines(self, order: PurchaseOrder, profile: PartnerProfile | None) -> list[_Line]:
        """Resolve every line's product and unit; one unknown product refuses the order."""
        candidates = [_candidates(line, profile) for line in order.lines]
        codes = sorted({code for codes in candidates for code in codes})
        products = await self.rpc.call(
            "model.product.product.search_read",
            [("code", "in", codes)],
            0,
            None,
            None,
            ["code", "sale_uom", "list_price_used"],
        )
        by_code: dict[str, Record] = {p["code"]: p for p in products}
        lines: list[_Line] = []
        missing: list[str] = []
        for index, (line, codes_for_line) in enumerate(zip(order.lines, candidates, strict=True)):
            product = next((by_code[c] for c in codes_for_line if c in by_code), None)
            label = line.line_number or str(index + 1)
            if product is None:
                ids = ", ".join(f"{p.qualifier} {p.value}" for p in line.product_ids) or "no ids"
                missing.append(f"line {label} ({ids})")
                continue
            lines.append(await self._line(line, product, profile))
        if missing:
            raise PermanentDeliveryError(
                f"PO {order.po_number}: no Tryton product for {'; '.join(missing)}"
                " (checked the partner's item cross-reference and product codes)"
            )
        return lines

    async def _line(self, line: LineItem, product: Record, profile: PartnerProfile | None) -> _Line:
        quantity, uom = line.quantity, line.uom
        if profile is not None and uom is not None:
            quantity, uom = profile.business.convert_uom(line.quantity, uom, sku=product["code"])
        if line.unit_price is None:
            price = Decimal(product["list_price_used"] or 0)
        elif quantity and quantity != line.quantity:
            price = line.unit_price * line.quantity / quantity  # price per our unit
        else:
            price = line.unit_price
        unit_id = int(product["sale_uom"]) if uom is None else await self._unit(uom)
        return _Line(
            line.line_number, int(product["id"]), quantity, unit_id, price, line.description
        )

    async def _unit(self, code: str) -> int:
        symbol = self.settings.units.get(code.upper())
        if symbol is None:
            raise PermanentDeliveryError(
                f"unit {code!r} has no Tryton unit: add it to the connector's `units` setting"
            )
        if symbol not in self._units:
            found = await self.rpc.search_one("product.uom", [("symbol", "=", symbol)])
            if found is None:
                raise PermanentDeliveryError(f"Tryton has no unit {symbol!r} (for {code})")
            self._units[symbol] = found
        return self._units[symbol]

    async def _create_sale(
        self, order: PurchaseOrder, partner_id: str, party_id: int, lines: list[_Line]
    ) -> int:
        bill_to = _party_with_role(order, "BT") or _party_with_role(order, "BY")
        ship_to = _party_with_role(order, "ST") or bill_to
        invoice_address = await self._address(partner_id, party_id, bill_to)
        shipment_address = (
            invoice_address
            if ship_to is bill_to
            else await self._address(partner_id, party_id, ship_to)
        )
        values: Record = {
            "party": party_id,
            "reference": order.po_number,
            "sale_date": order.po_date or dt.datetime.now(dt.UTC).date(),
            "invoice_address": invoice_address,
            "shipment_address": shipment_address,
            "lines": [["create", [_line_values(line) for line in lines]]],
        }
        return await self.rpc.create_one("sale.sale", values)

    async def _advance(self, sale_id: int, *, created: bool) -> ErpResult:
        """Quote then confirm per ``confirm`` (also finishing a sale a crash left in draft)."""
        (sale,) = await self.rpc.call("model.sale.sale.read", [sale_id], ["state", "number"])
        if self.settings.confirm and sale["state"] in ("draft", "quotation"):
            if sale["state"] == "draft":
                await self.rpc.call("model.sale.sale.quote", [sale_id])
            await self.rpc.call("model.sale.sale.confirm", [sale_id])
            (sale,) = await self.rpc.call("model.sale.sale.read", [sale_id], ["state", "number"])
        lines = await self.rpc.call(
            "model.sale.line.search_read",
            [("sale", "=", sale_id), ("type", "=", "line")],
            0,
            None,
            [("sequence", "ASC"), ("id", "ASC")],
            ["product.code", "quantity", "unit.symbol", "unit_price", "note"],
        )
        detail = {"number": sale["number"], "lines": [_line_detail(line) for line in lines]}
        return ErpResult(str(sale_id), str(sale["state"]), created, detail)


def _party_with_role(order: PurchaseOrder, role: str) -> Party | None:
    return next((p for p in order.parties if p.role == role), None)


def _candidates(line: LineItem, profile: PartnerProfile | None) -> list[str]:
    """Our product codes to try for a line, most certain first."""
    xref = profile.business.item_xref if profile else None
    ids = line.product_ids
    codes: list[str | None] = []
    if xref is not None:
        codes += [xref.sku_for(partner_part=p.value) for p in ids if p.qualifier in PART_IDS]
        codes += [xref.sku_for(upc=p.value) for p in ids if p.qualifier in UPC_IDS]
    codes += [p.value for p in ids if p.qualifier in VENDOR_IDS]
    return list(dict.fromkeys(code for code in codes if code))


def _line_values(line: _Line) -> Record:
    values: Record = {"type": "line", "product": line.product_id, "unit": line.unit_id}
    values.update(quantity=float(line.quantity), unit_price=line.unit_price)
    if line.description:
        values["description"] = line.description
    if line.number:
        values["note"] = f"PO line {line.number}"
    return values


def _line_detail(line: Record) -> dict[str, str | None]:
    note = line.get("note") or ""
    return {
        "line_number": note.removeprefix("PO line ") if note.startswith("PO line ") else None,
        "sku": (line.get("product.") or {}).get("code"),
        "quantity": str(line["quantity"]),
        "unit": (line.get("unit.") or {}).get("symbol"),
        "unit_price": str(line["unit_price"]),
    }


async def create_connector(ctx: GatewayContext, settings: dict[str, Any]) -> TrytonConnector:
    """Build the connector from its settings block, resolving the password secret."""
    try:
        config = TrytonSettings.model_validate(settings)
    except ValidationError as exc:
        problems = [
            f"erp.{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()
        ]
        raise ConfigError(
            "invalid Tryton connector settings: " + "; ".join(problems), problems=problems
        ) from exc
    password = ctx.settings.secret(config.password_secret)
    return TrytonConnector(config, password, partners=ctx.partners)


def register(registry: AdapterRegistry) -> None:
    """Offer the Tryton connector as ``erp: {connector: tryton, ...}``."""
    registry.add_erp("tryton", create_connector)
