"""``o2c cash apply`` on real 820 files: the JSON contract, the table, and bad input."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from gateway.cash.progress import ProgressBar
from gateway.cli import main
from tests.cash.generate import generate, write_820, write_open_items

ROOT = Path(__file__).parents[2]
HEADER = (
    "invoice_number,partner_id,po_number,invoice_date,due_date,amount,open_amount,currency,"
    "discount_percent,discount_days\n"
)
PAYMENT_KEYS = ["trace_number", "payer_id", "payment_amount", "lines", "unapplied_amount"]
LINE_KEYS = [
    "index",
    "reference",
    "invoice_number",
    "status",
    "applied_amount",
    "discount_amount",
    "adjustment_amount",
    "confidence",
    "reason",
]


def run(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    return main(["cash", "apply", *argv], out=out), out.getvalue()


@pytest.fixture(autouse=True)
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("O2C_PARTNERS_DIR", str(ROOT / "partners"))
    monkeypatch.setenv("O2C_MAPPINGS_DIR", str(ROOT / "mappings"))
    monkeypatch.setenv("O2C_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.delenv("O2C_CONFIG_FILE", raising=False)
    monkeypatch.chdir(tmp_path)


def csv_file(tmp_path: Path, rows: str, name: str = "open.csv") -> Path:
    path = tmp_path / name
    path.write_text(HEADER + rows, encoding="utf-8")
    return path


INITECH = """\
90001,initech,4500011111,2024-03-15,2024-04-29,520.00,520.00,USD,1,15
90002,initech,4500011234,2024-03-18,2024-05-02,740.50,740.50,USD,1,15
90003,initech,4500011302,2024-04-01,2024-05-16,245.00,245.00,USD,2,30
90004,initech,4500011999,2024-04-01,2024-05-16,245.00,245.00,USD,,
"""


def test_initech_820_quoting_po_numbers(tmp_path: Path) -> None:
    open_items = csv_file(tmp_path, INITECH)
    sample = ROOT / "partners/initech/samples/820.x12"
    code, out = run("--open-items", str(open_items), "--remittance", str(sample))
    assert code == 0
    doc = json.loads(out)
    assert list(doc) == ["payments", "summary"]
    [payment] = doc["payments"]
    assert list(payment) == PAYMENT_KEYS
    assert all(list(line) == LINE_KEYS for line in payment["lines"])
    # the profile maps ISA ZZ:INITECHAP to partner "initech"
    assert (payment["trace_number"], payment["payer_id"], payment["payment_amount"]) == (
        "ACH240422000077",
        "initech",
        "1480.50",
    )
    got = [
        (
            line["index"],
            line["invoice_number"],
            line["status"],
            line["applied_amount"],
            line["discount_amount"],
            line["adjustment_amount"],
            line["confidence"],
        )
        for line in payment["lines"]
    ]
    assert got == [
        # 520.00 short 20.00 with ADX*-20.00*01: a deduction
        (0, "90001", "partial", "500.00", "0.00", "20.00", 0.9),
        (1, "90002", "matched", "740.50", "0.00", "0.00", 0.9),
        # 2 % of 245.00 is 4.90, the partner took 5.00: not earned, a short pay
        (2, "90003", "partial", "240.00", "0.00", "0.00", 0.9),
    ]
    assert payment["unapplied_amount"] == "0.00"
    summary = doc["summary"]
    assert (summary["matched"], summary["partial"], summary["unmatched"]) == (1, 2, 0)
    assert (summary["match_rate"], summary["applied_amount"]) == (1.0, "1480.50")
    assert summary["total_mismatches"] == []


def test_shared_sample_with_discounts_and_adx_deductions(tmp_path: Path, samples_dir: Path) -> None:
    # 3 % 60 days: 139.51 allowed on 26801 and 142.62 on 26927; both paid 2019-10-29, in time
    open_items = csv_file(
        tmp_path,
        "26801,TPTESTUS00,1016071221,2019-09-04,2019-10-04,4650.41,4650.41,USD,3,60\n"
        "26927,TPTESTUS00,3016440142,2019-09-10,2019-10-10,4753.92,4753.92,USD,3,60\n"
        "26801,SOMEONE-ELSE,,2019-09-04,2019-10-04,4408.75,4408.75,USD,,\n",
    )
    sample = samples_dir / "820/indice_820_005010_adx_deductions.edi"
    code, out = run("--open-items", str(open_items), "--remittance", str(sample))
    assert code == 0
    [payment] = json.loads(out)["payments"]
    assert (payment["payer_id"], payment["payment_amount"]) == ("TPTESTUS00", "21298.97")
    first, second, *rest = payment["lines"]
    assert (first["status"], first["applied_amount"], first["discount_amount"]) == (
        "partial",
        "4408.75",
        "97.90",
    )
    assert first["adjustment_amount"] == "143.76" and "reason 59" in first["reason"]
    assert (second["status"], second["applied_amount"], second["discount_amount"]) == (
        "matched",
        "4653.84",
        "100.08",
    )
    assert [line["index"] for line in rest] == [2, 3, 4, 5, 6]
    assert all(line["status"] == "unmatched" for line in rest)
    assert all(line["invoice_number"] is None for line in rest)
    # 21298.97 paid, 4408.75 + 4653.84 applied
    assert payment["unapplied_amount"] == "12236.38"


def test_partner_option_overrides_the_isa_sender(tmp_path: Path) -> None:
    open_items = csv_file(tmp_path, INITECH.replace("initech", "C-100"))
    sample = ROOT / "partners/initech/samples/820.x12"
    code, out = run(
        "--open-items", str(open_items), "--remittance", str(sample), "--partner", "C-100"
    )
    assert code == 0
    [payment] = json.loads(out)["payments"]
    assert payment["payer_id"] == "C-100"
    assert [line["invoice_number"] for line in payment["lines"]] == ["90001", "90002", "90003"]


def test_table_format(tmp_path: Path) -> None:
    open_items = csv_file(tmp_path, INITECH)
    sample = ROOT / "partners/initech/samples/820.x12"
    code, out = run(
        "--open-items", str(open_items), "--remittance", str(sample), "--format", "table"
    )
    assert code == 0
    assert out.startswith("payment ACH240422000077  payer initech  amount 1480.50")
    assert "1 matched, 2 partial, 0 unmatched; match rate 100.00 %" in out


def test_generated_corpus_through_the_cli(tmp_path: Path) -> None:
    corpus = generate(31, partners=5, lines_per_partner=60, background=40)
    write_open_items(corpus.items, tmp_path / "open.csv")
    write_820(corpus.payments, tmp_path / "pay.820")
    code, out = run("--open-items", "open.csv", "--remittance", "pay.820")
    assert code == 0
    doc = json.loads(out)
    truth = {p.trace_number: p for p in corpus.payments}
    assert len(doc["payments"]) == len(corpus.payments)
    matchable = right = 0
    for payment in doc["payments"]:
        expected = truth[payment["trace_number"]]
        assert payment["payer_id"] == expected.partner_id
        for want, line in zip(expected.lines, payment["lines"], strict=True):
            matchable += want.matchable
            if line["status"] != "unmatched":
                assert want.matchable and line["invoice_number"] == want.truth, line
                right += 1
    assert right / matchable >= 0.97
    flagged = {m["trace_number"] for m in doc["summary"]["total_mismatches"]}
    assert flagged == {p.trace_number for p in corpus.payments if p.mismatched}


def test_bad_csv_names_file_line_and_column(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    open_items = csv_file(
        tmp_path,
        "1,ACME,,2024-01-01,2024-01-31,100.00,100.00,USD,,\n"
        "2,ACME,,2024-13-01,2024-01-31,1O0.00,100.00,USD,,\n"
        "1,ACME,,2024-01-01,2024-01-31,100.00,100.00,USD,,\n",
    )
    sample = ROOT / "partners/initech/samples/820.x12"
    code, out = run("--open-items", str(open_items), "--remittance", str(sample))
    assert (code, out) == (1, "")
    err = capsys.readouterr().err
    assert f"{open_items}:3: invoice_date: expected a date as YYYY-MM-DD, found '2024-13-01'" in err
    assert f"{open_items}:3: amount: expected an amount such as 1234.50, found '1O0.00'" in err
    assert f"{open_items}:4: invoice_number: '1' of partner 'ACME' is already on line 2" in err
    assert "Traceback" not in err


def test_csv_without_the_contract_columns(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "open.csv"
    path.write_text("invoice,amount\n1,2\n", encoding="utf-8")
    code, _ = run("--open-items", str(path), "--remittance", "x.820")
    assert code == 1
    assert f"{path}:1: header lacks invoice_number, partner_id" in capsys.readouterr().err


def test_missing_files_are_usage_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _ = run("--open-items", "nope.csv", "--remittance", "x.820")
    assert code == 2
    assert "cannot read nope.csv" in capsys.readouterr().err
    open_items = csv_file(tmp_path, INITECH)
    code, _ = run("--open-items", str(open_items), "--remittance", "missing.820")
    assert code == 2
    assert "cannot read missing.820" in capsys.readouterr().err


@pytest.mark.parametrize(
    "name", ["oopfactory_820_wikipedia_backslash.txt", "oopfactory_820_v001010_ctl_mismatch.txt"]
)
def test_bad_820_reports_its_x12_errors(
    name: str, tmp_path: Path, samples_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    open_items = csv_file(tmp_path, INITECH)
    good = ROOT / "partners/initech/samples/820.x12"
    code, out = run(
        "--open-items", str(open_items), "--remittance", str(samples_dir / "820" / name),
        "--remittance", str(good),
    )  # fmt: skip
    assert code == 1
    doc = json.loads(out)  # the good file is still applied, stdout is still clean JSON
    assert [p["trace_number"] for p in doc["payments"]] == ["ACH240422000077"]
    assert doc["summary"]["rejected_sets"] >= 1
    err = capsys.readouterr().err
    assert name in err and "Traceback" not in err


def test_a_file_that_is_not_x12(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    open_items = csv_file(tmp_path, INITECH)
    junk = tmp_path / "junk.820"
    junk.write_text("hello\n", encoding="utf-8")
    code, out = run("--open-items", str(open_items), "--remittance", str(junk))
    assert code == 1
    assert json.loads(out)["payments"] == []
    assert "junk.820" in capsys.readouterr().err


def test_an_850_is_not_a_remittance(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    open_items = csv_file(tmp_path, INITECH)
    code, out = run(
        "--open-items",
        str(open_items),
        "--remittance",
        str(ROOT / "partners/bigbox/samples/850.x12"),
    )
    assert code == 1
    assert json.loads(out)["payments"] == []
    assert "is not a remittance (820)" in capsys.readouterr().err


def test_progress_bar_stays_quiet_for_small_runs_and_off_stdout() -> None:
    small = io.StringIO()
    bar = ProgressBar(small, 500, "cash apply")
    bar(250)
    bar.close()
    assert small.getvalue() == ""

    large = io.StringIO()  # not a terminal: a plain line per quarter
    bar = ProgressBar(large, 200_000, "cash apply")
    for done in range(0, 200_001, 10_000):
        bar(done)
    bar.close()
    assert large.getvalue().splitlines() == [
        "cash apply: 0% (0/200000)",
        "cash apply: 25% (50000/200000)",
        "cash apply: 50% (100000/200000)",
        "cash apply: 75% (150000/200000)",
        "cash apply: 100% (200000/200000)",
    ]
