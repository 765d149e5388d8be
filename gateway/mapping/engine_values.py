"""Values of X12 elements for the engine: strip, required, default, transforms, errors.

Imports only ``gateway.errors``, ``gateway.x12.reader`` and ``gateway.mapping.functions``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeAlias, get_args

from pydantic import BaseModel  # issubclass at run time

from gateway.errors import MappingError
from gateway.mapping.functions import TransformProblem

if TYPE_CHECKING:
    from collections.abc import Callable

    from gateway.x12.reader import Segment

__all__ = ["Conv", "model_of"]

Conv: TypeAlias = "Callable[[str, Segment, int], object]"
_SP = " \t\r\n"


def _conv(
    chain: list[Callable[[str], object]], name: str, *, required: bool, default: object
) -> Conv:
    one = chain[0] if len(chain) == 1 else None

    def conv(raw: str, seg: Segment, el: int) -> object:
        raw = raw.strip(_SP)
        if not raw:
            if required:
                raise _error(seg, el, name, "required, but empty or absent")
            return default
        if not chain:
            return raw
        value: object = raw
        try:
            if one is not None:
                value = one(raw)
            else:
                for step in chain:
                    value = step(value)  # type: ignore[arg-type]
                    if value is None:
                        break
        except TransformProblem as exc:
            raise _error(seg, el, name, str(exc)) from None
        return default if value is None else value

    return conv


def _error(seg: Segment, el: int, name: str, problem: str) -> MappingError:
    ref = f"{seg.elements[0]}{el:02d}"
    return MappingError(f"{ref} ({name}) in segment {seg.number}: {problem}", path=ref)


def _element(seg: Segment, el: int, comp: int) -> str:
    els = seg.elements
    raw = els[el] if el < len(els) else ""
    if comp and raw:
        parts = raw.split(getattr(seg, "_dialect", ("*", ":"))[1] or ":")
        raw = parts[comp - 1] if comp <= len(parts) else ""
    return raw


def model_of(annotation: object) -> type[BaseModel] | None:
    """The model inside ``Party | None`` or ``tuple[Party, ...]``, or None for plain values."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in get_args(annotation):
        found = model_of(arg)
        if found is not None:
            return found
    return None
