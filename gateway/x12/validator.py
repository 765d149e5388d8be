"""Validate one transaction set against its guide: the loop tree and the AK3/AK4 (IK3/IK4) findings.

Segments are matched with the standard loop algorithm (X12.6 section 4): a
segment is looked up among the remaining children of the current loop, then
among those of each enclosing loop (where the loop just left may start a new
iteration, opened by its first segment). Skipping a mandatory child reports it
missing (AK304 3) at the position of the segment that came instead; a segment
that fits nowhere is unrecognized (1), of another set (6), out of sequence (7)
or unexpected (2), and leaves the matching state as it was.

Elements are checked on a fast path (lengths, ``str.isdecimal``, a code set,
syntax notes cached per bit mask of the elements present); anything unusual is
re-checked the slow way in :mod:`gateway.x12.elements` for exact codes. Only
composites are split on the component separator (in a simple element it is
data: length and type checks catch the cases that matter), and only in 005010
on the repetition separator (004010 has none: ISA11 is a standards id).
Where a match goes from a loop position is remembered in the guide, so a
segment costs one dict lookup in the common case.

Imports only ``gateway.x12`` modules.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import repeat
from operator import contains
from typing import TYPE_CHECKING, Any

from gateway.x12.codes import SegmentErrorCode as SegErr
from gateway.x12.elements import ElementIssue, check_segment, note_violations
from gateway.x12.guides import LoopDef, SegmentDef, SegmentUse

if TYPE_CHECKING:
    from collections.abc import Sequence

    from gateway.x12.guides import Guide, Move
    from gateway.x12.reader import Delimiters, Segment

MAX_SEGMENT_ISSUES = 50
_VERDICTS_MAX = 256  # element patterns remembered per segment definition
_NO_SEGMENT = SegmentDef("", "", (), (), 0, ())

__all__ = ["ElementIssue", "LoopNode", "SegmentIssue", "SetValidation", "validate_set"]


class LoopNode:
    """One loop iteration of the tree: its ``id`` and its segments and child loops in order.

    The root is the whole set, the loop ST opens, with id ``"ST"``; every other
    loop is named as the guide names it (its first segment's tag, or 2000/2100/2110 in a 999).
    """

    __slots__ = ("content", "id")

    def __init__(self, id: str, content: list[Segment | LoopNode]) -> None:
        self.id = id
        self.content = content

    @property
    def segments(self) -> list[Segment]:
        """The segments directly in this loop, in order."""
        return [c for c in self.content if not isinstance(c, LoopNode)]

    @property
    def loops(self) -> list[LoopNode]:
        """The child loops, in order."""
        return [c for c in self.content if isinstance(c, LoopNode)]

    def __repr__(self) -> str:
        inner = ", ".join(c.tag if not isinstance(c, LoopNode) else repr(c) for c in self.content)
        return f"{self.id}[{inner}]"


@dataclass(frozen=True, slots=True)
class SegmentIssue:
    """One AK3 / IK3 finding with its AK4 / IK4 element findings.

    ``tag`` and ``set_position`` (1-based, ST is 1) are AK301/AK302; for a
    missing segment they are the missing tag and the position where it was
    expected, and ``segment`` is the segment found there (the last one when the
    set ended first). ``loop_id`` is AK303 (None outside any loop) and ``code``
    AK304: HAS_ELEMENT_ERRORS when only elements are wrong.
    """

    tag: str
    set_position: int
    loop_id: str | None
    code: SegErr | None
    elements: tuple[ElementIssue, ...]
    segment: Segment


@dataclass(slots=True)
class SetValidation:
    """The loop tree of one set and every problem found (``truncated`` when capped)."""

    tree: LoopNode
    issues: list[SegmentIssue] = field(default_factory=list)
    truncated: bool = False

    def add(self, issue: SegmentIssue) -> None:
        """Record an issue, up to MAX_SEGMENT_ISSUES."""
        if len(self.issues) < MAX_SEGMENT_ISSUES:
            self.issues.append(issue)
        else:
            self.truncated = True


# An open loop iteration while matching is a list, indexed by literals in the hot loop:
# [0 moves at pos, 1 pos, 2 uses of the child at pos, 3 content, 4 LoopDef, 5 loop id or None]
_POS, _USES, _CONTENT, _LOOP, _ID = 1, 2, 3, 4, 5


def validate_set(
    segments: Sequence[Segment], guide: Guide, delimiters: Delimiters
) -> SetValidation:
    """Match ``segments`` (ST..SE, SE possibly missing) to ``guide`` and check every element."""
    root = LoopNode("ST", [])
    result = SetValidation(root)
    rep = delimiters.repetition if guide.repetitions else None
    comp = delimiters.component
    frame: list[Any] = [guide.root.moves[0], 0, 0, root.content, guide.root, None]
    stack = [frame]
    for position, seg in enumerate(segments, 1):
        els = seg._elements or seg.elements
        move = frame[0].get(els[0]) or _route(stack, els[0], guide)
        up, j, check, max_use, definition, opens = move
        if up:
            if up < 0:
                _unplaced(result, stack, seg, position, guide, (rep, comp))
                continue
            if check:
                _leave(result, stack, up, j, seg, position)
            del stack[-up:]
            frame = stack[-1]
        elif check:
            _missing(result, frame, j, seg, position)
        if j == frame[1]:
            n = frame[2] = frame[2] + 1
        else:
            frame[0] = frame[4].moves[j]
            frame[1] = j
            n = frame[2] = 1
        if opens is None:
            frame[3].append(seg)
            loop_id = frame[5]
            code = SegErr.SEGMENT_OVER_MAX_USE if n > max_use else None
        else:
            loop_id = opens.id
            node = LoopNode(loop_id, [seg])
            frame[3].append(node)
            frame = [opens.moves[0], 0, 1, node.content, opens, loop_id]
            stack.append(frame)
            code = SegErr.LOOP_OVER_MAX if n > max_use else None
        found = _fast_check(els, definition, rep, comp)
        if found or code is not None:
            code = code or SegErr.HAS_ELEMENT_ERRORS
            result.add(SegmentIssue(els[0], position, loop_id, code, found or (), seg))
    if segments:
        _finish(result, stack, segments[-1], len(segments) + 1)
    return result


def _route(stack: list[list[Any]], tag: str, guide: Guide) -> Move:
    """Where ``tag`` leads from the innermost open loop; remembered for the next time.

    The answer depends only on the innermost loop and its position: every
    enclosing loop stands at the child loop that is open.
    """
    leaving = False
    move: Move = (-1, -1, False, 0, _NO_SEGMENT, None)
    for up, frame in enumerate(reversed(stack)):
        loop: LoopDef = frame[_LOOP]
        pos = frame[_POS]
        j = loop.jump[pos].get(tag)
        if j is not None:
            check = leaving or loop.next_required[pos + 1] < j
            child = loop.children[j]
            if isinstance(child, SegmentUse):
                move = (up, j, check, child.max_use, child.definition, None)
            else:
                move = (up, j, check, child.max_use, child.opener.definition, child)
            break
        leaving = leaving or loop.next_required[pos + 1] < len(loop.children)
    if tag in guide.segments:  # unknown tags are not remembered: garbage must not grow it
        stack[-1][0][tag] = move
    return move


def _leave(
    result: SetValidation, stack: list[list[Any]], up: int, j: int, seg: Segment, position: int
) -> None:
    """Report the mandatory children skipped by leaving ``up`` loops and going to child ``j``."""
    for frame in reversed(stack[-up:]):
        _missing(result, frame, len(frame[_LOOP].children), seg, position)
    _missing(result, stack[-up - 1], j, seg, position)


def _finish(result: SetValidation, stack: list[list[Any]], last: Segment, position: int) -> None:
    """Report mandatory segments still missing when the set ends (not SE: the envelope does)."""
    for frame in reversed(stack[1:]):
        _missing(result, frame, len(frame[_LOOP].children), last, position)
    root: LoopDef = stack[0][_LOOP]
    end = len(root.children) - 1  # SE
    if stack[0][_POS] < end:
        _missing(result, stack[0], end, last, position)


def _missing(
    result: SetValidation, frame: list[Any], upto: int, seg: Segment, position: int
) -> None:
    """Report the mandatory children of ``frame`` after its position and before ``upto``."""
    loop: LoopDef = frame[_LOOP]
    start = frame[_POS] + (frame[_USES] > 0)
    for index in loop.required:
        if start <= index < upto:
            child = loop.children[index]
            loop_id: str | None
            if isinstance(child, LoopDef):
                tag, loop_id = child.opener.tag, child.id
            else:
                tag, loop_id = child.tag, frame[_ID]
            missing = SegErr.MANDATORY_SEGMENT_MISSING
            result.add(SegmentIssue(tag, position, loop_id, missing, (), seg))


def _unplaced(
    result: SetValidation,
    stack: list[list[Any]],
    seg: Segment,
    position: int,
    guide: Guide,
    separators: tuple[str | None, str],
) -> None:
    """A segment that fits nowhere from here: classify it and keep it in the current loop."""
    tag = seg.elements[0]
    frame = stack[-1]
    frame[_CONTENT].append(seg)
    definition = guide.segments.get(tag)
    if definition is None:
        code = SegErr.UNRECOGNIZED_SEGMENT
    elif tag not in guide.used:
        code = SegErr.NOT_IN_TRANSACTION_SET
    elif any(f[_LOOP].jump[0].get(tag, f[_POS]) < f[_POS] for f in stack):
        code = SegErr.OUT_OF_SEQUENCE  # its place in an open loop is behind us
    else:
        code = SegErr.UNEXPECTED_SEGMENT
    found = () if definition is None else check_segment(seg.elements, definition, *separators)
    result.add(SegmentIssue(tag, position, frame[_ID], code, found, seg))


def _fast_check(
    els: list[str], definition: SegmentDef, rep: str | None, comp: str
) -> tuple[ElementIssue, ...] | None:
    """None when the segment's elements are certainly valid, else the full check's findings.

    The fast kinds are tested by number (``FAST_MAX`` ... in :mod:`gateway.x12.elements`):
    this loop runs for every element of every segment.
    """
    fast = definition.fast
    if len(els) - 1 > len(fast) or (rep is not None and any(map(contains, els, repeat(rep)))):
        return check_segment(els, definition, rep, comp)
    mask = 0
    values = iter(els)
    next(values)  # the segment id
    # zip(..., strict=False) costs 100 ns more per call (3.11): this runs for every segment
    for value, (kind, high, bit, low, codes) in zip(values, fast):  # noqa: B905
        if value:
            mask |= bit
            if kind == 0:  # FAST_MAX
                if len(value) <= high:
                    continue
            elif kind == 1:  # FAST_EXACT
                if len(value) == high:
                    continue
            elif kind == 2:  # FAST_RANGE
                if low <= len(value) <= high:
                    continue
            elif kind == 3:  # FAST_CODE
                if value in codes:  # type: ignore[operator]  # coded elements have codes
                    continue
            elif kind == 5:  # FAST_DECIMAL
                digits = value if value.isdecimal() else value.replace(".", "", 1)
                if digits.isdecimal() and low <= len(digits) <= high:
                    continue
            elif kind == 4:  # FAST_NUMBER
                if value.isdecimal() and low <= len(value) <= high:
                    continue
            elif kind == 6:  # FAST_DATE
                if len(value) == 8 == high and value.isdecimal() and _plain_date(value):
                    continue
            elif kind == 7:  # FAST_TIME
                if len(value) == 4 and value.isdecimal() and value[:2] < "24" and value[2] < "6":
                    continue
            elif kind == 8:  # FAST_SKIP
                continue
            return check_segment(els, definition, rep, comp)
    verdict = definition.verdicts.get(mask)
    if verdict is None:
        verdict = mask & definition.mandatory == definition.mandatory and not note_violations(
            definition.notes, mask
        )
        if len(definition.verdicts) < _VERDICTS_MAX:
            definition.verdicts[mask] = verdict
    return None if verdict else check_segment(els, definition, rep, comp)


def _plain_date(value: str) -> bool:
    """True for CCYYMMDD dates every month has (days 01-28): the rest go the slow way."""
    return "01" <= value[4:6] <= "12" and "01" <= value[6:] <= "28"
