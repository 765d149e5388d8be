"""Functional acknowledgements (997 and 999): what a receiver found wrong in a group.

One model holds both: a 999 adds the implementation-guide codes (``I``-prefixed
codes) and the set's convention reference, nothing structural. Notes nest as
the acknowledgement does: group, then set, then segment, then element. Status
codes are checked against the standard's short lists here; the code lists
themselves live in ``gateway.x12.codes``, which this module must not import.

Imports only the standard library, pydantic and sibling modules of
``gateway.model``.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from gateway.model.envelope import Envelope

Ordinal = Annotated[int, Field(ge=1)]
Count = Annotated[int, Field(ge=0)]

SetStatus = Literal["A", "E", "M", "R", "W", "X"]
"""Set acknowledgement code: accepted, accepted with errors, or one of the rejections."""
GroupStatus = Literal["A", "E", "M", "P", "R", "W", "X"]
"""Group acknowledgement code; ``P`` is partially accepted (some sets rejected)."""


class ElementNote(BaseModel):
    """An error in one data element of a segment."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    position: Ordinal
    """Position of the element in its segment, 1-based."""
    component: Ordinal | None = None
    repetition: Ordinal | None = None
    reference: str | None = None
    """Data element reference number from the dictionary, e.g. ``373`` for a date."""
    code: str
    """Element syntax error code, e.g. ``1`` mandatory missing, ``7`` invalid code value."""
    bad_value: str | None = None


class SegmentNote(BaseModel):
    """An error in one segment of a transaction set."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    tag: str
    position: Ordinal
    """Position of the segment in its set, counting ST as 1."""
    loop_id: str | None = None
    code: str | None = None
    """Segment syntax error code, e.g. ``3`` mandatory segment missing, ``8`` element errors."""
    element_errors: tuple[ElementNote, ...] = ()


class SetAck(BaseModel):
    """The acknowledgement of one transaction set."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    transaction_set: str
    """Transaction set identifier, e.g. ``850``."""
    control: str
    convention: str | None = None
    """Implementation convention reference (999), e.g. ``005010X231A1``."""
    status: SetStatus
    errors: tuple[str, ...] = ()
    """Set syntax error codes (an ack carries five at most), e.g. ``5`` control number mismatch."""
    segment_errors: tuple[SegmentNote, ...] = ()


class FunctionalAck(BaseModel):
    """A functional acknowledgement (997 or 999) of one functional group."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    type: Literal["functional_ack"] = "functional_ack"
    ack_type: Literal["997", "999"]
    functional_id: str
    """Functional identifier of the acknowledged group, e.g. ``PO``."""
    group_control: str
    """Control number of the acknowledged group (not of this ack's own group)."""
    version: str | None = None
    sets: tuple[SetAck, ...] = ()
    group_status: GroupStatus
    sets_included: Count
    sets_received: Count
    sets_accepted: Count
    group_errors: tuple[str, ...] = ()
    """Group syntax error codes (an ack carries five at most), e.g. ``4`` set count mismatch."""
    envelope: Envelope | None = None
