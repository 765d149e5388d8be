"""A worker process serves ``/metrics`` and ``/healthz`` on ``metrics_port``, and nothing else."""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiohttp

from gateway.service import Running, serve
from gateway.settings import Settings
from gateway.storage.migrate import upgrade

ROOT = Path(__file__).resolve().parents[2]


async def test_a_worker_process_can_be_scraped(tmp_path: Path) -> None:
    settings = Settings(
        data_dir=tmp_path / "data",
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'o2c.db'}",
        partners_dir=ROOT / "partners",
        mappings_dir=ROOT / "mappings",
        workers=1,
        metrics_port=0,  # any free port; the running service says which
        erp={"connector": "memory"},
    )
    settings.data_dir.mkdir()
    await upgrade(settings.database_url)
    stop = asyncio.Event()
    ready: asyncio.Future[Running] = asyncio.get_running_loop().create_future()
    task = asyncio.create_task(
        serve(
            settings, "worker", stop=stop, on_ready=ready.set_result, install_signal_handlers=False
        )
    )
    try:
        started: set[asyncio.Future[object]] = {ready, task}  # type: ignore[arg-type]
        await asyncio.wait(started, timeout=60, return_when=asyncio.FIRST_COMPLETED)
        if task.done():
            task.result()  # serve failed to start: its error
        base = ready.result().http_url
        assert base is not None and not base.endswith(":0")
        async with aiohttp.ClientSession() as http:
            async with http.get(f"{base}/metrics") as resp:
                assert resp.status == 200
                text = await resp.text()
            assert "o2c_documents" in text
            async with http.get(f"{base}/healthz") as resp:
                assert resp.status == 200
                assert (await resp.json())["database"] == "ok"
            for path in ("/api/v1/documents", "/ui/login", "/api/openapi.json"):
                async with http.get(f"{base}{path}") as resp:
                    assert resp.status == 404, path  # no API and no UI in a worker
    finally:
        stop.set()
        await asyncio.wait_for(task, 60)
