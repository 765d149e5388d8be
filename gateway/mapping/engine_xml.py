"""Inbound XML through a spec: XPaths compiled once, applied to each parsed document.

In an XML spec (``source: {format: xml}``) every ``path``, ``each``, ``values`` and
``when`` is an XPath 1.0 expression, with the prefixes of ``source.namespaces``. A
field's XPath is relative to its context: the document element selected by
``source.root``, or the node of the list item (``each``) it belongs to. Transforms,
``default``, ``constant``, ``use`` (shapes), ``first``, ``join`` and ``skip_empty``
mean what they mean for X12; ``required`` (true or always) means the XPath must
select a non-blank value. ``qualified`` and ``repeat`` are X12 only.

Every XPath is compiled at load through :func:`gateway.xmldocs.compile_xpath`, so a
bad one is a config problem with its key path. Documents are parsed only through
:func:`gateway.xmldocs.parse_xml` (no DTD, no entity, size-limited).

Imports only ``gateway.errors``, ``gateway.xmldocs``, ``gateway.model`` and
``gateway.mapping`` ``engine``, ``engine_x12``, ``engine_values``, ``functions`` and ``spec``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeAlias

from gateway.errors import ConfigError, MappingError
from gateway.mapping.engine import CompiledMapping, finish
from gateway.mapping.engine_values import model_of
from gateway.mapping.functions import TransformProblem
from gateway.mapping.spec import FieldSpec
from gateway.xmldocs import compile_xpath, local_name, parse_xml, xpath_nodes, xpath_text

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from pydantic import BaseModel

    from gateway.mapping.engine_x12 import Compiler, Loc
    from gateway.mapping.spec import FieldEntry, Source
    from gateway.model import CanonicalDocument
    from gateway.xmldocs import XmlElement, XPath

__all__ = ["compile_xml", "map_xml"]

NodeReader: TypeAlias = "Callable[[XmlElement], object]"
Build: TypeAlias = "Callable[[XmlElement], dict[str, object]]"


class _XmlCompiler:
    """Compiles the fields of one XML spec on top of the shared :class:`Compiler`."""

    def __init__(self, c: Compiler, namespaces: Mapping[str, str]) -> None:
        self.c = c
        self.namespaces = dict(namespaces)

    def xpath(self, expr: str | None, loc: Loc) -> XPath | None:
        """Compile ``expr``, or record why it is bad at ``loc``."""
        if not expr:
            self.c.problem(loc, "expected an XPath expression")
            return None
        try:
            return compile_xpath(expr, self.namespaces)
        except ConfigError as exc:
            self.c.problem(loc, str(exc))
            return None

    def group(self, fields: dict[str, FieldEntry], model: type[BaseModel], loc: Loc) -> Build:
        """The function building ``model``'s fields from one context node."""
        known = model.model_fields
        readers: list[tuple[str, NodeReader]] = []
        for name, entry in fields.items():
            where = (*loc, name)
            if name not in known:
                listed = ", ".join(known)
                self.c.problem(
                    where, f"unknown field {name!r} of {model.__name__}; known: {listed}"
                )
                continue
            spec = FieldSpec(path=entry) if isinstance(entry, str) else entry
            reader = self.field(spec, name, model_of(known[name].annotation), where)
            if reader is not None:
                readers.append((name, reader))
        for name, info in known.items():
            if info.is_required() and name not in fields:
                self.c.problem(
                    loc, f"missing mandatory mapping {name!r} ({model.__name__} needs it)"
                )
        table = tuple(readers)

        def build(node: XmlElement) -> dict[str, object]:
            out: dict[str, object] = {}
            for name, reader in table:
                value = reader(node)
                if value is not None:
                    out[name] = value
            return out

        return build

    def field(
        self, spec: FieldSpec, name: str, sub: type[BaseModel] | None, loc: Loc
    ) -> NodeReader | None:
        """One field: constant, scalar XPath, list (``each``) or nested object."""
        for option in ("qualified", "repeat"):
            if getattr(spec, option) is not None:
                self.c.problem((*loc, option), f"{option} is for X12 specs, not XML")
                return None
        if spec.constant is not None:
            value = spec.constant
            return lambda _node: value
        if spec.each is not None:
            return self.each(spec, name, sub, loc)
        fields = self.fields_of(spec, loc)
        if fields is not None:
            if sub is None:
                self.c.problem(loc, f"{name!r} is a plain value, not an object with fields")
                return None
            return self.object(spec, fields, sub, loc)
        if spec.path is None:
            self.c.problem(loc, "expected path, constant, each or fields")
            return None
        return self.scalar(spec, name, loc)

    def fields_of(self, spec: FieldSpec, loc: Loc) -> dict[str, FieldEntry] | None:
        """The item fields: written in place, or taken from a shape (``use``)."""
        if spec.use is not None:
            shape = self.c.shapes.get(spec.use)
            if shape is None:
                known = ", ".join(self.c.shapes)
                self.c.problem((*loc, "use"), f"unknown shape {spec.use!r}; known: {known}")
            return shape
        return spec.fields

    def scalar(self, spec: FieldSpec, name: str, loc: Loc) -> NodeReader | None:
        """A value: the first XPath that selects text, through the transforms."""
        texts = spec.path if isinstance(spec.path, list) else [spec.path]
        compiled: list[XPath] = []
        for i, text in enumerate(texts):
            where = (*loc, "path", i) if isinstance(spec.path, list) else (*loc, "path")
            found = self.xpath(text, where)
            if found is not None:
                compiled.append(found)
        convert = self.converter(spec, name, loc)
        if not compiled:
            return None
        paths = tuple(compiled)

        def read(node: XmlElement) -> object:
            for xp in paths:
                raw = xpath_text(node, xp)
                if raw is not None:
                    return convert(raw, xp.path)
            return convert(None, paths[0].path)

        return read

    def converter(
        self, spec: FieldSpec, name: str, loc: Loc
    ) -> Callable[[str | None, str], object]:
        """Text → value: blank → default (or required), else the transforms in order."""
        chain = self.c.chain(spec, loc)
        required, default = bool(spec.required), spec.default

        def convert(raw: str | None, where: str) -> object:
            if raw is None:
                if required:
                    raise MappingError(
                        f"XPath {where!r} ({name}): required, but empty or absent", path=where
                    )
                return default
            value: object = raw
            try:
                for step in chain:
                    value = step(value)  # type: ignore[arg-type]
                    if value is None:
                        break
            except TransformProblem as exc:
                raise MappingError(f"XPath {where!r} ({name}): {exc}", path=where) from None
            return default if value is None else value

        return convert

    def object(
        self, spec: FieldSpec, fields: dict[str, FieldEntry], sub: type[BaseModel], loc: Loc
    ) -> NodeReader:
        """A nested object read from the same node; absent when ``when`` selects nothing."""
        build = self.group(fields, sub, (*loc, "fields"))
        when = self.xpath(spec.when, (*loc, "when")) if spec.when else None

        def read(node: XmlElement) -> object:
            if when is not None and not when(node):
                return None
            found = build(node)
            if when is None and not any(v is not None and v != () for v in found.values()):
                return None
            return found

        return read

    def each(
        self, spec: FieldSpec, name: str, sub: type[BaseModel] | None, loc: Loc
    ) -> NodeReader | None:
        """A list: one item per node the ``each`` XPaths select, in document order."""
        texts = spec.each if isinstance(spec.each, list) else [spec.each]
        found = [
            self.xpath(t, (*loc, "each", i) if isinstance(spec.each, list) else (*loc, "each"))
            for i, t in enumerate(texts)
        ]
        selectors = tuple(x for x in found if x is not None)
        fields = self.fields_of(spec, loc)
        if fields is None:
            item = self.values(spec, name, loc)
        elif sub is None:
            self.c.problem(loc, f"{name!r} holds plain values: use values or path, not fields")
            return None
        else:
            item = self.item(spec, fields, sub, loc)
        if item is None or len(selectors) != len(texts):
            return None
        # several selectors: one union, so that items keep document order across them
        union = selectors[0]
        if len(selectors) > 1:
            union = compile_xpath(" | ".join(f"({t})" for t in texts), self.namespaces)
        first, joiner = spec.first, spec.join

        def read(node: XmlElement) -> object:
            out: list[Any] = []
            for child in xpath_nodes(node, union):
                value = item(child)
                if value is None:
                    continue
                if first:
                    return value
                out += value if value.__class__ is list else [value]
            if first:
                return None
            if joiner is not None:
                return joiner.join(out) if out else None
            return tuple(out)

        return read

    def item(
        self, spec: FieldSpec, fields: dict[str, FieldEntry], sub: type[BaseModel], loc: Loc
    ) -> NodeReader:
        """One object per node; left out when a ``skip_empty`` field is empty."""
        build = self.group(fields, sub, (*loc, "fields"))
        skip = tuple(spec.skip_empty)

        def read(node: XmlElement) -> object:
            found = build(node)
            if any(found.get(n) in (None, "") for n in skip):
                return None
            return found

        return read

    def values(self, spec: FieldSpec, name: str, loc: Loc) -> NodeReader | None:
        """Plain values of each node: the ``values`` XPaths (or ``path``) read from it."""
        texts = spec.values or ([spec.path] if isinstance(spec.path, str) else spec.path or [])
        key = "values" if spec.values else "path"
        selectors = [self.xpath(t, (*loc, key, i)) for i, t in enumerate(texts)]
        if not texts:
            self.c.problem(loc, "a list needs fields, values or path")
            return None
        compiled = tuple(x for x in selectors if x is not None)
        plain = FieldSpec(transform=spec.transform, default=spec.default)
        convert = self.converter(plain, name, loc)

        def read(node: XmlElement) -> object:
            out = []
            for xp in compiled:
                value = convert(xpath_text(node, xp), xp.path)
                if value is not None:
                    out.append(value)
            return out

        return read


def compile_xml(
    c: Compiler, spec_fields: dict[str, FieldEntry], model: type[BaseModel], *, source: Source
) -> Callable[[Any, Any], dict[str, object]]:
    """Compile an XML spec's fields; the result maps a parsed document element."""
    xc = _XmlCompiler(c, source.namespaces)
    build = xc.group(spec_fields, model, ("fields",))
    root = xc.xpath(source.root, ("source", "root")) if source.root else None

    def run(document: XmlElement, _parent: Any) -> dict[str, object]:
        if root is None:
            return build(document)
        found = xpath_nodes(document, root)
        if not found:
            raise MappingError(
                f"expected the document element {root.path!r}, found <{local_name(document)}>",
                path=root.path,
            )
        return build(found[0])

    return run


def map_xml(mapping: CompiledMapping, data: bytes, *, max_bytes: int) -> CanonicalDocument:
    """Parse ``data`` safely and map it through an XML ``mapping`` to its document.

    Raises:
        UnsafeXmlError: over ``max_bytes``, or a DOCTYPE (see :func:`gateway.xmldocs.parse_xml`).
        DocumentError: not well-formed XML.
        MappingError: a required value missing or unreadable; the message names the XPath.
    """
    if mapping.spec.source.format != "xml":
        raise ConfigError(f"mapping of format {mapping.spec.source.format!r} cannot read XML")
    document = parse_xml(data, max_bytes=max_bytes)
    return finish(mapping.model, mapping.build(document, None))  # type: ignore[return-value]
