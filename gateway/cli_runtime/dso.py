"""``o2c dso``: days sales outstanding per trading partner from AR exports (CSV).

``o2c dso --invoices INVOICES.csv --payments PAYMENTS.csv --as-of D [--period-days N]
[--format json|table]`` prints one row per partner of the invoices file and the portfolio
row ``*`` (all partners together), with the figures of ``gateway.dso.metrics``.

JSON (the default) is ``{"as_of", "period_days", "partners": {ID: {"ar", "sales", "dso",
"best_possible_dso", "add", "countback_dso", "aging": {"current", "1_30", "31_60",
"61_90", "over_90"}, "average_days_to_pay"}}}``; partners sorted by id, ``*`` last. Every
amount and day figure is a JSON string with exactly two decimals (``"1234.50"``,
``"45.67"``), as the canonical documents write ``Decimal``: exact for any consumer, with
no binary floating point on the way; a figure that does not exist (no sales in the period)
is ``null``. The table format is for people.

Payments naming no invoice of the invoices file are left out, with a warning on stderr.
Exit codes: 0 done, 1 a file has bad rows (each reported as ``file:line: column: why``),
2 usage (bad arguments, a file that cannot be read).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gateway.dso import BUCKETS, PORTFOLIO, compute, load_ledger

if TYPE_CHECKING:
    from decimal import Decimal
    from typing import TextIO

    from gateway.cli_runtime.common import Command
    from gateway.dso import DsoReport, Ledger

EXIT_OK = 0
_HEADINGS = ("partner", "AR", "sales", "DSO", "BPDSO", "ADD", "countback", "ADP")
_BUCKET_HEADINGS = ("current", "1-30", "31-60", "61-90", "over 90")


def add_commands(sub: Any, parser_class: type) -> None:
    """Add ``dso``."""
    del parser_class  # no sub-commands
    p = sub.add_parser("dso", help="days sales outstanding and aging per partner from CSV exports")
    p.add_argument(
        "--invoices",
        type=Path,
        required=True,
        metavar="INVOICES.csv",
        help="columns invoice_number,partner_id,invoice_date,due_date,amount",
    )
    p.add_argument(
        "--payments",
        type=Path,
        required=True,
        metavar="PAYMENTS.csv",
        help="columns invoice_number,partner_id,payment_date,amount",
    )
    p.add_argument("--as-of", type=_date, required=True, metavar="YYYY-MM-DD")
    p.add_argument(
        "--period-days",
        type=_days,
        default=90,
        metavar="N",
        help="length of the sales period ending on the as-of date (default 90)",
    )
    p.add_argument("--format", choices=["json", "table"], default="json")


def _date(text: str) -> dt.date:
    try:
        if len(text) == 10:
            return dt.date.fromisoformat(text)
    except ValueError:
        pass
    raise argparse.ArgumentTypeError(f"expected a date YYYY-MM-DD, found {text!r}")


def _days(text: str) -> int:
    if text.isdigit() and 1 <= int(text) <= 3660:
        return int(text)
    raise argparse.ArgumentTypeError(f"expected a whole number of days, 1 to 3660, found {text!r}")


def cmd_dso(args: argparse.Namespace, out: TextIO) -> int:
    """``o2c dso``."""
    ledger = load_ledger(args.invoices, args.payments)
    _warn_unmatched(ledger)
    report = compute(ledger, args.as_of, args.period_days)
    if args.format == "json":
        out.write(json.dumps(report.as_json(), indent=2) + "\n")
    else:
        out.write(render_table(report))
    return EXIT_OK


def _warn_unmatched(ledger: Ledger) -> None:
    lines = ledger.unmatched_payments
    if lines:
        print(
            f"o2c: warning: {len(lines)} payment(s) name no invoice of the invoices file and "
            f"are left out (first: {ledger.payment_source}:{lines[0]})",
            file=sys.stderr,
        )


def render_table(report: DsoReport) -> str:
    """The report for people: one line per partner, ``-`` for a figure that does not exist."""
    rows: list[tuple[str, ...]] = [_HEADINGS[:-1] + _BUCKET_HEADINGS + _HEADINGS[-1:]]
    for partner_id, figures in report.partners.items():
        name = "* (all)" if partner_id == PORTFOLIO else partner_id
        days = (figures.dso, figures.best_possible_dso, figures.add, figures.countback_dso)
        rows.append(
            (
                name,
                *map(_cell, (figures.ar, figures.sales, *days, *figures.aging.amounts)),
                _cell(figures.average_days_to_pay),
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = [
        f"DSO as of {report.as_of.isoformat()}, sales period {report.period_days} days; "
        f"aging by days past due ({', '.join(BUCKETS)}); ADP = average days to pay"
    ]
    for row in rows:
        cells = [row[0].ljust(widths[0])]
        cells += [cell.rjust(width) for cell, width in zip(row[1:], widths[1:], strict=True)]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines) + "\n"


def _cell(value: Decimal | None) -> str:
    return "-" if value is None else f"{value:,}"


COMMANDS: dict[str, Command] = {"dso": cmd_dso}
