"""Values of X12 elements for the engine: strip, required, default, transforms, errors.

:class:`Compiler` collects the problems of one spec and builds the element readers.

Imports only ``gateway.errors``, ``gateway.x12.reader`` and ``gateway.mapping.functions``
and ``spec``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeAlias, get_args

from pydantic import BaseModel  # issubclass at run time

from gateway.errors import MappingError
from gateway.mapping.functions import SpecProblem, TransformProblem, make
from gateway.mapping.spec import FieldSpec, Path, parse_path

if TYPE_CHECKING:
    from collections.abc import Callable

    from gateway.business import BusinessSettings
    from gateway.mapping.spec import FieldEntry
    from gateway.x12.reader import Segment

__all__ = ["Compiler", "Conv", "model_of"]

Loc = tuple[str | int, ...]
Problems = list[tuple[Loc, str]]

Conv: TypeAlias = "Callable[[str, Segment, int], object]"
_SP = " \t\r\n"


class Compiler:
    """Compiles the fields of one spec; collects problems instead of stopping."""

    def __init__(
        self, shapes: dict[str, dict[str, FieldEntry]], business: BusinessSettings | None
    ) -> None:
        self.shapes = shapes
        self.business = business
        self.problems: Problems = []

    def problem(self, loc: Loc, message: str) -> None:
        """Record a problem at ``loc`` (once: a shape used twice is compiled twice)."""
        if (loc, message) not in self.problems:
            self.problems.append((loc, message))

    def path(self, text: str, loc: Loc) -> Path | None:
        """Parse an X12 path, or record why it is bad."""
        try:
            return parse_path(text)
        except ValueError as exc:
            self.problem(loc, str(exc))
            return None

    def conv(self, spec: FieldSpec, name: str, loc: Loc, *, alone: bool = True) -> Conv:
        """The element reader: strip, empty → default (or required), then transforms."""
        chain = self.chain(spec, loc)
        # with several paths, emptiness is judged after all of them were tried
        required = bool(spec.required) and alone
        label = spec.label or name
        return _conv(chain, label, required=required, default=spec.default if alone else None)

    def chain(self, spec: FieldSpec, loc: Loc) -> list[Callable[[str], object]]:
        """The field's named transforms, in order; bad names or parameters are recorded."""
        chain: list[Callable[[str], object]] = []
        refs = spec.transform if isinstance(spec.transform, list) else [spec.transform]
        for i, ref in enumerate(r for r in refs if r is not None):
            where = (
                (*loc, "transform", i) if isinstance(spec.transform, list) else (*loc, "transform")
            )
            if isinstance(ref, str):
                tname, params = ref, None
            elif len(ref) == 1:
                tname, params = next(iter(ref.items()))
            else:
                self.problem(where, "expected one transform name with its parameters")
                continue
            try:
                chain.append(make(tname, params, self.business))
            except SpecProblem as exc:
                self.problem(where, str(exc))
        return chain


def _conv(
    chain: list[Callable[[str], object]], name: str, *, required: bool, default: object
) -> Conv:
    one = chain[0] if len(chain) == 1 else None

    def empty(seg: Segment, el: int) -> object:
        if required:
            raise _error(seg, el, name, "required, but empty or absent")
        return default

    if not chain:

        def plain(raw: str, seg: Segment, el: int) -> object:
            return raw.strip(_SP) or empty(seg, el)

        return plain
    if one is not None:

        def single(raw: str, seg: Segment, el: int) -> object:
            raw = raw.strip(_SP)
            if not raw:
                return empty(seg, el)
            try:
                value = one(raw)
            except TransformProblem as exc:
                raise _error(seg, el, name, str(exc)) from None
            return default if value is None else value

        return single

    def conv(raw: str, seg: Segment, el: int) -> object:
        raw = raw.strip(_SP)
        if not raw:
            return empty(seg, el)
        value: object = raw
        try:
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
