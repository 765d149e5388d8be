"""The worker feeds the Prometheus metrics of the app running in the same process."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp.test_utils import TestClient, TestServer
from prometheus_client.parser import text_string_to_metric_families

from gateway.web.app import create_app
from tests.pipeline.files import NORTHWIND_850

if TYPE_CHECKING:
    from gateway.pipeline.receiver import PipelineReceiver
    from gateway.pipeline.worker import Worker
    from gateway.ports import GatewayContext


async def _samples(client: TestClient) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:  # type: ignore[type-arg]
    resp = await client.get("/metrics")
    assert resp.status == 200
    out = {}
    for family in text_string_to_metric_families(await resp.text()):
        for sample in family.samples:
            out[sample.name, tuple(sorted(sample.labels.items()))] = sample.value
    return out


async def test_stage_latencies_are_observed(
    ctx: GatewayContext, receiver: PipelineReceiver, worker: Worker
) -> None:
    client: TestClient = TestClient(TestServer(create_app(ctx)))  # type: ignore[type-arg]
    await client.start_server()
    try:
        await receiver(NORTHWIND_850, partner_id="northwind", channel="sftp_hosted")
        # the file, its set, its 999 and the 855 (northwind's profile asks for one)
        assert await worker.run_once() >= 4
        samples = await _samples(client)
        counts = {
            dict(labels)["stage"]: value
            for (name, labels), value in samples.items()
            if name == "o2c_processing_seconds_count"
        }
        assert counts["in:received"] == 1
        assert counts["in:mapped"] == 1
        assert counts["out:queued"] == 2
        docs = {
            (dict(labels)["direction"], dict(labels)["state"]): value
            for (name, labels), value in samples.items()
            if name == "o2c_documents"
        }
        assert docs[("in", "delivered")] == 1 and docs[("out", "sent")] == 2
    finally:
        await client.close()
