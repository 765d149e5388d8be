"""Broken mapping configs: one precise message each (file:line, key path, what was expected)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from gateway.errors import ConfigError
from gateway.mapping.loader import load_mapping

if TYPE_CHECKING:
    from pathlib import Path

BASE = """\
document: purchase_order
source: {format: x12, transaction_set: "850", version: "004010"}
fields:
  purpose_code: BEG01
  order_type: BEG02
  po_number: {path: BEG03, required: always}
  po_date: {path: BEG05, transform: x12_date}
  references: {each: REF, fields: {qualifier: REF01, value: {path: REF02, default: ""}}}
"""


def _problems(tmp_path: Path, base: str, override: str | None = None) -> list[str]:
    (tmp_path / "x12/850").mkdir(parents=True, exist_ok=True)
    (tmp_path / "x12/850/004010.yaml").write_text(base)
    over = None
    if override is not None:
        over = tmp_path / "partner.yaml"
        over.write_text(override)
    with pytest.raises(ConfigError) as info:
        load_mapping(tmp_path, "x12/850/004010", override=over, override_display="partner.yaml")
    return info.value.problems


def test_the_base_loads(tmp_path: Path) -> None:
    (tmp_path / "x12/850").mkdir(parents=True)
    (tmp_path / "x12/850/004010.yaml").write_text(BASE)
    assert load_mapping(tmp_path, "x12/850/004010").model.__name__ == "PurchaseOrder"


def test_unknown_transform(tmp_path: Path) -> None:
    base = BASE.replace("transform: x12_date", "transform: frobnicate")
    [problem] = _problems(tmp_path, base)
    assert problem.startswith("mappings/x12/850/004010.yaml:7: fields.po_date.transform: ")
    assert "unknown transform 'frobnicate'; known: " in problem
    assert "x12_date" in problem


def test_missing_mandatory_mapping(tmp_path: Path) -> None:
    base = BASE.replace("  po_number: {path: BEG03, required: always}\n", "")
    [problem] = _problems(tmp_path, base)
    assert problem == (
        "mappings/x12/850/004010.yaml:3: fields: missing mandatory mapping 'po_number' "
        "(PurchaseOrder needs it)"
    )


def test_bad_selection_syntax(tmp_path: Path) -> None:
    base = BASE.replace("each: REF,", 'each: "REF[REF01=DP",')
    [problem] = _problems(tmp_path, base)
    assert problem.startswith("mappings/x12/850/004010.yaml:8: fields.references.each: bad path")
    assert "expected e.g. BEG03, REF[REF01=DP].02" in problem


def test_unknown_field(tmp_path: Path) -> None:
    [problem] = _problems(tmp_path, BASE + "  po_numbr: BEG03\n")
    assert problem.startswith("mappings/x12/850/004010.yaml:9: fields.po_numbr: unknown field")


def test_override_naming_a_field_not_in_the_base(tmp_path: Path) -> None:
    [problem] = _problems(tmp_path, BASE, "fields:\n  currency: CUR02\n")
    assert problem.startswith(
        "partner.yaml:2: fields.currency: field 'currency' is not in the base"
    )
    assert "write it under add:" in problem


def test_override_changes_and_adds(tmp_path: Path) -> None:
    (tmp_path / "x12/850").mkdir(parents=True)
    (tmp_path / "x12/850/004010.yaml").write_text(BASE)
    over = tmp_path / "partner.yaml"
    over.write_text(
        "fields:\n  po_number: {path: BEG03, transform: upper}\n"
        "add:\n  fields:\n    currency: CUR02\nremove: [fields.po_date]\n"
    )
    mapping = load_mapping(tmp_path, "x12/850/004010", override=over)
    fields = mapping.spec.fields
    assert "currency" in fields
    assert "po_date" not in fields
    assert fields["po_number"].transform == "upper"  # type: ignore[union-attr]
