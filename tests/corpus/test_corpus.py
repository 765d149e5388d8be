"""Every public sample in ``shared/samples``: translated with the right identifiers, or
rejected with the expected code; never a crash; every ack we would send passes pyx12.

The expected outcome of each file is in ``expectations.yaml`` beside this module,
written by reading the file and its entry in ``SOURCES.md``; the engine never looks at it.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import Any

import pytest
import yaml

from gateway.errors import DocumentError
from gateway.pipeline.process import InterchangeResult, SetResult, settle, translate
from gateway.x12.acks import build_acks
from gateway.x12.control import MemoryControlNumbers
from tests.support.pyx12check import check_ack

pytestmark = pytest.mark.corpus

EXPECTATIONS: dict[str, Any] = yaml.safe_load(
    (Path(__file__).parent / "expectations.yaml").read_text(encoding="utf-8")
)
PYX12_QUALIFIERS = {"01", "14", "20", "27", "28", "29", "30", "33", "ZZ"}
KEYS = {
    "purchase_order": "po_number",
    "invoice": "invoice_number",
    "remittance": "trace_number",
    "purchase_order_ack": "po_number",
    "functional_ack": "group_control",
}


def _samples_root() -> Path | None:
    chosen = os.environ.get("O2C_SAMPLES_DIR")
    path = Path(chosen) if chosen else Path(__file__).parents[2].parent / "shared" / "samples"
    return path if path.is_dir() else None


def _sample_files() -> list[str]:
    root = _samples_root()
    if root is None:
        return []
    return sorted(
        str(p.relative_to(root)) for p in root.rglob("*") if p.is_file() and p.name != "SOURCES.md"
    )


SAMPLES = _sample_files()


def test_the_corpus_is_there_and_fully_expected() -> None:
    if not SAMPLES:
        if os.environ.get("CI") == "true":
            pytest.fail("shared/samples is missing; CI must run the corpus tests")
        pytest.skip("shared/samples not found")
    assert len(SAMPLES) == 89
    assert sorted(EXPECTATIONS) == SAMPLES


def _outcome(data: bytes) -> tuple[dict[str, Any], list[InterchangeResult]]:
    documents: list[str] = []
    rejected: list[str] = []
    interchanges: list[InterchangeResult] = []
    for item in settle(translate(data)):
        if isinstance(item, SetResult):
            ts = item.transaction_set
            if item.ok and item.document is not None:
                key = KEYS[item.document.type]
                documents.append(f"{ts.code} {getattr(item.document, key)}")
            else:
                codes = [
                    str(e.code) if isinstance(e, DocumentError) else "mapping" for e in item.errors
                ]
                where = f"{ts.group.interchange.control}/{ts.group.control}/{ts.control}"
                rejected.append(f"{ts.code} {where}: {' '.join(sorted(set(codes)))}")
        elif isinstance(item, InterchangeResult):
            interchanges.append(item)
            if item.interchange.errors:
                codes = sorted({str(e.code) for e in item.interchange.errors})
                control = item.interchange.control or "unreadable"
                rejected.append(f"ISA {control}: {' '.join(codes)}")
    return {"documents": documents, "rejected": rejected}, interchanges


def _pyx12_can_route(result: InterchangeResult, data: bytes) -> bool:
    inter = result.interchange
    if {inter.sender_qualifier, inter.receiver_qualifier} - PYX12_QUALIFIERS:
        return False
    if inter.version not in ("00401", "00501") or b"TA1" in data or b"GS" not in data:
        return False
    if inter.version == "00401" and inter.delimiters.component == "^":
        return False  # pyx12 checks ISA16 against its AN set, which lacks ^ in 00401
    return all(g.group.version in ("004010", "005010") for g in result.groups)


@pytest.mark.parametrize("name", SAMPLES)
def test_sample(name: str, pyx12_map_dir: Path) -> None:
    root = _samples_root()
    assert root is not None
    data = (root / name).read_bytes()
    outcome, interchanges = _outcome(data)
    expected = EXPECTATIONS[name]
    assert outcome["documents"] == expected.get("documents", [])
    assert outcome["rejected"] == expected.get("rejected", [])
    # every acknowledgment the gateway would send for this file is valid X12
    numbers = MemoryControlNumbers()
    now = dt.datetime(2026, 1, 5, 9, 30, tzinfo=dt.UTC)
    for result in interchanges:
        written = build_acks(
            result.interchange, [g.ack for g in result.groups], control_numbers=numbers, now=now
        )
        if written is None:
            continue
        # our own reader, envelope and 997/999 guides accept it (a 997 answering a
        # 004030 group is written in that version, which we read but do not validate) ...
        own = [r for r in translate(written.data, map_documents=False) if isinstance(r, SetResult)]
        problems = [
            str(e)
            for r in own
            for e in r.errors
            if not (isinstance(e, DocumentError) and e.level == "group" and e.code == "2")
        ]
        assert problems == []
        # ... and so does pyx12, for the replies it can route: its maps know only ISA12
        # 00401/00501 with FA groups in 004010 or 005010X231A1, its HIPAA ISA05/ISA07
        # list lacks retail qualifiers such as 12 and 08, and it wants a TA1 after the
        # last GE where X12.5 puts it before the first GS (17 of the 77 replies to the corpus)
        if _pyx12_can_route(result, written.data):
            assert check_ack(written.data, pyx12_map_dir) == []
