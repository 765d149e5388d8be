"""Fixtures for the HTTP app: settings, a context over the real store, keys, a test client.

The context's ``receive`` is a small function calling ``Store.receive`` (the contract
of ``gateway.ports.Receiver``), so these tests do not depend on the pipeline.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import pytest_asyncio
from aiohttp.test_utils import TestClient, TestServer

import adapters.http
from gateway.partners import PartnerRegistry
from gateway.ports import GatewayContext
from gateway.settings import Settings
from gateway.web.app import create_app

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from aiohttp import ClientResponse, web

    from gateway.metrics import GatewayMetrics
    from gateway.ports import RouteInstaller
    from gateway.storage import DocumentRecord, Store

ROOT = Path(__file__).resolve().parents[2]
PARTNERS_DIR = ROOT / "partners"
MAX_BYTES = 64 * 1024
X12_850 = (PARTNERS_DIR / "northwind" / "samples" / "850.x12").read_bytes()
CXML = (PARTNERS_DIR / "acme-procure" / "samples" / "order_request.xml").read_bytes()
CANONICAL = (PARTNERS_DIR / "bigbox" / "samples" / "invoice.json").read_bytes()
_FORMATS = {
    "application/edi-x12": "x12",
    "application/xml": "xml",
    "text/xml": "xml",
    "application/json": "json",
}


@pytest.fixture(scope="session")
def partners() -> PartnerRegistry:
    return PartnerRegistry.load(PARTNERS_DIR)


@pytest.fixture
def settings(tmp_path: Path, data_dir: Path) -> Settings:
    return Settings(
        data_dir=data_dir,
        partners_dir=PARTNERS_DIR,
        mappings_dir=ROOT / "mappings",
        secrets_dir=tmp_path / "secrets",
        max_document_bytes=MAX_BYTES,
    )


def make_context(store: Store, settings: Settings, partners: PartnerRegistry) -> GatewayContext:
    """A context whose receiver only stores (the Receiver contract, no pipeline)."""

    async def receive(
        data: bytes,
        *,
        partner_id: str | None,
        channel: str,
        filename: str | None = None,
        content_type: str | None = None,
    ) -> DocumentRecord:
        fmt = _FORMATS.get(content_type or "", "x12")
        return await store.receive(
            data,
            partner_id=partner_id,
            channel=channel,
            filename=filename,
            doc_type="interchange" if fmt == "x12" else fmt,
            format=fmt,
        )

    return GatewayContext(settings=settings, store=store, partners=partners, receive=receive)


@pytest.fixture
def ctx(store: Store, settings: Settings, partners: PartnerRegistry) -> GatewayContext:
    return make_context(store, settings, partners)


async def open_client(
    ctx: GatewayContext,
    *,
    routes: tuple[RouteInstaller, ...] = (adapters.http.install_routes,),
    metrics: GatewayMetrics | None = None,
) -> TestClient[web.Request, web.Application]:
    """A started test client on a loopback server running the real app."""
    app = create_app(ctx, routes=routes, registry_metrics=metrics)
    client: TestClient[web.Request, web.Application] = TestClient(TestServer(app))
    await client.start_server()
    return client


@pytest_asyncio.fixture
async def client(ctx: GatewayContext) -> AsyncIterator[TestClient[web.Request, web.Application]]:
    opened = await open_client(ctx)
    try:
        yield opened
    finally:
        await opened.close()


@dataclass(frozen=True)
class Keys:
    """One API key per kind of caller, plus a revoked one."""

    admin: str
    operator: str
    viewer: str
    clerk: str
    northwind: str
    acme: str
    revoked: str


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


async def error_of(resp: ClientResponse) -> dict[str, str]:
    """The ``error`` object of a JSON error answer, checking its exact shape."""
    assert resp.content_type == "application/json"
    body = await resp.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message"}
    assert "Traceback" not in body["error"]["message"]
    return dict(body["error"])


@pytest_asyncio.fixture
async def keys(store: Store) -> Keys:
    _, admin = await store.create_api_key(partner_id=None, role="admin", label="admin")
    _, operator = await store.create_api_key(partner_id=None, role="operator", label="ops")
    _, viewer = await store.create_api_key(partner_id=None, role="viewer", label="view")
    _, clerk = await store.create_api_key(partner_id=None, role="ar", label="ar")
    _, northwind = await store.create_api_key(partner_id="northwind", label="nw")
    _, acme = await store.create_api_key(partner_id="acme-procure", label="acme")
    revoked_id, revoked = await store.create_api_key(partner_id="northwind", label="old")
    assert await store.revoke_api_key(revoked_id)
    return Keys(admin, operator, viewer, clerk, northwind, acme, revoked)
