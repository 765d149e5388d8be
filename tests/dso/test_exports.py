"""Reading the CSV exports: the happy path, and every bad file reported as file:line: column."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from gateway.dso import LedgerError, load_ledger, read_invoices, read_payments
from gateway.errors import UsageError

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

INVOICE_HEADER = "invoice_number,partner_id,invoice_date,due_date,amount\n"
PAYMENT_HEADER = "invoice_number,partner_id,payment_date,amount\n"


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def problems(path: Path, read: Callable[[Path], object] = read_invoices) -> list[str]:
    with pytest.raises(LedgerError) as caught:
        read(path)
    return caught.value.problems


def test_reads_columns_in_any_order_with_bom_case_and_extras(tmp_path: Path) -> None:
    path = tmp_path / "inv.csv"
    path.write_bytes(
        "\ufeffAmount, Due_Date ,memo,invoice_date,PARTNER_ID,invoice_number\n"
        '1234.5,2024-02-01,"a, b",2024-01-02, ACME ,INV-1\n'
        "7,2024-02-02,,2024-01-03,ACME,INV-2\n".encode()
    )
    cols = read_invoices(path)
    assert cols.numbers == ["INV-1", "INV-2"]
    assert cols.partners == ["ACME", "ACME"]  # trimmed
    assert cols.cents == [123450, 700]
    assert list(cols.lines) == [2, 3]
    assert cols.dates[1] - cols.dates[0] == 1


def test_blank_lines_are_skipped_and_lines_stay_right(tmp_path: Path) -> None:
    path = write(
        tmp_path, "p.csv", PAYMENT_HEADER + "\n1,A,2024-01-02,5.00\n\n2,A,2024-01-03,-1.5\n"
    )
    cols = read_payments(path)
    assert cols.cents == [500, -150]
    assert list(cols.lines) == [3, 5]


def test_every_bad_row_is_reported_with_line_and_column(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "inv.csv",
        INVOICE_HEADER
        + "1,A,2024-01-02,2024-02-01,10.00\n"  # line 2: fine
        + "2,A,2024-13-02,2024-02-01,10.00\n"  # line 3: month 13
        + "3,A,02/01/2024,2024-02-01,10.00\n"  # line 4: not ISO
        + '4,A,2024-01-02,2024-02-01,"1,234.50"\n'  # line 5: thousands separator
        + "5,A,2024-01-02,2024-02-01,1.005\n"  # line 6: three decimals
        + "6,A,2024-01-02,2024-02-01,-5.00\n"  # line 7: negative invoice
        + " ,A,2024-01-02,2024-02-01,5.00\n"  # line 8: empty number
        + "8,*,2024-01-02,2024-02-01,5.00\n"  # line 9: reserved partner id
        + "9,A,2024-01-02\n"  # line 10: short row
        + "10,A,2024-01-02,2024-02-01,5,00\n"  # line 11: decimal comma, one field too many
        + "11,A,2023-02-29,2024-02-01,5.00\n",  # line 12: not a leap year
    )
    found = problems(path)
    assert found == [
        f"{path}:3: invoice_date: '2024-13-02' is not a date of the calendar",
        f"{path}:4: invoice_date: expected a date YYYY-MM-DD, found '02/01/2024'",
        f"{path}:5: amount: expected an amount with at most 2 decimals such as 1234.50, found '1,234.50'",
        f"{path}:6: amount: expected an amount with at most 2 decimals such as 1234.50, found '1.005'",
        f"{path}:7: amount: an invoice amount must not be negative, found '-5.00'",
        f"{path}:8: invoice_number: empty",
        f"{path}:9: partner_id: '*' is reserved for the portfolio row",
        f"{path}:10: due_date: missing (the row has 3 fields, the header 5)",
        f"{path}:11: row: 6 fields where the header has 5 (a comma inside an unquoted value, such as a decimal comma?)",
        f"{path}:12: invoice_date: '2023-02-29' is not a date of the calendar",
    ]
    with pytest.raises(LedgerError, match=r"inv\.csv: 10 problems\n  .*inv\.csv:3: invoice_date"):
        read_invoices(path)


def test_a_value_over_two_lines_keeps_line_numbers(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "inv.csv",
        INVOICE_HEADER
        + '"multi\nline",A,2024-01-02,2024-02-01,1.00\n2,A,2024-01-02,2024-02-01,x\n',
    )
    assert problems(path) == [
        f"{path}:4: amount: expected an amount with at most 2 decimals such as 1234.50, found 'x'"
    ]


def test_missing_header_columns(tmp_path: Path) -> None:
    path = write(
        tmp_path, "p.csv", "invoice_number,partner,payment_date,amount\n1,A,2024-01-01,1\n"
    )
    assert problems(path, read_payments) == [
        f"{path}:1: header: expected the columns invoice_number, partner_id, payment_date, "
        "amount; missing partner_id (found invoice_number, partner, payment_date, amount)"
    ]
    empty = write(tmp_path, "empty.csv", "")
    assert "missing invoice_number" in problems(empty, read_payments)[0]


def test_not_utf8_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "inv.csv"
    body = "".join(f"{n},A,2024-01-02,2024-02-01,1.00\n" for n in range(5000))
    path.write_bytes((INVOICE_HEADER + body).encode() + b"\xff\xfe,A,2024-01-02,2024-02-01,1\n")
    assert problems(path) == [f"{path}:5002: not UTF-8 text"]


def test_duplicate_invoice_of_one_partner(tmp_path: Path) -> None:
    invoices = write(
        tmp_path,
        "inv.csv",
        INVOICE_HEADER
        + "1,A,2024-01-02,2024-02-01,1.00\n1,B,2024-01-02,2024-02-01,1.00\n1,A,2024-01-05,2024-02-01,2.00\n",
    )
    payments = write(tmp_path, "p.csv", PAYMENT_HEADER)
    with pytest.raises(LedgerError) as caught:
        load_ledger(invoices, payments)
    assert caught.value.problems == [
        f"{invoices}:4: invoice_number: invoice '1' of partner 'A' appears again (first on line 2)"
    ]


def test_unreadable_file_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match=r"cannot read .*nope\.csv"):
        read_invoices(tmp_path / "nope.csv")
    with pytest.raises(UsageError, match="cannot read"):
        read_invoices(tmp_path)  # a directory


def test_unmatched_payments_are_kept_aside(tmp_path: Path) -> None:
    invoices = write(tmp_path, "inv.csv", INVOICE_HEADER + "1,A,2024-01-02,2024-02-01,10.00\n")
    payments = write(
        tmp_path,
        "p.csv",
        PAYMENT_HEADER + "1,A,2024-01-10,4.00\n1,B,2024-01-10,4.00\n2,A,2024-01-10,1\n",
    )
    ledger = load_ledger(invoices, payments)
    assert ledger.unmatched_payments == (3, 4)
    assert ledger.pay_cents == [400]
    assert ledger.inv_net == [600]
