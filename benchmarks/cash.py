"""Cash application benchmark: 1,000,000 open items and 200,000 remittance lines.

The corpus comes from ``tests/cash/generate.py`` (seeded: the same noise the corpus test
uses: typos, prefixes, PO references, short pays, discounts, overpayments, amount-only
lines and traps), scaled up to ``--partners`` partners of ``--lines`` lines and
``--background`` never-paid invoices each. Two measurements, each the median of ``--runs``:

- ``engine``: build the ledger's indexes from the open items in memory and apply every
  remittance (already canonical ``Remittance`` models) — the issue's target, under 10 s;
- ``end to end``: ``o2c cash apply`` in this process on the CSV and one 820 file written to
  ``benchmarks/data/``: reading the CSV, translating the 820 through the pipeline, applying,
  writing the JSON.

It also prints the match rate on matchable lines and the false applications (must be 0).

Usage: ``python -m benchmarks.cash [--partners 1000] [--lines 200] [--background 800]
[--runs 3] [--e2e-runs 3] [--strict]``; ``--e2e-runs 0`` skips the end-to-end part.
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import time
from pathlib import Path

from gateway.cash.apply import apply_payments
from gateway.cash.ledger import Ledger
from gateway.cash.results import CashRun, PaymentAdvice
from tests.cash.generate import Corpus, generate, write_820, write_open_items

DATA_DIR = Path(__file__).resolve().parent / "data"
SEED = 820
ENGINE_TARGET_S = 10.0


def _check(corpus: Corpus, run: CashRun) -> tuple[int, int, int]:
    """Lines matched right, matchable lines, false applications."""
    right = matchable = false = 0
    for payment, result in zip(corpus.payments, run.payments, strict=True):
        for truth, line in zip(payment.lines, result.lines, strict=True):
            matchable += truth.matchable
            if line.status == "unmatched":
                continue
            if truth.matchable and line.invoice_number == truth.truth:
                right += 1
            else:
                false += 1
    return right, matchable, false


def _engine(corpus: Corpus, advices: list[PaymentAdvice]) -> tuple[float, float, CashRun]:
    start, cpu = time.perf_counter(), time.process_time()
    ledger = Ledger(corpus.items)
    run = apply_payments(ledger, advices)
    return time.perf_counter() - start, time.process_time() - cpu, run


def _end_to_end(csv_path: Path, x12_path: Path) -> tuple[float, float, int]:
    from gateway.cli import main

    out = io.StringIO()
    start, cpu = time.perf_counter(), time.process_time()
    code = main(
        ["cash", "apply", "--open-items", str(csv_path), "--remittance", str(x12_path)], out=out
    )
    return time.perf_counter() - start, time.process_time() - cpu, code


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--partners", type=int, default=1000)
    parser.add_argument("--lines", type=int, default=200, help="remittance lines per partner")
    parser.add_argument("--background", type=int, default=800, help="unpaid invoices per partner")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--e2e-runs", type=int, default=3)
    parser.add_argument("--strict", action="store_true", help="exit 1 on a missed target")
    args = parser.parse_args()

    start = time.perf_counter()
    corpus = generate(
        SEED, partners=args.partners, lines_per_partner=args.lines, background=args.background
    )
    advices = [PaymentAdvice(p.model(), p.partner_id) for p in corpus.payments]
    lines = sum(len(p.lines) for p in corpus.payments)
    print(
        f"corpus: {len(corpus.items):,} open items, {len(advices):,} payments, {lines:,} lines "
        f"({args.partners} partners; generated in {time.perf_counter() - start:.1f} s)"
    )

    times: list[float] = []
    cpus: list[float] = []
    run = None
    for n in range(args.runs):
        took, cpu, run = _engine(corpus, advices)
        times.append(took)
        cpus.append(cpu)
        print(f"  engine run {n + 1}: {took:.2f} s wall, {cpu:.2f} s CPU", flush=True)
    assert run is not None
    engine = statistics.median(times)
    print(f"engine CPU time: median {statistics.median(cpus):.2f} s (this process alone)")
    right, matchable, false = _check(corpus, run)
    print(
        f"engine: median {engine:.2f} s of {args.runs} ({lines / engine:,.0f} lines/s); "
        f"target < {ENGINE_TARGET_S:.0f} s: {'met' if engine < ENGINE_TARGET_S else 'MISSED'}"
    )
    print(
        f"quality: {right:,} of {matchable:,} matchable lines matched "
        f"({right / max(matchable, 1):.2%}), false applications: {false}"
    )

    ok = engine < ENGINE_TARGET_S and false == 0
    if args.e2e_runs > 0:
        DATA_DIR.mkdir(exist_ok=True)
        csv_path = DATA_DIR / "cash-open-items.csv"
        x12_path = DATA_DIR / "cash-remittances.820"
        write_open_items(corpus.items, csv_path)
        write_820(corpus.payments, x12_path)
        size = (csv_path.stat().st_size + x12_path.stat().st_size) / 1e6
        print(f"files: {csv_path.name}, {x12_path.name} ({size:.1f} MB together)")
        os.environ.setdefault("O2C_PARTNERS_DIR", str(DATA_DIR / "no-partners"))
        e2e: list[float] = []
        for n in range(args.e2e_runs):
            took, cpu, code = _end_to_end(csv_path, x12_path)
            e2e.append(took)
            print(f"  end-to-end run {n + 1}: {took:.2f} s wall, {cpu:.2f} s CPU (exit {code})")
        print(f"end to end (CSV + 820 parse + apply + JSON): median {statistics.median(e2e):.2f} s")
    return 1 if args.strict and not ok else 0


if __name__ == "__main__":
    sys.exit(main())
