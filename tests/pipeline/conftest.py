"""Fixtures for the pipeline: settings on the example partners, receiver, worker, peers.

The ERP is the real ``memory`` connector (with its fault knob); outbound files go
to :class:`RecordingTransport`, a tiny transport that keeps what it was given; the
alert webhook is a real aiohttp server on a loopback port.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import pytest_asyncio
from aiohttp import web

from adapters.erp_basic import MemoryErp
from gateway.partners import PartnerRegistry
from gateway.pipeline.alerts import WebhookAlerts
from gateway.pipeline.receiver import PipelineReceiver
from gateway.pipeline.worker import Worker
from gateway.ports import GatewayContext
from gateway.settings import Settings

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from gateway.channels import Channel
    from gateway.partners import PartnerProfile
    from gateway.storage import Store

ROOT = Path(__file__).resolve().parents[2]
PARTNERS = ROOT / "partners"
WEBHOOK_SECRET = "webhook-test-secret"


@dataclass
class Sent:
    partner_id: str
    kind: str
    filename: str
    data: bytes


@dataclass
class RecordingTransport:
    """Keeps every file it is asked to send."""

    sent: list[Sent] = field(default_factory=list)

    async def send(
        self, partner: PartnerProfile, channel: Channel, filename: str, data: bytes
    ) -> str:
        self.sent.append(Sent(partner.id, channel.kind, filename, data))
        return f"recorded {filename}"


@pytest.fixture
def settings(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("O2C_SECRET_PIPELINE_WEBHOOK", WEBHOOK_SECRET)
    return Settings(
        data_dir=data_dir,
        partners_dir=PARTNERS,
        mappings_dir=ROOT / "mappings",
        max_document_bytes=200_000,
        webhook_secret="PIPELINE_WEBHOOK",
    )


@pytest.fixture(scope="session")
def partners() -> PartnerRegistry:
    return PartnerRegistry.load(PARTNERS)


@pytest.fixture
def receiver(store: Store, settings: Settings, partners: PartnerRegistry) -> PipelineReceiver:
    return PipelineReceiver(store, settings, partners)


@pytest.fixture
def ctx(
    store: Store, settings: Settings, partners: PartnerRegistry, receiver: PipelineReceiver
) -> GatewayContext:
    return GatewayContext(settings=settings, store=store, partners=partners, receive=receiver)


@pytest.fixture
def erp() -> MemoryErp:
    return MemoryErp()


@pytest.fixture
def transport() -> RecordingTransport:
    return RecordingTransport()


@dataclass
class Webhook:
    url: str
    posts: list[tuple[dict[str, str], bytes]]
    arrived: asyncio.Event

    def alerts(self) -> list[dict[str, Any]]:
        """The posted alerts whose signature checks out (others fail the test)."""
        out = []
        for headers, body in self.posts:
            expected = hmac.new(WEBHOOK_SECRET.encode(), body, hashlib.sha256).hexdigest()
            assert headers.get("X-O2C-Signature") == f"sha256={expected}"
            out.append(json.loads(body))
        return out


@pytest_asyncio.fixture
async def webhook() -> AsyncIterator[Webhook]:
    """A real HTTP server that records alert posts."""
    posts: list[tuple[dict[str, str], bytes]] = []
    arrived = asyncio.Event()

    async def receive(request: web.Request) -> web.Response:
        posts.append((dict(request.headers), await request.read()))
        arrived.set()
        return web.Response(status=204)

    app = web.Application()
    app.router.add_post("/alerts", receive)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield Webhook(f"http://127.0.0.1:{port}/alerts", posts, arrived)
    finally:
        await runner.cleanup()


@pytest_asyncio.fixture
async def alerts(webhook: Webhook, settings: Settings) -> AsyncIterator[WebhookAlerts]:
    notifier = WebhookAlerts.from_settings(settings.model_copy(update={"webhook_url": webhook.url}))
    async with notifier:
        yield notifier


@pytest.fixture
def make_worker(
    ctx: GatewayContext, erp: MemoryErp, transport: RecordingTransport, alerts: WebhookAlerts
) -> Any:
    """``make_worker(**overrides)``: a worker on the test's store, ERP, transport, alerts."""

    def make(**kw: Any) -> Worker:
        options: dict[str, Any] = {
            "erp": erp,
            "transports": dict.fromkeys(
                ("as2", "sftp_hosted", "sftp_poll", "http", "folder"), transport
            ),
            "name": "test-worker",
            "alerts": alerts,
            "retry_base_seconds": 0.05,
            "retry_max_seconds": 0.2,
        }
        options.update(kw)
        return Worker(ctx, **options)

    return make


@pytest.fixture
def worker(make_worker: Any) -> Worker:
    return make_worker()  # type: ignore[no-any-return]
