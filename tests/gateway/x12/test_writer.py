"""The writer: segments and envelopes that our own reader reads back exactly; control numbers."""

from __future__ import annotations

import datetime as dt
import threading

import pytest

from gateway.errors import ConfigError, MappingError, UsageError
from gateway.x12.control import (
    ControlNumbersExhaustedError,
    MemoryControlNumbers,
    control_scope,
)
from gateway.x12.envelope import GroupEnd, InterchangeEnd, TransactionSet, read_envelopes
from gateway.x12.reader import Delimiters, IsaSegment, X12Reader, text
from gateway.x12.writer import (
    Composite,
    Element,
    OutboundGroup,
    Repeated,
    SegmentWriter,
    TransactionBody,
    WrittenInterchange,
    write_interchange,
)

NOW = dt.datetime(2024, 3, 7, 9, 5, tzinfo=dt.timezone(dt.timedelta(hours=-5)))
US = ("ZZ", "OURCO")
PARTNER = ("01", "123456789")
STAR = Delimiters(element="*", component=":", repetition="^", segment="~", suffix="\n")
PO_BODY = [
    ["BEG", "00", "SA", "PO-1", "", "20240307"],
    ["REF", "DP", "038", "", ""],
    ["PO1", "1", "2", "EA", "9.5", "", "VN", "A1"],
    ["CTT", "1"],
]


def _group(n_sets: int, *, version: str = "004010", convention: str | None = None) -> OutboundGroup:
    return OutboundGroup(
        functional_id="PO",
        sender="OURAPP",
        receiver="THEIRAPP",
        version=version,
        sets=[TransactionBody("850", PO_BODY) for _ in range(n_sets)],
        convention=convention,
    )


def _write(
    groups: list[OutboundGroup],
    *,
    delimiters: Delimiters = STAR,
    version: str = "00401",
    numbers: MemoryControlNumbers | None = None,
    receiver: tuple[str, str] = PARTNER,
) -> WrittenInterchange:
    return write_interchange(
        groups,
        sender=US,
        receiver=receiver,
        delimiters=delimiters,
        control_numbers=numbers or MemoryControlNumbers(),
        now=NOW,
        version=version,
    )


def _read(data: bytes) -> tuple[list[TransactionSet], list[GroupEnd], list[InterchangeEnd]]:
    events = list(read_envelopes(X12Reader(data)))
    return (
        [e for e in events if isinstance(e, TransactionSet)],
        [e for e in events if isinstance(e, GroupEnd)],
        [e for e in events if isinstance(e, InterchangeEnd)],
    )


# -- round trip -----------------------------------------------------------------------------
def test_round_trip_counts_and_control_numbers() -> None:
    written = _write([_group(3), _group(1)])
    sets, groups, inters = _read(written.data)

    assert len(inters) == 1
    inter = inters[0].interchange
    assert inter.errors == [] and inter.warnings == []
    assert inter.control == written.interchange_control == "000000001"
    assert (inter.sender_qualifier, inter.sender_id) == US
    assert (inter.receiver_qualifier, inter.receiver_id) == PARTNER
    assert [g.group.control for g in groups] == list(written.group_controls) == ["1", "2"]
    assert all(g.group.errors == [] for g in groups)
    assert [g.group.set_count for g in groups] == [3, 1]
    assert [s.control for s in sets] == ["0001", "0002", "0003", "0004"]
    assert written.set_controls == (("0001", "0002", "0003"), ("0004",))
    assert all(s.errors == [] and s.complete for s in sets)
    # the body comes back as written, trailing empty elements dropped
    assert [seg.elements for seg in sets[0].segments[1:-1]] == [
        ["BEG", "00", "SA", "PO-1", "", "20240307"],
        ["REF", "DP", "038"],
        ["PO1", "1", "2", "EA", "9.5", "", "VN", "A1"],
        ["CTT", "1"],
    ]
    assert sets[0].segments[-1].elements == ["SE", "6", "0001"]
    assert groups[0].group.ge is not None and groups[0].group.ge.elements == ["GE", "3", "1"]
    assert inter.iea is not None and inter.iea.elements == ["IEA", "2", "000000001"]


def test_isa_is_fixed_width() -> None:
    written = _write([_group(1)])
    first = written.data.split(b"\n")[0].decode()
    # 105 characters up to ISA16, then the terminator: 106 in all
    assert len(first) == 106 and first.endswith(":~")
    assert first == (
        "ISA*00*          *00*          *ZZ*OURCO          *01*123456789      "
        "*240307*0905*U*00401*000000001*0*P*:~"
    )
    gs = written.data.split(b"\n")[1].decode()
    assert gs == "GS*PO*OURAPP*THEIRAPP*20240307*0905*1*X*004010~"


def test_00501_writes_the_repetition_separator_and_st03() -> None:
    body: list[list[Element]] = [
        ["REF", "ZZ", Repeated("A", "B", "")],
        ["PID", "F", "", "", "", Composite("X", "")],
    ]
    group = OutboundGroup(
        "PO", "OURAPP", "THEIRAPP", "005010", [TransactionBody("850", body)], "005010"
    )
    written = _write([group], version="00501")
    lines = written.data.decode().splitlines()
    assert lines[0][82] == "^" and lines[0].split("*")[11:13] == ["^", "00501"]
    assert lines[2:5] == ["ST*850*0001*005010~", "REF*ZZ*A^B~", "PID*F****X~"]
    sets, _, inters = _read(written.data)
    isa = inters[0].interchange.isa
    assert isinstance(isa, IsaSegment) and isa.delimiters.repetition == "^"
    assert sets[0].convention == "005010" and sets[0].errors == []


def test_other_delimiters_are_honoured() -> None:
    pipes = Delimiters(element="|", component="}", repetition="!", segment="\n", suffix="\n")
    body: list[list[Element]] = [
        ["REF", "ZZ", Repeated("A*B", "C~D")],
        ["AK4", Composite("3", "", "2"), "", "7"],
    ]
    group = OutboundGroup("PO", "OURAPP", "THEIRAPP", "005010", [TransactionBody("850", body)])
    written = _write([group], delimiters=pipes, version="00501")
    text = written.data.decode()
    # a newline terminator gets no second line break; * and ~ are plain data here
    assert "\n\n" not in text
    assert text.splitlines()[3:5] == ["REF|ZZ|A*B!C~D", "AK4|3}}2||7"]
    isa = text.splitlines()[0]
    assert len(isa) == 105 and isa.endswith("|}") and isa.split("|")[11] == "!"
    sets, groups, inters = _read(written.data)
    assert inters[0].interchange.errors == [] and groups[0].group.errors == []
    assert sets[0].errors == []
    assert sets[0].segments[1].elements == ["REF", "ZZ", "A*B!C~D"]


def test_repetition_separator_is_data_before_00402() -> None:
    written = _write([OutboundGroup("PO", "OURAPP", "THEIRAPP", "004010", [
        TransactionBody("850", [["REF", "ZZ", "A^B"]])
    ])])  # fmt: skip
    assert b"REF*ZZ*A^B~" in written.data
    assert b"*U*00401*" in written.data
    with pytest.raises(MappingError, match="REF02 has 2 repetitions"):
        _write([OutboundGroup("PO", "OURAPP", "THEIRAPP", "004010", [
            TransactionBody("850", [["REF", "ZZ", Repeated("A", "B")]])
        ])])  # fmt: skip


def test_trailing_empty_components_and_elements_are_dropped() -> None:
    w = SegmentWriter(STAR)
    assert w.segment(["AK4", Composite("3", "", ""), "", "7", ""]) == b"AK4*3**7~\n"
    assert w.segment(["AK4", Composite("", "2"), ""]) == b"AK4*:2~\n"
    assert w.segment(["CTT", Composite("", ""), ""]) == b"CTT~\n"
    assert w.segment(["N1", "ST", "", Repeated("", "")]) == b"N1*ST~\n"


def test_utf8_text_reads_back() -> None:
    written = _write([OutboundGroup("PO", "OURAPP", "THEIRAPP", "004010", [
        TransactionBody("850", [["N1", "ST", "Café Müller"]])
    ])])  # fmt: skip
    sets, _, _ = _read(written.data)
    assert text(sets[0].segments[1].get(2)) == "Café Müller"


# -- refusals -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("value", "path", "what"),
    [
        ("A*B", "N102", "element separator"),
        ("A:B", "N102", "component separator"),
        ("A~B", "N102", "segment terminator"),
        ("A^B", "N102", "repetition separator"),
        ("A\nB", "N102", "control character"),
    ],
)
def test_a_delimiter_inside_a_value_is_refused(value: str, path: str, what: str) -> None:
    numbers = MemoryControlNumbers()
    group = OutboundGroup("PO", "OURAPP", "THEIRAPP", "005010", [
        TransactionBody("850", [["BEG", "00"], ["N1", "ST", value]])
    ])  # fmt: skip
    with pytest.raises(MappingError, match=what) as info:
        _write([group], version="00501", numbers=numbers)
    assert info.value.path == path
    # nothing was written, so no control number was spent
    scope = control_scope(US, PARTNER)
    assert [numbers.last(scope, k) for k in ("interchange", "group", "set")] == [0, 0, 0]


def test_a_delimiter_inside_a_component_names_the_component() -> None:
    with pytest.raises(MappingError) as info:
        SegmentWriter(STAR).segment(["C00", Composite("A", "B*C")])
    assert info.value.path == "C0001-2"


@pytest.mark.parametrize(
    ("kwargs", "path"),
    [
        ({"receiver": ("01", "A" * 16)}, "ISA08"),
        ({"receiver": ("1", "X")}, "ISA07"),
        ({"receiver": ("ZZ", "A*B")}, "ISA08"),
        ({"version": "4010"}, "ISA12"),
    ],
)
def test_envelope_values_that_do_not_fit_are_refused(kwargs: dict[str, object], path: str) -> None:
    with pytest.raises(MappingError) as info:
        _write([_group(1)], **kwargs)  # type: ignore[arg-type]
    assert info.value.path == path


def test_group_values_that_do_not_fit_are_refused() -> None:
    bad = OutboundGroup("PO", "X", "THEIRAPP", "004010", [TransactionBody("850", PO_BODY)])
    with pytest.raises(MappingError, match="GS02"):
        _write([bad])
    bad_set = OutboundGroup("PO", "OURAPP", "THEIRAPP", "004010", [TransactionBody("85", PO_BODY)])
    with pytest.raises(MappingError, match="ST01"):
        _write([bad_set])


@pytest.mark.parametrize(
    "delimiters",
    [
        Delimiters(element="*", component="*", segment="~"),
        Delimiters(element="A", component=":", segment="~"),
        Delimiters(element="**", component=":", segment="~"),
        Delimiters(element="*", component=":", repetition="~", segment="~"),
    ],
)
def test_unusable_delimiters_are_a_config_error(delimiters: Delimiters) -> None:
    with pytest.raises(ConfigError):
        SegmentWriter(delimiters)


def test_naive_datetime_is_refused() -> None:
    with pytest.raises(UsageError):
        write_interchange(
            [_group(1)],
            sender=US,
            receiver=PARTNER,
            delimiters=STAR,
            control_numbers=MemoryControlNumbers(),
            now=dt.datetime(2024, 1, 1),  # noqa: DTZ001 - the point of the test
        )


def test_00501_without_a_repetition_separator_gets_the_default() -> None:
    written = _write([_group(1, version="005010")], delimiters=Delimiters(), version="00501")
    assert written.data.split(b"*")[11] == b"^"


# -- control numbers ------------------------------------------------------------------------
def test_control_numbers_are_never_reused() -> None:
    numbers = MemoryControlNumbers()
    drawn = [numbers.next("a", "interchange") for _ in range(10_000)]
    assert drawn == list(range(1, 10_001))
    assert numbers.next("b", "interchange") == 1  # scopes are independent
    assert numbers.next("a", "group") == 1  # and so are kinds
    assert numbers.next("a", "interchange") == 10_001


def test_control_numbers_are_thread_safe() -> None:
    numbers = MemoryControlNumbers()
    drawn: list[int] = []
    lock = threading.Lock()

    def draw() -> None:
        mine = [numbers.next("s", "set") for _ in range(2_500)]
        with lock:
            drawn.extend(mine)

    threads = [threading.Thread(target=draw) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(drawn) == list(range(1, 10_001))


def test_exhausted_counter_raises_instead_of_wrapping() -> None:
    numbers = MemoryControlNumbers({("s", "interchange"): 999_999_998})
    assert numbers.next("s", "interchange") == 999_999_999
    with pytest.raises(ControlNumbersExhaustedError) as info:
        numbers.next("s", "interchange")
    assert (info.value.scope, info.value.kind) == ("s", "interchange")
    assert numbers.next("s", "group") == 1


def test_unknown_kind_is_a_usage_error() -> None:
    with pytest.raises(UsageError):
        MemoryControlNumbers().next("s", "message")  # type: ignore[arg-type]


def test_interchanges_to_one_partner_share_counters_and_others_do_not() -> None:
    numbers = MemoryControlNumbers()
    first = _write([_group(2)], numbers=numbers)
    second = _write([_group(1)], numbers=numbers)
    other = _write([_group(1)], numbers=numbers, receiver=("ZZ", "SOMEONEELSE"))
    assert (first.interchange_control, second.interchange_control) == ("000000001", "000000002")
    assert second.group_controls == ("2",) and second.set_controls == (("0003",),)
    assert other.interchange_control == "000000001" and other.set_controls == (("0001",),)
    assert control_scope(US, PARTNER) == "ZZ:OURCO>01:123456789"
    assert control_scope(("ZZ", "OURCO   "), (" 01", "123456789")) == control_scope(US, PARTNER)
