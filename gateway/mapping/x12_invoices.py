"""X12 invoices: 810 to ``Invoice`` and back.

TDS01, SAC05 and ITD08 are N2 (whole cents, two implied decimals); the model holds
currency units, so ``TDS*150075`` is a total of 1500.75 and the way back refuses an
amount with a fraction of a cent rather than rounding money.

Imports only ``gateway.errors``, ``gateway.model``, ``gateway.x12.reader`` and
``gateway.mapping.x12_loops``, ``x12_read`` and ``x12_write``.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from gateway.errors import MappingError
from gateway.mapping.x12_loops import (
    Fields,
    Loop,
    LoopRule,
    SegmentRule,
    build,
    collect,
    joined,
    need,
    opening,
)
from gateway.mapping.x12_read import (
    allowance_charge,
    cents,
    code,
    currency,
    date_ref,
    day,
    description,
    destinations,
    padded,
    party,
    product_ids,
    real,
    reference,
    required,
    terms,
)
from gateway.mapping.x12_write import (
    OutboundSet,
    date_segment,
    fmt_cents,
    fmt_date,
    fmt_real,
    party_segments,
    pid_segments,
    product_elements,
    reference_segment,
    sac_segment,
    segment,
    terms_segment,
)
from gateway.model import Invoice, LineItem, Terms

if TYPE_CHECKING:
    from decimal import Decimal

    from gateway.model import Destination, Envelope
    from gateway.x12.reader import Delimiters, Segment

# -- inbound -----------------------------------------------------------------------------


def _big(seg: Segment) -> Fields:
    """BIG: invoice date and number, PO date and number, release, transaction type."""
    _, date, number, po_date, po_number, release, _change, kind = padded(seg, 7)[:8]
    return {
        "invoice_date": day(date, seg, 1, "invoice date", needed=True),
        "invoice_number": required(number, seg, 2, "invoice number"),
        "po_date": day(po_date, seg, 3, "purchase order date"),
        "po_number": code(po_number),
        "release_number": code(release),
        "transaction_type": code(kind),
    }


def _it1(seg: Segment) -> Fields:
    """IT1: line number, quantity, unit, price, price basis, product id pairs from IT106."""
    _, number, quantity, uom, price, basis, *pairs = padded(seg, 5)
    return {
        "line_number": code(number),
        "quantity": real(quantity, seg, 2, "quantity invoiced", needed=True),
        "uom": code(uom),
        "unit_price": real(price, seg, 4, "unit price"),
        "price_basis": code(basis),
        "product_ids": product_ids(pairs),
    }


def _tds(seg: Segment) -> Decimal | None:
    """TDS01: the amount due, N2."""
    return cents(padded(seg, 1)[1], seg, 1, "total invoice amount", needed=True)


_LINE: dict[str, SegmentRule] = {
    "IT1": ("", _it1, "merge"),
    "PID": ("description", description, "append"),
    "REF": ("references", reference, "append"),
    "SDQ": ("destinations", destinations, "extend"),
    "DTM": ("dates", date_ref, "append"),
    "SAC": ("allowances_charges", allowance_charge, "append"),
}
_LINE_LOOPS: dict[str, LoopRule] = {
    "PID": ("description", opening(description), "append"),
    "SAC": ("allowances_charges", opening(allowance_charge), "append"),
}


def _line(loop: Loop) -> Fields:
    """IT1 loop: the line, its descriptions, references, destinations, dates and SACs."""
    fields = collect(loop, _LINE, _LINE_LOOPS)
    joined(fields, "description")
    return fields


_INVOICE: dict[str, SegmentRule] = {
    "BIG": ("", _big, "merge"),
    "CUR": ("currency", currency, "first"),
    "REF": ("references", reference, "append"),
    "ITD": ("terms", terms, "first"),
    "DTM": ("dates", date_ref, "append"),
    "TDS": ("total_amount", _tds, "first"),
    "SAC": ("allowances_charges", allowance_charge, "append"),
}
_INVOICE_LOOPS: dict[str, LoopRule] = {
    "N1": ("parties", party, "append"),
    "IT1": ("lines", _line, "append"),
    "SAC": ("allowances_charges", opening(allowance_charge), "append"),
}


def invoice(tree: Loop, *, delimiters: Delimiters, envelope: Envelope) -> Invoice:
    """Map an 810 loop tree to an ``Invoice``."""
    fields = collect(tree, _INVOICE, _INVOICE_LOOPS)
    need(fields, "invoice_number", "BIG02", "invoice number")
    need(fields, "total_amount", "TDS01", "total invoice amount")
    fields["envelope"] = envelope
    return build(Invoice, fields)


# -- outbound ----------------------------------------------------------------------------


def _sdq_segments(line: LineItem, version: str) -> list[list[str]]:
    """SDQ: up to ten location/quantity pairs per segment, one location qualifier each."""
    out: list[list[str]] = []
    group: list[Destination] = []
    qualifier: str | None = None
    for dest in (*line.destinations, None):
        if group and (dest is None or len(group) == 10 or dest.location_qualifier != qualifier):
            pairs = [x for d in group for x in (d.location, fmt_real(d.quantity))]
            out.append(segment("SDQ", line.uom, qualifier, *pairs, version=version))
            group = []
        if dest is not None:
            if line.uom is None:
                raise MappingError(f"line {line.line_number}: SDQ01 needs the line's unit")
            qualifier = dest.location_qualifier
            group.append(dest)
    return out


def _line_segments(line: LineItem, version: str) -> list[list[str]]:
    """One IT1 loop in 810 order: IT1, PID, REF, SDQ, DTM, SAC."""
    out = [
        segment(
            "IT1",
            line.line_number,
            fmt_real(line.quantity),
            line.uom,
            fmt_real(line.unit_price),
            line.price_basis,
            *product_elements(line.product_ids),
            version=version,
        )
    ]
    out += pid_segments(line.description, version)
    out += [reference_segment(r, version) for r in line.references]
    out += _sdq_segments(line, version)
    out += [date_segment(d, version) for d in line.dates]
    out += [sac_segment(ac, version) for ac in line.allowances_charges]
    return out


def due_dates(terms: Terms, invoice_date: dt.date) -> Terms:
    """Terms with ITD04/ITD06 filled in from the days, when the days count from the invoice date.

    Only for basis date code ``3`` (invoice date) or none; other bases need a date the
    invoice does not carry.
    """
    if terms.basis_date_code not in (None, "3"):
        return terms
    update: dict[str, dt.date] = {}
    if terms.discount_due_date is None and terms.discount_days is not None:
        update["discount_due_date"] = invoice_date + dt.timedelta(days=terms.discount_days)
    if terms.net_due_date is None and terms.net_days is not None:
        update["net_due_date"] = invoice_date + dt.timedelta(days=terms.net_days)
    return terms.model_copy(update=update) if update else terms


def invoice_to_810(invoice: Invoice, *, version: str, fill_due_dates: bool = False) -> OutboundSet:
    """Render an ``Invoice`` as the body of an 810 (BIG ... CTT).

    Args:
        invoice: the invoice.
        version: GS08 of the group it goes in, ``004010`` or ``005010``.
        fill_due_dates: compute ITD04/ITD06 from the invoice date where the terms give
            only days. Off by default, so that reading the 810 back gives an equal invoice.
    """
    out = [
        segment(
            "BIG",
            fmt_date(invoice.invoice_date),
            invoice.invoice_number,
            fmt_date(invoice.po_date),
            invoice.po_number,
            invoice.release_number,
            None,
            invoice.transaction_type,
            version=version,
        )
    ]
    if invoice.currency is not None:
        out.append(segment("CUR", "SE", invoice.currency))
    out += [reference_segment(r, version) for r in invoice.references]
    for p in invoice.parties:
        out += party_segments(p, version)
    if invoice.terms is not None:
        terms = invoice.terms
        if fill_due_dates:
            terms = due_dates(terms, invoice.invoice_date)
        out.append(terms_segment(terms, version))
    out += [date_segment(d, version) for d in invoice.dates]
    for line in invoice.lines:
        out += _line_segments(line, version)
    out.append(segment("TDS", fmt_cents(invoice.total_amount, "TDS01"), version=version))
    out += [sac_segment(ac, version) for ac in invoice.allowances_charges]
    out.append(segment("CTT", str(len(invoice.lines))))
    return OutboundSet(transaction_set="810", functional_id="IN", segments=out)
