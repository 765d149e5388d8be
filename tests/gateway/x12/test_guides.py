"""The implementation-guide data and its loader: every file loads, is consistent, and says
what the X12 releases say where they differ."""

from __future__ import annotations

from importlib.resources import files
from typing import TYPE_CHECKING

import pytest
import yaml

from gateway.errors import ConfigError
from gateway.x12.guide_spec import SetSpec
from gateway.x12.guides import (
    LoopDef,
    SegmentUse,
    available_guides,
    base_version,
    compile_guide,
    load_guide,
    preload,
)

if TYPE_CHECKING:
    from collections.abc import Iterator

GUIDES = files("gateway.x12") / "guides"
EXPECTED = {
    ("810", "004010"), ("810", "005010"), ("820", "004010"), ("820", "005010"),
    ("850", "004010"), ("850", "005010"), ("855", "004010"), ("855", "005010"),
    ("856", "004010"), ("856", "005010"), ("997", "004010"), ("997", "005010"),
    ("999", "005010"),
}  # fmt: skip


def _raw(release: str, name: str) -> dict[str, object]:
    data = yaml.safe_load((GUIDES / release / name).read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def _walk(nodes: list[dict[str, object]], path: str) -> Iterator[tuple[str, dict[str, object]]]:
    for node in nodes:
        yield path, node
        if "loop" in node:
            yield from _walk(node["children"], f"{path}/{node['loop']}")  # type: ignore[arg-type]


def test_every_release_and_set_has_a_guide() -> None:
    assert set(available_guides()) == EXPECTED


@pytest.mark.parametrize(("code", "release"), sorted(EXPECTED))
def test_guide_file_is_consistent(code: str, release: str) -> None:
    """Checked on the raw YAML, apart from the loader: every segment, element and
    composite is defined, loop ids are unique among siblings and loops open with a segment."""
    elements = _raw(release, "elements.yaml")
    dictionary = _raw(release, "segments.yaml")
    segments: dict[str, dict[str, list[dict[str, object]]]] = dictionary["segments"]  # type: ignore[assignment]
    composites: dict[str, dict[str, list[dict[str, str]]]] = dictionary["composites"]  # type: ignore[assignment]
    spec = _raw(release, f"{code}.yaml")
    assert (spec["transaction_set"], spec["version"]) == (code, release)
    structure: list[dict[str, object]] = spec["structure"]  # type: ignore[assignment]
    problems = []
    for path, node in _walk(structure, ""):
        if "segment" in node and node["segment"] not in segments:
            problems.append(f"{path}: segment {node['segment']} undefined")
        if "loop" in node:
            children: list[dict[str, object]] = node["children"]  # type: ignore[assignment]
            ids = [c["loop"] for c in children if "loop" in c]
            if len(ids) != len(set(ids)):
                problems.append(f"{path}/{node['loop']}: loop ids repeat: {ids}")
            if "segment" not in children[0] or children[0]["max"] != 1:
                problems.append(f"{path}/{node['loop']}: does not open with a segment used once")
    for tag, seg in segments.items():
        for use in seg["elements"]:
            if "composite" in use and use["composite"] not in composites:
                problems.append(f"{tag}: composite {use['composite']} undefined")
            if "ref" in use and use["ref"] not in elements:
                problems.append(f"{tag}: element {use['ref']} undefined")
    for cid, comp in composites.items():
        problems += [
            f"{cid}: element {c['ref']} undefined"
            for c in comp["components"]
            if c["ref"] not in elements
        ]
    assert problems == []
    assert [structure[0].get("segment"), structure[-1].get("segment")] == ["ST", "SE"]
    guide = load_guide(code, release)
    assert guide is not None
    assert (guide.transaction_set, guide.version) == (code, release)


@pytest.mark.parametrize(
    ("gs08", "base"),
    [
        ("004010", "004010"),
        ("004010VICS", "004010"),
        ("004010X357", "004010"),
        ("004010UCS", "004010"),
        (" 005010X231A1 ", "005010"),
        ("005010", "005010"),
        ("003010", None),
        ("004030", None),
        ("004060", None),
        ("00401", None),
        ("", None),
    ],
)
def test_base_version(gs08: str, base: str | None) -> None:
    assert base_version(gs08) == base


def test_load_guide_normalises_the_version_and_caches() -> None:
    guide = load_guide("850", "004010VICS")
    assert guide is load_guide("850", "004010")
    assert guide is not None and guide.version == "004010"
    assert load_guide("850", "004030") is None  # the caller rejects the version
    assert load_guide("999", "004010") is None  # there is no 004010 999
    assert load_guide("812", "004010") is None
    assert load_guide("../x", "004010") is None


def test_functional_groups_and_names() -> None:
    groups = {code: load_guide(code, base).functional_group for code, base in EXPECTED}  # type: ignore[union-attr]
    assert groups == {
        "810": "IN", "820": "RA", "850": "PO", "855": "PR", "856": "SH", "997": "FA", "999": "FA",
    }  # fmt: skip


def test_preload_compiles_every_guide() -> None:
    assert {(g.transaction_set, g.version) for g in preload()} == EXPECTED


def _child(loop: LoopDef, name: str) -> SegmentUse | LoopDef:
    for child in loop.children:
        if (child.tag if isinstance(child, SegmentUse) else child.id) == name:
            return child
    raise AssertionError(f"{name} not in {loop.id}")


def test_850_structure() -> None:
    guide = load_guide("850", "004010")
    assert guide is not None
    po1 = _child(guide.root, "PO1")
    assert isinstance(po1, LoopDef) and po1.mandatory and po1.max_use == 100000
    inner = {c.id for c in po1.children if isinstance(c, LoopDef)}
    assert {"PID", "SAC", "SCH", "N1", "SLN", "N9", "CTP", "QTY"} <= inner
    beg = _child(guide.root, "BEG")
    assert isinstance(beg, SegmentUse) and beg.mandatory and beg.max_use == 1
    assert {"ST", "BEG", "PO1", "PID", "CTT", "SE"} <= guide.used
    assert "BIG" not in guide.used and "BIG" in guide.segments


def test_999_loops_use_the_guide_ids() -> None:
    guide = load_guide("999", "005010")
    assert guide is not None
    l2000 = _child(guide.root, "2000")
    assert isinstance(l2000, LoopDef) and l2000.opener.tag == "AK2"
    l2100 = _child(l2000, "2100")
    assert isinstance(l2100, LoopDef) and l2100.opener.tag == "IK3"
    l2110 = _child(l2100, "2110")
    assert isinstance(l2110, LoopDef) and l2110.opener.tag == "IK4"
    ik5 = _child(l2000, "IK5")
    assert isinstance(ik5, SegmentUse) and ik5.mandatory


def test_releases_differ_where_x12_does() -> None:
    old, new = load_guide("850", "004010"), load_guide("850", "005010")
    assert old is not None and new is not None
    assert len(old.segments["ST"].rules) == 2 and len(new.segments["ST"].rules) == 3
    assert old.segments["REF"].rules[1].maximum == 30 and new.segments["REF"].rules[1].maximum == 50
    assert not old.repetitions and new.repetitions
    ack_old, ack_new = load_guide("997", "004010"), load_guide("997", "005010")
    assert ack_old is not None and ack_new is not None
    assert len(ack_old.segments["AK1"].rules) == 2 and len(ack_new.segments["AK1"].rules) == 3
    assert len(ack_new.segments["AK4"].rules[0].components) == 3  # C030 adds 1686
    ctx = load_guide("999", "005010").segments["CTX"]  # type: ignore[union-attr]
    assert ctx.rules[0].repeat == 10 and ctx.rules[0].reference == "C998"


def test_code_lists_are_only_the_complete_ones() -> None:
    guide = load_guide("997", "005010")
    assert guide is not None
    ak4 = guide.segments["AK4"]
    assert ak4.rules[2].codes is not None and {"12", "13"} <= ak4.rules[2].codes
    old = load_guide("997", "004010")
    assert old is not None and "12" not in (old.segments["AK4"].rules[2].codes or ())
    assert guide.segments["AK1"].rules[0].codes is None  # 479 is too long a list to keep


def test_compile_guide_reports_every_problem() -> None:
    segments = load_guide("850", "004010").segments  # type: ignore[union-attr]
    spec = SetSpec.model_validate(
        {
            "transaction_set": "850",
            "version": "004010",
            "name": "broken",
            "functional_group": "PO",
            "structure": [
                {"segment": "ST", "usage": "M", "max": 1},
                {"segment": "QQQ", "usage": "O", "max": 1},
                {
                    "loop": "N1",
                    "usage": "O",
                    "max": 2,
                    "children": [{"segment": "N1", "usage": "O", "max": 1}],
                },
                {
                    "loop": "N1",
                    "usage": "O",
                    "max": 2,
                    "children": [{"segment": "N1", "usage": "O", "max": 1}],
                },
                {
                    "loop": "X",
                    "usage": "O",
                    "max": 2,
                    "children": [{"segment": "N3", "usage": "O", "max": 3}],
                },
                {"segment": "SE", "usage": "M", "max": 1},
            ],
        }
    )
    with pytest.raises(ConfigError) as caught:
        compile_guide(spec, segments, where="test")
    problems = caught.value.problems
    assert any("segment QQQ is not in segments.yaml" in p for p in problems)
    assert any("loop id N1 is used twice" in p for p in problems)
    assert any("structure/X: a loop must begin with a segment used once" in p for p in problems)
