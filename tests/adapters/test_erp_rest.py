"""The REST ERP connector against a real local aiohttp server standing in for the ERP.

The server checks what a real receiving ERP would: the HMAC over the exact body bytes
(a bad signature is a 401), and the Idempotency-Key (a repeat is answered 200 with the
first id). Failures are scripted per request: a status with a JSON body and headers,
or a slow answer. Orders come from BigBox's real 850 sample, translated by the gateway.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import hmac
import logging
import socket
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

import pytest
import pytest_asyncio
from aiohttp import web
from pydantic import SecretStr

from adapters.erp_rest import RestErp, RestSettings, register, retry_after_seconds
from gateway.errors import ConfigError, PermanentDeliveryError, TransientDeliveryError
from gateway.model import PurchaseOrder
from gateway.ports import AdapterRegistry, GatewayContext, load_adapters
from gateway.settings import Settings
from tests.support.orders import sample_order

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from pathlib import Path

KEY = "hmac-test-key-7f3a9c"


@pytest.fixture(scope="module")
def order() -> PurchaseOrder:
    return sample_order("bigbox")


@dataclass(frozen=True)
class Step:
    """One scripted answer: ``status`` with ``json`` and ``headers``, or a slow answer."""

    status: int = 200
    json: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    slow: bool = False


@dataclass
class Seen:
    headers: dict[str, str]
    body: bytes
    at: float


@dataclass
class FakeErp:
    """An ERP endpoint: verifies the signature, keeps orders by Idempotency-Key."""

    key: bytes
    url: str = ""
    script: list[Step] = field(default_factory=list)
    seen: list[Seen] = field(default_factory=list)
    orders: dict[str, str] = field(default_factory=dict)
    healthy: bool = True
    release: asyncio.Event = field(default_factory=asyncio.Event)

    async def post(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        self.seen.append(Seen(dict(request.headers), body, asyncio.get_running_loop().time()))
        if self.script:
            step = self.script.pop(0)
            if step.slow:
                await asyncio.wait_for(self.release.wait(), 10)
            if step.json is None:
                return web.Response(status=step.status, headers=step.headers)
            return web.json_response(step.json, status=step.status, headers=step.headers)
        expected = "sha256=" + hmac.new(self.key, body, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(request.headers.get("X-O2C-Signature", ""), expected):
            return web.json_response({"message": "bad signature"}, status=401)
        idem = request.headers["Idempotency-Key"]
        if idem in self.orders:
            return web.json_response({"id": self.orders[idem], "status": "open"}, status=200)
        self.orders[idem] = f"SO-{len(self.orders) + 1}"
        return web.json_response({"id": self.orders[idem], "status": "open"}, status=201)

    async def health(self, request: web.Request) -> web.Response:
        return web.Response(status=200 if self.healthy else 503)


@pytest_asyncio.fixture
async def erp_server() -> AsyncIterator[FakeErp]:
    fake = FakeErp(KEY.encode())
    app = web.Application()
    app.router.add_post("/api/orders", fake.post)
    app.router.add_get("/api/health", fake.health)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    fake.url = f"http://127.0.0.1:{port}/api/orders"
    try:
        yield fake
    finally:
        fake.release.set()
        await runner.cleanup()


@pytest_asyncio.fixture
async def make_erp() -> AsyncIterator[Any]:
    """Builds connectors (fast backoff unless told otherwise) and closes them after."""
    made: list[RestErp] = []

    def make(url: str, **settings: Any) -> RestErp:
        values = {"backoff_seconds": 0.01, "timeout_seconds": 5, **settings}
        erp = RestErp(RestSettings(url=url, secret="ERP_HMAC", **values), SecretStr(KEY))
        made.append(erp)
        return erp

    yield make
    for erp in made:
        await erp.close()


def expected_key(partner_id: str, po_number: str) -> str:
    return hashlib.sha256(f"{partner_id}:{po_number}".encode()).hexdigest()


async def test_push_posts_the_signed_canonical_json(
    erp_server: FakeErp, make_erp: Any, order: PurchaseOrder
) -> None:
    erp = make_erp(erp_server.url, headers={"X-Tenant": "acme"})

    result = await erp.push_order(order, partner_id="bigbox")

    assert (result.erp_order_id, result.status, result.created) == ("SO-1", "open", True)
    (seen,) = erp_server.seen
    assert seen.body == order.model_dump_json().encode("utf-8")
    assert PurchaseOrder.model_validate_json(seen.body) == order
    digest = hmac.new(KEY.encode(), seen.body, hashlib.sha256).hexdigest()
    assert seen.headers["X-O2C-Signature"] == f"sha256={digest}"
    assert seen.headers["Idempotency-Key"] == expected_key("bigbox", "4500098765")
    assert seen.headers["Content-Type"] == "application/json"
    assert seen.headers["X-O2C-Partner-Id"] == "bigbox"
    assert seen.headers["X-Tenant"] == "acme"
    assert abs(int(seen.headers["X-O2C-Timestamp"]) - time.time()) < 60


async def test_a_repeat_push_answers_created_false_with_the_first_id(
    erp_server: FakeErp, make_erp: Any, order: PurchaseOrder
) -> None:
    erp = make_erp(erp_server.url)

    first = await erp.push_order(order, partner_id="bigbox")
    again = await erp.push_order(order, partner_id="bigbox")
    other = await erp.push_order(order, partner_id="northwind")

    assert first.created is True and again.created is False
    assert again.erp_order_id == first.erp_order_id == "SO-1"
    assert other.created is True and other.erp_order_id == "SO-2"
    keys = [s.headers["Idempotency-Key"] for s in erp_server.seen]
    assert keys[0] == keys[1] != keys[2]


async def test_a_5xx_is_retried_within_the_call_with_the_same_key_and_signature(
    erp_server: FakeErp, make_erp: Any, order: PurchaseOrder
) -> None:
    erp_server.script = [Step(500, {"message": "database restarting"})]
    erp = make_erp(erp_server.url)

    result = await erp.push_order(order, partner_id="bigbox")

    assert result.created is True and result.erp_order_id == "SO-1"
    assert len(erp_server.seen) == 2
    first, second = erp_server.seen
    assert first.body == second.body
    for name in ("Idempotency-Key", "X-O2C-Signature"):
        assert first.headers[name] == second.headers[name]


async def test_429_waits_as_long_as_retry_after_says(
    erp_server: FakeErp, make_erp: Any, order: PurchaseOrder
) -> None:
    erp_server.script = [Step(429, {"message": "slow down"}, {"Retry-After": "1"})]
    erp = make_erp(erp_server.url, backoff_seconds=0.001)

    result = await erp.push_order(order, partner_id="bigbox")

    assert result.created is True
    first, second = erp_server.seen
    # The backoff alone would be about a millisecond: only Retry-After explains the gap.
    assert second.at - first.at >= 0.95


async def test_a_retry_after_beyond_the_limit_ends_the_call_at_once(
    erp_server: FakeErp, make_erp: Any, order: PurchaseOrder
) -> None:
    erp_server.script = [Step(503, {"message": "maintenance"}, {"Retry-After": "3600"})]
    erp = make_erp(erp_server.url, max_retry_after_seconds=5)

    with pytest.raises(TransientDeliveryError, match="HTTP 503: maintenance"):
        await erp.push_order(order, partner_id="bigbox")
    assert len(erp_server.seen) == 1


async def test_5xx_on_every_attempt_is_transient(
    erp_server: FakeErp, make_erp: Any, order: PurchaseOrder
) -> None:
    erp_server.script = [Step(503, {"error": "overloaded"}) for _ in range(3)]
    erp = make_erp(erp_server.url, max_attempts=3)

    with pytest.raises(TransientDeliveryError, match=r"after 3 attempt\(s\): HTTP 503: overloaded"):
        await erp.push_order(order, partner_id="bigbox")
    assert len(erp_server.seen) == 3
    assert erp_server.orders == {}


async def test_409_while_the_same_key_is_in_flight_is_retried(
    erp_server: FakeErp, make_erp: Any, order: PurchaseOrder
) -> None:
    erp_server.script = [Step(409, {"message": "request with this key in progress"})]
    erp = make_erp(erp_server.url)

    result = await erp.push_order(order, partner_id="bigbox")

    assert result.created is True and len(erp_server.seen) == 2


async def test_400_is_permanent_with_the_erps_message_and_no_retry(
    erp_server: FakeErp, make_erp: Any, order: PurchaseOrder
) -> None:
    erp_server.script = [Step(400, {"message": "unknown item 88812001\n  on line 1"})]
    erp = make_erp(erp_server.url)

    with pytest.raises(PermanentDeliveryError) as raised:
        await erp.push_order(order, partner_id="bigbox")

    assert "HTTP 400: unknown item 88812001 on line 1" in str(raised.value)
    assert "4500098765" in str(raised.value)
    assert len(erp_server.seen) == 1


async def test_a_bad_key_is_refused_permanently(erp_server: FakeErp, order: PurchaseOrder) -> None:
    settings = RestSettings(url=erp_server.url, secret="ERP_HMAC")
    erp = RestErp(settings, SecretStr("not-the-key"))
    try:
        with pytest.raises(PermanentDeliveryError, match="HTTP 401: bad signature"):
            await erp.push_order(order, partner_id="bigbox")
    finally:
        await erp.close()


async def test_neither_the_key_nor_the_body_reaches_errors_or_logs(
    erp_server: FakeErp, make_erp: Any, order: PurchaseOrder, caplog: pytest.LogCaptureFixture
) -> None:
    echo = {"message": f"signature key {KEY} is revoked"}
    erp_server.script = [Step(500, echo), Step(422, {"detail": {"message": f"bad key {KEY}"}})]
    erp = make_erp(erp_server.url)
    caplog.set_level(logging.DEBUG)

    with pytest.raises(PermanentDeliveryError) as raised:
        await erp.push_order(order, partner_id="bigbox")

    assert "HTTP 422: bad key ***" in str(raised.value)
    logged = caplog.text + " ".join(str(r.__dict__) for r in caplog.records)
    assert "retrying" in logged  # the 500 was logged...
    assert KEY not in logged and KEY not in str(raised.value)  # ...without the key
    assert "STAINLESS TRAVEL MUG" not in logged and "4500098765" in logged


async def test_a_slow_erp_times_out_as_transient(
    erp_server: FakeErp, make_erp: Any, order: PurchaseOrder
) -> None:
    erp_server.script = [Step(slow=True), Step(slow=True)]
    erp = make_erp(erp_server.url, timeout_seconds=0.3, max_attempts=2)

    with pytest.raises(TransientDeliveryError, match="no answer in time"):
        await erp.push_order(order, partner_id="bigbox")
    assert len(erp_server.seen) == 2


async def test_a_slow_answer_then_a_fast_one_succeeds(
    erp_server: FakeErp, make_erp: Any, order: PurchaseOrder
) -> None:
    erp_server.script = [Step(slow=True)]
    erp = make_erp(erp_server.url, timeout_seconds=0.3)

    result = await erp.push_order(order, partner_id="bigbox")

    assert result.created is True and len(erp_server.seen) == 2


async def test_a_refused_connection_is_transient(make_erp: Any, order: PurchaseOrder) -> None:
    with socket.socket() as sock:  # a port nothing listens on once the socket is closed
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    erp = make_erp(f"http://127.0.0.1:{port}/orders", max_attempts=2)

    with pytest.raises(TransientDeliveryError, match="cannot reach the server") as raised:
        await erp.push_order(order, partner_id="bigbox")
    assert "after 2 attempt(s)" in str(raised.value)


async def test_the_id_may_come_from_location(
    erp_server: FakeErp, make_erp: Any, order: PurchaseOrder
) -> None:
    erp_server.script = [Step(201, headers={"Location": "/api/orders/SO-77/"})]
    erp = make_erp(erp_server.url)

    result = await erp.push_order(order, partner_id="bigbox")

    assert (result.erp_order_id, result.status, result.created) == ("SO-77", "created", True)


async def test_a_2xx_without_any_id_is_permanent(
    erp_server: FakeErp, make_erp: Any, order: PurchaseOrder
) -> None:
    erp_server.script = [Step(201, {"status": "open"})]
    erp = make_erp(erp_server.url)

    with pytest.raises(PermanentDeliveryError, match="without an order id"):
        await erp.push_order(order, partner_id="bigbox")


async def test_a_redirect_is_not_followed(
    erp_server: FakeErp, make_erp: Any, order: PurchaseOrder
) -> None:
    erp_server.script = [Step(307, headers={"Location": "/elsewhere"})]
    erp = make_erp(erp_server.url)

    with pytest.raises(PermanentDeliveryError, match="HTTP 307"):
        await erp.push_order(order, partner_id="bigbox")
    assert len(erp_server.seen) == 1


async def test_health(erp_server: FakeErp, make_erp: Any) -> None:
    assert await make_erp(erp_server.url).health() is True  # no health path: nothing to ask
    checked = make_erp(erp_server.url, health_path="/api/health")
    assert await checked.health() is True
    erp_server.healthy = False
    assert await checked.health() is False
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    assert await make_erp(f"http://127.0.0.1:{port}/", health_path="health").health() is False


def test_retry_after_reads_seconds_and_http_dates() -> None:
    now = dt.datetime(2024, 3, 15, 12, 0, 0, tzinfo=dt.UTC)
    assert retry_after_seconds("7", now=now) == 7.0
    assert retry_after_seconds("Fri, 15 Mar 2024 12:00:30 GMT", now=now) == 30.0
    assert retry_after_seconds("Fri, 15 Mar 2024 11:00:00 GMT", now=now) == 0.0
    assert retry_after_seconds("soon", now=now) is None
    assert retry_after_seconds(None) is None


def _context(secrets_dir: Path) -> GatewayContext:
    settings = Settings(secrets_dir=secrets_dir)
    # The factory needs settings only.
    return GatewayContext(settings, cast("Any", None), cast("Any", None), cast("Any", None))


async def test_the_registered_factory_resolves_the_key_secret(
    erp_server: FakeErp, order: PurchaseOrder, tmp_path: Path
) -> None:
    assert "rest" in load_adapters().erps  # the entry point is installed
    registry = AdapterRegistry()
    register(registry)
    (tmp_path / "ERP_HMAC").write_text(KEY + "\n")
    ctx = _context(tmp_path)

    erp = await registry.erps["rest"](ctx, {"url": erp_server.url, "secret": "ERP_HMAC"})
    try:
        assert erp.name == "rest"
        result = await erp.push_order(order, partner_id="bigbox")  # the fake checks the HMAC
        assert result.created is True
    finally:
        await erp.close()


async def test_the_factory_refuses_bad_settings(erp_server: FakeErp, tmp_path: Path) -> None:
    registry = AdapterRegistry()
    register(registry)
    ctx = _context(tmp_path)
    factory = registry.erps["rest"]
    base = {"url": erp_server.url, "secret": "ERP_HMAC"}

    with pytest.raises(ConfigError, match="ERP_HMAC"):  # the secret is missing
        await factory(ctx, base)
    (tmp_path / "ERP_HMAC").write_text(KEY)
    with pytest.raises(ConfigError, match="carries a credential") as raised:
        await factory(ctx, {**base, "headers": {"Authorization": "Bearer abc"}})
    assert raised.value.problems[0].startswith("erp.headers")
    with pytest.raises(ConfigError, match="set by the connector"):
        await factory(ctx, {**base, "headers": {"idempotency-key": "x"}})
    with pytest.raises(ConfigError, match="timeout_secs"):
        await factory(ctx, {**base, "timeout_secs": 3})
    with pytest.raises(ConfigError, match=r"erp\.url"):
        await factory(ctx, {**base, "url": "ftp://erp.example/orders"})
