"""Functional acknowledgement models: status codes and positions are checked."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from gateway.model import ElementNote, FunctionalAck, SegmentNote, SetAck

GROUP: dict[str, Any] = {
    "ack_type": "997",
    "functional_id": "IN",
    "group_control": "12",
    "group_status": "P",
    "sets_included": 2,
    "sets_received": 2,
    "sets_accepted": 1,
}


@pytest.mark.parametrize("status", ["A", "E", "M", "R", "W", "X"])
def test_set_status_codes(status: str) -> None:
    assert SetAck(transaction_set="810", control="0001", status=status).status == status


@pytest.mark.parametrize("status", ["P", "a", "", "AE"])
def test_set_status_refuses_other_codes(status: str) -> None:
    with pytest.raises(ValidationError, match="status"):
        SetAck.model_validate({"transaction_set": "810", "control": "0001", "status": status})


def test_partial_acceptance_is_a_group_status_only() -> None:
    assert FunctionalAck.model_validate(GROUP).group_status == "P"


@pytest.mark.parametrize(
    ("field", "value"),
    [("ack_type", "998"), ("group_status", "Q"), ("sets_received", -1)],
)
def test_group_fields_are_checked(field: str, value: object) -> None:
    with pytest.raises(ValidationError) as info:
        FunctionalAck.model_validate(GROUP | {field: value})
    assert [e["loc"] for e in info.value.errors()] == [(field,)]


@pytest.mark.parametrize("position", [0, -3])
def test_positions_are_one_based(position: int) -> None:
    with pytest.raises(ValidationError, match="greater than or equal to 1"):
        SegmentNote(tag="N1", position=position)
    with pytest.raises(ValidationError, match="greater than or equal to 1"):
        ElementNote(position=1, component=position, code="7")


def test_999_notes_nest_and_round_trip() -> None:
    note = ElementNote(position=2, component=1, repetition=2, code="I12", bad_value="X")
    ack = FunctionalAck.model_validate(
        GROUP
        | {
            "ack_type": "999",
            "sets": [
                SetAck(
                    transaction_set="810",
                    control="0002",
                    convention="005010",
                    status="R",
                    errors=("5",),
                    segment_errors=(SegmentNote(tag="IT1", position=7, element_errors=(note,)),),
                )
            ],
        }
    )
    again = FunctionalAck.model_validate_json(ack.model_dump_json())
    assert again == ack
    assert again.sets[0].segment_errors[0].element_errors == (note,)
