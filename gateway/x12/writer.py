"""Turn segments into X12 bytes, with envelopes and fresh control numbers.

A segment is a sequence of values, the tag first. A value is a plain string, a
:class:`Composite` (its components) or a :class:`Repeated` (its repetitions).
Trailing empty elements, components and repetitions are dropped (X12.6 section
3.7 says they are absent). A value that holds an active delimiter or a control
character is refused with :class:`~gateway.errors.MappingError` naming the
element: the writer never emits a file the partner would split wrongly.

Text values are written as UTF-8; delimiters are written one byte per character,
as :class:`~gateway.x12.reader.X12Reader` decoded them. :func:`write_interchange`
adds ISA/GS/ST and SE/GE/IEA with counts and fresh control numbers.

Imports only ``gateway.errors``, ``gateway.x12.control`` and ``gateway.x12.reader``.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, Protocol

from gateway.errors import ConfigError, MappingError, UsageError
from gateway.x12.control import control_scope

if TYPE_CHECKING:
    import datetime as dt
    from collections.abc import Iterator

    from gateway.x12.control import ControlNumbers
    from gateway.x12.reader import Delimiters

_TAG = re.compile(r"[A-Z][A-Z0-9]{1,2}")
_CONTROL_CHARS = re.compile(rb"[\x00-\x1f\x7f]")
_TWO_CHARS = re.compile(r"[A-Z0-9]{2}")  # ISA05/ISA07 qualifiers, GS01
_SET_ID = re.compile(r"[A-Z0-9]{3}")
DEFAULT_REPETITION = "^"
"""ISA11 when the delimiters name no repetition separator and the version needs one."""


class Composite(tuple[str, ...]):
    """A composite element: ``Composite("3", "1")`` is written ``3:1``."""

    __slots__ = ()

    def __new__(cls, *components: str) -> Composite:  # noqa: D102
        return super().__new__(cls, components)


class Repeated(tuple["str | Composite", ...]):
    """A repeating element: ``Repeated("A", "B")`` is written ``A^B``."""

    __slots__ = ()

    def __new__(cls, *values: str | Composite) -> Repeated:  # noqa: D102
        return super().__new__(cls, values)


Element = str | Composite | Repeated
SegmentValues = Sequence[Element]
"""One segment: the tag, then its elements (``["REF", "PO", "123"]``)."""


def _encode_delimiter(char: str) -> bytes:
    try:
        return char.encode("latin-1")
    except UnicodeEncodeError:
        return char.encode("utf-8")


class SegmentWriter:
    """Renders segments with one interchange's delimiters.

    Args:
        delimiters: the partner's delimiters; ``suffix`` follows each terminator
            unless the terminator is itself a line break.
        repetition: whether the repetition separator is active (ISA12 00402 and
            later); when it is not, values may contain it.

    Raises:
        ConfigError: the delimiters are not single, distinct, non-alphanumeric characters.
    """

    def __init__(self, delimiters: Delimiters, *, repetition: bool = True) -> None:
        check_delimiters(delimiters)
        self.delimiters = delimiters
        self._element = _encode_delimiter(delimiters.element)
        self._component = _encode_delimiter(delimiters.component)
        rep = delimiters.repetition if repetition else None
        self._repetition = _encode_delimiter(rep) if rep is not None else None
        suffix = "" if delimiters.newline_terminated else delimiters.suffix
        self._terminator = _encode_delimiter(delimiters.segment) + suffix.encode("ascii")
        active = [(self._element, "element separator"), (self._component, "component separator")]
        active.append((_encode_delimiter(delimiters.segment), "segment terminator"))
        if self._repetition is not None:
            active.append((self._repetition, "repetition separator"))
        self._active = tuple(active)

    def segment(self, values: SegmentValues) -> bytes:
        """One segment with its terminator, trailing empty elements dropped.

        Raises:
            MappingError: a value holds a delimiter or a control character, or the tag is bad.
        """
        tag = values[0] if values else ""
        if not isinstance(tag, str) or not _TAG.fullmatch(tag):
            raise MappingError(f"segment id must be 2-3 capitals or digits, found {tag!r}")
        parts = [self._value(value, tag, pos) for pos, value in enumerate(values[1:], start=1)]
        while parts and not parts[-1]:
            parts.pop()
        return self._element.join([tag.encode("ascii"), *parts]) + self._terminator

    def isa(self, fields: Sequence[str]) -> bytes:
        """The fixed-width ISA: ISA01-ISA15 as given (still checked), ISA16 the separator."""
        parts = [self._text(value, f"ISA{pos:02d}") for pos, value in enumerate(fields, 1)]
        if self._repetition is not None:  # ISA11 is the repetition separator itself
            parts[10] = self._repetition
        return self._element.join([b"ISA", *parts, self._component]) + self._terminator

    def _value(self, value: Element, tag: str, pos: int) -> bytes:
        where = f"{tag}{pos:02d}"
        if isinstance(value, str):
            return self._text(value, where)
        if isinstance(value, Repeated):
            if self._repetition is None:
                raise MappingError(
                    f"{where} has {len(value)} repetitions, but this interchange version "
                    "has no repetition separator",
                    path=where,
                )
            reps = [
                self._text(v, where) if isinstance(v, str) else self._composite(v, where)
                for v in value
            ]
            while reps and not reps[-1]:
                reps.pop()
            return self._repetition.join(reps)
        return self._composite(value, where)

    def _composite(self, value: Composite, where: str) -> bytes:
        parts = [self._text(v, f"{where}-{i}") for i, v in enumerate(value, start=1)]
        while parts and not parts[-1]:
            parts.pop()
        return self._component.join(parts)

    def _text(self, value: str, where: str) -> bytes:
        data = value.encode("utf-8")
        for delimiter, name in self._active:
            if delimiter in data:
                raise MappingError(
                    f"{where} value {value!r} contains the {name} {delimiter.decode('latin-1')!r}",
                    path=where,
                )
        if _CONTROL_CHARS.search(data):
            raise MappingError(f"{where} value {value!r} contains a control character", path=where)
        return data


def check_delimiters(d: Delimiters) -> None:
    """Raise ConfigError unless ``d`` can be written (single, non-alphanumeric, distinct)."""
    chars = [("element separator", d.element), ("component separator", d.component)]
    if d.repetition is not None:
        chars.append(("repetition separator", d.repetition))
    problems = [f"{name} must be one character, got {c!r}" for name, c in chars if len(c) != 1]
    if not 1 <= len(d.segment) <= 4:
        problems.append(f"segment terminator must be 1-4 characters, got {d.segment!r}")
    chars.append(("segment terminator", d.segment))
    for name, c in chars:
        if any(ch.isalnum() or ch == " " for ch in c):
            problems.append(f"{name} {c!r} must not be a letter, digit or space")
    for i, (name, c) in enumerate(chars):
        problems.extend(
            f"{name} {c!r} clashes with the {other} {o!r}"
            for other, o in chars[i + 1 :]
            if c and o and (c in o or o in c)
        )
    if d.suffix not in ("", "\n", "\r\n", "\r"):
        problems.append(f"suffix must be empty or a line break, got {d.suffix!r}")
    if problems:
        raise ConfigError(f"bad delimiters: {problems[0]}", problems=problems)


class SetBody(Protocol):
    """One transaction set to write: its ST01 and its body segments (no ST/SE)."""

    @property
    def transaction_set(self) -> str:
        """ST01, e.g. ``810``."""
        ...

    @property
    def segments(self) -> Sequence[SegmentValues]:
        """The segments between ST and SE."""
        ...


@dataclass(frozen=True, slots=True)
class TransactionBody:
    """A plain :class:`SetBody`."""

    transaction_set: str
    segments: Sequence[SegmentValues]


@dataclass(frozen=True, slots=True)
class OutboundGroup:
    """One functional group to write: GS01/GS02/GS03/GS08 and its sets.

    ``convention`` goes in ST03 of every set when given (005010 and later).
    """

    functional_id: str
    sender: str
    receiver: str
    version: str
    sets: Sequence[SetBody]
    convention: str | None = None


@dataclass(frozen=True, slots=True)
class InterchangeControls:
    """The control numbers an interchange was written with, as written (storage records them).

    ``set_controls`` holds one tuple of ST02 values per group.
    """

    interchange_control: str
    group_controls: tuple[str, ...]
    set_controls: tuple[tuple[str, ...], ...]


@dataclass(frozen=True, slots=True)
class WrittenInterchange(InterchangeControls):
    """A written interchange: its bytes and its control numbers."""

    data: bytes


@dataclass(frozen=True, slots=True)
class _Plan:
    writer: SegmentWriter
    isa_fields: tuple[str, ...]  # ISA01-ISA15, ISA13 left empty
    scope: str
    date: str
    time: str

    def isa(self, control: str) -> bytes:
        fields = list(self.isa_fields)
        fields[12] = control
        return self.writer.isa(fields)


def write_interchange(
    groups: Sequence[OutboundGroup],
    *,
    sender: tuple[str, str],
    receiver: tuple[str, str],
    delimiters: Delimiters,
    control_numbers: ControlNumbers,
    now: dt.datetime,
    scope: str | None = None,
    usage_indicator: Literal["P", "T", "I"] = "P",
    ack_requested: bool = False,
    version: str = "00401",
    ta1_segments: Sequence[SegmentValues] = (),
) -> WrittenInterchange:
    """Write one interchange; every value is checked before a control number is taken.

    Args:
        groups: the functional groups, each with its sets' body segments.
        sender: our ISA05/ISA06 (qualifier, id).
        receiver: the partner's ISA07/ISA08.
        delimiters: the partner's delimiters.
        control_numbers: where ISA13, GS06 and ST02 come from.
        now: the ISA/GS date and time, written in its own time zone (must be aware).
        scope: the control-number counter; defaults to :func:`control_scope` of the ids.
        usage_indicator: ISA15.
        ack_requested: ISA14 (ask for a TA1).
        version: ISA12 (``00401``, ``00501``, ...); from 00402 ISA11 is the repetition separator.
        ta1_segments: TA1 segments to put between the ISA and the first GS.

    Raises:
        MappingError: a value cannot be written (delimiter inside, bad length).
        ConfigError: the delimiters are unusable.
    """
    plan = _plan(sender, receiver, delimiters, now, scope, usage_indicator, ack_requested, version)
    w = plan.writer
    ta1 = [w.segment(seg) for seg in ta1_segments]
    bodies = [[[w.segment(seg) for seg in s.segments] for s in g.sets] for g in groups]
    for g in groups:
        _check_group(g)
    controls = _allocate(groups, control_numbers, plan.scope)
    data = b"".join(_chunks(plan, groups, controls, ta1, bodies))
    c = controls
    return WrittenInterchange(c.interchange_control, c.group_controls, c.set_controls, data)


def _chunks(
    plan: _Plan,
    groups: Sequence[OutboundGroup],
    controls: InterchangeControls,
    ta1: list[bytes],
    bodies: list[list[list[bytes]]],
) -> Iterator[bytes]:
    w = plan.writer
    yield plan.isa(controls.interchange_control)
    yield from ta1
    for gi, (g, gctl) in enumerate(zip(groups, controls.group_controls, strict=True)):
        gs = [g.functional_id, g.sender, g.receiver, plan.date, plan.time, gctl, "X", g.version]
        yield w.segment(["GS", *gs])
        for si, (s, sctl) in enumerate(zip(g.sets, controls.set_controls[gi], strict=True)):
            yield w.segment(["ST", s.transaction_set, sctl, g.convention or ""])
            yield from bodies[gi][si]
            yield w.segment(["SE", str(len(bodies[gi][si]) + 2), sctl])
        yield w.segment(["GE", str(len(g.sets)), gctl])
    yield w.segment(["IEA", str(len(groups)), controls.interchange_control])


def _plan(
    sender: tuple[str, str],
    receiver: tuple[str, str],
    delimiters: Delimiters,
    now: dt.datetime,
    scope: str | None,
    usage: str,
    ack_requested: bool,
    version: str,
) -> _Plan:
    if now.tzinfo is None or now.utcoffset() is None:
        raise UsageError("now must be a timezone-aware datetime")
    if not (len(version) == 5 and version.isdigit()):
        raise MappingError(f"ISA12 version must be 5 digits, got {version!r}", path="ISA12")
    if usage not in ("P", "T", "I"):
        raise MappingError(f"ISA15 usage indicator must be P, T or I, got {usage!r}", path="ISA15")
    repeats = version >= "00402"
    if repeats and delimiters.repetition is None:
        taken = (delimiters.element, delimiters.component, delimiters.segment)
        if DEFAULT_REPETITION in "".join(taken):
            raise ConfigError(f"ISA12 {version} needs a repetition separator; none was given")
        delimiters = dataclasses.replace(delimiters, repetition=DEFAULT_REPETITION)
    writer = SegmentWriter(delimiters, repetition=repeats)
    fields = ["00", " " * 10, "00", " " * 10, *_party(sender, 5), *_party(receiver, 7)]
    # ISA11 is replaced by the repetition separator from 00402 on; ISA13 once it is taken
    fields += [now.strftime("%y%m%d"), now.strftime("%H%M"), "U", version, "000000000"]
    fields += ["1" if ack_requested else "0", usage]
    writer.isa(fields)  # checks the values before any control number is taken
    return _Plan(
        writer=writer,
        isa_fields=tuple(fields),
        scope=scope if scope is not None else control_scope(sender, receiver),
        date=now.strftime("%Y%m%d"),
        time=now.strftime("%H%M"),
    )


def _party(party: tuple[str, str], at: int) -> tuple[str, str]:
    qualifier, ident = party[0].strip(), party[1].rstrip()
    if not _TWO_CHARS.fullmatch(qualifier):
        raise MappingError(
            f"ISA{at:02d} id qualifier must be 2 capitals or digits, got {party[0]!r}",
            path=f"ISA{at:02d}",
        )
    if not (1 <= len(ident) <= 15 and ident.isascii() and ident.isprintable() and ident.strip()):
        raise MappingError(
            f"ISA{at + 1:02d} id must be 1-15 printable ASCII characters, got {party[1]!r}",
            path=f"ISA{at + 1:02d}",
        )
    return qualifier, ident.ljust(15)


def _check_group(g: OutboundGroup) -> None:
    checks = [
        ("GS01", g.functional_id, _TWO_CHARS.fullmatch(g.functional_id), "2 capitals/digits"),
        ("GS02", g.sender, 2 <= len(g.sender) <= 15, "2-15 characters"),
        ("GS03", g.receiver, 2 <= len(g.receiver) <= 15, "2-15 characters"),
        ("GS08", g.version, 1 <= len(g.version) <= 12, "1-12 characters"),
        ("ST03", g.convention, g.convention is None or 1 <= len(g.convention) <= 35, "1-35 chars"),
        *(
            ("ST01", s.transaction_set, _SET_ID.fullmatch(s.transaction_set), "3 characters")
            for s in g.sets
        ),
    ]
    for where, value, ok, what in checks:
        if not ok:
            raise MappingError(f"{where} must be {what}, got {value!r}", path=where)


def _allocate(
    groups: Sequence[OutboundGroup], numbers: ControlNumbers, scope: str
) -> InterchangeControls:
    interchange = f"{numbers.next(scope, 'interchange'):09d}"
    group_controls: list[str] = []
    set_controls: list[tuple[str, ...]] = []
    for g in groups:
        group_controls.append(str(numbers.next(scope, "group")))
        # ST02 is AN 4/9: numbers below 1000 are zero-padded to four digits
        set_controls.append(tuple(f"{numbers.next(scope, 'set'):04d}" for _ in g.sets))
    return InterchangeControls(interchange, tuple(group_controls), tuple(set_controls))
