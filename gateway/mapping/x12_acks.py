"""X12 functional acknowledgments: 997 and 999 to ``FunctionalAck``.

The segments are read in file order whatever loops the guide draws around them:
AK1 names the acknowledged group, each AK2 opens a set, AK3/IK3 a segment note inside
it, AK4/IK4 add element notes to that segment, AK5/IK5 close the set with its status,
and AK9 gives the group's status and counts. CTX context segments are not kept.

Imports only ``gateway.errors``, ``gateway.model``, ``gateway.x12.reader`` and
``gateway.mapping.x12_loops`` and ``x12_read``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from gateway.errors import MappingError
from gateway.mapping.x12_loops import Fields, Loop, build, need, walk
from gateway.mapping.x12_read import code, padded, required, whole, words
from gateway.model import FunctionalAck

if TYPE_CHECKING:
    from gateway.model import Envelope
    from gateway.x12.reader import Delimiters, Segment


def _ak1(seg: Segment) -> Fields:
    """AK1: the acknowledged group's functional id, control number and version."""
    _, functional_id, control, version = padded(seg, 3)[:4]
    return {
        "functional_id": required(functional_id, seg, 1, "functional identifier"),
        "group_control": required(control, seg, 2, "group control number"),
        "version": code(version),
    }


def _ak2(seg: Segment) -> Fields:
    """AK2: the acknowledged set's id, control number and convention reference."""
    _, set_id, control, convention = padded(seg, 3)[:4]
    return {
        "transaction_set": required(set_id, seg, 1, "transaction set identifier"),
        "control": required(control, seg, 2, "transaction set control number"),
        "convention": code(convention),
    }


def _ak3(seg: Segment) -> Fields:
    """AK3/IK3: segment id, position in the set, loop id, segment error code."""
    _, tag, position, loop_id, error = padded(seg, 4)[:5]
    return {
        "tag": required(tag, seg, 1, "segment id"),
        "position": whole(position, seg, 2, "segment position in set", needed=True),
        "loop_id": code(loop_id),
        "code": code(error),
    }


def _ak4(seg: Segment, component: str) -> Fields:
    """AK4/IK4: element position, reference number, error code and the bad value.

    The position is a composite: position in the segment, component, repetition (999).
    """
    _, position, reference, error, bad_value = padded(seg, 4)[:5]
    parts = [*position.strip().split(component), "", ""]
    return {
        "position": whole(parts[0], seg, 1, "element position", needed=True),
        "component": whole(parts[1], seg, 1, "component position"),
        "repetition": whole(parts[2], seg, 1, "repetition position"),
        "reference": code(reference),
        "code": required(error, seg, 3, "element error code"),
        "bad_value": words(bad_value),
    }


def _codes(seg: Segment, first: int, last: int) -> tuple[str, ...]:
    els = padded(seg, last)
    return tuple(c for c in (code(els[i]) for i in range(first, last + 1)) if c)


def _ak5(seg: Segment) -> Fields:
    """AK5/IK5: the set's acknowledgment code and up to five error codes."""
    status = padded(seg, 1)[1]
    return {
        "status": required(status, seg, 1, "set acknowledgment code"),
        "errors": _codes(seg, 2, 6),
    }


def _ak9(seg: Segment) -> Fields:
    """AK9: group status, sets included/received/accepted, group error codes."""
    _, status, included, received, accepted = padded(seg, 4)[:5]
    return {
        "group_status": required(status, seg, 1, "group acknowledgment code"),
        "sets_included": whole(included, seg, 2, "number of sets included", needed=True),
        "sets_received": whole(received, seg, 3, "number of sets received", needed=True),
        "sets_accepted": whole(accepted, seg, 4, "number of sets accepted", needed=True),
        "group_errors": _codes(seg, 5, 9),
    }


def _outside(seg: Segment, opener: str) -> MappingError:
    tag = seg.elements[0]
    return MappingError(f"{tag} in segment {seg.number} is outside an {opener}", path=tag)


def _functional_ack(
    tree: Loop, delimiters: Delimiters, envelope: Envelope, ack_type: Literal["997", "999"]
) -> FunctionalAck:
    fields: Fields = {"ack_type": ack_type, "envelope": envelope}
    sets: list[tuple[Fields, list[tuple[Fields, list[Fields]]]]] = []
    notes: list[tuple[Fields, list[Fields]]] | None = None  # of the open AK2
    elements: list[Fields] | None = None  # of the open AK3/IK3
    for seg in walk(tree):
        tag = seg.elements[0]
        if tag == "AK1":
            fields.update(_ak1(seg))
        elif tag == "AK2":
            notes, elements = [], None
            sets.append((_ak2(seg), notes))
        elif tag in ("AK3", "IK3"):
            if notes is None:
                raise _outside(seg, "AK2 set response")
            elements = []
            notes.append((_ak3(seg), elements))
        elif tag in ("AK4", "IK4"):
            if elements is None:
                raise _outside(seg, "AK3/IK3 segment note")
            elements.append(_ak4(seg, delimiters.component))
        elif tag in ("AK5", "IK5"):
            if notes is None:
                raise _outside(seg, "AK2 set response")
            sets[-1][0].update(_ak5(seg))
            notes = elements = None
        elif tag == "AK9":
            fields.update(_ak9(seg))
    for set_fields, set_notes in sets:
        if "status" not in set_fields:
            raise MappingError(
                f"set response {set_fields['control']} has no AK5/IK5 status", path="AK501"
            )
        set_fields["segment_errors"] = tuple(
            {**note, "element_errors": tuple(els)} for note, els in set_notes
        )
    fields["sets"] = tuple(f for f, _ in sets)
    need(fields, "functional_id", "AK101", "functional identifier")
    need(fields, "group_status", "AK901", "group acknowledgment code")
    return build(FunctionalAck, fields)


def functional_ack_997(tree: Loop, *, delimiters: Delimiters, envelope: Envelope) -> FunctionalAck:
    """Map a 997 loop tree to a ``FunctionalAck``."""
    return _functional_ack(tree, delimiters, envelope, "997")


def functional_ack_999(tree: Loop, *, delimiters: Delimiters, envelope: Envelope) -> FunctionalAck:
    """Map a 999 loop tree to a ``FunctionalAck``."""
    return _functional_ack(tree, delimiters, envelope, "999")
