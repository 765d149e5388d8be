"""Build TA1, 997 and 999 acknowledgments from envelope and validation results.

:func:`build_acks` answers one inbound interchange with one reply: a TA1 when
asked for (ISA14=1) or when the envelope is bad, and a 997 (before 005010) or
999 (005010X231A1) per group, in one GS*FA per reply version. A rejected
interchange gets its TA1 R only; FA groups are never acknowledged (X12.6). A
group rejected as a whole (AK905 codes) gets AK1 and AK9 only.

An ack never echoes a value that does not fit its element: a set whose ST01 or
ST02 does not fit gets no AK2 loop (AK9 still counts it); an AK404 copy of bad
data holding a delimiter, a control or a non-ASCII character is left out; a
group whose GS01/GS06/GS08 does not fit gets no 997/999 and the TA1 says E 024.
Codes the ack's release lacks become the nearest one it has (999 ``I`` codes in
a 997, 005010 codes in a 004010 997) or are left out.

Caps keep a garbage file from making a giant ack (AK9 counts still cover every set):
10,000 AK2 loops per 997/999 (past that, only sets not accepted), 100 AK3 loops per
set and 1,000 per 997/999, 20 AK4 per AK3. Imports only ``gateway.x12`` modules.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from itertools import islice
from typing import TYPE_CHECKING, Literal

from gateway.errors import ConfigError, MappingError
from gateway.x12.ack_results import GroupAck, SetAck
from gateway.x12.codes import InterchangeNoteCode, SetAckCode
from gateway.x12.reader import Delimiters
from gateway.x12.writer import (
    Composite,
    OutboundGroup,
    TransactionBody,
    check_delimiters,
    write_interchange,
)

log = logging.getLogger(__name__)

__all__ = [
    "AckKind",
    "GroupAck",
    "SetAck",
    "ack_kind",
    "build_ack_set",
    "build_acks",
    "build_ta1",
    "interchange_rejected",
    "needs_ta1",
]

if TYPE_CHECKING:
    import datetime as dt
    from collections.abc import Sequence

    from gateway.x12.control import ControlNumbers
    from gateway.x12.envelope import FunctionalGroup, Interchange
    from gateway.x12.validator import ElementIssue, SegmentIssue
    from gateway.x12.writer import Element, WrittenInterchange

AckKind = Literal["997", "999"]
IMPLEMENTATION_ACK_GUIDE = "005010X231A1"
"""GS08 and ST03 of every 999 (the ASC X12 999 implementation guide)."""
MAX_SET_RESPONSES, MAX_SEGMENT_NOTES, MAX_NOTES_PER_ACK, MAX_ELEMENT_NOTES = 10_000, 100, 1_000, 20
_COPY_MAX = 99  # AK404/IK404: data element 724, AN 1/99

_ID = re.compile(r"[A-Z0-9]{2,3}")
_SET_ID = re.compile(r"[A-Z0-9]{3}")
_NOTE_CODES = frozenset(c.value for c in InterchangeNoteCode)


# -- code lists per release ----------------------------------------------------------------
def _codes(*values: str | range) -> frozenset[str]:
    out: set[str] = set()
    for v in values:
        out |= {str(n) for n in v} if isinstance(v, range) else {v}
    return frozenset(out)


_SEG = _codes(range(1, 9))  # 720
_SEG_999 = _SEG | _codes("I4", "I6", "I7", "I8", "I9")  # 620
_EL4 = _codes(range(1, 11))  # 723
_EL5 = _EL4 | _codes("12", "13")
_EL_999 = _EL5 | _codes("I6", "I9", "I10", "I11", "I12", "I13")  # 621
_SET4 = _codes(range(1, 14), range(15, 18), range(23, 28))  # 718
_SET5 = _SET4 | _codes("18", "19")
_SET_999 = _SET5 | _codes("I5", "I6")  # 618
_GR4 = _codes(range(1, 7), range(10, 19), range(23, 27))  # 716
_GR5 = _GR4 | _codes("19")
# The nearest code a 997 has for an implementation (999) code or a later release's code
_SEG_IN_997 = {"I4": "2", "I6": "3", "I7": "3", "I8": "3", "I9": "2"}
_EL_997 = {"I6": "7", "I9": "2", "I10": "10", "I11": "1", "I12": "6", "I13": "10"}
_EL_4010 = {**_EL_997, "12": "3", "13": "3"}
_SET_997 = {"I5": "5", "I6": "1"}
_SET_4010 = {**_SET_997, "18": "6"}


@dataclass(frozen=True, slots=True)
class _Rules:
    """How one 997/999 release spells things: allowed codes per level, nearest codes."""

    kind: AckKind
    five: bool  # 005010 or later: AK103, and the repetition position in C030
    segment: frozenset[str]
    element: frozenset[str]
    set: frozenset[str]
    group: frozenset[str]
    element_map: dict[str, str]
    set_map: dict[str, str]

    @property
    def prefix(self) -> str:
        return "IK" if self.kind == "999" else "AK"


_RULES = {
    ("999", True): _Rules("999", True, _SEG_999, _EL_999, _SET_999, _GR5, {}, {}),
    ("997", True): _Rules("997", True, _SEG, _EL5, _SET5, _GR5, _EL_997, _SET_997),
    ("997", False): _Rules("997", False, _SEG, _EL4, _SET4, _GR4, _EL_4010, _SET_4010),
}


def _rules(kind: AckKind, version: str) -> _Rules:
    return _RULES[kind, kind == "999" or _release(version) >= "005010"]


def _code(code: str, allowed: frozenset[str], nearest: dict[str, str]) -> str | None:
    return code if (code := nearest.get(code, code)) in allowed else None


def _release(version: str) -> str:
    return head if (head := version[:6]).isdigit() and len(head) == 6 else ""


# -- decisions -----------------------------------------------------------------------------
def ack_kind(group: FunctionalGroup, override: AckKind | None = None) -> AckKind:
    """997 for groups before 005010, 999 from 005010 on, unless the partner's profile says."""
    if override is not None:
        return override
    return "999" if _release(group.version) >= "005010" else "997"


def interchange_rejected(interchange: Interchange) -> bool:
    """True when the interchange envelope itself is bad: a TA1 R and no 997/999."""
    return bool(interchange.errors)


def needs_ta1(interchange: Interchange) -> bool:
    """True when the reply carries a TA1: asked for, a bad envelope, or a group we cannot ack."""
    return (
        interchange.ack_requested
        or interchange_rejected(interchange)
        or any(not _ackable(g) for g in interchange.groups if g.functional_id != "FA")
    )


def _ackable(g: FunctionalGroup) -> bool:
    """Whether AK101, AK102 and AK103 can echo the group's GS01, GS06 and GS08."""
    fid, control = g.functional_id, g.control
    ok_ids = len(fid) == 2 and fid.isalnum() and control.isdigit() and len(control) <= 9
    return ok_ids and _printable(g.version, "", 1, 12)


def _printable(value: str, unsafe: str = "", low: int = 0, high: int = 99) -> bool:
    """Whether ``value`` is ``low``-``high`` printable ASCII characters, none of them unsafe."""
    ok = low <= len(value) <= high and value.isascii() and value.isprintable()
    return ok and not set(value) & set(unsafe)


# -- TA1 -----------------------------------------------------------------------------------
def build_ta1(interchange: Interchange, *, now: dt.datetime) -> list[str]:
    """TA1*ISA13*ISA09*ISA10*A|E|R*note; ``now`` stands in for an unreadable ISA09/ISA10."""
    if interchange.errors:
        notes = [e.code for e in interchange.errors if e.code in _NOTE_CODES]
        ack, note = "R", notes[0] if notes else InterchangeNoteCode.INVALID_INTERCHANGE_CONTENT
    elif any(not _ackable(g) for g in interchange.groups if g.functional_id != "FA"):
        ack, note = "E", InterchangeNoteCode.INVALID_INTERCHANGE_CONTENT
    else:
        ack, note = "A", InterchangeNoteCode.NO_ERROR
    control, date, time = interchange.control, interchange.date, interchange.time
    # TA101 is N0 9/9: an ISA13 that is not a number cannot be echoed
    control = control.zfill(9) if control.isdigit() and len(control) <= 9 else "0" * 9
    found = {e.code for e in interchange.errors}
    if InterchangeNoteCode.INVALID_DATE in found or not (len(date) == 6 and date.isdigit()):
        date = now.strftime("%y%m%d")
    if InterchangeNoteCode.INVALID_TIME in found or not (len(time) == 4 and time.isdigit()):
        time = now.strftime("%H%M")
    return ["TA1", control, date, time, ack, str(note)]


# -- 997 / 999 -----------------------------------------------------------------------------
def build_ack_set(
    group_ack: GroupAck, kind: AckKind, *, delimiters: Delimiters | None = None
) -> list[list[Element]]:
    """The segments of one 997 or 999 (no ST/SE) for one group; ``delimiters`` are the reply's."""
    g = group_ack.group
    rules = _rules(kind, g.version)
    unsafe = _unsafe(delimiters)
    ak1: list[Element] = ["AK1", g.functional_id, g.control, g.version if rules.five else ""]
    segments = [ak1]
    if not group_ack.errors:
        budget = MAX_NOTES_PER_ACK
        for s in _reported(group_ack.sets, unsafe):
            loop, used = _set_response(s, rules, unsafe, budget)
            segments.extend(loop)
            budget -= used
    ge01 = g.ge.get(1).strip() if g.ge is not None else ""
    received = min(group_ack.received, 999_999)
    included = ge01 if ge01.isdigit() and len(ge01) <= 6 else str(received)
    codes = [c for c in dict.fromkeys(_code(c, rules.group, {}) for c in group_ack.errors) if c]
    ak9 = [group_ack.status.value, included, str(received), str(group_ack.accepted), *codes]
    segments.append(["AK9", *ak9])
    return segments


def _unsafe(d: Delimiters | None) -> str:
    # with no repetition separator named, the writer may still use its default ^ (00402+)
    return "*:^~|>" if d is None else d.element + d.component + (d.repetition or "^") + d.segment


def _reported(sets: Sequence[SetAck], unsafe: str) -> list[SetAck]:
    """The sets that get an AK2 loop: those AK201/AK202 can echo, capped."""
    echoable = [
        s for s in sets if _SET_ID.fullmatch(s.code) and _printable(s.control, unsafe, 4, 9)
    ]
    if len(echoable) <= MAX_SET_RESPONSES:
        return echoable
    # X12 lets a 997 list only the sets it did not accept; do that past the cap
    return [s for s in echoable if s.status != SetAckCode.ACCEPTED][:MAX_SET_RESPONSES]


def _set_response(
    s: SetAck, rules: _Rules, unsafe: str, budget: int
) -> tuple[list[list[Element]], int]:
    """AK2, its AK3/AK4 (IK3/IK4) notes and AK5 (IK5); and how many notes were used."""
    convention = s.convention if rules.kind == "999" else ""
    convention = convention if _printable(convention, unsafe, 0, 35) else ""
    loop: list[list[Element]] = [["AK2", s.code, s.control, convention]]
    found_notes = filter(None, (_segment_note(i, rules, unsafe) for i in s.issues))
    notes = list(islice(found_notes, min(MAX_SEGMENT_NOTES, budget)))
    loop.extend(seg for note in notes for seg in note)
    codes = [_code(c, rules.set, rules.set_map) for c in s.errors]
    found = [c for c in dict.fromkeys(codes) if c is not None]
    if not found and s.status != SetAckCode.ACCEPTED and s.issues:
        found = [_segments_in_error(s.issues, rules)]
    loop.append([f"{rules.prefix}5", s.status.value, *found[:5]])
    return loop, len(notes)


def _segments_in_error(issues: Sequence[SegmentIssue], rules: _Rules) -> str:
    """AK502 5, or IK502 I5 when the findings (the first hundred) are implementation ones."""
    if rules.kind == "997":
        return "5"
    found = (c for i in issues for c in (i.code, *(e.code for e in i.elements)) if c)
    codes = list(islice(found, 100))
    return "I5" if codes and all(c.value.startswith("I") for c in codes) else "5"


def _segment_note(issue: SegmentIssue, rules: _Rules, unsafe: str) -> list[list[Element]]:
    """One AK3 (IK3) and its AK4s (IK4s); empty when the segment cannot be named."""
    if not _ID.fullmatch(issue.tag) or not 1 <= issue.set_position <= 999_999:
        return []
    code = issue.code.value if issue.code is not None else "8" if issue.elements else None
    if code is None:
        return []
    seg_code = code if code in rules.segment else _SEG_IN_997.get(code, "")
    loop_id = issue.loop_id or ""
    loop_id = loop_id if _printable(loop_id, unsafe, 0, 4) else ""  # AK303: AN 1/4, optional
    tag = f"{rules.prefix}3"
    note: list[list[Element]] = [[tag, issue.tag, str(issue.set_position), loop_id, seg_code]]
    elements = filter(None, (_element_note(el, rules, unsafe) for el in issue.elements))
    return note + list(islice(elements, MAX_ELEMENT_NOTES))


def _element_note(el: ElementIssue, rules: _Rules, unsafe: str) -> list[Element]:
    code = _code(el.code.value, rules.element, rules.element_map)
    if code is None or not 1 <= el.position <= 99:
        return []
    # C030: element position, then component and repetition only as far as needed
    component = str(el.component) if el.component and 1 <= el.component <= 99 else ""
    repetition = el.repetition if rules.five and el.repetition else 0
    position = Composite(str(el.position), component, str(repetition) if repetition else "")
    reference = str(el.reference or "")
    reference = reference if reference.isdigit() and len(reference) <= 4 else ""
    return [f"{rules.prefix}4", position, reference, code, _copy(el.bad_value, unsafe)]


def _copy(value: str | None, unsafe: str) -> str:
    """AK404: the bad value, or nothing when it cannot be echoed safely."""
    if not value or not value.strip():
        return ""
    value = value[:_COPY_MAX]
    return value if _printable(value, unsafe) else ""


# -- the reply interchange -----------------------------------------------------------------
def build_acks(
    interchange: Interchange,
    group_acks: Sequence[GroupAck],
    *,
    our_id: tuple[str, str] | None = None,
    control_numbers: ControlNumbers,
    now: dt.datetime,
    delimiters: Delimiters | None = None,
    kind_override: AckKind | None = None,
    with_ta1: bool = False,
) -> WrittenInterchange | None:
    """The reply to ``interchange``: its TA1 and/or 997/999s, from ``our_id`` to its sender.

    ``our_id`` defaults to the inbound ISA07/ISA08, ``delimiters`` to the inbound's;
    ``kind_override`` is a partner profile's choice of 997 or 999 for every group;
    ``with_ta1`` adds a TA1 even when ISA14 does not ask (a profile's ``x12.ta1``).
    Returns None when there is nothing to send, or the inbound ISA does not say to whom.
    """
    partner = (interchange.sender_qualifier, interchange.sender_id)
    us = our_id or (interchange.receiver_qualifier, interchange.receiver_id)
    if not (interchange.readable and _addressable(partner) and _addressable(us)):
        return None
    delimiters = delimiters or _reply_delimiters(interchange.delimiters)
    ta1 = [build_ta1(interchange, now=now)] if with_ta1 or needs_ta1(interchange) else []
    groups: list[OutboundGroup] = []
    if not interchange_rejected(interchange):
        groups = _fa_groups(group_acks, delimiters, kind_override, us, partner)
    if not ta1 and not groups:
        return None
    version, usage = interchange.version, interchange.usage
    try:
        return write_interchange(
            groups,
            sender=us,
            receiver=partner,
            delimiters=delimiters,
            control_numbers=control_numbers,
            now=now,
            usage_indicator="T" if usage == "T" else "I" if usage == "I" else "P",
            version=version if len(version) == 5 and version.isdigit() else "00401",
            ta1_segments=ta1,
        )
    except (MappingError, ConfigError) as exc:
        # the inbound envelope holds values no reply can carry: nobody to answer
        log.warning(
            "no acknowledgment possible",
            extra={"interchange_control": interchange.control, "reason": str(exc)},
        )
        return None


def _addressable(party: tuple[str, str]) -> bool:
    qualifier, ident = party[0].strip(), party[1].strip()
    return len(qualifier) == 2 and 1 <= len(ident) <= 15 and _printable(qualifier + ident)


def _fa_groups(
    group_acks: Sequence[GroupAck],
    delimiters: Delimiters,
    kind_override: AckKind | None,
    us: tuple[str, str],
    partner: tuple[str, str],
) -> list[OutboundGroup]:
    """One GS*FA per reply version and application sender/receiver pair, in inbound order."""
    buckets: dict[tuple[str, str, str, str], list[TransactionBody]] = {}
    for ga in group_acks:
        g = ga.group
        if g.functional_id == "FA" or not _ackable(g):
            continue
        kind = ack_kind(g, kind_override)
        version = IMPLEMENTATION_ACK_GUIDE if kind == "999" else g.version
        # GS02/GS03 swap; an application code that cannot be echoed falls back to the ISA id
        app_sender = g.receiver if 2 <= len(g.receiver) <= 15 else us[1].strip()
        app_receiver = g.sender if 2 <= len(g.sender) <= 15 else partner[1].strip()
        body = build_ack_set(ga, kind, delimiters=delimiters)
        convention = IMPLEMENTATION_ACK_GUIDE if kind == "999" else ""
        key = (version, convention, app_sender, app_receiver)
        buckets.setdefault(key, []).append(TransactionBody(kind, body))
    return [
        OutboundGroup("FA", app_sender, app_receiver, version, sets, convention or None)
        for (version, convention, app_sender, app_receiver), sets in buckets.items()
    ]


def _reply_delimiters(inbound: Delimiters) -> Delimiters:
    """The inbound delimiters where they can be written, else the common ``* > ~``.

    A partner's exotic terminator (a three-byte UTF-8 ellipsis, say) is read
    fine but cannot be written as one X12 character.
    """
    try:
        check_delimiters(inbound)
    except ConfigError:
        rep = "^" if inbound.repetition else None
        return Delimiters(element="*", component=">", repetition=rep, segment="~")
    return inbound
