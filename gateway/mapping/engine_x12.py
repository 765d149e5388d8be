"""Inbound X12 through a spec: compile the spec's fields once into closures over slots.

Each loop context (the set, an N1 loop, a PO1 loop) compiles to a :class:`Group`: a
dispatch table from segment tag and loop id to the slots they fill, filled in one
walk over the loop's content, and one reader per field that reads its slot. Nothing
of the spec is looked up while a document is mapped.

Imports only ``gateway.errors``, ``gateway.model``, ``gateway.x12.reader`` and
``gateway.mapping.functions`` and ``spec``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeAlias

from gateway.errors import MappingError
from gateway.mapping.engine_values import _SP, Conv, _element, model_of
from gateway.mapping.engine_values import Compiler as Compiler  # for engine, engine_lists, xml
from gateway.mapping.engine_values import Loc as Loc
from gateway.mapping.spec import FieldSpec, Path, Step
from gateway.x12.reader import Segment

if TYPE_CHECKING:
    from collections.abc import Callable

    from pydantic import BaseModel

    from gateway.mapping.spec import FieldEntry

Reader: TypeAlias = "Callable[[list[Any], Any, Any], object]"

_FIRST, _APPEND = 0, 1


# -- groups: one loop context -----------------------------------------------------------


class Group:
    """The compiled fields of one loop context and the slots its walk fills."""

    def __init__(self) -> None:
        self.segs: dict[str, list[tuple[int, int, Any]]] = {}
        self.loops: dict[str, list[tuple[int, int, Any]]] = {}
        self.keys: dict[tuple[object, ...], int] = {}
        self.kinds: list[int] = []
        self.readers: list[tuple[str, Reader, int | None]] = []
        self.batches: dict[int, list[tuple[str, int, Conv | None]]] = {}
        self.guard: int | None = None  # set by a compiler step: the slot a reader depends on

    def slot(self, steps: tuple[Step, ...], kind: int, *, both: bool = False) -> int:
        """The slot the first step fills (first match, or every match appended)."""
        step = steps[0]
        key = (step, kind, both)
        found = self.keys.get(key)
        if found is not None:
            return found
        k = self.keys[key] = len(self.kinds)
        self.kinds.append(kind)
        cond = step.condition
        action = (kind, k, cond)
        if not step.loop or both:
            self.segs.setdefault(step.tag, []).append(action)
        if step.loop or both:
            self.loops.setdefault(step.tag, []).append(action)
        return k

    def readout(self) -> Callable[[list[Any], Any, Any], dict[str, object]]:
        """The function filling a dict from the slots: plain elements per segment, then the rest.

        A field whose segment or list is absent is left out (the model default applies).
        """
        batches = tuple((k, tuple(fields)) for k, fields in self.batches.items())
        readers = tuple(self.readers)

        def read(slots: list[Any], node: Any, parent: Any) -> dict[str, object]:
            out: dict[str, object] = {}
            for k, fields in batches:
                seg = slots[k]
                if seg is None:
                    continue
                els = seg._elements or seg.elements
                n = len(els)
                for name, el, conv in fields:
                    raw = els[el] if el < n else ""
                    out[name] = raw.strip(_SP) or None if conv is None else conv(raw, seg, el)
            for name, reader, guard in readers:
                if guard is None or slots[guard]:
                    out[name] = reader(slots, node, parent)
            return out

        return read

    def finish(self) -> Callable[[Any, Any], dict[str, object]]:
        """The function mapping one loop: one walk over its content, then the readout."""
        segs, loops, kinds = self.segs, self.loops, tuple(self.kinds)
        batches = tuple((k, tuple(fields)) for k, fields in self.batches.items())
        readers = tuple(self.readers)
        fresh: list[Any] = [None if k == _FIRST else () for k in kinds]

        def build(node: Any, parent: Any) -> dict[str, object]:
            slots = list(fresh)
            for child in node.content:
                if child.__class__ is Segment:
                    head = child
                    actions = segs.get((child._elements or child.elements)[0])
                else:
                    head = child.content[0]
                    actions = loops.get(child.id)
                if actions is None:
                    continue
                for kind, k, cond in actions:
                    if cond is not None:
                        els = head._elements or head.elements
                        v = els[cond[0]].strip(_SP) if cond[0] < len(els) else ""
                        if v not in cond[1]:
                            continue
                    if kind == _FIRST:
                        if slots[k] is None:
                            slots[k] = head
                    elif slots[k]:
                        slots[k].append(child)
                    else:
                        slots[k] = [child]
            out: dict[str, object] = {}  # the readout, inlined: this runs for every loop
            for k, fields in batches:
                seg = slots[k]
                if seg is None:
                    continue
                els = seg._elements or seg.elements
                n = len(els)
                for name, el, conv in fields:
                    raw = els[el] if el < n else ""
                    out[name] = raw.strip(_SP) or None if conv is None else conv(raw, seg, el)
            for name, reader, guard in readers:
                if guard is None or slots[guard]:
                    out[name] = reader(slots, node, parent)
            return out

        return build


def compile_group(
    c: Compiler, fields: dict[str, FieldEntry], model: type[BaseModel], loc: Loc, group: Group
) -> None:
    """Compile ``fields`` (of ``model``) into readers of ``group``."""
    known = model.model_fields
    for name, entry in fields.items():
        where = (*loc, name)
        if name not in known:
            c.problem(
                where, f"unknown field {name!r} of {model.__name__}; known: {', '.join(known)}"
            )
            continue
        spec = FieldSpec(path=entry) if isinstance(entry, str) else entry
        group.guard = None
        reader = compile_field(c, spec, name, model_of(known[name].annotation), where, group)
        if reader is not None:
            group.readers.append((name, reader, group.guard))
    _mandatory(c, fields, model, loc)


def _mandatory(
    c: Compiler, fields: dict[str, FieldEntry], model: type[BaseModel], loc: Loc
) -> None:
    for name, info in model.model_fields.items():
        if info.is_required() and name not in fields:
            c.problem(loc, f"missing mandatory mapping {name!r} ({model.__name__} needs it)")


def _fields_of(c: Compiler, spec: FieldSpec, loc: Loc) -> dict[str, FieldEntry] | None:
    if spec.use is not None:
        shape = c.shapes.get(spec.use)
        if shape is None:
            c.problem((*loc, "use"), f"unknown shape {spec.use!r}; known: {', '.join(c.shapes)}")
        return shape
    return spec.fields


def compile_field(
    c: Compiler, spec: FieldSpec, name: str, sub: type[BaseModel] | None, loc: Loc, group: Group
) -> Reader | None:
    """One field in a loop context: constant, scalar path, list (``each``) or object."""
    if spec.constant is not None:
        value = spec.constant
        return lambda _s, _n, _p: value
    if spec.each is not None:
        from gateway.mapping.engine_lists import compile_each  # mutual use

        return compile_each(c, spec, name, sub, loc, group)
    fields = _fields_of(c, spec, loc)
    if fields is not None:
        if sub is None:
            c.problem(loc, f"{name!r} is a plain value, not an object with fields")
            return None
        return _object(c, spec, fields, sub, loc, group)
    if spec.qualified is not None:
        return _qualified(c, spec, name, loc, group)
    if spec.path is None:
        c.problem(loc, "expected path, constant, each or fields")
        return None
    return _scalar(c, spec, name, loc, group)


def _scalar(c: Compiler, spec: FieldSpec, name: str, loc: Loc, group: Group) -> Reader | None:
    texts = spec.path if isinstance(spec.path, list) else [spec.path]
    conv = c.conv(spec, name, loc, alone=len(texts) == 1)
    readers: list[Reader] = []
    for i, text in enumerate(texts):
        where = (*loc, "path", i) if isinstance(spec.path, list) else (*loc, "path")
        path = c.path(text or "", where)
        if path is None:
            continue
        if path.relative is not None or len(path.steps) != 1 or not path.element:
            c.problem(where, f"expected one segment and an element here (BEG03), found {text!r}")
            continue
        readers.append(_slot_reader(group, path, conv))
    if not readers:
        return None
    first = readers[0]
    always = spec.required == "always" or (len(texts) > 1 and bool(spec.required))
    ref, default = texts[0], spec.default
    if len(readers) == 1 and not always:
        path = c.path(texts[0] or "", loc)
        if path is not None and not path.up and not path.component:
            k = group.slot(path.steps, _FIRST, both=True)
            plain = not spec.transform and not spec.required and spec.default is None
            group.batches.setdefault(k, []).append((name, path.element, None if plain else conv))
            return None
        return first
    if len(readers) == 1 and len(texts) == 1:
        return _always(c, texts[0] or "", spec.label or name, conv, loc, group) or first

    def read(slots: list[Any], node: Any, parent: Any) -> object:
        for r in readers:
            value = r(slots, node, parent)
            if value is not None:
                return value
        if always:
            label = spec.label or name
            raise MappingError(f"{ref} ({label}) is required, but empty or absent", path=ref)
        return default

    return read


def _always(c: Compiler, text: str, name: str, conv: Conv, loc: Loc, group: Group) -> Reader | None:
    """One plain element that must be sent: read straight from its slot."""
    path = c.path(text, loc)
    if path is None or path.up or path.component:
        return None
    k, el = group.slot(path.steps, _FIRST, both=True), path.element

    def read(slots: list[Any], _node: Any, _parent: Any) -> object:
        seg = slots[k]
        if seg is not None:
            els = seg._elements or seg.elements
            value = conv(els[el] if el < len(els) else "", seg, el)
            if value is not None:
                return value
        what = "the segment is absent" if seg is None else "empty or absent"
        raise MappingError(f"{text} ({name}) is required, but {what}", path=text)

    return read


def _slot_reader(group: Group, path: Path, conv: Conv) -> Reader:
    el, comp = path.element, path.component
    if path.up:
        tag = path.steps[0].tag

        def read_up(_slots: list[Any], _node: Any, parent: Any) -> object:
            for child in parent.content if parent is not None else ():
                if child.__class__ is Segment and child.elements[0] == tag:
                    return conv(_element(child, el, comp), child, el)
            return None

        return read_up
    k = group.slot(path.steps, _FIRST, both=True)
    if comp:

        def read_comp(slots: list[Any], _node: Any, _parent: Any) -> object:
            seg = slots[k]
            return None if seg is None else conv(_element(seg, el, comp), seg, el)

        return read_comp

    def read(slots: list[Any], _node: Any, _parent: Any) -> object:
        seg = slots[k]
        if seg is None:
            return None
        els = seg.elements
        return conv(els[el] if el < len(els) else "", seg, el)

    return read


def _qualified(c: Compiler, spec: FieldSpec, name: str, loc: Loc, group: Group) -> Reader | None:
    paths = [c.path(t, (*loc, "qualified", i)) for i, t in enumerate(spec.qualified or ())]
    if spec.code is None or not paths or None in paths:
        if spec.code is None:
            c.problem(loc, "qualified needs code: the qualifier value to look for")
        return None
    tags = {p.steps[0].tag for p in paths if p is not None}
    if len(tags) != 1:
        c.problem((*loc, "qualified"), "the qualifier elements must be of one segment")
        return None
    k = group.slot(paths[0].steps, _FIRST, both=True)  # type: ignore[union-attr]
    positions = tuple(p.element for p in paths if p is not None)
    code, conv = spec.code, c.conv(spec, name, loc)

    def read(slots: list[Any], _node: Any, _parent: Any) -> object:
        seg = slots[k]
        if seg is None:
            return None
        els = seg.elements
        for i in positions:
            if i + 1 < len(els) and els[i].strip(_SP) == code:
                return conv(els[i + 1], seg, i + 1)
        return None

    return read


def _object(
    c: Compiler,
    spec: FieldSpec,
    fields: dict[str, FieldEntry],
    sub: type[BaseModel],
    loc: Loc,
    group: Group,
) -> Reader:
    inner = Group()
    inner.segs, inner.loops, inner.keys, inner.kinds = (
        group.segs,
        group.loops,
        group.keys,
        group.kinds,
    )
    # a shape's fields are reported where the shape is written (shapes.<name>), which
    # may be a partner's override, not where it is used
    floc: Loc = ("shapes", spec.use) if spec.use else (*loc, "fields")
    compile_group(c, fields, sub, floc, inner)
    readout = inner.readout()
    when = c.path(spec.when, (*loc, "when")) if spec.when else None
    wk = group.slot(when.steps, _FIRST, both=True) if when is not None else None

    def read(slots: list[Any], node: Any, parent: Any) -> object:
        if wk is not None and slots[wk] is None:
            return None
        found = readout(slots, node, parent)
        if wk is None and not any(v is not None and v != () for v in found.values()):
            return None
        return found

    return read
