"""Turn bytes into X12 segments, streaming, with positions for error reports.

Delimiters come from each ISA, so a file may hold several interchanges with
different delimiters. Text is decoded one byte to one character (latin-1, or
cp037 for EBCDIC input) so that character offsets are byte offsets; free-text
values are re-decoded as UTF-8 where that is valid (:func:`text`). Input is
split on the segment terminator a chunk at a time, never a character at a
time, so memory stays constant whatever the file size. Where a chunk's pieces
need no cleaning (the usual case) they become segments in one ``map`` call,
with no Python code per segment but ``Segment.__init__``; the rest (whitespace,
80-column wrapping, the IEA) goes piece by piece. A caller that reads every
element (``translate``) asks for ``elements=True``: the same ``map`` then splits
each clean segment into its elements too.

The value types live in :mod:`gateway.x12.segments` and are re-exported here.
Imports only ``gateway.errors`` and ``gateway.x12`` modules below this one.
"""

from __future__ import annotations

import re
from itertools import accumulate, chain, islice, repeat
from operator import add
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
        elements: split every segment into its elements as it is read (for callers that
            read them all, e.g. the validator); otherwise a segment splits on first access.
    """

    def __init__(
        self, source: BinaryIO | bytes, *, chunk_size: int = CHUNK_SIZE, elements: bool = False
    ) -> None:
        self._source = source
        self._chunk_size = chunk_size
        self._eager = elements
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
        # _read hands out batches; chaining them keeps its frame out of the per-segment path
        return chain.from_iterable(self._read(self._chunks()))

    def _read(self, chunks: Iterable[str]) -> Iterator[Iterable[ReadItem]]:
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
                error = reader_error(
                    f"expected an ISA segment at byte {base}, found {found!r}",
                    Ta1.INVALID_CONTROL_STRUCTURE,
                    base,
                    number,
                )
                yield (BrokenInterchange(error),)
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
                yield (parsed,)
                match = _NEXT_ISA.search(buf, 3)
                while match is None and more():
                    match = _NEXT_ISA.search(buf, 3)
                if match is None:
                    return
                base += match.start()
                buf = buf[match.start() :]
                continue
            isa, consumed = parsed
            yield (isa,)
            delim = isa.delimiters
            buf = buf[consumed:]
            base += consumed
            term = delim.segment
            esep = delim.element
            dialect = (esep, delim.component)
            # -- inside an interchange: split chunk by chunk ---------------------
            ended = False
            while True:
                split_on, pieces, wrapped = _split_chunk(
                    buf, term, eof=eof, newline=delim.newline_terminated
                )
                tlen = len(split_on)
                tail = "" if eof else pieces.pop()
                # the clean run first, built in C (map): no per-segment Python code
                clean, consumed, lead = (
                    (0, 0, 0)
                    if wrapped
                    else _clean_run(buf, pieces, split_on, None if eof else tail)
                )
                if clean:
                    first = base + lead
                    offsets = accumulate(map(add, map(len, pieces), repeat(tlen)), initial=first)
                    numbers = range(number + 1, number + clean + 1)
                    # split here, in C, only where no piece has a component separator: that
                    # is Segment.elements's result without its trailing-separator rule
                    split = self._eager and delim.component not in buf
                    els = map(str.split, pieces, repeat(esep)) if split else repeat(None)
                    yield map(Segment, els, offsets, numbers, pieces, repeat(dialect))
                    number += clean
                items, consumed, number, ended = _cleaned(
                    islice(pieces, clean, None),
                    isa,
                    start=(base, consumed, number),
                    tlen=tlen,
                    wrapped=wrapped,
                )
                if items:
                    yield items
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
                error = reader_error(
                    f"file ends inside interchange {isa.get(13)!r}: no IEA segment",
                    Ta1.PREMATURE_END_OF_FILE,
                    base,
                    number,
                )
                yield (BrokenInterchange(error),)
                return


def _cleaned(
    pieces: Iterable[str],
    isa: IsaSegment,
    *,
    start: tuple[int, int, int],
    tlen: int,
    wrapped: bool,
) -> tuple[list[ReadItem], int, int, bool]:
    """Segments from pieces that may need cleaning, up to the IEA (or a new ISA).

    ``start`` is the offset of the chunk, where in it the first piece starts and
    the number of the last segment read. Returns the items, how much of the chunk
    they used, the last segment number and whether the interchange ended.
    """
    base, consumed, number = start
    delim = isa.delimiters
    esep = delim.element
    dialect = (esep, delim.component)
    items: list[ReadItem] = []
    for piece in pieces:
        begin = consumed
        consumed += len(piece) + tlen
        if piece and piece[0] > " " and piece[-1] > " " and not wrapped:
            seg = piece  # nothing to clean
            at = base + begin
        else:
            seg = piece.strip(WHITESPACE)
            if not seg:
                continue
            if wrapped:
                seg = seg.replace("\r", "").replace("\n", "")
            at = base + begin + len(piece) - len(piece.lstrip(WHITESPACE))
        if seg[0] == "I" and seg[3:4] in (esep, "") and seg[:3] in ("IEA", "ISA"):
            if seg[1] == "S":
                # a new ISA before the IEA: this interchange ended early
                error = reader_error(
                    f"interchange {isa.get(13)!r} has no IEA: a new ISA starts at byte {at}",
                    Ta1.PREMATURE_END_OF_FILE,
                    at,
                    number + 1,
                )
                items.append(BrokenInterchange(error))
                consumed = at - base
            else:
                number += 1
                items.append(Segment(None, at, number, seg, dialect))
            return items, consumed, number, True
        number += 1
        items.append(Segment(None, at, number, seg, dialect))
    return items, consumed, number, False


def _split_chunk(buf: str, term: str, *, eof: bool, newline: bool) -> tuple[str, list[str], bool]:
    """Split one chunk as :func:`_split_plan` says: what it split on, the pieces, wrapping.

    The usual chunk (a line break after each terminator, nowhere else) is split
    on terminator plus line break at once and checked on the joined pieces,
    which costs less than counting first; anything else goes the long way.
    """
    if not (newline or eof):
        if "\n" not in buf and "\r" not in buf:
            return term, buf.split(term), False
        brk = "\r\n" if "\r" in buf else "\n"
        split_on = term + brk
        pieces = buf.split(split_on)
        joined = "".join(pieces)
        lead = len(brk) if buf.startswith(brk) else 0
        end = len(joined) - (len(term) if buf.endswith(term) else 0)
        # no line break left but a leading one, no terminator left but a final one
        if max(joined.find("\n", lead), joined.find("\r", lead), joined.find(term, 0, end)) < 0:
            return split_on, pieces, False
    split_on, wrapped = _split_plan(buf, term, eof=eof, newline=newline)
    return split_on, buf.split(split_on), wrapped


def _clean_run(
    buf: str, pieces: list[str], split_on: str, tail: str | None
) -> tuple[int, int, int]:
    """How many leading pieces are segments as they stand, how long they are, and a lead.

    A piece is one when it is not empty, has no whitespace at either end and is
    not an IEA or ISA (those end the interchange); the first piece may start with
    whitespace (the line break after an ISA), which is then cut off ``pieces[0]``
    and returned as the lead. Decided for the whole chunk with a few C-level
    passes; a chunk with any doubt returns ``(0, 0, 0)`` and ``pieces`` as it was.
    ``tail`` is the unfinished piece already taken off ``pieces``; at the end of
    the file it is None and the last piece, which no ``split_on`` follows, is left out.
    """
    run = pieces[:] if tail is not None else pieces[:-1]
    if not run or "\x00" in buf or "\x1a" in buf:
        return 0, 0, 0
    first = run[0]
    run[0] = first.lstrip(WHITESPACE)
    # str.strip() returns the piece itself when it strips nothing; it strips all of
    # WHITESPACE but NUL and SUB (tested above), and more (which only costs speed)
    if not all(run) or list(map(str.strip, run)) != run or run[0].startswith(("IEA", "ISA")):
        return 0, 0, 0
    n = len(run)
    consumed = len(buf) - len(pieces[-1] if tail is None else tail)
    hits = [at for at in (buf.find(split_on + "IEA"), buf.find(split_on + "ISA")) if at >= 0]
    if hits:
        start = min(hits) + len(split_on)
        k = buf.count(split_on, 0, start)
        if k < n:
            if not run[k].startswith(("IEA", "ISA")):
                return 0, 0, 0  # the searches and the split disagree: take the long way
            n, consumed = k, start
    pieces[0] = run[0]
    return n, consumed, len(first) - len(run[0])


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
