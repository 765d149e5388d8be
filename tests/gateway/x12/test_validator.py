"""The validator: loop trees and the exact AK3/AK4 (IK3/IK4) codes and positions it reports.

Small hand-written sets pin each code; the corpus test runs every public sample of a set
and release we have a guide for and compares the findings with the list below, each of
which was checked against the sample (it is the sample that breaks the standard).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.x12.codes import ElementErrorCode as Err
from gateway.x12.codes import SegmentErrorCode as SegErr
from gateway.x12.guides import load_guide
from gateway.x12.reader import Delimiters, IsaSegment, Segment, X12Reader
from gateway.x12.validator import (
    MAX_SEGMENT_ISSUES,
    ElementIssue,
    LoopNode,
    SegmentIssue,
    SetValidation,
    validate_set,
)

ISA_4010 = "ISA*00*          *00*          *ZZ*SENDER         *ZZ*RECEIVER       *240115*1200*U*00401*000000001*0*P*>~"
ISA_5010 = "ISA*00*          *00*          *ZZ*SENDER         *ZZ*RECEIVER       *240115*1200*^*00501*000000001*0*P*:~"


def _run(body: str, code: str = "850", version: str = "004010") -> SetValidation:
    """Validate one set written as ``SEG*...~SEG*...`` (ST and SE added, SE01 not checked)."""
    segments, delimiters = _read(body, code, version)
    guide = load_guide(code, version)
    assert guide is not None
    return validate_set(segments, guide, delimiters)


def _read(body: str, code: str, version: str) -> tuple[list[Segment], Delimiters]:
    isa = ISA_5010 if version.startswith("005") else ISA_4010
    text = f"{isa}GS*PO*S*R*20240115*1200*1*X*{version}~ST*{code}*0001~{body}~SE*0*0001~GE*1*1~IEA*1*000000001~"
    items = list(X12Reader(text.encode()))
    isa_seg = items[0]
    assert isinstance(isa_seg, IsaSegment)
    segments = [
        s for s in items if isinstance(s, Segment) and s.tag not in ("ISA", "GS", "GE", "IEA")
    ]
    return segments, isa_seg.delimiters


def _codes(result: SetValidation) -> list[tuple[str, int, str | None, str | None]]:
    return [(i.tag, i.set_position, i.loop_id, i.code and i.code.value) for i in result.issues]


def _shape(node: LoopNode) -> list[object]:
    return [c.tag if isinstance(c, Segment) else {c.id: _shape(c)} for c in node.content]


VALID_850 = (
    "BEG*00*SA*PO123**20240115~CUR*BY*USD~REF*DP*038~ITD*01*3*2**15**30~DTM*002*20240229~"
    "N1*ST*STORE 1*92*0001~N3*1 MAIN ST~N4*SOLON*OH*44139~"
    "PO1*1*10*EA*1.25**UP*012345678905~PID*F****RED WIDGET~"
    "PO1*2*5*CA*-3**VN*A1~PID*F****BLUE~PID*F****SMALL~CTT*2"
)


def test_valid_850_has_no_issues_and_the_standard_loop_tree() -> None:
    result = _run(VALID_850)
    assert result.issues == []
    assert not result.truncated
    assert result.tree.id == "ST"
    assert _shape(result.tree) == [
        "ST", "BEG", "CUR", "REF", "ITD", "DTM",
        {"N1": ["N1", "N3", "N4"]},
        {"PO1": ["PO1", {"PID": ["PID"]}]},
        {"PO1": ["PO1", {"PID": ["PID"]}, {"PID": ["PID"]}]},
        {"CTT": ["CTT"]},
        "SE",
    ]  # fmt: skip
    assert [loop.id for loop in result.tree.loops] == ["N1", "PO1", "PO1", "CTT"]
    assert [s.tag for s in result.tree.loops[0].segments] == ["N1", "N3", "N4"]


def test_missing_beg_is_reported_where_it_was_expected() -> None:
    result = _run("CUR*BY*USD~PO1*1*1*EA*1~CTT*1")
    assert _codes(result) == [("BEG", 2, None, "3")]
    assert result.issues[0].segment.tag == "CUR"
    assert result.issues[0].elements == ()


def test_missing_mandatory_loop_and_segment_inside_a_loop() -> None:
    # 850 without any PO1 (a mandatory loop); 810 LM loop without its mandatory LQ
    assert _codes(_run("BEG*00*SA*PO1**20240115~CTT*0")) == [("PO1", 3, "PO1", "3")]
    result = _run("BIG*20240115*INV1~LM*AG~N9*ZZ*X~TDS*100", "810")
    assert _codes(result) == [("LQ", 4, "LM", "3")]


def test_unrecognized_segment() -> None:
    result = _run("BEG*00*SA*PO1**20240115~ZZZ*1~PO1*1*1*EA*1")
    assert _codes(result) == [("ZZZ", 3, None, "1")]
    assert result.issues[0].segment.get(1) == "1"
    assert "ZZZ" in _shape(result.tree)  # kept where it came


def test_segment_of_another_set_is_6_not_in_set() -> None:
    # BIG is a 004010 segment (the 810's), so it is recognized: but the 850 does not use it
    result = _run("BEG*00*SA*PO1**20240115~BIG*20240115*INV1~PO1*1*1*EA*1")
    assert _codes(result) == [("BIG", 3, None, "6")]


def test_out_of_sequence_7_and_unexpected_2() -> None:
    # BEG again after the PO1 loop: its place in the set is behind us
    late = _run("BEG*00*SA*PO1**20240115~PO1*1*1*EA*1~BEG*00*SA*PO2**20240115")
    assert _codes(late) == [("BEG", 4, "PO1", "7")]
    # MSG belongs to the 850, but only inside N9 and other loops, never after BEG itself
    stray = _run("BEG*00*SA*PO1**20240115~MSG*HELLO~PO1*1*1*EA*1")
    assert _codes(stray) == [("MSG", 3, None, "2")]


def test_segment_over_max_use_and_loop_over_max() -> None:
    per = "PER*BD*A~" * 4
    result = _run(f"BEG*00*SA*PO1**20240115~{per}PO1*1*1*EA*1")
    assert _codes(result) == [("PER", 6, None, "5")]
    sac = "SAC*A*C310~" * 26  # the heading SAC loop repeats at most 25 times
    result = _run(f"BEG*00*SA*PO1**20240115~{sac}PO1*1*1*EA*1")
    assert _codes(result) == [("SAC", 28, "SAC", "4")]
    again = _run("BEG*00*SA*PO1**20240115~BEG*00*SA*PO2**20240115~PO1*1*1*EA*1")
    assert _codes(again) == [("BEG", 3, None, "5")]


def test_po1_loop_over_its_100000_maximum() -> None:
    guide = load_guide("850", "004010")
    assert guide is not None
    lines = [Segment(["PO1", str(i), "1", "EA", "1"], 0, i) for i in range(100_001)]
    segments = [
        Segment(["ST", "850", "0001"], 0, 0),
        Segment(["BEG", "00", "SA", "PO1", "", "20240115"], 0, 0),
        *lines,
        Segment(["SE", "1", "0001"], 0, 0),
    ]
    result = validate_set(segments, guide, Delimiters())
    assert _codes(result) == [("PO1", 100_003, "PO1", "4")]


def _only_element(result: SetValidation) -> tuple[SegmentIssue, ElementIssue]:
    assert len(result.issues) == 1
    issue = result.issues[0]
    assert issue.code == SegErr.HAS_ELEMENT_ERRORS
    assert len(issue.elements) == 1
    return issue, issue.elements[0]


def test_too_long_element_copies_the_bad_value() -> None:
    number = "P" * 23  # BEG03 (324) is AN 1/22
    issue, element = _only_element(_run(f"BEG*00*SA*{number}**20240115~PO1*1*1*EA*1"))
    assert (issue.tag, issue.set_position, issue.loop_id) == ("BEG", 2, None)
    assert element == ElementIssue(3, None, None, "324", Err.TOO_LONG, number)


def test_bad_value_is_cut_to_99_characters() -> None:
    text = "X" * 150  # AK404 / IK404 hold at most 99 characters
    _, element = _only_element(_run(f"BEG*00*SA*{text}**20240115~PO1*1*1*EA*1"))
    assert element.bad_value == "X" * 99


def test_invalid_date_time_and_numbers() -> None:
    _, element = _only_element(_run("BEG*00*SA*PO1**20230229~PO1*1*1*EA*1"))
    assert (element.position, element.code) == (5, Err.INVALID_DATE)
    _, element = _only_element(_run("BEG*00*SA*PO1**20240115~DTM*002*20240101*2460~PO1*1*1*EA*1"))
    assert (element.position, element.reference, element.code) == (3, "337", Err.INVALID_TIME)
    _, element = _only_element(_run("BEG*00*SA*PO1**20240115~PO1*1*1*EA*1~CTT*1.5"))
    assert (element.position, element.code, element.bad_value) == (1, Err.INVALID_CHARACTER, "1.5")
    _, element = _only_element(_run("BEG*00*SA*PO1**20240115~PO1*1*+1*EA*1"))
    assert (element.position, element.code) == (2, Err.INVALID_CHARACTER)
    # an R value counts digits only: 15 digits with a sign and a point still fit 1/15
    assert _run("BEG*00*SA*PO1**20240115~PO1*1*-1234567890.12345*EA*1").issues == []


def test_invalid_code_in_beg01() -> None:
    issue, element = _only_element(_run("BEG*ZQ*SA*PO1**20240115~PO1*1*1*EA*1"))
    assert (issue.tag, issue.set_position) == ("BEG", 2)
    assert element == ElementIssue(1, None, None, "353", Err.INVALID_CODE, "ZQ")


def test_mandatory_element_missing() -> None:
    _, element = _only_element(_run("BEG*00*SA***20240115~PO1*1*1*EA*1"))
    assert element == ElementIssue(3, None, None, "324", Err.MANDATORY_MISSING, None)


def test_syntax_notes() -> None:
    # N1 P0304: N103 without N104
    issue, element = _only_element(_run("BEG*00*SA*PO1**20240115~N1*ST*STORE*92~PO1*1*1*EA*1"))
    assert (issue.tag, issue.loop_id) == ("N1", "N1")
    assert element == ElementIssue(4, None, None, "67", Err.CONDITIONAL_MISSING, None)
    # REF R0203: neither REF02 nor REF03
    _, element = _only_element(_run("BEG*00*SA*PO1**20240115~REF*DP~PO1*1*1*EA*1"))
    assert (element.position, element.code) == (2, Err.CONDITIONAL_MISSING)
    # MEA E0412: MEA04 and MEA12 may not both be present (MEA11/12 are paired)
    _, element = _only_element(
        _run("BEG*00*SA*PO1**20240115~MEA*PD*WT*10*LB*******AB*XY~PO1*1*1*EA*1")
    )
    assert element == ElementIssue(12, None, None, "1271", Err.EXCLUSION_VIOLATED, "XY")


def test_too_many_elements() -> None:
    _, element = _only_element(
        _run("BEG*00*SA*PO1**20240115~PO1*1*1*EA*1~CTT*1*2*3*EA*4*EA*N*EXTRA")
    )
    assert (element.position, element.code, element.bad_value) == (
        8,
        Err.TOO_MANY_ELEMENTS,
        "EXTRA",
    )
    # trailing empty elements are not data
    assert _run("BEG*00*SA*PO1**20240115~PO1*1*1*EA*1~CTT*1********").issues == []


def test_composites() -> None:
    # REF04 is C040: six components at most; the seventh is one too many
    _, element = _only_element(
        _run("BEG*00*SA*PO1**20240115~REF*DP*1**DP>1>DP>2>DP>3>XX~PO1*1*1*EA*1")
    )
    assert element == ElementIssue(4, 7, None, "128", Err.TOO_MANY_COMPONENTS, "DP>1>DP>2>DP>3>XX")
    # a mandatory component missing, and a component too long
    _, element = _only_element(_run("BEG*00*SA*PO1**20240115~REF*DP*1**DP~PO1*1*1*EA*1"))
    assert element == ElementIssue(4, 2, None, "127", Err.MANDATORY_MISSING, None)
    assert _run("BEG*00*SA*PO1**20240115~REF*DP*1**DP>7~PO1*1*1*EA*1").issues == []


def test_repetitions_in_005010() -> None:
    head = "AK1*HC*17456*005010X222~AK2*837*0001~IK3*CLM*22**8"
    ok = _run(f"{head}~CTX*TRIGGER^TRIGGER:2^TRIGGER:3*CLM*43~IK5*R*5~AK9*R*1*1*0", "999", "005010")
    assert ok.issues == []
    reps = "^".join(["T"] * 11)  # CTX01 repeats at most 10 times
    result = _run(f"{head}~CTX*{reps}*CLM~IK5*R*5~AK9*R*1*1*0", "999", "005010")
    issue, element = _only_element(result)
    assert (issue.tag, issue.set_position, issue.loop_id) == ("CTX", 5, "2100")
    assert (element.position, element.repetition, element.code) == (1, 11, Err.TOO_MANY_REPETITIONS)
    # an element that does not repeat may not hold the repetition separator ...
    result = _run("AK1*HC*1~AK2*837*0001^0002~IK5*A~AK9*A*1*1*1", "999", "005010")
    _, element = _only_element(result)
    assert (element.position, element.code, element.bad_value) == (
        2,
        Err.TOO_MANY_REPETITIONS,
        "0001^0002",
    )
    # ... and the component error inside one repetition names that repetition
    result = _run(f"{head}~CTX*T^T:2:3*CLM~IK5*R*5~AK9*R*1*1*0", "999", "005010")
    _, element = _only_element(result)
    assert (element.position, element.component, element.repetition) == (1, 3, 2)
    assert element.code == Err.TOO_MANY_COMPONENTS


def test_004010_has_no_repetition_separator() -> None:
    # ISA11 is U in 004010: a caret is data
    assert _run("BEG*00*SA*PO^1**20240115~PO1*1*1*EA*1").issues == []


def test_ack_loop_ids() -> None:
    result = _run("AK1*PO*1~AK2*850*0001~AK3*BEG*2**8~AK4*999*353*7*ZZ~AK5*R*5~AK9*R*1*1*0", "997")
    issue, element = _only_element(result)
    assert (issue.tag, issue.set_position, issue.loop_id) == ("AK4", 5, "AK3")
    assert (element.position, element.component, element.code) == (1, 1, Err.TOO_LONG)
    result = _run(
        "AK1*HC*1~AK2*837*0001~IK3*CLM*22**8~IK4*2*782*99~IK5*R*5~AK9*R*1*1*0", "999", "005010"
    )
    issue, element = _only_element(result)
    assert (issue.tag, issue.loop_id, element.code) == ("IK4", "2110", Err.INVALID_CODE)


def test_missing_se_is_left_to_the_envelope() -> None:
    segments, delimiters = _read("BEG*00*SA*PO1**20240115~PO1*1*1*EA*1", "850", "004010")
    guide = load_guide("850", "004010")
    assert guide is not None
    without_se = segments[:-1]
    assert validate_set(without_se, guide, delimiters).issues == []
    # what is missing before SE is still reported, at the position after the last segment
    result = validate_set(segments[:2], guide, delimiters)
    assert _codes(result) == [("PO1", 3, "PO1", "3")]
    assert result.issues[0].segment is segments[1]
    assert validate_set([], guide, delimiters).issues == []


def test_issues_are_capped() -> None:
    result = _run("BEG*00*SA*PO1**20240115~" + "ZZZ~" * 200 + "PO1*1*1*EA*1")
    assert len(result.issues) == MAX_SEGMENT_ISSUES
    assert result.truncated


_TAGS = [
    "ST",
    "BEG",
    "REF",
    "N1",
    "N3",
    "PO1",
    "PID",
    "SAC",
    "CTT",
    "SE",
    "BIG",
    "ZZZ",
    "AK2",
    "CTX",
]
_VALUES = st.text(alphabet="0123456789AZaz .-:^>", max_size=12)


@settings(max_examples=300, deadline=None)
@given(
    body=st.lists(st.tuples(st.sampled_from(_TAGS), st.lists(_VALUES, max_size=30)), max_size=40),
    code=st.sampled_from(["850", "810", "997", "999"]),
)
def test_any_sequence_is_validated_without_losing_a_segment(
    body: list[tuple[str, list[str]]], code: str
) -> None:
    version = "005010" if code == "999" else "004010"
    guide = load_guide(code, version)
    assert guide is not None
    segments = [Segment([tag, *values], 0, n) for n, (tag, values) in enumerate(body)]
    delimiters = Delimiters(component=":", repetition="^")
    result = validate_set(segments, guide, delimiters)
    assert _walk(result.tree) == segments
    assert len(result.issues) <= MAX_SEGMENT_ISSUES
    assert all(1 <= i.set_position <= len(segments) + 1 for i in result.issues)
    assert all(len(e.bad_value or "") <= 99 for i in result.issues for e in i.elements)


# -- the public corpus ------------------------------------------------------------------------
def _samples_root() -> Path | None:
    chosen = os.environ.get("O2C_SAMPLES_DIR")
    path = Path(chosen) if chosen else Path(__file__).parents[3].parent / "shared" / "samples"
    return path if path.is_dir() else None


def _sample_names() -> list[str]:
    root = _samples_root()
    if root is None:
        return []
    return sorted(
        str(p.relative_to(root)) for p in root.rglob("*") if p.is_file() and p.suffix != ".md"
    )


# What each sample breaks: '<ST02> <tag>@<position> <AK304>[ <element>:<AK403>...]'.
# Every other set of a release and set we have a guide for validates without an issue.
FINDINGS = {
    # ISS (summary 060) comes before TDS (010): TDS is missing when ISS comes, then late
    "810/oopfactory_810_walmart.txt": ["0001 TDS@16 3", "0001 TDS@17 7", "0001 CAD@18 7"],
    # IT1||4||70: IT102 and IT104 without IT103 break P020304
    "810/stupidedi_810_pipe_elements.edi": ["5639689 IT1@7 8 03:2", "5639689 IT1@9 8 03:2"],
    # TX1 is no X12 segment (TXI was meant)
    "820/oopfactory_820_mortgagebankers.txt": ["123456 TX1@16 1"],
    # masked bank data 'xxxx' in BPR11 (AN 9/9), ' CUSTID0001 ' padded past TRN03's 10
    # characters, and N1*PR*...*01 without N104 (P0304)
    "820/oopfactory_820_scanaenergy_trailing_spaces.txt": [
        "000000001 BPR@2 8 11:4", "000000001 TRN@3 8 03:5", "000000001 N1@6 8 04:2",
    ],
    # BPR10/BPR11 left out (everything after BPR09 shifts by two) and a YYMMDD DTM date
    "820/oopfactory_820_wikipedia_backslash.txt": [
        "987600111 BPR@2 8 10:4 11:4 12:5 13:4 14:5", "987600111 DTM@13 8 02:4",
    ],
    # DTM*037*19980205***19: DTM05 without DTM06 (P0506)
    "850/bots_850_004010_08_wrapped80.x12": ["0001 DTM@4 8 06:2"],
    "mixed/bots_mailbag_8_interchanges.x12": ["0001 DTM@4 8 06:2"],
    # '~' where '$' ends segments: N1 swallows N3, N4 and HL, so PRF comes too late
    "856/stupidedi_856_mixed_terminators.edi": ["0000001 N1@11 8 05:5 06:5 07:3", "0000001 PRF@12 7"],
    # only ST and SE
    "997/staedi_997_empty.edi": ["0001 AK1@2 3", "0001 AK9@2 3"],
    "997/staedi_997_invalid_codes.edi": ["0001 AK1@2 8 01:5", "0001 AK4@5 8 02:6"],
    "997/staedi_997_invalid_min.edi": ["0001 AK1@2 8 01:5"],
    # repetitions and components in elements that have neither
    "997/staedi_997_repetition_separator.edi": ["0001 AK3@4 8 02:12 04:12", "0001 AK4@5 8 04:12"],
    # AK202 '101' and '002': a control number has 4 to 9 characters; CTX06-1 'C023' is no number
    "999/imsweb_999_with_ta1.txt": ["0001 AK2@3 8 02:4"],
    "999/oopfactory_999_dhs_wisconsin.txt": ["2870001 AK2@5 8 02:4", "2870001 CTX@12 8 06:6"],
    "999/staedi_999_invalid.edi": [
        "2870001 IK5@2 2", "2870001 AK1@3 8 01:5", "2870001 AK2@4 8 04:3", "2870001 IK5@5 8 01:7",
        "2870001 IK5@6 5", "2870001 CTX@14 8 06:6",
    ],
}  # fmt: skip


def _sets(data: bytes) -> list[tuple[str, list[Segment], Delimiters]]:
    """The ST..SE runs of a file (SE may be missing), with their GS08 and delimiters."""
    found: list[tuple[str, list[Segment], Delimiters]] = []
    version, delimiters, current = "", Delimiters(), None
    for item in X12Reader(data):
        if isinstance(item, IsaSegment):
            delimiters = item.delimiters
        if not isinstance(item, Segment):
            continue
        tag = item.tag
        if tag == "GS":
            version = item.get(8).strip()
        elif tag == "ST":
            current = [item]
            found.append((version, current, delimiters))
        elif tag in ("GE", "IEA", "ISA"):
            current = None
        elif current is not None:
            current.append(item)
            if tag == "SE":
                current = None
    return found


def _walk(node: LoopNode) -> list[Segment]:
    return [s for c in node.content for s in ([c] if isinstance(c, Segment) else _walk(c))]


@pytest.mark.corpus
@pytest.mark.parametrize("name", _sample_names())
def test_sample(name: str) -> None:
    root = _samples_root()
    assert root is not None
    findings = []
    for version, segments, delimiters in _sets((root / name).read_bytes()):
        guide = load_guide(segments[0].get(1), version)
        if guide is None:
            continue
        result = validate_set(segments, guide, delimiters)
        assert _walk(result.tree) == segments  # every segment lands in the tree, in order
        control = segments[0].get(2)
        for issue in result.issues:
            code = issue.code.value if issue.code else "-"
            elements = "".join(f" {e.position:02d}:{e.code.value}" for e in issue.elements)
            findings.append(f"{control} {issue.tag}@{issue.set_position} {code}{elements}")
    assert findings == FINDINGS.get(name, [])


def test_every_expected_finding_names_a_sample() -> None:
    names = _sample_names()
    if not names:
        pytest.skip("shared/samples not found")
    assert set(FINDINGS) <= set(names)
