"""The schema of a mapping file (``mappings/**.yaml``): :class:`MappingSpec`.

A spec says, for one document type, format and version, where each canonical field
comes from. ``fields`` is keyed by the canonical field name; each value is a path
(``BEG03``) or a mapping with the options of :class:`FieldSpec`. Lists and nested
objects are fields too: ``each`` names what to repeat over, ``fields`` what each item
holds. ``shapes`` are named groups of fields used in several places (a party).

X12 path grammar (checked here, so a bad one is reported with its file and line)::

    path     := ["^"] step ("/" step)* element?     ^ = the enclosing loop
    step     := TAG [" loop"] ["[" TAGnn "=" value ("|" value)* "]"]
    element  := nn ["-" n]       element position, optional composite component
    e.g.  BEG03   REF[REF01=DP].02   N1 loop[N101=ST]   PER04   SAC05   +1 (pair item)

In XML specs, ``path`` and ``each`` are XPath 1.0 expressions, compiled at load.

An outbound spec (:class:`OutboundSpec`, ``direction: outbound``) goes the other way:
an ordered list of segments and loops whose elements are field paths of the model
(``address.city``, ``^.uom``), constants, pairs and named formatters; see
``mappings/x12/810/out-004010.yaml``.

Imports only the standard library, pydantic and ``gateway.yamlconfig``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag

from gateway.yamlconfig import matches

__all__ = [
    "ElementEntry",
    "ElementSpec",
    "FieldEntry",
    "FieldSpec",
    "LoopEntry",
    "MappingSpec",
    "OutboundSpec",
    "Path",
    "SegmentEntry",
    "Source",
    "Step",
    "Target",
    "parse_path",
]

_CONFIG = ConfigDict(frozen=True, extra="forbid")

_STEP = r"[A-Z][A-Z0-9]{1,2}(?: loop)?(?:\[[A-Z][A-Z0-9]{1,2}\d\d=[^\]|]+(?:\|[^\]|]+)*\])?"
_X12_PATH = re.compile(
    rf"(?P<up>\^)?(?P<steps>{_STEP}(?:/{_STEP})*?)(?:\.?(?P<el>\d\d)(?:-(?P<comp>\d))?)?"
    r"|\+(?P<rel>\d)"
)
_STEP_PARTS = re.compile(
    r"(?P<tag>[A-Z][A-Z0-9]{1,2}?)(?P<loop> loop)?(?:\[(?P<ctag>[A-Z][A-Z0-9]{1,2}?)"
    r"(?P<cel>\d\d)=(?P<values>[^\]]+)\])?(?P<el>\d\d)?"
)

Scalar = str | int | bool | None
X12Path = Annotated[str, Field(min_length=1)]


@dataclass(frozen=True, slots=True)
class Step:
    """One step of a path: a segment tag or loop id, and an optional qualifier condition."""

    tag: str
    loop: bool
    condition: tuple[int, frozenset[str]] | None  # (element position, accepted values)


@dataclass(frozen=True, slots=True)
class Path:
    """A parsed X12 path: steps, element (0: the segment or loop itself), component."""

    steps: tuple[Step, ...]
    element: int
    component: int  # 0: the whole element
    up: bool = False
    relative: int | None = None  # ``+n``: the n-th element of a repeated pair


def parse_path(text: str) -> Path:
    """Parse an X12 path; ValueError (turned into a config problem) says what was expected."""
    match = _X12_PATH.fullmatch(text.strip())
    if match is None:
        raise ValueError(
            f"bad path {text!r}: expected e.g. BEG03, REF[REF01=DP].02, N1 loop[N101=ST] or +1"
        )
    if match["rel"] is not None:
        return Path((), 0, 0, relative=int(match["rel"]))
    steps_text = match["steps"].split("/")
    steps: list[Step] = []
    element = int(match["el"]) if match["el"] else 0
    for i, part in enumerate(steps_text):
        sm = _STEP_PARTS.fullmatch(part)
        if sm is None:  # pragma: no cover - the outer pattern already accepted it
            raise ValueError(f"bad path step {part!r}")
        tag = sm["tag"]
        if sm["el"] and i == len(steps_text) - 1 and not match["el"]:
            element = int(sm["el"])
        condition = None
        if sm["ctag"]:
            if sm["ctag"] != tag:
                raise ValueError(
                    f"bad path {text!r}: the condition must test an element of {tag}, "
                    f"found {sm['ctag']}{sm['cel']}"
                )
            condition = (int(sm["cel"]), frozenset(sm["values"].split("|")))
        steps.append(Step(tag, bool(sm["loop"]), condition))
    return Path(tuple(steps), element, int(match["comp"] or 0), up=bool(match["up"]))


TransformName = Annotated[
    str, matches(r"[a-z][a-z0-9_]*", "a transform name such as x12_date or decimal")
]
TransformRef = TransformName | dict[TransformName, dict[str, object] | None]
"""``x12_date``, or ``{implied_decimal: {places: 2}}``."""


class Repeat(BaseModel):
    """Items from repeated element groups of one segment (PO106/PO107, PO108/PO109 ...)."""

    model_config = _CONFIG

    start: int = Field(alias="from", ge=1, le=99)
    """The element where the first group starts (PO1: 6)."""
    step: int = Field(default=2, ge=1, le=10)
    """How many elements each group takes."""


class FieldSpec(BaseModel):
    """Where one canonical field comes from, and how its value is read."""

    model_config = _CONFIG

    path: X12Path | list[X12Path] | None = None
    """Where the value is; with a list, the first one that has a value."""
    transform: TransformRef | list[TransformRef] | None = None
    """Named transforms from mapping/functions.py, applied in order."""
    required: bool | Literal["always"] = False
    """true: its segment, when present, must carry a value; always: the value must be there."""
    default: Scalar = None
    """The value when the element is empty or absent."""
    label: str | None = None
    """What error messages call the value (``quantity ordered``); the field name by default."""
    constant: Scalar = None
    """A fixed value; no path."""
    each: str | list[str] | None = None
    """Makes the field a list: one item per segment or loop named here, in file order."""
    first: bool = False
    """With ``each``: a single object, from the first item only."""
    fields: dict[str, FieldEntry] | None = None
    """The fields of each item (or of a nested object when there is no ``each``)."""
    use: str | None = None
    """Take ``fields`` from a shape in ``shapes`` (a party, an address)."""
    values: list[X12Path] | None = None
    """With ``each``: a list of plain values, these elements of every item."""
    join: str | None = None
    """Join the list of values into one text with this separator (PIDs into a description)."""
    repeat: Repeat | None = None
    """With ``each``: items are element groups of each segment (product id pairs)."""
    skip_empty: list[str] = Field(default_factory=list)
    """With ``each``: leave out items where any of these fields is empty."""
    when: X12Path | None = None
    """A nested object exists only when this segment is present (``ITD``); without it, only
    when one of its values is set."""
    qualified: list[X12Path] | None = None
    """The value follows the first of these elements that holds ``code`` (PER03/05/07)."""
    code: str | None = None


FieldEntry = X12Path | FieldSpec
"""A path, or a field mapping."""


class Source(BaseModel):
    """What a spec reads: X12 (set and version) or XML (namespaces for its XPaths)."""

    model_config = _CONFIG

    format: Literal["x12", "xml"]
    transaction_set: (
        Annotated[str, matches(r"\d{3}", "a transaction set id such as 850")] | None
    ) = None
    version: Annotated[str, matches(r"\d{6}", "a version such as 004010")] | None = None
    root: str | None = None
    """XML: the XPath of the document element the spec maps (``/cXML/Request/OrderRequest``)."""
    namespaces: dict[str, str] = Field(default_factory=dict)


class MappingSpec(BaseModel):
    """One mapping file after partner overrides are merged into it."""

    model_config = _CONFIG

    document: Literal["purchase_order", "purchase_order_ack", "invoice", "remittance"]
    source: Source
    description: str | None = None
    shapes: dict[str, dict[str, FieldEntry]] = Field(default_factory=dict)
    """Groups of fields used in several places, by name."""
    fields: dict[str, FieldEntry]


# -- outbound: the canonical document to X12 segments ------------------------------------

FieldPath = Annotated[
    str,
    matches(
        r"\.|(\^\.)*[a-z0-9_]+(\.[a-z0-9_]+)*",
        "a field path such as po_number, address.city, ^.uom or .",
    ),
]
"""Dotted field names from the current item; ``^.`` steps out to the enclosing item,
a number picks an item of a chunk, ``.`` is the item itself."""


class ElementSpec(BaseModel):
    """One element written from a field, a constant, or repeated pairs."""

    model_config = _CONFIG

    field: FieldPath | None = None
    transform: TransformRef | None = None
    """An outbound formatter (x12_date, decimal, cents, integer, count ...)."""
    required: bool = False
    """The value must be there (SDQ01 needs the line's unit)."""
    constant: str | None = None
    pairs: FieldPath | None = None
    """Qualifier/value pairs, one pair per item of this list (IT106/IT107 ...)."""
    of: list[ElementEntry] | None = None
    """With ``pairs``: the elements of each pair, read from its item."""
    qualified: dict[str, FieldPath] | None = None
    """Code/value pairs for the fields that are set, in this order (PER03-PER08)."""


ElementEntry = FieldPath | ElementSpec | None
"""A field path, an element mapping, or null for an element left empty."""
ElementSpec.model_rebuild()


class SegmentEntry(BaseModel):
    """One segment, written once, when its field is set, or once per item of a list."""

    model_config = _CONFIG

    segment: Annotated[str, matches(r"[A-Z][A-Z0-9]{1,2}", "a segment id such as BIG")]
    elements: list[ElementEntry] = Field(default_factory=list)
    each: FieldPath | None = None
    """One segment per item of this list."""
    when: FieldPath | list[FieldPath] | None = None
    """Written only when one of these fields is set (not None, not empty)."""
    chunk: int | None = Field(default=None, ge=1, le=99)
    """With ``each``: items in groups of this size (N3: two address lines each)."""
    chunk_by: FieldPath | None = None
    """With ``chunk``: a new group also where this field of the items changes."""
    split: str | None = None
    """With ``each`` on a text: split at spaces to fit this element (PID05) in the version."""


class LoopEntry(BaseModel):
    """Several segments repeated together per item of a list (N1 loop, IT1 loop)."""

    model_config = _CONFIG

    loop: Annotated[str, matches(r"[A-Z][A-Z0-9]{1,2}", "a loop id such as N1")]
    each: FieldPath
    segments: list[Entry]


def _entry_kind(value: object) -> str:
    """A loop is an entry with ``loop:``; anything else is read as a segment."""
    if isinstance(value, dict):
        return "loop" if "loop" in value else "segment"
    return "loop" if isinstance(value, LoopEntry) else "segment"


Entry = Annotated[
    Annotated[SegmentEntry, Tag("segment")] | Annotated[LoopEntry, Tag("loop")],
    Discriminator(_entry_kind),
]
"""A segment or a loop; told apart by the ``loop:`` key, so errors name only one."""
LoopEntry.model_rebuild()


class Target(BaseModel):
    """What an outbound spec writes: the X12 set, its GS01 functional id and version."""

    model_config = _CONFIG

    format: Literal["x12"]
    transaction_set: Annotated[str, matches(r"\d{3}", "a transaction set id such as 810")]
    functional_id: Annotated[str, matches(r"[A-Z]{2}", "a functional id such as IN")]
    version: Annotated[str, matches(r"\d{6}", "a version such as 004010")]


class OutboundSpec(BaseModel):
    """An outbound mapping file: the body segments (no ST/SE) of one set, in order."""

    model_config = _CONFIG

    direction: Literal["outbound"]
    document: Literal["purchase_order", "purchase_order_ack", "invoice", "remittance"]
    target: Target
    description: str | None = None
    segments: list[Entry]
