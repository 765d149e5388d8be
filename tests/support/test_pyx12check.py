"""The pyx12 ack checker accepts correct 997/999 acks for a PO group and rejects broken ones."""

from __future__ import annotations

import filecmp
import logging
from importlib.resources import as_file, files
from typing import TYPE_CHECKING

import pytest
import pyx12.map_if
import pyx12.params

from tests.support import fixtures
from tests.support.pyx12check import ACK_MAPS, MAP_DIR_NAME, UNRESTRICTED, check_ack

if TYPE_CHECKING:
    from pathlib import Path

# The suite-wide conftest imports this fixture too; naming it here keeps this module runnable alone.
pyx12_map_dir = fixtures.pyx12_map_dir

# Hand-written acks for a PO group (GS06 1234) holding one 850 (ST02 0001). ISA is 106 chars.
ACK_997 = (
    "ISA*00*          *00*          *ZZ*GATEWAY        *ZZ*BUYER          "
    "*240115*1200*U*00401*000000101*0*P*>~\n"
    "GS*FA*GATEWAY*BUYER*20240115*1200*101*X*004010~\n"
    "ST*997*0001~\n"
    "AK1*PO*1234~\n"
    "AK2*850*0001~\n"
    "AK5*A~\n"
    "AK9*A*1*1*1~\n"
    "SE*6*0001~\n"
    "GE*1*101~\n"
    "IEA*1*000000101~\n"
)

ACK_999 = (
    "ISA*00*          *00*          *ZZ*GATEWAY        *ZZ*BUYER          "
    "*240115*1200*^*00501*000000102*0*P*:~\n"
    "GS*FA*GATEWAY*BUYER*20240115*1200*102*X*005010X231A1~\n"
    "ST*999*0001*005010X231A1~\n"
    "AK1*PO*1234*004010~\n"
    "AK2*850*0001~\n"
    "IK5*A~\n"
    "AK9*A*1*1*1~\n"
    "SE*6*0001~\n"
    "GE*1*102~\n"
    "IEA*1*000000102~\n"
)

# A 999 rejecting the 850 for a bad PO102, with the segment and element notes.
ACK_999_REJECT = ACK_999.replace(
    "IK5*A~\nAK9*A*1*1*1~\nSE*6*0001~",
    "IK3*PO1*5**8~\nIK4*2*330*7*ABC~\nIK5*R*5~\nAK9*R*1*1*0~\nSE*8*0001~",
)


def _edit(doc: str, old: str, new: str) -> bytes:
    assert doc.count(old) == 1, f"{old!r} must occur once"
    return doc.replace(old, new).encode("ascii")


def test_isa_segments_are_106_characters() -> None:
    for doc in (ACK_997, ACK_999):
        assert len(doc.split("\n", 1)[0]) == 106


def test_correct_997_is_accepted(pyx12_map_dir: Path) -> None:
    assert check_ack(ACK_997.encode("ascii"), pyx12_map_dir) == []


def test_correct_999_is_accepted(pyx12_map_dir: Path) -> None:
    assert check_ack(ACK_999.encode("ascii"), pyx12_map_dir) == []


def test_999_with_segment_and_element_notes_is_accepted(pyx12_map_dir: Path) -> None:
    assert check_ack(ACK_999_REJECT.encode("ascii"), pyx12_map_dir) == []


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        pytest.param("SE*6*0001", "SE*7*0001", "SE count of 7 for SE02=0001 is wrong", id="se01"),
        pytest.param("AK5*A~", "AK5*Q~", "Segment AK5*Q not found", id="ak501"),
        pytest.param("AK5*A~", "AK5*R*99~", "(99) is not a valid code", id="ak502"),
        pytest.param("GE*1*101", "GE*2*101", "GE count of 2 for GE02=101 is wrong", id="ge01"),
        pytest.param("IEA*1*000000101", "IEA*1*000000999", "does not match ISA id", id="iea02"),
        pytest.param("AK1*PO*1234~", "AK1*PO*1234*004010~", "Too many elements", id="ak103"),
        pytest.param("*X*004010~", "*X*004010VICS~", "Map not found", id="gs08"),
    ],
)
def test_broken_997_is_rejected(pyx12_map_dir: Path, old: str, new: str, expected: str) -> None:
    errors = check_ack(_edit(ACK_997, old, new), pyx12_map_dir)
    assert any(expected in message for message in errors), errors


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        pytest.param("ST*999*0001*005010X231A1", "ST*999*0001", "(ST03) is missing", id="st03"),
        pytest.param("AK1*PO*1234*004010", "AK1*PO*1234", "(AK103) is missing", id="ak103"),
        pytest.param("IK5*A~", "IK5*Q~", "Segment IK5*Q not found", id="ik501"),
        pytest.param("IK5*A~", "AK5*A~", "Segment AK5*A not found", id="ak5-in-999"),
        pytest.param("SE*6*0001", "SE*5*0001", "SE count of 5 for SE02=0001 is wrong", id="se01"),
        pytest.param("*P*:~", "*I*:~", "(I) is not a valid code for Usage Indicator", id="isa15"),
    ],
)
def test_broken_999_is_rejected(pyx12_map_dir: Path, old: str, new: str, expected: str) -> None:
    errors = check_ack(_edit(ACK_999, old, new), pyx12_map_dir)
    assert any(expected in message for message in errors), errors


def test_broken_999_note_is_rejected(pyx12_map_dir: Path) -> None:
    errors = check_ack(_edit(ACK_999_REJECT, "IK4*2*330*7*", "IK4*2*330*99*"), pyx12_map_dir)
    assert errors == [
        "Line:7 ELE:7 - (99) is not a valid code for "
        "Implementation Data Element Syntax Error Code (IK403) (99)"
    ]


def test_text_that_is_not_x12_is_rejected(pyx12_map_dir: Path) -> None:
    errors = check_ack(b"GS*FA*not an interchange~", pyx12_map_dir)
    assert len(errors) == 1
    assert errors[0].startswith("X12Error: ")


def test_pyx12s_own_maps_reject_a_po_group(pyx12_map_dir: Path) -> None:
    # the reason make_map_dir exists: unedited maps only know healthcare groups
    with as_file(files("pyx12") / "map") as original:
        errors = check_ack(ACK_997.encode("ascii"), original)
    assert any("Segment AK1*PO not found" in message for message in errors), errors
    assert check_ack(ACK_997.encode("ascii"), pyx12_map_dir) == []


def test_checker_removes_its_log_handler(pyx12_map_dir: Path) -> None:
    logger = logging.getLogger("pyx12")
    before = (list(logger.handlers), logger.level)
    assert check_ack(_edit(ACK_997, "AK5*A~", "AK5*Q~"), pyx12_map_dir) != []
    assert (list(logger.handlers), logger.level) == before


def _code_lists(map_dir: Path | None, name: str) -> list[tuple[str, list[str | None]]]:
    """Every element of a map as pyx12 loads it, in map order, with its valid codes."""
    root = pyx12.map_if.load_map_file(
        name, pyx12.params.ParamsBase(), None if map_dir is None else str(map_dir)
    )
    found: list[tuple[str, list[str | None]]] = []
    for node in root.loop_segment_iterator():
        if not isinstance(node, pyx12.map_if.segment_if):
            continue
        for child in node.children:
            elements = child.children if isinstance(child, pyx12.map_if.composite_if) else [child]
            for element in elements:
                assert isinstance(element, pyx12.map_if.element_if)
                assert element.external_codes is None  # no ack map uses codes.xml
                found.append((element.get_path(), element.valid_codes))
    return found


@pytest.mark.parametrize("name", ACK_MAPS)
def test_only_ak101_and_ak201_lose_their_code_lists(pyx12_map_dir: Path, name: str) -> None:
    original = _code_lists(None, name)
    edited = _code_lists(pyx12_map_dir, name)
    assert [path for path, _ in edited] == [path for path, _ in original]
    changed = [
        (path, before, after)
        for (path, before), (_, after) in zip(original, edited, strict=True)
        if before != after
    ]
    assert [path.rsplit("/", 1)[1] for path, _, _ in changed] == list(UNRESTRICTED)
    assert all(before and after == [] for _, before, after in changed)
    kept = sum(1 for _, codes in edited if codes)
    assert kept == sum(1 for _, codes in original if codes) - len(UNRESTRICTED) > 0


def test_every_other_map_file_is_an_unchanged_copy(pyx12_map_dir: Path) -> None:
    assert pyx12_map_dir.name == MAP_DIR_NAME
    with as_file(files("pyx12") / "map") as original:
        names = sorted(p.name for p in original.iterdir() if p.suffix == ".xml")
        assert "maps.xml" in names and "codes.xml" in names
        same, different, missing = filecmp.cmpfiles(original, pyx12_map_dir, names, shallow=False)
    assert sorted(different) == sorted(ACK_MAPS)
    assert missing == []
    assert len(same) == len(names) - len(ACK_MAPS)
