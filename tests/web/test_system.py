"""Health, metrics, the OpenAPI document and JSON errors of the real app."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from prometheus_client.parser import text_string_to_metric_families

from gateway.metrics import GatewayMetrics, count_delivery_failure, observe_latency
from gateway.storage import State, Store
from gateway.web.app import app_routes, create_app
from tests.web.conftest import X12_850, Keys, bearer, error_of, make_context, open_client

if TYPE_CHECKING:
    from pathlib import Path

    from aiohttp import web
    from aiohttp.test_utils import TestClient

    from gateway.partners import PartnerRegistry
    from gateway.ports import GatewayContext
    from gateway.settings import Settings

HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}


def _resolve(doc: dict[str, Any], ref: str) -> Any:
    assert ref.startswith("#/"), ref
    node: Any = doc
    for part in ref[2:].split("/"):
        node = node[part]
    return node


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return found + [r for value in node.values() for r in _refs(value)]
    if isinstance(node, list):
        return [r for value in node for r in _refs(value)]
    return []


async def test_openapi_is_valid_and_covers_every_route(
    client: TestClient[web.Request, web.Application],
) -> None:
    resp = await client.get("/api/openapi.json")
    assert resp.status == 200
    doc = await resp.json()
    assert doc["openapi"].startswith("3.1")
    assert doc["info"]["title"] and doc["info"]["version"]
    assert doc["components"]["securitySchemes"]["bearer"] == {"type": "http", "scheme": "bearer"}
    for name in ("Document", "Event", "Error"):
        assert doc["components"]["schemas"][name]["type"] == "object"
    document_fields = set(doc["components"]["schemas"]["Document"]["properties"])
    assert {"id", "state", "type", "controls", "links", "sha256", "business_key"} <= document_fields
    for ref in _refs(doc):
        assert _resolve(doc, ref) is not None

    for path, operations in doc["paths"].items():
        assert path.startswith("/")
        params = set(re.findall(r"{(\w+)}", path))
        for method, op in operations.items():
            assert method in HTTP_METHODS, (path, method)
            assert op["summary"]
            assert op["responses"], (path, method)
            for status in op["responses"]:
                assert re.fullmatch(r"[1-5]\d\d", status), (path, method, status)
            declared = {p["name"] for p in op.get("parameters", []) if p["in"] == "path"}
            assert declared == params, (path, method)

    routes = app_routes(client.app)
    assert ("POST", "/api/v1/documents") in routes
    for method, path in routes:
        assert path in doc["paths"], path
        assert method.lower() in doc["paths"][path], (method, path)
    # Every documented operation exists in this app.
    documented = {(m.upper(), p) for p, ops in doc["paths"].items() for m in ops}
    assert documented == set(routes)


async def test_openapi_leaves_out_routes_the_app_does_not_have(ctx: GatewayContext) -> None:
    client = await open_client(ctx, routes=())
    try:
        doc = await (await client.get("/api/openapi.json")).json()
    finally:
        await client.close()
    assert "post" not in doc["paths"]["/api/v1/documents"]
    assert "get" in doc["paths"]["/api/v1/documents"]


def _samples(text: str) -> dict[str, list[Any]]:
    families: dict[str, list[Any]] = {}
    for family in text_string_to_metric_families(text):
        families.setdefault(family.name, []).extend(family.samples)
    return families


async def test_metrics_parse_and_count_documents(
    client: TestClient[web.Request, web.Application], keys: Keys, store: Store
) -> None:
    for n in range(3):
        await store.receive(X12_850 + b" " * n, partner_id="northwind", channel="sftp_hosted")
    failed = await store.receive(X12_850 + b"\n\n", partner_id="bigbox", channel="sftp_poll")
    async with store.unit() as unit:
        await unit.set_state(failed.id, State.FAILED, "parked")
    await client.get("/api/v1/documents", headers=bearer(keys.admin))
    observe_latency("delivered", 0.2)
    count_delivery_failure("http", permanent=False)

    resp = await client.get("/metrics")
    assert resp.status == 200
    assert resp.content_type == "text/plain"
    families = _samples(await resp.text())
    docs = {
        (s.labels["partner"], s.labels["direction"], s.labels["state"]): s.value
        for s in families["o2c_documents"]
    }
    assert docs == {("northwind", "in", "received"): 3.0, ("bigbox", "in", "failed"): 1.0}
    (depth,) = families["o2c_queue_depth"]
    assert depth.value == 3.0
    count = [s for s in families["o2c_processing_seconds"] if s.name.endswith("_count")]
    assert [(s.labels["stage"], s.value) for s in count] == [("delivered", 1.0)]
    failures = [s for s in families["o2c_delivery_failures"] if s.name.endswith("_total")]
    assert [(s.labels["kind"], s.labels["permanent"], s.value) for s in failures] == [
        ("http", "false", 1.0)
    ]
    requests = {
        (s.labels["method"], s.labels["route"], s.labels["status"]): s.value
        for s in families["o2c_http_requests"]
        if s.name.endswith("_total")
    }
    assert requests[("GET", "/api/v1/documents", "200")] == 1.0


async def test_two_apps_keep_their_own_metrics(ctx: GatewayContext) -> None:
    first, second = GatewayMetrics(), GatewayMetrics()
    one = await open_client(ctx, metrics=first)
    two = await open_client(ctx, metrics=second)
    try:
        await one.get("/healthz")
        await one.get("/healthz")
        await two.get("/healthz")
    finally:
        await one.close()
        await two.close()
    observe_latency("delivered", 1.0)  # no app attached any more: nowhere to go

    def healthz_count(metrics: GatewayMetrics) -> float:
        value = metrics.registry.get_sample_value(
            "o2c_http_requests_total", {"method": "GET", "route": "/healthz", "status": "200"}
        )
        return value or 0.0

    assert (healthz_count(first), healthz_count(second)) == (2.0, 1.0)
    assert (
        first.registry.get_sample_value("o2c_processing_seconds_count", {"stage": "delivered"})
        is None
    )


async def test_healthz(client: TestClient[web.Request, web.Application]) -> None:
    resp = await client.get("/healthz")
    assert resp.status == 200
    assert (await resp.json())["status"] == "ok"


async def test_healthz_is_503_when_the_database_fails(
    tmp_path: Path, settings: Settings, partners: PartnerRegistry
) -> None:
    # A real database without the gateway's tables: every query fails.
    broken = await Store.open(
        f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}", data_dir=tmp_path, check_schema=False
    )
    client = await open_client(make_context(broken, settings, partners))
    try:
        resp = await client.get("/healthz")
        assert resp.status == 503
        assert (await resp.json())["status"] == "unavailable"
    finally:
        await client.close()
        await broken.close()


async def test_an_unexpected_error_is_a_generic_500(ctx: GatewayContext, keys: Keys) -> None:
    async def explode(request: web.Request) -> web.Response:
        raise RuntimeError("secret internals /etc/o2c password=hunter2")

    def install(app: web.Application, ctx: GatewayContext) -> None:
        app.router.add_get("/api/v1/explode", explode)

    client = await open_client(ctx, routes=(install,))
    try:
        resp = await client.get("/api/v1/explode", headers=bearer(keys.admin))
        assert resp.status == 500
        error = await error_of(resp)
        text = await resp.text()
    finally:
        await client.close()
    assert error["code"] == "internal_error"
    assert "hunter2" not in text and "RuntimeError" not in text


async def test_create_app_takes_adapter_routes(ctx: GatewayContext) -> None:
    seen: list[object] = []

    def install(app: web.Application, got: GatewayContext) -> None:
        seen.append(got)

    app = create_app(ctx, routes=[install])
    assert seen == [ctx]
    assert ("GET", "/api/v1/documents/{id}/events") in app_routes(app)
