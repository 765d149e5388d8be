"""Exchanges with an independent AS2 peer built on the openssl command line (tests/as2/peer.py).

An 850 comes in signed and encrypted by openssl; the signed MDN that goes back is
verified with openssl and its MIC compared with openssl's digest of what was signed.
An 810 goes out; openssl decrypts it, verifies the signature and finds our bytes,
byte for byte, and answers with an MDN it signed itself, which the gateway verifies.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from gateway.storage import State
from tests.as2.conftest import OUR_AS2, PEER_AS2, X12_850, start_gateway, write_partner
from tests.as2.peer import (
    OpensslError,
    as2_headers,
    boundary_of,
    decrypt,
    encrypt,
    entity,
    mdn_report,
    mic,
    report_fields,
    sign,
    signed_parts,
    split_smime,
    verify_detached,
)

if TYPE_CHECKING:
    from pathlib import Path

    from gateway.storage import Store
    from tests.as2.conftest import Gateway, Pki

INVOICE_810 = (
    b"ISA*00*          *00*          *ZZ*O2CGATEWAY     *12*5555550100     *240316*1000*U*00401"
    b"*000000042*0*P*>~\nGS*IN*O2CGATEWAY*5555550100*20240316*1000*42*X*004010~\n"
    b"ST*810*0001~\nBIG*20240316*INV-1001**4500098765~\nTDS*12345~\nSE*4*0001~\nGE*1*42~\n"
    b"IEA*1*000000042~\n"
)


async def test_850_in_signed_and_encrypted_by_openssl(
    tmp_path: Path, store: Store, pki: Pki, gateways: list[Gateway]
) -> None:
    root = tmp_path / "gw"
    write_partner(root / "partners", "peer", partner=pki.peer, us=pki.gateway, inbound={})
    gw = await start_gateway(root, store, pki.gateway)
    gateways.append(gw)
    content = entity(X12_850)
    body = encrypt(sign(content, pki.peer), pki.gateway.cert)

    resp = await gw.client.post(
        "/as2", data=body, headers=as2_headers(PEER_AS2, OUR_AS2, message_id="po-1@peer")
    )

    assert resp.status == 200
    ctype = resp.headers["Content-Type"]
    assert ctype.startswith("multipart/signed")
    report, signature = signed_parts(await resp.read(), boundary_of(ctype))
    verify_detached(report, signature, pki.gateway.cert, tmp_path)  # openssl: our signature
    with pytest.raises(OpensslError):
        verify_detached(report, signature, pki.rogue.cert, tmp_path)
    fields = report_fields(report)
    assert fields["Original-Message-ID"] == "<po-1@peer>"
    assert fields["Disposition"] == "automatic-action/MDN-sent-automatically; processed"
    assert fields["Received-content-MIC"] == f"{mic(content)}, sha256"
    assert resp.headers["AS2-From"] == OUR_AS2
    assert resp.headers["AS2-To"] == PEER_AS2
    [doc] = await gw.documents("peer")
    assert (doc.direction, doc.channel, doc.state, doc.filename) == (
        "in",
        "as2",
        State.RECEIVED,
        "po.x12",
    )
    assert doc.controls.interchange_control == "000004711"
    assert await store.get_payload(doc.payload_sha256) == X12_850
    events = await store.events(doc.id)
    assert any(e.detail.get("message_id") == "po-1@peer" and e.detail.get("signed") for e in events)


def peer_app(pki: Pki, tmp: Path, received: list[tuple[dict[str, str], bytes]]) -> web.Application:
    """The openssl peer's AS2 endpoint: decrypt, verify, answer with an MDN it signs."""

    async def receive(request: web.Request) -> web.Response:
        body = await request.read()
        signed = await asyncio.to_thread(decrypt, body, pki.peer)
        headers, smime_body = split_smime(signed)
        content, signature = signed_parts(smime_body, boundary_of(headers["Content-Type"]))
        await asyncio.to_thread(verify_detached, content, signature, pki.gateway.cert, tmp)
        received.append((dict(request.headers), content))
        original = request.headers["Message-ID"].strip("<>")
        report = mdn_report(original, mic_value=mic(content), disposition="processed")
        mdn_headers, mdn_body = split_smime(await asyncio.to_thread(sign, report, pki.peer))
        mdn_headers.update(
            {
                "AS2-From": PEER_AS2,
                "AS2-To": OUR_AS2,
                "AS2-Version": "1.2",
                "Message-ID": "<mdn-1@peer>",
            }
        )
        return web.Response(body=mdn_body, headers=mdn_headers)

    app = web.Application()
    app.router.add_post("/as2", receive)
    return app


async def test_810_out_openssl_decrypts_and_verifies_byte_for_byte(
    tmp_path: Path, store: Store, pki: Pki, gateways: list[Gateway]
) -> None:
    received: list[tuple[dict[str, str], bytes]] = []
    peer = TestServer(peer_app(pki, tmp_path, received), host="127.0.0.1")
    await peer.start_server()
    try:
        root = tmp_path / "gw"
        outbound = {"url": str(peer.make_url("/as2")), "mdn": "sync"}
        write_partner(
            root / "partners", "peer", partner=pki.peer, us=pki.gateway, outbound=outbound
        )
        gw = await start_gateway(root, store, pki.gateway)
        gateways.append(gw)
        doc = await store.receive(
            INVOICE_810, partner_id="peer", channel="as2", doc_type="810", direction="out",
            state=State.QUEUED, message="queued",
        )  # fmt: skip

        assert await gw.worker.run_once() == 1
    finally:
        await peer.close()

    [(headers, content)] = received
    entity_headers, payload = split_smime(content)
    assert payload == INVOICE_810  # byte for byte, bare LF line ends included
    assert entity_headers["Content-Transfer-Encoding"] == "binary"
    assert headers["AS2-From"] == OUR_AS2 and headers["AS2-To"] == PEER_AS2
    assert "pkcs7-mime" in headers["Content-Type"]
    sent = await store.get(doc.id)
    assert sent is not None and sent.state == State.SENT
    events = await store.events(doc.id)
    message_id = headers["Message-ID"].strip("<>")
    assert any(
        e.kind == "delivery" and f"Message-ID <{message_id}>: MDN processed" in e.message
        for e in events
    )


async def test_810_out_with_a_mic_the_peer_disputes_is_retried(
    tmp_path: Path, store: Store, pki: Pki, gateways: list[Gateway]
) -> None:
    async def receive(request: web.Request) -> web.Response:
        await request.read()
        original = request.headers["Message-ID"].strip("<>")
        report = mdn_report(original, mic_value="AAAA", disposition="processed")
        mdn_headers, mdn_body = split_smime(await asyncio.to_thread(sign, report, pki.peer))
        mdn_headers.update({"AS2-From": PEER_AS2, "AS2-To": OUR_AS2, "Message-ID": "<m@peer>"})
        return web.Response(body=mdn_body, headers=mdn_headers)

    app = web.Application()
    app.router.add_post("/as2", receive)
    peer = TestServer(app, host="127.0.0.1")
    await peer.start_server()
    try:
        root = tmp_path / "gw"
        outbound = {"url": str(peer.make_url("/as2")), "mdn": "sync"}
        write_partner(
            root / "partners", "peer", partner=pki.peer, us=pki.gateway, outbound=outbound
        )
        gw = await start_gateway(root, store, pki.gateway)
        gateways.append(gw)
        doc = await store.receive(
            INVOICE_810, partner_id="peer", channel="as2", doc_type="810", direction="out",
            state=State.QUEUED, message="queued",
        )  # fmt: skip
        assert await gw.worker.run_once() == 1
    finally:
        await peer.close()
    again = await store.get(doc.id)
    assert again is not None and again.state == State.QUEUED
    assert again.last_error is not None and "Message Integrity check failed" in again.last_error
