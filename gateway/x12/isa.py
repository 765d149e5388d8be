"""Read an ISA: its sixteen fixed fields, the delimiters it declares and where it ends.

Tolerates what real partners send (unpadded fields, 80-column wrapping, a
multi-byte terminator) and refuses what cannot be an ISA with a TA1 note code.
Imports only ``gateway.errors``, ``gateway.x12.codes`` and ``gateway.x12.segments``.
"""

from __future__ import annotations

from gateway.x12.codes import InterchangeNoteCode as Ta1
from gateway.x12.segments import BrokenInterchange, Delimiters, IsaSegment, reader_error

ISA_SCAN_LIMIT = 1024  # an ISA longer than this is not an ISA
WHITESPACE = " \t\r\n\x0b\x0c\x00\x1a"
_NEWLINES = "\r\n"


def parse_isa(buf: str, base: int, number: int) -> tuple[IsaSegment, int] | BrokenInterchange:
    """Read the ISA at ``buf[0]``: its 16 elements, its delimiters and its length.

    Tolerates unpadded fields and line breaks inside the ISA (80-column
    wrapping) as long as the terminator is not itself a line break. Returns the
    segment and the number of characters it used, terminator included.
    """
    esep = buf[3:4]
    if not esep or esep.isalnum() or esep in WHITESPACE:
        return BrokenInterchange(
            reader_error(
                f"ISA element separator is {esep!r}: it must not be a letter, digit or space",
                Ta1.INVALID_ELEMENT_SEPARATOR,
                base,
                number,
            )
        )
    seps = 1  # buf[3] is the first separator
    i = 3
    limit = min(len(buf), ISA_SCAN_LIMIT)
    while seps < 16 and i < limit:
        j = buf.find(esep, i + 1, limit)
        if j < 0:
            break
        seps += 1
        i = j
    if seps < 16:
        return BrokenInterchange(
            reader_error(
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
            reader_error(
                "file ends inside the ISA segment", Ta1.PREMATURE_END_OF_FILE, base, number
            )
        )
    component = buf[k]
    k += 1
    term, after = _terminator(buf, k, esep)
    if term is None:
        return BrokenInterchange(
            reader_error(
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
                reader_error(
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
    while j < n and buf[j] not in WHITESPACE:
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
        while ws_end < n and buf[ws_end] in WHITESPACE:
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
            reader_error(
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
                reader_error(
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
                reader_error(
                    f"ISA{idx:02d} {elements[idx]!r} contains the delimiter {clash!r}: "
                    "the ISA is damaged",
                    Ta1.INVALID_CONTROL_STRUCTURE,
                    base,
                    number,
                )
            )
    if component in (esep, *term) or esep in term:
        return BrokenInterchange(
            reader_error(
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
