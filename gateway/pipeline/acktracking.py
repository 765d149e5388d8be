"""Tracking the partner's 997/999 for what we send: the errors it names, and overdue acks.

When a 997 or 999 comes back, :mod:`gateway.pipeline.stages` settles the outbound
documents it answers (matched by partner and GS06, then ST01/ST02) as ``accepted``
or ``rejected``; :func:`ack_errors` and :func:`describe_ack_errors` give the codes the
partner sent for one set (AK5/IK5 set codes, AK3/IK3 segment notes with their AK4/IK4
element notes, AK9 group codes) for that document's timeline.

An outbound 810 or 855 whose partner expects a 997/999 carries ``ack_due_at``
(queue time plus the profile's ``x12.ack_deadline_hours``, 24 by default).
:class:`OverdueMonitor` marks ``sent`` documents past that time ``overdue`` every
``Settings.ack_check_seconds`` and posts an ``overdue`` alert for each. A late ack
still settles an overdue document.

Must not import ``gateway.web``, ``gateway.cli`` or any adapter.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from gateway.background import Periodic
from gateway.pipeline.context import utc_now

if TYPE_CHECKING:
    import datetime as dt
    from collections.abc import Callable

    from gateway.model import FunctionalAck, SetAck
    from gateway.pipeline.alerts import WebhookAlerts
    from gateway.storage import DocumentRecord, Store

log = logging.getLogger(__name__)

OVERDUE_MESSAGE = (
    "overdue: no 997/999 from the partner by the deadline; check with the partner "
    "(a late acknowledgment still settles it)"
)


def set_ack_of(ack: FunctionalAck, doc_type: str, control: str | None) -> SetAck | None:
    """The AK2/IK2 loop of ``ack`` that answers our set ``doc_type`` ``control`` (ST01/ST02)."""
    return next(
        (s for s in ack.sets if s.transaction_set == doc_type and s.control == (control or "")),
        None,
    )


def ack_errors(ack: FunctionalAck, set_ack: SetAck | None) -> dict[str, Any]:
    """The partner's error codes for one set, as small JSON data for a timeline event."""
    out: dict[str, Any] = {}
    if ack.group_errors:
        out["group_errors"] = list(ack.group_errors)
    if set_ack is None:
        return out
    if set_ack.errors:
        out["set_errors"] = list(set_ack.errors)
    segments = [
        {
            "segment": note.tag,
            "position": note.position,
            "code": note.code,
            "elements": [
                {"position": e.position, "code": e.code, "bad_value": e.bad_value}
                for e in note.element_errors
            ],
        }
        for note in set_ack.segment_errors
    ]
    if segments:
        out["segment_errors"] = segments
    return out


def describe_ack_errors(ack: FunctionalAck, set_ack: SetAck | None) -> str:
    """The codes as the partner wrote them, e.g. ``AK3*BEG*2**8; AK4*3**7; AK5*R*5``."""
    is_999 = ack.ack_type == "999"
    seg, ele, st, gs = ("IK3", "IK4", "IK5", "AK9") if is_999 else ("AK3", "AK4", "AK5", "AK9")
    parts: list[str] = []
    if set_ack is not None:
        for note in set_ack.segment_errors:
            parts.append(f"{seg}*{note.tag}*{note.position}*{note.loop_id or ''}*{note.code or ''}")
            parts += [
                f"{ele}*{e.position}*{e.reference or ''}*{e.code}" for e in note.element_errors
            ]
        parts.append("*".join([st, set_ack.status, *set_ack.errors]))
    if ack.group_errors:
        parts.append("*".join([gs, ack.group_status, *ack.group_errors]))
    return "; ".join(parts)


class OverdueMonitor(Periodic):
    """Marks sent documents whose ack is past due ``overdue``; a :class:`~gateway.ports.Service`.

    Args:
        store: where the documents are.
        interval: seconds between checks (``Settings.ack_check_seconds``).
        alerts: where each overdue document is reported.
        clock: the current time (aware).
    """

    task_name = "ack-overdue"

    def __init__(
        self,
        store: Store,
        *,
        interval: float,
        alerts: WebhookAlerts | None = None,
        clock: Callable[[], dt.datetime] = utc_now,
    ) -> None:
        self.store = store
        self.interval = interval
        self.alerts = alerts
        self.clock = clock
        super().__init__()
        self.retry_seconds = interval

    async def round(self) -> float:
        """Mark what is overdue; the next round after ``interval`` seconds."""
        await self.check_once()
        return self.interval

    async def check_once(self) -> list[DocumentRecord]:
        """Mark what is overdue now and alert; returns the documents marked."""
        marked = await self.store.mark_overdue(self.clock(), message=OVERDUE_MESSAGE)
        for doc in marked:
            due = doc.ack_due_at.isoformat() if doc.ack_due_at is not None else "?"
            extra = {"partner_id": doc.partner_id, "document_id": doc.id, "ack_due_at": due}
            log.warning("outbound %s overdue", doc.doc_type, extra=extra)
            if self.alerts is not None:
                message = (
                    f"{doc.doc_type} {doc.business_key or ''} (ISA13 "
                    f"{doc.controls.interchange_control}, GS06 {doc.controls.group_control}) "
                    f"to {doc.partner_id}: no 997/999 by {due}"
                )
                await self.alerts.notify("overdue", doc, message)
        return marked
