"""Three ``o2c serve --role worker`` processes on PostgreSQL: every document exactly once.

The issue's scale-out test: 2,000 received interchanges (one 850 each) are
processed by three worker processes claiming with ``FOR UPDATE SKIP LOCKED``;
one of them is killed with SIGKILL while it holds claims. Its leases expire,
the other two take its documents over, and in the end every purchase order is
in the ERP exactly once, every file has exactly one set and one 997, and
nothing is left behind.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from gateway.storage import Store

ROOT = Path(__file__).resolve().parents[2]
DOCS = 2000
SENDER = "SCALEBUYER"

PROFILE = f"""\
id: scalebuyer
display_name: Scale-out Buyer
identity:
  isa: [{{qualifier: ZZ, id: {SENDER}}}]
  gs_ids: [{SENDER}]
x12:
  "850": {{version: "004010", functional_ack: "997"}}
mappings:
  "850": {{base: x12/850/004010}}
channels:
  inbound: {{kind: folder, path: inbound/scalebuyer}}
  outbound: {{kind: folder, path: outbound/scalebuyer}}
"""


def interchange(n: int) -> bytes:
    segs = [
        f"ISA*00*{'':10}*00*{'':10}*ZZ*{SENDER:<15}*ZZ*{'O2CGATEWAY':<15}*240115*1200*U*00401*{n:09d}*0*P*>",
        f"GS*PO*{SENDER}*O2CGATEWAY*20240115*1200*{n}*X*004010",
        "ST*850*0001",
        f"BEG*00*SA*S{n:06d}**20240115",
        "N1*ST*STORE 12*92*0012",
        "PO1*1*4*EA*12.5**UP*012345678905",
        "PO1*2*1*CA*40**VN*AB-1",
        "CTT*2",
        "SE*7*0001",
        f"GE*1*{n}",
        f"IEA*1*{n:09d}",
    ]
    return "~\n".join(segs).encode() + b"~\n"


def o2c(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gateway.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )


@pytest.mark.timeout(300)
async def test_three_workers_process_each_document_once_after_a_sigkill(
    pg_database_url: str, tmp_path: Path
) -> None:
    partners = tmp_path / "partners"
    partners.mkdir()
    (partners / "scalebuyer.yaml").write_text(PROFILE)
    erp_dir = tmp_path / "erp"
    (tmp_path / "o2c.yaml").write_text(
        "workers: 1\nworker_batch: 25\nlease_seconds: 10\nretry_base_seconds: 0.2\n"
        f"erp: {{connector: folder, path: {erp_dir}}}\n"
    )
    env = {
        **os.environ,
        "O2C_DATABASE_URL": pg_database_url,
        "O2C_DATA_DIR": str(tmp_path / "data"),
        "O2C_PARTNERS_DIR": str(partners),
        "O2C_MAPPINGS_DIR": str(ROOT / "mappings"),
        "O2C_CONFIG_FILE": str(tmp_path / "o2c.yaml"),
        "PYTHONPATH": str(ROOT),
    }
    o2c("db", "upgrade", env=env)

    store = await Store.open(pg_database_url, data_dir=tmp_path / "data")
    try:
        received = await asyncio.gather(
            *(
                store.receive(interchange(n), partner_id="scalebuyer", channel="http")
                for n in range(1, DOCS + 1)
            )
        )
        assert len({d.id for d in received}) == DOCS

        logs = [(tmp_path / f"worker{i}.log").open("wb") for i in range(3)]
        workers = [
            subprocess.Popen(
                [sys.executable, "-m", "gateway.cli", "serve", "--role", "worker"],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
            for log in logs
        ]
        try:
            victim = workers[0]
            held: list[int] = []
            deadline = time.monotonic() + 120
            # Kill the first worker while it holds claims, once work is well under way.
            while time.monotonic() < deadline:
                _check_alive(workers, tmp_path)
                delivered = len(list(erp_dir.glob("*/*.json"))) if erp_dir.exists() else 0
                if delivered >= 300:
                    # freeze it first, so that its claims cannot end between look and kill
                    victim.send_signal(signal.SIGSTOP)
                    if await _leased_by(store, victim.pid):
                        victim.send_signal(signal.SIGKILL)
                        victim.wait(10)
                        # what the dead worker still holds: claims it never finished
                        held = await _leased_by(store, victim.pid)
                        break
                    victim.send_signal(signal.SIGCONT)
                await asyncio.sleep(0.01)
            assert held, "the victim never held a claim while work was under way"

            deadline = time.monotonic() + 180
            while time.monotonic() < deadline:
                if await _count(store, "850", "delivered") == DOCS and await _pending(store) == 0:
                    break
                await asyncio.sleep(0.2)
        finally:
            for w in workers[1:]:
                w.send_signal(signal.SIGTERM)
            for w in workers[1:]:
                assert w.wait(30) == 0
            for log in logs:
                log.close()

        # Every purchase order is in the ERP exactly once.
        orders = sorted(p.name for p in (erp_dir / "scalebuyer").glob("*.json"))
        assert orders == sorted(f"S{n:06d}.json" for n in range(1, DOCS + 1))
        # Every file: acknowledged, one set (delivered), one 997 (sent); nothing else.
        for doc in received:
            children = await store.children(doc.id)
            kinds = sorted((c.direction, c.doc_type, c.state.value) for c in children)
            assert kinds == [("in", "850", "delivered"), ("out", "997", "sent")], (doc.id, kinds)
            again = await store.get(doc.id)
            assert again is not None and again.state.value == "acknowledged"
        # The victim's claims were taken over and finished.
        for doc_id in held:
            doc = await store.get(doc_id)
            assert doc is not None and doc.state.value in {"acknowledged", "delivered", "sent"}
            assert doc.attempts >= 2
        assert await _pending(store) == 0
        # One 997 file per interchange. A worker killed while writing one may leave its
        # hidden temporary file behind (never a half file under a real name).
        acks = [
            a.name
            for a in (tmp_path / "data" / "outbound" / "scalebuyer").iterdir()
            if not a.name.startswith(".")
        ]
        assert len(set(acks)) == DOCS
    finally:
        await store.close()


def _check_alive(workers: list[subprocess.Popen[bytes]], tmp_path: Path) -> None:
    for i, w in enumerate(workers):
        if w.poll() is not None:
            log = (tmp_path / f"worker{i}.log").read_text(errors="replace")
            pytest.fail(f"worker {i} exited with {w.returncode}:\n{log[-3000:]}")


async def _leased_by(store: Store, pid: int) -> list[int]:
    from sqlalchemy import text

    engine = store._engine
    async with engine.connect() as conn:
        rows = await conn.execute(
            text(
                "SELECT id FROM documents WHERE lease_owner LIKE :owner AND lease_expires_at > now()"
            ),
            {"owner": f"%:{pid}:%"},
        )
        return [r[0] for r in rows]


async def _count(store: Store, doc_type: str, state: str) -> int:
    from gateway.storage import DocumentQuery, State

    docs = await store.search(DocumentQuery(doc_type=doc_type, state=State(state), limit=DOCS + 1))
    return len(docs)


async def _pending(store: Store) -> int:
    return await store.queue_depth()
