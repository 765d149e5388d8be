"""The declarative mapping engine: a spec compiled once, applied to each document.

:func:`compile_spec` turns a :class:`MappingSpec` (merged with any partner override,
see :mod:`gateway.mapping.loader`) into a :class:`CompiledMapping`, or into the list
of problems that stop it: unknown transforms, bad paths, unknown fields, missing
mandatory mappings, each with the key path where it is. ``inbound`` maps the
validator's loop tree of one X12 set to the canonical document; XML specs are
compiled by ``engine_xml`` and applied with :func:`gateway.mapping.engine_xml.map_xml`.
Outbound specs (``direction: outbound``) go to :func:`compile_outbound_spec`, which
hands them to ``engine_out``.

Imports only ``gateway.errors``, ``gateway.model``, ``gateway.business`` and
``gateway.mapping`` ``engine_out``, ``engine_x12``, ``engine_xml``, ``functions`` and
``spec``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

from pydantic import BaseModel, ValidationError

from gateway.errors import MappingError
from gateway.mapping.engine_out import CompiledOutbound, compile_outbound
from gateway.mapping.engine_x12 import Compiler, Group, Loc, compile_group
from gateway.model import Invoice, PurchaseOrder, PurchaseOrderAck, Remittance

if TYPE_CHECKING:
    from collections.abc import Callable

    from gateway.business import BusinessSettings
    from gateway.mapping.spec import MappingSpec, OutboundSpec
    from gateway.model import CanonicalDocument, Envelope

__all__ = [
    "DOCUMENTS",
    "CompiledMapping",
    "CompiledOutbound",
    "compile_outbound_spec",
    "compile_spec",
]

DOCUMENTS: Final[dict[str, type[BaseModel]]] = {
    "purchase_order": PurchaseOrder,
    "purchase_order_ack": PurchaseOrderAck,
    "invoice": Invoice,
    "remittance": Remittance,
}


class CompiledMapping:
    """A spec ready to map documents: built once, shared, never changed."""

    __slots__ = ("_build", "model", "spec")

    def __init__(
        self,
        spec: MappingSpec,
        model: type[BaseModel],
        build: Callable[[Any, Any], dict[str, object]],
    ) -> None:
        self.spec = spec
        self.model = model
        self._build = build

    def build(self, node: Any, parent: Any) -> dict[str, object]:
        """The fields the spec reads from ``node`` (a loop tree or an XML element), unvalidated."""
        return self._build(node, parent)

    def inbound(
        self, tree: Any, *, envelope: Envelope | None = None, **_: object
    ) -> CanonicalDocument:
        """Map one X12 set's loop tree (the validator's ``LoopNode``) to its document."""
        fields = self._build(tree, None)
        if envelope is not None:
            fields["envelope"] = envelope
        return finish(self.model, fields)  # type: ignore[return-value]


def finish(model: type[BaseModel], fields: dict[str, object]) -> BaseModel:
    """Validate the collected fields in one call; a model rule broken is a MappingError."""
    try:
        return model.model_validate(fields, strict=True)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = "".join(
            f"[{part}]" if isinstance(part, int) else f".{part}" for part in first["loc"]
        ).lstrip(".")
        count = exc.error_count()
        more = f" (and {count - 1} more)" if count > 1 else ""
        raise MappingError(
            f"{model.__name__} {where or '(document)'}: {first['msg']}{more}", path=where or None
        ) from exc


def compile_spec(
    spec: MappingSpec, business: BusinessSettings | None = None
) -> tuple[CompiledMapping | None, list[tuple[Loc, str]]]:
    """Compile ``spec``; returns the mapping, or None and every problem with its key path."""
    model = DOCUMENTS[spec.document]
    compiler = Compiler(spec.shapes, business)
    if spec.source.format == "xml":
        from gateway.mapping.engine_xml import compile_xml  # it builds on this module

        build = compile_xml(compiler, spec.fields, model, source=spec.source)
    else:
        group = Group()
        compile_group(compiler, spec.fields, model, ("fields",), group)
        build = group.finish()
    if compiler.problems:
        return None, compiler.problems
    return CompiledMapping(spec, model, build), []


def compile_outbound_spec(
    spec: OutboundSpec,
) -> tuple[CompiledOutbound | None, list[tuple[Loc, str]]]:
    """Compile an outbound spec against its document's model (see ``engine_out``)."""
    return compile_outbound(spec, DOCUMENTS[spec.document])
