"""X12 engine benchmark: our tokenizer and translate against pyx12's element reader.

Generates a 004010 850 interchange (benchmarks/gen850.py) into benchmarks/data/,
then runs each measurement in a fresh interpreter, several times, and prints
the median speed, the peak RSS of the process (``ru_maxrss``, interpreter and
imports included), the speed ratio against pyx12 and the share of the ``split``
ceiling (both from the same run, so a loaded machine shifts them less than MB/s).
Timing covers reading and processing only; imports happen before the clock starts.

Measurements:
- ``split``: ``read_bytes().split(b"~")``, the ceiling for any Python tokenizer.
- ``tokenize``: iterate ``gateway.x12.reader.X12Reader`` over the open file.
- ``tokenize+elements``: the same, also reading each segment's ``elements``.
- ``translate``: consume ``gateway.pipeline.process.translate`` (parse,
  envelope, validation, mapping to the canonical model through the base
  declarative mapping ``mappings/x12/850/004010.yaml``, as every partner without
  its own mapping gets).
- ``translate-yaml``: the same with the mapping loaded and handed in as a partner's
  own mapping is (``mapper_for``); it must cost no more than the default path.
- ``pyx12``: ``pyx12.x12file.X12Reader`` reading every element value through
  ``Composite.get_value()``, its fastest element access
  (``Segment.get_value("01")`` is about 3x slower, ``values_iterator()`` 1.5x).

Usage: ``python -m benchmarks.x12_engine [--mb 20] [--runs 5] [--big-mb 200]``;
``--big-mb 0`` skips the large-file memory check, ``--strict`` exits 1 on a
missed target.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from benchmarks.gen850 import MB, write_850

if TYPE_CHECKING:
    from collections.abc import Callable

DATA_DIR = Path(__file__).resolve().parent / "data"
ROOT = DATA_DIR.parents[1]
SEED = 850
CHILD_TIMEOUT = 900.0

TOKENIZE_MBS = 60.0
TRANSLATE_MBS = 15.0
TRANSLATE_VS_PYX12 = 10.0
BIG_RSS_MB = 150.0

NAMES = ("split", "tokenize", "tokenize+elements", "translate", "translate-yaml", "pyx12")
# translate-yaml: the same translate with the 850 mapping handed in through mapper_for, as a
# partner's own mapping is; at most 20 % slower than translate. (The hand-written mappers the
# engine replaced were the baseline of this check until they were removed.)
YAML_LOSS = 0.20


# -- child side: one measurement in a fresh interpreter ----------------------------------
def _prepare(name: str, path: Path) -> Callable[[], int]:
    """Import what ``name`` needs and return the timed work (it returns a count)."""
    if name == "split":
        return lambda: len(path.read_bytes().split(b"~"))
    if name in ("tokenize", "tokenize+elements"):
        from gateway.x12.reader import Segment, X12Reader

        elements = name == "tokenize+elements"

        def tokenize() -> int:
            count = 0
            with path.open("rb") as src:
                for item in X12Reader(src):
                    if isinstance(item, Segment):
                        count += len(item.elements) if elements else 1
            return count

        return tokenize
    if name == "translate":
        from gateway.pipeline.process import translate
        from gateway.x12.guides import preload

        preload()  # a running gateway loads its guides once at start-up, before any file
        mappings = ROOT / "mappings"

        def run_translate() -> int:
            with path.open("rb") as src:
                return sum(1 for _ in translate(src, mappings_dir=mappings))

        return run_translate
    if name == "translate-yaml":
        from gateway.mapping.loader import load_mapping
        from gateway.pipeline.process import translate
        from gateway.x12.guides import preload

        preload()
        mapping = load_mapping(ROOT / "mappings", "x12/850/004010")

        def run_translate_yaml() -> int:
            with path.open("rb") as src:
                return sum(1 for _ in translate(src, mapper_for=lambda _ts: mapping.inbound))

        return run_translate_yaml
    if name == "pyx12":
        import pyx12.x12file

        def read_pyx12() -> int:
            count = 0
            with pyx12.x12file.X12Reader(str(path)) as reader:
                for seg in reader:
                    for element in seg.elements:
                        element.get_value()
                        count += 1
            return count

        return read_pyx12
    raise SystemExit(f"unknown measurement {name!r}")


def _maxrss_mb() -> float:
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss / MB if sys.platform == "darwin" else rss * 1024 / MB  # bytes on macOS, KiB here


def _child(name: str, path: Path) -> None:
    """Run one measurement and print its result as one JSON line."""
    try:
        work = _prepare(name, path)
    except Exception as exc:  # an unfinished module must not stop the benchmark
        print(json.dumps({"unavailable": f"{type(exc).__name__}: {exc}"}))
        return
    rss_before = _maxrss_mb()
    start = time.perf_counter()
    count = work()
    seconds = time.perf_counter() - start
    result = {"seconds": seconds, "count": count, "rss": _maxrss_mb(), "rss_before": rss_before}
    print(json.dumps(result))


# -- parent side ----------------------------------------------------------------------------
@dataclass
class Row:
    """The runs of one measurement on one file."""

    name: str
    size: int
    speeds: list[float]
    rss: list[float]
    base: list[float] = field(default_factory=list)
    count: int = 0  # what the work returned: segments, elements, results
    unavailable: str = ""
    failed: str = ""

    @property
    def mbs(self) -> float:
        """Median speed in MB/s."""
        return statistics.median(self.speeds) if self.speeds else 0.0

    @property
    def peak_rss(self) -> float:
        """Largest peak RSS over the runs, in MB."""
        return max(self.rss) if self.rss else 0.0

    @property
    def base_rss(self) -> float:
        """Largest RSS before the timed work (interpreter and imports), in MB."""
        return max(self.base) if self.base else 0.0

    @property
    def ok(self) -> bool:
        """True when at least one run finished."""
        return bool(self.speeds)


def _run_once(row: Row, path: Path) -> None:
    if row.unavailable or row.failed:
        return
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "benchmarks.x12_engine", "--child", row.name, str(path)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=CHILD_TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired:
        row.failed = f"failed (no result after {CHILD_TIMEOUT:g} s)"
        return
    lines = proc.stdout.strip().splitlines()
    if proc.returncode != 0 or not lines:
        tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        row.failed = f"failed (exit {proc.returncode}: {tail})"
        return
    result = json.loads(lines[-1])
    if "unavailable" in result:
        row.unavailable = result["unavailable"]
        return
    row.speeds.append(row.size / MB / result["seconds"])
    row.rss.append(result["rss"])
    row.base.append(result["rss_before"])
    row.count = result["count"]


def data_file(mb: float) -> Path:
    """The generated file for ``mb`` megabytes, written unless already present."""
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    path = DATA_DIR / f"850_004010_{mb:g}mb_seed{SEED}.x12"
    size = int(mb * MB)
    # gen850 renames a finished file into place, so a present file is complete
    if not (path.exists() and size - 100_000 < path.stat().st_size <= size):
        started = time.perf_counter()
        made = write_850(path, size, seed=SEED)
        print(
            f"generated {path.relative_to(ROOT)}: {made.size / MB:.1f} MB, {made.sets} sets "
            f"in {time.perf_counter() - started:.1f} s"
        )
    return path


def _mark(ok: bool) -> str:
    return "met" if ok else "MISSED"


def _targets(rows: dict[str, Row]) -> dict[str, list[str]]:
    """Target verdicts per measurement name."""
    pyx12 = rows["pyx12"].mbs if rows["pyx12"].ok else 0.0
    tok, tr = rows["tokenize"], rows["translate"]
    out: dict[str, list[str]] = {name: [] for name in rows}
    if tok.ok:
        out["tokenize"].append(f">= {TOKENIZE_MBS:g} MB/s {_mark(tok.mbs >= TOKENIZE_MBS)}")
    if tr.ok:
        out["translate"].append(f">= {TRANSLATE_MBS:g} MB/s {_mark(tr.mbs >= TRANSLATE_MBS)}")
        if pyx12:
            ratio = tr.mbs / pyx12
            out["translate"].append(
                f">= {TRANSLATE_VS_PYX12:g}x pyx12 {_mark(ratio >= TRANSLATE_VS_PYX12)}"
            )
    yaml = rows.get("translate-yaml")
    if yaml is not None and yaml.ok and tr.ok:
        loss = 1 - yaml.mbs / tr.mbs
        out["translate-yaml"].append(
            f"<= {YAML_LOSS:.0%} slower ({loss:.0%}) {_mark(loss <= YAML_LOSS)}"
        )
    return out


def _print_table(rows: dict[str, Row]) -> list[str]:
    """Print one line per measurement; return the verdicts shown."""
    pyx12 = rows["pyx12"].mbs if rows["pyx12"].ok else 0.0
    split = rows["split"].mbs if rows["split"].ok else 0.0
    verdicts = _targets(rows)
    print(
        f"{'measurement':<19} {'MB/s':>8} {'peak RSS MB':>12} {'(base)':>7} {'x pyx12':>8}"
        f" {'/ split':>8}  runs {'items':>9}  targets"
    )
    for name, row in rows.items():
        if not row.ok:
            why = f"not available ({row.unavailable})" if row.unavailable else row.failed
            print(f"{name}: {why}")
            continue
        ratio = f"{row.mbs / pyx12:.1f}x" if pyx12 else "-"
        share = f"{row.mbs / split:.1%}" if split else "-"  # of the split ceiling, same run
        targets = "; ".join(verdicts[name]) or "-"
        print(
            f"{name:<19} {row.mbs:>8.1f} {row.peak_rss:>12.1f} {row.base_rss:>7.1f} {ratio:>8}"
            f" {share:>8}  {len(row.speeds):>4} {row.count:>9}  {targets}"
        )
    return [v for vs in verdicts.values() for v in vs]


def _big(mb: float) -> list[str]:
    """Peak RSS of tokenize and translate on a large file; returns the verdicts."""
    path = data_file(mb)
    size = path.stat().st_size
    print(f"\nmemory on {size / MB:.0f} MB ({path.name}), one run each, limit {BIG_RSS_MB:g} MB:")
    verdicts = []
    for name in ("tokenize", "translate"):
        row = Row(name, size, [], [])
        _run_once(row, path)
        if not row.ok:
            print(f"  {name:<10} not available ({row.unavailable or row.failed})")
            continue
        verdict = f"peak RSS < {BIG_RSS_MB:g} MB {_mark(row.peak_rss < BIG_RSS_MB)}"
        verdicts.append(verdict)
        print(f"  {name:<10} {row.mbs:>7.1f} MB/s  peak RSS {row.peak_rss:>6.1f} MB  {verdict}")
    return verdicts


def main(argv: list[str] | None = None) -> int:
    """Command line; returns the exit status."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.x12_engine", description=__doc__)
    parser.add_argument("--mb", type=float, default=20.0, help="main file size (MB, 10^6 bytes)")
    parser.add_argument("--runs", type=int, default=5, help="runs per measurement (median)")
    parser.add_argument("--big-mb", type=float, default=200.0, help="memory check size; 0 skips")
    parser.add_argument("--pyx12-runs", type=int, default=3, help="runs for pyx12 (it is slow)")
    parser.add_argument("--pyx12-mb", type=float, default=0.0, help="pyx12 on a prefix this big")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    parser.add_argument("--child", nargs=2, metavar=("NAME", "PATH"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        _child(args.child[0], Path(args.child[1]))
        return 0
    started = time.perf_counter()
    path = data_file(args.mb)
    pyx12_mb = args.pyx12_mb if 0 < args.pyx12_mb < args.mb else args.mb
    pyx12_path = data_file(pyx12_mb) if pyx12_mb != args.mb else path
    size = path.stat().st_size
    print(
        f"\nX12 engine: {size / MB:.1f} MB 004010 850 ({path.name}), median of {args.runs} runs,"
        f" each in a fresh interpreter; peak RSS is the largest over the runs"
    )
    pyx12_runs = min(args.pyx12_runs, args.runs)
    note = f"pyx12: {pyx12_runs} run(s)"
    if pyx12_path != path:
        note += f", on the first {pyx12_path.stat().st_size / MB:.1f} MB (same sets, own trailers)"
    print(note)
    rows = {name: Row(name, size, [], []) for name in NAMES}
    rows["pyx12"].size = pyx12_path.stat().st_size
    for run in range(args.runs):  # round robin, so drift hits every measurement alike
        for name, row in rows.items():
            if name != "pyx12" or run < pyx12_runs:
                _run_once(row, pyx12_path if name == "pyx12" else path)
    print()
    verdicts = _print_table(rows)
    if args.big_mb > 0:
        verdicts += _big(args.big_mb)
    missed = sum("MISSED" in v for v in verdicts)
    print(
        f"\ntargets: {len(verdicts) - missed} met, {missed} missed "
        f"(unmeasured targets are not counted); {time.perf_counter() - started:.0f} s in all"
    )
    return 1 if args.strict and missed else 0


if __name__ == "__main__":
    raise SystemExit(main())
