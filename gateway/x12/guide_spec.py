"""The pydantic schema of the implementation-guide YAML files in ``gateway/x12/guides/``.

``elements.yaml`` maps element numbers to :class:`ElementSpec`, ``segments.yaml``
is a :class:`DictionarySpec` and each ``<set>.yaml`` a :class:`SetSpec`. These
models only describe the files; :mod:`gateway.x12.guides` compiles them.

Imports only ``gateway.x12.elements``.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from gateway.x12.elements import TYPE_PATTERN

_STRICT = ConfigDict(extra="forbid", frozen=True)
Usage = Literal["M", "O", "X"]
MaxUse = Annotated[int, Field(ge=1)] | Literal[">1"]


class ElementSpec(BaseModel):
    """One data element of ``elements.yaml``."""

    model_config = _STRICT
    name: str
    type: Annotated[str, Field(pattern=TYPE_PATTERN)]
    min: Annotated[int, Field(ge=1)]
    max: Annotated[int, Field(ge=1)]
    codes: tuple[str, ...] | None = None


class ComponentSpec(BaseModel):
    """One component of a composite."""

    model_config = _STRICT
    ref: str
    usage: Usage


class CompositeSpec(BaseModel):
    """One composite data structure (``C040``)."""

    model_config = _STRICT
    name: str
    components: Annotated[tuple[ComponentSpec, ...], Field(min_length=1)]
    syntax: tuple[str, ...] = ()


class ElementUseSpec(BaseModel):
    """One element position of a segment: a simple element or a composite."""

    model_config = _STRICT
    ref: str | None = None
    composite: str | None = None
    usage: Usage
    repeat: Annotated[int, Field(ge=1)] = 1

    @model_validator(mode="after")
    def _one_kind(self) -> ElementUseSpec:
        if (self.ref is None) == (self.composite is None):
            raise ValueError("give exactly one of ref and composite")
        return self


class SegmentSpec(BaseModel):
    """One segment of ``segments.yaml``."""

    model_config = _STRICT
    name: str
    elements: Annotated[tuple[ElementUseSpec, ...], Field(min_length=1)]
    syntax: tuple[str, ...] = ()


class DictionarySpec(BaseModel):
    """``segments.yaml``: the composites and segments of one release."""

    model_config = _STRICT
    composites: dict[str, CompositeSpec]
    segments: dict[str, SegmentSpec]


class SegmentNodeSpec(BaseModel):
    """A segment in a transaction set structure."""

    model_config = _STRICT
    segment: str
    pos: str | None = None
    usage: Literal["M", "O"]
    max: MaxUse


class LoopNodeSpec(BaseModel):
    """A loop in a transaction set structure; its first child opens each iteration."""

    model_config = _STRICT
    loop: str
    usage: Literal["M", "O"]
    max: MaxUse
    children: Annotated[tuple[SegmentNodeSpec | LoopNodeSpec, ...], Field(min_length=1)]


class SetSpec(BaseModel):
    """One ``<set>.yaml``: a transaction set's structure in one release."""

    model_config = _STRICT
    transaction_set: Annotated[str, Field(pattern=r"^[0-9]{3}$")]
    version: str
    name: str
    functional_group: Annotated[str, Field(pattern=r"^[A-Z]{2}$")]
    structure: Annotated[tuple[SegmentNodeSpec | LoopNodeSpec, ...], Field(min_length=2)]
