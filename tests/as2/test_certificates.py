"""Certificates of AS2 agreements that expire within 30 days are listed (partners check, metrics)."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import yaml

from adapters.as2_profiles import certificate_problems, expiring_certificates
from gateway.partners import PartnerRegistry
from tests.as2.conftest import settings_for, write_partner

if TYPE_CHECKING:
    from pathlib import Path

    from tests.as2.conftest import Pki


def test_expiring_certificates_are_listed(tmp_path: Path, pki: Pki) -> None:
    root = tmp_path / "gw"
    partners_dir = root / "partners"
    write_partner(partners_dir, "soon", partner=pki.expiring, us=pki.gateway, inbound={})
    write_partner(
        partners_dir, "later", partner=pki.peer, us=pki.gateway, as2_id="LATER", inbound={}
    )
    settings = settings_for(root, pki.gateway, tmp_path)
    partners = PartnerRegistry.load(partners_dir)

    [notice] = expiring_certificates(partners, settings)

    assert (notice.partner_id, notice.owner, notice.source) == (
        "soon",
        "partner",
        "soon/partner.crt",
    )
    assert notice.subject == "CN=expiring"
    assert 8 <= notice.days_left <= 10
    assert "expires in" in notice.describe()
    assert certificate_problems(partners, settings) == [notice.describe()]

    in_a_year = dt.datetime.now(dt.UTC) + dt.timedelta(days=400)
    late = expiring_certificates(partners, settings, now=in_a_year)
    owners = sorted((n.partner_id, n.owner) for n in late)
    assert owners == [
        ("later", "ours"),
        ("later", "partner"),
        ("soon", "ours"),
        ("soon", "partner"),
    ]
    assert all(n.days_left < 0 and "expired" in n.describe() for n in late)


def test_our_certificate_in_the_key_secret_is_checked(tmp_path: Path, pki: Pki) -> None:
    root = tmp_path / "gw"
    partners_dir = root / "partners"
    write_partner(partners_dir, "peer", partner=pki.peer, us=pki.gateway, inbound={})
    profile = partners_dir / "peer.yaml"
    data = yaml.safe_load(profile.read_text())
    del data["channels"]["inbound"]["our_certificate"]
    profile.write_text(yaml.safe_dump(data))
    settings = settings_for(root, pki.expiring, tmp_path)
    (root / "secrets" / "AS2_KEY").write_bytes(pki.expiring.pem())

    [notice] = expiring_certificates(PartnerRegistry.load(partners_dir), settings)

    assert (notice.owner, notice.source, notice.subject) == (
        "ours",
        "secret AS2_KEY",
        "CN=expiring",
    )


async def test_partners_check_and_metrics_show_the_expiring_certificate(
    tmp_path: Path, pki: Pki
) -> None:
    from aiohttp.test_utils import TestClient, TestServer
    from prometheus_client.parser import text_string_to_metric_families

    from gateway.pipeline.onboarding import check_partner
    from gateway.ports import GatewayContext, load_adapters
    from gateway.storage import Store
    from gateway.storage.migrate import upgrade
    from gateway.web.app import create_app

    root = tmp_path / "gw"
    partners_dir = root / "partners"
    write_partner(partners_dir, "soon", partner=pki.expiring, us=pki.gateway, inbound={})
    settings = settings_for(root, pki.gateway, tmp_path)

    # o2c partners check: the installed adapters' certificate sources are asked
    report = check_partner("soon", settings)
    expiring = [p for p in report.problems if "CN=expiring" in p]
    assert len(expiring) == 1 and "expires in" in expiring[0]

    # /metrics: one gauge per agreement certificate, with its days left
    url = f"sqlite+aiosqlite:///{tmp_path / 'metrics.db'}"
    await upgrade(url)
    store = await Store.open(url, data_dir=tmp_path / "data")
    partners = PartnerRegistry.load(partners_dir)

    async def receive(*args: object, **kwargs: object) -> None:
        raise AssertionError("nothing is received here")

    ctx = GatewayContext(settings=settings, store=store, partners=partners, receive=receive)  # type: ignore[arg-type]
    app = create_app(ctx, certificates=load_adapters().certificates)
    client: TestClient = TestClient(TestServer(app))  # type: ignore[type-arg]
    await client.start_server()
    try:
        text = await (await client.get("/metrics")).text()
    finally:
        await client.close()
        await store.close()
    days = {
        (s.labels["partner"], s.labels["owner"]): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name == "o2c_certificate_days_left"
    }
    assert 8 <= days["soon", "partner"] <= 10
    assert days["soon", "ours"] > 30
