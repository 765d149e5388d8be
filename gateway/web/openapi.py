"""The OpenAPI 3.1 description of the HTTP API, written as data.

:func:`openapi_document` returns it for the routes an app really has: an operation
whose route is not installed (the posting route when the HTTP adapter is missing)
is left out. A test checks that every route of the app is described here.

Imports only the standard library.
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Iterable

_NULLABLE_STRING = {"type": ["string", "null"]}
_TIME = {"type": ["string", "null"], "format": "date-time"}


def _error(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }


def _json(ref: str, description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{ref}"}}},
    }


_ID = {
    "name": "id",
    "in": "path",
    "required": True,
    "schema": {"type": "integer", "minimum": 1},
    "description": "Document id",
}
_AUTH_ERRORS = {
    "401": _error("No API key, or an unknown or revoked one"),
    "403": _error("The key's role may not do this"),
}
_NOT_FOUND = {"404": _error("No such document, or not one the key may see")}


def _query(name: str, description: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "schema": schema or {"type": "string"},
        "description": description,
    }


_SEARCH_PARAMETERS = [
    _query("partner", "Partner id (a partner key always sees only its own)"),
    _query("direction", "in or out", {"type": "string", "enum": ["in", "out"]}),
    _query("type", "Document type: interchange, 850, 997, TA1, xml, json..."),
    _query("state", "Document state", {"$ref": "#/components/schemas/State"}),
    _query("since", "Created at or after (ISO 8601)", {"type": "string", "format": "date-time"}),
    _query("until", "Created before (ISO 8601)", {"type": "string", "format": "date-time"}),
    _query("control_number", "Interchange, group or transaction control number"),
    _query("business_key", "PO or invoice number"),
    _query("limit", "At most this many (1-1000)", {"type": "integer", "minimum": 1}),
    _query("before", "Keyset paging: ids below this one", {"type": "integer", "minimum": 1}),
]

_PATHS: dict[str, dict[str, Any]] = {
    "/healthz": {
        "get": {
            "summary": "Liveness and database check",
            "security": [],
            "responses": {
                "200": _json("Health", "The gateway and its database answer"),
                "503": _json("Health", "The database does not answer"),
            },
        }
    },
    "/metrics": {
        "get": {
            "summary": "Prometheus metrics (text format; unauthenticated like most exporters)",
            "security": [],
            "responses": {
                "200": {
                    "description": "Prometheus text exposition format 0.0.4",
                    "content": {"text/plain": {"schema": {"type": "string"}}},
                }
            },
        }
    },
    "/api/openapi.json": {
        "get": {
            "summary": "This document",
            "security": [],
            "responses": {
                "200": {
                    "description": "OpenAPI 3.1",
                    "content": {"application/json": {"schema": {"type": "object"}}},
                }
            },
        }
    },
    "/api/v1/documents": {
        "get": {
            "summary": "Search documents, newest first",
            "parameters": _SEARCH_PARAMETERS,
            "responses": {
                "200": _json("DocumentList", "Matching documents"),
                "400": _error("A malformed parameter"),
                **_AUTH_ERRORS,
            },
        },
        "post": {
            "summary": "Submit a document: raw X12, XML or canonical JSON",
            "description": (
                "The body is stored durably before the 202 is sent. The partner is the "
                "key's partner; admin and operator keys name it with ?partner=ID."
            ),
            "parameters": [_query("partner", "Partner id (admin and operator keys only)")],
            "requestBody": {
                "required": True,
                "content": {
                    media: {"schema": {"type": "string", "format": "binary"}}
                    for media in (
                        "application/edi-x12",
                        "application/xml",
                        "text/xml",
                        "application/json",
                        "application/octet-stream",
                    )
                },
            },
            "responses": {
                "202": {
                    **_json("Accepted", "Stored; processing follows"),
                    "headers": {
                        "Location": {
                            "description": "The document's address",
                            "schema": {"type": "string"},
                        }
                    },
                },
                "400": _error("Empty or unreadable body, or a missing partner"),
                **_AUTH_ERRORS,
                "413": _error("Larger than the gateway accepts"),
                "415": _error("A content type the gateway does not take"),
            },
        },
    },
    "/api/v1/documents/{id}": {
        "get": {
            "summary": "One document",
            "parameters": [_ID],
            "responses": {
                "200": _json("DocumentDetail", "The document"),
                **_AUTH_ERRORS,
                **_NOT_FOUND,
            },
        }
    },
    "/api/v1/documents/{id}/events": {
        "get": {
            "summary": "The document's timeline, oldest first",
            "parameters": [_ID],
            "responses": {
                "200": _json("Timeline", "The timeline"),
                **_AUTH_ERRORS,
                **_NOT_FOUND,
            },
        }
    },
    "/api/v1/documents/{id}/raw": {
        "get": {
            "summary": "The stored payload, byte for byte",
            "parameters": [_ID],
            "responses": {
                "200": {
                    "description": "The payload; Content-Type by the document's format",
                    "content": {
                        media: {"schema": {"type": "string", "format": "binary"}}
                        for media in ("application/edi-x12", "application/xml", "application/json")
                    },
                },
                **_AUTH_ERRORS,
                **_NOT_FOUND,
            },
        }
    },
    "/api/v1/documents/{id}/reprocess": {
        "post": {
            "summary": "Send the document through the pipeline again (admin, operator)",
            "parameters": [_ID],
            "requestBody": {
                "required": False,
                "content": {
                    "application/json": {
                        "schema": {"$ref": "#/components/schemas/ReprocessRequest"}
                    }
                },
            },
            "responses": {
                "202": _json("Document", "Back in its work state"),
                "400": _error("A malformed body"),
                **_AUTH_ERRORS,
                **_NOT_FOUND,
                "409": _error(
                    "The document is being processed right now, or cannot be reprocessed on "
                    "its own (a set never mapped: reprocess its file)"
                ),
            },
        }
    },
}

_STATES = [
    "received",
    "parsed",
    "acknowledged",
    "mapped",
    "delivered",
    "rejected",
    "duplicate",
    "failed",
    "queued",
    "sent",
    "accepted",
    "overdue",
]


def _obj(properties: dict[str, Any], required: Iterable[str] | None = None) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": properties,
        "required": list(properties if required is None else required),
    }


_DOCUMENT = _obj(
    {
        "id": {"type": "integer"},
        "direction": {"type": "string", "enum": ["in", "out"]},
        "partner_id": _NULLABLE_STRING,
        "channel": _NULLABLE_STRING,
        "type": {"type": "string"},
        "format": {"type": "string", "enum": ["x12", "xml", "json"]},
        "state": {"$ref": "#/components/schemas/State"},
        "size": {"type": "integer"},
        "sha256": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
        "parent_id": {"type": ["integer", "null"]},
        "filename": _NULLABLE_STRING,
        "controls": _obj(
            dict.fromkeys(
                (
                    "sender_id",
                    "receiver_id",
                    "interchange_control",
                    "group_control",
                    "transaction_control",
                ),
                _NULLABLE_STRING,
            )
        ),
        "business_key": _NULLABLE_STRING,
        "attempts": {"type": "integer"},
        "next_attempt_at": _TIME,
        "last_error": _NULLABLE_STRING,
        "created_at": {"type": "string", "format": "date-time"},
        "updated_at": {"type": "string", "format": "date-time"},
        "links": {"$ref": "#/components/schemas/Links"},
    }
)

_SCHEMAS: dict[str, Any] = {
    "State": {"type": "string", "enum": _STATES},
    "Links": _obj(
        dict.fromkeys(("self", "events", "raw", "reprocess", "parent"), _NULLABLE_STRING)
    ),
    "Document": _DOCUMENT,
    "DocumentDetail": {
        "allOf": [
            {"$ref": "#/components/schemas/Document"},
            _obj({"children": {"type": "array", "items": {"type": "integer"}}}),
        ]
    },
    "DocumentList": _obj(
        {
            "documents": {"type": "array", "items": {"$ref": "#/components/schemas/Document"}},
            "links": _obj({"next": _NULLABLE_STRING}),
        }
    ),
    "Event": _obj(
        {
            "id": {"type": "integer"},
            "document_id": {"type": "integer"},
            "at": {"type": "string", "format": "date-time"},
            "kind": {"type": "string"},
            "state": {"oneOf": [{"$ref": "#/components/schemas/State"}, {"type": "null"}]},
            "message": {"type": "string"},
            "detail": {"type": "object"},
        }
    ),
    "Timeline": _obj(
        {
            "document_id": {"type": "integer"},
            "state": {"$ref": "#/components/schemas/State"},
            "events": {"type": "array", "items": {"$ref": "#/components/schemas/Event"}},
        }
    ),
    "Accepted": _obj(
        {
            "id": {"type": "integer"},
            "state": {"$ref": "#/components/schemas/State"},
            "links": {"$ref": "#/components/schemas/Links"},
        }
    ),
    "ReprocessRequest": _obj(
        {
            "force": {
                "type": "boolean",
                "default": False,
                "description": "Let a file flagged duplicate through the duplicate check "
                "(admin keys only)",
            }
        },
        required=(),
    ),
    "Health": _obj({"status": {"type": "string", "enum": ["ok", "unavailable"]}}),
    "Error": _obj(
        {
            "error": _obj(
                {
                    "code": {"type": "string", "examples": ["not_found", "payload_too_large"]},
                    "message": {"type": "string"},
                }
            )
        }
    ),
}

_DOCUMENT_BASE: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {
        "title": "o2c-gateway API",
        "version": "1",
        "description": (
            "Submit B2B documents (X12, XML, canonical JSON) and track them. "
            "Authenticate with Authorization: Bearer KEY (o2c apikeys create). "
            "Errors are JSON: {error: {code, message}}."
        ),
    },
    "security": [{"bearer": []}],
    "paths": _PATHS,
    "components": {
        "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        "schemas": _SCHEMAS,
    },
}


def openapi_document(routes: Iterable[tuple[str, str]] | None = None) -> dict[str, Any]:
    """The OpenAPI document; with ``routes`` (``(method, path)`` pairs), only those."""
    doc = copy.deepcopy(_DOCUMENT_BASE)
    if routes is None:
        return doc
    present = {(method.lower(), path) for method, path in routes}
    paths: dict[str, dict[str, Any]] = {}
    for path, operations in doc["paths"].items():
        kept = {m: op for m, op in operations.items() if (m, path) in present}
        if kept:
            paths[path] = kept
    doc["paths"] = paths
    return doc
