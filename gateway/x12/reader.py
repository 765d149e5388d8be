"""Turn bytes into X12 segments, streaming, with positions for error reports.

Delimiters come from each ISA, so a file may hold several interchanges with
different delimiters. Text is decoded one byte to one character (latin-1, or
cp037 for EBCDIC input) so that character offsets are byte offsets; free-text
values are re-decoded as UTF-8 where that is valid (:func:`text`). Input is
split on the segment terminator a chunk at a time, never a character at a
time, so memory stays constant whatever the file size.

The value types live in :mod:`gateway.x12.segments` and are re-exported here.
Imports only ``gateway.errors`` and ``gateway.x12`` modules below this one.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, BinaryIO

from gateway.x12.codes import InterchangeNoteCode as Ta1
from gateway.x12.isa import ISA_SCAN_LIMIT, WHITESPACE, parse_isa
from gateway.x12.segments import (
    BrokenInterchange,
    Delimiters,
    IsaSegment,
    ReadItem,
    Segment,
    reader_error,
    text,
)

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator

__all__ = [
    "CHUNK_SIZE",
    "BrokenInterchange",
    "Delimiters",
    "IsaSegment",
    "ReadItem",
    "Segment",
    "X12Reader",
    "text",
]

CHUNK_SIZE = 1 << 20
_NEXT_ISA = re.compile(r"ISA[^A-Za-z0-9 ]")
_BOM_LATIN1 = "\xef\xbb\xbf"
_EBCDIC_ISA = b"\xc9\xe2\xc1"  # "ISA" in cp037


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
                    WHITESPACE + ("\x85\x40" if self._encoding == "cp037" else "")
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
                    reader_error(
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
            while len(buf) < ISA_SCAN_LIMIT and more():
                pass
            number += 1
            parsed = parse_isa(buf, base, number)
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
                        seg = piece.strip(WHITESPACE)
                        if not seg:
                            continue
                        if wrapped:
                            seg = seg.replace("\r", "").replace("\n", "")
                        at = base + start + len(piece) - len(piece.lstrip(WHITESPACE))
                    if seg[0] == "I" and seg[3:4] in (esep, "") and seg[:3] in ("IEA", "ISA"):
                        if seg[1] == "S":
                            # a new ISA before the IEA: this interchange ended early
                            yield BrokenInterchange(
                                reader_error(
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
                    reader_error(
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
