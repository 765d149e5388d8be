"""DSO per trading partner over a million invoices: the computation and the CSV load.

Generates (seeded, so every run sees the same data) ``--invoices`` invoices across
``--partners`` partners over the 24 months up to the as-of date, with realistic payments:
partner sizes follow a Zipf-like curve; terms are net 30/45/60; each partner pays a few days
early or up to ~45 days late on average; about 88 % of invoices are paid in one payment,
5 % in two, 3 % short-paid, 1 % overpaid and the rest not paid; payments after the as-of
date exist too (they are ignored). The CSV exports are written to ``benchmarks/data/``
(gitignored) and reused when already there.

Printed, wall-clock and CPU seconds, each the median of ``--runs`` runs in this process (the
load average is printed too: on a busy machine wall time grows, CPU time much less):

- ``load CSV``: ``read_invoices`` + ``read_payments`` (parse and check every cell);
- ``link``: ``Ledger.from_columns`` (sort by partner and date, link payments to invoices);
- ``compute``: ``gateway.dso.compute`` on the linked ledger, every figure for every partner
  and the portfolio row, Decimals included: the issue's target is under 3 s;
- ``trend``: ``gateway.dso.trend`` (12 month-end reports), once, for information.

Usage: ``python -m benchmarks.dso [--invoices 1000000] [--partners 200] [--runs 3] [--strict]``;
``--strict`` exits 1 when compute misses 3 s.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import resource
import statistics
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from gateway.dso import Ledger, compute, read_invoices, read_payments, trend

if TYPE_CHECKING:
    from collections.abc import Callable

DATA = Path(__file__).resolve().parent / "data"
AS_OF = dt.date(2025, 6, 30)
TARGET_S = 3.0


def generate(invoices: int, partners: int, seed: int) -> tuple[list[str], list[str]]:
    """CSV lines (header first) of the invoices and payments exports."""
    rng = random.Random(seed)
    weights = [1 / (k + 1) ** 0.8 for k in range(partners)]
    habits = [(rng.choice((30, 45, 60)), rng.uniform(-5, 45)) for _ in range(partners)]
    first = AS_OF.toordinal() - 730
    inv_lines = ["invoice_number,partner_id,invoice_date,due_date,amount"]
    pay_lines = ["invoice_number,partner_id,payment_date,amount"]
    owners = rng.choices(range(partners), weights=weights, k=invoices)
    for n, k in enumerate(owners):
        terms, delay = habits[k]
        day = first + rng.randrange(760)  # a few invoices fall after the as-of date
        cents = rng.randrange(5_000, 5_000_000)
        number, partner = f"INV{n:08d}", f"P{k:03d}"
        inv_date = dt.date.fromordinal(day).isoformat()
        due = dt.date.fromordinal(day + terms).isoformat()
        inv_lines.append(f"{number},{partner},{inv_date},{due},{cents // 100}.{cents % 100:02d}")
        paid_on = day + terms + max(-terms, round(rng.gauss(delay, 12)))
        fate = rng.random()
        if fate < 0.88:
            parts = [cents]
        elif fate < 0.93:
            parts = [cents // 2, cents - cents // 2]
        elif fate < 0.96:
            parts = [cents * 9 // 10]
        elif fate < 0.97:
            parts = [cents + 1_000]
        else:
            parts = []
        for i, part in enumerate(parts):
            when = dt.date.fromordinal(paid_on + 20 * i).isoformat()
            pay_lines.append(f"{number},{partner},{when},{part // 100}.{part % 100:02d}")
    return inv_lines, pay_lines


def exports(invoices: int, partners: int, seed: int) -> tuple[Path, Path]:
    """The two CSV files, written once per size and seed."""
    DATA.mkdir(exist_ok=True)
    stem = f"dso_{invoices}_{partners}_seed{seed}"
    inv_path, pay_path = DATA / f"{stem}_invoices.csv", DATA / f"{stem}_payments.csv"
    if not (inv_path.exists() and pay_path.exists()):
        print(f"generating {invoices:,} invoices in {DATA} ...", flush=True)
        inv_lines, pay_lines = generate(invoices, partners, seed)
        inv_path.write_text("\n".join(inv_lines) + "\n", encoding="utf-8")
        pay_path.write_text("\n".join(pay_lines) + "\n", encoding="utf-8")
    return inv_path, pay_path


def median_time(runs: int, work: Callable[[], object]) -> tuple[float, float]:
    """Median wall-clock and CPU seconds of ``runs`` calls."""
    walls, cpus = [], []
    for _ in range(runs):
        wall, cpu = time.perf_counter(), time.process_time()
        work()
        cpus.append(time.process_time() - cpu)
        walls.append(time.perf_counter() - wall)
    return statistics.median(walls), statistics.median(cpus)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--invoices", type=int, default=1_000_000)
    parser.add_argument("--partners", type=int, default=200)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=6)
    parser.add_argument("--strict", action="store_true")
    args = parser.parse_args()
    inv_path, pay_path = exports(args.invoices, args.partners, args.seed)

    def load() -> object:
        return read_invoices(inv_path), read_payments(pay_path)

    load_s = median_time(args.runs, load)
    inv_cols, pay_cols = read_invoices(inv_path), read_payments(pay_path)
    link_s = median_time(args.runs, lambda: Ledger.from_columns(inv_cols, pay_cols))
    ledger = Ledger.from_columns(inv_cols, pay_cols)
    compute_s = median_time(args.runs, lambda: compute(ledger, AS_OF, 90))
    trend_s = median_time(1, lambda: trend(ledger, AS_OF, 12))
    portfolio = compute(ledger, AS_OF, 90).portfolio
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    print(
        f"{len(ledger.inv_cents):,} invoices, {len(ledger.pay_cents):,} payments, "
        f"{len(ledger.partner_ids)} partners, as of {AS_OF}, median of {args.runs} runs"
    )
    print(
        f"  load average {' '.join(f'{x:.1f}' for x in os.getloadavg())} on {os.cpu_count()} CPUs"
    )
    print("                              wall s    CPU s")
    print(f"  load CSV (parse + check)   {load_s[0]:7.2f}  {load_s[1]:7.2f}")
    print(f"  link (sort + link)         {link_s[0]:7.2f}  {link_s[1]:7.2f}")
    verdict = "ok" if compute_s[0] < TARGET_S else "MISSED"
    print(
        f"  compute (all figures)      {compute_s[0]:7.2f}  {compute_s[1]:7.2f}"
        f"   target < {TARGET_S:.0f} s wall: {verdict}"
    )
    print(f"  trend (12 month-ends)      {trend_s[0]:7.2f}  {trend_s[1]:7.2f}   (one run)")
    print(f"  peak RSS                   {rss_mb:7.0f} MB")
    print(
        f"  portfolio: AR {portfolio.ar}, sales {portfolio.sales}, DSO {portfolio.dso}, "
        f"BPDSO {portfolio.best_possible_dso}, ADD {portfolio.add}, "
        f"countback {portfolio.countback_dso}, ADP {portfolio.average_days_to_pay}"
    )
    return 1 if args.strict and compute_s[0] >= TARGET_S else 0


if __name__ == "__main__":
    sys.exit(main())
