"""Webhook alerts for people: parked failures, duplicates, DSO thresholds; HMAC-signed.

:class:`WebhookAlerts` posts ``{"event", "document_id", "partner_id", "state",
"message", "at"}`` (about a document) or ``{"event", "partner_id", "message", "detail",
"at"}`` (about a partner, :meth:`WebhookAlerts.notify_partner`) as JSON to
``Settings.webhook_url`` with the header ``X-O2C-Signature: sha256=<hex HMAC-SHA256 of
the body>`` keyed with the secret that ``Settings.webhook_secret`` names. A failed post is
logged, never raised: an alert must not stop the pipeline. Without a webhook URL, alerts
are logged only.

Must not import ``gateway.web``, ``gateway.cli`` or any adapter.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import logging
from typing import TYPE_CHECKING, Any

import aiohttp

if TYPE_CHECKING:
    from collections.abc import Mapping
    from types import TracebackType

    from pydantic import SecretStr

    from gateway.settings import Settings
    from gateway.storage import DocumentRecord

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-O2C-Signature"
TIMEOUT_SECONDS = 5.0


def sign(body: bytes, secret: str) -> str:
    """The signature header value for ``body``: ``sha256=<hex digest>``."""
    digest = hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


class WebhookAlerts:
    """Posts alerts to one webhook; use as ``async with`` (it owns an HTTP session)."""

    def __init__(self, url: str | None, secret: SecretStr | None = None) -> None:
        self.url = url
        self._secret = secret
        self._session: aiohttp.ClientSession | None = None
        self.sent = 0
        """Alerts the webhook answered with 2xx (for tests and metrics)."""

    @classmethod
    def from_settings(cls, settings: Settings) -> WebhookAlerts:
        """Alerts to ``settings.webhook_url``, signed with the secret ``webhook_secret`` names.

        Raises:
            ConfigError: the named secret is not set.
        """
        secret = settings.secret(settings.webhook_secret) if settings.webhook_secret else None
        return cls(settings.webhook_url, secret)

    async def __aenter__(self) -> WebhookAlerts:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the HTTP session."""
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def notify(self, event: str, doc: DocumentRecord, message: str) -> bool:
        """Post one alert about ``doc``; True when the webhook took it (2xx)."""
        extra = {"partner_id": doc.partner_id, "document_id": doc.id, "alert": event}
        log.warning("alert: %s: %s", event, message, extra=extra)
        payload: dict[str, Any] = {
            "event": event,
            "document_id": doc.id,
            "partner_id": doc.partner_id,
            "state": str(doc.state),
            "message": message,
            "at": dt.datetime.now(dt.UTC).isoformat(),
        }
        return await self._post(payload, extra)

    async def notify_partner(
        self, event: str, partner_id: str, message: str, detail: Mapping[str, object]
    ) -> bool:
        """Post one alert about a partner (no document), e.g. ``dso.threshold``.

        The body is ``{"event", "partner_id", "message", "detail", "at"}``, signed as
        :meth:`notify`'s; ``detail`` must be JSON data. True when the webhook took it.
        """
        extra = {"partner_id": partner_id, "alert": event}
        log.warning("alert: %s: %s", event, message, extra=extra)
        payload: dict[str, Any] = {
            "event": event,
            "partner_id": partner_id,
            "message": message,
            "detail": dict(detail),
            "at": dt.datetime.now(dt.UTC).isoformat(),
        }
        return await self._post(payload, extra)

    async def _post(self, payload: dict[str, Any], extra: dict[str, Any]) -> bool:
        if not self.url:
            return False
        try:
            body = json.dumps(payload, separators=(",", ":")).encode("utf-8")
        except (TypeError, ValueError) as exc:  # a detail that is no JSON: log, never raise
            log.error("alert not posted: %s", exc, extra=extra)
            return False
        headers = {"Content-Type": "application/json"}
        if self._secret is not None:
            headers[SIGNATURE_HEADER] = sign(body, self._secret.get_secret_value())
        if self._session is None:
            self._session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=TIMEOUT_SECONDS)
            )
        try:
            async with self._session.post(self.url, data=body, headers=headers) as resp:
                if 200 <= resp.status < 300:
                    self.sent += 1
                    return True
                log.error("alert webhook answered HTTP %s", resp.status, extra=extra)
        except (aiohttp.ClientError, TimeoutError) as exc:
            # the edge of the HTTP library: an alert that cannot be posted is only logged
            log.error("alert webhook failed: %s", type(exc).__name__, extra=extra)
        return False
