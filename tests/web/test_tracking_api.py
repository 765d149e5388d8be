"""Search filters, paging and reprocessing over the real API."""

from __future__ import annotations

from typing import TYPE_CHECKING

from gateway.storage import Controls, State
from tests.web.conftest import X12_850, Keys, bearer, error_of

if TYPE_CHECKING:
    from aiohttp import web
    from aiohttp.test_utils import TestClient

    from gateway.storage import DocumentRecord, Store


async def _seed(store: Store) -> dict[str, DocumentRecord]:
    nw_file = await store.receive(
        X12_850,
        partner_id="northwind",
        channel="sftp_hosted",
        controls=Controls(interchange_control="000000312", group_control="312"),
    )
    docs = {
        "nw_file": nw_file,
        "nw_po": await store.receive(
            b"ST|850|0001~",
            partner_id="northwind",
            channel="sftp_hosted",
            doc_type="850",
            parent_id=nw_file.id,
            business_key="NW-PO-88213",
            controls=Controls(interchange_control="000000312", transaction_control="0001"),
        ),
        "bb_ack": await store.receive(
            b"ISA*997*...~",
            partner_id="bigbox",
            channel="sftp_poll",
            doc_type="997",
            direction="out",
            state=State.QUEUED,
            controls=Controls(interchange_control="000000777"),
        ),
        "acme_xml": await store.receive(
            b"<cXML/>", partner_id="acme-procure", channel="http", doc_type="xml", format="xml"
        ),
    }
    async with store.unit() as unit:
        await unit.set_state(docs["acme_xml"].id, State.FAILED, "parked", error="ERP said no")
    return docs


async def _ids(client: TestClient[web.Request, web.Application], key: str, query: str) -> list[int]:
    resp = await client.get(f"/api/v1/documents?{query}", headers=bearer(key))
    assert resp.status == 200, await resp.text()
    return [d["id"] for d in (await resp.json())["documents"]]


async def test_search_filters(
    client: TestClient[web.Request, web.Application], keys: Keys, store: Store
) -> None:
    d = {name: doc.id for name, doc in (await _seed(store)).items()}
    k = keys.operator
    assert await _ids(client, k, "") == sorted(d.values(), reverse=True)  # newest first
    assert await _ids(client, k, "partner=northwind") == [d["nw_po"], d["nw_file"]]
    assert await _ids(client, k, "direction=out") == [d["bb_ack"]]
    assert await _ids(client, k, "type=850") == [d["nw_po"]]
    assert await _ids(client, k, "state=failed") == [d["acme_xml"]]
    assert await _ids(client, k, "state=queued&partner=bigbox") == [d["bb_ack"]]
    assert await _ids(client, k, "control_number=000000312") == [d["nw_po"], d["nw_file"]]
    assert await _ids(client, k, "control_number=0001") == [d["nw_po"]]
    assert await _ids(client, k, "business_key=NW-PO-88213") == [d["nw_po"]]
    assert await _ids(client, k, "since=2999-01-01") == []
    assert len(await _ids(client, k, "until=2999-01-01T00:00:00%2B00:00")) == 4
    assert await _ids(client, k, "since=2000-01-01&until=2000-01-02") == []
    # A partner key's search is held to its partner whatever it asks for.
    assert await _ids(client, keys.acme, "") == [d["acme_xml"]]
    assert await _ids(client, keys.acme, "partner=northwind") == [d["acme_xml"]]


async def test_search_pages_with_before(
    client: TestClient[web.Request, web.Application], keys: Keys, store: Store
) -> None:
    ids = sorted(doc.id for doc in (await _seed(store)).values())
    resp = await client.get("/api/v1/documents?limit=3", headers=bearer(keys.admin))
    page = await resp.json()
    assert [x["id"] for x in page["documents"]] == ids[::-1][:3]
    next_link = page["links"]["next"]
    assert f"before={ids[1]}" in next_link
    resp = await client.get(next_link, headers=bearer(keys.admin))
    page = await resp.json()
    assert [x["id"] for x in page["documents"]] == [ids[0]]
    assert page["links"]["next"] is None


async def test_bad_search_parameters_are_400(
    client: TestClient[web.Request, web.Application], keys: Keys
) -> None:
    for query, word in [
        ("state=lost", "state"),
        ("direction=sideways", "direction"),
        ("since=yesterday", "since"),
        ("limit=0", "limit"),
        ("limit=many", "limit"),
        ("before=-3", "before"),
    ]:
        resp = await client.get(f"/api/v1/documents?{query}", headers=bearer(keys.admin))
        assert resp.status == 400, query
        error = await error_of(resp)
        assert error["code"] == "bad_request"
        assert word in error["message"], query


async def test_reprocess_needs_an_operator_and_force_needs_an_admin(
    client: TestClient[web.Request, web.Application], keys: Keys, store: Store
) -> None:
    docs = await _seed(store)
    failed = docs["acme_xml"].id
    url = f"/api/v1/documents/{failed}/reprocess"
    for key in (keys.viewer, keys.acme, keys.clerk):
        resp = await client.post(url, json={"force": False}, headers=bearer(key))
        assert resp.status == 403
        assert (await error_of(resp))["code"] == "forbidden"
    doc = await store.get(failed)
    assert doc is not None and doc.state == State.FAILED

    resp = await client.post(url, json={"force": False}, headers=bearer(keys.operator))
    assert resp.status == 202, await resp.text()
    body = await resp.json()
    assert body["state"] == "received"
    assert body["attempts"] == 0
    events = await store.events(failed)
    assert events[-1].state == State.RECEIVED
    assert any(e.kind == "reprocess" for e in events)
    # Idempotent: asking again leaves it where it is.
    resp = await client.post(url, headers=bearer(keys.operator))
    assert resp.status == 202
    assert (await resp.json())["state"] == "received"

    # A finished document goes back too; force (past the duplicate check) is admin-only.
    async with store.unit() as unit:
        await unit.set_state(failed, State.DELIVERED, "delivered")
    resp = await client.post(url, json={"force": True}, headers=bearer(keys.operator))
    assert resp.status == 403
    resp = await client.post(url, json={"force": False}, headers=bearer(keys.operator))
    assert resp.status == 202
    assert (await resp.json())["state"] == "received"
    resp = await client.post(url, json={"force": True}, headers=bearer(keys.admin))
    assert resp.status == 202
    assert (await resp.json())["state"] == "received"

    # A document a live worker holds cannot be reprocessed under it.
    claimed = await store.claim(worker="w-1", lease_seconds=300)
    assert failed in [d.id for d in claimed]
    resp = await client.post(url, headers=bearer(keys.operator))
    assert resp.status == 409
    assert "w-1" in (await error_of(resp))["message"]
    await store.release("w-1")

    # A set that was never mapped is reprocessed through its file, not alone.
    po = docs["nw_po"]
    resp = await client.post(f"/api/v1/documents/{po.id}/reprocess", headers=bearer(keys.operator))
    assert resp.status == 409
    assert f"document #{docs['nw_file'].id}" in (await error_of(resp))["message"]
    queued = docs["bb_ack"].id
    async with store.unit() as unit:
        await unit.set_state(queued, State.FAILED, "gave up", error="HTTP 503")
    resp = await client.post(f"/api/v1/documents/{queued}/reprocess", headers=bearer(keys.operator))
    assert (await resp.json())["state"] == "queued"

    resp = await client.post(url, data=b"{not json", headers=bearer(keys.admin))
    assert resp.status == 400
    resp = await client.post(
        "/api/v1/documents/999999/reprocess", json={}, headers=bearer(keys.admin)
    )
    assert resp.status == 404
    audit = await store.audit_log()
    assert [a["action"] for a in audit].count("reprocess") == 5
