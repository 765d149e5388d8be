from __future__ import annotations

import hashlib
import os
from typing import TYPE_CHECKING

import pytest

from gateway.storage import State
from gateway.storage.payloads import PayloadFiles

if TYPE_CHECKING:
    from pathlib import Path

    from gateway.storage import Store


async def test_put_payload_is_content_addressed_on_disk(store: Store, data_dir: Path) -> None:
    data = b"ISA*00*          *00*~" * 100
    sha = await store.put_payload(data)
    assert sha == hashlib.sha256(data).hexdigest()
    path = data_dir / "payloads" / sha[:2] / sha[2:4] / sha
    assert path.read_bytes() == data
    assert await store.get_payload(sha) == data
    assert await store.put_payload(data) == sha  # a second put leaves the file alone
    assert sorted(p.name for p in path.parent.iterdir()) == [sha]  # no temp files left


async def test_get_unknown_payload_raises_key_error(store: Store) -> None:
    with pytest.raises(KeyError):
        await store.get_payload("ab" * 32)
    with pytest.raises(KeyError):
        await store.get_payload("../../etc/passwd")


async def test_payload_file_is_fsynced_before_the_row_commits(
    store: Store, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Record fsyncs (of the file and of its directory) and the order of file and row.
    synced: list[str] = []
    real_fsync = os.fsync

    def fsync(fd: int) -> None:
        synced.append(os.readlink(f"/proc/self/fd/{fd}"))
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    data = b"durable bytes"
    sha = hashlib.sha256(data).hexdigest()
    path = data_dir / "payloads" / sha[:2] / sha[2:4] / sha
    record = await store.receive(data, partner_id="acme", channel="http")
    assert record.payload_sha256 == sha and path.is_file()
    # the temp file's fsync, then the directory of the renamed file
    assert any(".tmp" in name and name.startswith(str(path.parent)) for name in synced)
    assert str(path.parent) in synced
    assert synced.index(str(path.parent)) > max(
        i for i, name in enumerate(synced) if ".tmp" in name
    )


async def test_payload_written_before_the_row(
    store: Store, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A payload write that fails (the file, or its fsync at commit) leaves no document.
    def broken(self: PayloadFiles, *args: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(PayloadFiles, "publish", broken)
    with pytest.raises(OSError, match="No space"):
        await store.receive(b"lost", partner_id="acme", channel="http")
    assert await store.count_by_state() == {}


def test_payload_files_create_directories(tmp_path: Path) -> None:
    files = PayloadFiles(tmp_path / "payloads")
    sha = files.write(b"x")
    assert files.read(sha) == b"x"
    assert files.path(sha).parent.parent.parent == tmp_path / "payloads"
    with pytest.raises(KeyError):
        files.read("f" * 64)


def test_payload_files_create_a_missing_data_directory(tmp_path: Path) -> None:
    files = PayloadFiles(tmp_path / "not" / "yet" / "payloads")
    sha = files.write(b"first document of a new gateway")
    assert files.read(sha) == b"first document of a new gateway"


async def test_unit_payloads_become_durable_at_commit(store: Store, data_dir: Path) -> None:
    root = data_dir / "payloads"
    async with store.unit() as unit:
        sha = await store.put_payload(b"set one")
        [sha2, again] = await store.put_payloads([b"set two", b"set one"])
        assert again == sha
        final = root / sha[:2] / sha[2:4] / sha
        assert not final.exists()  # staged: not in place before the unit commits
        assert await store.get_payload(sha) == b"set one"  # but readable inside the unit
        await unit.add_document(
            direction="in",
            partner_id="acme",
            channel="http",
            doc_type="850",
            format="x12",
            state=State.PARSED,
            payload_sha256=sha,
            size=7,
            message="parsed",
        )
    assert final.read_bytes() == b"set one"
    assert await store.get_payload(sha2) == b"set two"
    assert not [p for p in root.rglob("*") if p.name.endswith(".tmp")]


async def test_rolled_back_unit_leaves_no_payload_files(store: Store, data_dir: Path) -> None:
    async def failing() -> str:
        async with store.unit():
            sha = await store.put_payload(b"never committed")
            raise RuntimeError(sha)

    with pytest.raises(RuntimeError) as excinfo:
        await failing()
    sha = str(excinfo.value)
    with pytest.raises(KeyError):
        await store.get_payload(sha)
    assert [p for p in (data_dir / "payloads").rglob("*") if p.is_file()] == []


async def test_put_payloads_outside_a_unit(store: Store) -> None:
    datas = [f"payload {i}".encode() for i in range(20)] + [b"payload 0"]
    shas = await store.put_payloads(datas)
    assert shas == [hashlib.sha256(d).hexdigest() for d in datas]
    assert [await store.get_payload(sha) for sha in shas] == datas


async def test_concurrent_receipts_commit_together_and_one_bad_one_fails_alone(
    store: Store,
) -> None:
    import asyncio

    async def good(n: int) -> int:
        record = await store.receive(f"doc {n}".encode(), partner_id="acme", channel="http")
        return record.id

    async def bad() -> None:
        # event details are JSON: this one cannot be written, so its receipt fails
        await store.receive(b"bad", partner_id="acme", channel="http", detail={"x": object()})

    results = await asyncio.gather(*(good(n) for n in range(40)), bad(), return_exceptions=True)
    ids = list(results[:40])
    assert all(isinstance(i, int) for i in ids) and len(set(ids)) == 40
    assert isinstance(results[40], Exception)
    assert await store.count_by_state() == {("acme", "in", "received"): 40}
    for doc_id, n in zip(ids, range(40), strict=True):
        doc = await store.get(doc_id)  # type: ignore[arg-type]
        assert doc is not None
        assert await store.get_payload(doc.payload_sha256) == f"doc {n}".encode()
