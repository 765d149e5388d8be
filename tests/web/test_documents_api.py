"""Posting documents and tracking them over the real API, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import pytest

from gateway.storage import Controls, DocumentQuery, State
from tests.web.conftest import CANONICAL, CXML, MAX_BYTES, X12_850, Keys, bearer, error_of

if TYPE_CHECKING:
    from aiohttp import web
    from aiohttp.test_utils import TestClient

    from gateway.storage import Store


@pytest.mark.parametrize(
    ("content_type", "body", "fmt", "doc_type"),
    [
        ("application/edi-x12", X12_850, "x12", "interchange"),
        ("application/xml", CXML, "xml", "xml"),
        ("text/xml; charset=utf-8", CXML, "xml", "xml"),
        ("application/json", CANONICAL, "json", "json"),
        (None, X12_850, "x12", "interchange"),
        ("application/octet-stream", CXML, "xml", "xml"),
    ],
    ids=["x12", "xml", "text-xml", "json", "sniffed-x12", "sniffed-xml"],
)
async def test_post_stores_the_exact_bytes_and_answers_202(
    client: TestClient[web.Request, web.Application],
    keys: Keys,
    store: Store,
    content_type: str | None,
    body: bytes,
    fmt: str,
    doc_type: str,
) -> None:
    headers = bearer(keys.northwind) | {"X-Filename": "../../etc/po 1.edi"}
    skip: list[str] = []
    if content_type is not None:
        headers["Content-Type"] = content_type
    else:
        skip.append("Content-Type")
    resp = await client.post(
        "/api/v1/documents", data=body, headers=headers, skip_auto_headers=skip
    )
    assert resp.status == 202, await resp.text()
    answer = await resp.json()
    doc_id = answer["id"]
    assert answer["state"] == "received"
    assert resp.headers["Location"] == f"/api/v1/documents/{doc_id}"
    assert answer["links"]["self"] == resp.headers["Location"]

    stored = await store.get(doc_id)
    assert stored is not None
    assert (stored.partner_id, stored.channel, stored.format, stored.doc_type) == (
        "northwind",
        "http",
        fmt,
        doc_type,
    )
    assert stored.filename == "po 1.edi"
    assert await store.get_payload(stored.payload_sha256) == body

    raw = await client.get(f"/api/v1/documents/{doc_id}/raw", headers=bearer(keys.northwind))
    assert raw.status == 200
    assert await raw.read() == body
    assert (
        raw.content_type
        == {
            "x12": "application/edi-x12",
            "xml": "application/xml",
            "json": "application/json",
        }[fmt]
    )


async def test_admin_posts_for_a_named_partner(
    client: TestClient[web.Request, web.Application], keys: Keys, store: Store
) -> None:
    url = "/api/v1/documents"
    headers = bearer(keys.admin) | {"Content-Type": "application/edi-x12"}
    resp = await client.post(url, data=X12_850, headers=headers)
    assert resp.status == 400
    assert "partner" in (await error_of(resp))["message"]
    resp = await client.post(url + "?partner=nobody", data=X12_850, headers=headers)
    assert resp.status == 400
    resp = await client.post(url + "?partner=bigbox", data=X12_850, headers=headers)
    assert resp.status == 202
    doc = await store.get((await resp.json())["id"])
    assert doc is not None and doc.partner_id == "bigbox"

    viewer = bearer(keys.viewer) | {"Content-Type": "application/edi-x12"}
    resp = await client.post(url + "?partner=bigbox", data=X12_850, headers=viewer)
    assert resp.status == 403
    partner = bearer(keys.northwind) | {"Content-Type": "application/edi-x12"}
    resp = await client.post(url + "?partner=bigbox", data=X12_850, headers=partner)
    assert resp.status == 403


async def test_over_the_size_limit_is_413_and_nothing_is_stored(
    client: TestClient[web.Request, web.Application], keys: Keys, store: Store
) -> None:
    big = X12_850 + b" " * (MAX_BYTES + 1 - len(X12_850))
    headers = bearer(keys.northwind) | {"Content-Type": "application/edi-x12"}
    resp = await client.post("/api/v1/documents", data=big, headers=headers)
    assert resp.status == 413
    assert (await error_of(resp))["code"] == "payload_too_large"

    async def chunks():  # no Content-Length: the limit holds while reading
        for start in range(0, len(big), 4096):
            yield big[start : start + 4096]

    resp = await client.post("/api/v1/documents", data=chunks(), headers=headers)
    assert resp.status == 413
    assert (await error_of(resp))["code"] == "payload_too_large"
    assert await store.search(DocumentQuery()) == []

    exact = X12_850 + b" " * (MAX_BYTES - len(X12_850))
    resp = await client.post("/api/v1/documents", data=exact, headers=headers)
    assert resp.status == 202


async def test_unusable_bodies_are_refused(
    client: TestClient[web.Request, web.Application], keys: Keys, store: Store
) -> None:
    headers = bearer(keys.northwind)
    resp = await client.post(
        "/api/v1/documents", data=b"\x89PNG....", headers=headers | {"Content-Type": "image/png"}
    )
    assert resp.status == 415
    assert (await error_of(resp))["code"] == "unsupported_media_type"
    resp = await client.post(
        "/api/v1/documents",
        data=b"hello",
        headers=headers | {"Content-Type": "application/octet-stream"},
    )
    assert resp.status == 415
    resp = await client.post(
        "/api/v1/documents", data=b"  \n", headers=headers | {"Content-Type": "application/json"}
    )
    assert resp.status == 400
    assert await store.search(DocumentQuery()) == []


async def test_document_detail_and_timeline(
    client: TestClient[web.Request, web.Application], keys: Keys, store: Store
) -> None:
    parent = await store.receive(
        X12_850,
        partner_id="northwind",
        channel="sftp_hosted",
        filename="po.x12",
        controls=Controls(sender_id="NORTHWINDDIST", interchange_control="000000312"),
    )
    child = await store.receive(
        b"ST*850*0001~",
        partner_id="northwind",
        channel="sftp_hosted",
        doc_type="850",
        parent_id=parent.id,
        business_key="NW-PO-88213",
        controls=Controls(transaction_control="0001"),
    )
    async with store.unit() as unit:
        await unit.set_state(parent.id, State.ACKNOWLEDGED, "acknowledged", detail={"ack": "999"})

    resp = await client.get(f"/api/v1/documents/{parent.id}", headers=bearer(keys.viewer))
    assert resp.status == 200
    doc = await resp.json()
    assert doc["id"] == parent.id
    assert doc["type"] == "interchange"
    assert doc["state"] == "acknowledged"
    assert doc["size"] == len(X12_850)
    assert doc["filename"] == "po.x12"
    assert doc["controls"]["interchange_control"] == "000000312"
    assert doc["controls"]["sender_id"] == "NORTHWINDDIST"
    assert doc["children"] == [child.id]
    assert doc["links"]["events"] == f"/api/v1/documents/{parent.id}/events"
    assert dt.datetime.fromisoformat(doc["created_at"]).tzinfo is not None

    resp = await client.get(f"/api/v1/documents/{child.id}", headers=bearer(keys.viewer))
    body = await resp.json()
    assert body["parent_id"] == parent.id
    assert body["business_key"] == "NW-PO-88213"
    assert body["links"]["parent"] == f"/api/v1/documents/{parent.id}"

    resp = await client.get(f"/api/v1/documents/{parent.id}/events", headers=bearer(keys.viewer))
    timeline = await resp.json()
    assert timeline["document_id"] == parent.id
    assert [e["state"] for e in timeline["events"]] == ["received", "acknowledged"]
    assert timeline["events"][-1]["detail"]["ack"] == "999"
