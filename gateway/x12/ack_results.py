"""What an acknowledgment says about each set and group: the input of the ack builders.

Imports only ``gateway.x12.codes`` (and, for types, the envelope and validator).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from gateway.x12.codes import GroupAckCode, SetAckCode

if TYPE_CHECKING:
    from gateway.x12.envelope import FunctionalGroup
    from gateway.x12.validator import SegmentIssue


@dataclass(frozen=True, slots=True)
class SetAck:
    """What the acknowledgment says about one transaction set (AK2..AK5 / AK2..IK5)."""

    code: str
    control: str
    convention: str
    status: SetAckCode
    errors: tuple[str, ...] = ()
    issues: tuple[SegmentIssue, ...] = ()


@dataclass(eq=False)
class GroupAck:
    """What the acknowledgment says about one functional group (AK1..AK9)."""

    group: FunctionalGroup
    sets: list[SetAck] = field(default_factory=list)

    @property
    def errors(self) -> tuple[str, ...]:
        """AK905-AK909 codes: the group's own envelope findings, at most five."""
        return tuple(dict.fromkeys(e.code for e in self.group.errors if e.code))[:5]

    @property
    def accepted(self) -> int:
        """How many sets were accepted (AK904); none when the group itself is rejected."""
        if self.group.errors:
            return 0
        ok = (SetAckCode.ACCEPTED, SetAckCode.ACCEPTED_WITH_ERRORS)
        return sum(1 for s in self.sets if s.status in ok)

    @property
    def received(self) -> int:
        """How many sets the group held (AK903), a set without a :class:`SetAck` included."""
        return max(self.group.set_count, len(self.sets))

    @property
    def status(self) -> GroupAckCode:
        """AK901: A, E, P or R."""
        if self.group.errors or (self.received and self.accepted == 0):
            return GroupAckCode.REJECTED
        if self.accepted < self.received:
            return GroupAckCode.PARTIALLY_ACCEPTED
        if any(s.status == SetAckCode.ACCEPTED_WITH_ERRORS for s in self.sets):
            return GroupAckCode.ACCEPTED_WITH_ERRORS
        return GroupAckCode.ACCEPTED
