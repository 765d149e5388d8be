"""The walk over the loop tree, and the test tree against the validator's."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from gateway.mapping.x12_loops import collect, select, walk
from gateway.mapping.x12_read import reference
from gateway.pipeline.process import SetResult, translate
from gateway.x12.reader import Segment
from tests.gateway.mapping.trees import Node, body, sample_documents, tree_of

if TYPE_CHECKING:
    from pathlib import Path

# -- tree walk ------------------------------------------------------------------------------------


def test_select_finds_loops_and_segments_by_qualifier_and_walk_visits_all() -> None:
    tree = tree_of(
        body(
            """
            BEG*00*SA*PO1**20240101
            REF*DP*038
            REF*IA*V1
            N1*BT*BILL
            N1*ST*SHIP
            N3*1 MAIN ST
            PO1*1*1*EA
            """
        ),
        "850",
    )
    ship = select(tree, "N1", "ST")
    assert [n.id for n in ship if isinstance(n, Node)] == ["N1"]
    assert [s.get(2) for s in select(tree, "REF", "DP") if isinstance(s, Segment)] == ["038"]
    assert len(select(tree, "N1")) == 2
    assert [s.tag for s in walk(tree)] == ["BEG", "REF", "REF", "N1", "N1", "N3", "PO1"]


def test_collect_files_by_mode_and_skips_what_has_no_rule() -> None:
    tree = tree_of(body("REF*A*1\nXXX*9\nREF*B*2\nCUR*BY*USD\nCUR*BY*CAD"), "850")
    fields = collect(
        tree,
        {
            "REF": ("references", reference, "append"),
            "CUR": ("currency", lambda s: s.get(2), "first"),
        },
    )
    assert fields == {
        "references": (
            {"qualifier": "A", "value": "1", "description": None},
            {"qualifier": "B", "value": "2", "description": None},
        ),
        "currency": "USD",
    }


@pytest.mark.parametrize(
    "name",
    [
        "850/nodex12_850_vics.edi",
        "810/staedi_810_two_invoices.edi",
        "855/stedi_855_005010.edi",
        "997/staedi_997_simple.edi",
        "999/stupidedi_999_x231a1.edi",
        "820/indice_820_005010_adx_deductions.edi",
        "820/oopfactory_820_safeway.txt",
        "820/bots_820_004010vics_03_large.x12",
    ],
)
def test_the_validator_tree_maps_like_the_test_tree(samples_dir: Path, name: str) -> None:
    results = [r for r in translate((samples_dir / name).read_bytes()) if isinstance(r, SetResult)]
    assert [r.errors for r in results] == [[] for _ in results]
    expected = sample_documents(samples_dir / name)
    for document, result in zip(expected, results, strict=True):
        assert result.document is not None
        assert result.document == document.model_copy(update={"envelope": result.document.envelope})
