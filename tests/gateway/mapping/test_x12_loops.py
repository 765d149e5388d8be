"""The walk over the loop tree, and the test tree against the validator's."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from gateway.mapping.x12_loops import walk
from gateway.pipeline.process import SetResult, translate
from tests.gateway.mapping.trees import body, sample_documents, tree_of

if TYPE_CHECKING:
    from pathlib import Path

# -- tree walk ------------------------------------------------------------------------------------


def test_walk_visits_every_segment_in_file_order() -> None:
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
    assert [loop.id for loop in tree.content if not hasattr(loop, "tag")] == ["N1", "N1", "PO1"]
    assert [s.tag for s in walk(tree)] == ["BEG", "REF", "REF", "N1", "N1", "N3", "PO1"]


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
