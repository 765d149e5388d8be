"""The outbound ``http`` transport against a real loopback HTTP server."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from adapters.http import HttpTransport, register
from gateway.channels import FolderChannel, HttpChannel
from gateway.errors import PermanentDeliveryError, TransientDeliveryError
from gateway.ports import AdapterRegistry

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from pathlib import Path

    from gateway.partners import PartnerProfile, PartnerRegistry
    from gateway.settings import Settings


class Peer:
    """A partner endpoint that answers with a chosen status and records what it got."""

    def __init__(self) -> None:
        self.status = 200
        self.received: list[tuple[dict[str, str], bytes]] = []

    async def handle(self, request: web.Request) -> web.Response:
        self.received.append((dict(request.headers), await request.read()))
        return web.Response(status=self.status, text="thanks")


@pytest.fixture
async def peer() -> AsyncIterator[tuple[Peer, str]]:
    state = Peer()
    app = web.Application()
    app.router.add_post("/edi", state.handle)
    server = TestServer(app)
    await server.start_server()
    try:
        yield state, str(server.make_url("/edi"))
    finally:
        await server.close()


@pytest.fixture
def acme(partners: PartnerRegistry) -> PartnerProfile:
    return partners.by_id("acme-procure")


async def test_posts_the_file_with_the_key_header(
    peer: tuple[Peer, str], settings: Settings, acme: PartnerProfile, tmp_path: Path
) -> None:
    state, url = peer
    assert settings.secrets_dir is not None
    settings.secrets_dir.mkdir(exist_ok=True)
    (settings.secrets_dir / "ACME_OUT").write_text("k-123\n")
    channel = HttpChannel(kind="http", url=url, api_key_secret="ACME_OUT", header="X-Key")
    ref = await HttpTransport(settings).send(acme, channel, "acme-997-1-000000001.x12", b"ISA*")
    assert ref == "HTTP 200"
    ((headers, body),) = state.received
    assert body == b"ISA*"
    assert headers["X-Key"] == "k-123"
    assert headers["Content-Type"] == "application/edi-x12"
    assert headers["X-Filename"] == "acme-997-1-000000001.x12"


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (500, TransientDeliveryError),
        (503, TransientDeliveryError),
        (429, TransientDeliveryError),
        (408, TransientDeliveryError),
        (400, PermanentDeliveryError),
        (401, PermanentDeliveryError),
        (404, PermanentDeliveryError),
        (302, PermanentDeliveryError),
    ],
)
async def test_status_decides_retry(
    peer: tuple[Peer, str],
    settings: Settings,
    acme: PartnerProfile,
    status: int,
    error: type[Exception],
) -> None:
    state, url = peer
    state.status = status
    with pytest.raises(error, match=f"HTTP {status}"):
        await HttpTransport(settings).send(
            acme, HttpChannel(kind="http", url=url), "a.xml", b"<a/>"
        )
    assert state.received[0][0]["Content-Type"] == "application/xml"


async def test_unreachable_and_slow_peers_are_transient(
    settings: Settings, acme: PartnerProfile, unused_tcp_port: int
) -> None:
    channel = HttpChannel(kind="http", url=f"http://127.0.0.1:{unused_tcp_port}/edi")
    with pytest.raises(TransientDeliveryError):
        await HttpTransport(settings).send(acme, channel, "a.json", b"{}")

    async def slow(request: web.Request) -> web.Response:
        import asyncio

        await asyncio.sleep(5)
        return web.Response()

    app = web.Application()
    app.router.add_post("/slow", slow)
    server = TestServer(app)
    await server.start_server()
    try:
        channel = HttpChannel(kind="http", url=str(server.make_url("/slow")))
        with pytest.raises(TransientDeliveryError, match="no answer"):
            await HttpTransport(settings, timeout=0.2).send(acme, channel, "a.json", b"{}")
    finally:
        await server.close()


async def test_missing_key_or_wrong_channel_is_permanent(
    settings: Settings, acme: PartnerProfile
) -> None:
    channel = HttpChannel(kind="http", url="http://127.0.0.1:9/edi", api_key_secret="NOPE_NOT_SET")
    with pytest.raises(PermanentDeliveryError, match="NOPE_NOT_SET"):
        await HttpTransport(settings).send(acme, channel, "a.x12", b"ISA")
    with pytest.raises(PermanentDeliveryError, match="folder"):
        await HttpTransport(settings).send(acme, FolderChannel(kind="folder", path="out"), "a", b"")


def test_register_adds_route_and_transport() -> None:
    registry = AdapterRegistry()
    register(registry)
    assert "http" in registry.transports
    assert len(registry.routes) == 1
