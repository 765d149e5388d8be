"""Bearer-key authentication, roles, and partner isolation on the real app."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from gateway.storage.records import Principal
from gateway.web.auth import KEY_CACHE, KeyCache
from tests.web.conftest import CXML, X12_850, Keys, bearer, error_of, make_context, open_client

if TYPE_CHECKING:
    from aiohttp import web
    from aiohttp.test_utils import TestClient

    from gateway.partners import PartnerRegistry
    from gateway.settings import Settings
    from gateway.storage import Store


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer"},
        {"Authorization": "Basic dXNlcjpwYXNz"},
        {"Authorization": "Bearer not-a-real-key"},
    ],
    ids=["missing", "empty", "basic", "wrong"],
)
async def test_without_a_valid_key_every_api_route_is_401(
    client: TestClient[web.Request, web.Application], keys: Keys, headers: dict[str, str]
) -> None:
    for method, path in [
        ("GET", "/api/v1/documents"),
        ("GET", "/api/v1/documents/1"),
        ("GET", "/api/v1/documents/1/raw"),
        ("POST", "/api/v1/documents"),
        ("POST", "/api/v1/documents/1/reprocess"),
    ]:
        resp = await client.request(method, path, headers=headers, data=b"x")
        assert resp.status == 401, (method, path)
        assert resp.headers["WWW-Authenticate"].startswith("Bearer")
        assert (await error_of(resp))["code"] == "unauthorized"


async def test_a_revoked_key_is_401(
    client: TestClient[web.Request, web.Application], keys: Keys
) -> None:
    resp = await client.get("/api/v1/documents", headers=bearer(keys.revoked))
    assert resp.status == 401
    assert 'error="invalid_token"' in resp.headers["WWW-Authenticate"]
    ok = await client.get("/api/v1/documents", headers=bearer(keys.northwind))
    assert ok.status == 200


async def test_a_key_revoked_while_in_use_is_refused_once_the_cache_forgets_it(
    store: Store, client: TestClient[web.Request, web.Application]
) -> None:
    key_id, key = await store.create_api_key(partner_id="northwind", label="soon revoked")
    assert (await client.get("/api/v1/documents", headers=bearer(key))).status == 200
    assert await store.revoke_api_key(key_id)
    cache = client.app[KEY_CACHE]
    # still remembered as live: at most api_key_cache_seconds more (the documented window)
    assert cache.seconds == 5.0
    assert (await client.get("/api/v1/documents", headers=bearer(key))).status == 200
    cache.clear()  # as when the window has passed
    resp = await client.get("/api/v1/documents", headers=bearer(key))
    assert resp.status == 401


def test_the_key_cache_expires_entries_and_stays_bounded() -> None:
    now = [100.0]
    cache = KeyCache(5.0, size=2, clock=lambda: now[0])
    alice = Principal(name="a", role="partner", partner_id="northwind", key_id=1)
    cache.put(b"a", alice)
    assert cache.get(b"a") == alice
    now[0] += 5.0
    assert cache.get(b"a") is None  # expired, and dropped
    for digest in (b"x", b"y", b"z"):
        cache.put(digest, alice)
    assert cache.get(b"x") is None and cache.get(b"z") == alice  # the oldest went first
    off = KeyCache(0)
    off.put(b"a", alice)
    assert off.get(b"a") is None


async def test_public_routes_need_no_key(client: TestClient[web.Request, web.Application]) -> None:
    for path in ("/healthz", "/metrics", "/api/openapi.json"):
        resp = await client.get(path)
        assert resp.status == 200, path


async def test_partner_key_sees_only_its_own_documents(
    client: TestClient[web.Request, web.Application], keys: Keys, store: Store
) -> None:
    mine = await store.receive(X12_850, partner_id="northwind", channel="sftp_hosted")
    theirs = await store.receive(X12_850 + b"\n", partner_id="bigbox", channel="sftp_hosted")
    nw = bearer(keys.northwind)

    listed = await (await client.get("/api/v1/documents", headers=nw)).json()
    assert [d["id"] for d in listed["documents"]] == [mine.id]
    # Asking for another partner does not widen a partner key's view.
    listed = await (await client.get("/api/v1/documents?partner=bigbox", headers=nw)).json()
    assert [d["id"] for d in listed["documents"]] == [mine.id]

    for suffix in ("", "/events", "/raw"):
        own = await client.get(f"/api/v1/documents/{mine.id}{suffix}", headers=nw)
        assert own.status == 200, suffix
        other = await client.get(f"/api/v1/documents/{theirs.id}{suffix}", headers=nw)
        missing = await client.get(f"/api/v1/documents/{theirs.id + 1000}{suffix}", headers=nw)
        # Another partner's document looks exactly like one that does not exist.
        assert other.status == missing.status == 404, suffix
        assert (await error_of(other))["code"] == "not_found"
        assert await other.read() != X12_850

    admin = await (await client.get("/api/v1/documents", headers=bearer(keys.admin))).json()
    assert {d["id"] for d in admin["documents"]} == {mine.id, theirs.id}


async def test_roles_that_may_not_read_documents(
    client: TestClient[web.Request, web.Application], keys: Keys
) -> None:
    resp = await client.get("/api/v1/documents", headers=bearer(keys.clerk))
    assert resp.status == 403
    assert (await error_of(resp))["code"] == "forbidden"
    resp = await client.get("/api/v1/documents", headers=bearer(keys.viewer))
    assert resp.status == 200


async def test_unknown_route_is_a_json_404_after_auth(
    client: TestClient[web.Request, web.Application], keys: Keys
) -> None:
    resp = await client.get("/api/v1/nothing-here", headers=bearer(keys.admin))
    assert resp.status == 404
    assert (await error_of(resp))["code"] == "not_found"
    resp = await client.delete("/api/v1/documents", headers=bearer(keys.admin))
    assert resp.status == 405
    assert "GET" in resp.headers["Allow"]
    assert (await error_of(resp))["code"] == "method_not_allowed"


async def test_keys_named_in_a_profile_post_as_that_partner(
    store: Store,
    settings: Settings,
    partners: PartnerRegistry,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # acme-procure names ACME_PROCURE_API_KEY and ACME_PROCURE_API_KEY_NEXT (rotation);
    # only the first is set, the second is skipped with a warning.
    monkeypatch.setenv("O2C_SECRET_ACME_PROCURE_API_KEY", "acme-secret-key-from-vault")
    monkeypatch.delenv("O2C_SECRET_ACME_PROCURE_API_KEY_NEXT", raising=False)
    client = await open_client(make_context(store, settings, partners))
    try:
        resp = await client.post(
            "/api/v1/documents",
            data=CXML,
            headers={**bearer("acme-secret-key-from-vault"), "Content-Type": "application/xml"},
        )
        assert resp.status == 202, await resp.text()
        doc = await store.get((await resp.json())["id"])
        assert doc is not None and doc.partner_id == "acme-procure"
        # The key is the partner's: it cannot post for another partner nor read its files.
        resp = await client.post(
            "/api/v1/documents?partner=northwind",
            data=CXML,
            headers={**bearer("acme-secret-key-from-vault"), "Content-Type": "application/xml"},
        )
        assert resp.status == 403
        resp = await client.get("/api/v1/documents", headers=bearer("acme-secret-key-from-vault"))
        assert {d["partner_id"] for d in (await resp.json())["documents"]} == {"acme-procure"}
        # A near miss of the key is still a 401.
        resp = await client.get("/api/v1/documents", headers=bearer("acme-secret-key-from-vaulT"))
        assert resp.status == 401
    finally:
        await client.close()
