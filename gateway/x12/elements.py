"""X12 data element checks: types, lengths, code lists and syntax notes (X12.6 sections 3.5-3.7).

The validator calls :func:`check_value` only after its own fast path (a length
comparison, ``str.isdecimal``, a set lookup) has failed, so these functions
favour exact error codes over speed. Syntax notes are evaluated on a bit mask
of the elements present, so a segment's notes cost one integer test each.

Imports only ``gateway.x12.codes`` (and the guide types, for annotations).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from gateway.x12.codes import ElementErrorCode as Err

if TYPE_CHECKING:
    from gateway.x12.guides import ElementRule, SegmentDef

# Element kinds: how a value is checked.
LENGTH_ONLY: Final = 0  # AN, and ID without a code list
CODED: Final = 1  # ID with a code list
NUMERIC: Final = 2  # Nn: implied decimals, digits only
DECIMAL: Final = 3  # R: explicit decimal point
DATE: Final = 4  # DT: CCYYMMDD (or YYMMDD where the maximum is 6)
TIME: Final = 5  # TM: HHMM[SS[D[D]]]
BINARY: Final = 6  # B: not checked
COMPOSITE: Final = 7  # split into components, always checked the slow way

TYPE_PATTERN: Final = r"^(AN|ID|N[0-9]|R|DT|TM|B)$"
BAD_VALUE_MAX: Final = 99  # AK404 / IK404 hold at most 99 characters
MAX_ELEMENT_ISSUES: Final = 99

_DAYS = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
_NOTE = re.compile(r"^([PRCEL])((?:[0-9]{2}){2,})$")


FastRule = tuple[int, int, int, int, "frozenset[str] | None"]
"""(fast kind, max, bit, min, codes) of one element position: the validator's fast path."""
# Fast kinds, which the validator tests by number: a length no more than max (the minimum is
# 1), a length of exactly max, a length in min..max, a code, Nn digits, R digits and one
# point, a plain CCYYMMDD date, an HHMM time, nothing to check, always the slow way.
FAST_MAX, FAST_EXACT, FAST_RANGE, FAST_CODE, FAST_NUMBER, FAST_DECIMAL = range(6)
FAST_DATE, FAST_TIME, FAST_SKIP, FAST_SLOW = 6, 7, 8, 9
_FAST_KINDS = {
    CODED: FAST_CODE,
    NUMERIC: FAST_NUMBER,
    DECIMAL: FAST_DECIMAL,
    DATE: FAST_DATE,
    TIME: FAST_TIME,
    BINARY: FAST_SKIP,
    COMPOSITE: FAST_SLOW,
}


def fast_rule(
    kind: int, minimum: int, maximum: int, position: int, codes: frozenset[str] | None
) -> FastRule:
    """The fast-path rule of one element position."""
    if kind != LENGTH_ONLY:
        fast = _FAST_KINDS[kind]
    elif minimum <= 1:
        fast = FAST_MAX
    else:
        fast = FAST_EXACT if minimum == maximum else FAST_RANGE
    return (fast, maximum, 1 << position, minimum, codes)


def kind_of(type_name: str, *, coded: bool) -> int:
    """The element kind for an X12 type name (``AN``, ``ID``, ``N2``, ``R``, ``DT``, ``TM``)."""
    if type_name == "AN":
        return LENGTH_ONLY
    if type_name == "ID":
        return CODED if coded else LENGTH_ONLY
    if type_name.startswith("N"):
        return NUMERIC
    return {"R": DECIMAL, "DT": DATE, "TM": TIME, "B": BINARY}[type_name]


@dataclass(frozen=True, slots=True)
class ElementIssue:
    """One AK4 / IK4 finding: where in the segment, which element, what is wrong.

    ``position`` is the element's 1-based index in the segment, ``component``
    its 1-based position in a composite and ``repetition`` the 1-based
    occurrence of a repeating element, each None when not applicable.
    ``bad_value`` is a copy of the bad data (at most 99 characters).
    """

    position: int
    component: int | None
    repetition: int | None
    reference: str
    code: Err
    bad_value: str | None


@dataclass(frozen=True, slots=True)
class SyntaxNote:
    """One X12 syntax note (X12.6 3.7.1) over element positions (1-based).

    ``kind`` is P (paired), R (required), C (conditional), L (list conditional)
    or E (exclusion); ``first`` is the bit of the first position, ``rest`` the
    bits of the others, ``bits`` all of them.
    """

    kind: str
    positions: tuple[int, ...]
    first: int
    rest: int
    bits: int


def parse_note(text: str) -> SyntaxNote | None:
    """A :class:`SyntaxNote` from its X12 spelling (``P0304``), or None when malformed."""
    match = _NOTE.match(text)
    if match is None:
        return None
    digits = match.group(2)
    positions = tuple(int(digits[i : i + 2]) for i in range(0, len(digits), 2))
    if 0 in positions or len(set(positions)) != len(positions):
        return None
    rest = 0
    for pos in positions[1:]:
        rest |= 1 << pos
    first = 1 << positions[0]
    return SyntaxNote(match.group(1), positions, first, rest, first | rest)


def note_violations(notes: tuple[SyntaxNote, ...], mask: int) -> tuple[tuple[int, Err], ...]:
    """The (position, code) pairs that the elements present (bit ``n`` = position ``n``) break."""
    found: list[tuple[int, Err]] = []
    for note in notes:
        present = mask & note.bits
        kind = note.kind
        if kind == "P":
            if present and present != note.bits:
                found += [(p, Err.CONDITIONAL_MISSING) for p in note.positions if not mask >> p & 1]
        elif kind == "R":
            if not present:
                found.append((note.positions[0], Err.CONDITIONAL_MISSING))
        elif kind == "C":
            if mask & note.first and mask & note.rest != note.rest:
                found += [
                    (p, Err.CONDITIONAL_MISSING) for p in note.positions[1:] if not mask >> p & 1
                ]
        elif kind == "L":
            if mask & note.first and not mask & note.rest:
                found.append((note.positions[1], Err.CONDITIONAL_MISSING))
        elif present & (present - 1):  # E: more than one present
            extra = [p for p in note.positions if mask >> p & 1][1:]
            found += [(p, Err.EXCLUSION_VIOLATED) for p in extra]
    return tuple(found)


def check_value(
    kind: int, value: str, minimum: int, maximum: int, codes: frozenset[str] | None
) -> Err | None:
    """The AK403 code for a non-empty simple value, or None when it is valid."""
    if kind in (LENGTH_ONLY, CODED):
        return _check_identifier(value, minimum, maximum, codes)
    if kind == NUMERIC:
        digits = value[1:] if value[0] == "-" else value
        if not digits.isdecimal():
            return Err.INVALID_CHARACTER
        return _length(len(digits), minimum, maximum)
    if kind == DECIMAL:
        count = decimal_digits(value)
        if count is None:
            return Err.INVALID_CHARACTER
        return _length(count, minimum, maximum)
    if kind == DATE:
        return _check_date(value, minimum, maximum)
    if kind == TIME:
        return _check_time(value, minimum, maximum)
    return None


def _check_identifier(
    value: str, minimum: int, maximum: int, codes: frozenset[str] | None
) -> Err | None:
    size = len(value)
    if size > maximum and not value.isascii():
        # free text may be UTF-8 decoded byte for byte; X12 counts characters
        size = len(_utf8(value))
    problem = _length(size, minimum, maximum)
    if problem is None and codes is not None and value not in codes:
        return Err.INVALID_CODE
    return problem


def _utf8(value: str) -> str:
    try:
        return value.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return value


def _length(size: int, minimum: int, maximum: int) -> Err | None:
    if size < minimum:
        return Err.TOO_SHORT
    if size > maximum:
        return Err.TOO_LONG
    return None


def decimal_digits(value: str) -> int | None:
    """How many digits an R value has (sign, point and exponent not counted), or None if invalid.

    X12.6 3.5.2: an optional leading minus, digits with at most one decimal
    point, and (from 005010) an optional exponent ``E`` with its own sign.
    """
    mantissa = value[1:] if value[:1] == "-" else value
    exponent = ""
    if "E" in mantissa:
        mantissa, _, exponent = mantissa.partition("E")
        exponent = exponent[1:] if exponent[:1] == "-" else exponent
        if not exponent.isdecimal():
            return None
    whole, point, fraction = mantissa.partition(".")
    if not whole and not fraction:
        return None
    if (whole and not whole.isdecimal()) or (fraction and not fraction.isdecimal()):
        return None
    if point and "." in fraction:
        return None
    return len(whole) + len(fraction)


def _check_date(value: str, minimum: int, maximum: int) -> Err | None:
    if not value.isdecimal():
        return Err.INVALID_DATE
    problem = _length(len(value), minimum, maximum)
    if problem is not None:
        return problem
    if len(value) == 8:
        year, month, day = int(value[:4]), int(value[4:6]), int(value[6:])
    elif len(value) == 6:
        yy = int(value[:2])
        year = 2000 + yy if yy < 50 else 1900 + yy  # the same window as the mappers
        month, day = int(value[2:4]), int(value[4:])
    else:
        return Err.INVALID_DATE
    if not 1 <= month <= 12 or not 1 <= day <= _DAYS[month - 1]:
        return Err.INVALID_DATE
    if month == 2 and day == 29 and not (year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)):
        return Err.INVALID_DATE
    return None


def _check_time(value: str, minimum: int, maximum: int) -> Err | None:
    if not value.isdecimal():
        return Err.INVALID_TIME
    problem = _length(len(value), minimum, maximum)
    if problem is not None:
        return problem
    if len(value) not in (4, 6, 7, 8):
        return Err.INVALID_TIME
    if int(value[:2]) > 23 or int(value[2:4]) > 59 or (len(value) >= 6 and int(value[4:6]) > 59):
        return Err.INVALID_TIME
    return None


def check_segment(
    els: list[str], definition: SegmentDef, rep: str | None, comp: str
) -> tuple[ElementIssue, ...]:
    """Every element finding of one segment (at most MAX_ELEMENT_ISSUES), in element order."""
    issues: list[ElementIssue] = []
    rules = definition.rules
    mask = 0
    for rule, value in zip(rules, els[1:], strict=False):
        if value:
            mask |= 1 << rule.position
            issues += _check_element(rule, value, rep, comp)
    extra = next((i for i in range(len(rules) + 1, len(els)) if els[i]), None)
    if extra is not None:
        issues.append(
            ElementIssue(extra, None, None, "", Err.TOO_MANY_ELEMENTS, els[extra][:BAD_VALUE_MAX])
        )
    for rule in rules:
        if rule.mandatory and not mask >> rule.position & 1:
            issues.append(
                ElementIssue(rule.position, None, None, _ref(rule), Err.MANDATORY_MISSING, None)
            )
    for pos, code in note_violations(definition.notes, mask):
        rule = rules[pos - 1]
        bad = els[pos][:BAD_VALUE_MAX] if code == Err.EXCLUSION_VIOLATED else None
        issues.append(ElementIssue(pos, None, None, _ref(rule), code, bad))
    issues.sort(key=lambda i: (i.position, i.repetition or 0, i.component or 0))
    return tuple(issues[:MAX_ELEMENT_ISSUES])


def _ref(rule: ElementRule) -> str:
    """The data element number for AK402: a composite is named by its first component."""
    return rule.components[0].reference if rule.components else rule.reference


def _check_element(rule: ElementRule, value: str, rep: str | None, comp: str) -> list[ElementIssue]:
    if rep is None or rep not in value:
        return _check_occurrence(rule, value, 1 if rule.repeat > 1 else None, comp)
    if rule.repeat == 1:
        bad = value[:BAD_VALUE_MAX]
        return [ElementIssue(rule.position, None, None, _ref(rule), Err.TOO_MANY_REPETITIONS, bad)]
    parts = value.split(rep)
    issues: list[ElementIssue] = []
    for index, part in enumerate(parts[: rule.repeat], 1):
        if part:
            issues += _check_occurrence(rule, part, index, comp)
    if any(parts[rule.repeat :]):
        bad = value[:BAD_VALUE_MAX]
        issues.append(
            ElementIssue(
                rule.position, None, rule.repeat + 1, _ref(rule), Err.TOO_MANY_REPETITIONS, bad
            )
        )
    return issues


def _check_occurrence(
    rule: ElementRule, value: str, repetition: int | None, comp: str
) -> list[ElementIssue]:
    """Check one occurrence of an element: a simple value or a composite's components."""
    if not rule.components:
        code = check_value(rule.kind, value, rule.minimum, rule.maximum, rule.codes)
        if code is None:
            return []
        return [
            ElementIssue(
                rule.position, None, repetition, rule.reference, code, value[:BAD_VALUE_MAX]
            )
        ]
    parts = value.split(comp)
    found: list[tuple[int, str, Err, str | None]] = []  # component, reference, code, bad data
    mask = 0
    for part_rule, part in zip(rule.components, parts, strict=False):
        if part:
            mask |= 1 << part_rule.position
            kind, low, high, codes = (
                part_rule.kind,
                part_rule.minimum,
                part_rule.maximum,
                part_rule.codes,
            )
            code = check_value(kind, part, low, high, codes)
            if code is not None:
                found.append((part_rule.position, part_rule.reference, code, part))
    found += [
        (r.position, r.reference, Err.MANDATORY_MISSING, None)
        for r in rule.components
        if r.mandatory and not mask >> r.position & 1
    ]
    extra = next((i for i in range(len(rule.components), len(parts)) if parts[i]), None)
    if extra is not None:
        found.append((extra + 1, _ref(rule), Err.TOO_MANY_COMPONENTS, value))
    for pos, code in note_violations(rule.notes, mask):
        bad = parts[pos - 1] if code == Err.EXCLUSION_VIOLATED else None
        found.append((pos, rule.components[pos - 1].reference, code, bad))
    return [
        ElementIssue(rule.position, part, repetition, ref, code, bad and bad[:BAD_VALUE_MAX])
        for part, ref, code, bad in found
    ]
