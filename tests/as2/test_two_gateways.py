"""Two gateway instances on loopback, each with its own SQLite store, exchanging over AS2.

Gateway A sends an 810 (queued, sent by A's real worker) to gateway B with a
synchronous or an asynchronous MDN; B stores it and answers. Then the failure paths of
async MDNs: a negative one parks A's document, a missing one sends it again, and an
MDN B owes is retried until A's side takes it.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import hmac
import json
import socket
from typing import TYPE_CHECKING

import pytest
import sqlalchemy as sa
from aiohttp import web
from aiohttp.test_utils import TestServer
from pydantic import SecretStr

from gateway.pipeline.alerts import WebhookAlerts
from gateway.storage import State
from gateway.storage.schema import as2_messages
from tests.as2.conftest import open_sqlite_store, start_gateway, write_partner
from tests.as2.peer import mdn_report, split_smime
from tests.as2.test_openssl_peer import INVOICE_810

if TYPE_CHECKING:
    from pathlib import Path

    from gateway.ports import Alerts
    from gateway.storage import DocumentRecord, Store
    from tests.as2.conftest import Gateway, Pki
    from tests.as2.peer import Identity

A_ID, B_ID = "GATEWAY-A", "GATEWAY-B"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def pair(
    tmp_path: Path,
    pki: Pki,
    gateways: list[Gateway],
    *,
    mdn: str,
    b_trusts: Identity | None = None,
    alerts_a: Alerts | None = None,
) -> tuple[Gateway, Gateway]:
    """A (sends to B) and B (receives from A); ``b_trusts`` is the certificate B has for A."""
    port_a, port_b = free_port(), free_port()
    url_a, url_b = f"http://127.0.0.1:{port_a}/as2", f"http://127.0.0.1:{port_b}/as2"
    outbound = {"url": url_b, "mdn": mdn, "async_mdn_url": url_a}
    write_partner(
        tmp_path / "a" / "partners", "gw-b", partner=pki.gateway_b, us=pki.gateway,
        as2_id=B_ID, our_as2_id=A_ID, outbound=outbound,
    )  # fmt: skip
    write_partner(
        tmp_path / "b" / "partners", "gw-a", partner=b_trusts or pki.gateway, us=pki.gateway_b,
        as2_id=A_ID, our_as2_id=B_ID, inbound={},
    )  # fmt: skip
    store_a = await open_sqlite_store(tmp_path / "a" / "db")
    store_b = await open_sqlite_store(tmp_path / "b" / "db")
    a = await start_gateway(tmp_path / "a", store_a, pki.gateway, port=port_a, alerts=alerts_a)
    gateways.append(a)
    b = await start_gateway(tmp_path / "b", store_b, pki.gateway_b, port=port_b)
    gateways.append(b)
    for gw in (a, b):
        gw.extra.append(gw.store)
    return a, b


async def queue_810(gw: Gateway) -> DocumentRecord:
    return await gw.store.receive(
        INVOICE_810, partner_id="gw-b", channel="as2", doc_type="810", direction="out",
        state=State.QUEUED, message="queued",
    )  # fmt: skip


async def rows(store: Store) -> list[tuple[str, str]]:
    async with store.unit() as unit:
        result = await unit.connection.execute(
            sa.select(as2_messages.c.direction, as2_messages.c.status)
        )
        return [(r[0], r[1]) for r in result]


async def message_ids(store: Store) -> list[tuple[str, str]]:
    async with store.unit() as unit:
        result = await unit.connection.execute(
            sa.select(as2_messages.c.direction, as2_messages.c.message_id)
        )
        return [(r[0], r[1]) for r in result]


async def wait_for(predicate: object, within: float = 20.0) -> None:
    deadline = asyncio.get_running_loop().time() + within
    while not await predicate():  # type: ignore[operator]
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.05)


@pytest.fixture(autouse=True)
async def _close_stores(gateways: list[Gateway]):  # type: ignore[no-untyped-def]
    yield
    for gw in gateways:
        await gw.client.close()
        for store in gw.extra:
            await store.close()


@pytest.mark.parametrize("mdn", ["sync", "async"])
async def test_a_sends_an_810_to_b(
    tmp_path: Path, pki: Pki, gateways: list[Gateway], mdn: str
) -> None:
    a, b = await pair(tmp_path, pki, gateways, mdn=mdn)
    doc = await queue_810(a)

    assert await a.worker.run_once() == 1

    async def settled() -> bool:
        return ("out", "processed") in await rows(a.store)

    await wait_for(settled)
    sent = await a.store.get(doc.id)
    assert sent is not None and sent.state == State.SENT
    messages = [e.message for e in await a.store.events(doc.id)]
    assert any("processed, MIC verified" in m for m in messages), messages
    [got] = await b.documents("gw-a")
    assert got.channel == "as2" and got.direction == "in"
    assert await b.store.get_payload(got.payload_sha256) == INVOICE_810
    assert got.filename is not None and got.filename.startswith(f"gw-b-810-{doc.id}-")
    expected_in = "received" if mdn == "sync" else "mdn-sent"

    async def b_done() -> bool:
        return await rows(b.store) == [("in", expected_in)]

    await wait_for(b_done)


async def test_negative_async_mdn_parks_the_document(
    tmp_path: Path, pki: Pki, gateways: list[Gateway]
) -> None:
    posted: list[tuple[bytes, str]] = []

    async def webhook(request: web.Request) -> web.Response:
        posted.append((await request.read(), request.headers.get("X-O2C-Signature", "")))
        return web.Response(status=204)

    hook = web.Application()
    hook.router.add_post("/hook", webhook)
    server = TestServer(hook, host="127.0.0.1")
    await server.start_server()
    secret = SecretStr("webhook-key")
    alerts = WebhookAlerts(str(server.make_url("/hook")), secret)
    a, b = await pair(tmp_path, pki, gateways, mdn="async", b_trusts=pki.rogue, alerts_a=alerts)
    doc = await queue_810(a)

    assert await a.worker.run_once() == 1

    async def parked() -> bool:
        found = await a.store.get(doc.id)
        return found is not None and found.state == State.FAILED

    await wait_for(parked)
    failed = await a.store.get(doc.id)
    assert failed is not None and failed.last_error is not None
    assert "authentication-failed" in failed.last_error
    assert ("out", "failed") in await rows(a.store)
    assert await b.documents("gw-a") == []
    # the parked send is alerted like any other, signed with the webhook secret
    await alerts.aclose()
    await server.close()
    [(body, signature)] = posted
    alert = json.loads(body)
    assert (alert["event"], alert["document_id"], alert["state"]) == ("failed", doc.id, "failed")
    expected = hmac.new(b"webhook-key", body, hashlib.sha256).hexdigest()
    assert signature == f"sha256={expected}"


async def test_missing_async_mdn_sends_again(
    tmp_path: Path, pki: Pki, gateways: list[Gateway]
) -> None:
    taken: list[str] = []

    async def silent(request: web.Request) -> web.Response:
        await request.read()
        taken.append(request.headers["Message-ID"])
        return web.Response(status=200)  # takes the message, never sends an MDN

    app = web.Application()
    app.router.add_post("/as2", silent)
    peer = TestServer(app, host="127.0.0.1")
    await peer.start_server()
    try:
        root = tmp_path / "a"
        write_partner(
            root / "partners", "gw-b", partner=pki.gateway_b, us=pki.gateway, as2_id=B_ID,
            our_as2_id=A_ID,
            outbound={"url": str(peer.make_url("/as2")), "mdn": "async",
                      "async_mdn_url": "http://127.0.0.1:1/as2", "async_mdn_timeout_minutes": 5},
        )  # fmt: skip
        store = await open_sqlite_store(root / "db")
        a = await start_gateway(root, store, pki.gateway, retry_base=0.01)
        gateways.append(a)
        a.extra.append(store)
        doc = await queue_810(a)
        assert await a.worker.run_once() == 1
        # Anyone can post to /as2: an MDN that is not signed by the partner settles nothing.
        [(_, message_id)] = await message_ids(store)
        forged = mdn_report(
            message_id, mic_value=None, disposition="processed/error: decryption-failed"
        )
        headers, body = split_smime(forged)
        headers.update({"AS2-From": B_ID, "AS2-To": A_ID, "Message-ID": "<forged@x>"})
        resp = await a.client.post("/as2", data=body, headers=headers)
        assert resp.status == 403
        courier = a.courier()

        await courier.sweep(now=dt.datetime.now(dt.UTC) + dt.timedelta(minutes=4))
        still = await store.get(doc.id)
        assert still is not None and still.state == State.SENT
        await courier.sweep(now=dt.datetime.now(dt.UTC) + dt.timedelta(minutes=6))
        again = await store.get(doc.id)
        assert again is not None and again.state == State.QUEUED
        assert again.last_error is not None and "no MDN within 5 minutes" in again.last_error
        await asyncio.sleep(0.05)  # the retry delay of these settings
        assert await a.worker.run_once() == 1
    finally:
        await peer.close()
    assert len(taken) == 2 and taken[0] != taken[1]  # sent again, as a new AS2 message
    assert sorted(await rows(store)) == [("out", "mdn-overdue"), ("out", "mdn-pending")]


async def test_owed_async_mdn_is_retried_until_taken(
    tmp_path: Path, pki: Pki, gateways: list[Gateway]
) -> None:
    from tests.as2.conftest import OUR_AS2, PEER_AS2, X12_850
    from tests.as2.peer import as2_headers, encrypt, entity, report_fields, sign

    answers = [503, 200]
    got: list[bytes] = []

    async def mdn_inbox(request: web.Request) -> web.Response:
        got.append(await request.read())
        return web.Response(status=answers.pop(0))

    app = web.Application()
    app.router.add_post("/mdn", mdn_inbox)
    inbox = TestServer(app, host="127.0.0.1")
    await inbox.start_server()
    try:
        root = tmp_path / "gw"
        write_partner(root / "partners", "peer", partner=pki.peer, us=pki.gateway, inbound={})
        store = await open_sqlite_store(root / "db")
        gw = await start_gateway(root, store, pki.gateway)
        gateways.append(gw)
        gw.extra.append(store)
        body = encrypt(sign(entity(X12_850), pki.peer), pki.gateway.cert)
        headers = as2_headers(PEER_AS2, OUR_AS2, async_url=str(inbox.make_url("/mdn")))
        resp = await gw.client.post("/as2", data=body, headers=headers)
        assert resp.status == 200 and "MDN goes to" in await resp.text()

        async def first_try() -> bool:
            return await rows(store) == [("in", "mdn-pending:1")]

        await wait_for(first_try)
        courier = gw.courier()
        await courier.sweep()  # not due yet (30 s backoff)
        assert len(got) == 1
        await courier.sweep(now=dt.datetime.now(dt.UTC) + dt.timedelta(minutes=2))
    finally:
        await inbox.close()
    assert await rows(store) == [("in", "mdn-sent")]
    assert len(got) == 2 and got[0] == got[1]
    assert report_fields(got[1])["Disposition"].endswith("processed")
    assert len(await gw.documents("peer")) == 1
