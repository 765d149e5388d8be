"""Partner profiles: the shipped examples load, and each broken config gives one precise problem."""

from __future__ import annotations

import base64
import os
import textwrap
from decimal import Decimal
from typing import TYPE_CHECKING

import pytest

from gateway.channels import As2Channel, HttpChannel, SftpHostedChannel, SftpPollChannel
from gateway.errors import ConfigError, UsageError
from gateway.model import Invoice, parse_document
from gateway.partners import PartnerProfile, PartnerRegistry, scaffold
from gateway.settings import Settings
from gateway.x12.envelope import GroupEnd, InterchangeEnd, TransactionSet, read_envelopes
from gateway.x12.reader import X12Reader
from gateway.xmldocs import compile_xpath, parse_xml, xpath_nodes, xpath_text

if TYPE_CHECKING:
    from pathlib import Path

EXAMPLES = ("acme-procure", "bigbox", "globex", "initech", "northwind")
ED25519 = (
    "ssh-ed25519 "
    + base64.b64encode(b"\x00\x00\x00\x0bssh-ed25519\x00\x00\x00\x20" + bytes(range(32))).decode()
    + " edi@partner.example"
)

MINIMAL = """\
id: acme
display_name: Acme Retail
identity:
  isa:
    - {qualifier: "ZZ", id: "ACMERETAIL"}
  gs_ids: ["ACMERETAIL"]
x12:
  "850":
    version: "004010"
channels:
  inbound:
    kind: folder
    path: inbound/acme
mappings:
  "850": {base: x12/850/004010}
"""


@pytest.fixture
def examples_dir(pytestconfig: pytest.Config) -> Path:
    return pytestconfig.rootpath / "partners"


@pytest.fixture
def examples(examples_dir: Path) -> PartnerRegistry:
    return PartnerRegistry.load(examples_dir)


@pytest.fixture
def partners(tmp_path: Path) -> Path:
    folder = tmp_path / "partners"
    folder.mkdir()
    return folder


@pytest.fixture(autouse=True)
def _no_secrets_from_the_shell(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in list(os.environ):
        if key.upper().startswith(("O2C_SECRET", "O2C_SECRETS_DIR")):
            monkeypatch.delenv(key)


def _write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(textwrap.dedent(text))
    return path


def _problems(folder: Path) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        PartnerRegistry.load(folder)
    return caught.value.problems


def _line_of(text: str, needle: str) -> int:
    """1-based line of the first line containing ``needle``."""
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


# -- the shipped examples ------------------------------------------------------------------


def test_every_example_profile_loads(examples: PartnerRegistry) -> None:
    assert [p.id for p in examples.all()] == list(EXAMPLES)
    assert all(p.active for p in examples.all())


def test_examples_cover_every_channel_kind(examples: PartnerRegistry) -> None:
    kinds = {
        channel.kind
        for profile in examples.all()
        for channel in (profile.channels.inbound, profile.channels.outbound)
        if channel is not None
    }
    assert kinds == {"sftp_hosted", "sftp_poll", "http", "as2", "folder"}


def test_lookups(examples: PartnerRegistry) -> None:
    def found(registry_hit: PartnerProfile | None) -> str | None:
        return registry_hit.id if registry_hit is not None else None

    assert found(examples.by_interchange("12", "5555550100     ")) == "bigbox"
    assert found(examples.by_interchange("ZZ", "NORTHWINDDIST")) == "northwind"
    assert found(examples.by_interchange("zz", "initechap")) == "initech"
    assert examples.by_interchange("ZZ", "UNKNOWN") is None
    assert found(examples.by_cxml("NetworkID", "ACME-PROCURE")) == "acme-procure"
    assert examples.by_id("globex").display_name == "Globex Corporation"
    assert "globex" in examples
    with pytest.raises(ConfigError, match=r"no partner profile with id 'nope' \(known: acme"):
        examples.by_id("nope")


def test_retailer_profile(examples: PartnerRegistry) -> None:
    bigbox = examples.by_id("bigbox")
    assert bigbox.x12 is not None
    assert bigbox.x12.documents().keys() == {"850", "810"}
    assert bigbox.x12.documents()["850"].version == "004010"
    assert bigbox.x12.delimiters.component == ">"
    terms = bigbox.business.payment_terms
    assert terms is not None
    assert (terms.discount_percent, terms.discount_days, terms.net_days) == (Decimal(2), 10, 30)
    xref = bigbox.business.item_xref
    assert len(xref.items) == 3  # loaded from bigbox/items.csv
    assert xref.sku_for(partner_part="88812040") == "SKILLET-10-CI"
    assert xref.sku_for(upc="081234500108") == "MUG-16-SS"
    assert xref.sku_for(upc="000000000000") is None
    assert bigbox.business.convert_uom(Decimal(12), "CA", sku="MUG-16-SS") == (Decimal(72), "EA")
    assert bigbox.business.convert_uom(Decimal(3), "CA", sku="OTHER") == (Decimal(3), "CA")
    assert isinstance(bigbox.channels.inbound, As2Channel)


def test_distributor_profile(examples: PartnerRegistry) -> None:
    northwind = examples.by_id("northwind")
    assert northwind.x12 is not None
    delimiters = northwind.x12.delimiters
    assert (delimiters.element, delimiters.repetition) == ("|", "^")
    order_ack = northwind.x12.order_ack
    assert order_ack is not None
    assert (order_ack.version, order_ack.ack_type) == ("005010", "AC")
    assert northwind.x12.documents()["850"].functional_ack == "999"
    assert isinstance(northwind.channels.inbound, SftpHostedChannel)


def test_remitter_quotes_po_numbers(examples: PartnerRegistry) -> None:
    initech = examples.by_id("initech")
    assert initech.business.cash.remittance_references == ("po", "invoice")
    assert isinstance(initech.channels.inbound, SftpPollChannel)
    assert initech.channels.inbound.after_download == "move"


def _x12_findings(path: Path) -> list[object]:
    findings: list[object] = []
    for event in read_envelopes(X12Reader(path.read_bytes())):
        if isinstance(event, TransactionSet):
            assert event.complete
            findings += event.errors
        elif isinstance(event, GroupEnd):
            findings += event.group.errors
        elif isinstance(event, InterchangeEnd):
            findings += [*event.interchange.errors, *event.interchange.warnings]
    return findings


@pytest.mark.parametrize(
    ("partner", "sample", "code"),
    [
        ("bigbox", "850.x12", "850"),
        ("northwind", "850.x12", "850"),
        ("initech", "820.x12", "820"),
    ],
)
def test_x12_samples_have_clean_envelopes(
    examples: PartnerRegistry, partner: str, sample: str, code: str
) -> None:
    samples = examples.samples_dir(partner)
    assert samples is not None
    path = samples / sample
    assert path.read_bytes().index(b"~") == 105  # the ISA is exactly 106 characters
    assert _x12_findings(path) == []
    sets = [
        e for e in read_envelopes(X12Reader(path.read_bytes())) if isinstance(e, TransactionSet)
    ]
    assert [s.code for s in sets] == [code]


def test_retailer_sample_reads_as_the_issue_describes(examples: PartnerRegistry) -> None:
    samples = examples.samples_dir("bigbox")
    assert samples is not None
    text = (samples / "850.x12").read_text()
    assert "~\n" in text
    assert "REF*DP*" in text
    assert "N1*ST*BIGBOX MART STORE 1042*92*1042~" in text
    assert text.count("SDQ*") == 3
    assert "ITD*08*3*2**10**30" in text


def test_distributor_sample_uses_its_delimiters(examples: PartnerRegistry) -> None:
    samples = examples.samples_dir("northwind")
    assert samples is not None
    (interchange_end,) = [
        e
        for e in read_envelopes(X12Reader((samples / "850.x12").read_bytes()))
        if isinstance(e, InterchangeEnd)
    ]
    delimiters = interchange_end.interchange.delimiters
    assert (delimiters.element, delimiters.repetition, delimiters.component) == ("|", "^", ":")


@pytest.mark.parametrize("partner", ["bigbox", "northwind"])
def test_invoice_samples_are_canonical(examples: PartnerRegistry, partner: str) -> None:
    samples = examples.samples_dir(partner)
    assert samples is not None
    invoice = parse_document((samples / "invoice.json").read_bytes())
    assert isinstance(invoice, Invoice)
    charges = sum((c.amount or Decimal(0) for c in invoice.allowances_charges), Decimal(0))
    assert invoice.lines_total + charges == invoice.total_amount


def test_cxml_sample_parses(examples: PartnerRegistry) -> None:
    samples = examples.samples_dir("acme-procure")
    assert samples is not None
    root = parse_xml((samples / "order_request.xml").read_bytes(), max_bytes=1 << 20)
    header = compile_xpath("/cXML/Request/OrderRequest/OrderRequestHeader")
    assert xpath_text(root, compile_xpath(f"{header.path}/@orderID")) == "AP-2024-000517"
    items = xpath_nodes(root, compile_xpath("//ItemOut"))
    total = sum(
        Decimal(item.get("quantity") or "0")
        * Decimal(xpath_text(item, compile_xpath("ItemDetail/UnitPrice/Money")) or "0")
        for item in items
    )
    assert total == Decimal(xpath_text(root, compile_xpath(f"{header.path}/Total/Money")) or "")


def test_own_xml_sample_parses(examples: PartnerRegistry) -> None:
    samples = examples.samples_dir("globex")
    assert samples is not None
    root = parse_xml((samples / "order.xml").read_bytes(), max_bytes=1 << 20)
    ns = {"g": "urn:globex:orders:v2"}
    assert xpath_text(root, compile_xpath("/g:Order/g:Header/g:OrderNo", ns)) == "GX-77120"
    assert len(xpath_nodes(root, compile_xpath("//g:Line", ns))) == 2


def test_example_secrets_are_checked_by_name(
    examples: PartnerRegistry, examples_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    problems = examples.check_secrets(Settings())
    named = {p.split("secret '")[1].split("'")[0] for p in problems}
    assert named == {
        "ACME_PROCURE_API_KEY",
        "ACME_PROCURE_API_KEY_NEXT",
        "ACME_PROCURE_OUTBOUND_KEY",
        "AS2_PRIVATE_KEY",
        "INITECH_SFTP_KEY",
    }
    bigbox = (examples_dir / "bigbox.yaml").read_text()
    line = _line_of(bigbox, "our_key_secret")
    assert (
        f"partners/bigbox.yaml:{line}: channels.inbound.our_key_secret: secret 'AS2_PRIVATE_KEY' "
        "is not set: looked for the environment variable O2C_SECRET_AS2_PRIVATE_KEY and no "
        "secrets directory (O2C_SECRETS_DIR is not set)"
    ) in problems
    assert len(problems) == 7  # AS2_PRIVATE_KEY and INITECH_SFTP_KEY are named twice
    for name in named:
        monkeypatch.setenv(f"O2C_SECRET_{name}", "value-not-shown")
    assert examples.check_secrets(Settings()) == []


# -- scaffold --------------------------------------------------------------------------------


def test_scaffold_loads_and_validates(partners: Path) -> None:
    text = scaffold("new-partner")
    assert text.count("#") > 10  # commented for admins
    _write(partners, "new-partner.yaml", text)
    registry = PartnerRegistry.load(partners)
    profile = registry.by_id("new-partner")
    assert profile.active is False
    assert registry.by_interchange("ZZ", "NEWPARTNER") is profile
    assert profile.x12 is not None
    assert set(profile.x12.documents()) == {"850", "810"}


def test_scaffold_refuses_a_bad_id() -> None:
    with pytest.raises(UsageError, match="not a valid partner id"):
        scaffold("New Partner")


# -- broken configs: one precise problem each ------------------------------------------------


def test_minimal_profile_loads(partners: Path) -> None:
    _write(partners, "acme.yaml", MINIMAL)
    assert PartnerRegistry.load(partners).by_id("acme").identity.isa[0].id == "ACMERETAIL"


def test_wrong_version(partners: Path) -> None:
    text = MINIMAL.replace('version: "004010"', 'version: "4010"')
    _write(partners, "acme.yaml", text)
    line = _line_of(text, "version:")
    assert _problems(partners) == [
        f"partners/acme.yaml:{line}: x12.850.version: expected '004010' or '005010', found '4010'"
    ]


def test_unquoted_version_explains_yaml(partners: Path) -> None:
    text = MINIMAL.replace('version: "004010"', "version: 004010")
    _write(partners, "acme.yaml", text)
    assert _problems(partners) == [
        f"partners/acme.yaml:{_line_of(text, 'version:')}: x12.850.version: expected '004010' "
        "or '005010', found 004010 (unquoted, YAML reads 004010 as 2056): write '004010' in quotes"
    ]


def test_unknown_channel_kind(partners: Path) -> None:
    text = MINIMAL.replace("kind: folder", "kind: ftp")
    _write(partners, "acme.yaml", text)
    assert _problems(partners) == [
        f"partners/acme.yaml:{_line_of(text, 'kind:')}: channels.inbound.kind: expected one of "
        "'sftp_hosted', 'sftp_poll', 'http', 'as2', 'folder', found 'ftp'"
    ]


def test_duplicate_isa_id_across_two_files(partners: Path) -> None:
    _write(partners, "acme.yaml", MINIMAL)
    other = MINIMAL.replace("id: acme", "id: zenith").replace("Acme Retail", "Zenith")
    other = other.replace('"ZZ", id: "ACMERETAIL"', '"ZZ", id: "acmeretail"')
    _write(partners, "zenith.yaml", other)
    line = _line_of(MINIMAL, "qualifier")
    assert _problems(partners) == [
        f"partners/zenith.yaml:{line}: identity.isa[0]: ISA qualifier 'ZZ' and id 'ACMERETAIL' "
        f"is already used by partner 'acme' (partners/acme.yaml:{line})"
    ]


def test_hosted_sftp_user_of_two_partners(partners: Path) -> None:
    hosted = f"    kind: sftp_hosted\n    username: shared\n    authorized_keys: ['{ED25519}']\n"
    text = MINIMAL.replace("    kind: folder\n    path: inbound/acme\n", hosted)
    _write(partners, "acme.yaml", text)
    other = text.replace("id: acme", "id: zenith").replace("ACMERETAIL", "ZENITH")
    _write(partners, "zenith.yaml", other)
    line = _line_of(text, "username")
    assert _problems(partners) == [
        f"partners/zenith.yaml:{line}: channels.inbound.username: SFTP user name 'shared' "
        f"is already used by partner 'acme' (partners/acme.yaml:{line})"
    ]


def test_missing_secret(partners: Path, tmp_path: Path) -> None:
    text = MINIMAL.replace(
        "    kind: folder\n    path: inbound/acme\n",
        "    kind: sftp_poll\n    host: sftp.acme.example\n    username: o2c\n"
        "    key_secret: ACME_SFTP_KEY\n    remote_inbound_path: /out\n",
    )
    _write(partners, "acme.yaml", text)
    registry = PartnerRegistry.load(partners)
    settings = Settings(secrets_dir=tmp_path / "secrets")
    assert registry.check_secrets(settings) == [
        f"partners/acme.yaml:{_line_of(text, 'key_secret')}: channels.inbound.key_secret: "
        "secret 'ACME_SFTP_KEY' is not set: looked for the environment variable "
        f"O2C_SECRET_ACME_SFTP_KEY and the file {tmp_path / 'secrets' / 'ACME_SFTP_KEY'}"
    ]


def test_secret_written_inline(partners: Path) -> None:
    text = MINIMAL.replace(
        "    kind: folder\n    path: inbound/acme\n",
        "    kind: sftp_poll\n    host: sftp.acme.example\n    username: o2c\n"
        "    password: Tr0ub4dor&3\n    remote_inbound_path: /out\n",
    )
    _write(partners, "acme.yaml", text)
    problems = _problems(partners)
    assert problems == [
        f"partners/acme.yaml:{_line_of(text, 'password')}: channels.inbound.password: unknown "
        "key; secrets never go in YAML: name it with key_secret or password_secret and put the "
        "value in the environment (O2C_SECRET_<NAME>) or the secrets directory"
    ]
    assert "Tr0ub4dor" not in problems[0]


def test_secret_value_in_a_name_key_is_not_echoed(partners: Path) -> None:
    text = MINIMAL.replace(
        "    kind: folder\n    path: inbound/acme\n",
        "    kind: http\n    api_key_secrets: ['sk_live 8f2a!c9']\n",
    )
    _write(partners, "acme.yaml", text)
    (problem,) = _problems(partners)
    assert problem.startswith(
        f"partners/acme.yaml:{_line_of(text, 'api_key')}: channels.inbound.api_key_secrets[0]: "
        "expected a secret name"
    )
    assert "8f2a" not in problem


def test_bad_csv_xref_path(partners: Path) -> None:
    text = MINIMAL + "business:\n  item_xref: {csv: acme/items.csv}\n"
    _write(partners, "acme.yaml", text)
    assert _problems(partners) == [
        f"partners/acme.yaml:{_line_of(text, 'csv:')}: business.item_xref.csv: "
        "file not found: partners/acme/items.csv"
    ]


def test_csv_xref_escaping_the_directory(partners: Path) -> None:
    text = MINIMAL + "business:\n  item_xref: {csv: ../secrets.csv}\n"
    _write(partners, "acme.yaml", text)
    assert _problems(partners) == [
        f"partners/acme.yaml:{_line_of(text, 'csv:')}: business.item_xref.csv: expected a "
        "relative path such as acme/items.csv (no leading /, no ..), found '../secrets.csv'"
    ]


def test_bad_csv_row_names_the_csv_line(partners: Path) -> None:
    _write(partners, "acme.yaml", MINIMAL + "business:\n  item_xref: {csv: acme/items.csv}\n")
    (partners / "acme").mkdir()
    (partners / "acme" / "items.csv").write_text("sku,upc\nA-1,012345678905\nB-2,12AB\n")
    assert _problems(partners) == [
        "partners/acme/items.csv:3: upc: expected a UPC, EAN or GTIN: 8 to 14 digits, found '12AB'"
    ]


def test_csv_xref_is_loaded(partners: Path) -> None:
    _write(partners, "acme.yaml", MINIMAL + "business:\n  item_xref: {csv: acme/items.csv}\n")
    (partners / "acme").mkdir()
    (partners / "acme" / "items.csv").write_text(
        "SKU,Partner_Part,UPC,Description\nA-1,P-1,012345678905,Thing\nB-2,P-2,,Other\n"
    )
    xref = PartnerRegistry.load(partners).by_id("acme").business.item_xref
    assert [(i.sku, i.partner_part, i.upc) for i in xref.items] == [
        ("A-1", "P-1", "012345678905"),
        ("B-2", "P-2", None),
    ]
    assert xref.sku_for(partner_part="P-2") == "B-2"


def test_typo_gets_a_suggestion(partners: Path) -> None:
    text = MINIMAL + "business:\n  cash: {amount_tolerence: 1.00}\n"
    _write(partners, "acme.yaml", text)
    assert _problems(partners) == [
        f"partners/acme.yaml:{_line_of(text, 'amount_tolerence')}: business.cash.amount_tolerence: "
        "unknown key; did you mean 'amount_tolerance'?"
    ]


def test_unquoted_qualifier(partners: Path) -> None:
    text = MINIMAL.replace('qualifier: "ZZ"', "qualifier: 01")
    _write(partners, "acme.yaml", text)
    assert _problems(partners) == [
        f"partners/acme.yaml:{_line_of(text, 'qualifier')}: identity.isa[0].qualifier: "
        "expected text, found 01 (unquoted, YAML reads 01 as 1): write '01' in quotes"
    ]


def test_missing_required_key(partners: Path) -> None:
    text = MINIMAL.replace("    kind: folder\n    path: inbound/acme\n", "    kind: folder\n")
    _write(partners, "acme.yaml", text)
    assert _problems(partners) == [
        f"partners/acme.yaml:{_line_of(text, 'inbound:')}: channels.inbound.path: "
        "required, but missing"
    ]


def test_bad_ssh_key(partners: Path) -> None:
    text = MINIMAL.replace(
        "    kind: folder\n    path: inbound/acme\n",
        f"    kind: sftp_hosted\n    username: acme\n    authorized_keys:\n"
        f"      - {ED25519}\n      - ssh-rsa AAAAnotakey\n",
    )
    _write(partners, "acme.yaml", text)
    assert _problems(partners) == [
        f"partners/acme.yaml:{_line_of(text, 'ssh-rsa')}: channels.inbound.authorized_keys[1]: "
        "expected an OpenSSH public key line: 'ssh-ed25519 AAAA... comment' (ssh-rsa, ecdsa "
        "too), found 'ssh-rsa AAAAnotakey'"
    ]


def test_id_must_match_file_name(partners: Path) -> None:
    _write(partners, "acme-retail.yaml", MINIMAL)
    assert _problems(partners) == [
        "partners/acme-retail.yaml:1: id: expected 'acme-retail' (the file name), found 'acme'"
    ]


def test_999_needs_005010(partners: Path) -> None:
    text = MINIMAL.replace('version: "004010"', 'version: "004010"\n    functional_ack: "999"')
    _write(partners, "acme.yaml", text)
    assert _problems(partners) == [
        f"partners/acme.yaml:{_line_of(text, 'functional_ack')}: x12.850.functional_ack: "
        "expected '997' or 'none': a 999 needs version 005010, and x12.850.version is '004010'"
    ]


def test_missing_mapping_for_an_x12_document(partners: Path) -> None:
    text = MINIMAL.replace('  "850": {base: x12/850/004010}\n', '  "810": {base: x12/810/004010}\n')
    _write(partners, "acme.yaml", text)
    assert _problems(partners) == [
        f"partners/acme.yaml:{_line_of(text, 'mappings:')}: mappings.850: required because "
        "x12.850 is set, e.g. 850: {base: x12/850/004010}"
    ]


def test_direction_needs(partners: Path) -> None:
    text = MINIMAL.replace(
        "    kind: folder\n    path: inbound/acme\n",
        "    kind: sftp_poll\n    host: sftp.acme.example\n    username: o2c\n"
        "    key_secret: ACME_KEY\n    remote_outbound_path: /in\n",
    )
    _write(partners, "acme.yaml", text)
    assert _problems(partners) == [
        f"partners/acme.yaml:{_line_of(text, 'inbound:')}: channels.inbound.remote_inbound_path: "
        "required for an inbound sftp_poll channel: the partner's directory we download from"
    ]


def test_duplicate_key(partners: Path) -> None:
    text = MINIMAL + "display_name: Acme again\n"
    _write(partners, "acme.yaml", text)
    assert _problems(partners) == [
        f"partners/acme.yaml:{len(text.splitlines())}: display_name: duplicate key, also at "
        "line 2; YAML keeps only the last one"
    ]


def test_yaml_syntax_error(partners: Path) -> None:
    _write(partners, "acme.yaml", "id: acme\n  display_name: [\n")
    (problem,) = _problems(partners)
    assert problem.startswith("partners/acme.yaml:2: not valid YAML: ")


def test_problems_are_collected_across_files(partners: Path) -> None:
    _write(partners, "acme.yaml", MINIMAL.replace('"004010"', '"4010"'))
    _write(partners, "bolt.yaml", "id: bolt\n")
    _write(partners, "empty.yaml", "")
    _write(partners, "stray.yml", "id: stray\n")
    problems = _problems(partners)
    assert [p.split(":")[0] for p in problems] == [
        "partners/acme.yaml",
        "partners/bolt.yaml",
        "partners/empty.yaml",
        "partners/stray.yml",
    ]
    assert problems[1] == "partners/bolt.yaml:1: display_name: required, but missing"
    assert problems[3] == "partners/stray.yml: not read: partner profiles end in .yaml"


def test_missing_partners_directory(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="partners directory not found"):
        PartnerRegistry.load(tmp_path / "nowhere")


def test_profile_is_frozen_and_strict() -> None:
    profile = PartnerProfile.model_validate({"id": "acme", "display_name": "Acme"})
    with pytest.raises(Exception, match="frozen"):
        profile.id = "other"
    assert profile.secret_refs() == ()
    http = HttpChannel(kind="http", api_key_secrets=("A_KEY",), api_key_secret="B_KEY")
    assert http.api_key_secrets == ("A_KEY",)
