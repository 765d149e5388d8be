"""The declarative engine maps every X12 sample exactly as the hand-written mappers do."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.mapping import inbound_mapper
from gateway.mapping.loader import load_mapping
from gateway.pipeline.process import envelope_of
from gateway.x12.envelope import TransactionSet, read_envelopes
from gateway.x12.guides import load_guide
from gateway.x12.reader import X12Reader
from gateway.x12.validator import validate_set

ROOT = Path(__file__).resolve().parents[3]
MAPPINGS = ROOT / "mappings"
SAMPLES = sorted(
    [
        *(ROOT / "tests/fixtures/x12").glob("8[125]*/*"),
        *(ROOT / "tests/fixtures/x12/mixed").glob("*"),
        *(ROOT / "partners").glob("*/samples/*.x12"),
    ]
)


def _spec_name(code: str, version: str) -> str:
    return f"x12/{code}/{'005010' if version >= '005' else '004010'}"


def _mapped_sets(path: Path) -> list[tuple[object, object, object]]:
    """(tree, hand-written document, envelope) for every set that maps today."""
    found = []
    for event in read_envelopes(X12Reader(path.read_bytes())):
        if not isinstance(event, TransactionSet) or event.errors:
            continue
        guide = load_guide(event.code, event.group.version)
        mapper = inbound_mapper(event.code)
        if guide is None or mapper is None or event.code not in ("850", "810", "820", "855"):
            continue
        validation = validate_set(event.segments, guide, event.group.interchange.delimiters)
        if validation.issues:
            continue
        envelope = envelope_of(event)
        try:
            document = mapper(
                validation.tree, delimiters=event.group.interchange.delimiters, envelope=envelope
            )
        except Exception:  # only sets that map today are compared
            continue
        found.append((validation.tree, document, event))
    return found


@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: p.name)
def test_engine_equals_hand_written(path: Path) -> None:
    sets = _mapped_sets(path)
    for tree, document, event in sets:
        mapping = load_mapping(MAPPINGS, _spec_name(event.code, event.group.version))  # type: ignore[attr-defined]
        assert mapping.inbound(tree, envelope=document.envelope) == document  # type: ignore[attr-defined]


def test_samples_cover_every_inbound_set() -> None:
    codes = {e.code for p in SAMPLES for _, _, e in _mapped_sets(p)}  # type: ignore[attr-defined]
    assert codes == {"850", "810", "820", "855"}


def test_850_values() -> None:
    path = ROOT / "partners/bigbox/samples/850.x12"
    tree, document, _ = _mapped_sets(path)[0]
    order = load_mapping(MAPPINGS, "x12/850/004010").inbound(tree)
    assert order.po_number == document.po_number  # type: ignore[attr-defined, union-attr]
    assert order.lines and order.lines[0].quantity > 0  # type: ignore[union-attr]
    assert order.envelope is None  # type: ignore[union-attr]
