"""Shared X12 mapping pieces: element readers and writers, the tree walk, and test helpers.

The helpers at the top (``body``, ``tree_of``, ``sample_sets``) are imported by the other
mapping tests: they build a loop tree shaped like the validator's (``id`` and ``content``)
from a small per-set table of which segments open a loop and which belong to it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING

import pytest

from gateway.errors import MappingError
from gateway.mapping import inbound_mapper, outbound_mapper
from gateway.mapping.x12_common import (
    cents,
    clock,
    collect,
    date_ref,
    day,
    fmt_cents,
    fmt_date,
    fmt_real,
    fmt_time,
    party,
    pid_segments,
    real,
    reference,
    segment,
    select,
    terms,
    walk,
)
from gateway.model import CanonicalDocument, Envelope
from gateway.pipeline.process import SetResult, translate
from gateway.x12.envelope import TransactionSet, read_envelopes
from gateway.x12.reader import Delimiters, Segment, X12Reader

if TYPE_CHECKING:
    from pathlib import Path

# -- helpers shared by the mapping tests ----------------------------------------------------


@dataclass
class Node:
    """A loop of the tree, shaped like the validator's: an id and ordered content."""

    id: str
    content: list[Segment | Node] = field(default_factory=list)


Spec = dict[str, tuple[frozenset[str], "Spec"]]


def _loop(
    members: str = "", **children: tuple[frozenset[str], Spec]
) -> tuple[frozenset[str], Spec]:
    return frozenset(members.split()), children


_N1 = _loop("N2 N3 N4 NX2 REF PER SI FOB TD1 TD5 TD3 TD4 PKG MSG")
_PO1_MEMBERS = (
    "LIN SI CUR CN1 PO3 CTP PAM MEA PWK PO4 REF PER IT8 CSH ITD DIS INC TAX FOB SDQ DTM LDT "
    "TD1 TD5 TD3 TD4 MAN SPI TC2 MSG AMT"
)
_PID = _loop("MEA")
_SAC = _loop("CUR TXI")
_REF = _loop("DTM")
_RMR = _loop("NTE REF DTM", IT1=_loop(REF=_REF, SAC=_SAC), ADX=_loop("NTE PER", REF=_REF))
SPECS: dict[str, Spec] = {
    "850": {
        "SAC": _SAC,
        "N9": _loop("MSG"),
        "N1": _N1,
        "PO1": _loop(_PO1_MEMBERS, PID=_PID, SAC=_SAC, N1=_N1, SCH=_loop("TD1 TD5 REF")),
        "CTT": _loop("AMT"),
    },
    "855": {
        "SAC": _SAC,
        "N9": _loop("MSG DTM"),
        "N1": _N1,
        "PO1": _loop(_PO1_MEMBERS, PID=_PID, SAC=_SAC, ACK=_loop("DTM"), N1=_N1),
        "CTT": _loop("AMT"),
    },
    "810": {
        "N1": _loop("N2 N3 N4 REF PER DMG"),
        "N9": _loop("MSG"),
        "IT1": _loop(
            "CRC QTY CUR IT3 TXI CTP PAM MEA PWK PKG PO4 ITD REF YNQ PER SDQ DTM CAD L7 SR",
            PID=_PID,
            SAC=_SAC,
            N1=_loop("N2 N3 N4 REF PER DMG"),
        ),
        "SAC": _SAC,
        "ISS": _loop("PID"),
    },
    "820": {
        "N1": _loop("N2 N3 N4 REF PER RDM DTM"),
        "ENT": _loop(
            NM1=_loop("N2 N3 N4 REF PER"),
            ADX=_loop("NTE PER DTM", REF=_REF),
            RMR=_RMR,
        ),
        "RMR": _RMR,
    },
    "997": {"AK2": _loop("AK5", AK3=_loop("AK4"))},
    "999": {"2000": _loop("IK5", **{"2100": _loop("IK4 CTX")})},
}
_OPENERS = {"2000": "AK2", "2100": "IK3"}


def tree_of(segments: list[Segment], code: str) -> Node:
    """The loop tree of one set (ST..SE or just a body) under the loop table for ``code``."""
    root = Node("ST")
    stack: list[tuple[Node, frozenset[str], Spec]] = [(root, frozenset(), SPECS[code])]
    for seg in segments:
        tag = seg.elements[0]
        while True:
            node, members, children = stack[-1]
            opened = next((lid for lid in children if _OPENERS.get(lid, lid) == tag), None)
            if opened is not None:
                new = Node(opened, [seg])
                node.content.append(new)
                stack.append((new, *children[opened]))
                break
            if len(stack) > 1 and (tag not in members or tag == _OPENERS.get(node.id, node.id)):
                stack.pop()
                continue
            node.content.append(seg)
            break
    return root


def body(text: str, *, component: str = ":") -> list[Segment]:
    """Segments from a hand-written body: one segment a line, ``*`` between elements."""
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return [Segment(None, i * 100, i + 1, line, ("*", component)) for i, line in enumerate(lines)]


ENVELOPE = Envelope(
    sender_qualifier="ZZ",
    sender_id="BUYER",
    receiver_qualifier="ZZ",
    receiver_id="SELLER",
    interchange_control="000000001",
    group_control="1",
    transaction_control="0001",
    version="004010",
)
DELIMITERS = Delimiters(element="*", component=":", repetition="^", segment="~")


def map_body(code: str, text: str) -> CanonicalDocument:
    """Map a hand-written body of transaction set ``code``."""
    mapper = inbound_mapper(code)
    assert mapper is not None
    return mapper(tree_of(body(text), code), delimiters=DELIMITERS, envelope=ENVELOPE)


def envelope_of(ts: TransactionSet) -> Envelope:
    group = ts.group
    inter = group.interchange
    return Envelope(
        sender_qualifier=inter.sender_qualifier,
        sender_id=inter.sender_id,
        receiver_qualifier=inter.receiver_qualifier,
        receiver_id=inter.receiver_id,
        interchange_control=inter.control,
        group_control=group.control,
        transaction_control=ts.control,
        version=group.version,
        functional_id=group.functional_id,
    )


def sample_documents(path: Path) -> list[CanonicalDocument]:
    """Map every transaction set of a sample file."""
    documents: list[CanonicalDocument] = []
    for event in read_envelopes(X12Reader(path.read_bytes())):
        if isinstance(event, TransactionSet):
            mapper = inbound_mapper(event.code)
            assert mapper is not None
            delimiters = event.group.interchange.delimiters
            tree = tree_of(event.segments, event.code)
            documents.append(mapper(tree, delimiters=delimiters, envelope=envelope_of(event)))
    return documents


def round_trip_segments(segments: list[list[str]], code: str) -> CanonicalDocument:
    """Feed outbound body segments back through the inbound mapper."""
    mapper = inbound_mapper(code)
    assert mapper is not None
    segs = [Segment(list(s), i, i + 1) for i, s in enumerate(segments)]
    return mapper(tree_of(segs, code), delimiters=DELIMITERS, envelope=ENVELOPE)


# -- element readers ---------------------------------------------------------------------------

SEG = body("XXX*1")[0]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("20240315", dt.date(2024, 3, 15)),
        ("240315", dt.date(2024, 3, 15)),
        ("491231", dt.date(2049, 12, 31)),
        ("500101", dt.date(1950, 1, 1)),
        ("991231", dt.date(1999, 12, 31)),
        (" 20240229 ", dt.date(2024, 2, 29)),
        ("", None),
    ],
)
def test_day_reads_both_widths_with_the_century_window(raw: str, expected: dt.date) -> None:
    assert day(raw, SEG, 1, "date") == expected


@pytest.mark.parametrize("raw", ["20230229", "2024031", "2024-03-15", "ABCDEFGH", "²0240315"])
def test_day_rejects_what_is_not_a_date_naming_the_element(raw: str) -> None:
    with pytest.raises(MappingError, match=r"XXX01 \(date\) in segment 1") as info:
        day(raw, SEG, 1, "date")
    assert info.value.path == "XXX01"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("12", Decimal(12)),
        ("12.50", Decimal("12.5")),
        ("-3.25", Decimal("-3.25")),
        (".5", Decimal("0.5")),
        ("1E3", Decimal(1000)),
        ("2.5E-2", Decimal("0.025")),
        (" 7 ", Decimal(7)),
    ],
)
def test_real_reads_x12_decimals_never_floats(raw: str, expected: Decimal) -> None:
    value = real(raw, SEG, 1, "quantity")
    assert isinstance(value, Decimal)
    assert value == expected


@pytest.mark.parametrize("raw", ["+1", "1_000", "NaN", "Infinity", "1,5", "1.2.3", "١٢", "abc"])
def test_real_refuses_what_decimal_takes_but_x12_does_not(raw: str) -> None:
    with pytest.raises(MappingError, match=r"XXX01 .quantity.*expected a decimal number"):
        real(raw, SEG, 1, "quantity")


def test_real_needed_names_the_missing_element() -> None:
    with pytest.raises(MappingError, match=r"XXX02 \(quantity\) in segment 1: required") as info:
        real("", SEG, 2, "quantity", needed=True)
    assert info.value.path == "XXX02"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("150075", Decimal("1500.75")),
        ("-2500", Decimal("-25.00")),
        ("5", Decimal("0.05")),
        ("0", Decimal(0)),
        ("", None),
    ],
)
def test_cents_applies_the_two_implied_decimals(raw: str, expected: Decimal | None) -> None:
    assert cents(raw, SEG, 1, "amount") == expected


@pytest.mark.parametrize("raw", ["1500.75", "12a", "--5", "+5"])
def test_cents_refuses_an_explicit_decimal_point_or_junk(raw: str) -> None:
    with pytest.raises(MappingError, match=r"expected whole cents \(N2\)"):
        cents(raw, SEG, 1, "amount")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("0930", dt.time(9, 30)),
        ("093015", dt.time(9, 30, 15)),
        ("0930155", dt.time(9, 30, 15, 500_000)),
        ("09301525", dt.time(9, 30, 15, 250_000)),
    ],
)
def test_clock_reads_tm_widths(raw: str, expected: dt.time) -> None:
    assert clock(raw, SEG, 1, "time") == expected


def test_clock_refuses_an_impossible_time() -> None:
    with pytest.raises(MappingError, match="XXX03"):
        clock("2460", SEG, 3, "time")


# -- segment readers ---------------------------------------------------------------------------


def test_reference_strips_ids_and_keeps_the_description_as_text() -> None:
    seg = body("REF* DB*P7817948-20 *Caf\xc3\xa9 order")[0]
    assert reference(seg) == {
        "qualifier": "DB",
        "value": "P7817948-20",
        "description": "Café order",
    }


def test_reference_without_value_has_an_empty_value() -> None:
    assert reference(body("REF*ZZ**free text")[0])["value"] == ""


def test_date_ref_reads_time_and_zone_and_falls_back_to_a_d8_period() -> None:
    assert date_ref(body("DTM*011*20240105*1430*ET")[0]) == {
        "qualifier": "011",
        "date": dt.date(2024, 1, 5),
        "time": dt.time(14, 30),
        "time_code": "ET",
    }
    assert date_ref(body("DTM*007****RD8*20240101-20240131")[0])["date"] == dt.date(2024, 1, 1)
    with pytest.raises(MappingError, match="DTM02"):
        date_ref(body("DTM*002")[0])


def test_terms_reads_every_itd_element_with_its_type() -> None:
    seg = body("ITD*01*3*2*20240325*10*20240414*30*1500****2% 10 NET 30")[0]
    assert terms(seg) == {
        "terms_type": "01",
        "basis_date_code": "3",
        "discount_percent": Decimal(2),
        "discount_due_date": dt.date(2024, 3, 25),
        "discount_days": 10,
        "net_due_date": dt.date(2024, 4, 14),
        "net_days": 30,
        "discount_amount": Decimal("15.00"),
        "description": "2% 10 NET 30",
    }


def test_party_reads_n1_to_per_and_leaves_out_an_empty_address() -> None:
    loop = tree_of(
        body(
            """
            N1*BT*ACME  CORP*92*  1234
            N2*ACCOUNTS PAYABLE*FLOOR 3
            N3*1 MAIN ST*SUITE 5
            N3*BUILDING B
            N4*M\xc3\xbcnchen**80331*DE
            PER*IC*JANE DOE*TE*555-1234*EM*jane@example.com*TE*555-9999
            """
        ),
        "850",
    ).content[0]
    assert isinstance(loop, Node)
    assert party(loop) == {
        "role": "BT",
        "name": "ACME  CORP",
        "id_qualifier": "92",
        "id": "1234",
        "additional_names": ("ACCOUNTS PAYABLE", "FLOOR 3"),
        "contacts": (
            {
                "function_code": "IC",
                "name": "JANE DOE",
                "phone": "555-1234",
                "email": "jane@example.com",
            },
        ),
        "address": {
            "lines": ("1 MAIN ST", "SUITE 5", "BUILDING B"),
            "city": "München",
            "state": None,
            "postal_code": "80331",
            "country": "DE",
        },
    }
    bare = tree_of(body("N1*ST*STORE 1\nN4"), "850").content[0]
    assert isinstance(bare, Node)
    assert "address" not in party(bare)


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


# -- writers ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (Decimal("12.50"), "12.5"),
        (Decimal("100"), "100"),
        (Decimal("1E+2"), "100"),
        (Decimal("0.0001"), "0.0001"),
        (Decimal("-0.00"), "0"),
        (Decimal("-3.10"), "-3.1"),
        (None, None),
    ],
)
def test_fmt_real_is_plain_and_short(value: Decimal | None, expected: str | None) -> None:
    assert fmt_real(value) == expected


def test_fmt_cents_writes_whole_cents_and_refuses_fractions() -> None:
    assert fmt_cents(Decimal("1500.75"), "TDS01") == "150075"
    assert fmt_cents(Decimal("-25"), "TDS01") == "-2500"
    assert fmt_cents(Decimal("0.10"), "TDS01") == "10"
    with pytest.raises(MappingError, match=r"TDS01 takes whole cents; 10\.005") as info:
        fmt_cents(Decimal("10.005"), "TDS01")
    assert info.value.path == "TDS01"


def test_fmt_date_and_time() -> None:
    assert fmt_date(dt.date(1999, 1, 2)) == "19990102"
    assert fmt_time(dt.time(9, 5)) == "0905"
    assert fmt_time(dt.time(9, 5, 7)) == "090507"
    assert fmt_time(dt.time(9, 5, 7, 500_000)) == "0905075"
    with pytest.raises(MappingError):
        fmt_time(dt.time(9, 5, 7, 123))


def test_segment_drops_trailing_empties_and_checks_lengths_by_version() -> None:
    assert segment("ITD", "01", None, "2", None, None) == ["ITD", "01", "", "2"]
    ref = "R" * 40
    with pytest.raises(MappingError, match="REF02 is 40 characters; 004010 allows 30"):
        segment("REF", "IA", ref, version="004010")
    assert segment("REF", "IA", ref, version="005010") == ["REF", "IA", ref]


def test_pid_segments_split_long_descriptions_at_spaces() -> None:
    words = " ".join(["WIDGET"] * 20)  # 139 characters
    pids = pid_segments(words, "004010")
    assert [p[:5] for p in pids] == [["PID", "F", "", "", ""]] * 2
    assert all(len(p[5]) <= 80 for p in pids)
    assert " ".join(p[5] for p in pids) == words
    with pytest.raises(MappingError, match="PID05"):
        pid_segments("X" * 81, "004010")


def test_registry_knows_its_codes() -> None:
    assert {c for c in ("850", "810", "820", "855", "997", "999") if inbound_mapper(c)} == {
        "850",
        "810",
        "820",
        "855",
        "997",
        "999",
    }
    assert inbound_mapper("856") is None
    assert outbound_mapper("invoice") is not None
    assert outbound_mapper("purchase_order_ack") is not None
    assert outbound_mapper("purchase_order") is None


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
