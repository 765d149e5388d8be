"""Which partner a document belongs to, and which mapping translates it.

An X12 interchange is matched to a partner by its ISA sender (qualifier and id);
a partner's profile names, per transaction set, the declarative mapping that
translates it (``mappings: {"850": {base: x12/850/004010, override: ...}}``).
Sets of partners without their own mapping use the built-in mappers. XML needs
its partner named, since it carries no ISA.

Must not import ``gateway.web``, ``gateway.cli`` or any adapter.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from gateway.errors import MappingError, UsageError
from gateway.mapping.engine_xml import map_xml
from gateway.mapping.loader import load_mapping

if TYPE_CHECKING:
    from gateway.mapping import InboundMapper
    from gateway.mapping.engine import CompiledMapping
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
        """The partner's declarative mapping for this set, or None for the built-in one."""
        profile = self.partner_for(ts)
        if profile is None:
            return None
        ref = profile.mappings.get(ts.code) or profile.mappings.get(f"x12.{ts.code}")
        if ref is None:
            return None
        return self._load(profile, ref).inbound

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
