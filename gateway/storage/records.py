"""What storage hands out and takes in: document states, rows as frozen dataclasses.

The state vocabulary is the issue's contract (exact names). Inbound documents move
``received → parsed → acknowledged → mapped → delivered``, or end ``rejected``
(bad input; the ack says why), ``duplicate`` or ``failed`` (parked for a person).
Outbound documents move ``queued → sent → accepted``, or end ``rejected`` (the
partner's ack rejected them), ``overdue`` (no ack inside the window) or ``failed``.

Imports only the standard library.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    import datetime as dt

Direction = Literal["in", "out"]


class State(StrEnum):
    """Every state a document can be in; see the module docstring for the flows."""

    RECEIVED = "received"
    PARSED = "parsed"
    ACKNOWLEDGED = "acknowledged"
    MAPPED = "mapped"
    DELIVERED = "delivered"
    REJECTED = "rejected"
    DUPLICATE = "duplicate"
    FAILED = "failed"
    QUEUED = "queued"
    SENT = "sent"
    ACCEPTED = "accepted"
    OVERDUE = "overdue"


WORK_STATES: frozenset[State] = frozenset({State.RECEIVED, State.MAPPED, State.QUEUED})
"""States a worker claims: a received file to process, a mapped set to hand to the ERP,
a queued outbound document to send."""
FINAL_STATES: frozenset[State] = frozenset(
    {State.DELIVERED, State.REJECTED, State.DUPLICATE, State.ACCEPTED}
)


@dataclass(frozen=True, slots=True)
class Controls:
    """X12 control numbers and parties of a document (all optional: XML and JSON have none)."""

    sender_id: str | None = None
    receiver_id: str | None = None
    interchange_control: str | None = None
    group_control: str | None = None
    transaction_control: str | None = None


@dataclass(frozen=True, slots=True)
class DocumentRecord:
    """One row of ``documents``.

    ``doc_type`` is the X12 set id (``850``, ``997``, ``TA1``), ``interchange`` for a
    received X12 file before it is split into sets, or the canonical type for XML and
    JSON input once known (``purchase_order``); ``format`` is ``x12``, ``xml`` or ``json``.
    ``parent_id`` links a transaction set to the file it came in, and an ack to the
    file it answers. ``canonical`` is the mapped canonical document as JSON data.
    """

    id: int
    direction: Direction
    partner_id: str | None
    channel: str | None
    doc_type: str
    format: str
    state: State
    payload_sha256: str
    size: int
    parent_id: int | None
    filename: str | None
    controls: Controls
    business_key: str | None
    attempts: int
    next_attempt_at: dt.datetime | None
    lease_owner: str | None
    lease_expires_at: dt.datetime | None
    last_error: str | None
    canonical: dict[str, Any] | None
    created_at: dt.datetime
    updated_at: dt.datetime
    ack_due_at: dt.datetime | None = None
    """When the partner's 997/999 for this outbound document is due (None: none expected)."""


@dataclass(frozen=True, slots=True)
class EventRecord:
    """One entry of a document's timeline.

    ``kind`` is ``state`` for a state change (``state`` holds the new state), or
    ``ack``, ``delivery``, ``error``, ``duplicate``, ``reprocess``, ``note``.
    ``detail`` is small JSON data (never a payload, never a secret).
    """

    id: int
    document_id: int
    at: dt.datetime
    kind: str
    state: State | None
    message: str
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class DocumentQuery:
    """Search filters for :meth:`Store.search`; every field set narrows the result."""

    partner_id: str | None = None
    direction: Direction | None = None
    doc_type: str | None = None
    state: State | None = None
    since: dt.datetime | None = None
    until: dt.datetime | None = None
    control_number: str | None = None
    """Matches the interchange, group or transaction control number."""
    business_key: str | None = None
    """A PO or invoice number."""
    parent_id: int | None = None
    limit: int = 100
    before_id: int | None = None
    """Keyset paging: only ids below this one (newest first)."""


Role = Literal["admin", "operator", "ar", "viewer", "partner"]
"""``admin`` everything; ``operator`` message tracking and reprocessing; ``ar`` the AR
queue and DSO; ``viewer`` read-only; ``partner`` an API key bound to one partner."""


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: a user or an API key, its role and, for partner keys, its partner."""

    name: str
    role: Role
    partner_id: str | None = None
    key_id: int | None = None
