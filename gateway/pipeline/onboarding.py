"""Check a partner before it goes live: profile, secrets, samples, an outbound document.

``o2c partners check`` prints what :func:`check_partner` finds. Every problem is
one line naming the file (and line, or segment) and what was expected.

Must not import ``gateway.web``, ``gateway.cli`` or any adapter.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from gateway.errors import ConfigError, DocumentError, GatewayError
from gateway.mapping.engine import CompiledMapping
from gateway.mapping.engine_xml import map_xml
from gateway.mapping.loader import load_mapping, load_outbound
from gateway.model import parse_document
from gateway.partners import PartnerRegistry
from gateway.pipeline.outbound import render
from gateway.pipeline.process import InterchangeResult, SetResult, settle, translate
from gateway.pipeline.routing import PartnerMappings
from gateway.ports import EXPIRY_WARNING_DAYS, load_adapters
from gateway.x12.control import MemoryControlNumbers
from gateway.x12.reader import Delimiters

if TYPE_CHECKING:
    from gateway.mapping.engine import CompiledOutbound
    from gateway.partners import MappingRef, PartnerProfile
    from gateway.settings import Settings

X12_SUFFIXES = {".x12", ".edi", ".txt", ".850", ".810", ".820", ".855"}


@dataclass
class CheckReport:
    """What ``partners check`` found: ``checked`` says what was looked at."""

    partner_id: str
    problems: list[str] = field(default_factory=list)
    checked: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when nothing is wrong."""
        return not self.problems


def load_registry(target: str, settings: Settings) -> tuple[PartnerRegistry | None, str, list[str]]:
    """Load the registry that holds ``target`` (a partner id or a profile path).

    Returns the registry (None when it does not load), the partner id, and the
    problems that concern that partner's file.
    """
    path = Path(target)
    if path.suffix in (".yaml", ".yml") or path.is_file():
        partners_dir, partner_id = path.parent, path.stem
    else:
        partners_dir, partner_id = settings.partners_dir, target
    try:
        return PartnerRegistry.load(partners_dir), partner_id, []
    except ConfigError as exc:
        mine = [p for p in exc.problems if f"/{partner_id}." in p or f"{partner_id}/" in p]
        return None, partner_id, mine or exc.problems


def check_partner(
    target: str, settings: Settings, samples: list[Path] | None = None
) -> CheckReport:
    """Validate a profile, its secrets and samples, and render an 810 from its sample invoice."""
    registry, partner_id, problems = load_registry(target, settings)
    report = CheckReport(partner_id, problems=problems)
    if registry is None:
        return report
    try:
        profile = registry.by_id(partner_id)
    except ConfigError as exc:
        report.problems.append(str(exc))
        return report
    display = f"{registry.path_of(partner_id).parent.name}/{registry.path_of(partner_id).name}"
    report.checked.append(f"profile {display}")
    mine = f"{display}:"
    report.problems += [p for p in registry.check_secrets(settings) if p.startswith(mine)]
    report.checked.append(f"{len(profile.secret_refs())} secret reference(s)")
    for cert in load_adapters().expiring(registry, settings, EXPIRY_WARNING_DAYS):
        if cert.partner_id == partner_id:
            report.problems.append(f"{display}: {cert.description}")
    for key, ref in sorted(profile.mappings.items()):
        report.checked.append(
            f"mapping {key}: {ref.base}" + (f" + {ref.override}" if ref.override else "")
        )
        try:
            _mapping(key, ref, profile, registry, settings)
        except ConfigError as exc:
            report.problems += exc.problems
    files = list(samples or [])
    folder = registry.samples_dir(partner_id)
    if folder is not None and folder.is_dir():
        files += sorted(p for p in folder.iterdir() if p.is_file())
    for sample in files:
        report.checked.append(f"sample {sample}")
        report.problems += _check_sample(sample, profile, settings, registry)
    return report


def _mapping(
    key: str,
    ref: MappingRef,
    profile: PartnerProfile,
    registry: PartnerRegistry,
    settings: Settings,
) -> CompiledMapping | CompiledOutbound:
    """Load one mapping the profile names; ``out.810``-style keys are outbound mappings."""
    override = registry.resolve(ref.override) if ref.override else None
    display = f"partners/{ref.override}" if ref.override else None
    if key.startswith("out."):
        return load_outbound(
            settings.mappings_dir, ref.base, override=override, override_display=display
        )
    return load_mapping(
        settings.mappings_dir,
        ref.base,
        override=override,
        override_display=display,
        business=profile.business,
    )


def _check_sample(
    path: Path, profile: PartnerProfile, settings: Settings, registry: PartnerRegistry
) -> list[str]:
    try:
        data = path.read_bytes()
    except OSError as exc:
        return [f"{path}: cannot read: {exc.strerror or exc}"]
    routes = PartnerMappings(registry, settings, partner=profile.id)
    if path.suffix.lower() == ".json":
        return _check_invoice(path, data, profile, settings, routes)
    if path.suffix.lower() in X12_SUFFIXES or data.lstrip()[:3] == b"ISA":
        return _check_x12(path, data, profile, routes)
    if data.lstrip()[:1] == b"<":
        return _check_xml(path, data, profile, settings, registry)
    return [f"{path}: not checked: neither X12, XML nor a canonical JSON document"]


def _check_xml(
    path: Path, data: bytes, profile: PartnerProfile, settings: Settings, registry: PartnerRegistry
) -> list[str]:
    refs = [(k, ref) for k, ref in profile.mappings.items() if ref.base.startswith("xml/")]
    if not refs:
        return [f"{path}: an XML sample, but the profile's mappings name no xml/ mapping"]
    problems: list[str] = []
    for key, ref in refs:
        try:
            mapping = _mapping(key, ref, profile, registry, settings)
            assert isinstance(mapping, CompiledMapping)  # xml/ bases are inbound mappings
            map_xml(mapping, data, max_bytes=settings.max_document_bytes)
        except ConfigError:
            continue  # already reported with the profile's mappings
        except GatewayError as exc:
            problems.append(f"{path}: {ref.base}: {exc}")
    return problems


def _check_x12(
    path: Path, data: bytes, profile: PartnerProfile, routes: PartnerMappings
) -> list[str]:
    problems: list[str] = []
    ours = {(i.qualifier.strip().upper(), i.id.strip().upper()) for i in profile.identity.isa}
    sets = 0
    try:
        results = list(settle(translate(data, mapper_for=routes.mapper_for)))
    except ConfigError:
        return []  # the mapping itself is broken: reported with the profile's mappings
    for item in results:
        if isinstance(item, SetResult):
            sets += 1
            for err in item.errors:
                where = err.position.describe() if isinstance(err, DocumentError) else "mapping"
                problems.append(f"{path}: set {item.transaction_set.control}: {where}: {err}")
        elif isinstance(item, InterchangeResult):
            inter = item.interchange
            problems += [f"{path}: {e.position.describe()}: {e.message}" for e in inter.errors]
            sender = (inter.sender_qualifier.upper(), inter.sender_id.upper())
            if inter.readable and sender not in ours:
                problems.append(
                    f"{path}: ISA sender {sender[0]}:{sender[1]} is not one of the partner's "
                    f"identities ({', '.join(f'{q}:{i}' for q, i in sorted(ours))})"
                )
    if sets == 0 and not problems:
        problems.append(f"{path}: no transaction set found")
    return problems


def _check_invoice(
    path: Path, data: bytes, profile: PartnerProfile, settings: Settings, routes: PartnerMappings
) -> list[str]:
    if not profile.identity.isa:
        return [f"{path}: the profile has no ISA identity to send an 810 to"]
    partner = profile.identity.isa[0]
    x12 = profile.x12
    if x12 is None:
        return [f"{path}: the profile has no x12 section: no 810 can be sent to this partner"]
    version = x12.invoice.version if x12.invoice is not None else "004010"
    d = x12.delimiters
    delimiters = Delimiters(
        element=d.element,
        component=d.component,
        repetition=d.repetition if version >= "005010" else None,
        segment=d.segment,
        suffix="\n" if d.newline else "",
    )
    try:
        document = parse_document(data)
        written = render(
            document,
            mapper=routes.outbound_for(document.type),
            mappings_dir=settings.mappings_dir,
            sender=(settings.our_isa_qualifier, settings.our_isa_id),
            receiver=(partner.qualifier, partner.id),
            control_numbers=MemoryControlNumbers(),
            now=dt.datetime.now(dt.UTC),
            version=version,
            delimiters=delimiters,
        )
    except GatewayError as exc:
        return [f"{path}: cannot render: {exc}"]
    problems = []
    for item in translate(written.data, mappings_dir=settings.mappings_dir):
        if isinstance(item, SetResult) and item.errors:
            problems += [
                f"{path}: rendered {item.transaction_set.code} fails: {e}" for e in item.errors
            ]
    return problems
