"""Write a realistic, deterministic 004010 850 interchange of about a target size.

One ISA/GS holding as many 850 transaction sets as fit, each with BEG, an
optional CUR, REF*DP, ITD, DTM*002, an N1*ST store loop (N3, N4), a number of
PO1 + PID*F lines, CTT and SE. Segments are in 850 table order (ITD, pos 130,
comes before DTM, pos 150, and the N1 loop, pos 310). Terminators are ``~``
plus a newline, the ISA is exactly 106 characters, ISA12 is 00401 and GS08
004010. The same seed and size give the same bytes, and a smaller size gives
a prefix of the same sets (closed with its own SE/GE/IEA counts).

The file is written one set at a time, so memory stays small for any size.

Usage: ``python -m benchmarks.gen850 [--mb 20] [--seed 850] [--lines 10] OUT``
"""

from __future__ import annotations

import argparse
import os
import random
from dataclasses import dataclass
from pathlib import Path

MB = 1_000_000  # benchmark sizes and speeds are in decimal megabytes
TERM = "~\n"
SENDER = "BUYERCO"
RECEIVER = "GATEWAY"
DATE6, DATE8, TIME4 = "240115", "20240115", "1200"
TRAILER_MAX = 64  # GE + IEA, generously

_ITEMS = (
    "WIDGET",
    "GADGET",
    "SPROCKET",
    "FLANGE",
    "BRACKET",
    "HINGE",
    "BOLT SET",
    "CABLE TIE",
    "LED BULB",
    "FILTER",
    "GASKET",
    "VALVE",
)
_COLOURS = ("RED", "BLUE", "BLACK", "WHITE", "GREEN", "STEEL", "BRASS", "CLEAR")
_SIZES = ("SMALL", "MEDIUM", "LARGE", "XL", "MINI", "12IN", "24IN", "3/8 IN")
_STREETS = ("MAIN ST", "OAK AVE", "SOLON RD", "COMMERCE DR", "INDUSTRIAL PKWY", "MARKET ST")
_CITIES = (
    ("SOLON", "OH", "44139"),
    ("DALLAS", "TX", "75201"),
    ("FRESNO", "CA", "93650"),
    ("ALBANY", "NY", "12207"),
    ("TAMPA", "FL", "33602"),
    ("DENVER", "CO", "80202"),
    ("RENO", "NV", "89501"),
)
_UOMS = ("EA", "EA", "EA", "CA", "BX", "DZ")
_CURRENCIES = ("USD", "USD", "CAD")


@dataclass(frozen=True)
class Generated:
    """What :func:`write_850` wrote."""

    path: Path
    size: int
    sets: int
    segments: int


def isa_segment(control: int) -> str:
    """The ISA (106 characters, no terminator line break) for interchange ``control``."""
    isa = (
        f"ISA*00*{'':10}*00*{'':10}*ZZ*{SENDER:<15}*ZZ*{RECEIVER:<15}"
        f"*{DATE6}*{TIME4}*U*00401*{control:09d}*0*P*>~"
    )
    assert len(isa) == 106, len(isa)
    return isa


def _upc(rng: random.Random) -> str:
    """A 12-digit UPC-A with a correct check digit."""
    digits = [rng.randrange(10) for _ in range(11)]
    total = 3 * sum(digits[0::2]) + sum(digits[1::2])
    return "".join(map(str, digits)) + str((10 - total % 10) % 10)


def transaction_set(rng: random.Random, number: int, lines: int) -> tuple[str, int]:
    """One 850 set (ST..SE, terminators included) and its segment count."""
    control = f"{number:04d}"
    store = rng.randrange(1, 2000)
    city, state, zip5 = rng.choice(_CITIES)
    segs = [
        f"ST*850*{control}",
        f"BEG*00*SA*PO{rng.randrange(10**9):09d}**{DATE8}",
    ]
    currency = rng.choice(_CURRENCIES)
    if currency != "USD" or rng.random() < 0.3:
        segs.append(f"CUR*BY*{currency}")
    segs += [
        f"REF*DP*{rng.randrange(1, 999):03d}",
        f"ITD*01*3*{rng.choice((1, 2, 2, 3))}**{rng.choice((10, 15))}**{rng.choice((30, 45, 60))}",
        f"DTM*002*202402{rng.randrange(1, 29):02d}",
        f"N1*ST*STORE {store:04d}*92*{store:04d}",
        f"N3*{rng.randrange(1, 9999)} {rng.choice(_STREETS)}",
        f"N4*{city}*{state}*{zip5}",
    ]
    for line in range(1, lines + 1):
        price = f"{rng.randrange(50, 50000) / 100:.2f}".rstrip("0").rstrip(".")
        segs.append(
            f"PO1*{line}*{rng.randrange(1, 500)}*{rng.choice(_UOMS)}*{price}**UP*{_upc(rng)}"
            f"*VN*{rng.choice('ABCDEFGHJKLMNPRSTVWXYZ')}{rng.randrange(10**6):06d}"
        )
        segs.append(f"PID*F****{rng.choice(_SIZES)} {rng.choice(_COLOURS)} {rng.choice(_ITEMS)}")
    segs.append(f"CTT*{lines}")
    segs.append(f"SE*{len(segs) + 1}*{control}")
    return TERM.join(segs) + TERM, len(segs)


def write_850(path: Path, size: int, *, seed: int = 850, lines: int = 10) -> Generated:
    """Write an interchange of at most ``size`` bytes (at least one set) to ``path``.

    Written to a temporary name and renamed at the end, so a file at ``path``
    is always complete.
    """
    rng = random.Random(seed)
    control = 1
    group = 1
    head = (
        isa_segment(control)
        + "\n"
        + (f"GS*PO*{SENDER}*{RECEIVER}*{DATE8}*{TIME4}*{group}*X*004010{TERM}")
    )
    tmp = path.with_name(path.name + ".part")
    written = len(head)
    sets = segments = 0
    with tmp.open("w", encoding="ascii", newline="") as out:
        out.write(head)
        while True:
            body, count = transaction_set(rng, sets + 1, lines)
            if sets and written + len(body) + TRAILER_MAX > size:
                break
            out.write(body)
            written += len(body)
            sets += 1
            segments += count
        tail = f"GE*{sets}*{group}{TERM}IEA*1*{control:09d}{TERM}"
        out.write(tail)
        written += len(tail)
    os.replace(tmp, path)
    return Generated(path=path, size=written, sets=sets, segments=segments + 4)


def main(argv: list[str] | None = None) -> None:
    """Command line: write the file and say what was written."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.gen850", description=__doc__)
    parser.add_argument("out", type=Path, help="file to write")
    parser.add_argument("--mb", type=float, default=20.0, help="target size in MB (10^6 bytes)")
    parser.add_argument("--seed", type=int, default=850)
    parser.add_argument("--lines", type=int, default=10, help="PO1+PID lines per set")
    args = parser.parse_args(argv)
    made = write_850(args.out, int(args.mb * MB), seed=args.seed, lines=args.lines)
    print(f"{made.path}: {made.size} bytes, {made.sets} sets, {made.segments} segments")


if __name__ == "__main__":
    main()
