"""Implementation-guide rules per transaction set and version, compiled from YAML data.

The data lives in ``gateway/x12/guides/<release>/`` (package data, found through
``importlib.resources``): ``elements.yaml`` (data element dictionary),
``segments.yaml`` (composites and segments) and one ``<set>.yaml`` structure per
transaction set; :mod:`gateway.x12.guide_spec` describes the files.
:func:`load_guide` reads them once with a safe YAML loader, validates them and
compiles them into tuples and dicts (per segment its element rules and a fast-path
tuple, per loop a jump table from tag to child). Nothing re-reads YAML per document.

Imports only ``gateway.errors`` and ``gateway.x12`` modules.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from functools import cache
from importlib.resources import files
from typing import TYPE_CHECKING

import yaml
from pydantic import ValidationError

from gateway.errors import ConfigError
from gateway.x12.elements import (
    BINARY,
    COMPOSITE,
    FastRule,
    SyntaxNote,
    fast_rule,
    kind_of,
    parse_note,
)
from gateway.x12.guide_spec import (
    CompositeSpec,
    DictionarySpec,
    ElementSpec,
    ElementUseSpec,
    LoopNodeSpec,
    SegmentNodeSpec,
    SetSpec,
)

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

RELEASES = ("004010", "005010")
UNBOUNDED = sys.maxsize
Move = tuple[int, int, bool, int, "SegmentDef", "LoopDef | None"]
"""Where a tag leads: (loops to leave, child to take, whether a mandatory child may be
skipped, the child's max use, its segment definition, the loop it opens or None)."""


@dataclass(frozen=True, slots=True)
class ElementRule:
    """One element position (or one component) compiled for checking.

    ``reference`` is the data element number (``"373"``); a composite's rule has
    kind ``COMPOSITE``, its id as reference and its component rules.
    """

    position: int
    reference: str
    mandatory: bool
    kind: int
    minimum: int
    maximum: int
    codes: frozenset[str] | None
    repeat: int = 1
    components: tuple[ElementRule, ...] = ()
    notes: tuple[SyntaxNote, ...] = ()


@dataclass(frozen=True, slots=True, eq=False)
class SegmentDef:
    """A segment's compiled rules; ``mandatory`` is the bit mask of mandatory positions.

    ``fast`` holds the fast-path rule of each element position (01 first).

    ``verdicts`` is the validator's cache: for a bit mask of the positions present,
    whether the mandatory elements and the syntax notes are all satisfied.
    """

    tag: str
    name: str
    rules: tuple[ElementRule, ...]
    notes: tuple[SyntaxNote, ...]
    mandatory: int
    fast: tuple[FastRule, ...]
    verdicts: dict[int, bool] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, eq=False)
class SegmentUse:
    """A segment at one place in a structure."""

    tag: str
    position: str | None
    mandatory: bool
    max_use: int
    definition: SegmentDef


@dataclass(frozen=True, slots=True, eq=False)
class LoopDef:
    """A loop compiled for matching; its first child is the segment that opens an iteration.

    ``jump[i]`` maps a tag to the first child ``>= i`` that takes it (a segment,
    or a loop it opens; a loop's ``jump[0]`` leaves out its opener, whose second
    occurrence starts the next iteration). ``required`` lists the mandatory
    children after the first, ``next_required[i]`` the first of them ``>= i``
    (or ``len(children)``). ``moves[i]`` is the validator's cache of where a tag
    leads from child ``i``.
    """

    id: str
    mandatory: bool
    max_use: int
    children: tuple[SegmentUse | LoopDef, ...]
    jump: tuple[dict[str, int], ...]
    required: tuple[int, ...]
    next_required: tuple[int, ...]
    opener: SegmentUse
    moves: tuple[dict[str, Move], ...]


@dataclass(frozen=True, slots=True, eq=False)
class Guide:
    """One transaction set in one release: its structure and the release's segment dictionary.

    ``root`` is the set itself (the loop ST opens). ``used`` holds the tags the
    set uses and ``segments`` every segment of the release, which tells an
    unknown segment (AK304 1) from another set's (6). ``repetitions`` says
    whether the release has a repetition separator (ISA11, 004020 on).
    """

    transaction_set: str
    version: str
    name: str
    functional_group: str
    root: LoopDef
    segments: Mapping[str, SegmentDef]
    used: frozenset[str]
    repetitions: bool


def base_version(version: str) -> str | None:
    """The base release of a GS08 value (``004010VICS`` -> ``004010``), or None if unsupported."""
    base = version.strip()[:6]
    return base if base in RELEASES else None


def load_guide(transaction_set: str, version: str) -> Guide | None:
    """The guide for ``transaction_set`` under GS08 ``version``, or None when there is none.

    Raises:
        ConfigError: the guide data is invalid; ``problems`` lists every finding.
    """
    base = base_version(version)
    code = transaction_set.strip()
    if base is None or not code.isdigit():
        return None
    return _load_set(code, base)


def preload() -> tuple[Guide, ...]:
    """Load and compile every guide now, at start-up, so that no document pays for it.

    Raises:
        ConfigError: some guide data is invalid.
    """
    return tuple(g for code, base in available_guides() if (g := _load_set(code, base)))


def available_guides() -> tuple[tuple[str, str], ...]:
    """Every (transaction set, release) pair that has a guide file."""
    found = []
    for base in RELEASES:
        for entry in (files("gateway.x12") / "guides" / base).iterdir():
            stem, _, ext = entry.name.partition(".")
            if ext == "yaml" and stem.isdigit():
                found.append((stem, base))
    return tuple(sorted(found))


# libyaml's safe loader: yaml.safe_load's documents, six times faster, where libyaml exists
_SAFE_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _read(base: str, name: str) -> object:
    resource = files("gateway.x12") / "guides" / base / name
    return yaml.load(resource.read_text(encoding="utf-8"), Loader=_SAFE_LOADER)  # noqa: S506, TID251 - a safe loader


def _invalid(where: str, exc: ValidationError) -> ConfigError:
    problems = [f"{where}: {'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()]
    return ConfigError(f"invalid guide data in {where}", problems=problems)


@cache
def _dictionary(base: str) -> dict[str, SegmentDef]:
    where = f"guides/{base}"
    try:
        raw = _read(base, "elements.yaml")
        if not isinstance(raw, dict):
            raise ConfigError(f"{where}/elements.yaml must map element numbers to definitions")
        elements = {str(k): ElementSpec.model_validate(v) for k, v in raw.items()}
        dictionary = DictionarySpec.model_validate(_read(base, "segments.yaml"))
    except ValidationError as exc:
        raise _invalid(where, exc) from exc
    problems: list[str] = []
    for ref, spec in elements.items():
        if spec.min > spec.max or any(not spec.min <= len(c) <= spec.max for c in spec.codes or ()):
            problems.append(f"{where}/elements.yaml: {ref}: min, max and codes disagree")
    segments = {}
    for tag, seg in dictionary.segments.items():
        rules = tuple(
            _rule(i, use, elements, dictionary.composites, problems, f"{tag}{i:02d}")
            for i, use in enumerate(seg.elements, 1)
        )
        notes = _notes(seg.syntax, len(rules), problems, f"{where}/segments.yaml: {tag}")
        fast = tuple(fast_rule(r.kind, r.minimum, r.maximum, r.position, r.codes) for r in rules)
        mandatory = sum(1 << r.position for r in rules if r.mandatory)
        segments[tag] = SegmentDef(tag, seg.name, rules, notes, mandatory, fast)
    if problems:
        raise ConfigError(f"invalid guide data in {where}", problems=problems)
    return segments


def _rule(
    position: int,
    use: ElementUseSpec,
    elements: Mapping[str, ElementSpec],
    composites: Mapping[str, CompositeSpec],
    problems: list[str],
    where: str,
) -> ElementRule:
    """Compile one element position; problems are appended, never raised."""
    mandatory = use.usage == "M"
    if use.composite is not None:
        comp = composites.get(use.composite)
        if comp is None:
            problems.append(f"{where}: composite {use.composite} is not defined")
            return ElementRule(position, use.composite, mandatory, COMPOSITE, 0, 0, None)
        parts = tuple(
            _simple(i, c.ref, c.usage == "M", elements, problems, f"{where}-{i}")
            for i, c in enumerate(comp.components, 1)
        )
        notes = _notes(comp.syntax, len(parts), problems, f"{where} ({use.composite})")
        return ElementRule(
            position, use.composite, mandatory, COMPOSITE, 0, 0, None, use.repeat, parts, notes
        )
    ref = use.ref or ""
    rule = _simple(position, ref, mandatory, elements, problems, where)
    return ElementRule(
        position, ref, mandatory, rule.kind, rule.minimum, rule.maximum, rule.codes, use.repeat
    )


def _simple(
    position: int,
    ref: str,
    mandatory: bool,
    elements: Mapping[str, ElementSpec],
    problems: list[str],
    where: str,
) -> ElementRule:
    spec = elements.get(ref)
    if spec is None:
        problems.append(f"{where}: element {ref} is not in elements.yaml")
        return ElementRule(position, ref, mandatory, BINARY, 0, 0, None)
    codes = frozenset(spec.codes) if spec.codes else None
    kind = kind_of(spec.type, coded=codes is not None)
    return ElementRule(position, ref, mandatory, kind, spec.min, spec.max, codes)


def _notes(
    texts: Sequence[str], count: int, problems: list[str], where: str
) -> tuple[SyntaxNote, ...]:
    notes = []
    for text in texts:
        note = parse_note(text)
        if note is None or max(note.positions) > count:
            problems.append(f"{where}: syntax note {text!r} is malformed or out of range")
        else:
            notes.append(note)
    return tuple(notes)


@cache
def _load_set(transaction_set: str, base: str) -> Guide | None:
    name = f"{transaction_set}.yaml"
    if not (files("gateway.x12") / "guides" / base / name).is_file():
        return None
    where = f"guides/{base}/{name}"
    try:
        spec = SetSpec.model_validate(_read(base, name))
    except ValidationError as exc:
        raise _invalid(where, exc) from exc
    if (spec.transaction_set, spec.version) != (transaction_set, base):
        raise ConfigError(f"{where} declares {spec.transaction_set} {spec.version}")
    return compile_guide(spec, _dictionary(base), where=where)


def compile_guide(spec: SetSpec, segments: Mapping[str, SegmentDef], *, where: str) -> Guide:
    """Compile one set's structure against its release's segment dictionary.

    Raises:
        ConfigError: listing every problem (undefined segments, duplicate loop ids ...).
    """
    problems: list[str] = []
    used: set[str] = set()
    root_spec = LoopNodeSpec(loop="ST", usage="M", max=1, children=spec.structure)
    root = _loop(root_spec, segments, used, problems, "structure", root=True)
    tags = [c.tag if isinstance(c, SegmentUse) else "" for c in root.children]
    if tags[0] != "ST" or tags[-1] != "SE":
        problems.append("structure must begin with ST and end with SE")
    if problems:
        raise ConfigError(f"invalid guide {where}", problems=[f"{where}: {p}" for p in problems])
    return Guide(
        transaction_set=spec.transaction_set,
        version=spec.version,
        name=spec.name,
        functional_group=spec.functional_group,
        root=root,
        segments=segments,
        used=frozenset(used),
        repetitions=spec.version >= "004020",
    )


def _loop(
    spec: LoopNodeSpec,
    segments: Mapping[str, SegmentDef],
    used: set[str],
    problems: list[str],
    where: str,
    *,
    root: bool = False,
) -> LoopDef:
    children: list[SegmentUse | LoopDef] = []
    seen: set[str] = set()
    for child in spec.children:
        if isinstance(child, LoopNodeSpec):
            if child.loop in seen:
                problems.append(f"{where}: loop id {child.loop} is used twice")
            seen.add(child.loop)
            children.append(_loop(child, segments, used, problems, f"{where}/{child.loop}"))
        else:
            children.append(_segment(child, segments, used, problems, where))
    opener = children[0]
    if not isinstance(opener, SegmentUse) or opener.max_use != 1:
        problems.append(f"{where}: a loop must begin with a segment used once per iteration")
        opener = SegmentUse("", None, True, 1, _EMPTY)
    tags = [c.tag if isinstance(c, SegmentUse) else c.opener.tag for c in children]
    jump: list[dict[str, int]] = []
    ahead: dict[str, int] = {}
    for i in range(len(tags) - 1, -1, -1):
        ahead = {**ahead, tags[i]: i}
        jump.append(ahead)
    jump.reverse()
    if not root:  # a second opener starts the next iteration (found in the parent)
        jump[0] = jump[1] if len(jump) > 1 else {}
    required = tuple(i for i, c in enumerate(children) if i and c.mandatory)
    next_required = tuple(
        min((r for r in required if r >= i), default=len(children))
        for i in range(len(children) + 1)
    )
    max_use = UNBOUNDED if spec.max == ">1" else spec.max
    return LoopDef(
        id=spec.loop,
        mandatory=spec.usage == "M",
        max_use=max_use,
        children=tuple(children),
        jump=tuple(jump),
        required=required,
        next_required=next_required,
        opener=opener,
        moves=tuple({} for _ in children),
    )


def _segment(
    spec: SegmentNodeSpec,
    segments: Mapping[str, SegmentDef],
    used: set[str],
    problems: list[str],
    where: str,
) -> SegmentUse:
    definition = segments.get(spec.segment)
    if definition is None:
        problems.append(f"{where}: segment {spec.segment} is not in segments.yaml")
        definition = _EMPTY
    used.add(spec.segment)
    max_use = UNBOUNDED if spec.max == ">1" else spec.max
    return SegmentUse(spec.segment, spec.pos, spec.usage == "M", max_use, definition)


_EMPTY = SegmentDef("", "", (), (), 0, ())
