"""What translating one received X12 file yields, in the shape storage records it.

:func:`translate_file` runs :func:`gateway.pipeline.process.translate` (with the
rejection cascade of :func:`~gateway.pipeline.process.settle`) over a whole file and
keeps, per transaction set, only what the child document needs: control numbers,
the canonical document, the ack status and the errors as small JSON data. It is
CPU work: the worker runs it in a thread.

Must not import ``gateway.web``, ``gateway.cli`` or any adapter.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from gateway.errors import DocumentError
from gateway.pipeline.process import InterchangeResult, SetResult, settle, translate
from gateway.storage import Controls
from gateway.x12.codes import SetAckCode

if TYPE_CHECKING:
    from collections.abc import Callable

    from gateway.errors import MappingError
    from gateway.mapping import InboundMapper
    from gateway.model import CanonicalDocument
    from gateway.x12.envelope import TransactionSet


@dataclass(frozen=True, slots=True)
class SetOutcome:
    """One transaction set as the stage needs it (the segments are not kept)."""

    code: str
    controls: Controls
    version: str
    interchange: int
    """Ordinal of the set's interchange in the file."""
    document: CanonicalDocument | None
    errors: tuple[dict[str, str], ...]
    ack_status: str | None
    """AK501/IK501, or None for a set that is never acknowledged (a 997 or 999)."""
    ack_codes: tuple[str, ...]


@dataclass
class Translation:
    """A whole file: its sets, then its interchanges with their groups' ack data."""

    sets: list[SetOutcome] = field(default_factory=list)
    interchanges: list[InterchangeResult] = field(default_factory=list)


def translate_file(
    data: bytes, mapper_for: Callable[[TransactionSet], InboundMapper | None]
) -> Translation:
    """Parse, validate and map every set of ``data`` (CPU work: run it in a thread)."""
    out = Translation()
    for item in settle(translate(data, mapper_for=mapper_for)):
        if isinstance(item, SetResult):
            out.sets.append(_outcome(item, len(out.interchanges)))
        elif isinstance(item, InterchangeResult):
            out.interchanges.append(item)
    return out


def _outcome(result: SetResult, interchange: int) -> SetOutcome:
    ts = result.transaction_set
    group = ts.group
    inter = group.interchange
    controls = Controls(
        sender_id=inter.sender_id or None,
        receiver_id=inter.receiver_id or None,
        interchange_control=inter.control or None,
        group_control=group.control or None,
        transaction_control=ts.control or None,
    )
    ack = result.ack
    status = ack.status.value if ack is not None else None
    if result.document is None and any(isinstance(e, DocumentError) for e in result.errors):
        # settle() found the group or interchange bad after the set was read: no 997/999
        # accepts it any more (a TA1 R or an AK9 R answers), so it is bad input
        status = SetAckCode.REJECTED.value
    return SetOutcome(
        code=ts.code,
        controls=controls,
        version=group.version,
        interchange=interchange,
        document=result.document if result.ok else None,
        errors=tuple(error_note(e) for e in result.errors),
        ack_status=status,
        ack_codes=tuple(ack.errors) if ack is not None else (),
    )


def error_note(err: DocumentError | MappingError) -> dict[str, str]:
    """An error as small JSON data for a timeline event."""
    if isinstance(err, DocumentError):
        return {
            "code": err.code,
            "level": err.level,
            "where": err.position.describe(),
            "message": str(err),
        }
    return {"code": "", "level": "mapping", "where": err.path or "", "message": str(err)}


def describe_errors(notes: tuple[dict[str, str], ...] | list[dict[str, str]]) -> str:
    """Errors for a person, one clause each: ``segment 4 (BEG), element 03: ... [code 7]``."""
    parts = []
    for n in notes[:5]:
        code = f" [code {n['code']}]" if n.get("code") else ""
        where = f"{n['where']}: " if n.get("where") and n["where"] != "unknown position" else ""
        parts.append(f"{where}{n['message']}{code}")
    more = f"; and {len(notes) - 5} more" if len(notes) > 5 else ""
    return "; ".join(parts) + more


def business_key(document: CanonicalDocument) -> str | None:
    """The PO, invoice or remittance trace number a person searches by."""
    for name in ("invoice_number", "po_number", "trace_number"):
        value = getattr(document, name, None)
        if isinstance(value, str) and value:
            return value
    return None
