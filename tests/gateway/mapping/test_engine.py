"""The declarative engine maps every X12 sample to the canonical documents expected of it.

The expectations under ``tests/fixtures/expected/inbound/`` are what the hand-written
mappers gave for each sample before the engine replaced them (one entry per set that
mapped, by set control number), so the engine keeps every result they had.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gateway.mapping import base_mapping_version, inbound_mapper
from gateway.mapping.loader import load_mapping
from gateway.pipeline.process import envelope_of
from gateway.x12.envelope import TransactionSet, read_envelopes
from gateway.x12.guides import load_guide
from gateway.x12.reader import X12Reader
from gateway.x12.validator import validate_set

ROOT = Path(__file__).resolve().parents[3]
MAPPINGS = ROOT / "mappings"
EXPECTED = ROOT / "tests/fixtures/expected/inbound"
EXPECTATIONS = sorted(EXPECTED.rglob("*.json"))


def _sample_of(expectation: Path) -> Path:
    """``expected/inbound/x12/850/a.edi.json`` -> ``tests/fixtures/x12/850/a.edi``."""
    relative = expectation.relative_to(EXPECTED).with_suffix("")
    if relative.parts[0] == "partners":
        return ROOT / relative
    return ROOT / "tests/fixtures" / relative


def _mapped_sets(path: Path) -> dict[str, tuple[str, dict[str, object]]]:
    """Set control number -> (set id, the engine's document as JSON) for each set that maps."""
    found: dict[str, tuple[str, dict[str, object]]] = {}
    for event in read_envelopes(X12Reader(path.read_bytes())):
        if not isinstance(event, TransactionSet) or event.errors:
            continue
        guide = load_guide(event.code, event.group.version)
        if guide is None or event.code not in ("850", "810", "820", "855"):
            continue
        validation = validate_set(event.segments, guide, event.group.interchange.delimiters)
        if validation.issues:
            continue
        mapper = inbound_mapper(event.code, event.group.version, mappings_dir=MAPPINGS)
        assert mapper is not None
        document = mapper(
            validation.tree,
            delimiters=event.group.interchange.delimiters,
            envelope=envelope_of(event),
        )
        found[event.control] = (event.code, json.loads(document.model_dump_json()))
    return found


@pytest.mark.parametrize("expectation", EXPECTATIONS, ids=lambda p: p.stem)
def test_engine_gives_the_expected_documents(expectation: Path) -> None:
    expected = json.loads(expectation.read_text(encoding="utf-8"))
    mapped = _mapped_sets(_sample_of(expectation))
    assert expected
    for entry in expected:
        assert mapped[entry["set_control"]] == (entry["transaction_set"], entry["document"])


def test_expectations_cover_every_inbound_set() -> None:
    codes = {
        entry["transaction_set"]
        for path in EXPECTATIONS
        for entry in json.loads(path.read_text(encoding="utf-8"))
    }
    assert codes == {"850", "810", "820", "855"}
    assert len(EXPECTATIONS) >= 20


def test_the_base_mapping_follows_the_group_version() -> None:
    assert base_mapping_version("004010") == "004010"
    assert base_mapping_version("004010VICS") == "004010"
    assert base_mapping_version("005010X222A1") == "005010"
    # no base of their own: the nearest one
    assert base_mapping_version("003040") == "004010"
    assert base_mapping_version("004050") == "004010"
    assert base_mapping_version("006020") == "005010"
    old = inbound_mapper("850", "004010", mappings_dir=MAPPINGS)
    new = inbound_mapper("850", "005010VICS", mappings_dir=MAPPINGS)
    assert getattr(old, "__self__", None) is load_mapping(MAPPINGS, "x12/850/004010")
    assert getattr(new, "__self__", None) is load_mapping(MAPPINGS, "x12/850/005010")


def test_850_values() -> None:
    path = ROOT / "partners/bigbox/samples/850.x12"
    expected = json.loads((EXPECTED / "partners/bigbox/samples/850.x12.json").read_text())
    event = next(
        e for e in read_envelopes(X12Reader(path.read_bytes())) if isinstance(e, TransactionSet)
    )
    guide = load_guide(event.code, event.group.version)
    assert guide is not None
    tree = validate_set(event.segments, guide, event.group.interchange.delimiters).tree
    order = load_mapping(MAPPINGS, "x12/850/004010").inbound(tree)
    assert order.po_number == expected[0]["document"]["po_number"]  # type: ignore[union-attr]
    assert order.lines and order.lines[0].quantity > 0  # type: ignore[union-attr]
    assert order.envelope is None
