"""Money, codes and text in the canonical model: what is accepted as it is, what is refused."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from pydantic import ValidationError

from gateway.model import AllowanceCharge, Invoice, LineItem, Party, Remittance, Terms


def _invoice(**fields: object) -> Invoice:
    base: dict[str, object] = {
        "invoice_number": "INV-1",
        "invoice_date": dt.date(2024, 3, 1),
        "total_amount": Decimal("10.00"),
    }
    return Invoice.model_validate(base | fields)


@pytest.mark.parametrize("code", ["USD", "EUR", "JPY"])
def test_currency_accepts_three_upper_case_letters(code: str) -> None:
    assert _invoice(currency=code).currency == code


@pytest.mark.parametrize("code", ["usd", "US", "USDX", " USD", "US1", ""])
def test_currency_refuses_anything_else(code: str) -> None:
    with pytest.raises(ValidationError, match="currency") as info:
        _invoice(currency=code)
    assert info.value.errors()[0]["type"] == "string_pattern_mismatch"


def test_negative_amounts_are_credits_and_allowed() -> None:
    credit = _invoice(total_amount=Decimal("-125.40"), transaction_type="CR")
    assert credit.total_amount == Decimal("-125.40")
    rebate = AllowanceCharge(indicator="A", code="C310", amount=Decimal("-3.00"))
    assert rebate.amount == Decimal("-3.00")
    refund = Remittance(
        trace_number="T", payment_amount=Decimal("-1"), credit_debit="D", payment_method="ACH"
    )
    assert refund.payment_amount == Decimal("-1")


@pytest.mark.parametrize("bad", ["NaN", "Infinity", "-Infinity", "sNaN"])
def test_non_finite_amounts_are_refused(bad: str) -> None:
    with pytest.raises(ValidationError, match="total_amount"):
        _invoice(total_amount=bad)


def test_decimal_keeps_its_scale_through_json() -> None:
    invoice = _invoice(total_amount=Decimal("12.50"))
    assert '"total_amount":"12.50"' in invoice.model_dump_json()
    assert Invoice.model_validate_json(invoice.model_dump_json()).total_amount.as_tuple() == (
        Decimal("12.50").as_tuple()
    )


def test_text_is_never_stripped() -> None:
    party = Party(role="ST", name="  Store 42  ", id_qualifier="92", id=" 0042")
    assert (party.name, party.id) == ("  Store 42  ", " 0042")
    assert Party.model_validate_json(party.model_dump_json()) == party


def test_quantities_are_decimal_even_from_int_and_str() -> None:
    line = LineItem.model_validate({"quantity": 3, "unit_price": "1.0000"})
    assert isinstance(line.quantity, Decimal)
    assert line.quantity == Decimal(3)
    assert str(line.unit_price) == "1.0000"


@pytest.mark.parametrize("indicator", ["a", "X", "", "AC"])
def test_allowance_charge_indicator_is_a_or_c(indicator: str) -> None:
    with pytest.raises(ValidationError, match="indicator"):
        AllowanceCharge.model_validate({"indicator": indicator, "code": "D240"})


def test_terms_round_trip_keeps_dates_and_percent() -> None:
    terms = Terms(discount_percent=Decimal("2"), discount_days=10, net_days=30,
                  net_due_date=dt.date(2024, 4, 1), description="2% 10 NET 30")  # fmt: skip
    assert Terms.model_validate_json(terms.model_dump_json()) == terms
    assert terms.model_dump(mode="json")["net_due_date"] == "2024-04-01"
