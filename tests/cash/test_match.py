"""One test per matching rule, against amounts computed by hand."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import pytest

from gateway.cash.ledger import normalize_reference
from gateway.cash.report import summary_json
from gateway.cash.results import CashRun, LineResult, PartnerRules
from tests.cash.builders import D, apply, item, payment, rmr

if TYPE_CHECKING:
    from gateway.cash.items import OpenItem


def only_line(run: CashRun) -> LineResult:
    [p] = run.payments
    [line] = p.lines
    return line


# -- stage 1: references --------------------------------------------------------------------
def test_exact_invoice_number() -> None:
    run = apply([item("10045", "500.00"), item("10046", "500.00")], payment(rmr("10045", "500.00")))
    line = only_line(run)
    assert (line.invoice_number, line.status, line.rule) == ("10045", "matched", "exact")
    assert (line.applied_amount, line.confidence) == (D("500.00"), 1.0)
    assert "found as sent" in line.reason
    assert run.payments[0].unapplied_amount == D("0.00")


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("inv # 00042", "42"),
        ("INV-0042", "42"),
        ("Invoice No. 42", "42"),
        ("#42", "42"),
        (" 4 2 ", "42"),
        ("PO 4500011111", "4500011111"),
        ("so-123", "SO123"),
        ("INVERNESS1", "INVERNESS1"),
        ("000", "0"),
        ("---", ""),
    ],
)
def test_normalize_reference(text: str, key: str) -> None:
    assert normalize_reference(text) == key


def test_normalized_invoice_number() -> None:
    run = apply([item("INV-0010045", "812.40")], payment(rmr("inv 10045", "812.40")))
    line = only_line(run)
    assert (line.invoice_number, line.status, line.rule, line.confidence) == (
        "INV-0010045",
        "matched",
        "normalized",
        0.95,
    )


def test_normalized_number_shared_by_two_invoices_is_unmatched() -> None:
    run = apply([item("INV-42", "10.00"), item("0042", "20.00")], payment(rmr("42", "10.00")))
    line = only_line(run)
    assert line.status == "unmatched" and line.invoice_number is None
    assert "several invoices" in line.reason


def test_po_number_resolves_to_its_one_open_invoice() -> None:
    items = [item("90001", "520.00", po="4500011111"), item("90002", "740.50", po="4500011234")]
    run = apply(items, payment(rmr("4500011111", "520.00", qualifier="PO")))
    line = only_line(run)
    assert (line.invoice_number, line.status, line.rule, line.confidence) == (
        "90001",
        "matched",
        "po",
        0.9,
    )


def test_po_on_two_open_invoices_needs_the_amount_to_pick_one() -> None:
    items = [item("1", "100.00", po="PO77"), item("2", "250.00", po="PO77")]
    run = apply(items, payment(rmr("PO77", "250.00", qualifier="PO")))
    line = only_line(run)
    assert (line.invoice_number, line.confidence) == ("2", 0.85)

    same = [item("1", "100.00", po="PO77"), item("2", "100.00", po="PO77")]
    line = only_line(apply(same, payment(rmr("PO77", "100.00", qualifier="PO"))))
    assert line.status == "unmatched"


def test_po_with_a_closed_invoice_is_not_applied_to_the_open_one_blindly() -> None:
    # paying the closed invoice again must not land on its open sibling
    items = [item("1", "100.00", open_amount="0", po="PO9"), item("2", "300.00", po="PO9")]
    line = only_line(apply(items, payment(rmr("PO9", "100.00", qualifier="PO"))))
    assert line.status == "unmatched"


# -- stage 2: near misses -------------------------------------------------------------------
def test_near_miss_transposed_digits_confirmed_by_amount() -> None:
    items = [item("1234567", "812.40"), item("7654321", "812.40")]
    line = only_line(apply(items, payment(rmr("1234576", "812.40"))))
    assert (line.invoice_number, line.status, line.rule, line.confidence) == (
        "1234567",
        "matched",
        "near_miss",
        0.8,
    )


def test_near_miss_mistyped_digit_without_amount_confirmation_is_unmatched() -> None:
    items = [item("1234567", "812.40")]
    line = only_line(apply(items, payment(rmr("1234867", "800.00"))))
    assert line.status == "unmatched"
    assert "1234567" in line.reason and "amount" in line.reason


def test_near_miss_with_two_candidates_that_fit_is_unmatched() -> None:
    items = [item("1234568", "50.00"), item("1234569", "50.00")]
    line = only_line(apply(items, payment(rmr("1234567", "50.00"))))
    assert line.status == "unmatched"
    assert "more than one" in line.reason


def test_near_miss_is_not_tried_on_short_numbers() -> None:
    items = [item("1235", "50.00"), item("9999", "77.00")]
    line = only_line(apply(items, payment(rmr("1234", "50.00"))))
    # no near miss on a 4-digit number; amount-only finds the one 50.00 invoice instead
    assert (line.invoice_number, line.rule) == ("1235", "amount_only")


def test_typo_onto_another_valid_number_is_unmatched() -> None:
    # "1234568" exists, but the amount fits "1234567", one typo away: nobody can tell
    items = [item("1234567", "500.00"), item("1234568", "812.40")]
    line = only_line(apply(items, payment(rmr("1234568", "500.00"))))
    assert line.status == "unmatched"
    assert "one typo away" in line.reason


# -- stage 3: amount only -------------------------------------------------------------------
def test_amount_only_one_candidate() -> None:
    items = [item("A1", "300.00"), item("A2", "301.00")]
    line = only_line(apply(items, payment(rmr("SEE ATTACHED", "300.00"))))
    assert (line.invoice_number, line.status, line.rule, line.confidence) == (
        "A1",
        "matched",
        "amount_only",
        0.6,
    )


def test_amount_only_two_candidates_is_unmatched() -> None:
    items = [item("A1", "300.00"), item("A2", "300.00")]
    line = only_line(apply(items, payment(rmr("", "300.00"))))
    assert line.status == "unmatched"
    assert "2 open invoices" in line.reason


def test_amount_only_off_in_the_partner_profile() -> None:
    rules = PartnerRules(allow_amount_only=False)
    line = only_line(apply([item("A1", "300.00")], payment(rmr("", "300.00")), rules=rules))
    assert line.status == "unmatched"
    assert "amount-only matching is off" in line.reason


# -- settling: discounts, short pays, overpayments ----------------------------------------------
def discounted() -> list[OpenItem]:
    # 2 % 10 days on 1000.00 invoiced 2024-06-01: 20.00 off until 2024-06-11
    return [
        item(
            "5001",
            "1000.00",
            invoice_date=dt.date(2024, 6, 1),
            discount_percent="2",
            discount_days=10,
        )
    ]


def test_discount_within_terms_settles_in_full() -> None:
    line = only_line(
        apply(discounted(), payment(rmr("5001", "980.00"), paid_on=dt.date(2024, 6, 10)))
    )
    assert (line.status, line.applied_amount, line.discount_amount) == (
        "matched",
        D("980.00"),
        D("20.00"),
    )


def test_discount_within_grace_days_settles_in_full() -> None:
    late = payment(rmr("5001", "980.00", discount="20.00"), paid_on=dt.date(2024, 6, 14))
    line = only_line(apply(discounted(), late, rules=PartnerRules(discount_grace_days=3)))
    assert (line.status, line.discount_amount) == ("matched", D("20.00"))


def test_discount_taken_late_is_a_short_pay() -> None:
    late = payment(rmr("5001", "980.00", discount="20.00"), paid_on=dt.date(2024, 6, 14))
    line = only_line(apply(discounted(), late, rules=PartnerRules(discount_grace_days=2)))
    assert (line.status, line.applied_amount, line.discount_amount, line.adjustment_amount) == (
        "partial",
        D("980.00"),
        D("0"),
        D("0"),
    )
    assert "1 days late" in line.reason and "stays open" in line.reason


def test_discount_larger_than_terms_is_not_granted() -> None:
    line = only_line(apply(discounted(), payment(rmr("5001", "970.00", discount="30.00"))))
    assert (line.status, line.discount_amount) == ("partial", D("0"))


def test_short_pay_with_adx_is_partial_with_a_deduction() -> None:
    pay = payment(rmr("90001", "500.00", invoice_amount="520.00", adjustments=(("-20.00", "01"),)))
    line = only_line(apply([item("90001", "520.00")], pay))
    assert (line.status, line.applied_amount, line.adjustment_amount) == (
        "partial",
        D("500.00"),
        D("20.00"),
    )
    assert line.adjustment_codes == ("01",)
    assert "deduction, reason 01" in line.reason


def test_discount_and_deduction_on_one_line() -> None:
    # 3 % 60 days on 4650.41: 139.51 allowed; 97.90 claimed and earned, 143.76 deducted
    items = [
        item(
            "26801",
            "4650.41",
            invoice_date=dt.date(2019, 9, 4),
            discount_percent="3",
            discount_days=60,
        )
    ]
    line_in = rmr("26801", "4408.75", discount="97.9", adjustments=(("-143.76", "59"),))
    line = only_line(apply(items, payment(line_in, paid_on=dt.date(2019, 10, 29))))
    assert (line.status, line.applied_amount, line.discount_amount, line.adjustment_amount) == (
        "partial",
        D("4408.75"),
        D("97.9"),
        D("143.76"),
    )


def test_overpayment_leaves_the_excess_unapplied() -> None:
    run = apply([item("77", "400.00")], payment(rmr("77", "450.00")))
    line = only_line(run)
    assert (line.status, line.applied_amount) == ("matched", D("400.00"))
    assert run.payments[0].unapplied_amount == D("50.00")
    assert "overpaid by 50.00" in line.reason


# -- payments, partners and the run as a whole ------------------------------------------------
def test_bpr02_mismatch_is_flagged_not_absorbed() -> None:
    run = apply([item("1", "100.00")], payment(rmr("1", "100.00"), amount="120.00"))
    [p] = run.payments
    assert (p.lines_total, p.total_mismatch, p.unapplied_amount) == (
        D("100.00"),
        D("20.00"),
        D("20.00"),
    )
    summary = summary_json(run)
    assert summary["total_mismatches"] == [
        {
            "trace_number": "TRN1",
            "payer_id": "ACME",
            "payment_amount": "120.00",
            "lines_total": "100.00",
            "difference": "20.00",
        }
    ]


def test_an_invoice_is_never_applied_beyond_its_open_amount() -> None:
    first = payment(rmr("1", "300.00"), rmr("1", "300.00"), trace="A")
    second = payment(rmr("1", "50.00"), trace="B")
    run = apply([item("1", "500.00")], first, second)
    a, b = run.payments
    assert [(x.status, x.applied_amount) for x in a.lines] == [
        ("partial", D("300.00")),
        ("matched", D("200.00")),
    ]
    assert a.unapplied_amount == D("100.00")
    assert (b.lines[0].status, b.lines[0].applied_amount) == ("unmatched", D("0"))
    assert "already settled earlier in this run" in b.lines[0].reason


def test_certain_matches_are_served_before_near_misses() -> None:
    # the typo comes first in the file, but the exact reference later gets the invoice
    run = apply(
        [item("1234567", "100.00")], payment(rmr("1234576", "100.00"), rmr("1234567", "100.00"))
    )
    typo, exact = run.payments[0].lines
    assert (exact.status, exact.rule) == ("matched", "exact")
    assert typo.status == "unmatched" and typo.index == 0


def test_another_partners_invoice_is_never_touched() -> None:
    items = [item("555", "100.00", partner="OTHER")]
    line = only_line(apply(items, payment(rmr("555", "100.00")), partner="ACME"))
    assert line.status == "unmatched"
    assert "no open items" in line.reason


def test_a_closed_invoice_is_never_touched() -> None:
    # paid again: not applied, and not guessed onto the other 100.00 invoice by amount
    items = [item("1", "100.00", open_amount="0"), item("2", "100.00")]
    line = only_line(apply(items, payment(rmr("1", "100.00"))))
    assert line.status == "unmatched"
    assert "closed" in line.reason


def test_currency_mismatch_is_unmatched() -> None:
    line = only_line(apply([item("1", "100.00", currency="EUR")], payment(rmr("1", "100.00"))))
    assert line.status == "unmatched" and "EUR" in line.reason


@pytest.mark.parametrize(("paid", "why"), [(None, "no paid amount"), ("-5.00", "credits")])
def test_lines_that_are_not_payments_are_unmatched(paid: str | None, why: str) -> None:
    line = only_line(apply([item("1", "5.00")], payment(rmr("1", paid), amount="0")))
    assert line.status == "unmatched" and why in line.reason
