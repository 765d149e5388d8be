"""The envelope rules: ISA fields, IEA/GE/SE counts and control numbers, GS01 against ST01.

Each check appends :class:`~gateway.errors.EnvelopeError` findings carrying the
code the acknowledgment needs (TA105, AK905 or AK502). Imports only
``gateway.errors`` and ``gateway.x12`` modules below ``envelope``.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from gateway.errors import EnvelopeError, Position
from gateway.x12.codes import GroupErrorCode, InterchangeNoteCode, SetErrorCode

if TYPE_CHECKING:
    from gateway.x12.envelope import FunctionalGroup, Interchange, TransactionSet
    from gateway.x12.segments import Segment

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


def env_error(
    message: str, code: str, level: str, seg: Segment | None, **controls: str | None
) -> EnvelopeError:
    """An envelope finding at ``seg`` with its code, level and control numbers."""
    pos = seg.position() if seg is not None else Position()
    return EnvelopeError(message, code=code, level=level, position=pos, **controls)


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


def check_isa(inter: Interchange) -> None:
    """ISA field checks (TA105 codes 005-020)."""
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
                env_error(
                    f"invalid {what}: found {isa.get(index)!r}",
                    code,
                    "interchange",
                    isa,
                    interchange_control=inter.control,
                )
            )


def check_iea(inter: Interchange, iea: Segment) -> None:
    """IEA01 group count and IEA02 against ISA13."""
    if iea.get(2).strip() != inter.control:
        inter.errors.append(
            env_error(
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
            env_error(
                f"IEA01 says {count!r} functional groups, the interchange has {len(inter.groups)}",
                InterchangeNoteCode.INVALID_GROUP_COUNT,
                "interchange",
                iea,
                interchange_control=inter.control,
            )
        )


def check_gs(group: FunctionalGroup) -> None:
    """GS06 syntax and, from 005010, uniqueness in the interchange."""
    gs = group.gs
    control = group.control
    inter = group.interchange
    if not (control.isdigit() and 1 <= len(control) <= 9):
        group.errors.append(
            env_error(
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
            env_error(
                f"GS06 group control number {control} is used twice in interchange {inter.control}",
                code,
                "group",
                gs,
                interchange_control=inter.control,
                group_control=control,
            )
        )


def check_group(group: FunctionalGroup, ge: Segment | None) -> None:
    """GE presence, GE01 set count and GE02 against GS06."""
    inter = group.interchange
    controls = {"interchange_control": inter.control, "group_control": group.control}
    if ge is None:
        group.errors.append(
            env_error(
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
            env_error(
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
            env_error(
                f"GE01 says {count!r} transaction sets, the group has {group.set_count}",
                GroupErrorCode.SET_COUNT_MISMATCH,
                "group",
                ge,
                **controls,
            )
        )


def check_set(ts: TransactionSet, se: Segment | None) -> None:
    """ST01/ST02 syntax, GS01 agreement, duplicate ST02, SE presence, count and control."""
    group = ts.group
    st = ts.segments[0]
    controls = {
        "interchange_control": group.interchange.control,
        "group_control": group.control,
        "set_control": ts.control,
    }

    def add(message: str, code: SetErrorCode, seg: Segment) -> None:
        ts.errors.append(env_error(message, code, "set", seg, **controls))

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
