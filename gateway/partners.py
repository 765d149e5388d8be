"""Trading-partner profiles (``partners/<id>.yaml``) and the read-only registry of them.

A :class:`PartnerProfile` says who a partner is (ISA and GS ids, cXML credentials),
how it speaks X12 (version per document type, acks, outbound delimiters), how
files move (one channel per direction), its business settings (terms, item
cross-reference, unit conversions, cash-application tolerances, DSO thresholds)
and which mappings translate its documents. Secrets are only named here
(``key_secret: ACME_SFTP_KEY``); :meth:`Settings.secret` resolves them.

:class:`PartnerRegistry` loads every profile at start-up, collects every problem
across all files, each as ``file:line: key.path: message``, and raises one
:class:`ConfigError`. Paths inside a profile are relative to the partners directory.

The sections live in :mod:`gateway.interchange` (identity, X12),
:mod:`gateway.channels` and :mod:`gateway.business`. Imports only the standard
library, pydantic, ``gateway.errors``, those section modules and
:mod:`gateway.yamlconfig`. Loading reads files: call it at start-up or in a thread.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Final, Protocol

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from gateway.business import BusinessSettings, ItemXref, read_xref_csv
from gateway.channels import As2Channel, Channels, HttpChannel, SftpHostedChannel
from gateway.errors import ConfigError, UsageError
from gateway.interchange import Identity, X12Settings
from gateway.yamlconfig import RelativePath, YamlDocument, matches, read_yaml, validate

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from pydantic import SecretStr

    from gateway.yamlconfig import Loc

__all__ = ["MappingRef", "PartnerProfile", "PartnerRegistry", "SecretSource", "scaffold"]

_CONFIG = ConfigDict(frozen=True, extra="forbid")
PartnerId = Annotated[
    str,
    matches(
        r"[a-z0-9][a-z0-9-]{0,30}[a-z0-9]",
        "a partner id: 2 to 32 lowercase letters, digits and '-', e.g. 'acme-retail'",
    ),
]
MappingName = Annotated[
    str,
    matches(r"[a-z0-9_]+(?:/[A-Za-z0-9_.-]+)*", "a mapping name such as x12/850/004010"),
]
DocumentKey = Annotated[
    str,
    matches(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}", "a document name such as 850 or cxml.order"),
]


class MappingRef(BaseModel):
    """Which mapping translates a document: a base spec and an optional partner override."""

    model_config = _CONFIG

    base: MappingName
    """A spec under the mappings directory, without ``.yaml``: ``x12/850/004010``."""
    override: RelativePath | None = None
    """A partner override, relative to the partners directory: ``acme/850.yaml``."""


class PartnerProfile(BaseModel):
    """Everything the gateway knows about one trading partner (``partners/<id>.yaml``)."""

    model_config = _CONFIG

    id: PartnerId
    display_name: str = Field(min_length=1, max_length=120)
    active: bool = True
    identity: Identity = Identity()
    x12: X12Settings | None = None
    channels: Channels = Channels()
    business: BusinessSettings = BusinessSettings()
    mappings: dict[DocumentKey, MappingRef] = Field(default_factory=dict)
    samples: RelativePath | None = None
    """Sample documents ``o2c partners check`` runs; default ``<id>/samples`` when present."""

    def secret_refs(self) -> tuple[tuple[Loc, str], ...]:
        """Every secret the profile names, with where it is named (``*_secret`` keys)."""
        return tuple(_secret_refs(self, ()))


def _secret_refs(model: BaseModel, loc: Loc) -> Iterator[tuple[Loc, str]]:
    for name, info in type(model).model_fields.items():
        key, value = info.alias or name, getattr(model, name)
        if name.endswith("_secret") and isinstance(value, str):
            yield (*loc, key), value
        elif name.endswith("_secrets"):
            yield from (((*loc, key, i), v) for i, v in enumerate(value))
        elif isinstance(value, BaseModel):
            yield from _secret_refs(value, (*loc, key))


class SecretSource(Protocol):
    """Anything that resolves a secret name (``Settings`` does)."""

    def secret(self, name: str) -> SecretStr:
        """Return the secret's value; raise ConfigError when it is not set."""
        ...


@dataclass(frozen=True, slots=True)
class _Entry:
    profile: PartnerProfile
    path: Path
    doc: YamlDocument


class PartnerRegistry:
    """Every partner profile, by id, by ISA qualifier and id, and by cXML credential."""

    def __init__(self, entries: list[_Entry], partners_dir: Path) -> None:
        self._dir = partners_dir
        self._entries = {e.profile.id: e for e in entries}
        self._by_isa = {key: e.profile for e in entries for _, key in _isa_keys(e.profile)}
        self._by_cxml = {
            (c.domain.lower(), c.identity.lower()): e.profile
            for e in entries
            for c in e.profile.identity.cxml
        }

    @classmethod
    def load(cls, partners_dir: Path) -> PartnerRegistry:
        """Load and check every ``*.yaml`` profile in ``partners_dir``.

        Raises:
            ConfigError: with one entry in ``problems`` per problem, over all files.
        """
        if not partners_dir.is_dir():
            raise ConfigError(f"partners directory not found: {partners_dir} (O2C_PARTNERS_DIR)")
        entries: list[_Entry] = []
        problems: list[str] = []
        for path in sorted(partners_dir.iterdir()):
            if path.name.startswith(".") or not path.is_file():
                continue
            display = f"{partners_dir.name}/{path.name}"
            if path.suffix == ".yml":
                problems.append(f"{display}: not read: partner profiles end in .yaml")
            if path.suffix != ".yaml":
                continue
            entry, found = _load_one(path, partners_dir, display)
            problems += found
            if entry is not None:
                entries.append(entry)
        problems += _duplicates(entries)
        if problems:
            count = f"{len(problems)} problem" + ("" if len(problems) == 1 else "s")
            message = f"partner profiles in {partners_dir} have {count}:\n" + "\n".join(
                f"  {p}" for p in problems
            )
            raise ConfigError(message, problems=problems)
        return cls(entries, partners_dir)

    def all(self) -> tuple[PartnerProfile, ...]:
        """Every profile, ordered by id."""
        return tuple(self._entries[key].profile for key in sorted(self._entries))

    def __contains__(self, partner_id: object) -> bool:
        return partner_id in self._entries

    def by_id(self, partner_id: str) -> PartnerProfile:
        """The profile with this id.

        Raises:
            ConfigError: no profile has this id; the message lists the known ids.
        """
        entry = self._entries.get(partner_id)
        if entry is None:
            known = ", ".join(sorted(self._entries)) or "none"
            raise ConfigError(f"no partner profile with id {partner_id!r} (known: {known})")
        return entry.profile

    def by_interchange(self, qualifier: str, isa_id: str) -> PartnerProfile | None:
        """The partner with this ISA sender qualifier and id (padding and case ignored)."""
        return self._by_isa.get((qualifier.strip().upper(), isa_id.strip().upper()))

    def by_cxml(self, domain: str, identity: str) -> PartnerProfile | None:
        """The partner with this cXML ``From`` credential (case ignored)."""
        return self._by_cxml.get((domain.strip().lower(), identity.strip().lower()))

    def path_of(self, partner_id: str) -> Path:
        """The profile file of a partner."""
        self.by_id(partner_id)
        return self._entries[partner_id].path

    def resolve(self, relative: str) -> Path:
        """A path written in a profile, resolved against the partners directory."""
        return self._dir / relative

    def samples_dir(self, partner_id: str) -> Path | None:
        """The partner's samples directory: ``samples`` if set, else ``<id>/samples`` if present."""
        profile = self.by_id(partner_id)
        if profile.samples is not None:
            return self.resolve(profile.samples)
        default = self._dir / profile.id / "samples"
        return default if default.is_dir() else None

    def check_secrets(self, secrets: SecretSource) -> list[str]:
        """One problem per secret a profile names that is not set (names only, never values)."""
        problems: list[str] = []
        for key in sorted(self._entries):
            entry = self._entries[key]
            for loc, name in entry.profile.secret_refs():
                try:
                    secrets.secret(name)
                except ConfigError as exc:
                    problems.append(entry.doc.problem(loc, str(exc)))
        return problems


def _isa_keys(profile: PartnerProfile) -> list[tuple[int, tuple[str, str]]]:
    return [
        (i, (x.qualifier.upper(), x.id.strip().upper())) for i, x in enumerate(profile.identity.isa)
    ]


def _load_one(path: Path, root: Path, display: str) -> tuple[_Entry | None, list[str]]:
    try:
        doc = read_yaml(path, display=display)
    except ConfigError as exc:
        return None, exc.problems
    profile, problems = validate(PartnerProfile, doc, what="a partner profile (`o2c partners new`)")
    if profile is None:
        return None, problems
    checks = sorted(_checks(profile, path, root), key=lambda check: doc.lookup(check[0])[0])
    problems = [doc.problem(loc, message) for loc, message in checks]
    csv = profile.business.item_xref.csv
    if csv is not None:
        rows, found = read_xref_csv(root / csv, display=f"{root.name}/{csv}")
        loc: Loc = ("business", "item_xref", "csv")
        problems += [p if p.startswith(f"{root.name}/") else doc.problem(loc, p) for p in found]
        xref = ItemXref.model_construct(csv=csv, items=rows)  # fresh: no stale lookup cache
        business = profile.business.model_copy(update={"item_xref": xref})
        profile = profile.model_copy(update={"business": business})
    return _Entry(profile, path, doc), problems


def _checks(profile: PartnerProfile, path: Path, root: Path) -> list[tuple[Loc, str]]:
    """Rules that span sections of one profile, or need the file system."""
    out: list[tuple[Loc, str]] = []
    if profile.id != path.stem:
        out.append((("id",), f"expected {path.stem!r} (the file name), found {profile.id!r}"))
    documents = profile.x12.documents() if profile.x12 else {}
    listed = ", ".join(f"x12.{d}" for d in documents)
    if documents and not profile.identity.isa:
        out.append((("identity", "isa"), f"required because {listed} is set: the ISA ids"))
    if documents and not profile.identity.gs_ids:
        out.append((("identity", "gs_ids"), f"required because {listed} is set: GS02 codes"))
    for set_id, document in documents.items():
        if document.functional_ack == "999" and document.version == "004010":
            why = f"a 999 needs version 005010, and x12.{set_id}.version is '004010'"
            out.append((("x12", set_id, "functional_ack"), f"expected '997' or 'none': {why}"))
        if set_id not in profile.mappings:
            hint = f"e.g. {set_id}: {{base: x12/{set_id}/{document.version}}}"
            out.append((("mappings", set_id), f"required because x12.{set_id} is set, {hint}"))
    out += [(("channels", *loc), message) for loc, message in profile.channels.gaps()]
    for direction in ("inbound", "outbound"):
        channel = getattr(profile.channels, direction)
        if isinstance(channel, As2Channel):
            out += _pem_check(root, channel.partner_certificate, direction)
    if profile.samples is not None and not (root / profile.samples).is_dir():
        out.append((("samples",), f"directory not found: {root.name}/{profile.samples}"))
    return out


def _pem_check(root: Path, relative: str, direction: str) -> list[tuple[Loc, str]]:
    loc: Loc = ("channels", direction, "partner_certificate")
    path = root / relative
    if not path.is_file():
        return [(loc, f"file not found: {root.name}/{relative}")]
    head = path.read_bytes()[:4096]
    if b"-----BEGIN CERTIFICATE-----" not in head:
        return [(loc, f"expected a PEM certificate (-----BEGIN CERTIFICATE-----) in {relative}")]
    return []


def _duplicates(entries: list[_Entry]) -> list[str]:
    """Identifiers two profiles claim: each must lead to exactly one partner."""
    problems: list[str] = []
    seen: dict[tuple[str, str], tuple[_Entry, Loc]] = {}
    for entry in entries:
        for key, loc, what in _claims(entry.profile):
            other, other_loc = seen.setdefault(key, (entry, loc))
            if other is not entry:
                where = f"{other.doc.display}:{other.doc.lookup(other_loc)[0]}"
                used = f"is already used by partner {other.profile.id!r} ({where})"
                problems.append(entry.doc.problem(loc, f"{what} {used}"))
    return problems


def _claims(profile: PartnerProfile) -> Iterator[tuple[tuple[str, str], Loc, str]]:
    """ISA ids, cXML credentials, hosted SFTP user names and inbound API key names."""
    for i, key in _isa_keys(profile):
        yield key, ("identity", "isa", i), f"ISA qualifier {key[0]!r} and id {key[1]!r}"
    for i, c in enumerate(profile.identity.cxml):
        key = (f"cxml:{c.domain.lower()}", c.identity.lower())
        yield key, ("identity", "cxml", i), f"cXML credential {c.domain!r} {c.identity!r}"
    for direction in ("inbound", "outbound"):
        channel = getattr(profile.channels, direction)
        if isinstance(channel, SftpHostedChannel):
            where: Loc = ("channels", direction, "username")
            yield ("sftp", channel.username), where, f"SFTP user name {channel.username!r}"
        if isinstance(channel, HttpChannel) and direction == "inbound":
            for i, name in enumerate(channel.api_key_secrets):
                where = ("channels", direction, "api_key_secrets", i)
                yield ("api_key", name), where, f"API key {name!r}"


def scaffold(partner_id: str) -> str:
    """A commented profile for a new partner, ready to edit; it loads as written.

    Raises:
        UsageError: ``partner_id`` is not a valid partner id.
    """
    try:
        PartnerProfile.model_validate({"id": partner_id, "display_name": partner_id})
    except ValidationError as exc:
        raise UsageError(
            f"{partner_id!r} is not a valid partner id: expected 2 to 32 lowercase "
            "letters, digits and '-', starting and ending with a letter or digit"
        ) from exc
    isa_id = "".join(ch for ch in partner_id.upper() if ch.isalnum())[:15]
    secret = partner_id.upper().replace("-", "_")
    return _TEMPLATE.format(id=partner_id, isa_id=isa_id.ljust(2, "X"), secret=secret)


_TEMPLATE: Final = """\
# Partner profile for {id}; the profiles beside this one are worked examples.
# `o2c partners check {id}` checks it and runs the samples in {id}/samples/.
# Secrets never go here: name them (*_secret: NAME) and set O2C_SECRET_<NAME>
# or put a file named NAME in the secrets directory.
id: {id}                      # must match the file name
display_name: "{id}"
active: false                 # set to true once `o2c partners check {id}` passes

identity:
  isa:                        # ISA05/ISA06 the partner sends; quote them: "01" is not 1
    - {{qualifier: "ZZ", id: "{isa_id}"}}
  gs_ids: ["{isa_id}"]        # GS02 application codes the partner sends
  usage: {{inbound: T, outbound: T}}   # ISA15: T while testing, P in production

x12:
  delimiters: {{element: "*", component: ">", repetition: "^", segment: "~", newline: true}}
  ta1: false                  # true: send a TA1 for every interchange received
  duplicate_window_days: 30   # refuse a repeated ISA13 within this many days
  "850": {{version: "004010", functional_ack: "997"}}   # orders in, we send a 997
  "810": {{version: "004010", functional_ack: "997"}}   # invoices out, they send a 997
  # "855": {{version: "004010", ack_type: AD}}          # order acks out (AC, AD or AK)

channels:
  inbound:
    kind: folder              # or sftp_hosted, sftp_poll, http, as2
    path: inbound/{id}        # relative to the data directory
  outbound:
    kind: folder
    path: outbound/{id}
  # inbound:
  #   kind: sftp_poll
  #   host: sftp.example.com
  #   username: o2c
  #   key_secret: {secret}_SFTP_KEY
  #   remote_inbound_path: /outbound
  #   after_download: move
  #   move_to: /outbound/archive

business:
  currency: USD
  payment_terms: {{terms_type: "01", net_days: 30, description: "NET 30"}}
  item_xref:
    items: []                 # or csv: {id}/items.csv with sku, partner_part, upc columns
  uom: []                     # e.g. {{partner_uom: CA, our_uom: EA, factor: 12}}
  cash: {{amount_tolerance: 0.00, discount_grace_days: 0, allow_amount_only: false}}
  dso: {{warn_days: 45, alert_days: 60}}

mappings:
  "850": {{base: x12/850/004010}}
  "810": {{base: x12/810/004010}}
"""
