"""The output of ``o2c cash apply``: the JSON document of the contract, and a table for people.

Amounts are written as JSON strings with at least two decimals (``"1480.50"``), as the
canonical model writes ``Decimal`` (``model_dump(mode="json")``), so no float ever rounds a
cent; ``confidence`` and ``match_rate`` are plain numbers.

The JSON is ``{"payments": [...], "summary": {...}}``: each payment has exactly
``trace_number, payer_id, payment_amount, lines, unapplied_amount`` and each line
``index, reference, invoice_number, status, applied_amount, discount_amount,
adjustment_amount, confidence, reason``. A payment whose BPR02 differs from the sum of its
lines is listed in ``summary.total_mismatches`` (and marked in the table).

Imports only the standard library and ``gateway.cash``; must not import ``gateway.pipeline``,
``gateway.web`` or ``gateway.cli``.
"""

from __future__ import annotations

from collections import Counter
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Final

from gateway.cash.results import RULES, STATUSES, ZERO

if TYPE_CHECKING:
    from gateway.cash.results import CashRun, LineResult, PaymentResult

_CENT: Final = Decimal("0.01")


def money(value: Decimal) -> str:
    """An amount as text with at least two decimals, never rounded: ``5`` → ``"5.00"``."""
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and exponent > -2:
        value = value.quantize(_CENT)
    return str(value)


def line_json(line: LineResult) -> dict[str, Any]:
    """One line of a payment, with the contract's keys in the contract's order."""
    return {
        "index": line.index,
        "reference": line.reference,
        "invoice_number": line.invoice_number,
        "status": line.status,
        "applied_amount": money(line.applied_amount),
        "discount_amount": money(line.discount_amount),
        "adjustment_amount": money(line.adjustment_amount),
        "confidence": round(line.confidence, 2),
        "reason": line.reason,
    }


def payment_json(payment: PaymentResult) -> dict[str, Any]:
    """One payment, with the contract's keys in the contract's order."""
    return {
        "trace_number": payment.trace_number,
        "payer_id": payment.payer_id,
        "payment_amount": money(payment.payment_amount),
        "lines": [line_json(line) for line in payment.lines],
        "unapplied_amount": money(payment.unapplied_amount),
    }


def summary_json(run: CashRun, *, rejected_sets: int = 0) -> dict[str, Any]:
    """Counts per status and per rule, totals, the match rate and the BPR02 mismatches."""
    lines = [line for payment in run.payments for line in payment.lines]
    statuses = Counter(line.status for line in lines)
    rules = Counter(line.rule for line in lines if line.status != "unmatched")
    applied = statuses["matched"] + statuses["partial"]

    def total(values: list[Decimal]) -> str:
        return money(sum(values, ZERO))

    return {
        "payments": len(run.payments),
        "lines": len(lines),
        **{status: statuses[status] for status in STATUSES},
        "match_rate": round(applied / len(lines), 4) if lines else None,
        "payment_amount": total([p.payment_amount for p in run.payments]),
        "applied_amount": total([line.applied_amount for line in lines]),
        "discount_amount": total([line.discount_amount for line in lines]),
        "adjustment_amount": total([line.adjustment_amount for line in lines]),
        "unapplied_amount": total([p.unapplied_amount for p in run.payments]),
        "rules": {rule: rules[rule] for rule in RULES if rule != "none"},
        "total_mismatches": [
            {
                "trace_number": p.trace_number,
                "payer_id": p.payer_id,
                "payment_amount": money(p.payment_amount),
                "lines_total": money(p.lines_total),
                "difference": money(p.total_mismatch),
            }
            for p in run.payments
            if p.total_mismatch != 0
        ],
        "rejected_sets": rejected_sets,
    }


def run_json(run: CashRun, *, rejected_sets: int = 0) -> dict[str, Any]:
    """The whole JSON document of ``o2c cash apply``."""
    return {
        "payments": [payment_json(p) for p in run.payments],
        "summary": summary_json(run, rejected_sets=rejected_sets),
    }


def run_table(run: CashRun, *, rejected_sets: int = 0) -> str:
    """The same decisions as a plain-text table, one block per payment."""
    out: list[str] = []
    for p in run.payments:
        out.append(
            f"payment {p.trace_number}  payer {p.payer_id}  amount {money(p.payment_amount)}  "
            f"unapplied {money(p.unapplied_amount)}"
        )
        if p.total_mismatch != 0:
            out.append(
                f"  !! BPR02 {money(p.payment_amount)} differs from the lines' total "
                f"{money(p.lines_total)} by {money(p.total_mismatch)}"
            )
        out.append(
            f"  {'#':>3} {'reference':<18} {'invoice':<14} {'status':<9} {'applied':>12} "
            f"{'discount':>10} {'deduction':>10} {'conf':>4}  reason"
        )
        for line in p.lines:
            invoice = (line.invoice_number or "-")[:14]
            out.append(
                f"  {line.index:>3} {line.reference[:18]:<18} {invoice:<14} "
                f"{line.status:<9} {money(line.applied_amount):>12} "
                f"{money(line.discount_amount):>10} {money(line.adjustment_amount):>10} "
                f"{line.confidence:>4.2f}  {line.reason}"
            )
        out.append("")
    s = summary_json(run, rejected_sets=rejected_sets)
    rate = "n/a" if s["match_rate"] is None else f"{s['match_rate'] * 100:.2f} %"
    out.append(
        f"{s['payments']} payment(s), {s['lines']} line(s): {s['matched']} matched, "
        f"{s['partial']} partial, {s['unmatched']} unmatched; match rate {rate}"
    )
    out.append(
        f"applied {s['applied_amount']}, discounts {s['discount_amount']}, deductions "
        f"{s['adjustment_amount']}, unapplied {s['unapplied_amount']} of {s['payment_amount']}"
    )
    if s["total_mismatches"]:
        out.append(f"{len(s['total_mismatches'])} payment(s) whose BPR02 differs from their lines")
    if rejected_sets:
        out.append(f"{rejected_sets} transaction set(s) could not be read (see stderr)")
    return "\n".join(out) + "\n"
