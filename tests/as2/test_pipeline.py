"""An 850 received over AS2 goes through the same pipeline as SFTP and HTTP input.

BigBox (the example partner that trades over AS2) sends its sample 850 through the
openssl peer; the gateway's worker parses, acknowledges, maps and delivers it, and
sends the 997 back over AS2, which the peer decrypts and verifies.
"""

from __future__ import annotations

import shutil
from typing import TYPE_CHECKING

import yaml
from aiohttp.test_utils import TestServer

from gateway.storage import DocumentQuery, State
from tests.as2.conftest import OUR_AS2, PEER_AS2, ROOT, X12_850, start_gateway
from tests.as2.peer import as2_headers, encrypt, entity, sign, split_smime
from tests.as2.test_openssl_peer import peer_app

if TYPE_CHECKING:
    from pathlib import Path

    from gateway.storage import Store
    from tests.as2.conftest import Gateway, Pki


def bigbox_profile(partners_dir: Path, pki: Pki, url: str) -> None:
    """partners/bigbox.yaml with this test's certificates, AS2 ids and the peer's URL."""
    shutil.copytree(ROOT / "partners" / "bigbox", partners_dir / "bigbox")
    shutil.copy(pki.peer.cert, partners_dir / "bigbox" / "as2" / "peer.crt")
    shutil.copy(pki.gateway.cert, partners_dir / "bigbox" / "as2" / "ours.crt")
    profile = yaml.safe_load((ROOT / "partners" / "bigbox.yaml").read_text())
    ours = {
        "as2_id": PEER_AS2,
        "our_as2_id": OUR_AS2,
        "partner_certificate": "bigbox/as2/peer.crt",
        "our_certificate": "bigbox/as2/ours.crt",
        "our_key_secret": "AS2_KEY",
    }
    profile["channels"]["inbound"].update(ours)
    profile["channels"]["outbound"].update(ours, url=url, mdn="sync")
    (partners_dir / "bigbox.yaml").write_text(yaml.safe_dump(profile))


async def test_850_over_as2_is_processed_and_the_997_goes_back_over_as2(
    tmp_path: Path, store: Store, pki: Pki, gateways: list[Gateway]
) -> None:
    received: list[tuple[dict[str, str], bytes]] = []
    peer = TestServer(peer_app(pki, tmp_path, received), host="127.0.0.1")
    await peer.start_server()
    try:
        root = tmp_path / "gw"
        bigbox_profile(root / "partners", pki, str(peer.make_url("/as2")))
        gw = await start_gateway(root, store, pki.gateway)
        gateways.append(gw)
        body = encrypt(sign(entity(X12_850), pki.peer), pki.gateway.cert)
        resp = await gw.client.post("/as2", data=body, headers=as2_headers(PEER_AS2, OUR_AS2))
        assert resp.status == 200
        for _ in range(10):
            if await gw.worker.run_once() == 0:
                break
    finally:
        await peer.close()

    [(_, content)] = received
    _, ack = split_smime(content)
    assert ack.startswith(b"ISA") and b"ST*997*" in ack and b"AK1*PO*4711" in ack
    [file] = await store.search(DocumentQuery(partner_id="bigbox", doc_type="interchange"))
    assert file.channel == "as2" and file.state == State.ACKNOWLEDGED
    [order] = await store.search(DocumentQuery(partner_id="bigbox", doc_type="850"))
    assert order.state == State.DELIVERED
    [sent] = await store.search(DocumentQuery(partner_id="bigbox", doc_type="997"))
    assert sent.state == State.SENT and sent.parent_id == file.id
    assert list(gw.erp.orders) == [("bigbox", "4500098765")]
