"""TA1, 997 and 999 built from real inbound files; every 997/999 is checked by pyx12.

pyx12 (tests/support/pyx12check.py) is an independent checker with HIPAA habits: it
knows only ISA12 00401/00501, only the HIPAA ISA05/ISA07 qualifiers, routes FA groups
only for GS08 004010 and 005010X231(A1), and wants any TA1 after the last GE (X12.5
section 3.5 puts it after the ISA, before the first GS, which is where we write it).
So a reply whose envelope pyx12 knows is checked byte for byte (TA1 moved last), and
the others have each 997/999 checked, unchanged, inside an envelope pyx12 routes
(:func:`_pyx12_errors`). Findings come from ``gateway.x12.validator``: built by hand
for exact expectations, and produced by ``validate_set`` for one end-to-end check.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import TYPE_CHECKING

import pytest

from gateway.x12 import acks
from gateway.x12.acks import (
    GroupAck,
    SetAck,
    ack_kind,
    build_ack_set,
    build_acks,
    build_ta1,
    interchange_rejected,
    needs_ta1,
)
from gateway.x12.codes import ElementErrorCode, SegmentErrorCode, SetAckCode
from gateway.x12.control import MemoryControlNumbers
from gateway.x12.envelope import (
    FunctionalGroup,
    Interchange,
    InterchangeEnd,
    TransactionSet,
    read_envelopes,
)
from gateway.x12.guides import load_guide
from gateway.x12.reader import Delimiters, Segment, X12Reader
from gateway.x12.validator import ElementIssue, SegmentIssue, validate_set
from tests.support.fixtures import pyx12_map_dir  # noqa: F401
from tests.support.pyx12check import check_ack

if TYPE_CHECKING:
    from pathlib import Path

    from gateway.x12.writer import WrittenInterchange

NOW = dt.datetime(2024, 5, 6, 7, 8, tzinfo=dt.UTC)
ISA4 = "ISA*00*          *00*          *ZZ*BUYER          *ZZ*SELLER         *240102*1200*U*00401*000000101*{ack}*T*>~\n"
ISA5 = "ISA*00*          *00*          *ZZ*BUYER          *ZZ*SELLER         *240102*1200*^*00501*000000101*{ack}*P*:~\n"
PO = ["BEG*00*SA*PO1**20240102", "PO1*1*2*EA*9.5**VN*A1", "CTT*1"]


def _issue(
    tag: str,
    position: int,
    loop_id: str | None,
    code: SegmentErrorCode | None,
    *elements: ElementIssue,
) -> SegmentIssue:
    return SegmentIssue(tag, position, loop_id, code, elements, Segment([tag], 0, position))


def _el(
    position: int,
    code: ElementErrorCode,
    bad: str | None = None,
    *,
    component: int | None = None,
    repetition: int | None = None,
    reference: str = "",
) -> ElementIssue:
    return ElementIssue(position, component, repetition, reference, code, bad)


# -- building inbound files and reading replies ---------------------------------------------
def _set(control: str, body: list[str] = PO, *, code: str = "850", st03: str = "") -> str:
    st = f"ST*{code}*{control}" + (f"*{st03}" if st03 else "")
    return "~\n".join([st, *body, f"SE*{len(body) + 2}*{control}"]) + "~\n"


def _group(*sets: str, control: str = "1", gs01: str = "PO", version: str = "004010") -> str:
    gs = f"GS*{gs01}*BUYERAPP*SELLERAPP*20240102*1200*{control}*X*{version}~\n"
    return gs + "".join(sets) + f"GE*{len(sets)}*{control}~\n"


def _interchange(*groups: str, isa: str = ISA4, ack: str = "0", iea: str = "000000101") -> bytes:
    return (isa.format(ack=ack) + "".join(groups) + f"IEA*{len(groups)}*{iea}~\n").encode()


def _inbound(data: bytes) -> list[tuple[Interchange, list[GroupAck]]]:
    """Each interchange with its groups' acks, judging each set by its envelope findings."""
    pending: dict[int, GroupAck] = {}
    out = []
    for event in read_envelopes(X12Reader(data)):
        if isinstance(event, TransactionSet):
            status = SetAckCode.REJECTED if event.errors else SetAckCode.ACCEPTED
            ack = SetAck(event.code, event.control, event.convention, status,
                         tuple(e.code for e in event.errors))  # fmt: skip
            pending.setdefault(id(event.group), GroupAck(event.group)).sets.append(ack)
        elif isinstance(event, InterchangeEnd):
            inter = event.interchange
            out.append((inter, [pending.pop(id(g), GroupAck(g)) for g in inter.groups]))
    return out


def _reply(data: bytes, **kwargs: object) -> WrittenInterchange | None:
    (inter, group_acks), *_ = _inbound(data)
    numbers = MemoryControlNumbers()
    return build_acks(inter, group_acks, control_numbers=numbers, now=NOW, **kwargs)  # type: ignore[arg-type]


def _lines(written: WrittenInterchange | None) -> list[str]:
    assert written is not None
    return written.data.decode().splitlines()


def _pyx12_errors(written: WrittenInterchange, map_dir: Path) -> list[str]:
    """pyx12's findings on each 997/999 of a reply, each in an envelope pyx12 routes.

    The set itself (ST..SE, as written) is unchanged; only ISA05/ISA07, ISA12 and GS08
    are the ones pyx12 knows (00401/004010 for a 997, 00501/005010X231A1 for a 999).
    """
    sets = [e for e in read_envelopes(X12Reader(written.data)) if isinstance(e, TransactionSet)]
    assert sets, "the reply holds no 997/999"
    errors = []
    for ts in sets:
        d = ts.group.interchange.delimiters
        five = ts.code == "999"
        isa = [
            "ISA", "00", " " * 10, "00", " " * 10, "ZZ", "SENDER".ljust(15), "ZZ",
            "RECEIVER".ljust(15), "240506", "0708", (d.repetition or "^") if five else "U",
            "00501" if five else "00401", "000000001", "0", "T", d.component,
        ]  # fmt: skip
        gs08 = "005010X231A1" if five else "004010"
        gs = ["GS", "FA", "SENDER", "RECEIVER", "20240506", "0708", "1", "X", gs08]
        segments = [isa, gs, *(s.elements for s in ts.segments), ["GE", "1", "1"]]
        segments.append(["IEA", "1", "000000001"])
        text = "".join(d.element.join(s) + d.segment + "\n" for s in segments)
        errors += [f"{ts.code} {ts.control}: {e}" for e in check_ack(text.encode(), map_dir)]
    return errors


def _with_ta1_last(data: bytes) -> bytes:
    """The same reply with its TA1 moved after the last GE, where pyx12's maps expect it."""
    lines = data.decode().splitlines(keepends=True)
    ta1 = [ln for ln in lines if ln.startswith("TA1")]
    rest = [ln for ln in lines if not ln.startswith("TA1")]
    return "".join([*rest[:-1], *ta1, rest[-1]]).encode()


# -- samples --------------------------------------------------------------------------------
def test_004010_sample_gets_a_997(samples_dir: Path, pyx12_map_dir: Path) -> None:  # noqa: F811
    written = _reply((samples_dir / "850/stupidedi_850_004010_minimal.edi").read_bytes())
    assert _lines(written) == [
        "ISA*00*          *00*          *ZZ*RECEIVER       *ZZ*SENDER         "
        "*240506*0708*U*00401*000000001*0*T*>~",
        "GS*FA*RECEIVER*SENDER*20240506*0708*1*X*004010~",
        "ST*997*0001~",
        "AK1*PO*1~",
        "AK2*850*0001~",
        "AK5*A~",
        "AK9*A*1*1*1~",
        "SE*6*0001~",
        "GE*1*1~",
        "IEA*1*000000001~",
    ]
    assert written is not None
    assert check_ack(written.data, pyx12_map_dir) == []
    assert (written.interchange_control, written.group_controls) == ("000000001", ("1",))


def test_vics_sample_gets_a_997_in_its_own_envelope_versions(
    samples_dir: Path,
    pyx12_map_dir: Path,  # noqa: F811
) -> None:
    written = _reply((samples_dir / "850/nodex12_850_vics.edi").read_bytes())
    lines = _lines(written)
    # ISA12 follows the inbound (00400); ISA05/06 and ISA07/08 are swapped
    assert lines[0] == (
        "ISA*00*          *00*          *01*999999999      *12*4405197800     "
        "*240506*0708*U*00400*000000001*0*P*>~"
    )
    assert lines[1] == "GS*FA*999999999*4405197800*20240506*0708*1*X*004010VICS~"
    assert lines[2:7] == ["ST*997*0001~", "AK1*PO*1421~", "AK2*850*000000010~", "AK5*A~",
                          "AK9*A*1*1*1~"]  # fmt: skip
    assert written is not None
    assert _pyx12_errors(written, pyx12_map_dir) == []


def test_005010_sample_gets_a_999_rejecting_the_set(
    samples_dir: Path,
    pyx12_map_dir: Path,  # noqa: F811
) -> None:
    written = _reply((samples_dir / "850/stedi_850_005010_gs01_mismatch.edi").read_bytes())
    assert _lines(written) == [
        "ISA*00*          *00*          *14*AMERCHANT      *ZZ*ANOTHERMERCH   "
        "*240506*0708*^*00501*000000001*0*T*>~",
        "GS*FA*072271711TMS*READDEMO*20240506*0708*1*X*005010X231A1~",
        "ST*999*0001*005010X231A1~",
        "AK1*OW*000000057*005010~",
        "AK2*850*000000057~",
        "IK5*R*18~",
        "AK9*R*1*1*0~",
        "SE*6*0001~",
        "GE*1*1~",
        "IEA*1*000000001~",
    ]
    assert written is not None
    assert check_ack(written.data, pyx12_map_dir) == []


def test_ack_requested_gets_a_ta1_before_the_first_group(pyx12_map_dir: Path) -> None:  # noqa: F811
    data = _interchange(_group(_set("0001")), ack="1")
    (inter, _), *_ = _inbound(data)
    assert needs_ta1(inter) and not interchange_rejected(inter)
    lines = _lines(_reply(data))
    assert lines[1] == "TA1*000000101*240102*1200*A*000~"
    assert lines[2].startswith("GS*FA*SELLERAPP*BUYERAPP*")
    assert lines[-1] == "IEA*1*000000001~"
    written = _reply(data)
    assert written is not None
    assert check_ack(_with_ta1_last(written.data), pyx12_map_dir) == []


def test_iea_mismatch_gets_a_ta1_rejection_and_no_997() -> None:
    data = _interchange(_group(_set("0001")), iea="000000999")
    (inter, group_acks), *_ = _inbound(data)
    assert interchange_rejected(inter) and needs_ta1(inter)
    written = build_acks(inter, group_acks, control_numbers=MemoryControlNumbers(), now=NOW)
    # pyx12 cannot check this one: its maps want at least one GS, X12.5 does not
    assert _lines(written)[1:] == ["TA1*000000101*240102*1200*R*001~", "IEA*0*000000001~"]
    assert written is not None and written.group_controls == ()


def test_no_reply_when_nothing_is_due() -> None:
    # an accepted ack needs no ack, and an FA group is never acknowledged
    fa = _group(_set("0001", ["AK1*PO*1", "AK9*A*1*1*1"], code="997"), gs01="FA")
    assert _reply(_interchange(fa)) is None
    lines = _lines(_reply(_interchange(fa, ack="1")))
    assert lines[1:] == ["TA1*000000101*240102*1200*A*000~", "IEA*0*000000001~"]


# -- AK3/AK4 and IK3/IK4 detail -------------------------------------------------------------
def _detailed(kind: str) -> tuple[Interchange, list[GroupAck]]:
    version = "005010" if kind == "999" else "004010"
    isa = ISA5 if kind == "999" else ISA4
    data = _interchange(_group(_set("0001"), _set("0002"), _set("0003"), version=version), isa=isa)
    (inter, (group_ack,)), *_ = _inbound(data)
    # code None: only the elements are wrong, which the ack spells AK304 8
    beg = _issue(
        "BEG",
        2,
        None,
        None,
        _el(3, ElementErrorCode.INVALID_CODE, "ZZ", reference="353"),
        _el(5, ElementErrorCode.TOO_LONG, "X" * 120, component=2),
        _el(2, ElementErrorCode.INVALID_CHARACTER, "bad*value"),
        _el(4, ElementErrorCode.IMPL_CODE_NOT_USED, "QQ", repetition=2, reference="92"),
    )
    extra = _issue("ZZZ", 4, "PO1", SegmentErrorCode.UNRECOGNIZED_SEGMENT)
    unused = _issue("CTT", 5, None, SegmentErrorCode.IMPL_NOT_USED_SEGMENT_PRESENT)
    rejected = SetAckCode.REJECTED
    group_ack.sets = [
        group_ack.sets[0],
        SetAck("850", "0002", "", rejected, (), (beg, extra)),
        SetAck("850", "0003", "", rejected, (), (unused,)),
    ]
    return inter, [group_ack]


def test_997_with_segment_and_element_notes(pyx12_map_dir: Path) -> None:  # noqa: F811
    inter, group_acks = _detailed("997")
    written = build_acks(inter, group_acks, control_numbers=MemoryControlNumbers(), now=NOW)
    body = _lines(written)[3:-3]
    assert body == [
        "AK1*PO*1~",
        "AK2*850*0001~",
        "AK5*A~",
        "AK2*850*0002~",
        "AK3*BEG*2**8~",
        "AK4*3*353*7*ZZ~",
        "AK4*5>2**5*" + "X" * 99 + "~",  # cut to AK404's 99 characters
        "AK4*2**6~",  # the copy holds the element separator: left out
        "AK4*4*92*7*QQ~",  # I6 has no 997 code: 7; no repetition position before 005010
        "AK3*ZZZ*4*PO1*1~",
        "AK5*R*5~",
        "AK2*850*0003~",
        "AK3*CTT*5**2~",  # I4 (not used segment present) becomes 2 (unexpected segment)
        "AK5*R*5~",
        "AK9*P*3*3*1~",
    ]
    assert written is not None
    assert check_ack(written.data, pyx12_map_dir) == []


def test_999_with_segment_and_element_notes(pyx12_map_dir: Path) -> None:  # noqa: F811
    inter, group_acks = _detailed("999")
    written = build_acks(inter, group_acks, control_numbers=MemoryControlNumbers(), now=NOW)
    body = _lines(written)[3:-3]
    assert body == [
        "AK1*PO*1*005010~",
        "AK2*850*0001~",
        "IK5*A~",
        "AK2*850*0002~",
        "IK3*BEG*2**8~",
        "IK4*3*353*7*ZZ~",
        "IK4*5:2**5*" + "X" * 99 + "~",
        "IK4*2**6~",
        "IK4*4::2*92*I6*QQ~",  # the repetition position needs an empty component position
        "IK3*ZZZ*4*PO1*1~",
        "IK5*R*5~",
        "AK2*850*0003~",
        "IK3*CTT*5**I4~",
        "IK5*R*I5~",  # only implementation-guide findings: I5
        "AK9*P*3*3*1~",
    ]
    assert written is not None
    assert check_ack(written.data, pyx12_map_dir) == []


def test_all_rejected_and_kind_override(pyx12_map_dir: Path) -> None:  # noqa: F811
    data = _interchange(_group(_set("0001"), _set("0001")))  # a duplicate ST02: code 23
    (inter, (group_ack,)), *_ = _inbound(data)
    group_ack.sets[0] = dataclasses.replace(group_ack.sets[0], status=SetAckCode.REJECTED)
    replies = {}
    for kind in ("997", "999"):
        written = build_acks(inter, [group_ack], control_numbers=MemoryControlNumbers(),
                             now=NOW, kind_override=kind)  # fmt: skip
        assert written is not None
        k5 = "IK5" if kind == "999" else "AK5"
        assert f"{k5}*R~\nAK2*850*0001~\n{k5}*R*23~\nAK9*R*2*2*0~" in written.data.decode()
        assert _pyx12_errors(written, pyx12_map_dir) == []
        replies[kind] = written.data
    assert b"GS*FA*SELLERAPP*BUYERAPP*20240506*0708*1*X*005010X231A1~" in replies["999"]
    assert b"AK1*PO*1*004010~" in replies["999"]  # a 999 always names the version it acks
    assert b"AK1*PO*1~" in replies["997"]  # a 004010 997 has no AK103


def test_group_rejected_as_a_whole_gets_ak1_and_ak9_only(pyx12_map_dir: Path) -> None:  # noqa: F811
    group = _group(_set("0001"), _set("0002")).replace("GE*2*1", "GE*3*1")
    written = _reply(_interchange(group))
    assert _lines(written)[3:6] == ["AK1*PO*1~", "AK9*R*3*2*0*5~", "SE*4*0001~"]
    assert written is not None
    assert check_ack(written.data, pyx12_map_dir) == []


def test_group_that_cannot_be_echoed_gets_ta1_e_024(pyx12_map_dir: Path) -> None:  # noqa: F811
    data = _interchange(_group(_set("0001"), control="X1"), _group(_set("0001"), control="2"))
    (inter, group_acks), *_ = _inbound(data)
    assert needs_ta1(inter) and not interchange_rejected(inter)
    assert build_ta1(inter, now=NOW)[4:] == ["E", "024"]
    written = build_acks(inter, group_acks, control_numbers=MemoryControlNumbers(), now=NOW)
    lines = _lines(written)
    assert lines[1] == "TA1*000000101*240102*1200*E*024~"
    assert [ln for ln in lines if ln.startswith("AK1")] == ["AK1*PO*2~"]
    assert written is not None
    assert check_ack(_with_ta1_last(written.data), pyx12_map_dir) == []


def test_groups_of_two_versions_get_two_fa_groups(pyx12_map_dir: Path) -> None:  # noqa: F811
    data = _interchange(
        _group(_set("0001"), control="7"),
        _group(_set("0001", st03="005010"), control="8", version="005010"),
        isa=ISA5,
    )
    written = _reply(data, our_id=("01", "OURDUNS"), delimiters=Delimiters("|", "}", "!", "~"))
    lines = _lines(written)
    assert lines[0].startswith("ISA|00|") and "|01|OURDUNS        |ZZ|BUYER          |" in lines[0]
    gs = [ln for ln in lines if ln.startswith("GS")]
    assert [g.split("|")[-1] for g in gs] == ["004010~", "005010X231A1~"]
    assert "AK2|850|0001|005010~" in lines  # AK203 echoes ST03 in a 999
    assert written is not None and written.group_controls == ("1", "2")
    assert _pyx12_errors(written, pyx12_map_dir) == []


def test_caps_bound_a_garbage_file(pyx12_map_dir: Path) -> None:  # noqa: F811
    (inter, (group_ack,)), *_ = _inbound(_interchange(_group(_set("0001"))))
    elements = [_el(1 + j % 30, ElementErrorCode.INVALID_CODE, "X") for j in range(40)]
    noisy = tuple(_issue("PO1", 3 + i, None, None, *elements) for i in range(150))
    rejected = [
        SetAck("850", f"{n:04d}", "", SetAckCode.REJECTED, (), noisy) for n in range(1, 12_001)
    ]
    accepted = [SetAck("850", f"{n:05d}", "", SetAckCode.ACCEPTED) for n in range(1, 101)]
    group_ack.sets = accepted + rejected
    segments = build_ack_set(group_ack, "997")
    tags = [s[0] for s in segments]
    assert tags.count("AK2") == acks.MAX_SET_RESPONSES  # past the cap only rejected sets
    assert segments[1][1:3] == ["850", "0001"]
    assert tags.count("AK3") == acks.MAX_NOTES_PER_ACK
    first_set = tags[: tags.index("AK5")]
    assert first_set.count("AK3") == acks.MAX_SEGMENT_NOTES
    assert first_set.count("AK4") == acks.MAX_SEGMENT_NOTES * acks.MAX_ELEMENT_NOTES
    assert segments[-1] == ["AK9", "P", "1", "12100", "100"]
    written = build_acks(inter, [group_ack], control_numbers=MemoryControlNumbers(), now=NOW)
    assert written is not None and len(written.data) < 1_000_000
    assert check_ack(written.data, pyx12_map_dir) == []


def test_ack_kind() -> None:
    def group(version: str) -> FunctionalGroup:
        data = _interchange(_group(_set("0001"), version=version))
        return _inbound(data)[0][0].groups[0]

    assert [ack_kind(group(v)) for v in ("003040", "004010VICS", "005010X218", "006020", "")] == [
        "997", "997", "999", "999", "997",
    ]  # fmt: skip
    assert ack_kind(group("005010"), "997") == "997"


def test_unreadable_interchange_gets_no_reply() -> None:
    (inter, group_acks), *_ = _inbound(b"ISA*00*short~")
    assert not inter.readable
    assert build_acks(inter, group_acks, control_numbers=MemoryControlNumbers(), now=NOW) is None


@pytest.mark.parametrize(
    ("isa", "version", "kind"), [(ISA4, "004010", "997"), (ISA5, "005010", "999")]
)
def test_real_validator_findings_make_a_valid_ack(
    isa: str,
    version: str,
    kind: str,
    pyx12_map_dir: Path,  # noqa: F811
) -> None:
    bad_date = ["BEG*00*SA*PO1**20241399", "XYZ*1", "PO1*1*2*EA*9.5**VN*A1", "CTT*1"]
    no_po1 = ["BEG*00*SA*PO1", "CTT*A"]
    data = _interchange(
        _group(_set("0001"), _set("0002", bad_date), _set("0003", no_po1), version=version), isa=isa
    )
    group_ack: GroupAck | None = None
    for event in read_envelopes(X12Reader(data)):
        if isinstance(event, TransactionSet):
            guide = load_guide(event.code, event.group.version)
            assert guide is not None
            found = validate_set(event.segments, guide, event.group.interchange.delimiters).issues
            status = SetAckCode.REJECTED if found else SetAckCode.ACCEPTED
            group_ack = group_ack or GroupAck(event.group)
            group_ack.sets.append(SetAck(event.code, event.control, "", status, (), tuple(found)))
    assert group_ack is not None
    inter = group_ack.group.interchange
    written = build_acks(inter, [group_ack], control_numbers=MemoryControlNumbers(), now=NOW)
    lines = _lines(written)
    k = "IK" if kind == "999" else "AK"
    assert lines[2].startswith(f"ST*{kind}*0001")
    assert f"{k}3*XYZ*3**1~" in lines and f"{k}4*5*373*8*20241399~" in lines
    assert f"{k}3*BEG*2**8~" in lines and f"{k}4*5*373*1~" in lines  # BEG05 missing in 0003
    assert lines[-4] == "AK9*P*3*3*1~"
    assert written is not None
    assert check_ack(written.data, pyx12_map_dir) == []


# -- the checker can fail ---------------------------------------------------------------------
@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("AK3*ZZZ*4*PO1*1~", "AK3*ZZZ*4*PO1*99~"),  # no such AK304 code
        ("AK9*P*3*3*1~", ""),  # AK9 missing
        ("AK4*3*353*7*ZZ~", "AK4*3*353*77*ZZ~"),  # no such AK403 code
        ("SE*17*0001~", "SE*16*0001~"),  # wrong segment count
    ],
)
def test_pyx12_rejects_a_broken_997(old: str, new: str, pyx12_map_dir: Path) -> None:  # noqa: F811
    inter, group_acks = _detailed("997")
    written = build_acks(inter, group_acks, control_numbers=MemoryControlNumbers(), now=NOW)
    assert written is not None
    text = written.data.decode()
    assert old in text
    broken = text.replace(old + "\n", new + "\n" if new else "")
    assert check_ack(broken.encode(), pyx12_map_dir) != []


def test_ta1_never_echoes_what_does_not_fit() -> None:
    isa = ISA4.replace("*240102*", "*241399*").replace("*000000101*", "*ABCDEFGHI*")
    data = _interchange(_group(_set("0001")), isa=isa, iea="ABCDEFGHI")
    (inter, group_acks), *_ = _inbound(data)
    assert [e.code for e in inter.errors] == ["014", "018"]
    # TA101 is N0 9/9 and TA102 a date: the first error's code, today's date, zeros
    assert build_ta1(inter, now=NOW) == ["TA1", "000000000", "240506", "1200", "R", "014"]
    written = build_acks(inter, group_acks, control_numbers=MemoryControlNumbers(), now=NOW)
    assert _lines(written)[1:] == ["TA1*000000000*240506*1200*R*014~", "IEA*0*000000001~"]


def test_copy_of_bad_data_never_breaks_the_reply(pyx12_map_dir: Path) -> None:  # noqa: F811
    # a 00501 ISA with "U" in ISA11 names no repetition separator; the reply uses ^
    isa = ISA5.replace("*^*00501*", "*U*00501*")
    (inter, (group_ack,)), *_ = _inbound(
        _interchange(_group(_set("0001"), version="005010"), isa=isa)
    )
    bad = [
        _el(1, ElementErrorCode.INVALID_CODE, "A^B"),
        _el(2, ElementErrorCode.INVALID_CHARACTER, "Caf\xe9"),
        _el(3, ElementErrorCode.INVALID_CHARACTER, "   "),
        _el(4, ElementErrorCode.INVALID_CODE, "OK", reference="not a number"),
    ]
    issue = _issue("BEG", 2, None, SegmentErrorCode.HAS_ELEMENT_ERRORS, *bad)
    group_ack.sets = [SetAck("850", "0001", "", SetAckCode.REJECTED, (), (issue,))]
    written = build_acks(inter, [group_ack], control_numbers=MemoryControlNumbers(), now=NOW)
    lines = _lines(written)
    assert lines[0].split("*")[11] == "^"
    assert lines[6:10] == ["IK4*1**7~", "IK4*2**6~", "IK4*3**6~", "IK4*4**7*OK~"]
    assert written is not None
    assert check_ack(written.data, pyx12_map_dir) == []
