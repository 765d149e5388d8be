"""ISA/GS/ST nesting: trailer counts, control numbers, and per-set isolation.

:func:`read_envelopes` turns the reader's segments into events: each complete
:class:`TransactionSet` as soon as its SE is read (memory stays bounded by one
set), then a :class:`GroupEnd` and an :class:`InterchangeEnd` carrying the
envelope findings. A broken set is marked and its neighbours go on; a broken
interchange is reported and reading resumes at the next ISA.

Imports only ``gateway.errors``, ``gateway.x12.codes`` and ``gateway.x12.reader``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from gateway.x12.codes import InterchangeNoteCode
from gateway.x12.envelope_checks import (
    check_group,
    check_gs,
    check_iea,
    check_isa,
    check_set,
    env_error,
)
from gateway.x12.reader import BrokenInterchange, Delimiters, IsaSegment, ReadItem, Segment

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator

    from gateway.errors import EnvelopeError

# segments that end a transaction set (SE with it, the others without it)
_SET_ENDERS = frozenset({"ST", "GE", "IEA", "GS"})
_ENVELOPE_TAGS = _SET_ENDERS | {"SE"}
_ISA_FIELDS = {
    "sender_qualifier": 5,
    "sender_id": 6,
    "receiver_qualifier": 7,
    "receiver_id": 8,
    "date": 9,
    "time": 10,
    "version": 12,
    "control": 13,
    "usage": 15,
}
_GS_FIELDS = {
    "functional_id": 1,
    "sender": 2,
    "receiver": 3,
    "date": 4,
    "time": 5,
    "control": 6,
    "agency": 7,
    "version": 8,
}


@dataclass(eq=False)
class Interchange:
    """One ISA..IEA envelope and what was found wrong with it (TA1 level).

    The ISA values (trimmed) are attributes: ``sender_qualifier`` (ISA05),
    ``sender_id`` (ISA06), ``receiver_qualifier``, ``receiver_id``, ``date``,
    ``time``, ``version`` (ISA12), ``control`` (ISA13) and ``usage`` (ISA15);
    all are ``""`` when the ISA could not be read.
    """

    isa: IsaSegment | None
    offset: int
    errors: list[EnvelopeError] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    groups: list[FunctionalGroup] = field(default_factory=list)
    ta1_segments: list[Segment] = field(default_factory=list)
    iea: Segment | None = None
    sender_qualifier: str = field(init=False, default="")
    sender_id: str = field(init=False, default="")
    receiver_qualifier: str = field(init=False, default="")
    receiver_id: str = field(init=False, default="")
    date: str = field(init=False, default="")
    time: str = field(init=False, default="")
    version: str = field(init=False, default="")
    control: str = field(init=False, default="")
    usage: str = field(init=False, default="")

    def __post_init__(self) -> None:
        if self.isa is not None:
            for name, index in _ISA_FIELDS.items():
                setattr(self, name, self.isa.get(index).strip())

    @property
    def delimiters(self) -> Delimiters:
        """The delimiters this interchange declared (defaults when the ISA was unreadable)."""
        return self.isa.delimiters if self.isa is not None else Delimiters()

    @property
    def ack_requested(self) -> bool:
        """ISA14 = 1: the sender asked for a TA1."""
        return self.isa is not None and self.isa.get(14).strip() == "1"

    @property
    def readable(self) -> bool:
        """False when the ISA itself could not be read."""
        return self.isa is not None


@dataclass(eq=False)
class FunctionalGroup:
    """One GS..GE envelope.

    The GS values (trimmed) are attributes: ``functional_id`` (GS01),
    ``sender`` (GS02), ``receiver`` (GS03), ``date``, ``time``, ``control``
    (GS06), ``agency`` (GS07) and ``version`` (GS08).
    """

    gs: Segment
    interchange: Interchange
    errors: list[EnvelopeError] = field(default_factory=list)
    set_count: int = 0
    set_controls: set[str] = field(default_factory=set)
    ge: Segment | None = None
    functional_id: str = field(init=False, default="")
    sender: str = field(init=False, default="")
    receiver: str = field(init=False, default="")
    date: str = field(init=False, default="")
    time: str = field(init=False, default="")
    control: str = field(init=False, default="")
    agency: str = field(init=False, default="")
    version: str = field(init=False, default="")

    def __post_init__(self) -> None:
        for name, index in _GS_FIELDS.items():
            setattr(self, name, self.gs.get(index).strip())


@dataclass(eq=False)
class TransactionSet:
    """One ST..SE run of segments (SE may be missing), with its envelope findings.

    ``code`` is ST01, ``control`` ST02 and ``convention`` ST03 (trimmed).
    """

    group: FunctionalGroup
    segments: list[Segment]
    errors: list[EnvelopeError] = field(default_factory=list)
    index: int = 0  # 0-based position inside its group
    code: str = field(init=False, default="")
    control: str = field(init=False, default="")
    convention: str = field(init=False, default="")

    def __post_init__(self) -> None:
        st = self.segments[0]
        self.code, self.control, self.convention = (st.get(i).strip() for i in (1, 2, 3))

    @property
    def complete(self) -> bool:
        """True when the set ends with its SE."""
        return len(self.segments) > 1 and self.segments[-1].tag == "SE"


@dataclass(frozen=True, slots=True)
class GroupEnd:
    """Emitted after a group's GE (or where it should have been)."""

    group: FunctionalGroup


@dataclass(frozen=True, slots=True)
class InterchangeEnd:
    """Emitted after an interchange's IEA (or where it should have been)."""

    interchange: Interchange


Event = TransactionSet | GroupEnd | InterchangeEnd


def read_envelopes(items: Iterable[ReadItem]) -> Iterator[Event]:
    """Group the reader's output into transaction sets, groups and interchanges."""
    inter: Interchange | None = None
    group: FunctionalGroup | None = None
    current: list[Segment] | None = None

    def close_set(se: Segment | None) -> TransactionSet:
        assert group is not None and current is not None
        ts = TransactionSet(group, current, index=group.set_count)
        group.set_count += 1
        check_set(ts, se)
        return ts

    def close_group(ge: Segment | None) -> GroupEnd:
        assert group is not None and inter is not None
        group.ge = ge
        check_group(group, ge)
        return GroupEnd(group)

    envelope_tags = _ENVELOPE_TAGS
    for item in items:
        if current is not None and item.__class__ is Segment:
            # inside a set (nearly every segment): one tag test, no other lookups
            els = item._elements or item.elements
            tag = els[0]
            if tag not in envelope_tags:
                current.append(item)
                continue
            if tag == "SE":
                current.append(item)
                yield close_set(item)
                current = None
                continue
        if isinstance(item, BrokenInterchange):
            if current is not None and group is not None:
                yield close_set(None)
                current = None
            if group is not None:
                yield close_group(None)
                group = None
            if (
                inter is not None
                and inter.iea is None
                and item.error.code == InterchangeNoteCode.PREMATURE_END_OF_FILE
            ):
                inter.errors.append(item.error)
                yield InterchangeEnd(inter)
                inter = None
                continue
            if inter is not None:
                yield InterchangeEnd(inter)
                inter = None
            broken = Interchange(isa=None, offset=item.error.position.offset or 0)
            broken.errors.append(item.error)
            yield InterchangeEnd(broken)
            continue
        seg = item
        tag = (seg._elements or seg.elements)[0]
        if current is not None:
            if tag == "SE":
                current.append(seg)
                yield close_set(seg)
                current = None
                continue
            if tag not in _SET_ENDERS:
                current.append(seg)
                continue
            yield close_set(None)  # the set ended without its SE
            current = None
        if isinstance(seg, IsaSegment):
            inter = Interchange(isa=seg, offset=seg.offset, warnings=list(seg.warnings))
            check_isa(inter)
            continue
        if inter is None:  # pragma: no cover - the reader always starts with an ISA
            continue
        if tag == "ST":
            if group is None:
                inter.errors.append(
                    env_error(
                        f"ST at segment {seg.number} is outside a functional group (no GS)",
                        InterchangeNoteCode.INVALID_INTERCHANGE_CONTENT,
                        "interchange",
                        seg,
                        interchange_control=inter.control,
                    )
                )
                continue
            current = [seg]
        elif tag == "GS":
            if group is not None:
                yield close_group(None)
            group = FunctionalGroup(gs=seg, interchange=inter)
            inter.groups.append(group)
            check_gs(group)
        elif tag == "GE":
            if group is None:
                inter.errors.append(
                    env_error(
                        f"GE at segment {seg.number} has no GS",
                        InterchangeNoteCode.INVALID_INTERCHANGE_CONTENT,
                        "interchange",
                        seg,
                        interchange_control=inter.control,
                    )
                )
                continue
            yield close_group(seg)
            group = None
        elif tag == "IEA":
            if group is not None:
                yield close_group(None)
                group = None
            inter.iea = seg
            check_iea(inter, seg)
            yield InterchangeEnd(inter)
            inter = None
        elif tag == "TA1" and group is None:
            inter.ta1_segments.append(seg)
        else:
            inter.errors.append(
                env_error(
                    f"segment {tag} at segment {seg.number} is outside any transaction set",
                    InterchangeNoteCode.INVALID_INTERCHANGE_CONTENT,
                    "interchange",
                    seg,
                    interchange_control=inter.control,
                    group_control=group.control if group else None,
                )
            )
    if current is not None and group is not None:
        yield close_set(None)
    if group is not None:
        yield close_group(None)
    if inter is not None:  # pragma: no cover - the reader reports a missing IEA itself
        yield InterchangeEnd(inter)
