"""The declarative engine, outbound: a canonical document to the body segments of a set.

:func:`compile_outbound` turns an :class:`OutboundSpec` into a :class:`CompiledOutbound`,
or into every problem that stops it (an unknown field of the model, an unknown
formatter, a list where a value is expected), each with its key path. Field paths are
resolved against the model once, at load; rendering only walks the compiled closures.

Formatters are the outbound half of the transform vocabulary: each names an element
writer of :mod:`gateway.mapping.x12_write` (``x12_date`` → CCYYMMDD, ``decimal`` → the
shortest plain form, ``cents`` → N2 whole cents), so numbers are written in one place.

Imports only ``gateway.errors`` and ``gateway.mapping`` ``engine_values``, ``spec``
and ``x12_write``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final, TypeAlias, get_args, get_origin

from gateway.errors import MappingError
from gateway.mapping.engine_values import model_of
from gateway.mapping.spec import ElementSpec, LoopEntry, SegmentEntry
from gateway.mapping.x12_write import (
    MAX_LENGTH,
    OutboundSet,
    fmt_cents,
    fmt_date,
    fmt_int,
    fmt_real,
    fmt_time,
    segment,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from pydantic import BaseModel

    from gateway.mapping.spec import ElementEntry, OutboundSpec, TransformRef

__all__ = ["FORMATTERS", "CompiledOutbound", "compile_outbound"]

Loc = tuple[str | int, ...]
Stack: TypeAlias = "tuple[Any, ...]"  # the document, then the item of each enclosing each
Getter: TypeAlias = "Callable[[Stack], Any]"
Part: TypeAlias = "Callable[[Stack], list[str | None]]"
Emit: TypeAlias = "Callable[[Stack, list[list[str]]], None]"
Formatter: TypeAlias = "Callable[[Any, str], str | None]"

FORMATTERS: Final[dict[str, Formatter]] = {
    "text": lambda value, _ref: value,
    "x12_date": lambda value, _ref: fmt_date(value),
    "x12_time": lambda value, _ref: fmt_time(value),
    "decimal": lambda value, _ref: fmt_real(value),
    "integer": lambda value, _ref: fmt_int(value),
    "cents": fmt_cents,
    "count": lambda value, _ref: str(len(value)),
}
"""Every formatter an outbound spec may name: value and element ref (``TDS01``) → text."""


@dataclass(frozen=True, slots=True)
class Kind:
    """What a field path gives at load: a model (or a plain value), one or many, a chunk."""

    model: type[BaseModel] | None
    many: bool = False
    chunk: bool = False  # a group of items made by ``chunk``: a number picks one
    known: bool = True  # False under a list already reported: its fields are not checked


def _kind(annotation: object) -> Kind:
    many = get_origin(annotation) is tuple or any(
        get_origin(a) is tuple for a in get_args(annotation)
    )
    return Kind(model_of(annotation), many=many)


def _is_set(value: object) -> bool:
    return value is not None and value != ()


class CompiledOutbound:
    """An outbound spec ready to render documents: built once, shared, never changed."""

    __slots__ = ("_emits", "model", "spec")

    def __init__(self, spec: OutboundSpec, model: type[BaseModel], emits: list[Emit]) -> None:
        self.spec = spec
        self.model = model
        self._emits = emits

    def render(self, document: BaseModel) -> OutboundSet:
        """The body segments (no ST/SE) of ``document``, with the set id and GS01.

        Raises:
            MappingError: a required value is missing or a value does not fit its element.
        """
        if not isinstance(document, self.model):
            raise MappingError(
                f"this mapping writes {self.model.__name__}, found {type(document).__name__}"
            )
        out: list[list[str]] = []
        for emit in self._emits:
            emit((document,), out)
        target = self.spec.target
        return OutboundSet(target.transaction_set, target.functional_id, out)


class _Compiler:
    """Compiles an outbound spec for one version; collects problems instead of stopping."""

    def __init__(self, version: str) -> None:
        self.version = version
        self.problems: list[tuple[Loc, str]] = []

    def problem(self, loc: Loc, message: str) -> None:
        if (loc, message) not in self.problems:
            self.problems.append((loc, message))

    def field(self, text: str, kinds: Sequence[Kind], loc: Loc) -> tuple[Getter, Kind] | None:
        """A getter for a field path from the innermost item, and what it gives."""
        parts = text.split(".") if text != "." else []
        up = 0
        while parts and parts[0] == "^":
            up, parts = up + 1, parts[1:]
        if up >= len(kinds):
            self.problem(loc, f"{text!r} steps out of the document ({len(kinds) - 1} levels)")
            return None
        kind = kinds[-1 - up]
        if not kind.known:
            return (lambda _stack: None), kind
        steps: list[str | int] = []
        for name in parts:
            if kind.chunk or name.isdigit():
                if not (kind.chunk and name.isdigit()):
                    self.problem(loc, f"{text!r}: a number picks an item of a chunk only")
                    return None
                kind = Kind(kind.model)
                steps.append(int(name))
            else:
                found = None if kind.many or kind.model is None else kind.model.model_fields
                if found is None or name not in found:
                    owner = kind.model.__name__ if kind.model else "a plain value"
                    has = f" (it has: {', '.join(found)})" if found else ""
                    self.problem(loc, f"unknown field {name!r} on {owner}{has}")
                    return None
                kind = _kind(found[name].annotation)
                steps.append(name)
        return _getter(up, tuple(steps)), kind

    def formatter(self, ref: TransformRef | None, loc: Loc) -> Formatter | None:
        if ref is None:
            return None
        name, params = (ref, None) if isinstance(ref, str) else next(iter(ref.items()))
        if not isinstance(ref, str) and len(ref) != 1:
            self.problem(loc, "expected one formatter name")
        elif name not in FORMATTERS:
            known = ", ".join(sorted(FORMATTERS))
            self.problem(loc, f"unknown transform {name!r}; known outbound: {known}")
        elif params:
            self.problem(loc, f"unknown parameter {next(iter(params))!r}; {name} takes: none")
        else:
            return FORMATTERS[name]
        return None

    def element(self, entry: ElementEntry, kinds: Sequence[Kind], ref: str, loc: Loc) -> Part:
        """One element (or a run of pairs) as a function of the stack."""
        if entry is None:
            return lambda _stack: [None]
        spec = ElementSpec(field=entry) if isinstance(entry, str) else entry
        where = loc if isinstance(entry, str) else (*loc, "field")
        if spec.constant is not None:
            value = spec.constant
            return lambda _stack: [value]
        if spec.pairs is not None:
            return self.pairs(spec, kinds, ref, loc)
        if spec.qualified is not None:
            return self.qualified(spec.qualified, kinds, (*loc, "qualified"))
        if spec.field is None:
            self.problem(loc, "expected field, constant, pairs or qualified")
            return lambda _stack: [None]
        found = self.field(spec.field, kinds, where)
        fmt = self.formatter(spec.transform, (*loc, "transform"))
        if found is None:
            return lambda _stack: [None]
        if fmt is None and found[1].known and (found[1].many or found[1].model is not None):
            self.problem(where, f"{spec.field!r} is not a plain value: name a transform")
        return _value(found[0], fmt, ref, required=spec.required)

    def pairs(self, spec: ElementSpec, kinds: Sequence[Kind], ref: str, loc: Loc) -> Part:
        found = self.field(spec.pairs or ".", kinds, (*loc, "pairs"))
        listed = found is not None and (found[1].many or found[1].chunk)
        if found is not None and found[1].known and not listed:
            self.problem((*loc, "pairs"), f"{spec.pairs!r} is not a list")
        inner = [*kinds, Kind(found[1].model if found else None, known=listed)]
        parts = [self.element(e, inner, ref, (*loc, "of", i)) for i, e in enumerate(spec.of or [])]
        if not parts:
            self.problem(loc, "pairs needs of: the elements of each pair")
        get = found[0] if found else (lambda _stack: ())

        def run(stack: Stack) -> list[str | None]:
            return [v for item in get(stack) or () for p in parts for v in p((*stack, item))]

        return run

    def qualified(self, table: dict[str, str], kinds: Sequence[Kind], loc: Loc) -> Part:
        getters: list[tuple[str, Getter]] = []
        for code, path in table.items():
            found = self.field(path, kinds, (*loc, code))
            if found is not None:
                getters.append((code, found[0]))

        def run(stack: Stack) -> list[str | None]:
            return [x for c, g in getters if (v := g(stack)) is not None for x in (c, v)]

        return run

    def segment(self, entry: SegmentEntry, kinds: Sequence[Kind], loc: Loc) -> Emit:
        """One segment entry: its items, its condition and its elements."""
        items: Callable[[Stack], Sequence[Any]] = lambda stack: (None,)  # noqa: E731
        inner = list(kinds)
        if entry.each is not None:
            items, item = self.items(entry, kinds, loc)
            inner.append(item)
        elif entry.chunk or entry.chunk_by or entry.split:
            self.problem(loc, "chunk, chunk_by and split go with each")
        whens = entry.when if isinstance(entry.when, list) else [entry.when] if entry.when else []
        conds = [self.field(w, kinds, (*loc, "when")) for w in whens]
        tests = [c[0] for c in conds if c is not None]
        parts: list[Part] = []
        position = 1
        for i, e in enumerate(entry.elements):
            parts.append(
                self.element(e, inner, f"{entry.segment}{position:02d}", (*loc, "elements", i))
            )
            position += 1
        tag, version, each = entry.segment, self.version, entry.each is not None

        def emit(stack: Stack, out: list[list[str]]) -> None:
            if tests and not any(_is_set(t(stack)) for t in tests):
                return
            for item in items(stack):
                here = (*stack, item) if each else stack
                values = [v for p in parts for v in p(here)]
                out.append(segment(tag, *values, version=version))

        return emit

    def items(
        self, entry: SegmentEntry, kinds: Sequence[Kind], loc: Loc
    ) -> tuple[Callable[[Stack], Sequence[Any]], Kind]:
        """The items a segment repeats over: a list, chunks of it, or a text split."""
        found = self.field(entry.each or ".", kinds, (*loc, "each"))
        get, kind = found if found else ((lambda _stack: None), Kind(None, known=False))
        if entry.split is not None:
            limits = MAX_LENGTH.get(entry.split)
            if limits is None:
                self.problem((*loc, "split"), f"no length known for {entry.split!r}")
                limits = (0, 0)
            if kind.many or kind.model is not None:
                self.problem((*loc, "each"), f"{entry.each!r} is not a text to split")
            limit = limits[1 if self.version >= "005" else 0]
            return (lambda stack: _split(get(stack), limit, entry.split or "")), Kind(None)
        if kind.known and not kind.many:
            self.problem((*loc, "each"), f"{entry.each!r} is not a list")
        item = Kind(kind.model, known=kind.known and kind.many)
        if entry.chunk is None:
            if entry.chunk_by is not None:
                self.problem((*loc, "chunk_by"), "chunk_by goes with chunk")
            return (lambda stack: get(stack) or ()), item
        key: Getter = lambda _stack: None  # noqa: E731
        if entry.chunk_by is not None:
            by = self.field(entry.chunk_by, [*kinds, item], (*loc, "chunk_by"))
            key = by[0] if by else key
        size = entry.chunk
        return (lambda stack: _chunks(get(stack) or (), size, key)), Kind(
            kind.model, chunk=True, known=item.known
        )

    def entries(
        self, entries: Sequence[SegmentEntry | LoopEntry], kinds: Sequence[Kind], loc: Loc
    ) -> list[Emit]:
        """Segments and loops in order."""
        out: list[Emit] = []
        for i, entry in enumerate(entries):
            if isinstance(entry, SegmentEntry):
                out.append(self.segment(entry, kinds, (*loc, i)))
                continue
            found = self.field(entry.each, kinds, (*loc, i, "each"))
            listed = found is not None and found[1].many
            if found is not None and found[1].known and not listed:
                self.problem((*loc, i, "each"), f"{entry.each!r} is not a list")
            inner = [*kinds, Kind(found[1].model if found else None, known=listed)]
            out.append(
                _loop(
                    found[0] if found else None,
                    self.entries(entry.segments, inner, (*loc, i, "segments")),
                )
            )
        return out


def _getter(up: int, steps: tuple[str | int, ...]) -> Getter:
    def get(stack: Stack) -> Any:
        value = stack[-1 - up]
        for step in steps:
            if value is None:
                return None
            if isinstance(step, int):
                value = value[step] if step < len(value) else None
            else:
                value = getattr(value, step)
        return value

    return get


def _value(get: Getter, fmt: Formatter | None, ref: str, *, required: bool) -> Part:
    def run(stack: Stack) -> list[str | None]:
        value = get(stack)
        if value is None:
            if required:
                raise MappingError(f"{ref} is required, but the document has no value", path=ref)
            return [None]
        if fmt is not None:
            return [fmt(value, ref)]
        return [value]

    return run


def _loop(get: Getter | None, emits: list[Emit]) -> Emit:
    def emit(stack: Stack, out: list[list[str]]) -> None:
        for item in (get(stack) if get else None) or ():
            for child in emits:
                child((*stack, item), out)

    return emit


def _chunks(items: Sequence[Any], size: int, key: Getter) -> list[tuple[Any, ...]]:
    """Consecutive groups of at most ``size`` items that share ``key``."""
    out: list[tuple[Any, ...]] = []
    group: list[Any] = []
    current: object = None
    for item in items:
        k = key((item,))
        if group and (len(group) == size or k != current):
            out.append(tuple(group))
            group = []
        current = k
        group.append(item)
    if group:
        out.append(tuple(group))
    return out


def _split(text: str | None, limit: int, ref: str) -> list[str]:
    """A text cut at spaces into pieces of at most ``limit`` characters (PID05)."""
    if text is None:
        return []
    chunks: list[str] = []
    rest = text
    while len(rest) > limit:
        cut = rest.rfind(" ", 1, limit + 1)
        if cut <= 0:
            raise MappingError(f"a word is longer than {ref} allows ({limit})", path=ref)
        chunks.append(rest[:cut])
        rest = rest[cut + 1 :]
    chunks.append(rest)
    return chunks


def compile_outbound(
    spec: OutboundSpec, model: type[BaseModel]
) -> tuple[CompiledOutbound | None, list[tuple[Loc, str]]]:
    """Compile ``spec`` for ``model``; the mapping, or None and every problem with its key path."""
    compiler = _Compiler(spec.target.version)
    emits = compiler.entries(spec.segments, [Kind(model)], ("segments",))
    if compiler.problems:
        return None, compiler.problems
    return CompiledOutbound(spec, model, emits), []
