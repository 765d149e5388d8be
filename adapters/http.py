"""HTTP channel: partners post documents to us, and we post documents to partners.

Inbound, ``POST /api/v1/documents`` takes raw X12 (``application/edi-x12``), XML
(``application/xml``, ``text/xml``) or canonical JSON (``application/json``); with
no content type or ``application/octet-stream`` the first bytes decide. The caller
is the bearer key's principal: a partner key posts as its partner, an admin or
operator key names the partner with ``?partner=ID``. The body is handed to
``ctx.receive`` (stored durably) before the 202 answer, which carries the id and
a ``Location`` header. Over ``max_document_bytes`` the answer is 413 and nothing
is stored.

Outbound, the ``http`` transport posts a file to the channel's ``url`` with the API
key named by ``api_key_secret`` in the channel's ``header``. It does not retry
(the worker does): 408, 429, 5xx, timeouts and connection errors raise
``TransientDeliveryError``; other 4xx, redirects and a missing key raise
``PermanentDeliveryError``.

Imports only aiohttp and ``gateway.ports``, ``gateway.errors``, ``gateway.settings``.
"""

from __future__ import annotations

import logging
from contextlib import contextmanager
from pathlib import PurePosixPath, PureWindowsPath
from typing import TYPE_CHECKING

import aiohttp
from aiohttp import web

from gateway.errors import (
    ConfigError,
    DocumentError,
    GatewayError,
    PermanentDeliveryError,
    TransientDeliveryError,
)
from gateway.ports import PRINCIPAL

if TYPE_CHECKING:
    from collections.abc import Iterator

    from gateway.channels import Channel
    from gateway.partners import PartnerProfile
    from gateway.ports import AdapterRegistry, GatewayContext
    from gateway.settings import Settings
    from gateway.storage import Principal

log = logging.getLogger(__name__)

PATH = "/api/v1/documents"
CHANNEL = "http"
SEND_TIMEOUT_SECONDS = 60.0

INBOUND_TYPES = frozenset(
    {"application/edi-x12", "application/xml", "text/xml", "application/json"}
)
SNIFFED_TYPES = frozenset({"", "application/octet-stream", "text/plain"})
_PARTNER_ROLES = frozenset({"admin", "operator"})
_OUTBOUND_TYPES = {".x12": "application/edi-x12", ".xml": "application/xml"}
_OUTBOUND_TYPES[".json"] = "application/json"


def _fail(cls: type[web.HTTPException], message: str) -> web.HTTPException:
    """An HTTP error; the app's error middleware renders it as the JSON error."""
    return cls(text=message)


def _too_large(size: int, limit: int) -> web.HTTPException:
    return web.HTTPRequestEntityTooLarge(
        max_size=limit,
        actual_size=size,
        text=f"document of {size} bytes is over the limit of {limit} bytes; it was not stored",
    )


def sniff(data: bytes) -> str | None:
    """The media type the first bytes show (X12, XML, JSON), or None."""
    head = data.removeprefix(b"\xef\xbb\xbf")[:1024].lstrip(b" \t\r\n\f\v")
    if head.startswith(b"ISA"):
        return "application/edi-x12"
    if head.startswith(b"<"):
        return "application/xml"
    if head.startswith(b"{"):
        return "application/json"
    return None


def _filename(request: web.Request) -> str | None:
    """The sender's file name (``X-Filename`` or ``Content-Disposition``), no directories."""
    name = request.headers.get("X-Filename")
    if not name:
        disposition = request.headers.get("Content-Disposition", "")
        for part in disposition.split(";"):
            key, _, value = part.strip().partition("=")
            if key.lower() == "filename":
                name = value.strip().strip('"')
    if not name:
        return None
    name = PureWindowsPath(PurePosixPath(name).name).name
    return name[:255] if name not in ("", ".", "..") else None


async def _partner(request: web.Request, ctx: GatewayContext) -> str:
    """The partner a post is for: the caller's, or the one an admin or operator names."""
    principal: Principal | None = request.get(PRINCIPAL, None)
    if principal is None:  # the app's auth middleware sets it on every API route
        raise web.HTTPUnauthorized(
            text="an API key is needed", headers={"WWW-Authenticate": "Bearer"}
        )
    asked = request.query.get("partner") or None
    if principal.role == "partner" and principal.partner_id:
        if asked is not None and asked != principal.partner_id:
            raise _fail(web.HTTPForbidden, "a partner key posts only for its own partner")
        return principal.partner_id
    if principal.role not in _PARTNER_ROLES:
        raise _fail(web.HTTPForbidden, f"role {principal.role!r} may not post documents")
    if asked is None:
        raise _fail(web.HTTPBadRequest, "an admin or operator key must name ?partner=ID")
    if asked not in ctx.partners:
        raise _fail(web.HTTPBadRequest, f"no partner profile with id {asked!r}")
    return asked


async def _body(request: web.Request, limit: int) -> bytes:
    if request.content_length is not None and request.content_length > limit:
        raise _too_large(request.content_length, limit)
    data = await request.read()  # aiohttp stops at client_max_size (413) as well
    if len(data) > limit:
        raise _too_large(len(data), limit)
    if not data.strip():
        raise _fail(web.HTTPBadRequest, "the body is empty")
    return data


def _media_type(request: web.Request, data: bytes) -> str:
    declared = request.content_type.lower() if request.headers.get("Content-Type") else ""
    if declared in INBOUND_TYPES:
        return declared
    if declared in SNIFFED_TYPES:
        found = sniff(data)
        if found is not None:
            return found
    raise _fail(
        web.HTTPUnsupportedMediaType,
        f"expected X12, XML or canonical JSON ({', '.join(sorted(INBOUND_TYPES))}), "
        f"got {declared or 'no content type'} with a body that is none of them",
    )


async def post_document(request: web.Request, ctx: GatewayContext) -> web.Response:
    """``POST /api/v1/documents``: store the body, answer 202 with the document's id."""
    partner_id = await _partner(request, ctx)
    limit = ctx.settings.max_document_bytes
    data = await _body(request, limit)
    media = _media_type(request, data)
    try:
        doc = await ctx.receive(
            data,
            partner_id=partner_id,
            channel=CHANNEL,
            filename=_filename(request),
            content_type=media,
        )
    except DocumentError as exc:
        # The receiver's DocumentTooLargeError carries ``limit``; nothing was stored.
        limit_hit = getattr(exc, "limit", None)
        if isinstance(limit_hit, int):
            raise _too_large(len(data), limit_hit) from exc
        raise _fail(web.HTTPBadRequest, str(exc)) from exc
    except GatewayError as exc:
        raise _fail(web.HTTPBadRequest, str(exc)) from exc
    location = f"{PATH}/{doc.id}"
    log.info(
        "document received over HTTP",
        extra={"partner_id": partner_id, "document_id": doc.id, "channel": CHANNEL},
    )
    links = {"self": location, "events": f"{location}/events", "raw": f"{location}/raw"}
    return web.json_response(
        {"id": doc.id, "state": str(doc.state), "links": links},
        status=202,
        headers={"Location": location},
    )


def install_routes(app: web.Application, ctx: GatewayContext) -> None:
    """Add ``POST /api/v1/documents`` to the app."""

    async def handler(request: web.Request) -> web.Response:
        return await post_document(request, ctx)

    app.router.add_post(PATH, handler)


@contextmanager
def map_errors(url: str) -> Iterator[None]:
    """Turn client-library failures into the gateway's delivery errors."""
    try:
        yield
    except TimeoutError as exc:
        raise TransientDeliveryError(f"POST {url}: no answer in time") from exc
    except aiohttp.ClientError as exc:
        raise TransientDeliveryError(f"POST {url}: {type(exc).__name__}: {exc}") from exc
    except OSError as exc:
        raise TransientDeliveryError(f"POST {url}: {exc.strerror or exc}") from exc


class HttpTransport:
    """Posts outbound files to a partner's HTTP endpoint (see the module docstring)."""

    kind = "http"

    def __init__(self, settings: Settings, *, timeout: float = SEND_TIMEOUT_SECONDS) -> None:
        self.settings = settings
        self.timeout = timeout

    def _headers(self, channel: Channel, filename: str) -> dict[str, str]:
        suffix = PurePosixPath(filename).suffix.lower()
        headers = {
            "Content-Type": _OUTBOUND_TYPES.get(suffix, "application/octet-stream"),
            "X-Filename": filename,
        }
        if channel.kind == "http" and channel.api_key_secret:
            try:
                secret = self.settings.secret(channel.api_key_secret)
            except ConfigError as exc:
                raise PermanentDeliveryError(str(exc)) from exc
            headers[channel.header] = secret.get_secret_value()
        return headers

    async def send(
        self, partner: PartnerProfile, channel: Channel, filename: str, data: bytes
    ) -> str:
        """POST ``data`` to the channel's URL; return ``HTTP <status>`` for the timeline."""
        if channel.kind != "http" or not channel.url:
            raise PermanentDeliveryError(
                f"partner {partner.id}: the outbound channel is {channel.kind!r}, "
                "not http with a url"
            )
        url = channel.url
        headers = self._headers(channel, filename)
        timeout = aiohttp.ClientTimeout(total=self.timeout)
        with map_errors(url):
            async with (
                aiohttp.ClientSession(timeout=timeout) as session,
                session.post(url, data=data, headers=headers, allow_redirects=False) as resp,
            ):
                status = resp.status
                await resp.read()
        if status == 408 or status == 429 or status >= 500:
            raise TransientDeliveryError(f"POST {url}: HTTP {status}")
        if status >= 300:
            raise PermanentDeliveryError(f"POST {url}: HTTP {status}")
        return f"HTTP {status}"


def register(registry: AdapterRegistry) -> None:
    """Add the inbound route and the ``http`` outbound transport."""
    registry.add_routes(install_routes)
    registry.add_transport("http", lambda ctx: HttpTransport(ctx.settings))
