"""``o2c documents list|show|reprocess|raw`` on a real database (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
import io
import json
from typing import TYPE_CHECKING

import pytest

from gateway.cli import main
from gateway.storage import Controls, State, Store
from gateway.storage.migrate import upgrade

if TYPE_CHECKING:
    from pathlib import Path

# Bytes that are not UTF-8 (a Latin-1 name, a NUL): raw must hand them back unchanged.
PAYLOAD = b"ISA*00*          *00*          *ZZ*M\xdcLLER\x00*~\r\nGS*PO~"


@pytest.fixture
def seeded(database_url: str, data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    monkeypatch.setenv("O2C_DATABASE_URL", database_url)
    monkeypatch.setenv("O2C_DATA_DIR", str(data_dir))
    monkeypatch.delenv("O2C_CONFIG_FILE", raising=False)

    async def seed() -> dict[str, int]:
        await upgrade(database_url)
        store = await Store.open(database_url, data_dir=data_dir)
        try:
            file = await store.receive(
                PAYLOAD,
                partner_id="northwind",
                channel="sftp_hosted",
                filename="po.x12",
                controls=Controls(interchange_control="000000312"),
            )
            po = await store.receive(
                b"ST*850*0001~",
                partner_id="northwind",
                channel="sftp_hosted",
                doc_type="850",
                parent_id=file.id,
                business_key="NW-PO-88213",
            )
            bad_set = await store.receive(
                b"ST*850*0002~",
                partner_id="northwind",
                channel="sftp_hosted",
                doc_type="850",
                parent_id=file.id,
                state=State.REJECTED,
            )
            xml = await store.receive(
                b"<cXML/>", partner_id="acme-procure", channel="http", doc_type="xml", format="xml"
            )
            async with store.unit() as unit:
                await unit.set_canonical(po.id, {"type": "purchase_order"}, "NW-PO-88213")
                await unit.set_state(po.id, State.DELIVERED, "delivered to the ERP")
                await unit.set_state(xml.id, State.FAILED, "parked", error="ERP refused")
            return {"file": file.id, "po": po.id, "xml": xml.id, "bad_set": bad_set.id}
        finally:
            await store.close()

    return asyncio.run(seed())  # a sync test: no loop is running


def run(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    code = main(["documents", *argv], out=out)
    return code, out.getvalue()


def _state(doc_id: int) -> str:
    code, out = run("show", str(doc_id), "--format", "json")
    assert code == 0
    return str(json.loads(out)["state"])


def test_list_as_json_with_filters(seeded: dict[str, int]) -> None:
    code, out = run("list", "--format", "json")
    assert code == 0
    assert [d["id"] for d in json.loads(out)["documents"]] == sorted(seeded.values(), reverse=True)
    code, out = run("list", "--partner", "northwind", "--type", "850", "--format", "json")
    assert [d["id"] for d in json.loads(out)["documents"]] == [seeded["bad_set"], seeded["po"]]
    code, out = run("list", "--type", "850", "--state", "delivered", "--format", "json")
    assert [d["id"] for d in json.loads(out)["documents"]] == [seeded["po"]]
    code, out = run("list", "--state", "failed", "--format", "json")
    (doc,) = json.loads(out)["documents"]
    assert (doc["id"], doc["last_error"]) == (seeded["xml"], "ERP refused")
    code, out = run("list", "--control", "000000312", "--format", "json")
    assert [d["id"] for d in json.loads(out)["documents"]] == [seeded["file"]]
    code, out = run("list", "--key", "NW-PO-88213", "--since", "2000-01-01", "--format", "json")
    assert [d["id"] for d in json.loads(out)["documents"]] == [seeded["po"]]
    code, out = run("list", "--until", "2000-01-01", "--format", "json")
    assert json.loads(out)["documents"] == []
    code, out = run("list", "--limit", "1", "--format", "json")
    assert len(json.loads(out)["documents"]) == 1


def test_list_as_a_table(seeded: dict[str, int]) -> None:
    code, out = run("list")
    assert code == 0
    header, *rows = out.splitlines()
    assert header.split() == ["id", "dir", "partner", "type", "state", "control", "key", "created"]
    assert [row.split()[0] for row in rows] == [str(i) for i in sorted(seeded.values())[::-1]]
    assert any("acme-procure" in row and "failed" in row for row in rows)
    code, out = run("list", "--partner", "nobody")
    assert (code, out) == (0, "no documents match\n")


def test_show_gives_the_document_and_its_timeline(seeded: dict[str, int]) -> None:
    code, out = run("show", str(seeded["po"]), "--format", "json")
    assert code == 0
    body = json.loads(out)
    assert body["id"] == seeded["po"]
    assert body["parent_id"] == seeded["file"]
    assert [(e["kind"], e["state"]) for e in body["events"]] == [
        ("state", "received"),
        ("state", "delivered"),
    ]
    code, out = run("show", str(seeded["file"]))
    assert code == 0
    assert f"document {seeded['file']}: in interchange (x12), received" in out
    assert f"children [{seeded['po']}, {seeded['bad_set']}]" in out
    assert "timeline:" in out
    assert "ISA13 000000312" in out


def test_show_and_raw_of_a_missing_document_exit_1(
    seeded: dict[str, int], capsys: pytest.CaptureFixture[str]
) -> None:
    assert run("show", "999999")[0] == 1
    assert run("raw", "999999")[0] == 1
    assert "no document 999999" in capsys.readouterr().err


def test_reprocess(seeded: dict[str, int], capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run("reprocess", str(seeded["xml"]))
    assert code == 0
    assert out == f"document {seeded['xml']}: failed -> received\n"
    assert _state(seeded["xml"]) == "received"
    # A mapped transaction set goes back to the ERP step, not through parsing again.
    code, out = run("reprocess", str(seeded["po"]))
    assert (code, out) == (0, f"document {seeded['po']}: delivered -> mapped\n")
    code, out = run("reprocess", str(seeded["file"]), "--force")
    assert (code, out) == (0, f"document {seeded['file']}: received -> received\n")
    code, out = run("show", str(seeded["file"]), "--format", "json")
    (event,) = [e for e in json.loads(out)["events"] if e["kind"] == "reprocess"]
    assert event["detail"]["force"] is True
    assert event["detail"]["actor"].startswith("cli:")

    # A set that was never mapped goes through its file, not alone.
    code, out = run("reprocess", str(seeded["bad_set"]))
    assert (code, out) == (1, "")
    assert f"document #{seeded['file']}" in capsys.readouterr().err
    assert _state(seeded["bad_set"]) == "rejected"


def test_raw_writes_the_exact_bytes(seeded: dict[str, int]) -> None:
    buffer = io.BytesIO()
    out = io.TextIOWrapper(buffer, encoding="utf-8", newline="")
    code = main(["documents", "raw", str(seeded["file"])], out=out)
    out.flush()
    assert code == 0
    assert buffer.getvalue() == PAYLOAD


def test_bad_arguments_exit_2(seeded: dict[str, int]) -> None:
    assert run("list", "--state", "lost")[0] == 2
    assert run("list", "--since", "last week")[0] == 2
    assert run("list", "--limit", "0")[0] == 2
    assert run("show", "abc")[0] == 2
