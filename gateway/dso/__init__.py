"""Days sales outstanding and aging per trading partner.

``ledger`` holds invoices and payments in columns, ``exports`` reads them from CSV,
``metrics`` computes DSO, best possible DSO, ADD, countback DSO and average days to pay,
``aging`` the due-date buckets, ``trends`` month-end series and ``thresholds`` the partners
above their DSO thresholds. Pure functions over data: no I/O but reading the CSV files.
``service`` (not re-exported here) is the running gateway's side: figures from the store,
daily snapshots and threshold alerts.

Imports only the standard library, ``gateway.errors``, ``gateway.business`` and
``gateway.partners`` (``service`` also the store, for types); never ``pipeline``, ``web``
or ``cli``.
"""

from __future__ import annotations

from gateway.dso.aging import BUCKETS, Aging
from gateway.dso.exports import load_ledger, read_invoices, read_payments
from gateway.dso.ledger import PORTFOLIO, Invoice, Ledger, LedgerError, Payment
from gateway.dso.metrics import DsoReport, PartnerFigures, compute
from gateway.dso.thresholds import ThresholdCrossing, crossed_thresholds, partner_thresholds
from gateway.dso.trends import Trend, month_ends, trend

__all__ = [
    "BUCKETS",
    "PORTFOLIO",
    "Aging",
    "DsoReport",
    "Invoice",
    "Ledger",
    "LedgerError",
    "PartnerFigures",
    "Payment",
    "ThresholdCrossing",
    "Trend",
    "compute",
    "crossed_thresholds",
    "load_ledger",
    "month_ends",
    "partner_thresholds",
    "read_invoices",
    "read_payments",
    "trend",
]
