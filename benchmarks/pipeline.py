"""End-to-end pipeline throughput and latency: HTTP POST of an 850 to delivered at the ERP.

For each database (SQLite, PostgreSQL) and worker count (1, 4) this starts real
``o2c serve`` processes (one ``--role api`` process and the workers: on
PostgreSQL one ``--role worker`` process per worker, claiming with SKIP LOCKED;
on SQLite one worker process running N worker tasks, since SQLite has one
writer), posts ``--docs`` interchanges of one 850 with 10 lines each through the
HTTP API with 32 concurrent clients, and waits until every set is delivered to
the folder ERP connector. It prints per configuration, as the median of
``--runs`` runs:

- sets/s: transaction sets delivered per second, first POST to last delivery;
- p50/p99 latency from receipt (the file's ``created_at``) to delivery of its set;
- p99 from receipt to the 997 being ready (the ack document's ``created_at``);
- the reference: a raw asyncpg INSERT loop of the same number of rows, one
  transaction each, in the same run (PostgreSQL rows only).

Usage: ``python -m benchmarks.pipeline [--docs 2000] [--runs 3] [--db sqlite,postgresql]
[--workers 1,4]``. PostgreSQL at ``$O2C_BENCH_PG`` (default
``postgresql://postgres@127.0.0.1:5432``); a throwaway database is made per run.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import aiohttp
import asyncpg

from benchmarks.gen850 import DATE6, DATE8, TERM, TIME4, transaction_set

ROOT = Path(__file__).resolve().parent.parent
O2C = [sys.executable, "-m", "gateway.cli"]
PG = os.environ.get("O2C_BENCH_PG", "postgresql://postgres@127.0.0.1:5432")
SENDER, RECEIVER = "BENCHBUYER", "O2CGATEWAY"

PROFILE = f"""\
id: benchbuyer
display_name: Benchmark Buyer
identity:
  isa: [{{qualifier: ZZ, id: {SENDER}}}]
  gs_ids: [{SENDER}]
x12:
  "850": {{version: "004010", functional_ack: "997"}}
  duplicate_window_days: 1
mappings:
  "850": {{base: x12/850/004010}}
channels:
  inbound: {{kind: folder, path: inbound/benchbuyer}}
  outbound: {{kind: folder, path: outbound/benchbuyer}}
"""


def interchange(n: int, rng: random.Random) -> bytes:
    """One interchange holding one 850 with 10 lines; ``n`` makes ISA13 and the PO unique."""
    body, _ = transaction_set(rng, 1, 10)
    body = re.sub(r"BEG\*00\*SA\*PO\d{9}", f"BEG*00*SA*B{n:08d}", body, count=1)
    head = (
        f"ISA*00*{'':10}*00*{'':10}*ZZ*{SENDER:<15}*ZZ*{RECEIVER:<15}"
        f"*{DATE6}*{TIME4}*U*00401*{n:09d}*0*P*>{TERM}"
        f"GS*PO*{SENDER}*{RECEIVER}*{DATE8}*{TIME4}*{n}*X*004010{TERM}"
    )
    tail = f"GE*1*{n}{TERM}IEA*1*{n:09d}{TERM}"
    return (head + body + tail).encode()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Gateway:
    """The o2c processes of one configuration, started from a settings file."""

    def __init__(self, workdir: Path, database_url: str, workers: int, processes: int) -> None:
        self.workdir = workdir
        self.port = free_port()
        self.env = {
            **os.environ,
            "O2C_DATABASE_URL": database_url,
            "O2C_DATA_DIR": str(workdir / "data"),
            "O2C_PARTNERS_DIR": str(workdir / "partners"),
            "O2C_MAPPINGS_DIR": str(ROOT / "mappings"),
            "O2C_HTTP_PORT": str(self.port),
            "O2C_SFTP_PORT": str(free_port()),
            "O2C_CONFIG_FILE": str(workdir / "o2c.yaml"),
            "PYTHONPATH": str(ROOT),
        }
        (workdir / "partners").mkdir(parents=True)
        (workdir / "partners" / "benchbuyer.yaml").write_text(PROFILE)
        per_process = workers // processes
        (workdir / "o2c.yaml").write_text(
            f"workers: {per_process}\nworker_batch: 50\n"
            f"erp: {{connector: folder, path: {workdir / 'erp'}}}\n"
        )
        self.processes = processes
        self.procs: list[subprocess.Popen[bytes]] = []

    def start(self) -> None:
        subprocess.run([*O2C, "db", "upgrade"], env=self.env, check=True, capture_output=True)
        key = (
            subprocess.run(
                [*O2C, "apikeys", "create", "--partner", "benchbuyer"],
                env=self.env,
                check=True,
                capture_output=True,
                text=True,
            )
            .stdout.strip()
            .splitlines()[-1]
        )
        self.key = key
        log = (self.workdir / "log").open("ab")
        self.procs.append(
            subprocess.Popen([*O2C, "serve", "--role", "api"], env=self.env, stdout=log, stderr=log)
        )
        for _ in range(self.processes):
            self.procs.append(
                subprocess.Popen(
                    [*O2C, "serve", "--role", "worker"], env=self.env, stdout=log, stderr=log
                )
            )

    def stop(self) -> None:
        for p in self.procs:
            p.send_signal(signal.SIGTERM)
        for p in self.procs:
            try:
                p.wait(20)
            except subprocess.TimeoutExpired:
                p.kill()


async def wait_http(url: str) -> None:
    async with aiohttp.ClientSession() as session:
        for _ in range(300):
            try:
                async with session.get(url + "/healthz") as r:
                    if r.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)
    raise RuntimeError("the gateway did not come up")


async def post_all(url: str, key: str, docs: list[bytes]) -> float:
    queue: asyncio.Queue[bytes] = asyncio.Queue()
    for d in docs:
        queue.put_nowait(d)
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/edi-x12"}

    async def client(session: aiohttp.ClientSession) -> None:
        while not queue.empty():
            body = queue.get_nowait()
            async with session.post(url + "/api/v1/documents", data=body, headers=headers) as r:
                if r.status != 202:
                    raise RuntimeError(f"POST answered {r.status}: {await r.text()}")

    start = time.perf_counter()
    async with aiohttp.ClientSession() as session:
        await asyncio.gather(*(client(session) for _ in range(32)))
    return start


async def delivered_count(conn: asyncpg.Connection | None, sqlite: Path | None) -> int:
    sql = "SELECT count(*) FROM documents WHERE doc_type = '850' AND state = 'delivered'"
    if conn is not None:
        return int(await conn.fetchval(sql))
    import sqlite3

    assert sqlite is not None
    with sqlite3.connect(sqlite) as db:
        return int(db.execute(sql).fetchone()[0])


LATENCY_SQL = """
SELECT (SELECT max(e.at) FROM events e WHERE e.document_id = s.id AND e.state = 'delivered')
       AS delivered_at, f.created_at AS received_at,
       (SELECT min(a.created_at) FROM documents a WHERE a.parent_id = f.id AND a.direction = 'out')
       AS ack_at
FROM documents s JOIN documents f ON f.id = s.parent_id WHERE s.doc_type = '850'
"""


def _seconds(a: object, b: object) -> float:
    import datetime as dt

    def parse(v: object) -> dt.datetime:
        if isinstance(v, dt.datetime):
            return v if v.tzinfo else v.replace(tzinfo=dt.UTC)
        value = dt.datetime.fromisoformat(str(v))
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)

    return (parse(a) - parse(b)).total_seconds()


async def one_run(db: str, workers: int, docs: int) -> dict[str, float]:
    rng = random.Random(workers * 1000 + docs)
    payloads = [interchange(n + 1, rng) for n in range(docs)]
    with tempfile.TemporaryDirectory(prefix="o2c-bench-") as tmp:
        workdir = Path(tmp)
        pg_name = None
        conn = None
        sqlite_path = None
        if db == "postgresql":
            pg_name = "o2c_bench_" + uuid.uuid4().hex[:8]
            admin = await asyncpg.connect(PG + "/postgres")
            await admin.execute(f'CREATE DATABASE "{pg_name}"')
            await admin.close()
            url = PG.replace("postgresql://", "postgresql+asyncpg://") + "/" + pg_name
            processes = workers
        else:
            sqlite_path = workdir / "data" / "o2c.db"
            url = f"sqlite+aiosqlite:///{sqlite_path}"
            processes = 1
        gw = Gateway(workdir, url, workers, processes)
        try:
            gw.start()
            base = f"http://127.0.0.1:{gw.port}"
            await wait_http(base)
            if pg_name:
                conn = await asyncpg.connect(PG + "/" + pg_name)
            start = await post_all(base, gw.key, payloads)
            while await delivered_count(conn, sqlite_path) < docs:
                await asyncio.sleep(0.05)
            elapsed = time.perf_counter() - start
            if conn is not None:
                rows = [tuple(r) for r in await conn.fetch(LATENCY_SQL)]
            else:
                import sqlite3

                with sqlite3.connect(sqlite_path) as sdb:  # type: ignore[arg-type]
                    rows = sdb.execute(LATENCY_SQL).fetchall()
            deliver = sorted(_seconds(d, r) for d, r, _ in rows)
            acks = sorted(_seconds(a, r) for _, r, a in rows if a is not None)
            result = {
                "sets_per_s": docs / elapsed,
                "p50": deliver[len(deliver) // 2],
                "p99": deliver[int(len(deliver) * 0.99) - 1],
                "ack_p99": acks[int(len(acks) * 0.99) - 1] if acks else float("nan"),
            }
            if conn is not None:
                result["raw_insert_per_s"] = await raw_insert_rate(conn, docs)
            return result
        finally:
            gw.stop()
            if conn is not None:
                await conn.close()
            if pg_name:
                admin = await asyncpg.connect(PG + "/postgres")
                await admin.execute(f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)')
                await admin.close()


async def raw_insert_rate(conn: asyncpg.Connection, rows: int) -> float:
    """The reference: one INSERT per transaction, as fast as asyncpg goes, same server."""
    await conn.execute("CREATE TEMP TABLE ref (id serial primary key, body text, at timestamptz)")
    start = time.perf_counter()
    for n in range(rows):
        async with conn.transaction():
            await conn.execute("INSERT INTO ref (body, at) VALUES ($1, now())", f"row {n}")
    return rows / (time.perf_counter() - start)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--db", default="sqlite,postgresql")
    parser.add_argument("--workers", default="1,4")
    args = parser.parse_args(argv)
    print(f"pipeline: {args.docs} x 850 (10 lines) over HTTP, median of {args.runs} runs")
    header = (
        f"{'database':<11} {'workers':>7} {'sets/s':>8} {'p50 s':>7} {'p99 s':>7} {'997 p99 s':>9}"
    )
    print(header + f" {'raw PG inserts/s':>17}")
    for db in args.db.split(","):
        for workers in (int(w) for w in args.workers.split(",")):
            runs = [asyncio.run(one_run(db, workers, args.docs)) for _ in range(args.runs)]

            def med(key: str, runs: list[dict[str, float]] = runs) -> float:
                return statistics.median(r.get(key, float("nan")) for r in runs)

            ref = f"{med('raw_insert_per_s'):>17.0f}" if db == "postgresql" else f"{'':>17}"
            print(
                f"{db:<11} {workers:>7} {med('sets_per_s'):>8.0f} {med('p50'):>7.3f} "
                f"{med('p99'):>7.3f} {med('ack_p99'):>9.3f} {ref}",
                flush=True,
            )


if __name__ == "__main__":
    main()
