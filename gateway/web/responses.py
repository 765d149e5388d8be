"""What every route shares: typed app state, JSON errors, request metrics.

Errors leave the app as ``{"error": {"code": ..., "message": ...}}`` with the HTTP
status: handlers raise :func:`api_error` (or any aiohttp ``HTTPException``, whose
text becomes the message), and :func:`error_middleware` turns an unexpected
exception into a 500 with a generic message, logging the traceback on our side
only. :func:`metrics_middleware` counts and times every answer by route pattern.

Imports aiohttp, :mod:`gateway.metrics`, ``gateway.ports`` (the context type).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import TYPE_CHECKING, Any

from aiohttp import web
from aiohttp.typedefs import Handler

from gateway.metrics import GatewayMetrics
from gateway.ports import GatewayContext

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = ["CONTEXT", "METRICS", "Handler", "api_error", "error_body"]

log = logging.getLogger(__name__)

CONTEXT = web.AppKey("context", GatewayContext)
"""Settings, store, partners and the receiver (what adapters get too)."""
METRICS = web.AppKey("metrics", GatewayMetrics)
"""This app's metrics registry."""

ERROR_CODES: dict[int, str] = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "unprocessable",
    429: "too_many_requests",
    500: "internal_error",
    503: "unavailable",
}
"""The ``error.code`` for an HTTP status when the handler did not name one."""

_DROPPED_HEADERS = frozenset({"content-type", "content-length"})


def error_body(code: str, message: str) -> dict[str, Any]:
    """The JSON body of an error answer."""
    return {"error": {"code": code, "message": message}}


def api_error(
    cls: type[web.HTTPException],
    code: str,
    message: str,
    *,
    headers: Mapping[str, str] | None = None,
) -> web.HTTPException:
    """An aiohttp HTTP exception (raise it) whose body is the JSON error."""
    return cls(
        text=json.dumps(error_body(code, message)),
        content_type="application/json",
        headers=headers,
    )


def _as_json(exc: web.HTTPException) -> web.Response:
    headers = {k: v for k, v in exc.headers.items() if k.lower() not in _DROPPED_HEADERS}
    if exc.content_type == "application/json" and exc.text:
        text = exc.text
    else:
        message = exc.text or ""
        if not message or message == f"{exc.status}: {exc.reason}":
            message = exc.reason
        text = json.dumps(error_body(ERROR_CODES.get(exc.status, "error"), message))
    return web.Response(
        status=exc.status, text=text, content_type="application/json", headers=headers
    )


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Answer every error as JSON; never send a traceback to the client."""
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        return _as_json(exc)
    except asyncio.CancelledError:
        raise
    except Exception:
        log.exception(
            "unhandled error answering a request",
            extra={"method": request.method, "path": request.path},
        )
        return web.json_response(
            error_body("internal_error", "internal server error; it has been logged"),
            status=500,
        )


def route_pattern(request: web.Request) -> str:
    """The pattern of the route that matched (``/api/v1/documents/{id}``), for labels."""
    resource = request.match_info.route.resource
    return resource.canonical if resource is not None else "unmatched"


@web.middleware
async def metrics_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Count and time every answer by method, route pattern and status."""
    started = time.perf_counter()
    status = 500
    try:
        response = await handler(request)
        status = response.status
        return response
    except web.HTTPException as exc:
        status = exc.status
        raise
    finally:
        request.app[METRICS].observe_http(
            request.method, route_pattern(request), status, time.perf_counter() - started
        )
