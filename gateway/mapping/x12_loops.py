"""The 997/999 readers' walk over the validator's loop tree, and the final model check.

:func:`walk` visits every segment of a loop tree in file order, and :func:`build`
validates the finished document in one pydantic-core call. Business documents are
mapped by the declarative engine, which walks the tree itself.

Imports only ``gateway.errors`` and ``gateway.x12.reader``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol, TypeVar

from pydantic import BaseModel, ValidationError

from gateway.errors import MappingError
from gateway.x12.reader import Segment

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence

Fields = dict[str, object]
"""Canonical field name -> value, for one model (nested models as dicts or tuples of dicts)."""
M = TypeVar("M", bound=BaseModel)


class Loop(Protocol):
    """What the mappers need of the validator's loop tree: an id and ordered content."""

    @property
    def id(self) -> str:
        """The loop id (its first segment's tag for 810/820/850/855)."""
        ...

    @property
    def content(self) -> Sequence[Segment | Loop]:
        """Segments and child loops, in file order."""
        ...


# -- walking the tree -------------------------------------------------------------------


def walk(node: Loop) -> Iterator[Segment]:
    """Every segment under ``node``, depth first, in file order."""
    for child in node.content:
        if isinstance(child, Segment):
            yield child
        else:
            yield from walk(child)


# -- finishing a document ------------------------------------------------------------


def build(model: type[M], fields: Fields) -> M:
    """Validate a collected document; a model rule it breaks becomes a MappingError."""
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


def need(fields: Fields, name: str, ref: str, what: str) -> None:
    """Raise when a business-required value was never read (its segment is absent)."""
    if fields.get(name) is None:
        raise MappingError(f"{ref} ({what}) is required, but the segment is absent", path=ref)
