"""Initech's 004010 820 (its profile's sample) rebuilt with the lines a test needs."""

from __future__ import annotations

from decimal import Decimal
from typing import NamedTuple


class Rmr(NamedTuple):
    """One RMR loop: qualifier, reference, paid, invoice amount, discount, ADX (amount, code)."""

    qualifier: str
    reference: str
    paid: str
    invoice: str | None = None
    discount: str | None = None
    adx: tuple[tuple[str, str], ...] = ()


def initech_820(
    *lines: Rmr,
    amount: str | None = None,
    trace: str = "ACH240422000077",
    isa13: int = 77,
    paid_on: str = "20240422",
) -> bytes:
    """An interchange from INITECHAP with one 820; BPR02 is the lines' total unless given."""
    total = amount or str(sum((Decimal(line.paid) for line in lines), Decimal(0)))
    body = [
        f"BPR*C*{total}*C*ACH*CTX*01*999000001*DA*1234567890*1512345678**01*999000002*DA"
        f"*9876543210*{paid_on}",
        f"TRN*1*{trace}*1512345678",
        "CUR*PR*USD",
        "N1*PR*INITECH CORPORATION*92*INITECH",
        "N1*PE*O2C DEMO SUPPLIER INC*92*V-5521",
        "ENT*1",
    ]
    for line in lines:
        rmr = f"RMR*{line.qualifier}*{line.reference}**{line.paid}"
        if line.invoice or line.discount:
            rmr += f"*{line.invoice or ''}"
        if line.discount:
            rmr += f"*{line.discount}"
        body.append(rmr)
        body += [f"ADX*{a}*{code}" for a, code in line.adx]
    st = ["ST*820*0001", *body]
    control = f"{isa13:09d}"
    segs = [
        f"ISA*00*          *00*          *ZZ*INITECHAP      *ZZ*O2CGATEWAY     *240420*0800*U*00401"
        f"*{control}*0*P*>",
        f"GS*RA*INITECHAP*O2CGATEWAY*20240420*0800*{isa13}*X*004010",
        *st,
        f"SE*{len(st) + 1}*0001",
        f"GE*1*{isa13}",
        f"IEA*1*{control}",
    ]
    return ("~\n".join(segs) + "~\n").encode("ascii")
