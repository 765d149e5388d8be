"""Document pages: search, one document (fields, timeline, children), raw payload, reprocess.

Readers are admin, operator and viewer; the Reprocess button (a CSRF-protected post)
is for admin and operator, and forcing a duplicate through is for admin, as in the
API. Reprocessing is :func:`gateway.pipeline.reprocessing.reprocess`, which writes the
timeline event and the audit entry.

Imports aiohttp, storage records, the pipeline's reprocessing, :mod:`gateway.web.auth`
and :mod:`gateway.web.documents`.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import TYPE_CHECKING

from aiohttp import web

from gateway.errors import GatewayError, UsageError
from gateway.pipeline.receiver import PipelineReceiver
from gateway.pipeline.reprocessing import reprocess
from gateway.storage.records import Direction, DocumentQuery, State
from gateway.web.auth import OPERATORS, require_browser_role
from gateway.web.documents import parse_state, parse_time
from gateway.web.responses import CONTEXT
from gateway.web.ui.frame import PAGE_READERS, Section, notify, render

if TYPE_CHECKING:
    from collections.abc import Mapping

    from gateway.storage import DocumentRecord

log = logging.getLogger(__name__)

PAGE_SIZE = 50
_DIRECTIONS: dict[str, Direction] = {"in": "in", "out": "out"}
SEARCH_FIELDS = (
    "partner",
    "direction",
    "type",
    "state",
    "since",
    "until",
    "control_number",
    "business_key",
)


def _date(text: str, name: str, *, end: bool) -> dt.datetime:
    value = parse_time(text, name=name)
    # A bare date as the end of a range means "through that day".
    if end and len(text.strip()) == 10:
        value += dt.timedelta(days=1)
    return value


def search_query(params: Mapping[str, str]) -> DocumentQuery:
    """The search form's :class:`DocumentQuery`.

    Raises:
        GatewayError: a field is malformed; the message names it.
    """
    text = {name: (params.get(name) or "").strip() for name in (*SEARCH_FIELDS, "before")}
    direction = _DIRECTIONS.get(text["direction"]) if text["direction"] else None
    if text["direction"] and direction is None:
        raise UsageError(f"direction: expected in or out, got {text['direction']!r}")
    before = text["before"]
    if before and not before.isdigit():
        raise UsageError(f"before: expected a document id, got {before!r}")
    return DocumentQuery(
        partner_id=text["partner"] or None,
        direction=direction,
        doc_type=text["type"] or None,
        state=parse_state(text["state"]) if text["state"] else None,
        since=_date(text["since"], "from", end=False) if text["since"] else None,
        until=_date(text["until"], "to", end=True) if text["until"] else None,
        control_number=text["control_number"] or None,
        business_key=text["business_key"] or None,
        limit=PAGE_SIZE,
        before_id=int(before) if before else None,
    )


async def search_page(request: web.Request) -> web.StreamResponse:
    """``GET /ui/documents``: the search form and its results, newest first."""
    require_browser_role(request, PAGE_READERS)
    ctx = request.config_dict[CONTEXT]
    form = {name: request.query.get(name, "") for name in SEARCH_FIELDS}
    error = None
    docs: list[DocumentRecord] = []
    try:
        query = search_query(request.query)
    except GatewayError as exc:
        error = str(exc)
    else:
        docs = await ctx.store.search(query)
    older = None
    if len(docs) == PAGE_SIZE:
        older = str(request.rel_url.update_query(before=str(docs[-1].id)))
    values = {
        "form": form,
        "error": error,
        "documents": docs,
        "older": older,
        "partners": [p.id for p in ctx.partners.all()],
        "states": [s.value for s in State],
        "searched": any(form.values()),
    }
    return render(request, "documents.html", values, status=400 if error else 200)


async def _document(request: web.Request) -> DocumentRecord:
    doc_id = int(request.match_info["id"])
    doc = await request.config_dict[CONTEXT].store.get(doc_id)
    if doc is None:
        raise web.HTTPNotFound(text=f"There is no document {doc_id}.")
    return doc


async def document_page(request: web.Request) -> web.StreamResponse:
    """``GET /ui/documents/{id}``: fields, timeline, children, raw link, Reprocess."""
    principal = require_browser_role(request, PAGE_READERS)
    doc = await _document(request)
    store = request.config_dict[CONTEXT].store
    values = {
        "doc": doc,
        "events": await store.events(doc.id),
        "children": await store.children(doc.id),
        "may_reprocess": principal.role in OPERATORS,
        "may_force": principal.role == "admin",
    }
    return render(request, "document.html", values)


async def raw_payload(request: web.Request) -> web.StreamResponse:
    """``GET /ui/documents/{id}/raw``: the stored bytes as a text/plain download."""
    require_browser_role(request, PAGE_READERS)
    doc = await _document(request)
    try:
        data = await request.config_dict[CONTEXT].store.get_payload(doc.payload_sha256)
    except KeyError:
        log.error("payload missing for a document", extra={"document_id": doc.id})
        raise web.HTTPNotFound(text=f"The payload of document {doc.id} is missing.") from None
    name = "".join(c for c in (doc.filename or "") if c.isalnum() or c in "._-")
    name = name.lstrip(".") or f"document-{doc.id}.txt"
    try:
        data.decode("utf-8")
        charset: str | None = "utf-8"
    except UnicodeDecodeError:
        charset = None
    return web.Response(
        body=data,
        content_type="text/plain",
        charset=charset,
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "X-Content-SHA256": doc.payload_sha256,
        },
    )


async def reprocess_document(request: web.Request) -> web.StreamResponse:
    """``POST /ui/documents/{id}/reprocess``: back into the pipeline (admin, operator)."""
    principal = require_browser_role(request, OPERATORS)
    doc = await _document(request)
    form = await request.post()
    force = form.get("force") == "on"
    if force and principal.role != "admin":
        raise web.HTTPForbidden(text="Only an admin may force reprocessing past duplicates.")
    ctx = request.config_dict[CONTEXT]
    wakeup = ctx.receive.wakeup if isinstance(ctx.receive, PipelineReceiver) else None
    try:
        updated = await reprocess(ctx.store, doc.id, principal.name, force, wakeup=wakeup)
    except GatewayError as exc:
        notify(request, f"Not reprocessed: {exc}")
    else:
        log.info(
            "document reprocessed from the UI",
            extra={"document_id": doc.id, "partner_id": doc.partner_id, "actor": principal.name},
        )
        notify(request, f"Document {doc.id} is back in the pipeline as {updated.state}.")
    raise web.HTTPSeeOther(f"{request.path.rsplit('/', 1)[0]}")


def add_routes(router: web.UrlDispatcher) -> None:
    """Add the document pages (paths relative to ``/ui``)."""
    router.add_get("/documents", search_page)
    router.add_get(r"/documents/{id:\d+}", document_page)
    router.add_get(r"/documents/{id:\d+}/raw", raw_payload)
    router.add_post(r"/documents/{id:\d+}/reprocess", reprocess_document)


SECTION = Section(
    title="Documents",
    path="/ui/documents",
    roles=PAGE_READERS,
    add_routes=add_routes,
    accesskey="d",
)
