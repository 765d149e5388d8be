"""The X12 mappers' walk over the validator's loop tree, and the final model check.

Inbound, each segment has one reader (in :mod:`gateway.mapping.x12_read` and the
document modules) that turns its elements into a dict of canonical field names;
:func:`collect` walks one loop once and files each reader's result by a table of rules,
and :func:`build` validates the finished document in one pydantic-core call (faster
than one model call per party, line and product id).

Imports only ``gateway.errors`` and ``gateway.x12.reader``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Literal, Protocol, TypeVar

from pydantic import BaseModel, ValidationError

from gateway.errors import MappingError
from gateway.x12.reader import Segment

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

Mode = Literal["merge", "first", "append", "extend"]
"""How :func:`collect` files a reader's result: merge a dict (first value wins), set a
field once, append to a list, or extend a list."""
SegmentRule = tuple[str, Callable[[Segment], object], Mode]
LoopRule = tuple[str, Callable[["Loop"], object], Mode]


def collect(
    node: Loop, segments: Mapping[str, SegmentRule], loops: Mapping[str, LoopRule] | None = None
) -> Fields:
    """Walk ``node``'s content once and file each reader's result by the rule for its tag.

    Content with no rule is skipped; readers that return None add nothing. Lists become
    tuples at the end.
    """
    return collect_content(node.content, segments, loops)


def collect_content(
    content: Iterable[Segment | Loop],
    segments: Mapping[str, SegmentRule],
    loops: Mapping[str, LoopRule] | None = None,
) -> Fields:
    """:func:`collect` over some of a loop's content (what a hand-written reader left)."""
    fields: Fields = {}
    lists: dict[str, list[object]] = {}
    for child in content:
        if isinstance(child, Segment):
            rule = segments.get(child.elements[0])
            if rule is None:
                continue
            name, read, mode = rule
            value = read(child)
        else:
            if loops is None or (loop_rule := loops.get(child.id)) is None:
                continue
            name, read_loop, mode = loop_rule
            value = read_loop(child)
        if value is None:
            continue
        if mode == "append":
            if name in lists:
                lists[name].append(value)
            else:
                lists[name] = [value]
        elif mode == "merge":  # no typing.cast here: this is the hot path
            if not fields:
                fields = value  # type: ignore[assignment]  # readers return fresh dicts
            else:
                fields.update({k: v for k, v in value.items() if k not in fields})  # type: ignore[attr-defined]
        elif mode == "extend":
            lists.setdefault(name, []).extend(value)  # type: ignore[arg-type]
        elif name not in fields:
            fields[name] = value
    for name, items in lists.items():
        fields[name] = tuple(items)
    return fields


def opening(reader: Callable[[Segment], object]) -> Callable[[Loop], object]:
    """Apply a segment reader to a loop's first segment (PID loop -> PID)."""

    def read(loop: Loop) -> object:
        first = loop.content[0] if loop.content else None
        return reader(first) if isinstance(first, Segment) else None

    return read


def walk(node: Loop) -> Iterator[Segment]:
    """Every segment under ``node``, depth first, in file order."""
    for child in node.content:
        if isinstance(child, Segment):
            yield child
        else:
            yield from walk(child)


def select(node: Loop, tag: str, qualifier: str | None = None) -> list[Segment | Loop]:
    """Direct children of ``node`` with this tag or loop id, and element 01 == ``qualifier``.

    For a loop, the qualifier is read from its first segment ("the N1 loops whose N101
    is ST"); for a segment, from itself ("REF whose REF01 is DP").
    """
    found: list[Segment | Loop] = []
    for child in node.content:
        if isinstance(child, Segment):
            head: Segment | None = child if child.elements[0] == tag else None
        elif child.id == tag and child.content and isinstance(child.content[0], Segment):
            head = child.content[0]
        else:
            head = None
        if head is not None and (qualifier is None or head.get(1).strip() == qualifier):
            found.append(child)
    return found


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


def joined(fields: Fields, name: str) -> None:
    """Join the texts collected under ``name`` (several PIDs) with one space."""
    parts = fields.get(name)
    if parts is not None:
        fields[name] = parts[0] if len(parts) == 1 else " ".join(parts)  # type: ignore[index, arg-type]
