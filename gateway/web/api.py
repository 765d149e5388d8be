"""Message tracking over HTTP: ``/api/v1/documents`` search, detail, timeline, raw, reprocess.

Readers are admin, operator and viewer keys (every document) and partner keys (their
own partner's documents only: another partner's id answers 404). Reprocessing needs
an admin or operator key; ``force`` (past the duplicate check) needs an admin.
Posting a document is the HTTP adapter's route (``adapters/http.py``), not this
module's.

Imports aiohttp, storage records and the web package's own modules.
"""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING

from aiohttp import web

from gateway.errors import GatewayError
from gateway.pipeline.receiver import PipelineReceiver
from gateway.pipeline.reprocessing import reprocess
from gateway.storage.records import Direction, DocumentQuery
from gateway.web.auth import OPERATORS, READERS, may_see, require_role
from gateway.web.documents import (
    API_PREFIX,
    MEDIA_TYPES,
    document_json,
    event_json,
    parse_state,
    parse_time,
)
from gateway.web.responses import CONTEXT, api_error

if TYPE_CHECKING:
    from collections.abc import Mapping

    from gateway.storage import DocumentRecord, Principal

log = logging.getLogger(__name__)

MAX_LIMIT = 1000
_DIRECTIONS: dict[str, Direction] = {"in": "in", "out": "out"}


def _bad(message: str) -> web.HTTPException:
    return api_error(web.HTTPBadRequest, "bad_request", message)


def _int(
    query: Mapping[str, str], name: str, *, default: int | None = None, low: int = 1
) -> int | None:
    text = query.get(name)
    if text is None or text == "":
        return default
    try:
        value = int(text)
    except ValueError:
        raise _bad(f"{name}: expected a whole number, got {text!r}") from None
    if value < low:
        raise _bad(f"{name}: must be at least {low}, got {value}")
    return value


def search_query(params: Mapping[str, str], principal: Principal) -> DocumentQuery:
    """A :class:`DocumentQuery` from the query string; a partner key is held to its partner.

    Raises:
        HTTPBadRequest: a parameter is malformed (JSON error naming it).
    """
    asked = params.get("direction") or None
    direction = _DIRECTIONS.get(asked) if asked is not None else None
    if asked is not None and direction is None:
        raise _bad(f"direction: expected 'in' or 'out', got {asked!r}")
    limit = _int(params, "limit", default=100)
    assert limit is not None
    try:
        state = parse_state(params["state"]) if params.get("state") else None
        since = parse_time(params["since"], name="since") if params.get("since") else None
        until = parse_time(params["until"], name="until") if params.get("until") else None
    except GatewayError as exc:
        raise _bad(str(exc)) from exc
    partner = params.get("partner") or None
    if principal.role == "partner":
        partner = principal.partner_id
    return DocumentQuery(
        partner_id=partner,
        direction=direction,
        doc_type=params.get("type") or None,
        state=state,
        since=since,
        until=until,
        control_number=params.get("control_number") or None,
        business_key=params.get("business_key") or None,
        limit=min(limit, MAX_LIMIT),
        before_id=_int(params, "before"),
    )


async def list_documents(request: web.Request) -> web.Response:
    """``GET /api/v1/documents``: search, newest first, keyset paging with ``before``."""
    principal = require_role(request, READERS)
    query = search_query(request.query, principal)
    docs = await request.app[CONTEXT].store.search(query)
    next_link = None
    if len(docs) == query.limit and docs:
        next_link = str(request.rel_url.update_query(before=str(docs[-1].id)))
    return web.json_response(
        {"documents": [document_json(d) for d in docs], "links": {"next": next_link}}
    )


async def _visible(request: web.Request, principal: Principal) -> DocumentRecord:
    """The document of the ``{id}`` path; 404 when missing or not the caller's to see."""
    doc_id = int(request.match_info["id"])
    doc = await request.app[CONTEXT].store.get(doc_id)
    if doc is None or not may_see(principal, doc):
        raise api_error(web.HTTPNotFound, "not_found", f"no document {doc_id}")
    return doc


async def get_document(request: web.Request) -> web.Response:
    """``GET /api/v1/documents/{id}``: the document with the ids of its children."""
    principal = require_role(request, READERS)
    doc = await _visible(request, principal)
    children = await request.app[CONTEXT].store.children(doc.id)
    body = document_json(doc)
    body["children"] = [c.id for c in children if may_see(principal, c)]
    return web.json_response(body)


async def get_events(request: web.Request) -> web.Response:
    """``GET /api/v1/documents/{id}/events``: the timeline, oldest first."""
    doc = await _visible(request, require_role(request, READERS))
    events = await request.app[CONTEXT].store.events(doc.id)
    return web.json_response(
        {"document_id": doc.id, "state": str(doc.state), "events": [event_json(e) for e in events]}
    )


async def get_raw(request: web.Request) -> web.Response:
    """``GET /api/v1/documents/{id}/raw``: the stored bytes, exactly as received or sent."""
    doc = await _visible(request, require_role(request, READERS))
    try:
        data = await request.app[CONTEXT].store.get_payload(doc.payload_sha256)
    except KeyError:
        log.error("payload missing for a document", extra={"document_id": doc.id})
        raise api_error(
            web.HTTPNotFound, "payload_missing", f"the payload of document {doc.id} is missing"
        ) from None
    headers = {"X-Content-SHA256": doc.payload_sha256}
    if doc.filename:
        safe = doc.filename.replace('"', "").replace("\\", "")
        headers["Content-Disposition"] = f'attachment; filename="{safe}"'
    return web.Response(
        body=data,
        content_type=MEDIA_TYPES.get(doc.format, "application/octet-stream"),
        headers=headers,
    )


async def _force_flag(request: web.Request) -> bool:
    if not request.can_read_body:
        return False
    try:
        body = json.loads(await request.read() or b"{}")
    except (ValueError, UnicodeDecodeError):
        raise _bad('expected a JSON body such as {"force": false}') from None
    if not isinstance(body, dict) or not isinstance(body.get("force", False), bool):
        raise _bad('expected a JSON object with a boolean "force"')
    return bool(body.get("force", False))


async def reprocess_document(request: web.Request) -> web.Response:
    """``POST /api/v1/documents/{id}/reprocess``: back to the pipeline (admin, operator)."""
    principal = require_role(request, OPERATORS)
    doc = await _visible(request, principal)
    force = await _force_flag(request)
    if force and principal.role != "admin":
        raise api_error(web.HTTPForbidden, "forbidden", "only an admin may force reprocessing")
    ctx = request.app[CONTEXT]
    # Wake this process's workers when the receiver is the pipeline's; others poll.
    wakeup = ctx.receive.wakeup if isinstance(ctx.receive, PipelineReceiver) else None
    try:
        updated = await reprocess(ctx.store, doc.id, principal.name, force, wakeup=wakeup)
    except GatewayError as exc:
        raise api_error(web.HTTPConflict, "conflict", str(exc)) from exc
    log.info(
        "document reprocessed",
        extra={"document_id": doc.id, "partner_id": doc.partner_id, "actor": principal.name},
    )
    return web.json_response(document_json(updated), status=202)


def add_routes(app: web.Application) -> None:
    """Add the message-tracking routes."""
    doc = API_PREFIX + r"/{id:\d+}"
    app.router.add_get(API_PREFIX, list_documents)
    app.router.add_get(doc, get_document)
    app.router.add_get(doc + "/events", get_events)
    app.router.add_get(doc + "/raw", get_raw)
    app.router.add_post(doc + "/reprocess", reprocess_document)
