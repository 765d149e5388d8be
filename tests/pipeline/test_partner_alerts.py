"""Partner-level webhook alerts (``notify_partner``): signed posts, never raised."""

from __future__ import annotations

import datetime as dt
import logging
import socket
from typing import TYPE_CHECKING

from pydantic import SecretStr

from gateway.pipeline.alerts import WebhookAlerts
from tests.pipeline.conftest import WEBHOOK_SECRET

if TYPE_CHECKING:
    import pytest

    from tests.pipeline.conftest import Webhook


async def test_partner_alert_is_posted_signed(webhook: Webhook) -> None:
    async with WebhookAlerts(webhook.url, SecretStr(WEBHOOK_SECRET)) as alerts:
        detail = {"level": "warn", "dso": "51.00", "threshold_days": 50}
        assert await alerts.notify_partner("dso.threshold", "northwind", "DSO up", detail)
        assert alerts.sent == 1
    [alert] = webhook.alerts()  # the signature is checked here
    assert alert["event"] == "dso.threshold" and alert["partner_id"] == "northwind"
    assert alert["message"] == "DSO up"
    assert alert["detail"] == {"level": "warn", "dso": "51.00", "threshold_days": 50}
    assert "document_id" not in alert
    assert dt.datetime.fromisoformat(alert["at"]).tzinfo is not None


async def test_partner_alert_failures_are_logged_not_raised(
    webhook: Webhook, caplog: pytest.LogCaptureFixture
) -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with caplog.at_level(logging.ERROR, logger="gateway.pipeline.alerts"):
        async with WebhookAlerts(f"http://127.0.0.1:{port}/x", SecretStr("k")) as down:
            assert not await down.notify_partner("dso.threshold", "bigbox", "m", {})
        async with WebhookAlerts(webhook.url, SecretStr(WEBHOOK_SECRET)) as alerts:
            assert not await alerts.notify_partner("dso.threshold", "bigbox", "m", {"x": {1, 2}})
    messages = [r.getMessage() for r in caplog.records]
    assert any("alert webhook failed" in m for m in messages)
    assert any("alert not posted" in m for m in messages)
    assert webhook.posts == []


async def test_without_a_url_partner_alerts_are_only_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async with WebhookAlerts(None) as alerts:
        with caplog.at_level(logging.WARNING, logger="gateway.pipeline.alerts"):
            assert not await alerts.notify_partner("dso.threshold", "bigbox", "over 45", {})
    assert any("alert: dso.threshold: over 45" in r.getMessage() for r in caplog.records)
