"""The o2c command's exact contract: JSON shape, exit codes, no tracebacks."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

from gateway.cli import main
from gateway.x12.envelope import InterchangeEnd, TransactionSet, read_envelopes
from gateway.x12.reader import X12Reader

if TYPE_CHECKING:
    import pytest

X12 = Path(__file__).parents[1] / "fixtures" / "x12"
VICS = X12 / "850" / "nodex12_850_vics.edi"


def run(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    code = main(list(argv), out=out)
    return code, out.getvalue()


def test_translate_a_good_850() -> None:
    code, out = run("translate", str(VICS))
    assert code == 0
    result = json.loads(out)
    assert result["errors"] == []
    (po,) = result["documents"]
    assert po["type"] == "purchase_order"
    assert po["po_number"] == "08292233294"
    assert po["po_date"] == "2010-11-27"
    assert [line["product_ids"][-1]["value"] for line in po["lines"]] == [
        "AB3542",
        "RD5322",
        "XY5266",
        "VX2332",
        "RV0524",
        "DX1875",
    ]
    assert Decimal(po["lines"][0]["unit_price"]) == Decimal("9.25")
    assert po["envelope"]["interchange_control"] == "000003438"
    assert po["envelope"]["transaction_control"] == "000000010"


def test_translate_names_every_rejection(tmp_path: Path) -> None:
    code, out = run("translate", str(X12 / "850" / "stedi_850_005010_gs01_mismatch.edi"))
    assert code == 1
    result = json.loads(out)
    assert result["documents"] == []
    (err,) = result["errors"]
    assert err["code"] == "18"  # 005010: transaction set not in functional group
    assert err["interchange_control"] == "000000057"
    assert err["set_control"] == "000000057"
    assert err["segment_id"] == "ST"
    assert err["file"].endswith("stedi_850_005010_gs01_mismatch.edi")


def test_translate_unreadable_envelope() -> None:
    code, out = run("translate", str(X12 / "850" / "indice_850_nbsp_isa.edi"))
    assert code == 1
    (err,) = json.loads(out)["errors"]
    assert err["level"] == "interchange"
    assert err["code"] == "022"
    assert "0xC2" in err["message"]


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    assert run("translate", str(tmp_path / "missing.edi"))[0] == 2
    assert run("translate")[0] == 2
    assert run("frobnicate")[0] == 2


def test_validate_reports_for_people() -> None:
    code, out = run("validate", str(VICS))
    assert code == 0
    assert "valid" in out.splitlines()[-1]
    code, out = run("validate", str(X12 / "850" / "stupidedi_850_003010_unpadded_isa.edi"))
    assert code == 1
    assert "INVALID" in out


def test_ack_for_004010_is_a_997_back_to_the_sender() -> None:
    code, out = run("ack", str(VICS))
    assert code == 0
    segs = list(X12Reader(out.encode("latin-1")))
    isa = segs[0]
    assert isa.get(6).strip() == "999999999"  # we answer as the original receiver
    assert isa.get(8).strip() == "4405197800"
    tags = [s.tag for s in segs]
    assert "AK1" in tags and "AK9" in tags
    st = next(s for s in segs if s.tag == "ST")
    assert st.get(1) == "997"
    ak2 = next(s for s in segs if s.tag == "AK2")
    assert ak2.elements[1:3] == ["850", "000000010"]


def test_render_an_invoice_and_read_it_back(tmp_path: Path) -> None:
    invoice = {
        "type": "invoice",
        "invoice_number": "INV-1001",
        "invoice_date": "2024-03-01",
        "po_number": "PO-77",
        "currency": "USD",
        "parties": [{"role": "ST", "name": "STORE 12", "id_qualifier": "92", "id": "0012"}],
        "lines": [
            {
                "line_number": "1",
                "quantity": "3",
                "uom": "EA",
                "unit_price": "9.5",
                "product_ids": [{"qualifier": "VN", "value": "SKU-1"}],
                "description": "WIDGET",
            },
        ],
        "allowances_charges": [],
        "total_amount": "28.50",
    }
    path = tmp_path / "invoice.json"
    path.write_text(json.dumps(invoice))
    code, x12 = run(
        "render", str(path), "--to", "x12", "--sender", "ZZ:SELLER", "--receiver", "01:123456789"
    )
    assert code == 0
    events = list(read_envelopes(X12Reader(x12.encode("latin-1"))))
    sets = [e for e in events if isinstance(e, TransactionSet)]
    assert [s.code for s in sets] == ["810"]
    assert not sets[0].errors
    end = events[-1]
    assert isinstance(end, InterchangeEnd) and not end.interchange.errors
    back = tmp_path / "out.edi"
    back.write_text(x12, encoding="latin-1")
    code, out = run("translate", str(back))
    assert code == 0
    (doc,) = json.loads(out)["documents"]
    assert doc["invoice_number"] == "INV-1001"
    assert Decimal(doc["total_amount"]) == Decimal("28.50")


def test_render_for_a_partner_uses_its_profile(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``--partner``: the partner's ISA and GS ids, version and usage, as the service sends."""
    root = Path(__file__).resolve().parents[2]
    monkeypatch.setenv("O2C_PARTNERS_DIR", str(root / "partners"))
    monkeypatch.setenv("O2C_MAPPINGS_DIR", str(root / "mappings"))
    sample = root / "partners" / "bigbox" / "samples" / "invoice.json"
    code, x12 = run("render", str(sample), "--to", "x12", "--partner", "bigbox")
    assert code == 0
    segments = [s.strip() for s in x12.split("~") if s.strip()]
    isa = segments[0].split("*")
    assert (isa[5], isa[6].strip()) == ("ZZ", "O2CGATEWAY")  # our ids, from the settings
    assert (isa[7], isa[8].strip()) == ("12", "5555550100")  # BigBox's, from its profile
    assert isa[15] == "P"  # its profile's outbound usage indicator
    gs = segments[1].split("*")
    assert gs[1] == "IN" and gs[3] == "5555550100" and gs[8] == "004010"
    code, _ = run("render", str(sample), "--to", "x12", "--partner", "bigbox", "--sender", "ZZ:X")
    assert code == 2  # the profile gives the envelope: no --sender with --partner
    code, _ = run("render", str(sample), "--to", "x12", "--partner", "globex")
    assert code in (1, 2)  # Globex takes XML, not 810s


def test_render_refuses_a_document_that_is_not_outbound(tmp_path: Path) -> None:
    path = tmp_path / "po.json"
    path.write_text(json.dumps({"type": "remittance", "trace_number": "1", "payment_amount": "1"}))
    code, _ = run("render", str(path), "--to", "x12", "--sender", "ZZ:A", "--receiver", "ZZ:B")
    assert code in (1, 2)


def test_no_traceback_even_on_internal_errors(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # a failure no real input produces: forced, to prove the last-resort handler
    import gateway.cli as cli

    def boom(*_a: object, **_k: object) -> int:
        raise RuntimeError("disk on fire")

    monkeypatch.setitem(cli.COMMANDS, "translate", boom)
    assert run("translate", str(VICS))[0] == 3
    err = capsys.readouterr().err
    assert "internal error (RuntimeError: disk on fire)" in err
    assert "Traceback" not in err


def test_console_script_exit_code() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "gateway.cli", "translate", "/nonexistent.edi"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert "cannot read /nonexistent.edi" in proc.stderr


# -- o2c ack under the partner's ack preferences -------------------------------------------

PARTNERS = Path(__file__).parents[2] / "partners"


def _ack_segments(out: str) -> list[list[str]]:
    return [s.elements for s in X12Reader(out.encode("latin-1"))]


def test_ack_follows_the_profile_found_by_the_isa_sender() -> None:
    # northwind: x12.ta1 true and "850": {functional_ack: "999"}; its sample has ISA14 = 0
    code, out = run("ack", str(PARTNERS / "northwind/samples/850.x12"))
    assert code == 0
    segs = _ack_segments(out)
    # one reply interchange: the TA1 the profile wants, before the 999's group (X12.5)
    assert [s[0] for s in segs if s[0] in ("ISA", "TA1", "GS", "IEA")] == [
        "ISA",
        "TA1",
        "GS",
        "IEA",
    ]
    ta1 = next(s for s in segs if s[0] == "TA1")
    assert ta1[1] == "000000312" and ta1[4] == "A"
    assert [s[1] for s in segs if s[0] == "ST"] == ["999"]
    # bigbox: no TA1 wanted, a 997 for its 850s
    code, out = run("ack", str(PARTNERS / "bigbox/samples/850.x12"))
    segs = _ack_segments(out)
    assert code == 0
    assert "TA1" not in [s[0] for s in segs]
    assert [s[1] for s in segs if s[0] == "ST"] == ["997"]


PROFILE = """\
id: {id}
display_name: Test partner
identity:
  isa: [{{qualifier: "12", id: "4405197800"}}]
  gs_ids: ["4405197800"]
x12:
  ta1: {ta1}
  "850": {{version: "{version}", functional_ack: "{ack}"}}
mappings:
  "850": {{base: x12/850/{version}}}
"""


def _partner(
    path: Path, partner_id: str, *, ack: str, ta1: bool = False, version: str = "004010"
) -> None:
    text = PROFILE.format(id=partner_id, ack=ack, ta1=str(ta1).lower(), version=version)
    (path / f"{partner_id}.yaml").write_text(text)


def test_ack_none_sends_no_functional_ack(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _partner(tmp_path, "abc-co", ack="none")
    monkeypatch.setenv("O2C_PARTNERS_DIR", str(tmp_path))
    code, out = run("ack", str(VICS))
    assert (code, out) == (0, "")
    assert "nothing to acknowledge" in capsys.readouterr().err


def test_ack_ta1_wanted_without_a_functional_ack(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _partner(tmp_path, "abc-co", ack="none", ta1=True)
    monkeypatch.setenv("O2C_PARTNERS_DIR", str(tmp_path))
    code, out = run("ack", str(VICS))
    assert code == 0
    assert [s[0] for s in _ack_segments(out)] == ["ISA", "TA1", "IEA"]


def test_ack_kind_from_the_named_partner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # the file's 005010 groups would get a 999 by default; --partner names one wanting 997
    _partner(tmp_path, "abc-co", ack="997", version="005010")
    monkeypatch.setenv("O2C_PARTNERS_DIR", str(tmp_path))
    northwind = PARTNERS / "northwind/samples/850.x12"
    code, out = run("ack", str(northwind))
    assert code == 0
    assert [s[1] for s in _ack_segments(out) if s[0] == "ST"] == ["999"]  # no profile: default
    code, out = run("ack", str(northwind), "--partner", "abc-co")
    segs = _ack_segments(out)
    assert code == 0
    assert [s[1] for s in segs if s[0] == "ST"] == ["997"]
    assert "TA1" not in [s[0] for s in segs]
    assert next(s for s in segs if s[0] == "AK1")[1:3] == ["PO", "312"]


def test_ack_unknown_partner_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("O2C_PARTNERS_DIR", str(tmp_path))
    assert run("ack", str(VICS), "--partner", "nobody")[0] == 1
    monkeypatch.setenv("O2C_PARTNERS_DIR", str(tmp_path / "missing"))
    assert run("ack", str(VICS), "--partner", "nobody")[0] == 2
