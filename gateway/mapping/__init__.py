"""Mappings between X12 and the canonical model, found through a registry.

Business documents are mapped by the declarative engine from the base mapping files:
:func:`inbound_mapper` gives the mapper for a received transaction set (by ST01 and
GS08): ``mappings/x12/<set>/<version>.yaml`` compiled once. It is called as
``mapper(tree, delimiters=..., envelope=...)`` with the validator's loop tree and
returns the canonical document, or raises ``MappingError`` naming the element
(``BEG03``) when a business-required value is missing or unreadable. 997 and 999 are
protocol acknowledgments, not business documents: their readers are hand-written
(:mod:`gateway.mapping.x12_acks`).

:func:`outbound_mapper` gives the mapper for a canonical document type to send
(``mappings/x12/<set>/out-<version>.yaml``); it is called as
``mapper(document, version="004010")`` and returns an ``OutboundSet``: the body
segments (no ST/SE), the transaction set id and the GS01 functional id.

A partner's own mapping (base plus override) is picked in
:mod:`gateway.pipeline.routing`; these are the bases everyone else gets.

Imports only ``gateway.errors``, ``gateway.model``, ``gateway.settings`` and
``gateway.mapping`` modules.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Final

from gateway.mapping import x12_acks
from gateway.mapping.loader import load_mapping, load_outbound
from gateway.mapping.x12_loops import Loop
from gateway.mapping.x12_write import OutboundSet
from gateway.model import CanonicalDocument
from gateway.settings import Settings

if TYPE_CHECKING:
    from pathlib import Path

__all__ = [
    "BASE_VERSIONS",
    "DEFAULT_MAPPINGS_DIR",
    "INBOUND_SETS",
    "OUTBOUND_SETS",
    "InboundMapper",
    "Loop",
    "OutboundMapper",
    "OutboundSet",
    "base_mapping_version",
    "has_base_mapping",
    "inbound_mapper",
    "outbound_mapper",
]

InboundMapper = Callable[..., CanonicalDocument]
"""``mapper(tree, *, delimiters, envelope) -> CanonicalDocument``."""
OutboundMapper = Callable[..., OutboundSet]
"""``mapper(document, *, version) -> OutboundSet``."""

DEFAULT_MAPPINGS_DIR: Final[Path] = Settings.model_fields["mappings_dir"].default
"""Where the base mappings are when the caller names no directory (``Settings``' default)."""
BASE_VERSIONS: Final = ("004010", "005010")
"""The versions every base mapping is written for."""
INBOUND_SETS: Final = frozenset({"850", "810", "820", "855"})
"""Transaction sets mapped by a base mapping file."""
OUTBOUND_SETS: Final[dict[str, str]] = {"invoice": "810", "purchase_order_ack": "855"}
"""The transaction set each outbound canonical document type is written as."""
ACK_READERS: Final[dict[str, InboundMapper]] = {
    "997": x12_acks.functional_ack_997,
    "999": x12_acks.functional_ack_999,
}


def base_mapping_version(version: str) -> str:
    """The base mapping version for a GS08 value: ``005010`` from release 005 on, else ``004010``.

    GS08 starts with the release (``004010VICS``, ``005010X222A1``). A release that has
    no base mapping of its own gets the nearest one: 004xxx (and older) map as 004010,
    005xxx and newer as 005010. The validator has accepted or refused the version
    before any mapping runs; this choice only says which file maps what it accepted.
    """
    return BASE_VERSIONS[1] if version.strip()[:3] >= "005" else BASE_VERSIONS[0]


def has_base_mapping(code: str) -> bool:
    """True when transaction set ``code`` has a base mapping (or an ack reader)."""
    return code in INBOUND_SETS or code in ACK_READERS


def inbound_mapper(
    code: str, version: str = "004010", *, mappings_dir: Path | None = None
) -> InboundMapper | None:
    """The mapper for transaction set ``code`` (ST01, e.g. ``850``) under GS08 ``version``.

    None for a set this gateway does not map.

    Raises:
        ConfigError: the base mapping file is missing or invalid.
    """
    reader = ACK_READERS.get(code)
    if reader is not None:
        return reader
    if code not in INBOUND_SETS:
        return None
    base = f"x12/{code}/{base_mapping_version(version)}"
    return load_mapping(mappings_dir or DEFAULT_MAPPINGS_DIR, base).inbound


def outbound_mapper(
    document_type: str, *, mappings_dir: Path | None = None
) -> OutboundMapper | None:
    """The mapper for a canonical document ``type`` (``invoice``, ``purchase_order_ack``).

    The returned mapper picks ``x12/<set>/out-<version>`` by the ``version`` it is given.
    """
    code = OUTBOUND_SETS.get(document_type)
    if code is None:
        return None
    where = mappings_dir or DEFAULT_MAPPINGS_DIR

    def render(document: CanonicalDocument, *, version: str) -> OutboundSet:
        base = f"x12/{code}/out-{base_mapping_version(version)}"
        return load_outbound(where, base).render(document)

    return render
