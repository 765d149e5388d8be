"""Turn bytes into X12 segments, streaming, with positions for error reports.

Delimiters come from each ISA, so a file may hold several interchanges with
different delimiters. Text is decoded one byte to one character (latin-1, or
cp037 for EBCDIC input) so that character offsets are byte offsets; free-text
values are re-decoded as UTF-8 where that is valid (:func:`text`). Input is
split on the segment terminator a chunk at a time, never a character at a
time, so memory stays constant whatever the file size.

Imports only ``gateway.errors`` and ``gateway.x12.codes``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, BinaryIO

from gateway.errors import EnvelopeError, Position
from gateway.x12.codes import InterchangeNoteCode as Ta1

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator

CHUNK_SIZE = 1 << 20
_ISA_SCAN_LIMIT = 1024  # an ISA longer than this is not an ISA
_WHITESPACE = " \t\r\n\x0b\x0c\x00\x1a"
_NEWLINES = "\r\n"
_TAG = re.compile(r"[A-Z][A-Z0-9]{1,2}$")
_NEXT_ISA = re.compile(r"ISA[^A-Za-z0-9 ]")
_BOM_LATIN1 = "\xef\xbb\xbf"
_EBCDIC_ISA = b"\xc9\xe2\xc1"  # "ISA" in cp037


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


def _reader_error(message: str, code: Ta1, offset: int, number: int) -> EnvelopeError:
    return EnvelopeError(
        message,
        code=code.value,
        level="interchange",
        position=Position(offset=offset, segment=number, tag="ISA"),
    )


class X12Reader:
    """Iterate over the segments of one file (which may hold several interchanges).

    Args:
        source: a binary file object, or bytes.
        chunk_size: how much to read at a time.
    """

    def __init__(self, source: BinaryIO | bytes, *, chunk_size: int = CHUNK_SIZE) -> None:
        self._source = source
        self._chunk_size = chunk_size
        self._encoding = "latin-1"
        self.segments_read = 0
        self.bytes_read = 0

    # -- chunked input -------------------------------------------------
    def _chunks(self) -> Iterator[str]:
        src = self._source
        if isinstance(src, bytes | bytearray | memoryview):
            data = bytes(src)
            first = True
            for start in range(0, max(len(data), 1), self._chunk_size):
                raw = data[start : start + self._chunk_size]
                if first:
                    raw = self._sniff(raw)
                    first = False
                self.bytes_read += len(raw)
                yield raw.decode(self._encoding)
            return
        first = True
        while True:
            raw = src.read(self._chunk_size)
            if not raw:
                return
            if first:
                raw = self._sniff(raw)
                first = False
            self.bytes_read += len(raw)
            yield raw.decode(self._encoding)

    def _sniff(self, raw: bytes) -> bytes:
        """Pick the decoding from the first bytes: cp037 when the file starts with EBCDIC 'ISA'."""
        stripped = raw.lstrip(b" \t\r\n\x00\x40\x25\x15")
        if stripped.startswith(_EBCDIC_ISA):
            self._encoding = "cp037"
        return raw

    # -- segments --------------------------------------------------------
    def __iter__(self) -> Iterator[ReadItem]:
        return self._read(self._chunks())

    def _read(self, chunks: Iterable[str]) -> Iterator[ReadItem]:
        it = iter(chunks)
        buf = ""
        base = 0  # offset of buf[0] in the file
        eof = False
        number = 0

        def more() -> bool:
            nonlocal buf, eof
            if eof:
                return False
            try:
                buf += next(it)
            except StopIteration:
                eof = True
                return False
            return True

        while True:
            # -- between interchanges: skip BOM and whitespace, expect ISA --------
            while True:
                if base == 0 and buf.startswith(_BOM_LATIN1):
                    buf, base = buf[3:], base + 3
                stripped = buf.lstrip(
                    _WHITESPACE + ("\x85\x40" if self._encoding == "cp037" else "")
                )
                base += len(buf) - len(stripped)
                buf = stripped
                if len(buf) >= 4 or not more():
                    break
            if not buf:
                return
            if not buf.startswith("ISA"):
                number += 1
                match = _NEXT_ISA.search(buf)
                while match is None and more():
                    match = _NEXT_ISA.search(buf)
                found = buf[:20].split("\n")[0]
                yield BrokenInterchange(
                    _reader_error(
                        f"expected an ISA segment at byte {base}, found {found!r}",
                        Ta1.INVALID_CONTROL_STRUCTURE,
                        base,
                        number,
                    )
                )
                if match is None:
                    return
                base += match.start()
                buf = buf[match.start() :]
                continue
            while len(buf) < _ISA_SCAN_LIMIT and more():
                pass
            number += 1
            parsed = _parse_isa(buf, base, number)
            if isinstance(parsed, BrokenInterchange):
                yield parsed
                match = _NEXT_ISA.search(buf, 3)
                while match is None and more():
                    match = _NEXT_ISA.search(buf, 3)
                if match is None:
                    return
                base += match.start()
                buf = buf[match.start() :]
                continue
            isa, consumed = parsed
            yield isa
            buf = buf[consumed:]
            base += consumed
            delim = isa.delimiters
            term = delim.segment
            esep = delim.element
            dialect = (esep, delim.component)
            # -- inside an interchange: split chunk by chunk ---------------------
            ended = False
            while True:
                split_on, wrapped = _split_plan(
                    buf, term, eof=eof, newline=delim.newline_terminated
                )
                tlen = len(split_on)
                pieces = buf.split(split_on)
                tail = "" if eof else pieces.pop()
                consumed = 0
                for piece in pieces:
                    start = consumed
                    consumed += len(piece) + tlen
                    if piece and piece[0] > " " and piece[-1] > " " and not wrapped:
                        seg = piece  # the common case: nothing to clean
                        at = base + start
                    else:
                        seg = piece.strip(_WHITESPACE)
                        if not seg:
                            continue
                        if wrapped:
                            seg = seg.replace("\r", "").replace("\n", "")
                        at = base + start + len(piece) - len(piece.lstrip(_WHITESPACE))
                    if seg[0] == "I" and seg[3:4] in (esep, "") and seg[:3] in ("IEA", "ISA"):
                        if seg[1] == "S":
                            # a new ISA before the IEA: this interchange ended early
                            yield BrokenInterchange(
                                _reader_error(
                                    f"interchange {isa.get(13)!r} has no IEA: a new ISA "
                                    f"starts at byte {at}",
                                    Ta1.PREMATURE_END_OF_FILE,
                                    at,
                                    number + 1,
                                )
                            )
                            consumed = at - base
                        else:
                            number += 1
                            yield Segment(None, at, number, seg, dialect)
                        ended = True
                        break
                    number += 1
                    yield Segment(None, at, number, seg, dialect)
                if ended:
                    consumed = min(consumed, len(buf))
                    buf = buf[consumed:]
                    base += consumed
                    break
                if eof:
                    buf = ""
                    break
                base += consumed
                buf = tail
                more()
            self.segments_read = number
            if not ended:
                yield BrokenInterchange(
                    _reader_error(
                        f"file ends inside interchange {isa.get(13)!r}: no IEA segment",
                        Ta1.PREMATURE_END_OF_FILE,
                        base,
                        number,
                    )
                )
                return


def _split_plan(buf: str, term: str, *, eof: bool, newline: bool) -> tuple[str, bool]:
    """Choose how to split one chunk, and say whether segments hold line breaks.

    Splits on the terminator plus its line break where every line break in the
    chunk follows a terminator; otherwise on the terminator alone, and line breaks
    inside segments (80-column wrapping) must then be removed.
    """
    if newline:
        return term, False
    for brk in ("\n", "\r\n"):
        if brk == "\n" and "\r" in buf:
            continue
        if brk == "\r\n" and not (buf.count("\r") == buf.count("\n") == buf.count("\r\n")):
            continue
        breaks = buf.count(brk)
        if not breaks:
            return term, False
        after_term = buf.count(term + brk)
        if breaks != after_term + buf.startswith(brk):
            return term, True
        if not eof and buf.count(term) == after_term + buf.endswith(term):
            return term + brk, False
        return term, False
    return term, True


def _parse_isa(buf: str, base: int, number: int) -> tuple[IsaSegment, int] | BrokenInterchange:
    """Read the ISA at ``buf[0]``: its 16 elements, its delimiters and its length.

    Tolerates unpadded fields and line breaks inside the ISA (80-column
    wrapping) as long as the terminator is not itself a line break. Returns the
    segment and the number of characters it used, terminator included.
    """
    esep = buf[3:4]
    if not esep or esep.isalnum() or esep in _WHITESPACE:
        return BrokenInterchange(
            _reader_error(
                f"ISA element separator is {esep!r}: it must not be a letter, digit or space",
                Ta1.INVALID_ELEMENT_SEPARATOR,
                base,
                number,
            )
        )
    seps = 1  # buf[3] is the first separator
    i = 3
    limit = min(len(buf), _ISA_SCAN_LIMIT)
    while seps < 16 and i < limit:
        j = buf.find(esep, i + 1, limit)
        if j < 0:
            break
        seps += 1
        i = j
    if seps < 16:
        return BrokenInterchange(
            _reader_error(
                f"ISA segment at byte {base} has {seps} elements before the data ends; "
                "an ISA has 16",
                Ta1.INVALID_CONTROL_STRUCTURE,
                base,
                number,
            )
        )
    # i is the 16th separator; ISA16 follows (line breaks from wrapping skipped)
    k = i + 1
    while k < len(buf) and buf[k] in _NEWLINES:
        k += 1
    if k >= len(buf):
        return BrokenInterchange(
            _reader_error(
                "file ends inside the ISA segment", Ta1.PREMATURE_END_OF_FILE, base, number
            )
        )
    component = buf[k]
    k += 1
    term, after = _terminator(buf, k, esep)
    if term is None:
        return BrokenInterchange(
            _reader_error(
                f"no segment terminator after ISA16 at byte {base + k}",
                Ta1.SEGMENT_TERMINATOR_INVALID,
                base,
                number,
            )
        )
    body = buf[:i]
    if term in ("\n", "\r"):
        if "\n" in body or "\r" in body:
            cut = min(p for p in (body.find("\n"), body.find("\r")) if p >= 0)
            found = body[:cut].count(esep)
            return BrokenInterchange(
                _reader_error(
                    f"the segment terminator is a line break, and one occurs inside the ISA "
                    f"at byte {base + cut}, after ISA{found:02d}: the ISA is split",
                    Ta1.INVALID_CONTROL_STRUCTURE,
                    base,
                    number,
                )
            )
    else:
        body = body.replace("\r", "").replace("\n", "")
    elements = body.split(esep)
    elements.append(component)
    checked = _checked_isa(elements, base, number, esep, component, term)
    if isinstance(checked, BrokenInterchange):
        return checked
    return checked, after


def _terminator(buf: str, k: int, esep: str) -> tuple[str | None, int]:
    """Find the segment terminator after ISA16 and where the next segment starts.

    The terminator is the run of non-space characters between ISA16 and the
    next segment id (one character normally; three for a UTF-8 ellipsis); where
    there is none, a line break ends segments.
    """
    n = len(buf)
    j = k
    while j < n and buf[j] not in _WHITESPACE:
        # stop at the start of the next segment id: 2-3 capitals then esep
        if buf[j].isupper() and j > k:
            m = j
            while m < n and m - j < 3 and (buf[m].isupper() or buf[m].isdigit()):
                m += 1
            if m < n and buf[m] == esep and m - j >= 2:
                break
        j += 1
        if j - k > 4:
            return None, k
    term = buf[k:j]
    if term:
        end = j
    else:
        ws_end = j
        while ws_end < n and buf[ws_end] in _WHITESPACE:
            ws_end += 1
        gap = buf[k:ws_end]
        if "\n" in gap:
            term = "\n"
        elif "\r" in gap:
            term = "\r"
        else:
            return None, k
        end = k + gap.index(term) + 1
    return term, end


def _checked_isa(
    elements: list[str], base: int, number: int, esep: str, component: str, term: str
) -> IsaSegment | BrokenInterchange:
    warnings: list[str] = []
    if len(elements) != 17:
        return BrokenInterchange(
            _reader_error(
                f"ISA has {len(elements) - 1} elements, expected 16",
                Ta1.INVALID_CONTROL_STRUCTURE,
                base,
                number,
            )
        )
    widths = (2, 10, 2, 10, 2, 15, 2, 15, 6, 4, 1, 5, 9, 1, 1, 1)
    for idx, width in enumerate(widths, start=1):
        value = elements[idx]
        if not value.isascii():
            bad = next(c for c in value if not c.isascii())
            return BrokenInterchange(
                _reader_error(
                    f"ISA{idx:02d} holds the non-ASCII byte 0x{ord(bad):02X}: ISA fields are "
                    f"fixed-width ASCII ({width} characters)",
                    Ta1.INVALID_CONTROL_STRUCTURE,
                    base,
                    number,
                )
            )
        if len(value) != width:
            warnings.append(f"ISA{idx:02d} is {len(value)} characters, expected {width}")
    for idx in range(1, 16):
        clash = next((c for c in (component, *term) if c in elements[idx]), None)
        if clash is not None:
            return BrokenInterchange(
                _reader_error(
                    f"ISA{idx:02d} {elements[idx]!r} contains the delimiter {clash!r}: "
                    "the ISA is damaged",
                    Ta1.INVALID_CONTROL_STRUCTURE,
                    base,
                    number,
                )
            )
    if component in (esep, *term) or esep in term:
        return BrokenInterchange(
            _reader_error(
                f"ISA16 component separator {component!r} repeats another delimiter",
                Ta1.INVALID_COMPONENT_SEPARATOR,
                base,
                number,
            )
        )
    version = elements[12].strip()
    rep_char = elements[11]
    repetition = (
        rep_char if version >= "00402" and len(rep_char) == 1 and not rep_char.isalnum() else None
    )
    delims = Delimiters(element=esep, component=component, repetition=repetition, segment=term)
    return IsaSegment(elements, base, number, delims, tuple(warnings))
