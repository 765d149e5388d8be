"""The streaming reader against real files and the quirks partners send."""

from __future__ import annotations

import io
import random
from pathlib import Path

import pytest

from gateway.x12.codes import InterchangeNoteCode
from gateway.x12.reader import BrokenInterchange, IsaSegment, Segment, X12Reader, text

FIXTURES = Path(__file__).parents[2] / "fixtures" / "x12"
ALL = sorted(p for p in FIXTURES.rglob("*") if p.is_file())


def _read(data: bytes, chunk_size: int = 1 << 20) -> list[Segment | BrokenInterchange]:
    return list(X12Reader(io.BytesIO(data), chunk_size=chunk_size))


def _shape(items: list[Segment | BrokenInterchange]) -> list[tuple[object, ...]]:
    out: list[tuple[object, ...]] = []
    for it in items:
        if isinstance(it, BrokenInterchange):
            out.append(("broken", it.error.code, it.error.message))
        else:
            out.append((tuple(it.elements), it.offset, it.number))
    return out


VICS = (FIXTURES / "850" / "nodex12_850_vics.edi").read_bytes()


@pytest.mark.parametrize("path", ALL, ids=lambda p: f"{p.parent.name}/{p.name}")
@pytest.mark.parametrize("chunk_size", [1, 7, 64, 4096])
def test_chunk_size_never_changes_the_result(path: Path, chunk_size: int) -> None:
    data = path.read_bytes()
    assert _shape(_read(data, chunk_size)) == _shape(_read(data))


@pytest.mark.parametrize("path", ALL, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_offsets_point_at_the_segment_id(path: Path) -> None:
    data = path.read_bytes()
    for it in _read(data):
        if isinstance(it, Segment) and not isinstance(it, IsaSegment):
            raw = data[it.offset : it.offset + len(it.tag)].decode("latin-1")
            assert raw == it.tag


def test_delimiters_come_from_the_isa() -> None:
    items = _read(VICS)
    isa = items[0]
    assert isinstance(isa, IsaSegment)
    assert (isa.delimiters.element, isa.delimiters.component, isa.delimiters.segment) == (
        "*",
        ">",
        "~",
    )
    assert isa.delimiters.repetition is None  # ISA11 "U" before 00402
    pipe = _read((FIXTURES / "810" / "stupidedi_810_pipe_elements.edi").read_bytes())[0]
    assert isinstance(pipe, IsaSegment) and pipe.delimiters.element == "|"
    rep = _read((FIXTURES / "855" / "stedi_855_005010.edi").read_bytes())[0]
    assert isinstance(rep, IsaSegment) and rep.delimiters.repetition == "^"


def test_bom_indentation_and_crlf_are_tolerated() -> None:
    body = VICS.decode("latin-1").replace("~\n", "~\r\n    ").encode("latin-1")
    assert [s.elements for s in _read(b"\xef\xbb\xbf  " + body)] == [
        s.elements for s in _read(VICS)
    ]


@pytest.mark.parametrize(
    "terminator", [b"\n", b"\r", b"\r\n", b"\x15", b"\x15\r\n", b"\xe2\x80\xa6\n"]
)
def test_other_segment_terminators(terminator: bytes) -> None:
    data = VICS.replace(b"~\n", b"~").replace(b"~", terminator)
    items = _read(data)
    assert all(isinstance(i, Segment) for i in items)
    assert [s.elements for s in items] == [s.elements for s in _read(VICS)]


def test_hard_wrapped_at_80_columns() -> None:
    flat = VICS.replace(b"~\n", b"~")
    wrapped = b"\n".join(flat[i : i + 80] for i in range(0, len(flat), 80))
    assert [s.elements for s in _read(wrapped)] == [s.elements for s in _read(VICS)]


def test_ebcdic_cp037() -> None:
    flat = (
        VICS.decode("latin-1").replace("~\n", "~").replace("~", "\x85")
    )  # NEL terminator, as EBCDIC hosts send
    data = flat.encode("cp037")
    records = b"".join(data[i : i + 80].ljust(80, b"\x40") for i in range(0, len(data), 80))
    segs = _read(records)
    assert [s.elements for s in segs] == [s.elements for s in _read(VICS)]


def test_several_interchanges_with_their_own_delimiters() -> None:
    other = (FIXTURES / "810" / "stupidedi_810_pipe_elements.edi").read_bytes()
    items = _read(VICS + b"\n" + other)
    isas = [i for i in items if isinstance(i, IsaSegment)]
    assert [i.delimiters.element for i in isas] == ["*", "|"]
    assert sum(1 for i in items if isinstance(i, Segment) and i.tag == "IEA") == 2


def test_unpadded_isa_is_read_with_warnings() -> None:
    data = (FIXTURES / "810" / "indice_810_ariba_unpadded_tabs.edi").read_bytes()
    isa = _read(data)[0]
    assert isinstance(isa, IsaSegment)
    assert isa.warnings and "ISA02" in isa.warnings[0]


def test_nbsp_padding_is_rejected_precisely() -> None:
    data = (FIXTURES / "850" / "indice_850_nbsp_isa.edi").read_bytes()
    (item,) = _read(data)
    assert isinstance(item, BrokenInterchange)
    assert item.error.code == InterchangeNoteCode.INVALID_CONTROL_STRUCTURE
    assert "ISA02" in item.error.message and "0xC2" in item.error.message
    assert item.error.position.offset == 3  # after the BOM


def test_isa_split_by_the_terminator_is_rejected() -> None:
    data = (FIXTURES / "855" / "stupidedi_855_isa_split.edi").read_bytes()
    (item,) = _read(data)
    assert isinstance(item, BrokenInterchange)
    assert "after ISA10" in item.error.message


def test_missing_iea_is_premature_end() -> None:
    data = VICS[: VICS.index(b"IEA")]
    items = _read(data)
    assert isinstance(items[-1], BrokenInterchange)
    assert items[-1].error.code == InterchangeNoteCode.PREMATURE_END_OF_FILE


def test_garbage_before_isa_is_reported_and_skipped() -> None:
    items = _read(b"HELLO THERE\n" + VICS)
    assert isinstance(items[0], BrokenInterchange)
    assert "expected an ISA" in items[0].error.message
    assert isinstance(items[1], IsaSegment)


def test_new_isa_before_iea() -> None:
    cut = VICS[: VICS.index(b"IEA")]
    items = _read(cut + VICS)
    broken = [i for i in items if isinstance(i, BrokenInterchange)]
    assert len(broken) == 1 and broken[0].error.code == InterchangeNoteCode.PREMATURE_END_OF_FILE
    assert sum(1 for i in items if isinstance(i, IsaSegment)) == 2


def test_trailing_component_separator_means_absent_components() -> None:
    data = (FIXTURES / "850" / "indice_850_tilde_component_separator.edi").read_bytes()
    st = next(s for s in _read(data) if isinstance(s, Segment) and s.tag == "ST")
    assert st.elements == ["ST", "850", "0001"]


def test_text_redecodes_utf8() -> None:
    assert text("Caf\xc3\xa9") == "Café"
    assert text("Caf\xe9") == "Caf\xe9"  # not UTF-8: left as read
    assert text("plain") == "plain"


def test_empty_and_whitespace_input() -> None:
    assert _read(b"") == []
    assert _read(b"  \r\n ") == []


_ISA_STAR = (
    b"ISA*00*          *00*          *ZZ*SENDER         *ZZ*RECEIVER       "
    b"*240115*1200*U*00401*000000001*0*P*>~"
)
_ISA_PIPE = _ISA_STAR.replace(b"*", b"|").replace(b"000000001", b"000000002")
# what may follow a terminator: blank lines, indentation, spaces before it, CRLF, nothing
_JOINS = [b"~\n", b"~\n", b"~\n", b"~", b"~\r\n", b"  ~\n", b"~\n\n", b"~\n   ", b"~\t"]


def _interchange(
    rng: random.Random, isa: bytes, sets: int, joins: list[bytes]
) -> tuple[bytes, list[tuple[list[str], int]]]:
    """An interchange and, for each segment after the ISA, its elements and its offset."""
    sep = isa[3:4].decode()
    body = [f"GS{sep}PO{sep}S{sep}R{sep}20240115{sep}1200{sep}1{sep}X{sep}004010"]
    for n in range(sets):
        lines = [f"PO1{sep}{i}{sep}{rng.randint(1, 999)}{sep}EA" for i in range(rng.randint(1, 30))]
        body += [f"ST{sep}850{sep}{n:04d}", *lines, f"SE{sep}{len(lines) + 2}{sep}{n:04d}"]
    body += [f"GE{sep}{sets}{sep}1", f"IEA{sep}1{sep}{isa[90:99].decode()}"]
    data = bytearray(isa + b"\n")
    expected = []
    for line in body:
        expected.append((line.split(sep), len(data)))
        data += line.encode() + rng.choice(joins)
    return bytes(data), expected


@pytest.mark.parametrize("noisy", [False, True], ids=["clean", "noisy"])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_clean_and_noisy_chunks_give_exact_segments_and_offsets(seed: int, noisy: bool) -> None:
    # big clean chunks take the reader's fast path, noisy ones the careful one: same result
    rng = random.Random(seed)
    joins = _JOINS if noisy else [b"~\n"]
    first, want_first = _interchange(rng, _ISA_STAR, 40, joins)
    second, want_second = _interchange(rng, _ISA_PIPE, 40, joins)
    data = first + second
    want = [*want_first, *[(els, at + len(first)) for els, at in want_second]]
    for chunk_size in (1 << 20, 4096, 333, 64, 7):
        items = _read(data, chunk_size)
        assert [type(i) for i in items].count(IsaSegment) == 2
        segs = [i for i in items if not isinstance(i, IsaSegment)]
        assert [(s.elements, s.offset) for s in segs if isinstance(s, Segment)] == want
        assert [i.number for i in items if isinstance(i, Segment)] == list(range(1, len(items) + 1))


def test_new_isa_inside_a_clean_chunk_is_reported_at_its_offset() -> None:
    rng = random.Random(4)
    first, _ = _interchange(rng, _ISA_STAR, 30, [b"~\n"])
    cut = first[: first.index(b"GE*")]
    second, _ = _interchange(rng, _ISA_STAR.replace(b"000000001", b"000000002"), 3, [b"~\n"])
    items = _read(cut + second)
    broken = [i for i in items if isinstance(i, BrokenInterchange)]
    assert len(broken) == 1
    assert broken[0].error.code == InterchangeNoteCode.PREMATURE_END_OF_FILE
    assert broken[0].error.position.offset == len(cut)
    isa2 = next(i for i in items[1:] if isinstance(i, IsaSegment))
    assert isa2.offset == len(cut) and isa2.get(13) == "000000002"
    assert isa2.number == broken[0].error.position.segment  # the ISA the error points at


@pytest.mark.parametrize("path", ALL, ids=lambda p: f"{p.parent.name}/{p.name}")
@pytest.mark.parametrize("chunk_size", [64, 1 << 20])
def test_splitting_while_reading_gives_the_same_segments(path: Path, chunk_size: int) -> None:
    data = path.read_bytes()
    eager = list(X12Reader(io.BytesIO(data), chunk_size=chunk_size, elements=True))
    assert _shape(eager) == _shape(_read(data, chunk_size))


def test_splitting_while_reading_keeps_the_trailing_component_rule() -> None:
    rng = random.Random(5)
    plain, want = _interchange(rng, _ISA_STAR, 5, [b"~\n"])
    split = [i for i in X12Reader(plain, elements=True) if isinstance(i, Segment)]
    assert [s.elements for s in split[1:]] == [els for els, _ in want]
    assert all(s._elements is not None for s in split)  # split as read, not on first access
    # a component separator in the chunk: split on access, where "PO1*1*2*EA>" loses its ">"
    composite = plain.replace(b"*EA~", b"*EA>~", 1)
    segs = [i for i in X12Reader(composite, elements=True) if isinstance(i, Segment)]
    assert [s.elements for s in segs[1:]] == [els for els, _ in want]
