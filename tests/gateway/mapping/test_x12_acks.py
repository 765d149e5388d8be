"""997 and 999 functional acknowledgments to ``FunctionalAck``."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from gateway.errors import MappingError
from gateway.model import ElementNote, FunctionalAck, SegmentNote, SetAck
from tests.gateway.mapping.trees import ENVELOPE, map_body, sample_documents

if TYPE_CHECKING:
    from pathlib import Path


def test_997_staedi_simple(samples_dir: Path) -> None:
    (ack,) = sample_documents(samples_dir / "997" / "staedi_997_simple.edi")
    assert isinstance(ack, FunctionalAck)
    assert (ack.ack_type, ack.functional_id, ack.group_control, ack.version) == (
        "997",
        "HC",
        "000001",
        None,
    )
    assert ack.sets == (
        SetAck(
            transaction_set="837",
            control="0021",
            status="R",
            errors=("5",),
            segment_errors=(
                SegmentNote(
                    tag="NM1",
                    position=8,
                    code="8",
                    element_errors=(
                        ElementNote(position=8, reference="66", code="7", bad_value="MI"),
                    ),
                ),
            ),
        ),
    )
    assert (ack.group_status, ack.sets_included, ack.sets_received, ack.sets_accepted) == (
        "R",
        1,
        1,
        0,
    )
    assert ack.envelope is not None and ack.envelope.transaction_control == "0001"


def test_997_stupidedi_004010_accepts_a_824(samples_dir: Path) -> None:
    (ack,) = sample_documents(samples_dir / "997" / "stupidedi_997_004010.edi")
    assert isinstance(ack, FunctionalAck)
    assert (ack.functional_id, ack.group_control) == ("AG", "160")
    assert ack.sets == (SetAck(transaction_set="824", control="0160", status="A"),)
    assert (ack.group_status, ack.sets_accepted) == ("A", 1)


def test_999_two_groups_one_ack_per_set(samples_dir: Path) -> None:
    acks = sample_documents(samples_dir / "999" / "pyx12_999_two_groups.txt")
    assert len(acks) == 4
    for ack in acks:
        assert isinstance(ack, FunctionalAck)
        assert (ack.ack_type, ack.functional_id, ack.group_control, ack.version) == (
            "999",
            "BE",
            "13360001",
            "005010X220A1",
        )
        assert ack.sets == (
            SetAck(transaction_set="834", control="0001", convention="005010X220A1", status="A"),
        )
        assert (ack.group_status, ack.sets_included, ack.sets_received, ack.sets_accepted) == (
            "A",
            1,
            1,
            1,
        )
    assert [
        a.envelope.group_control for a in acks if isinstance(a, FunctionalAck) and a.envelope
    ] == [
        "344666205",
        "344666205",
        "102",
        "102",
    ]


def test_999_x231a1_segment_and_element_notes(samples_dir: Path) -> None:
    (ack,) = sample_documents(samples_dir / "999" / "stupidedi_999_x231a1.edi")
    assert isinstance(ack, FunctionalAck)
    assert [(s.control, s.status, s.errors) for s in ack.sets] == [
        ("0001", "A", ()),
        ("0002", "R", ("5",)),
        ("0003", "R", ("5",)),
    ]
    assert ack.sets[1].segment_errors == (
        SegmentNote(
            tag="CLM",
            position=22,
            code="8",
            element_errors=(ElementNote(position=2, reference="782", code="1"),),
        ),
    )
    assert ack.sets[2].segment_errors == (SegmentNote(tag="REF", position=57, code="3"),)
    assert (ack.group_status, ack.sets_included, ack.sets_received, ack.sets_accepted) == (
        "P",
        3,
        3,
        1,
    )


def test_999_composite_element_position_and_group_errors() -> None:
    ack = map_body(
        "999",
        """
        AK1*PO*1201*005010
        AK2*850*0001*005010
        IK3*PO1*12*PO1*8
        CTX*SITUATIONAL TRIGGER*PO1*12**3:1
        IK4*3:1:2*355*7*XX
        IK4*6**2
        IK5*R*5*I5
        AK9*R*1*1*0*4*5
        """,
    )
    assert ack == FunctionalAck(
        ack_type="999",
        functional_id="PO",
        group_control="1201",
        version="005010",
        sets=(
            SetAck(
                transaction_set="850",
                control="0001",
                convention="005010",
                status="R",
                errors=("5", "I5"),
                segment_errors=(
                    SegmentNote(
                        tag="PO1",
                        position=12,
                        loop_id="PO1",
                        code="8",
                        element_errors=(
                            ElementNote(
                                position=3,
                                component=1,
                                repetition=2,
                                reference="355",
                                code="7",
                                bad_value="XX",
                            ),
                            ElementNote(position=6, code="2"),
                        ),
                    ),
                ),
            ),
        ),
        group_status="R",
        sets_included=1,
        sets_received=1,
        sets_accepted=0,
        group_errors=("4", "5"),
        envelope=ENVELOPE,
    )


@pytest.mark.parametrize(
    ("text", "path"),
    [
        ("AK1*PO*1\nAK2*850*0001\nAK9*R*1*1*0", "AK501"),
        ("AK1*PO*1\nAK2*850*0001\nAK5*A", "AK901"),
        ("AK2*850*0001\nAK5*A\nAK9*A*1*1*1", "AK101"),
        ("AK1*PO*1\nAK2*850*0001\nAK3*PO1*X\nAK5*R\nAK9*R*1*1*0", "AK302"),
        ("AK1*PO*1\nAK2*850*0001\nAK5*Q\nAK9*A*1*1*1", "sets[0].status"),
    ],
)
def test_997_names_what_it_cannot_map(text: str, path: str) -> None:
    with pytest.raises(MappingError) as info:
        map_body("997", text)
    assert info.value.path == path


def test_997_invalid_sample_is_a_mapping_error_not_a_crash(samples_dir: Path) -> None:
    with pytest.raises(MappingError) as info:
        sample_documents(samples_dir / "997" / "staedi_997_repetition_separator.edi")
    assert info.value.path == "AK302"
