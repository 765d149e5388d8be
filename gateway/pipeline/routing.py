"""Which partner a document belongs to, and which mapping translates it.

An X12 interchange is matched to a partner by its ISA sender (qualifier and id);
a partner's profile names, per transaction set, the declarative mapping that
translates it (``mappings: {"850": {base: x12/850/004010, override: ...}}``).
Sets of partners without their own mapping use the base mapping for the set and
its GS08 version. XML needs its partner named, since it carries no ISA.

Outbound documents are written with the partner's ``out.810`` / ``out.855`` entry
when it has one (``{base: x12/810/out-005010, override: acme/810-out.yaml}``), else
with the base outbound mapping for the version written.

Must not import ``gateway.web``, ``gateway.cli`` or any adapter.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from gateway.errors import MappingError, UsageError
from gateway.mapping import (
    OUTBOUND_SETS,
    base_mapping_version,
    inbound_mapper,
    outbound_mapper,
)
from gateway.mapping.engine_xml import map_xml
from gateway.mapping.loader import load_mapping, load_outbound

if TYPE_CHECKING:
    from gateway.mapping import InboundMapper, OutboundMapper, OutboundSet
    from gateway.mapping.engine import CompiledMapping, CompiledOutbound
    from gateway.model import CanonicalDocument
    from gateway.partners import MappingRef, PartnerProfile, PartnerRegistry
    from gateway.settings import Settings
    from gateway.x12.envelope import TransactionSet


class PartnerMappings:
    """Resolves partners and their compiled mappings; compiled once, then shared."""

    def __init__(
        self, registry: PartnerRegistry, settings: Settings, *, partner: str | None = None
    ) -> None:
        self._registry = registry
        self._settings = settings
        self._forced = registry.by_id(partner) if partner is not None else None
        self._compiled: dict[tuple[str, str], CompiledMapping] = {}

    def partner_for(self, ts: TransactionSet) -> PartnerProfile | None:
        """The named partner, else the one whose ISA id sent this set's interchange."""
        if self._forced is not None:
            return self._forced
        inter = ts.group.interchange
        return self._registry.by_interchange(inter.sender_qualifier, inter.sender_id)

    def mapper_for(self, ts: TransactionSet) -> InboundMapper | None:
        """The partner's mapping for this set, else the base mapping for its version.

        None only for a set that has no mapping at all.
        """
        profile = self.partner_for(ts)
        ref = None
        if profile is not None:
            ref = profile.mappings.get(ts.code) or profile.mappings.get(f"x12.{ts.code}")
        if profile is None or ref is None:
            return inbound_mapper(
                ts.code, ts.group.version, mappings_dir=self._settings.mappings_dir
            )
        return self._load(profile, ref).inbound

    def outbound_for(self, document_type: str) -> OutboundMapper | None:
        """The named partner's outbound mapping for a document type, else the base one.

        None for a document type that is not sent as X12.

        Raises:
            ConfigError: the partner's outbound mapping does not load.
        """
        base = outbound_mapper(document_type, mappings_dir=self._settings.mappings_dir)
        profile = self._forced
        code = OUTBOUND_SETS.get(document_type)
        ref = profile.mappings.get(f"out.{code}") if profile is not None and code else None
        if base is None or profile is None or ref is None:
            return base
        compiled = self._load_outbound(profile, ref)

        written = compiled.spec.target.version

        def render(document: CanonicalDocument, *, version: str) -> OutboundSet:
            if base_mapping_version(version) != written:
                raise UsageError(
                    f"partner {profile.id}: mappings.out.{code} ({ref.base}) writes {written}, "
                    f"but version {version} was asked for"
                )
            return compiled.render(document)

        return render

    def translate_xml(self, data: bytes) -> CanonicalDocument:
        """Map an XML document with the named partner's XML mapping."""
        profile = self._forced
        if profile is None:
            raise UsageError(
                "an XML document carries no ISA sender: name its partner with --partner"
            )
        refs = [ref for ref in profile.mappings.values() if ref.base.startswith("xml/")]
        if not refs:
            raise MappingError(
                f"partner {profile.id} has no XML mapping: add one under `mappings:` "
                "in its profile (base: xml/...)"
            )
        failures: list[str] = []
        for ref in refs:
            try:
                return map_xml(
                    self._load(profile, ref), data, max_bytes=self._settings.max_document_bytes
                )
            except MappingError as exc:
                failures.append(f"{ref.base}: {exc}")
        raise MappingError("; ".join(failures))

    def _load_outbound(self, profile: PartnerProfile, ref: MappingRef) -> CompiledOutbound:
        override = self._registry.resolve(ref.override) if ref.override else None
        return load_outbound(
            self._settings.mappings_dir,
            ref.base,
            override=override,
            override_display=f"partners/{ref.override}" if ref.override else None,
        )

    def _load(self, profile: PartnerProfile, ref: MappingRef) -> CompiledMapping:
        key = (profile.id, f"{ref.base}+{ref.override}")
        compiled = self._compiled.get(key)
        if compiled is None:
            override = self._registry.resolve(ref.override) if ref.override else None
            compiled = load_mapping(
                self._settings.mappings_dir,
                ref.base,
                override=override,
                override_display=f"partners/{ref.override}" if ref.override else None,
                business=profile.business,
            )
            self._compiled[key] = compiled
        return compiled
