"""The X12 value types: delimiters, segments, and an interchange the reader could not read.

Imports only ``gateway.errors`` and ``gateway.x12.codes``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from gateway.errors import EnvelopeError, Position

if TYPE_CHECKING:
    from gateway.x12.codes import InterchangeNoteCode as Ta1


@dataclass(frozen=True, slots=True)
class Delimiters:
    r"""The four X12 delimiters of one interchange.

    ``repetition`` is None where ISA11 is a standards identifier (before 00402).
    ``suffix`` is what the writer puts after each terminator (``"\\n"`` or ``""``).
    """

    element: str = "*"
    component: str = ":"
    repetition: str | None = None
    segment: str = "~"
    suffix: str = "\n"

    @property
    def newline_terminated(self) -> bool:
        """True when the segment terminator itself is a line break."""
        return self.segment in ("\n", "\r", "\r\n")


class Segment:
    """One segment: ``elements[0]`` is the segment id, ``elements[1]`` is its 01 element.

    The reader hands out segments whose elements are split on first access
    (and then kept), so that code that only routes segments never pays for it.
    """

    __slots__ = ("_dialect", "_elements", "_raw", "number", "offset")

    def __init__(
        self,
        elements: list[str] | None,
        offset: int,
        number: int,
        raw: str = "",
        dialect: tuple[str, str] = ("*", ""),
    ) -> None:
        self._elements = elements
        self.offset = offset
        self.number = number
        self._raw = raw
        self._dialect = dialect  # (element separator, component separator)

    @property
    def elements(self) -> list[str]:
        """All elements; ``elements[0]`` is the segment id."""
        els = self._elements
        if els is None:
            sep, comp = self._dialect
            els = self._raw.split(sep)
            if comp and comp in self._raw:
                # a trailing component separator only adds empty components,
                # which X12 says are absent (X12.6 section 3.7)
                els = [e.rstrip(comp) if e.endswith(comp) else e for e in els]
            self._elements = els
        return els

    @property
    def tag(self) -> str:
        """The segment id (``BEG``, ``PO1``)."""
        return self.elements[0]

    def get(self, index: int) -> str:
        """Element ``index`` (1-based), or ``""`` when absent."""
        els = self.elements
        return els[index] if index < len(els) else ""

    def position(self, **extra: int | None) -> Position:
        """A :class:`Position` for this segment, with optional element details."""
        return Position(offset=self.offset, segment=self.number, tag=self.tag, **extra)

    def __repr__(self) -> str:
        return f"Segment({'*'.join(self.elements)!r}, offset={self.offset}, number={self.number})"


class IsaSegment(Segment):
    """An ISA segment, which also carries the delimiters it declared."""

    __slots__ = ("delimiters", "warnings")

    def __init__(
        self,
        elements: list[str],
        offset: int,
        number: int,
        delimiters: Delimiters,
        warnings: tuple[str, ...] = (),
    ) -> None:
        super().__init__(elements, offset, number)
        self.delimiters = delimiters
        self.warnings = warnings


@dataclass(frozen=True, slots=True)
class BrokenInterchange:
    """An interchange the reader could not read; reading resumes at the next ISA."""

    error: EnvelopeError


ReadItem = Segment | BrokenInterchange


def text(value: str) -> str:
    """Re-decode a latin-1 decoded value as UTF-8 where it is valid UTF-8."""
    if value.isascii():
        return value
    try:
        return value.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return value


def reader_error(message: str, code: Ta1, offset: int, number: int) -> EnvelopeError:
    """An interchange-level error at ``offset`` (segment ``number``), as the reader reports them."""
    return EnvelopeError(
        message,
        code=code.value,
        level="interchange",
        position=Position(offset=offset, segment=number, tag="ISA"),
    )
