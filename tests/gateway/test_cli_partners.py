"""``o2c partners list|check|new`` against the shipped example partners."""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import pytest

from gateway.cli import main

ROOT = Path(__file__).parents[2]
PARTNERS = ROOT / "partners"


def run(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    return main(list(argv), out=out), out.getvalue()


@pytest.fixture(autouse=True)
def _partners_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("O2C_PARTNERS_DIR", str(PARTNERS))
    monkeypatch.setenv("O2C_MAPPINGS_DIR", str(ROOT / "mappings"))
    monkeypatch.delenv("O2C_SECRETS_DIR", raising=False)


def test_list_json_contract() -> None:
    code, out = run("partners", "list", "--format", "json")
    assert code == 0
    rows = json.loads(out)
    assert [r["id"] for r in rows] == ["acme-procure", "bigbox", "globex", "initech", "northwind"]
    bigbox = rows[1]
    assert set(bigbox) == {"id", "name", "interchange_ids", "channels"}
    assert bigbox["interchange_ids"] == [{"qualifier": "12", "id": "5555550100"}]
    assert bigbox["channels"] == ["inbound:as2", "outbound:as2"]


def test_check_a_partner_with_everything_in_place() -> None:
    code, out = run("partners", "check", "northwind")
    assert code == 0, out
    assert "northwind/samples/850.x12" in out
    assert out.strip().endswith("partner northwind: ok")


def test_check_names_each_missing_secret_then_passes_once_set(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    code, out = run("partners", "check", "initech")
    assert code == 1
    assert (
        "partners/initech.yaml:27: channels.inbound.key_secret: secret 'INITECH_SFTP_KEY' is not set"
        in out
    )
    monkeypatch.setenv("O2C_SECRET_INITECH_SFTP_KEY", "-----BEGIN OPENSSH PRIVATE KEY-----")
    code, out = run("partners", "check", "initech")
    assert code == 0, out
    assert "BEGIN OPENSSH" not in out  # a secret's value is never printed


def test_check_runs_extra_samples_and_reports_their_errors(tmp_path: Path) -> None:
    bad = tmp_path / "broken.x12"
    good = (PARTNERS / "northwind" / "samples" / "850.x12").read_bytes()
    bad.write_bytes(good.replace(b"||20240402~", b"||20241399~", 1))  # BEG05: no 13th month
    code, out = run("partners", "check", "northwind", "--sample", str(bad))
    assert code == 1
    problem = next(line for line in out.splitlines() if line.startswith("PROBLEM"))
    assert str(bad) in problem and "BEG05" in problem


def test_check_refuses_a_sample_from_someone_else() -> None:
    other = ROOT / "tests" / "fixtures" / "x12" / "850" / "nodex12_850_vics.edi"
    code, out = run("partners", "check", "northwind", "--sample", str(other))
    assert code == 1
    assert "ISA sender 12:4405197800 is not one of the partner's identities" in out


def test_check_a_broken_profile_by_path(tmp_path: Path) -> None:
    folder = tmp_path / "partners"
    shutil.copytree(PARTNERS, folder)
    profile = folder / "northwind.yaml"
    profile.write_text(profile.read_text().replace('version: "005010"', 'version: "5010"', 1))
    code, out = run("partners", "check", str(profile))
    assert code == 1
    assert "x12.850.version: expected '004010' or '005010', found '5010'" in out


def test_new_scaffolds_a_profile_that_loads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "partners"
    folder.mkdir()
    monkeypatch.setenv("O2C_PARTNERS_DIR", str(folder))
    code, out = run("partners", "new", "zenith")
    assert code == 0
    assert (folder / "zenith.yaml").exists()
    assert run("partners", "new", "zenith")[0] == 2  # never overwrites
    code, out = run("partners", "list", "--format", "json")
    assert code == 0
    assert [r["id"] for r in json.loads(out)] == ["zenith"]


def test_check_maps_xml_samples_through_the_partner_mapping() -> None:
    code, out = run("partners", "check", "globex")
    assert code == 0, out
    assert "checked  mapping xml.order: xml/globex-order" in out
    assert "globex/samples/order.xml" in out


def test_check_reports_an_xml_sample_that_does_not_map(tmp_path: Path) -> None:
    bad = tmp_path / "order.xml"
    sample = (PARTNERS / "globex" / "samples" / "order.xml").read_text()
    bad.write_text(sample.replace("GX-77120", ""))
    code, out = run("partners", "check", "globex", "--sample", str(bad))
    assert code == 1
    assert any(str(bad) in line and "xml/globex-order" in line for line in out.splitlines())
