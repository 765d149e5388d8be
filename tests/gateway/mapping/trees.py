"""Loop trees for the mapping tests, and the mapper calls built on them.

A plain module (not fixtures) because the values are used at import time in
parametrize lists and module constants. :func:`tree_of` builds a loop tree shaped like
the validator's (``id`` and ``content``) from a small per-set table of which segments
open a loop and which belong to it; ``test_x12_loops`` checks it maps like the
validator's own tree.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from gateway.mapping import inbound_mapper
from gateway.model import CanonicalDocument, Envelope
from gateway.pipeline.process import envelope_of
from gateway.x12.envelope import TransactionSet, read_envelopes
from gateway.x12.reader import Delimiters, Segment, X12Reader

if TYPE_CHECKING:
    from pathlib import Path


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
