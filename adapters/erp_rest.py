"""REST ERP connector: canonical orders POSTed as signed JSON to an ERP's HTTP endpoint.

``push_order`` sends ``order.model_dump_json()`` (UTF-8) to ``url`` with these headers:

- ``Idempotency-Key``: hex SHA-256 of ``<partner_id>:<po_number>``, the same for every
  retry and every reprocessing of the order, so the ERP can refuse a second order;
- ``X-O2C-Signature: sha256=<hex>``: HMAC-SHA256 of the exact body bytes, keyed with
  the secret named by ``secret``;
- ``X-O2C-Timestamp``: Unix seconds when the attempt was sent; ``X-O2C-Partner-Id``.

The answer decides the result: 201 or 202 is a new order, 200 one the ERP already had
(``created=False``); the ERP's id is the JSON answer's ``id`` or ``order_id``, else the
last segment of ``Location``; its status is the answer's ``status``. 408, 409 (the same
key still being processed, per the IETF Idempotency-Key draft), 425, 429, 5xx, timeouts
and connection errors are retried inside the call (``max_attempts``, exponential
backoff with jitter, ``Retry-After`` honoured up to ``max_retry_after_seconds``), then
raise ``TransientDeliveryError``; other 3xx and 4xx raise ``PermanentDeliveryError``
with the ERP's message. Neither the body nor the secret is ever logged or put in an
error message.

Imports only aiohttp, pydantic and ``gateway``'s ``ports``, ``model``, ``errors``
(adapter rule).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import email.utils
import hashlib
import hmac
import json
import logging
import random
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Final
from urllib.parse import urljoin, urlsplit

import aiohttp
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from gateway.errors import ConfigError, PermanentDeliveryError, TransientDeliveryError
from gateway.ports import ErpResult

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping

    from pydantic import SecretStr

    from gateway.model import PurchaseOrder
    from gateway.ports import AdapterRegistry, GatewayContext

log = logging.getLogger(__name__)

SIGNATURE_HEADER: Final = "X-O2C-Signature"
TIMESTAMP_HEADER: Final = "X-O2C-Timestamp"
PARTNER_HEADER: Final = "X-O2C-Partner-Id"
_RESERVED: Final = frozenset(
    h.lower()
    for h in ("Content-Type", "Idempotency-Key", SIGNATURE_HEADER, TIMESTAMP_HEADER, PARTNER_HEADER)
)
# Credentials in the settings file would break the rule that secrets never go in YAML.
_CREDENTIAL_HEADERS: Final = frozenset({"authorization", "proxy-authorization", "cookie"})
_RETRIED_STATUS: Final = frozenset({408, 409, 425, 429})
_MAX_ANSWER_BYTES: Final = 1 << 20
_MAX_MESSAGE_CHARS: Final = 300


class RestSettings(BaseModel):
    """The ``erp:`` settings block for ``connector: rest``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    url: str = Field(pattern=r"^https?://[^/]+")
    """Where orders are POSTed."""
    secret: str = Field(min_length=1)
    """Name of the secret holding the HMAC key (``O2C_SECRET_<NAME>`` or the secrets dir)."""
    timeout_seconds: float = Field(default=10.0, gt=0)
    """For one attempt, connecting included."""
    max_attempts: int = Field(default=3, ge=1, le=10)
    """Attempts inside one call before a ``TransientDeliveryError``."""
    backoff_seconds: float = Field(default=0.5, ge=0)
    """Delay before the second attempt; it doubles each time (jitter of 0.5x to 1.5x)."""
    max_retry_after_seconds: float = Field(default=30.0, ge=0)
    """A longer ``Retry-After`` ends the call at once: the worker's own backoff takes over."""
    health_path: str | None = None
    """Resolved against ``url``; ``health()`` GETs it and wants a 2xx. None: always healthy."""
    headers: dict[str, str] = Field(default_factory=dict)
    """Extra, non-secret headers sent with every request."""

    @field_validator("headers")
    @classmethod
    def _plain_headers(cls, value: dict[str, str]) -> dict[str, str]:
        for name in value:
            if name.lower() in _RESERVED:
                raise ValueError(f"header {name!r} is set by the connector")
            if name.lower() in _CREDENTIAL_HEADERS:
                raise ValueError(f"header {name!r} carries a credential: secrets never go here")
        return value


def idempotency_key(partner_id: str, po_number: str) -> str:
    """The ``Idempotency-Key`` of an order: hex SHA-256 of ``<partner_id>:<po_number>``."""
    return hashlib.sha256(f"{partner_id}:{po_number}".encode()).hexdigest()


def signature(key: bytes, body: bytes) -> str:
    """The ``X-O2C-Signature`` value for ``body``: ``sha256=<hex HMAC-SHA256>``."""
    return "sha256=" + hmac.new(key, body, hashlib.sha256).hexdigest()


def retry_after_seconds(value: str | None, *, now: dt.datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` value (delay-seconds or an HTTP-date), or None."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:  # RFC 9110 section 5.6.7: HTTP-dates are in GMT
        when = when.replace(tzinfo=dt.UTC)
    return max(0.0, (when - (now or dt.datetime.now(dt.UTC))).total_seconds())


@dataclass(frozen=True, slots=True)
class _Answer:
    status: int
    body: bytes
    location: str | None
    retry_after: str | None


class _RetryableError(Exception):
    """One attempt failed in a way worth another; ``delay`` is the server's wish, if any."""

    def __init__(self, message: str, delay: float | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.delay = delay


class RestErp:
    """An ``ErpConnector`` that POSTs signed canonical JSON; see the module docstring.

    Args:
        settings: the connector's settings block.
        key: the HMAC key.
        rng: the source of retry jitter.
    """

    name = "rest"
    kind: ClassVar[str] = "rest"
    Config: ClassVar[type[RestSettings]] = RestSettings

    def __init__(
        self, settings: RestSettings, key: SecretStr, *, rng: random.Random | None = None
    ) -> None:
        self.settings = settings
        self._key = key
        self._rng = rng or random.Random()  # noqa: S311 (jitter, not cryptography)
        self._timeout = aiohttp.ClientTimeout(total=settings.timeout_seconds)
        self._http: aiohttp.ClientSession | None = None

    async def push_order(self, order: PurchaseOrder, *, partner_id: str) -> ErpResult:
        """POST the order until the ERP answers for good or the attempts run out."""
        body = order.model_dump_json().encode("utf-8")
        headers = {
            **self.settings.headers,
            "Content-Type": "application/json",
            "Idempotency-Key": idempotency_key(partner_id, order.po_number),
            SIGNATURE_HEADER: signature(self._key.get_secret_value().encode("utf-8"), body),
            PARTNER_HEADER: partner_id,
        }
        where = {"partner_id": partner_id, "po_number": order.po_number}
        for attempt in range(1, self.settings.max_attempts + 1):
            try:
                answer = await self._post(body, headers)
                result = self._result(answer, order.po_number)
            except _RetryableError as exc:
                delay = self._delay(attempt, exc.delay)
                if attempt == self.settings.max_attempts or delay is None:
                    raise TransientDeliveryError(
                        f"ERP at {self._where()} refused PO {order.po_number} for now after"
                        f" {attempt} attempt(s): {exc.message}"
                    ) from exc
                log.warning(
                    "ERP push attempt %d failed (%s); retrying in %.2f s",
                    attempt,
                    exc.message,
                    delay,
                    extra=where,
                )
                await asyncio.sleep(delay)
                continue
            log.info(
                "order %s in the REST ERP",
                "created" if result.created else "found",
                extra={**where, "erp_order_id": result.erp_order_id, "attempts": attempt},
            )
            return result
        raise AssertionError("unreachable: the last attempt returns or raises")

    async def health(self) -> bool:
        """GET ``health_path`` and want a 2xx; True when none is configured."""
        if self.settings.health_path is None:
            return True
        url = urljoin(self.settings.url, self.settings.health_path)
        try:
            async with self._session().get(
                url, headers=self.settings.headers, allow_redirects=False
            ) as response:
                return 200 <= response.status < 300
        except (aiohttp.ClientError, TimeoutError) as exc:
            log.warning("ERP health check failed: %s", type(exc).__name__)
            return False

    async def close(self) -> None:
        """Close the HTTP connections."""
        if self._http is not None:
            await self._http.close()
            self._http = None

    def _session(self) -> aiohttp.ClientSession:
        if self._http is None:
            self._http = aiohttp.ClientSession(timeout=self._timeout)
        return self._http

    def _where(self) -> str:
        parts = urlsplit(self.settings.url)
        return f"{parts.scheme}://{parts.hostname}{parts.path}"

    async def _post(self, body: bytes, headers: dict[str, str]) -> _Answer:
        headers = {**headers, TIMESTAMP_HEADER: str(int(time.time()))}
        with map_errors():
            # Redirects are not followed: aiohttp would turn a redirected POST into a GET.
            async with self._session().post(
                self.settings.url, data=body, headers=headers, allow_redirects=False
            ) as response:
                answer = _Answer(
                    response.status,
                    await _read_capped(response),
                    response.headers.get("Location"),
                    response.headers.get("Retry-After"),
                )
        if answer.status in _RETRIED_STATUS or answer.status >= 500:
            delay = retry_after_seconds(answer.retry_after)
            raise _RetryableError(f"HTTP {answer.status}{self._message(answer)}", delay)
        return answer

    def _result(self, answer: _Answer, po_number: str) -> ErpResult:
        if not 200 <= answer.status < 300:
            raise PermanentDeliveryError(
                f"ERP at {self._where()} refused PO {po_number}: HTTP {answer.status}"
                f"{self._message(answer)}"
            )
        data = _json_object(answer.body)
        erp_id = data.get("id", data.get("order_id"))
        if erp_id is None and answer.location:
            erp_id = urlsplit(answer.location).path.rstrip("/").rpartition("/")[2] or None
        if erp_id is None or isinstance(erp_id, (dict, list)):
            raise PermanentDeliveryError(
                f"ERP at {self._where()} answered HTTP {answer.status} for PO {po_number} without"
                " an order id (expected `id` or `order_id` in the JSON answer, or Location)"
            )
        created = answer.status != 200
        status = data.get("status")
        if not isinstance(status, str):
            status = "created" if created else "exists"
        return ErpResult(str(erp_id), status, created, {"http_status": answer.status})

    def _message(self, answer: _Answer) -> str:
        """The ERP's own message, trimmed, with the key blanked should the ERP echo it."""
        data = _json_object(answer.body)
        found = next(
            (data[k] for k in ("message", "error", "detail", "title") if data.get(k)), None
        )
        if isinstance(found, dict):
            found = found.get("message") or json.dumps(found)
        text = str(found) if found is not None else answer.body.decode("utf-8", "replace")
        text = " ".join(text.split())
        secret = self._key.get_secret_value()
        if secret:
            text = text.replace(secret, "***")
        if len(text) > _MAX_MESSAGE_CHARS:
            text = text[: _MAX_MESSAGE_CHARS - 1] + "…"
        return f": {text}" if text else ""

    def _delay(self, attempt: int, wished: float | None) -> float | None:
        """Seconds before the next attempt; None when the server asks for too long a wait."""
        if wished is not None:
            return wished if wished <= self.settings.max_retry_after_seconds else None
        base = self.settings.backoff_seconds * 2 ** (attempt - 1)
        return float(base * self._rng.uniform(0.5, 1.5))


async def _read_capped(response: aiohttp.ClientResponse) -> bytes:
    """The answer's body, at most ``_MAX_ANSWER_BYTES`` of it (an ERP's answer is small)."""
    body = bytearray()
    async for chunk in response.content.iter_chunked(64 * 1024):
        body += chunk
        if len(body) >= _MAX_ANSWER_BYTES:
            break
    return bytes(body[:_MAX_ANSWER_BYTES])


def _json_object(body: bytes) -> dict[str, Any]:
    try:
        data = json.loads(body) if body else None
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


@contextlib.contextmanager
def map_errors() -> Iterator[None]:
    """Turn aiohttp's connection errors and timeouts into a retryable failure."""
    try:
        yield
    except TimeoutError as exc:
        raise _RetryableError("no answer in time") from exc
    except aiohttp.ClientConnectionError as exc:
        raise _RetryableError(f"cannot reach the server ({type(exc).__name__})") from exc
    except aiohttp.ClientError as exc:
        raise _RetryableError(f"HTTP client error ({type(exc).__name__})") from exc


def _config_error(exc: ValidationError) -> ConfigError:
    problems = [f"erp.{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()]
    return ConfigError("invalid REST connector settings: " + "; ".join(problems), problems=problems)


async def create_connector(ctx: GatewayContext, settings: Mapping[str, Any]) -> RestErp:
    """Build the connector from its settings block, resolving the HMAC key secret."""
    try:
        config = RestSettings.model_validate(settings)
    except ValidationError as exc:
        raise _config_error(exc) from exc
    return RestErp(config, ctx.settings.secret(config.secret))


def register(registry: AdapterRegistry) -> None:
    """Offer the REST connector as ``erp: {connector: rest, ...}``."""
    registry.add_erp("rest", create_connector)
