"""Webhook alerts: signed posts; a webhook that is down is logged, never raised."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import logging
import socket
from typing import TYPE_CHECKING

from pydantic import SecretStr

from gateway.pipeline.alerts import WebhookAlerts, sign
from gateway.storage import Controls, DocumentRecord, State

if TYPE_CHECKING:
    import pytest

    from tests.pipeline.conftest import Webhook

NOW = dt.datetime(2024, 3, 15, 9, 30, tzinfo=dt.UTC)


def _doc() -> DocumentRecord:
    return DocumentRecord(
        id=42, direction="in", partner_id="bigbox", channel="as2", doc_type="850",
        format="x12", state=State.FAILED, payload_sha256="0" * 64, size=10, parent_id=None,
        filename=None, controls=Controls(), business_key=None, attempts=5,
        next_attempt_at=None, lease_owner=None, lease_expires_at=None, last_error="x",
        canonical=None, created_at=NOW, updated_at=NOW,
    )  # fmt: skip


def test_sign_is_hmac_sha256_hex() -> None:
    body = b'{"event":"failed"}'
    expected = hmac.new(b"k", body, hashlib.sha256).hexdigest()
    assert sign(body, "k") == f"sha256={expected}"


async def test_alert_is_posted_signed(webhook: Webhook) -> None:
    from tests.pipeline.conftest import WEBHOOK_SECRET

    async with WebhookAlerts(webhook.url, SecretStr(WEBHOOK_SECRET)) as alerts:
        assert await alerts.notify("failed", _doc(), "parked: ERP down")
    [alert] = webhook.alerts()
    assert alert["event"] == "failed" and alert["document_id"] == 42
    assert alert["partner_id"] == "bigbox" and alert["state"] == "failed"
    assert alert["message"] == "parked: ERP down"
    assert dt.datetime.fromisoformat(alert["at"]).tzinfo is not None


async def test_webhook_down_is_logged_not_raised(caplog: pytest.LogCaptureFixture) -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    secret = SecretStr("s3cr3t-never-logged")
    async with WebhookAlerts(f"http://127.0.0.1:{port}/x", secret) as alerts:
        with caplog.at_level(logging.ERROR, logger="gateway.pipeline.alerts"):
            assert not await alerts.notify("duplicate", _doc(), "dup")
    assert any("alert webhook failed" in r.getMessage() for r in caplog.records)
    assert all("s3cr3t" not in r.getMessage() for r in caplog.records)


async def test_without_a_url_alerts_are_only_logged(caplog: pytest.LogCaptureFixture) -> None:
    async with WebhookAlerts(None) as alerts:
        with caplog.at_level(logging.WARNING, logger="gateway.pipeline.alerts"):
            assert not await alerts.notify("failed", _doc(), "parked")
    assert any("alert: failed: parked" in r.getMessage() for r in caplog.records)
