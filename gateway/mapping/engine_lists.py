"""Inbound X12 lists through a spec: fields with ``each`` (REF, N1 loops, PO1 loops, pairs).

An item is a segment (``each: REF``: its fields read that segment only), a loop
(``each: PO1 loop``: its fields form a group of their own), or an element group of
a segment (``repeat``: product id pairs). Items keep file order across several
``each`` names (``[SAC, SAC loop]``); ``ENT loop/RMR loop`` takes the RMR loops of
each ENT loop, and ``^ENT04`` in their fields reads the ENT loop around them.

Imports only ``gateway.errors``, ``gateway.x12.reader`` and ``gateway.mapping``
``engine_x12`` and ``spec``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeAlias

from gateway.errors import MappingError
from gateway.mapping.engine_values import _SP, Conv, _element
from gateway.mapping.engine_x12 import (
    _APPEND,
    Compiler,
    Group,
    Loc,
    Reader,
    compile_group,
)
from gateway.mapping.spec import FieldSpec, Path
from gateway.x12.reader import Segment

if TYPE_CHECKING:
    from collections.abc import Callable

    from pydantic import BaseModel

    from gateway.mapping.spec import FieldEntry

ItemReader: TypeAlias = "Callable[[Segment, int, Any], object]"
Entry: TypeAlias = "tuple[str, int, int, Conv | None, ItemReader | None]"


def _matches(path: Path, child: Any) -> bool:
    step = path.steps[0]
    if child.__class__ is Segment:
        if step.loop or child.elements[0] != step.tag:
            return False
        head = child
    else:
        if not step.loop or child.id != step.tag:
            return False
        head = child.content[0]
    if step.condition is None:
        return True
    el, values = step.condition
    return head.get(el).strip(_SP) in values


def _items(
    c: Compiler, spec: FieldSpec, loc: Loc, group: Group
) -> tuple[list[Path], Callable[[list[Any], Any], list[tuple[Any, Any]]], int | None] | None:
    """Register the ``each`` selectors; return them and a function giving (item, parent)."""
    texts = spec.each if isinstance(spec.each, list) else [spec.each]
    paths: list[Path] = []
    for i, text in enumerate(texts):
        where = (*loc, "each", i) if isinstance(spec.each, list) else (*loc, "each")
        path = c.path(text or "", where)
        if path is not None and (path.element or path.up or path.relative is not None):
            c.problem(where, f"expected segments or loops to repeat over, found {text!r}")
            path = None
        if path is not None:
            paths.append(path)
    if not paths:
        return None
    k = len(group.kinds)
    group.kinds.append(_APPEND)
    for path in paths:
        step = path.steps[0]
        table = group.loops if step.loop else group.segs
        table.setdefault(step.tag, []).append((_APPEND, k, step.condition))
    group.guard = k
    nested = [p for p in paths if len(p.steps) > 1]
    if not nested:
        return paths, lambda slots, node: [(child, node) for child in slots[k]], k

    def expand(slots: list[Any], node: Any) -> list[tuple[Any, Any]]:
        out: list[tuple[Any, Any]] = []
        for child in slots[k]:
            path = next(p for p in paths if _matches(p, child))
            if len(path.steps) == 1:
                out.append((child, node))
                continue
            inner = Path(path.steps[1:2], 0, 0)
            out += [(sub, child) for sub in child.content if _matches(inner, sub)]
        return out

    return paths, expand, None


def compile_each(
    c: Compiler, spec: FieldSpec, name: str, sub: type[BaseModel] | None, loc: Loc, group: Group
) -> Reader | None:
    """A list field (or, with ``first``, one object from the first item)."""
    found = _items(c, spec, loc, group)
    if found is None:
        return None
    paths, items, direct = found
    fields = c.shapes.get(spec.use) if spec.use else spec.fields
    if spec.use and fields is None:
        c.problem((*loc, "use"), f"unknown shape {spec.use!r}; known: {', '.join(c.shapes)}")
        return None
    if fields is None:
        return _values(c, spec, name, items, direct, loc)
    if sub is None:
        c.problem(loc, f"{name!r} holds plain values: use values or path, not fields")
        return None
    tags = {p.steps[-1].tag for p in paths}
    loop_items = all(p.steps[-1].loop for p in paths)
    if loop_items and len(tags) == 1 and spec.repeat is None:
        inner = Group()
        floc: Loc = ("shapes", spec.use) if spec.use else (*loc, "fields")
        compile_group(c, fields, sub, floc, inner)
        item: Callable[[Any, Any], Any] = inner.finish()
    else:
        tag = next(iter(tags))
        item = _segment_item(c, spec, fields, sub, tag, loc)
        if len(tags) != 1:
            c.problem((*loc, "each"), "items of one list must be of one segment or one loop id")
    first = spec.first
    if direct is not None and not first:
        k = direct

        def read_direct(slots: list[Any], node: Any, _parent: Any) -> object:
            out = []
            for child in slots[k]:
                value = item(child, node)
                if value is None:
                    continue
                if value.__class__ is list:
                    out += value
                else:
                    out.append(value)
            return tuple(out)

        return read_direct

    def read(slots: list[Any], node: Any, _parent: Any) -> object:
        out = []
        for child, parent in items(slots, node):
            value = item(child, parent)
            if value is None:
                continue
            if first:
                return value
            if value.__class__ is list:
                out += value
            else:
                out.append(value)
        return None if first else tuple(out)

    return read


def _values(
    c: Compiler,
    spec: FieldSpec,
    name: str,
    items: Callable[[list[Any], Any], list[tuple[Any, Any]]],
    direct: int | None,
    loc: Loc,
) -> Reader | None:
    """A list of plain values from every item (N3 lines), or their text joined (PID05s)."""
    texts = spec.values or ([spec.path] if isinstance(spec.path, str) else spec.path or [])
    if not texts:
        c.problem(loc, "a list needs fields, values or path")
        return None
    conv = c.conv(spec, name, loc)
    positions = []
    for i, text in enumerate(texts):
        path = c.path(text, (*loc, "values" if spec.values else "path", i))
        if path is not None:
            positions.append(path.element)
    joiner = spec.join

    def read(slots: list[Any], node: Any, _parent: Any) -> object:
        out = []
        found = slots[direct] if direct is not None else [i for i, _ in items(slots, node)]
        for child in found:
            seg = child if child.__class__ is Segment else child.content[0]
            els = seg._elements or seg.elements
            n = len(els)
            for el in positions:
                value = conv(els[el] if el < n else "", seg, el)
                if value is not None:
                    out.append(value)
        if joiner is not None:
            return joiner.join(out) if out else None  # type: ignore[arg-type]
        return tuple(out)

    return read


def _segment_item(
    c: Compiler,
    spec: FieldSpec,
    fields: dict[str, FieldEntry],
    sub: type[BaseModel],
    tag: str,
    loc: Loc,
) -> Callable[[Any, Any], object]:
    """Items that are one segment each (or element groups of it, with ``repeat``).

    A field is an entry ``(name, relative, element, conv, reader)``: plain elements
    (``conv`` None: stripped, empty is None) and converted ones are read straight from
    the element list; only the others (alternatives, ``^`` paths ...) call ``reader``.
    """
    known = sub.model_fields
    entries: list[Entry] = []
    skip = set(spec.skip_empty)
    for name, entry in fields.items():
        where = (*loc, "fields", name)
        if name not in known:
            c.problem(where, f"unknown field {name!r} of {sub.__name__}; known: {', '.join(known)}")
            continue
        fspec = FieldSpec(path=entry) if isinstance(entry, str) else entry
        found = _segment_field(c, fspec, name, tag, where, repeat=spec.repeat is not None)
        if isinstance(found, tuple):
            entries.append((name, *found, None))
        elif found is not None:
            entries.append((name, 0, 0, None, found))
    for name, info in known.items():
        if info.is_required() and name not in fields:
            c.problem(
                (*loc, "fields"), f"missing mandatory mapping {name!r} ({sub.__name__} needs it)"
            )
    # skip tests first: no error for a skipped item
    checks = tuple(e for e in entries if e[0] in skip)
    rest = tuple(e for e in entries if e[0] not in skip)
    start, step = (spec.repeat.start, spec.repeat.step) if spec.repeat else (0, 0)

    def groups(child: Any, parent: Any) -> object:
        seg = child if child.__class__ is Segment else child.content[0]
        els = seg._elements or seg.elements
        n = len(els)
        found = []
        for base in range(start, n - step + 1, step) if step else (0,):
            out: dict[str, object] = {}
            for name, rel, el, conv, reader in checks:
                if reader is not None:
                    v = out[name] = reader(seg, base, parent)
                else:
                    i = base + el if rel else el
                    raw = els[i] if i < n else ""
                    v = out[name] = raw.strip(_SP) or None if conv is None else conv(raw, seg, i)
                if v is None:
                    break
            else:
                for name, rel, el, conv, reader in rest:
                    if reader is not None:
                        out[name] = reader(seg, base, parent)
                    else:
                        i = base + el if rel else el
                        raw = els[i] if i < n else ""
                        out[name] = raw.strip(_SP) or None if conv is None else conv(raw, seg, i)
                if not step:
                    return out
                found.append(out)
        return found if step else None

    return groups


def _segment_field(
    c: Compiler, spec: FieldSpec, name: str, tag: str, loc: Loc, *, repeat: bool
) -> ItemReader | tuple[int, int, Conv | None] | None:
    if spec.constant is not None:
        value = spec.constant
        return lambda _s, _b, _p: value
    texts = spec.path if isinstance(spec.path, list) else [spec.path]
    conv = c.conv(spec, name, loc, alone=len(texts) == 1)
    if spec.qualified is not None:
        positions = [p.element for t in spec.qualified if (p := c.path(t, (*loc, "qualified")))]
        code = spec.code

        def qualified(seg: Segment, _b: int, _p: Any) -> object:
            els = seg.elements
            for i in positions:
                if i + 1 < len(els) and els[i].strip(_SP) == code:
                    return conv(els[i + 1], seg, i + 1)
            return None

        return qualified
    if spec.each is not None or spec.fields is not None or not texts or texts[0] is None:
        c.problem(loc, f"in a list of {tag} segments a field is one element of it, e.g. {tag}02")
        return None
    if len(texts) == 1:
        path = c.path(
            texts[0] or "", (*loc, "path", 0) if isinstance(spec.path, list) else (*loc, "path")
        )
        if path is None:
            return None
        step = path.steps[0] if len(path.steps) == 1 else None
        plain = not spec.transform and not spec.required and spec.default is None
        if path.relative is not None and repeat:
            return 1, path.relative, None if plain else conv
        if (
            path.relative is None
            and step is not None
            and not (path.up or path.component or step.condition or step.loop)
            and step.tag == tag
            and path.element
        ):
            return 0, path.element, None if plain else conv
    readers: list[ItemReader | None] = []
    for i, text in enumerate(texts):
        where = (*loc, "path", i) if isinstance(spec.path, list) else (*loc, "path")
        path = c.path(text or "", where)
        if path is None:
            continue
        readers.append(_one(c, path, tag, conv, where, repeat=repeat))
    found = [r for r in readers if r is not None]
    if len(texts) == 1 and found:
        return found[0]
    required, default, ref = bool(spec.required), spec.default, texts[0]

    def alternatives(seg: Segment, base: int, parent: Any) -> object:
        for r in found:
            v = r(seg, base, parent)
            if v is not None:
                return v
        if required:
            raise MappingError(
                f"{ref} ({spec.label or name}) in segment {seg.number}: required, "
                "but empty or absent",
                path=ref,
            )
        return default

    return alternatives


def _one(
    c: Compiler, path: Path, tag: str, conv: Any, loc: Loc, *, repeat: bool
) -> ItemReader | None:
    if path.relative is not None:
        if not repeat:
            c.problem(loc, "+n paths are for repeat items only")
            return None
        rel = path.relative
        return lambda seg, base, _p: conv(seg.get(base + rel), seg, base + rel)
    el, comp = path.element, path.component
    if path.up:
        up_tag = path.steps[0].tag

        def read_up(_seg: Segment, _b: int, parent: Any) -> object:
            for child in parent.content if parent is not None else ():
                if child.__class__ is Segment and child.elements[0] == up_tag:
                    return conv(_element(child, el, comp), child, el)
            return None

        return read_up
    if len(path.steps) != 1 or path.steps[0].tag != tag or not el:
        c.problem(loc, f"in a list of {tag} segments a field is one element of it, e.g. {tag}02")
        return None
    cond = path.steps[0].condition
    if cond is not None:
        at, accepted = cond

        def read_if(seg: Segment, _b: int, _p: Any) -> object:
            if seg.get(at).strip(_SP) not in accepted:
                return None
            return conv(_element(seg, el, comp), seg, el)

        return read_if

    def read(seg: Segment, _b: int, _p: Any) -> object:
        els = seg.elements
        return conv(
            (els[el] if el < len(els) else "") if not comp else _element(seg, el, comp), seg, el
        )

    return read


__all__ = ["compile_each"]
