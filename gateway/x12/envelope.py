"""ISA/GS/ST nesting: trailer counts, control numbers, and per-set isolation.

:func:`read_envelopes` turns the reader's segments into events: each complete
:class:`TransactionSet` as soon as its SE is read (memory stays bounded by one
set), then a :class:`GroupEnd` and an :class:`InterchangeEnd` carrying the
envelope findings. A broken set is marked and its neighbours go on; a broken
interchange is reported and reading resumes at the next ISA.

Imports only ``gateway.errors``, ``gateway.x12.codes`` and ``gateway.x12.reader``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from gateway.errors import EnvelopeError, Position
from gateway.x12.codes import GroupErrorCode, InterchangeNoteCode, SetErrorCode
from gateway.x12.reader import BrokenInterchange, Delimiters, IsaSegment, ReadItem, Segment

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator

# GS01 functional identifier code for each transaction set (X12 element 479).
FUNCTIONAL_GROUPS: dict[str, frozenset[str]] = {
    "810": frozenset({"IN"}),
    "820": frozenset({"RA"}),
    "850": frozenset({"PO"}),
    "855": frozenset({"PR"}),
    "856": frozenset({"SH"}),
    "997": frozenset({"FA"}),
    "999": frozenset({"FA"}),
}
# Implementation conventions that assign other GS01 codes: the aerospace
# guides (ASC X12 004010X348/X357/X358) send invoices, orders and order acks
# under GS01 "SC".
CONVENTION_GROUPS: dict[str, dict[str, frozenset[str]]] = {
    "004010X348": {"810": frozenset({"SC"})},
    "004010X357": {"850": frozenset({"SC"})},
    "004010X358": {"855": frozenset({"SC"})},
}


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


def _env_error(
    message: str, code: str, level: str, seg: Segment | None, **controls: str | None
) -> EnvelopeError:
    pos = seg.position() if seg is not None else Position()
    return EnvelopeError(message, code=code, level=level, position=pos, **controls)


def read_envelopes(items: Iterable[ReadItem]) -> Iterator[Event]:
    """Group the reader's output into transaction sets, groups and interchanges."""
    inter: Interchange | None = None
    group: FunctionalGroup | None = None
    current: list[Segment] | None = None

    def close_set(se: Segment | None) -> TransactionSet:
        assert group is not None and current is not None
        ts = TransactionSet(group, current, index=group.set_count)
        group.set_count += 1
        _check_set(ts, se)
        return ts

    def close_group(ge: Segment | None) -> GroupEnd:
        assert group is not None and inter is not None
        group.ge = ge
        _check_group(group, ge)
        return GroupEnd(group)

    for item in items:
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
        tag = seg.elements[0]
        if current is not None:
            if tag == "SE":
                current.append(seg)
                yield close_set(seg)
                current = None
                continue
            if tag not in ("ST", "GE", "IEA", "GS"):
                current.append(seg)
                continue
            yield close_set(None)  # the set ended without its SE
            current = None
        if isinstance(seg, IsaSegment):
            inter = Interchange(isa=seg, offset=seg.offset, warnings=list(seg.warnings))
            _check_isa(inter)
            continue
        if inter is None:  # pragma: no cover - the reader always starts with an ISA
            continue
        if tag == "ST":
            if group is None:
                inter.errors.append(
                    _env_error(
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
            _check_gs(group)
        elif tag == "GE":
            if group is None:
                inter.errors.append(
                    _env_error(
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
            _check_iea(inter, seg)
            yield InterchangeEnd(inter)
            inter = None
        elif tag == "TA1" and group is None:
            inter.ta1_segments.append(seg)
        else:
            inter.errors.append(
                _env_error(
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


def _is_date(value: str) -> bool:
    fmt = {6: "%y%m%d", 8: "%Y%m%d"}.get(len(value))
    if fmt is None or not value.isdigit():
        return False
    try:
        dt.datetime.strptime(value, fmt)  # noqa: DTZ007 - a calendar check only
    except ValueError:
        return False
    return True


def _is_time(value: str) -> bool:
    if len(value) not in (4, 6, 7, 8) or not value.isdigit():
        return False
    hh, mm = int(value[:2]), int(value[2:4])
    ss = int(value[4:6]) if len(value) >= 6 else 0
    return hh < 24 and mm < 60 and ss < 60


def _check_isa(inter: Interchange) -> None:
    isa = inter.isa
    assert isa is not None
    note = InterchangeNoteCode
    checks: list[tuple[bool, str, str, int]] = [
        (
            len(inter.sender_qualifier) == 2,
            note.INVALID_SENDER_QUALIFIER,
            "ISA05 sender qualifier",
            5,
        ),
        (bool(inter.sender_id), note.INVALID_SENDER_ID, "ISA06 sender id", 6),
        (
            len(inter.receiver_qualifier) == 2,
            note.INVALID_RECEIVER_QUALIFIER,
            "ISA07 receiver qualifier",
            7,
        ),
        (bool(inter.receiver_id), note.INVALID_RECEIVER_ID, "ISA08 receiver id", 8),
        (
            _is_date(inter.date) and len(inter.date) == 6,
            note.INVALID_DATE,
            "ISA09 date (YYMMDD)",
            9,
        ),
        (_is_time(inter.time) and len(inter.time) == 4, note.INVALID_TIME, "ISA10 time (HHMM)", 10),
        (
            len(inter.version) == 5 and inter.version.isdigit(),
            note.INVALID_VERSION_ID,
            "ISA12 version",
            12,
        ),
        (
            len(inter.control) == 9 and inter.control.isdigit(),
            note.INVALID_CONTROL_NUMBER,
            "ISA13 control number (9 digits)",
            13,
        ),
        (isa.get(14).strip() in ("0", "1"), note.INVALID_ACK_REQUESTED, "ISA14 (0 or 1)", 14),
        (inter.usage in ("P", "T", "I"), note.INVALID_TEST_INDICATOR, "ISA15 (P, T or I)", 15),
    ]
    for ok, code, what, index in checks:
        if not ok:
            inter.errors.append(
                _env_error(
                    f"invalid {what}: found {isa.get(index)!r}",
                    code,
                    "interchange",
                    isa,
                    interchange_control=inter.control,
                )
            )


def _check_iea(inter: Interchange, iea: Segment) -> None:
    if iea.get(2).strip() != inter.control:
        inter.errors.append(
            _env_error(
                f"IEA02 {iea.get(2)!r} does not match ISA13 {inter.control!r}",
                InterchangeNoteCode.CONTROL_NUMBER_MISMATCH,
                "interchange",
                iea,
                interchange_control=inter.control,
            )
        )
    count = iea.get(1).strip()
    if not count.isdigit() or int(count) != len(inter.groups):
        inter.errors.append(
            _env_error(
                f"IEA01 says {count!r} functional groups, the interchange has {len(inter.groups)}",
                InterchangeNoteCode.INVALID_GROUP_COUNT,
                "interchange",
                iea,
                interchange_control=inter.control,
            )
        )


def _check_gs(group: FunctionalGroup) -> None:
    gs = group.gs
    control = group.control
    inter = group.interchange
    if not (control.isdigit() and 1 <= len(control) <= 9):
        group.errors.append(
            _env_error(
                f"GS06 group control number must be 1-9 digits, found {gs.get(6)!r}",
                GroupErrorCode.INVALID_CONTROL_NUMBER,
                "group",
                gs,
                interchange_control=inter.control,
                group_control=control,
            )
        )
    elif group.version.startswith("005") and any(
        g is not group and g.control == control for g in inter.groups
    ):
        # AK905 code 19 exists from 005010 on; earlier versions have no code for it
        code = GroupErrorCode.NOT_UNIQUE_IN_INTERCHANGE
        group.errors.append(
            _env_error(
                f"GS06 group control number {control} is used twice in interchange {inter.control}",
                code,
                "group",
                gs,
                interchange_control=inter.control,
                group_control=control,
            )
        )


def _check_group(group: FunctionalGroup, ge: Segment | None) -> None:
    inter = group.interchange
    controls = {"interchange_control": inter.control, "group_control": group.control}
    if ge is None:
        group.errors.append(
            _env_error(
                f"functional group {group.control} has no GE trailer",
                GroupErrorCode.TRAILER_MISSING,
                "group",
                group.gs,
                **controls,
            )
        )
        return
    if ge.get(2).strip() != group.control:
        group.errors.append(
            _env_error(
                f"GE02 {ge.get(2)!r} does not match GS06 {group.control!r}",
                GroupErrorCode.CONTROL_NUMBER_MISMATCH,
                "group",
                ge,
                **controls,
            )
        )
    count = ge.get(1).strip()
    if not count.isdigit() or int(count) != group.set_count:
        group.errors.append(
            _env_error(
                f"GE01 says {count!r} transaction sets, the group has {group.set_count}",
                GroupErrorCode.SET_COUNT_MISMATCH,
                "group",
                ge,
                **controls,
            )
        )


def _check_set(ts: TransactionSet, se: Segment | None) -> None:
    group = ts.group
    st = ts.segments[0]
    controls = {
        "interchange_control": group.interchange.control,
        "group_control": group.control,
        "set_control": ts.control,
    }

    def add(message: str, code: SetErrorCode, seg: Segment) -> None:
        ts.errors.append(_env_error(message, code, "set", seg, **controls))

    code = ts.code
    if not (len(code) == 3 and code.isdigit()):
        add(
            f"ST01 transaction set identifier must be 3 digits, found {st.get(1)!r}",
            SetErrorCode.INVALID_SET_ID,
            st,
        )
    else:
        allowed = CONVENTION_GROUPS.get(group.version, {}).get(code) or FUNCTIONAL_GROUPS.get(code)
        if allowed is not None and group.functional_id not in allowed:
            five = group.version.startswith("005")
            add(
                f"ST01 {code} does not belong in a GS01 {group.functional_id!r} group "
                f"(expected {', '.join(sorted(allowed))})",
                SetErrorCode.NOT_IN_GROUP if five else SetErrorCode.INVALID_SET_ID,
                st,
            )
    control = ts.control
    if not (4 <= len(control) <= 9 and control.isalnum()):
        add(
            f"ST02 control number must be 4-9 characters, found {st.get(2)!r}",
            SetErrorCode.INVALID_CONTROL_NUMBER,
            st,
        )
    elif control in group.set_controls:
        add(
            f"ST02 control number {control} is used twice in group {group.control}",
            SetErrorCode.CONTROL_NUMBER_NOT_UNIQUE,
            st,
        )
    group.set_controls.add(control)
    if se is None:
        last = ts.segments[-1]
        add(
            f"transaction set {control} has no SE trailer (it ends at segment {last.number})",
            SetErrorCode.TRAILER_MISSING,
            last,
        )
        return
    if se.get(2).strip() != control:
        add(
            f"SE02 {se.get(2)!r} does not match ST02 {st.get(2)!r}",
            SetErrorCode.CONTROL_NUMBER_MISMATCH,
            se,
        )
    count = se.get(1).strip()
    if not count.isdigit() or int(count) != len(ts.segments):
        add(
            f"SE01 says {count!r} segments, the transaction set has {len(ts.segments)}",
            SetErrorCode.SEGMENT_COUNT_MISMATCH,
            se,
        )
