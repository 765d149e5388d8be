"""What the agreement forbids is refused with the right MDN or HTTP status; nothing is stored twice.

Messages are built by the openssl peer. Each refusal checks the MDN's disposition (RFC
4130 section 7.5.3 modifiers, as pyas2lib names them) and that no document was stored;
a replayed Message-ID gets the original MDN, byte for byte, and one document.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
import sqlalchemy as sa

from gateway.storage.schema import as2_messages
from tests.as2.conftest import MAX_BYTES, OUR_AS2, PEER_AS2, X12_850, start_gateway, write_partner
from tests.as2.peer import (
    as2_headers,
    boundary_of,
    encrypt,
    entity,
    report_fields,
    sign,
    signed_parts,
)

if TYPE_CHECKING:
    from pathlib import Path

    from aiohttp import ClientResponse

    from gateway.storage import Store
    from tests.as2.conftest import Gateway, Pki


async def start(
    tmp_path: Path, store: Store, pki: Pki, gateways: list[Gateway], **inbound: object
) -> Gateway:
    root = tmp_path / "gw"
    write_partner(
        root / "partners", "peer", partner=pki.peer, us=pki.gateway, inbound=dict(inbound)
    )
    gw = await start_gateway(root, store, pki.gateway)
    gateways.append(gw)
    return gw


async def disposition(resp: ClientResponse) -> tuple[str, str]:
    """The MDN's Disposition and its content type (signed or not)."""
    assert resp.status == 200
    ctype = resp.headers["Content-Type"]
    body = await resp.read()
    report = (
        signed_parts(body, boundary_of(ctype))[0] if ctype.startswith("multipart/signed") else body
    )
    return report_fields(report)["Disposition"].split(";", 1)[1].strip(), ctype.split(";")[0]


async def as2_rows(store: Store) -> list[tuple[str, str, str]]:
    async with store.unit() as unit:
        rows = await unit.connection.execute(
            sa.select(as2_messages.c.direction, as2_messages.c.message_id, as2_messages.c.status)
        )
        return [tuple(r) for r in rows]  # type: ignore[misc]


def tamper(signed: bytes) -> bytes:
    """Change one byte of the signed content (the PO number), leaving the signature as is."""
    assert signed.count(b"4500098765") == 1
    return signed.replace(b"4500098765", b"4500098766")


@pytest.mark.parametrize(
    ("build", "expected"),
    [
        pytest.param(
            lambda pki: encrypt(tamper(sign(entity(X12_850), pki.peer)), pki.gateway.cert),
            "processed/Error: authentication-failed",
            id="tampered-signature",
        ),
        pytest.param(
            lambda pki: encrypt(sign(entity(X12_850), pki.rogue), pki.gateway.cert),
            "processed/Error: authentication-failed",
            id="signed-with-another-certificate",
        ),
        pytest.param(
            lambda pki: encrypt(sign(entity(X12_850), pki.peer), pki.rogue.cert),
            "processed/Error: decryption-failed",
            id="encrypted-to-another-certificate",
        ),
        pytest.param(
            lambda pki: encrypt(entity(X12_850), pki.gateway.cert),
            "processed/Error: insufficient-message-security",
            id="unsigned-from-a-partner-that-must-sign",
        ),
    ],
)
async def test_refused_with_the_right_mdn_and_nothing_stored(
    tmp_path: Path, store: Store, pki: Pki, gateways: list[Gateway], build: object, expected: str
) -> None:
    gw = await start(tmp_path, store, pki, gateways)
    body = build(pki)  # type: ignore[operator]

    resp = await gw.client.post(
        "/as2", data=body, headers=as2_headers(PEER_AS2, OUR_AS2, message_id="bad@peer")
    )

    found, ctype = await disposition(resp)
    assert found == expected
    assert ctype == "multipart/signed"  # the partner asked for a signed receipt and is known
    assert await gw.documents("peer") == []
    assert await as2_rows(store) == [("in", "bad@peer", "rejected")]

    # Nothing lost: the same Message-ID, now good, is processed (a refusal is not replayed).
    good = encrypt(sign(entity(X12_850), pki.peer), pki.gateway.cert)
    again = await gw.client.post(
        "/as2", data=good, headers=as2_headers(PEER_AS2, OUR_AS2, message_id="bad@peer")
    )
    assert (await disposition(again))[0] == "processed"
    assert len(await gw.documents("peer")) == 1


async def test_unencrypted_from_a_partner_that_must_encrypt(
    tmp_path: Path, store: Store, pki: Pki, gateways: list[Gateway]
) -> None:
    gw = await start(tmp_path, store, pki, gateways)
    signed = sign(entity(X12_850), pki.peer)
    head, _, body = signed.partition(b"\r\n\r\n")
    ctype = next(line for line in head.decode().split("\r\n") if line.startswith("Content-Type:"))
    headers = as2_headers(PEER_AS2, OUR_AS2, content_type=ctype.split(":", 1)[1].strip())

    resp = await gw.client.post("/as2", data=body, headers=headers)

    assert (await disposition(resp))[0] == "processed/Error: insufficient-message-security"
    assert await gw.documents("peer") == []


async def test_signed_only_is_accepted_when_the_agreement_allows_it(
    tmp_path: Path, store: Store, pki: Pki, gateways: list[Gateway]
) -> None:
    gw = await start(tmp_path, store, pki, gateways, encrypt=False)
    signed = sign(entity(X12_850), pki.peer)
    head, _, body = signed.partition(b"\r\n\r\n")
    ctype = next(line for line in head.decode().split("\r\n") if line.startswith("Content-Type:"))
    headers = as2_headers(PEER_AS2, OUR_AS2, content_type=ctype.split(":", 1)[1].strip())

    resp = await gw.client.post("/as2", data=body, headers=headers)

    assert (await disposition(resp))[0] == "processed"
    [doc] = await gw.documents("peer")
    assert await store.get_payload(doc.payload_sha256) == X12_850


async def test_unknown_as2_id_gets_an_unsigned_refusal(
    tmp_path: Path, store: Store, pki: Pki, gateways: list[Gateway]
) -> None:
    gw = await start(tmp_path, store, pki, gateways)
    body = encrypt(sign(entity(X12_850), pki.peer), pki.gateway.cert)
    headers = as2_headers("NOBODY", OUR_AS2, async_url="http://127.0.0.1:9/never")

    resp = await gw.client.post("/as2", data=body, headers=headers)

    found, ctype = await disposition(resp)  # answered at once: never posted where a stranger says
    assert found == "processed/Error: unknown-trading-partner"
    assert ctype == "multipart/report"  # nothing signed for a stranger
    assert await gw.documents("peer") == []
    assert await as2_rows(store) == []


async def test_replayed_message_id_gets_the_original_mdn_and_is_stored_once(
    tmp_path: Path, store: Store, pki: Pki, gateways: list[Gateway]
) -> None:
    gw = await start(tmp_path, store, pki, gateways)
    body = encrypt(sign(entity(X12_850), pki.peer), pki.gateway.cert)
    headers = as2_headers(PEER_AS2, OUR_AS2, message_id="twice@peer")

    first = await gw.client.post("/as2", data=body, headers=headers)
    first_body = await first.read()
    second = await gw.client.post("/as2", data=body, headers=headers)
    second_body = await second.read()

    assert first.status == second.status == 200
    assert second_body == first_body  # the original MDN, its signature included
    assert second.headers["Message-ID"] == first.headers["Message-ID"]
    assert second.headers["Content-Type"] == first.headers["Content-Type"]
    [doc] = await gw.documents("peer")
    kinds = [e.kind for e in await store.events(doc.id)]
    assert kinds.count("duplicate") == 1
    assert await as2_rows(store) == [("in", "twice@peer", "received")]


async def test_oversized_body_is_refused_with_413_and_not_stored(
    tmp_path: Path, store: Store, pki: Pki, gateways: list[Gateway]
) -> None:
    gw = await start(tmp_path, store, pki, gateways)
    body = b"\x30" * (MAX_BYTES + 1)

    resp = await gw.client.post("/as2", data=body, headers=as2_headers(PEER_AS2, OUR_AS2))

    assert resp.status == 413
    assert await gw.documents("peer") == []
    assert await as2_rows(store) == []


async def test_a_request_without_as2_headers_is_a_bad_request(
    tmp_path: Path, store: Store, pki: Pki, gateways: list[Gateway]
) -> None:
    gw = await start(tmp_path, store, pki, gateways)

    resp = await gw.client.post("/as2", data=b"hello", headers={"Content-Type": "text/plain"})

    assert resp.status == 400
    assert "AS2-From" in await resp.text()
