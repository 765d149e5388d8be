"""AS2 fixtures: throwaway certificates (made with openssl per session) and gateway instances.

A gateway here is the real thing on loopback: ``create_app`` with the routes the
``as2`` adapter registers, the real :class:`PipelineReceiver` over a real store, the
``as2`` transport, the ``as2_mdn`` courier and a real :class:`Worker` (with the memory
ERP) to send queued documents.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import pytest_asyncio
import yaml
from aiohttp.test_utils import TestClient, TestServer

import adapters.as2
from adapters.erp_basic import MemoryErp
from gateway.partners import PartnerRegistry
from gateway.pipeline.receiver import PipelineReceiver
from gateway.pipeline.worker import Worker
from gateway.ports import AdapterRegistry, Alerts, GatewayContext
from gateway.settings import Settings
from gateway.storage import DocumentQuery, Store
from gateway.storage.migrate import upgrade
from gateway.web.app import create_app
from tests.as2.peer import Identity, make_identity

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from aiohttp import web

    from gateway.storage import DocumentRecord

MAX_BYTES = 64 * 1024
OUR_AS2 = "O2CGATEWAY"
PEER_AS2 = "PEERAS2"
ROOT = Path(__file__).resolve().parents[2]
X12_850 = (ROOT / "partners" / "bigbox" / "samples" / "850.x12").read_bytes()


@dataclass(frozen=True)
class Pki:
    """Throwaway identities: the gateway, the partner, a stranger, one expiring soon."""

    gateway: Identity
    gateway_b: Identity
    peer: Identity
    rogue: Identity
    expiring: Identity
    root: Path


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    root = tmp_path_factory.mktemp("as2-pki")
    return Pki(
        gateway=make_identity(root, "gateway"),
        gateway_b=make_identity(root, "gateway-b"),
        peer=make_identity(root, "peer"),
        rogue=make_identity(root, "rogue"),
        expiring=make_identity(root, "expiring", days=10),
        root=root,
    )


def as2_channel(
    *,
    as2_id: str,
    our_as2_id: str,
    partner_cert: str,
    our_cert: str,
    **more: Any,
) -> dict[str, Any]:
    return {
        "kind": "as2",
        "as2_id": as2_id,
        "our_as2_id": our_as2_id,
        "partner_certificate": partner_cert,
        "our_key_secret": "AS2_KEY",
        "our_certificate": our_cert,
        **more,
    }


def write_partner(
    partners_dir: Path,
    partner_id: str,
    *,
    partner: Identity,
    us: Identity,
    as2_id: str = PEER_AS2,
    our_as2_id: str = OUR_AS2,
    inbound: dict[str, Any] | None = None,
    outbound: dict[str, Any] | None = None,
) -> None:
    """A profile ``<partner_id>.yaml`` with AS2 channels; certificates copied beside it."""
    certs = partners_dir / partner_id
    certs.mkdir(parents=True, exist_ok=True)
    shutil.copy(partner.cert, certs / "partner.crt")
    shutil.copy(us.cert, certs / "ours.crt")
    base = {
        "as2_id": as2_id,
        "our_as2_id": our_as2_id,
        "partner_cert": f"{partner_id}/partner.crt",
        "our_cert": f"{partner_id}/ours.crt",
    }
    channels: dict[str, Any] = {}
    if inbound is not None:
        channels["inbound"] = as2_channel(**base, **inbound)
    if outbound is not None:
        channels["outbound"] = as2_channel(**base, **outbound)
    profile = {"id": partner_id, "display_name": f"AS2 {partner_id}", "channels": channels}
    (partners_dir / f"{partner_id}.yaml").write_text(yaml.safe_dump(profile), encoding="utf-8")


@dataclass
class Gateway:
    """One running gateway instance (see the module docstring)."""

    ctx: GatewayContext
    client: TestClient[web.Request, web.Application]
    registry: AdapterRegistry
    worker: Worker
    erp: MemoryErp
    extra: list[Any] = field(default_factory=list)

    @property
    def url(self) -> str:
        return str(self.client.make_url("/as2"))

    @property
    def store(self) -> Store:
        return self.ctx.store

    def courier(self) -> Any:
        factory = self.registry.services["as2_mdn"][1]
        return factory(self.ctx)

    async def documents(self, partner_id: str) -> list[DocumentRecord]:
        return await self.store.search(DocumentQuery(partner_id=partner_id))

    async def close(self) -> None:
        await self.client.close()
        await self.erp.close()


def settings_for(
    root: Path, key: Identity, data_dir: Path, *, retry_base: float = 60.0
) -> Settings:
    secrets = root / "secrets"
    secrets.mkdir(parents=True, exist_ok=True)
    (secrets / "AS2_KEY").write_bytes(key.key.read_bytes())
    return Settings(
        data_dir=data_dir,
        partners_dir=root / "partners",
        mappings_dir=ROOT / "mappings",
        secrets_dir=secrets,
        max_document_bytes=MAX_BYTES,
        retry_base_seconds=retry_base,
        retry_max_seconds=retry_base * 2,
    )


async def start_gateway(
    root: Path,
    store: Store,
    key: Identity,
    *,
    port: int | None = None,
    retry_base: float = 60.0,
    alerts: Alerts | None = None,
) -> Gateway:
    """Start a gateway whose profiles are in ``root/partners`` and whose key is ``key``."""
    settings = settings_for(root, key, store.payload_dir.parent, retry_base=retry_base)
    partners = PartnerRegistry.load(settings.partners_dir)
    receiver = PipelineReceiver(store, settings, partners)
    ctx = GatewayContext(
        settings=settings, store=store, partners=partners, receive=receiver, alerts=alerts
    )
    registry = AdapterRegistry()
    adapters.as2.register(registry)
    app = create_app(ctx, routes=registry.routes)
    client: TestClient[web.Request, web.Application] = TestClient(
        TestServer(app, host="127.0.0.1", port=port)
    )
    await client.start_server()
    erp = MemoryErp()
    transports = {kind: factory(ctx) for kind, factory in registry.transports.items()}
    worker = Worker(ctx, erp=erp, transports=transports, name=f"w-{root.name}")
    return Gateway(ctx=ctx, client=client, registry=registry, worker=worker, erp=erp)


@pytest_asyncio.fixture
async def gateways() -> AsyncIterator[list[Gateway]]:
    """Gateways a test starts (append them); closed after the test."""
    started: list[Gateway] = []
    yield started
    for gateway in started:
        await gateway.close()


def _make_dirs(directory: Path) -> None:
    (directory / "data").mkdir(parents=True, exist_ok=True)


async def open_sqlite_store(directory: Path) -> Store:
    """A fresh, upgraded SQLite store of its own in ``directory``."""
    _make_dirs(directory)
    url = f"sqlite+aiosqlite:///{directory / 'o2c.db'}"
    await upgrade(url)
    return await Store.open(url, data_dir=directory / "data")
