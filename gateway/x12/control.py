"""Where outbound control numbers come from: ISA13, GS06 and ST02.

A :class:`ControlNumbers` source hands out one counter per *scope* (our
interchange id plus the partner's, see :func:`control_scope`) and per *kind*
(interchange, group, set). X12 asks that ISA13 never repeat between one sender
and one receiver inside the receiver's duplicate window, that GS06 be unique
for the sender, and that ST02 be unique inside its group; one counter per scope
and kind that never goes back satisfies all three.

All three numbers are at most nine digits (ISA13 is N0 9/9, GS06 N0 1/9, ST02
AN 4/9), so every counter stops at 999999999. A commercial translator either
wraps to 1 there or makes an operator reset the counter; wrapping silently
would hand the partner numbers its duplicate check may still remember, so this
module raises :class:`ControlNumbersExhaustedError` instead and leaves the reset
to a person (at a realistic volume the limit is decades away).

Storage implements the same protocol persistently (one row per scope and kind,
incremented inside the sending transaction). This module imports only
``gateway.errors``.
"""

from __future__ import annotations

import threading
from typing import Literal, Protocol

from gateway.errors import (
    ControlNumbersExhaustedError as ControlNumbersExhaustedError,
)  # re-exported: it was defined here
from gateway.errors import UsageError

ControlKind = Literal["interchange", "group", "set"]
KINDS: tuple[ControlKind, ...] = ("interchange", "group", "set")
MAX_CONTROL_NUMBER = 999_999_999


class ControlNumbers(Protocol):
    """A source of fresh control numbers, one counter per scope and kind."""

    def next(self, scope: str, kind: ControlKind) -> int:
        """The next unused number (1 first) of the ``kind`` counter of ``scope``.

        Raises:
            ControlNumbersExhaustedError: the counter has reached its maximum.
        """
        ...


def control_scope(sender: tuple[str, str], receiver: tuple[str, str]) -> str:
    """The counter scope of one sender and one receiver, e.g. ``ZZ:OURCO>01:123456789``.

    Qualifiers and ids are stripped of the padding of the fixed-width ISA fields
    so that a padded and an unpadded id share one counter.
    """
    (sq, sid), (rq, rid) = sender, receiver
    return f"{sq.strip()}:{sid.strip()}>{rq.strip()}:{rid.strip()}"


class MemoryControlNumbers:
    """Control numbers kept in memory: thread-safe, never reused while the object lives.

    Args:
        start: the last number already used per ``(scope, kind)``; the next call
            for that counter returns one more.
        maximum: the last number a counter may hand out.
    """

    def __init__(
        self,
        start: dict[tuple[str, ControlKind], int] | None = None,
        *,
        maximum: int = MAX_CONTROL_NUMBER,
    ) -> None:
        if not 1 <= maximum <= MAX_CONTROL_NUMBER:
            raise UsageError(f"maximum must be 1..{MAX_CONTROL_NUMBER}, got {maximum}")
        self._last: dict[tuple[str, ControlKind], int] = {}
        for (scope, kind), last in (start or {}).items():
            _check_kind(kind)
            if not 0 <= last <= maximum:
                raise UsageError(f"start for {scope} {kind} must be 0..{maximum}, got {last}")
            self._last[scope, kind] = last
        self._maximum = maximum
        self._lock = threading.Lock()

    def next(self, scope: str, kind: ControlKind) -> int:
        """The next number of the ``kind`` counter of ``scope``; see :class:`ControlNumbers`."""
        _check_kind(kind)
        key = (scope, kind)
        with self._lock:
            last = self._last.get(key, 0)
            if last >= self._maximum:
                raise ControlNumbersExhaustedError(scope, kind, self._maximum)
            self._last[key] = last + 1
            return last + 1

    def last(self, scope: str, kind: ControlKind) -> int:
        """The last number handed out for the counter (0 when none was)."""
        _check_kind(kind)
        with self._lock:
            return self._last.get((scope, kind), 0)


def _check_kind(kind: str) -> None:
    if kind not in KINDS:
        raise UsageError(f"control number kind must be one of {', '.join(KINDS)}, got {kind!r}")
