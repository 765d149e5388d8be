"""Two operating-system processes on one database: counters and claims stay exclusive."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from gateway.storage import Store

ROOT = Path(__file__).parents[2]

_SCRIPT = """
import asyncio, json, sys
from pathlib import Path
from gateway.storage import Store

async def main(url, data_dir, name):
    store = await Store.open(url, data_dir=Path(data_dir))
    try:
        numbers = [await store.next_controls("ZZ:US/ZZ:ACME", "interchange") for _ in range(30)]
        claimed = []
        while batch := await store.claim(worker=name, limit=3):
            claimed += [d.id for d in batch]
    finally:
        await store.close()
    print(json.dumps({"numbers": numbers, "claimed": claimed}))

asyncio.run(main(*sys.argv[1:]))
"""


async def _child(url: str, data_dir: Path, name: str) -> dict[str, list[int]]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        _SCRIPT,
        url,
        str(data_dir),
        name,
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await proc.communicate()
    assert proc.returncode == 0, err.decode()
    result: dict[str, list[int]] = json.loads(out)
    return result


async def test_two_processes_share_counters_and_work(
    store: Store, database_url: str, data_dir: Path
) -> None:
    ids = [
        (await store.receive(f"{i}".encode(), partner_id="acme", channel="http")).id
        for i in range(30)
    ]
    first, second = await asyncio.gather(
        _child(database_url, data_dir, "p1"), _child(database_url, data_dir, "p2")
    )
    assert sorted(first["numbers"] + second["numbers"]) == list(range(1, 61))
    assert sorted(first["claimed"] + second["claimed"]) == ids
