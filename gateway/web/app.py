"""The aiohttp application factory: middleware, health, metrics, OpenAPI, the API routes.

Middleware, outermost first: request metrics, JSON errors (no traceback ever reaches
a client), bearer-key auth. The body limit is ``settings.max_document_bytes``
(413 with a JSON error above it). ``GET /healthz``, ``GET /metrics`` and
``GET /api/openapi.json`` need no key: load balancers and Prometheus call the
first two (like most exporters, /metrics is open; keep the port internal).

Imports aiohttp, ``gateway.ports``, :mod:`gateway.metrics` and this package.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from aiohttp import web

from gateway.metrics import CONTENT_TYPE, GatewayMetrics
from gateway.web import api
from gateway.web.auth import KEY_CACHE, PROFILE_KEYS, KeyCache, auth_middleware, profile_keys
from gateway.web.openapi import openapi_document
from gateway.web.responses import (
    CONTEXT,
    METRICS,
    error_middleware,
    metrics_middleware,
)
from gateway.web.ui.mount import install_ui

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Sequence

    from gateway.ports import CertificateSource, GatewayContext, RouteInstaller

log = logging.getLogger(__name__)

HEALTH_TIMEOUT_SECONDS = 5.0


async def healthz(request: web.Request) -> web.Response:
    """``GET /healthz``: 200 when the database answers a cheap query, else 503."""
    try:
        # A primary-key lookup of an id that never exists: one round trip, no rows.
        await asyncio.wait_for(request.app[CONTEXT].store.get(0), timeout=HEALTH_TIMEOUT_SECONDS)
    except Exception:
        log.exception("health check: the database does not answer")
        return web.json_response({"status": "unavailable", "database": "error"}, status=503)
    return web.json_response({"status": "ok", "database": "ok"})


CERTIFICATES = web.AppKey("certificates", tuple)
"""The adapters' certificate sources, read at each scrape of ``/metrics``."""
CERT_HORIZON_DAYS = 100 * 365
"""Report every certificate, however far its expiry: alerting is Prometheus's job."""


async def metrics_view(request: web.Request) -> web.Response:
    """``GET /metrics``: the Prometheus text format, document counts read at the scrape."""
    metrics = request.app[METRICS]
    ctx = request.app[CONTEXT]
    await metrics.refresh(ctx.store)
    sources = request.app[CERTIFICATES]
    if sources:
        found = await asyncio.to_thread(
            lambda: [c for s in sources for c in s(ctx.partners, ctx.settings, CERT_HORIZON_DAYS)]
        )
        metrics.set_certificates(found)
    return web.Response(body=metrics.render(), headers={"Content-Type": CONTENT_TYPE})


def app_routes(app: web.Application) -> list[tuple[str, str]]:
    """``(method, path pattern)`` of every API route of ``app``.

    HEAD twins of GETs are left out, and so are the browser pages under ``/ui`` (a
    sub-application with its own session auth, not part of the API description).
    """
    return [
        (route.method, route.resource.canonical)
        for route in app.router.routes()
        if route.resource is not None
        and route.method != "HEAD"
        and not route.resource.canonical.startswith("/ui")
    ]


async def openapi_view(request: web.Request) -> web.Response:
    """``GET /api/openapi.json``: the OpenAPI 3.1 description of this app's routes."""
    return web.json_response(openapi_document(app_routes(request.app)))


async def _attach_metrics(app: web.Application) -> AsyncIterator[None]:
    metrics = app[METRICS]
    metrics.attach()
    yield
    metrics.detach()


def create_metrics_app(
    ctx: GatewayContext,
    *,
    registry_metrics: GatewayMetrics | None = None,
    certificates: Sequence[CertificateSource] = (),
) -> web.Application:
    """Only ``/healthz`` and ``/metrics``: what a worker or sftp process serves (no API, no UI).

    Prometheus scrapes each process of those roles on ``Settings.metrics_port``; the
    counters and latencies it reads are that process's own.
    """
    app = web.Application(middlewares=[metrics_middleware, error_middleware])
    app[CONTEXT] = ctx
    app[CERTIFICATES] = tuple(certificates)
    app[METRICS] = registry_metrics or GatewayMetrics()
    app.cleanup_ctx.append(_attach_metrics)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", metrics_view)
    return app


def create_app(
    ctx: GatewayContext,
    *,
    routes: Sequence[RouteInstaller] = (),
    registry_metrics: GatewayMetrics | None = None,
    certificates: Sequence[CertificateSource] = (),
) -> web.Application:
    """Build the application over ``ctx``.

    Args:
        ctx: settings, store, partners and the receiver.
        routes: installers adapters registered (``AdapterRegistry.routes``), each
            called as ``install(app, ctx)``.
        registry_metrics: the metrics to expose; a fresh registry by default.
        certificates: the adapters' certificate sources
            (``AdapterRegistry.certificates``), shown in ``/metrics``.
    """
    app = web.Application(
        client_max_size=ctx.settings.max_document_bytes,
        middlewares=[metrics_middleware, error_middleware, auth_middleware],
    )
    app[CONTEXT] = ctx
    app[CERTIFICATES] = tuple(certificates)
    app[PROFILE_KEYS] = profile_keys(ctx)
    app[KEY_CACHE] = KeyCache(ctx.settings.api_key_cache_seconds)
    app[METRICS] = registry_metrics or GatewayMetrics()
    app.cleanup_ctx.append(_attach_metrics)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", metrics_view)
    app.router.add_get("/api/openapi.json", openapi_view)
    api.add_routes(app)
    install_ui(app, ctx)
    for install in routes:
        install(app, ctx)
    return app
