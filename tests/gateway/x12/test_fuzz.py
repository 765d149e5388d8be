"""Mutation fuzzing: mangled real files end as documents or precise errors, never a raise.

Each example takes a real sample, applies a few byte-level mutations of the kinds
that happen in transit (flipped bytes, lost or doubled bytes, stray delimiters,
truncation, spliced files) and runs everything a received file goes through:
translate with mapping, the rejection cascade, and building the reply acks.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateway.pipeline.process import InterchangeResult, SetResult, settle, translate
from gateway.x12.acks import build_acks
from gateway.x12.control import MemoryControlNumbers

FIXTURES = sorted(
    p for p in (Path(__file__).parents[2] / "fixtures" / "x12").rglob("*") if p.is_file()
)
SAMPLES = [p.read_bytes() for p in FIXTURES]
NOW = dt.datetime(2026, 1, 5, 12, 0, tzinfo=dt.UTC)


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    data = bytearray(draw(st.sampled_from(SAMPLES)))
    for _ in range(draw(st.integers(1, 6))):
        if not data:
            break
        at = draw(st.integers(0, len(data) - 1))
        kind = draw(st.sampled_from(["flip", "delete", "insert", "dup", "truncate", "splice"]))
        if kind == "flip":
            data[at] = draw(st.integers(0, 255))
        elif kind == "delete":
            del data[at : at + draw(st.integers(1, 8))]
        elif kind == "insert":
            data[at:at] = draw(
                st.sampled_from([b"*", b"~", b"\n", b":", b"^", b"ISA", b"SE*", b"\xff", b"\x00"])
            )
        elif kind == "dup":
            data[at:at] = data[at : at + draw(st.integers(1, 40))]
        elif kind == "truncate":
            del data[at:]
        else:
            other = draw(st.sampled_from(SAMPLES))
            data[at:at] = other[: draw(st.integers(0, len(other)))]
    return bytes(data)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_mutated_files_end_in_documents_or_precise_errors(data: bytes) -> None:
    numbers = MemoryControlNumbers()
    for item in settle(translate(data)):
        if isinstance(item, SetResult):
            # every set ends as a document or with at least one error, never neither
            assert item.ok or item.errors
            assert all(str(err) for err in item.errors)
        elif isinstance(item, InterchangeResult):
            build_acks(
                item.interchange, [g.ack for g in item.groups], control_numbers=numbers, now=NOW
            )
