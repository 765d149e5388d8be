"""``o2c dso``: the JSON contract, the table, and exit codes 0 / 1 / 2."""

from __future__ import annotations

import io
import json
from typing import TYPE_CHECKING

import pytest

from gateway.cli import main

if TYPE_CHECKING:
    from pathlib import Path

INVOICES = """invoice_number,partner_id,invoice_date,due_date,amount
A1,ACME,2024-01-15,2024-02-14,1000.00
A2,ACME,2024-03-10,2024-04-09,500.00
B1,BETA,2024-03-20,2024-03-25,300
"""
PAYMENTS = """invoice_number,partner_id,payment_date,amount
A1,ACME,2024-02-20,1000
A2,ACME,2024-03-15,200.00
A9,ACME,2024-03-15,5.00
"""
ROW_KEYS = [
    "ar",
    "sales",
    "dso",
    "best_possible_dso",
    "add",
    "countback_dso",
    "aging",
    "average_days_to_pay",
]


def run(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    return main(["dso", *argv], out=out), out.getvalue()


@pytest.fixture
def files(tmp_path: Path) -> tuple[str, str]:
    (tmp_path / "inv.csv").write_text(INVOICES, encoding="utf-8")
    (tmp_path / "pay.csv").write_text(PAYMENTS, encoding="utf-8")
    return str(tmp_path / "inv.csv"), str(tmp_path / "pay.csv")


def test_json(files: tuple[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run("--invoices", files[0], "--payments", files[1], "--as-of", "2024-03-31")
    assert code == 0
    data = json.loads(out)
    assert list(data) == ["as_of", "period_days", "partners"]
    assert (data["as_of"], data["period_days"]) == ("2024-03-31", 90)
    assert list(data["partners"]) == ["ACME", "BETA", "*"]
    for row in data["partners"].values():
        assert list(row) == ROW_KEYS
        assert list(row["aging"]) == ["current", "1_30", "31_60", "61_90", "over_90"]
    # ACME: AR 300 (A2 500 − 200), sales 1500 in (01-01, 03-31]: 300 / 1500 × 90 = 18.
    # Countback: March sales 500 > 300: 300 / 500 × 31 = 18.6. A1 paid after 36 days.
    assert data["partners"]["ACME"] == {
        "ar": "300.00",
        "sales": "1500.00",
        "dso": "18.00",
        "best_possible_dso": "18.00",
        "add": "0.00",
        "countback_dso": "18.60",
        "aging": {
            "current": "300.00",
            "1_30": "0.00",
            "31_60": "0.00",
            "61_90": "0.00",
            "over_90": "0.00",
        },
        "average_days_to_pay": "36.00",
    }
    # BETA: 300 open, 6 days past due; March covers it whole: 31 days.
    assert data["partners"]["BETA"]["add"] == "90.00"
    assert data["partners"]["BETA"]["countback_dso"] == "31.00"
    assert data["partners"]["BETA"]["average_days_to_pay"] is None
    # All: 600 / 1800 × 90 = 30; countback 600 / 800 × 31 = 23.25.
    assert data["partners"]["*"]["dso"] == "30.00"
    assert data["partners"]["*"]["countback_dso"] == "23.25"
    assert "1 payment(s) name no invoice" in capsys.readouterr().err


def test_period_days(files: tuple[str, str]) -> None:
    code, out = run(
        "--invoices",
        files[0],
        "--payments",
        files[1],
        "--as-of",
        "2024-03-31",
        "--period-days",
        "30",
    )
    assert code == 0
    data = json.loads(out)
    assert data["period_days"] == 30
    # Window (03-01, 03-31]: ACME sales 500: 300 / 500 × 30 = 18.
    assert data["partners"]["ACME"]["sales"] == "500.00"
    assert data["partners"]["ACME"]["dso"] == "18.00"


def test_table(files: tuple[str, str]) -> None:
    code, out = run(
        "--invoices", files[0], "--payments", files[1], "--as-of", "2024-03-31", "--format", "table"
    )
    assert code == 0
    lines = out.splitlines()
    assert lines[0].startswith("DSO as of 2024-03-31, sales period 90 days")
    assert lines[1].split() == [
        "partner",
        "AR",
        "sales",
        "DSO",
        "BPDSO",
        "ADD",
        "countback",
        "current",
        "1-30",
        "31-60",
        "61-90",
        "over",
        "90",
        "ADP",
    ]
    assert lines[2].split() == [
        "ACME",
        "300.00",
        "1,500.00",
        "18.00",
        "18.00",
        "0.00",
        "18.60",
        "300.00",
        "0.00",
        "0.00",
        "0.00",
        "0.00",
        "36.00",
    ]
    assert lines[3].split()[0] == "BETA" and lines[3].split()[-1] == "-"
    assert lines[4].startswith("* (all)")


def test_bad_csv_exits_1_with_file_line_and_column(
    tmp_path: Path, files: tuple[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text(INVOICES + "A3,ACME,2024-03-32,2024-04-30,1.00\n", encoding="utf-8")
    code, out = run("--invoices", str(bad), "--payments", files[1], "--as-of", "2024-03-31")
    assert (code, out) == (1, "")
    assert (
        capsys.readouterr().err
        == f"o2c: {bad}:5: invoice_date: '2024-03-32' is not a date of the calendar\n"
    )


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--as-of", "2024-3-31"], "expected a date YYYY-MM-DD, found '2024-3-31'"),
        (["--as-of", "2024-03-31", "--period-days", "0"], "1 to 3660, found '0'"),
        (["--as-of", "2024-03-31", "--format", "xml"], "invalid choice"),
        ([], "required: --as-of"),
    ],
)
def test_usage_errors_exit_2(
    files: tuple[str, str], argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _ = run("--invoices", files[0], "--payments", files[1], *argv)
    assert code == 2
    assert message in capsys.readouterr().err


def test_missing_file_exits_2(
    tmp_path: Path, files: tuple[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    code, _ = run(
        "--invoices", str(tmp_path / "none.csv"), "--payments", files[1], "--as-of", "2024-03-31"
    )
    assert code == 2
    assert "cannot read" in capsys.readouterr().err
