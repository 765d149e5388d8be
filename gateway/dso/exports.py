"""Reading the AR exports behind ``o2c dso``: invoices and payments as CSV.

- Invoices: ``invoice_number,partner_id,invoice_date,due_date,amount``.
- Payments: ``invoice_number,partner_id,payment_date,amount``.

The first row is the header: the names above in any order and any case, other columns
ignored; every row has as many fields as the header. The file is UTF-8 (a byte-order mark
is fine); values are trimmed; blank lines are skipped. Dates are ``YYYY-MM-DD``. Amounts
are plain decimals with at most two decimals (``1234.5``, ``-20.00``; no thousands
separators or currency signs); invoice amounts must not be negative. Every bad row of a
file is reported (its first bad cell), each as ``file:line: column: why``.

A file is first read in blocks of rows converted column by column (``map`` over C
functions, dates parsed once per distinct value). At the first thing that path does not
expect (a bad cell, a blank line, a value spread over lines) the file is read again row by
row, which finds every problem with its line.

Imports only the standard library, ``gateway.errors`` and ``gateway.dso.ledger``.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
from dataclasses import dataclass, field
from itertools import islice
from operator import methodcaller
from typing import TYPE_CHECKING, Final, Literal

from gateway.dso.ledger import (
    PORTFOLIO,
    InvoiceColumns,
    Ledger,
    LedgerError,
    PaymentColumns,
    collector_paused,
)
from gateway.errors import UsageError

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence
    from pathlib import Path
    from typing import TextIO

Kind = Literal["text", "partner", "date", "amount", "invoice_amount"]
INVOICE_COLUMNS: Final[dict[str, Kind]] = {
    "invoice_number": "text",
    "partner_id": "partner",
    "invoice_date": "date",
    "due_date": "date",
    "amount": "invoice_amount",
}
PAYMENT_COLUMNS: Final[dict[str, Kind]] = {
    "invoice_number": "text",
    "partner_id": "partner",
    "payment_date": "date",
    "amount": "amount",
}
_BLOCK: Final = 65_536
_DATE: Final = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_AMOUNT: Final = re.compile(r"(-?)([0-9]+)(?:\.([0-9]{1,2}))?")
_CENTS_FORM: Final = re.compile(r"-?[0-9]+\.[0-9]{2}")
_DROP_POINT: Final = methodcaller("replace", ".", "")


class _CellError(Exception):
    """One bad cell; turned into a ``file:line: column: why`` problem by the reader."""


class _NotSimpleError(Exception):
    """The fast path met something it does not handle; read the file row by row."""


@dataclass(slots=True)
class _Table:
    """Checked columns by name: strings, or ints (ordinal dates, cents)."""

    text: dict[str, list[str]] = field(default_factory=dict)
    ints: dict[str, list[int]] = field(default_factory=dict)
    lines: Sequence[int] = ()

    @classmethod
    def empty(cls, columns: dict[str, Kind]) -> _Table:
        table = cls()
        for name, kind in columns.items():
            if kind in ("text", "partner"):
                table.text[name] = []
            else:
                table.ints[name] = []
        return table


def load_ledger(invoices: Path, payments: Path) -> Ledger:
    """Read both exports and build the ledger.

    Raises:
        UsageError: a file cannot be opened or read.
        LedgerError: a file has a bad header, row or cell, or an invoice appears twice.
    """
    return Ledger.from_columns(read_invoices(invoices), read_payments(payments))


def read_invoices(path: Path) -> InvoiceColumns:
    """The invoices of an export, checked, in file order."""
    table = _read(path, INVOICE_COLUMNS)
    return InvoiceColumns(
        source=str(path),
        numbers=table.text["invoice_number"],
        partners=table.text["partner_id"],
        dates=table.ints["invoice_date"],
        dues=table.ints["due_date"],
        cents=table.ints["amount"],
        lines=table.lines,
    )


def read_payments(path: Path) -> PaymentColumns:
    """The payments of an export, checked, in file order."""
    table = _read(path, PAYMENT_COLUMNS)
    return PaymentColumns(
        source=str(path),
        numbers=table.text["invoice_number"],
        partners=table.text["partner_id"],
        dates=table.ints["payment_date"],
        cents=table.ints["amount"],
        lines=table.lines,
    )


def _read(path: Path, columns: dict[str, Kind]) -> _Table:
    with collector_paused():
        try:
            return _read_fast(path, columns)
        except _NotSimpleError:
            return _read_slow(path, columns)


def _read_fast(path: Path, columns: dict[str, Kind]) -> _Table:
    """Blocks of rows, one column at a time; :class:`_NotSimpleError` at anything odd."""
    table = _Table.empty(columns)
    dates: dict[str, int] = {}
    count = 0
    try:
        with _opened(path) as handle:
            reader = csv.reader(handle)
            header = next(reader, [])
            positions = _header(path, header, tuple(columns))
            while rows := list(islice(reader, _BLOCK)):
                lengths = set(map(len, rows))
                if reader.line_num != count + len(rows) + 1 or lengths != {len(header)}:
                    raise _NotSimpleError  # a blank line, a short row or a multi-line value
                cells = list(zip(*rows, strict=True))
                for (name, kind), at in zip(columns.items(), positions, strict=True):
                    if kind in ("text", "partner"):
                        table.text[name] += _text_column(cells[at], kind)
                    elif kind == "date":
                        table.ints[name] += _date_column(cells[at], dates)
                    else:
                        table.ints[name] += _amount_column(cells[at], kind)
                count += len(rows)
    except (UnicodeDecodeError, csv.Error):
        raise _NotSimpleError from None
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror or exc}") from exc
    table.lines = range(2, count + 2)
    return table


def _text_column(cells: tuple[str, ...], kind: Kind) -> list[str]:
    values = list(map(str.strip, cells))
    if not all(values) or (kind == "partner" and PORTFOLIO in values):
        raise _NotSimpleError
    return values


def _date_column(cells: tuple[str, ...], seen: dict[str, int]) -> list[int]:
    try:
        for cell in set(cells).difference(seen):
            _day(cell, seen)
    except _CellError:
        raise _NotSimpleError from None
    return list(map(seen.__getitem__, cells))


def _amount_column(cells: tuple[str, ...], kind: Kind) -> list[int]:
    try:
        if all(map(_CENTS_FORM.fullmatch, cells)):  # 1234.50: the cents without the point
            cents = list(map(int, map(_DROP_POINT, cells)))
        else:
            cents = list(map(_cents, cells))
    except _CellError:
        raise _NotSimpleError from None
    if kind == "invoice_amount" and cents and min(cents) < 0:
        raise _NotSimpleError
    return cents


def _read_slow(path: Path, columns: dict[str, Kind]) -> _Table:
    """Row by row, collecting every bad row as ``file:line: column: why``."""
    table = _Table.empty(columns)
    lines: list[int] = []
    problems: list[str] = []
    dates: dict[str, int] = {}
    for line, cells in _rows(path, tuple(columns), problems):
        try:
            values = [
                _cell(cell, kind, dates, column)
                for cell, (column, kind) in zip(cells, columns.items(), strict=True)
            ]
        except _CellError as exc:
            problems.append(f"{path}:{line}: {exc}")
            continue
        for name, value in zip(columns, values, strict=True):
            if isinstance(value, str):
                table.text[name].append(value)
            else:
                table.ints[name].append(value)
        lines.append(line)
    if problems:
        raise LedgerError(str(path), problems)
    table.lines = lines
    return table


def _cell(cell: str, kind: Kind, dates: dict[str, int], column: str) -> str | int:
    """One checked value; a :class:`_CellError` names the column."""
    try:
        if kind == "text":
            return _text(cell)
        if kind == "partner":
            return _partner(cell)
        if kind == "date":
            return _day(cell, dates)
        cents = _cents(cell)
        if kind == "invoice_amount" and cents < 0:
            raise _CellError(f"an invoice amount must not be negative, found {cell!r}")
        return cents
    except _CellError as exc:
        raise _CellError(f"{column}: {exc}") from None


def _opened(path: Path) -> TextIO:
    return path.open(encoding="utf-8-sig", newline="")


def _rows(
    path: Path, columns: tuple[str, ...], problems: list[str]
) -> Iterator[tuple[int, list[str]]]:
    """``(line, cells)`` per data row, cells in ``columns`` order; bad rows go to ``problems``."""
    try:
        with _opened(path) as handle:
            reader = csv.reader(handle)
            try:
                header = next(reader, [])
                positions = _header(path, header, columns)
                width = len(header)
                for row in reader:
                    if len(row) == width:
                        yield reader.line_num, [row[p] for p in positions]
                    elif row and (len(row) > 1 or row[0].strip()):  # not a blank line
                        problems.append(_width_problem(path, reader.line_num, row, header))
            except csv.Error as exc:
                problem = f"{path}:{reader.line_num}: not valid CSV ({exc})"
                raise LedgerError(str(path), [problem]) from exc
    except UnicodeDecodeError as exc:
        # Text is decoded a block at a time: find the line of the bad bytes itself.
        problem = f"{path}:{_undecodable_line(path)}: not UTF-8 text"
        raise LedgerError(str(path), [problem]) from exc
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror or exc}") from exc


def _width_problem(path: Path, line: int, row: list[str], header: list[str]) -> str:
    if len(row) < len(header):
        column = header[len(row)].strip().lower()
        return (
            f"{path}:{line}: {column}: missing "
            f"(the row has {len(row)} fields, the header {len(header)})"
        )
    return (
        f"{path}:{line}: row: {len(row)} fields where the header has {len(header)} "
        "(a comma inside an unquoted value, such as a decimal comma?)"
    )


def _undecodable_line(path: Path) -> int:
    with path.open("rb") as handle:
        for line, raw in enumerate(handle, 1):
            try:
                raw.decode("utf-8")
            except UnicodeDecodeError:
                return line
    return 1


def _header(path: Path, header: list[str], columns: tuple[str, ...]) -> list[int]:
    names = [name.strip().lower() for name in header]
    missing = [column for column in columns if column not in names]
    if missing:
        found = ", ".join(names) if any(names) else "nothing"
        raise LedgerError(
            str(path),
            [
                f"{path}:1: header: expected the columns {', '.join(columns)}; "
                f"missing {', '.join(missing)} (found {found})"
            ],
        )
    return [names.index(column) for column in columns]


def _text(cell: str) -> str:
    value = cell.strip()
    if not value:
        raise _CellError("empty")
    return value


def _partner(cell: str) -> str:
    value = _text(cell)
    if value == PORTFOLIO:
        raise _CellError("'*' is reserved for the portfolio row")
    return value


def _day(cell: str, seen: dict[str, int]) -> int:
    day = seen.get(cell)
    if day is not None:
        return day
    text = cell.strip()
    if not _DATE.fullmatch(text):
        raise _CellError(f"expected a date YYYY-MM-DD, found {cell!r}")
    try:
        day = dt.date.fromisoformat(text).toordinal()
    except ValueError:
        raise _CellError(f"{text!r} is not a date of the calendar") from None
    seen[cell] = day
    return day


def _cents(cell: str) -> int:
    found = _AMOUNT.fullmatch(cell.strip())
    if found is None:
        raise _CellError(
            f"expected an amount with at most 2 decimals such as 1234.50, found {cell!r}"
        )
    sign, whole, part = found.groups()
    cents = int(whole) * 100 + (int(part.ljust(2, "0")) if part else 0)
    return -cents if sign else cents
