"""Message tracking shared by the API and ``o2c documents``: JSON shapes and filters.

:func:`document_json` and :func:`event_json` are the one JSON representation of a
document and a timeline entry (the API answers with it, the CLI prints it).
Reprocessing is the pipeline's (:func:`gateway.pipeline.reprocessing.reprocess`).

Imports storage records and errors; never aiohttp (the CLI uses this module too).
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from gateway.errors import UsageError
from gateway.storage.records import State

if TYPE_CHECKING:
    from gateway.storage import DocumentRecord, EventRecord

API_PREFIX = "/api/v1/documents"

MEDIA_TYPES: dict[str, str] = {
    "x12": "application/edi-x12",
    "xml": "application/xml",
    "json": "application/json",
}
"""The ``Content-Type`` of a stored payload, by the document's ``format``."""


def _time(value: dt.datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is None:  # SQLite hands back naive values; storage writes UTC
        value = value.replace(tzinfo=dt.UTC)
    return value.isoformat()


def document_links(doc_id: int, parent_id: int | None = None) -> dict[str, str | None]:
    """The API addresses of a document and of what belongs to it."""
    base = f"{API_PREFIX}/{doc_id}"
    return {
        "self": base,
        "events": f"{base}/events",
        "raw": f"{base}/raw",
        "reprocess": f"{base}/reprocess",
        "parent": f"{API_PREFIX}/{parent_id}" if parent_id is not None else None,
    }


def document_json(doc: DocumentRecord) -> dict[str, Any]:
    """The JSON representation of a document (no payload, no canonical data)."""
    c = doc.controls
    return {
        "id": doc.id,
        "direction": doc.direction,
        "partner_id": doc.partner_id,
        "channel": doc.channel,
        "type": doc.doc_type,
        "format": doc.format,
        "state": str(doc.state),
        "size": doc.size,
        "sha256": doc.payload_sha256,
        "parent_id": doc.parent_id,
        "filename": doc.filename,
        "controls": {
            "sender_id": c.sender_id,
            "receiver_id": c.receiver_id,
            "interchange_control": c.interchange_control,
            "group_control": c.group_control,
            "transaction_control": c.transaction_control,
        },
        "business_key": doc.business_key,
        "attempts": doc.attempts,
        "next_attempt_at": _time(doc.next_attempt_at),
        "last_error": doc.last_error,
        "created_at": _time(doc.created_at),
        "updated_at": _time(doc.updated_at),
        "links": document_links(doc.id, doc.parent_id),
    }


def event_json(event: EventRecord) -> dict[str, Any]:
    """The JSON representation of one timeline entry."""
    return {
        "id": event.id,
        "document_id": event.document_id,
        "at": _time(event.at),
        "kind": event.kind,
        "state": str(event.state) if event.state is not None else None,
        "message": event.message,
        "detail": dict(event.detail),
    }


def parse_time(text: str, *, name: str) -> dt.datetime:
    """An ISO 8601 date or date-time; without an offset it is UTC.

    Raises:
        UsageError: ``text`` is not a date; the message names the parameter ``name``.
    """
    try:
        value = dt.datetime.fromisoformat(text.strip().replace(" ", "T", 1))
    except ValueError as exc:
        raise UsageError(
            f"{name}: expected an ISO 8601 date or date-time (2024-05-01, "
            f"2024-05-01T12:00:00+00:00), got {text!r}"
        ) from exc
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


def parse_state(text: str, *, name: str = "state") -> State:
    """A :class:`State` by its name.

    Raises:
        UsageError: no state has this name; the message lists them.
    """
    try:
        return State(text)
    except ValueError as exc:
        known = ", ".join(s.value for s in State)
        raise UsageError(f"{name}: unknown state {text!r} (one of {known})") from exc
