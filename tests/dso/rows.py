"""Invoices and payments for the DSO tests, written as short literals."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from gateway.dso import Invoice, Payment


def day(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def inv(number: str, partner: str, date: str, due: str, amount: str) -> Invoice:
    return Invoice(number, partner, day(date), day(due), Decimal(amount))


def pay(number: str, partner: str, date: str, amount: str) -> Payment:
    return Payment(number, partner, day(date), Decimal(amount))
