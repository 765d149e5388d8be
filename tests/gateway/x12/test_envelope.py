"""Envelope checks: each finding gets its own X12 code, and neighbours survive."""

from __future__ import annotations

from gateway.x12.codes import GroupErrorCode, InterchangeNoteCode, SetErrorCode
from gateway.x12.envelope import GroupEnd, InterchangeEnd, TransactionSet, read_envelopes
from gateway.x12.reader import X12Reader

ISA = "ISA*00*          *00*          *ZZ*BUYER          *ZZ*SELLER         *240102*1200*U*00401*000000101*0*P*>~"
ISA5 = "ISA*00*          *00*          *ZZ*BUYER          *ZZ*SELLER         *240102*1200*^*00501*000000101*0*P*>~"
PO = ["BEG*00*SA*PO1**20240102", "PO1*1*2*EA*9.5**VN*A1", "CTT*1"]


def _set(
    control: str,
    body: list[str] = PO,
    *,
    code: str = "850",
    count: int | None = None,
    se_control: str | None = None,
) -> str:
    n = len(body) + 2 if count is None else count
    return "~".join([f"ST*{code}*{control}", *body, f"SE*{n}*{se_control or control}"]) + "~"


def _interchange(*groups: str, isa: str = ISA, iea: str = "IEA*{n}*000000101~") -> bytes:
    return (isa + "".join(groups) + iea.format(n=len(groups))).encode()


def _group(
    *sets: str,
    control: str = "1",
    gs01: str = "PO",
    version: str = "004010",
    ge_count: int | None = None,
    ge_control: str | None = None,
) -> str:
    n = len(sets) if ge_count is None else ge_count
    return (
        f"GS*{gs01}*BUYER*SELLER*20240102*1200*{control}*X*{version}~"
        + "".join(sets)
        + f"GE*{n}*{ge_control or control}~"
    )


def _events(data: bytes) -> list[object]:
    return list(read_envelopes(X12Reader(data)))


def _sets(data: bytes) -> list[TransactionSet]:
    return [e for e in _events(data) if isinstance(e, TransactionSet)]


def test_clean_interchange() -> None:
    events = _events(_interchange(_group(_set("0001"), _set("0002"))))
    kinds = [type(e).__name__ for e in events]
    assert kinds == ["TransactionSet", "TransactionSet", "GroupEnd", "InterchangeEnd"]
    sets = [e for e in events if isinstance(e, TransactionSet)]
    assert [s.control for s in sets] == ["0001", "0002"]
    assert all(not s.errors and s.complete for s in sets)
    end = events[-1]
    assert isinstance(end, InterchangeEnd) and not end.interchange.errors
    assert end.interchange.sender_id == "BUYER" and end.interchange.control == "000000101"


def test_se_count_and_control_mismatch_only_touch_that_set() -> None:
    data = _interchange(
        _group(_set("0001"), _set("0002", count=9), _set("0003", se_control="0009"), _set("0004"))
    )
    sets = _sets(data)
    assert [[e.code for e in s.errors] for s in sets] == [
        [],
        [SetErrorCode.SEGMENT_COUNT_MISMATCH],
        [SetErrorCode.CONTROL_NUMBER_MISMATCH],
        [],
    ]
    assert "SE01 says '9' segments, the transaction set has 5" in sets[1].errors[0].message
    assert sets[1].errors[0].set_control == "0002" and sets[1].errors[0].group_control == "1"


def test_missing_se_is_trailer_missing() -> None:
    body = "ST*850*0001~BEG*00*SA*PO1**20240102~" + _set("0002")
    sets = _sets(_interchange(_group(body, ge_count=2)))
    assert [e.code for e in sets[0].errors] == [SetErrorCode.TRAILER_MISSING]
    assert not sets[1].errors


def test_duplicate_st02_in_group() -> None:
    sets = _sets(_interchange(_group(_set("0001"), _set("0001"))))
    assert not sets[0].errors
    assert [e.code for e in sets[1].errors] == [SetErrorCode.CONTROL_NUMBER_NOT_UNIQUE]


def test_gs01_must_fit_st01() -> None:
    four = _sets(_interchange(_group(_set("0001"), gs01="IN")))
    assert [e.code for e in four[0].errors] == [SetErrorCode.INVALID_SET_ID]
    five = _sets(_interchange(_group(_set("0001"), gs01="OW", version="005010"), isa=ISA5))
    assert [e.code for e in five[0].errors] == [SetErrorCode.NOT_IN_GROUP]
    assert "expected PO" in five[0].errors[0].message


def test_group_trailer_checks() -> None:
    ends = [
        e
        for e in _events(_interchange(_group(_set("0001"), ge_count=3, ge_control="7")))
        if isinstance(e, GroupEnd)
    ]
    assert sorted(e.code for e in ends[0].group.errors) == sorted(
        [GroupErrorCode.CONTROL_NUMBER_MISMATCH, GroupErrorCode.SET_COUNT_MISMATCH]
    )
    missing = (
        ISA + "GS*PO*BUYER*SELLER*20240102*1200*1*X*004010~" + _set("0001") + "IEA*1*000000101~"
    ).encode()
    ends = [e for e in _events(missing) if isinstance(e, GroupEnd)]
    assert [e.code for e in ends[0].group.errors] == [GroupErrorCode.TRAILER_MISSING]


def test_interchange_trailer_checks() -> None:
    data = _interchange(_group(_set("0001")), iea="IEA*2*000000999~")
    end = _events(data)[-1]
    assert isinstance(end, InterchangeEnd)
    assert sorted(e.code for e in end.interchange.errors) == sorted(
        [InterchangeNoteCode.CONTROL_NUMBER_MISMATCH, InterchangeNoteCode.INVALID_GROUP_COUNT]
    )


def test_isa_field_checks() -> None:
    bad = ISA.replace("*240102*1200*", "*241302*2500*").replace("*0*P*", "*2*Q*")
    end = _events(_interchange(_group(_set("0001")), isa=bad))[-1]
    assert isinstance(end, InterchangeEnd)
    assert {e.code for e in end.interchange.errors} == {
        InterchangeNoteCode.INVALID_DATE,
        InterchangeNoteCode.INVALID_TIME,
        InterchangeNoteCode.INVALID_ACK_REQUESTED,
        InterchangeNoteCode.INVALID_TEST_INDICATOR,
    }


def test_duplicate_gs06_is_flagged_from_005010() -> None:
    five = _events(
        _interchange(
            _group(_set("0001"), version="005010"), _group(_set("0001"), version="005010"), isa=ISA5
        )
    )
    ends = [e for e in five if isinstance(e, GroupEnd)]
    assert [e.code for e in ends[1].group.errors] == [GroupErrorCode.NOT_UNIQUE_IN_INTERCHANGE]


def test_broken_interchange_does_not_sink_the_next() -> None:
    good = _interchange(_group(_set("0001")))
    broken = (
        ISA.replace("*ZZ*BUYER", "*ZZ\nBUYER").encode().replace(b"~", b"\n")
    )  # LF terminator, split ISA
    events = _events(broken + b"\n" + good)
    ends = [e for e in events if isinstance(e, InterchangeEnd)]
    assert len(ends) == 2
    assert not ends[0].interchange.readable and ends[0].interchange.errors
    assert ends[1].interchange.readable and not ends[1].interchange.errors
    assert [s.control for s in events if isinstance(s, TransactionSet)] == ["0001"]
