"""Inbound files for the pipeline tests, built from the partners' own samples."""

from __future__ import annotations

from tests.pipeline.conftest import PARTNERS

BIGBOX_850 = (PARTNERS / "bigbox" / "samples" / "850.x12").read_bytes()
NORTHWIND_850 = (PARTNERS / "northwind" / "samples" / "850.x12").read_bytes()
ACME_CXML = (PARTNERS / "acme-procure" / "samples" / "order_request.xml").read_bytes()
GLOBEX_XML = (PARTNERS / "globex" / "samples" / "order.xml").read_bytes()
NORTHWIND_INVOICE = (PARTNERS / "northwind" / "samples" / "invoice.json").read_bytes()
SAMPLE_PO = "4500098765"


def _segments(data: bytes) -> list[str]:
    return [s.strip() for s in data.decode("ascii").split("~") if s.strip()]


def bigbox_850s(
    pos: list[str], *, bad: frozenset[int] = frozenset(), isa13: str = "000004711"
) -> bytes:
    """BigBox's sample 850 as one interchange with a set per PO number.

    Sets whose index is in ``bad`` lose BEG03 (the PO number, mandatory): the
    validator rejects them.
    """
    segs = _segments(BIGBOX_850)
    isa = segs[0].replace("000004711", isa13)
    gs = segs[1]
    start = next(i for i, s in enumerate(segs) if s.startswith("ST*"))
    end = next(i for i, s in enumerate(segs) if s.startswith("SE*"))
    body = segs[start + 1 : end]
    out = [isa, gs]
    for n, po in enumerate(pos):
        control = f"{n + 1:04d}"
        lines = [s.replace(SAMPLE_PO, po) for s in body]
        if n in bad:
            lines = ["BEG*00*SA**20240315" if s.startswith("BEG*") else s for s in lines]
        st = [f"ST*850*{control}", *lines]
        out += [*st, f"SE*{len(st) + 1}*{control}"]
    out += [f"GE*{len(pos)}*4711", f"IEA*1*{isa13}"]
    return ("~\n".join(out) + "~\n").encode("ascii")


def with_sender(data: bytes, qualifier: str, sender: str) -> bytes:
    """The same interchange from another ISA sender (ISA05/ISA06 keep their width)."""
    segs = data.decode("ascii").split("~", 1)
    fields = segs[0].split("*")
    fields[5] = qualifier
    fields[6] = sender.ljust(15)
    return ("*".join(fields) + "~" + segs[1]).encode("ascii")
