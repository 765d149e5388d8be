"""Orders per second into a real Tryton 8.2 through the connector, at 1, 4 and 8 at once.

Starts trytond on a copy of the test template database (``tests.support.tryton``: built
once, then cached), and pushes ``--orders`` purchase orders (BigBox's sample 850, three
lines with unit conversions, a fresh PO number each) with ``push_order``: each creates
the sale, quotes and confirms it over JSON-RPC. Calls run ``c`` at a time for each
concurrency ``c``; the figure is the median of ``--runs`` runs, each on a new connector
(so each pays its login). Also printed: the median seconds per order as seen by one call.

Usage: ``python -m benchmarks.erp [--orders 30] [--runs 3] [--concurrency 1,4,8]``.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
import uuid
from pathlib import Path

from pydantic import SecretStr

from adapters.erp_tryton import TrytonConnector, TrytonSettings
from gateway.model import PurchaseOrder
from gateway.partners import PartnerRegistry
from gateway.pipeline.process import SetResult, translate
from tests.support.tryton import TrytonServer, run_server, template_database

ROOT = Path(__file__).resolve().parent.parent


class _TempDirs:
    """The one method of pytest's ``TempPathFactory`` the template builder uses."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def mktemp(self, name: str) -> Path:
        return Path(tempfile.mkdtemp(prefix=f"{name}-", dir=self.root))


def sample_order() -> PurchaseOrder:
    source = (ROOT / "partners" / "bigbox" / "samples" / "850.x12").read_bytes()
    (result,) = [
        r for r in translate(source, mappings_dir=ROOT / "mappings") if isinstance(r, SetResult)
    ]
    assert isinstance(result.document, PurchaseOrder)
    return result.document


async def one_run(
    server: TrytonServer,
    partners: PartnerRegistry,
    order: PurchaseOrder,
    orders: int,
    concurrency: int,
) -> tuple[float, float]:
    """Orders per second and median seconds per call, for one run."""
    settings = TrytonSettings(
        url=server.url,
        database=server.database,
        user=server.user,
        password_secret="BENCH",
        max_connections=max(concurrency, 1),
    )
    erp = TrytonConnector(settings, SecretStr(server.password), partners=partners)
    limit = asyncio.Semaphore(concurrency)
    durations: list[float] = []

    async def push() -> None:
        fresh = order.model_copy(update={"po_number": f"B{uuid.uuid4().hex[:12].upper()}"})
        async with limit:
            started = time.perf_counter()
            result = await erp.push_order(fresh, partner_id="bigbox")
            durations.append(time.perf_counter() - started)
            assert result.created and result.status == "processing"

    try:
        await erp.health()  # log in before the clock starts
        started = time.perf_counter()
        await asyncio.gather(*(push() for _ in range(orders)))
        elapsed = time.perf_counter() - started
    finally:
        await erp.close()
    return orders / elapsed, statistics.median(durations)


async def bench(server: TrytonServer, orders: int, runs: int, levels: list[int]) -> None:
    partners = PartnerRegistry.load(ROOT / "partners")
    order = sample_order()
    await one_run(server, partners, order, 2, 1)  # warm up: party, addresses, caches
    print(f"{'concurrent':>10} {'orders/s':>9} {'s/order':>8}   runs (orders/s)")
    for level in levels:
        results = [await one_run(server, partners, order, orders, level) for _ in range(runs)]
        rates = [rate for rate, _ in results]
        per_call = statistics.median(seconds for _, seconds in results)
        shown = ", ".join(f"{r:.2f}" for r in rates)
        print(f"{level:>10} {statistics.median(rates):>9.2f} {per_call:>8.3f}   {shown}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=30)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--concurrency", default="1,4,8")
    args = parser.parse_args()
    levels = [int(c) for c in args.concurrency.split(",")]
    with tempfile.TemporaryDirectory(prefix="o2c-bench-erp-") as tmp:
        template, built = template_database(_TempDirs(Path(tmp)))  # type: ignore[arg-type]
        with run_server(template, Path(tmp) / "server", build_seconds=built) as server:
            print(
                f"Tryton {server.url} (template built in {built:.0f} s, started in "
                f"{server.startup_seconds:.1f} s); {args.orders} orders per run, "
                f"median of {args.runs} runs"
            )
            asyncio.run(bench(server, args.orders, args.runs, levels))


if __name__ == "__main__":
    main()
