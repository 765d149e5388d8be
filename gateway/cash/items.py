"""Open items: the invoices a payment may settle, and reading them from an ERP's CSV export.

An :class:`OpenItem` is one invoice of one partner with what is still open on it.
:func:`read_open_items` reads the batch command's ``OPEN.csv``
(``invoice_number,partner_id,po_number,invoice_date,due_date,amount,open_amount,currency,
discount_percent,discount_days``) and reports every bad cell as ``file:line: column: message``
instead of stopping at the first. A file with any bad row is refused as a whole: applying
cash against half an export could match a payment to the wrong invoice.

Imports only the standard library and ``gateway.errors``; must not import ``gateway.pipeline``,
``gateway.web`` or ``gateway.cli``.
"""

from __future__ import annotations

import csv
import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Final, NamedTuple

from gateway.errors import OpenItemsError as OpenItemsError  # re-exported: it was defined here

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable
    from pathlib import Path

COLUMNS: Final = (
    "invoice_number",
    "partner_id",
    "po_number",
    "invoice_date",
    "due_date",
    "amount",
    "open_amount",
    "currency",
    "discount_percent",
    "discount_days",
)
_REQUIRED: Final = ("invoice_number", "partner_id", "invoice_date", "due_date", "amount")
_MAX_PROBLEMS: Final = 50
_HUNDRED: Final = Decimal(100)


class OpenItem(NamedTuple):
    """One invoice of one partner and the amount still open on it.

    ``open_amount`` at or below zero means the invoice is closed: cash application
    never touches it. ``discount_percent`` is 0 when the terms give no discount. A named
    tuple, because a ledger holds a million of them and they are built that fast.
    """

    invoice_number: str
    partner_id: str
    invoice_date: dt.date
    due_date: dt.date
    amount: Decimal
    open_amount: Decimal
    po_number: str | None = None
    currency: str | None = None
    discount_percent: Decimal = Decimal(0)
    discount_days: int | None = None

    @property
    def is_open(self) -> bool:
        """True while something is still owed on the invoice."""
        return self.open_amount > 0

    def discount_date(self) -> dt.date | None:
        """The last day the early-payment discount may be taken, without grace days."""
        if self.discount_percent <= 0 or self.discount_days is None:
            return None
        return self.invoice_date + dt.timedelta(days=self.discount_days)


def read_open_items(path: Path, *, display: str | None = None) -> list[OpenItem]:
    """Read ``OPEN.csv``: a header naming the columns, then one invoice per row.

    Columns beyond the ten of the contract are ignored; ``po_number``, ``currency``,
    ``discount_percent`` and ``discount_days`` may be empty, and ``open_amount`` empty
    means the whole ``amount`` is open.

    Raises:
        OSError: the file cannot be opened (the caller reports it as a usage error).
        OpenItemsError: one or more rows are bad; ``problems`` names file, line and column.
    """
    name = display or str(path)
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return parse_open_items(handle, display=name)


def parse_open_items(lines: Iterable[str], *, display: str) -> list[OpenItem]:
    """Parse open items from CSV text lines (see :func:`read_open_items`)."""
    reader = csv.reader(lines)
    try:
        header = [h.strip().lower() for h in next(reader)]
    except StopIteration:
        raise OpenItemsError(
            f"{display}: empty file", problems=[f"{display}:1: empty file, expected a header"]
        ) from None
    except csv.Error as exc:
        raise OpenItemsError(f"{display}:1: {exc}", problems=[f"{display}:1: {exc}"]) from exc
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        text = f"{display}:1: header lacks {', '.join(missing)} (found {', '.join(header)})"
        raise OpenItemsError(text, problems=[text])
    where = {column: header.index(column) for column in COLUMNS}
    width = max(where.values()) + 1
    items: list[OpenItem] = []
    problems: list[str] = []
    seen: dict[tuple[str, str], int] = {}
    try:
        for raw in reader:
            line = reader.line_num
            if not any(cell.strip() for cell in raw):
                continue
            if len(raw) < width:
                problems.append(f"{display}:{line}: expected {width} columns, found {len(raw)}")
                continue
            found: list[str] = []

            def problem(column: str, text: str, line: int = line, found: list[str] = found) -> None:
                found.append(f"{display}:{line}: {column}: {text}")

            item = _item({column: raw[index].strip() for column, index in where.items()}, problem)
            problems.extend(found)
            if item is None or found:
                continue
            first = seen.setdefault((item.partner_id, item.invoice_number), line)
            if first != line:
                problems.append(
                    f"{display}:{line}: invoice_number: {item.invoice_number!r} of partner "
                    f"{item.partner_id!r} is already on line {first}"
                )
            items.append(item)
    except csv.Error as exc:
        problems.append(f"{display}:{reader.line_num}: {exc}")
    if problems:
        shown = problems[:_MAX_PROBLEMS]
        if len(problems) > _MAX_PROBLEMS:
            shown.append(f"... and {len(problems) - _MAX_PROBLEMS} more")
        count = f"{len(problems)} problem" + ("" if len(problems) == 1 else "s")
        raise OpenItemsError(f"{display}: {count} in the open items", problems=shown)
    return items


def _item(cells: dict[str, str], problem: Callable[[str, str], None]) -> OpenItem | None:
    for column in _REQUIRED:
        if not cells[column]:
            problem(column, "is empty")
    amount = _decimal(cells, "amount", problem)
    open_text = cells["open_amount"]
    open_amount = _decimal(cells, "open_amount", problem) if open_text else amount
    percent = _decimal(cells, "discount_percent", problem) if cells["discount_percent"] else None
    if percent is not None and not 0 <= percent < _HUNDRED:
        problem("discount_percent", f"expected a percentage from 0 to 100, found {percent}")
    days = _days(cells["discount_days"], problem)
    invoice_date = _date(cells, "invoice_date", problem)
    due_date = _date(cells, "due_date", problem)
    currency = cells["currency"].upper() or None
    if currency is not None and not (len(currency) == 3 and currency.isalpha()):
        problem("currency", f"expected a 3-letter code such as USD, found {cells['currency']!r}")
    if (
        amount is None
        or open_amount is None
        or invoice_date is None
        or due_date is None
        or not cells["invoice_number"]
        or not cells["partner_id"]
    ):
        return None
    return OpenItem(
        invoice_number=cells["invoice_number"],
        partner_id=cells["partner_id"],
        invoice_date=invoice_date,
        due_date=due_date,
        amount=amount,
        open_amount=open_amount,
        po_number=cells["po_number"] or None,
        currency=currency,
        discount_percent=percent or Decimal(0),
        discount_days=days,
    )


def _decimal(
    cells: dict[str, str], column: str, problem: Callable[[str, str], None]
) -> Decimal | None:
    text = cells[column]
    if not text:
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        problem(column, f"expected an amount such as 1234.50, found {cells[column]!r}")
        return None
    if not value.is_finite():
        problem(column, f"expected a finite amount, found {cells[column]!r}")
        return None
    return value


def _days(text: str, problem: Callable[[str, str], None]) -> int | None:
    if not text:
        return None
    if not text.isdigit() or int(text) > 3650:
        problem("discount_days", f"expected a whole number of days, found {text!r}")
        return None
    return int(text)


def _date(
    cells: dict[str, str], column: str, problem: Callable[[str, str], None]
) -> dt.date | None:
    text = cells[column]
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        problem(column, f"expected a date as YYYY-MM-DD, found {text!r}")
        return None
