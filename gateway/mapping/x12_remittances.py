"""X12 remittances: 820 payment order / remittance advice to ``Remittance``.

The items paid are RMR loops, inside ENT loops (the entity, e.g. a store or division,
becomes each line's ``payer_location``) or straight under the header. REF and DTM
directly in an RMR loop belong to the item; ADX in the RMR loop are its adjustments.

Imports only ``gateway.errors``, ``gateway.model``, ``gateway.x12.reader`` and
``gateway.mapping.x12_loops`` and ``x12_read``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from gateway.mapping.x12_loops import (
    Fields,
    Loop,
    LoopRule,
    SegmentRule,
    build,
    collect,
    need,
    opening,
)
from gateway.mapping.x12_read import (
    code,
    currency,
    date_ref,
    day,
    padded,
    party,
    real,
    reference,
    required,
)
from gateway.model import Remittance

if TYPE_CHECKING:
    from gateway.model import Envelope
    from gateway.x12.reader import Delimiters, Segment


def _bpr(seg: Segment) -> Fields:
    """BPR: handling code, payment amount (R), credit/debit, payment method, payment date."""
    els = padded(seg, 16)
    _, handling, amount, credit_debit, method = els[:5]
    return {
        "handling_code": code(handling),
        "payment_amount": real(amount, seg, 2, "payment amount", needed=True),
        "credit_debit": required(credit_debit, seg, 3, "credit/debit flag"),
        "payment_method": required(method, seg, 4, "payment method"),
        "payment_date": day(els[16], seg, 16, "payment effective date"),
    }


def _trn(seg: Segment) -> str:
    """TRN02: the trace (check or EFT) number."""
    return required(padded(seg, 2)[2], seg, 2, "trace number")


def _rmr(seg: Segment) -> Fields:
    """RMR: what is paid (qualifier and reference), amount paid, billed and discounted."""
    _, qualifier, ref, _action, paid, billed, discount = padded(seg, 6)[:7]
    return {
        "reference_qualifier": required(qualifier, seg, 1, "reference qualifier"),
        "reference": required(ref, seg, 2, "reference"),
        "paid_amount": real(paid, seg, 4, "amount paid"),
        "invoice_amount": real(billed, seg, 5, "invoice amount"),
        "discount_amount": real(discount, seg, 6, "discount amount"),
    }


def _adx(seg: Segment) -> Fields:
    """ADX: signed adjustment amount, reason, and the reference it concerns."""
    _, amount, reason, qualifier, ref = padded(seg, 4)[:5]
    return {
        "amount": real(amount, seg, 1, "adjustment amount", needed=True),
        "reason_code": required(reason, seg, 2, "adjustment reason"),
        "reference_qualifier": code(qualifier),
        "reference": code(ref),
    }


_ITEM: dict[str, SegmentRule] = {
    "RMR": ("", _rmr, "merge"),
    "REF": ("references", reference, "append"),
    "DTM": ("dates", date_ref, "append"),
    "ADX": ("adjustments", _adx, "append"),
}
_ITEM_LOOPS: dict[str, LoopRule] = {
    "ADX": ("adjustments", opening(_adx), "append"),
}


def _item(loop: Loop) -> Fields:
    """RMR loop: one remitted item with its references, dates and adjustments."""
    return collect(loop, _ITEM, _ITEM_LOOPS)


def _ent(seg: Segment) -> str | None:
    """ENT04: the entity's identification code."""
    return code(padded(seg, 4)[4])


_ENTITY: dict[str, SegmentRule] = {"ENT": ("payer_location", _ent, "first")}
_ENTITY_LOOPS: dict[str, LoopRule] = {"RMR": ("lines", _item, "append")}


def _entity(loop: Loop) -> tuple[Fields, ...]:
    """ENT loop: its RMR items, each marked with the entity (ENT-level ADX have no field)."""
    fields = collect(loop, _ENTITY, _ENTITY_LOOPS)
    location = fields.get("payer_location")
    lines = cast("tuple[Fields, ...]", fields.get("lines", ()))
    for line in lines:
        line["payer_location"] = location
    return lines


_REMITTANCE: dict[str, SegmentRule] = {
    "BPR": ("", _bpr, "merge"),
    "TRN": ("trace_number", _trn, "first"),
    "CUR": ("currency", currency, "first"),
    "REF": ("references", reference, "append"),
    "DTM": ("dates", date_ref, "append"),
}
_REMITTANCE_LOOPS: dict[str, LoopRule] = {
    "N1": ("parties", party, "append"),
    "ENT": ("lines", _entity, "extend"),
    "RMR": ("lines", _item, "append"),
}


def remittance(tree: Loop, *, delimiters: Delimiters, envelope: Envelope) -> Remittance:
    """Map an 820 loop tree to a ``Remittance``: N1*PR is the payer, N1*PE the payee.

    The trace number is TRN02, or the cheque number (REF*CK) when there is no TRN.
    """
    fields = collect(tree, _REMITTANCE, _REMITTANCE_LOOPS)
    need(fields, "payment_amount", "BPR02", "payment amount")
    if "trace_number" not in fields:
        # TRN is optional in the 004010 820; cheque remittances without it name the
        # cheque in REF*CK, which is the same trace (TRN01 1 = current transaction)
        references = cast("tuple[Fields, ...]", fields.get("references", ()))
        fields["trace_number"] = next(
            (r["value"] for r in references if r["qualifier"] == "CK" and r["value"]), None
        )
    need(fields, "trace_number", "TRN02", "trace number")
    parties = cast("tuple[Fields, ...]", fields.pop("parties", ()))
    for role, name in (("PR", "payer"), ("PE", "payee")):
        fields[name] = next((p for p in parties if p["role"] == role), None)
    fields["envelope"] = envelope
    return build(Remittance, fields)
