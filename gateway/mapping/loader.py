"""Load a mapping: its base spec, a partner override merged in, validated and compiled once.

Merge rules (override into base):

- mappings merge key by key, recursively; a scalar or a list in the override replaces
  the base's (a field's ``path`` list, an ``each`` list);
- a field named under ``fields:`` (at any depth) must exist in the base: adding one is
  written under ``add:``, which has the same shape and is merged without that check;
- ``remove:`` lists key paths to drop from the base, e.g. ``fields.terms``.

The merged result is validated and compiled as a whole; every problem is reported as
``file:line: key.path: message``, the line taken from the override when it wrote that
key and from the base otherwise. Compiled mappings are cached by base, override and
partner business settings.

Inbound specs load with :func:`load_mapping`; outbound ones (``direction: outbound``,
canonical document to X12) with :func:`load_outbound`, which returns a
:class:`~gateway.mapping.engine_out.CompiledOutbound`. Each refuses the other direction.

Imports only ``gateway.errors``, ``gateway.business``, ``gateway.yamlconfig`` and
``gateway.mapping`` ``engine`` and ``spec``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import ValidationError

from gateway.errors import ConfigError
from gateway.mapping.engine import (
    CompiledMapping,
    CompiledOutbound,
    compile_outbound_spec,
    compile_spec,
)
from gateway.mapping.spec import MappingSpec, OutboundSpec
from gateway.yamlconfig import Loc, YamlDocument, clean_loc, explain, key_path, read_yaml

if TYPE_CHECKING:
    from pathlib import Path

    from gateway.business import BusinessSettings

__all__ = ["load_mapping", "load_outbound", "merge"]

_CACHE: dict[tuple[str, str | None, int], CompiledMapping | CompiledOutbound] = {}


def merge(
    base: object, override: object, loc: Loc, problems: list[tuple[Loc, str]], *, add: bool = False
) -> object:
    """Deep-merge ``override`` into ``base`` (see the module docstring for the rules)."""
    if not isinstance(base, dict) or not isinstance(override, dict):
        return override
    out = dict(base)
    for key, value in override.items():
        if not add and loc and loc[-1] == "fields" and key not in base:
            known = ", ".join(str(k) for k in base)
            problems.append(
                (
                    (*loc, key),
                    f"field {key!r} is not in the base mapping (it has: {known}); "
                    "to add a field, write it under add:",
                )
            )
            continue
        out[key] = merge(base[key], value, (*loc, key), problems, add=add) if key in base else value
    return out


def _remove(data: dict[str, object], paths: object, problems: list[tuple[Loc, str]]) -> None:
    for i, text in enumerate(paths if isinstance(paths, list) else []):
        parts = str(text).split(".")
        node: object = data
        for part in parts[:-1]:
            node = node.get(part) if isinstance(node, dict) else None
        if not isinstance(node, dict) or parts[-1] not in node:
            problems.append((("remove", i), f"nothing at {text!r} in the base mapping to remove"))
        else:
            del node[parts[-1]]


def _render(loc: Loc, message: str, docs: list[YamlDocument]) -> str:
    """``file:line: key.path: message``, from the last document that writes ``loc``."""
    for doc in reversed(docs):
        for prefix in ((), ("add",)):
            _, node = doc.lookup((*prefix, *loc))
            if node is not None:
                return doc.problem((*prefix, *loc), message)
    return docs[0].problem(loc, message)


def load_mapping(
    mappings_dir: Path,
    base: str,
    *,
    override: Path | None = None,
    override_display: str | None = None,
    business: BusinessSettings | None = None,
) -> CompiledMapping:
    """The compiled inbound mapping ``base`` (``x12/850/004010``) with an optional override.

    Raises:
        ConfigError: every problem found, each with file, line and key path.
    """
    found = _load(mappings_dir, base, override, override_display, business, outbound=False)
    assert isinstance(found, CompiledMapping)  # _load checked the direction
    return found


def load_outbound(
    mappings_dir: Path,
    base: str,
    *,
    override: Path | None = None,
    override_display: str | None = None,
) -> CompiledOutbound:
    """The compiled outbound mapping ``base`` (``x12/810/out-004010``), same merge rules.

    Raises:
        ConfigError: every problem found, each with file, line and key path.
    """
    found = _load(mappings_dir, base, override, override_display, None, outbound=True)
    assert isinstance(found, CompiledOutbound)  # _load checked the direction
    return found


def _load(
    mappings_dir: Path,
    base: str,
    override: Path | None,
    override_display: str | None,
    business: BusinessSettings | None,
    *,
    outbound: bool,
) -> CompiledMapping | CompiledOutbound:
    key = (f"{mappings_dir}/{base}", str(override) if override else None, id(business))
    cached = _CACHE.get(key)
    if cached is not None and isinstance(cached, CompiledOutbound) == outbound:
        return cached
    docs = [read_yaml(mappings_dir / f"{base}.yaml", display=f"mappings/{base}.yaml")]
    data = docs[0].data
    problems: list[tuple[Loc, str]] = []
    if override is not None:
        docs.append(read_yaml(override, display=override_display or str(override)))
        extra = docs[1].data if isinstance(docs[1].data, dict) else {}
        changes = {k: v for k, v in extra.items() if k not in ("add", "remove")}
        if isinstance(data, dict):
            data = dict(data)
            _remove(data, extra.get("remove"), problems)
        data = merge(data, changes, (), problems)
        data = merge(data, extra.get("add") or {}, (), problems, add=True)
    compiled = _compile(data, business, problems, outbound=outbound)
    if problems or compiled is None:
        lines = [_render(loc, message, docs) for loc, message in problems]
        raise ConfigError(lines[0] if len(lines) == 1 else "\n".join(lines), problems=lines)
    _CACHE[key] = compiled
    return compiled


def _compile(
    data: object,
    business: BusinessSettings | None,
    problems: list[tuple[Loc, str]],
    *,
    outbound: bool,
) -> CompiledMapping | CompiledOutbound | None:
    """Validate the merged data as the spec it says it is, then compile it."""
    direction = data.get("direction", "inbound") if isinstance(data, dict) else "inbound"
    if (direction == "outbound") != outbound:
        wanted = "outbound" if outbound else "inbound"
        problems.append((("direction",), f"expected an {wanted} mapping, found {direction!r}"))
        return None
    schema: type[MappingSpec | OutboundSpec] = OutboundSpec if outbound else MappingSpec
    try:
        spec = schema.model_validate(data)
    except ValidationError as exc:
        for err in exc.errors():
            where, owner = clean_loc(schema, _untagged(tuple(err["loc"])))
            problems.append((where, explain(err, loc=where, owner=owner)))
        return None
    if isinstance(spec, OutboundSpec):
        outbound_compiled, found = compile_outbound_spec(spec)
        problems += found
        return outbound_compiled
    compiled, found = compile_spec(spec, business)
    problems += found
    return compiled


def _untagged(loc: tuple[int | str, ...]) -> tuple[int | str, ...]:
    """Drop the ``segment``/``loop`` tag pydantic puts after an outbound entry's index."""
    return tuple(
        part
        for i, part in enumerate(loc)
        if not (part in ("segment", "loop") and i and isinstance(loc[i - 1], int))
    )


def describe(loc: Loc) -> str:
    """A key path as messages print it (``fields.lines.fields.quantity``)."""
    return key_path(loc)
