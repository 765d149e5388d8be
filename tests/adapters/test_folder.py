"""The folder channel: inbound watcher (stable-size rule, move after storage), outbound writes."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import pytest

from adapters.folder import FolderTransport, FolderWatcher, watches_of
from gateway.errors import PermanentDeliveryError
from gateway.ports import load_adapters
from tests.adapters.conftest import Harness, wait_for, write_profile

if TYPE_CHECKING:
    from pathlib import Path

    from gateway.ports import GatewayContext

ORDER = b"ISA*00*          *00*          *ZZ*GLOBEX*...~IEA*1*000000001~"


@pytest.fixture
def ctx(harness: Harness) -> GatewayContext:
    write_profile(
        harness.partners_dir,
        "globex",
        """
        inbound: {kind: folder, path: inbound/globex, filename_pattern: "*.x12"}
        outbound: {kind: folder, path: outbound/globex}
        """,
    )
    return harness.context()


@pytest.fixture
def inbox(ctx: GatewayContext) -> Path:
    path = ctx.settings.data_dir / "inbound" / "globex"
    path.mkdir(parents=True)
    return path


async def test_a_file_is_taken_once_its_size_is_stable_then_moved(
    ctx: GatewayContext, inbox: Path, harness: Harness
) -> None:
    watcher = FolderWatcher(ctx, watches_of(ctx))
    (inbox / "po-1.x12").write_bytes(ORDER[:10])
    assert await watcher.poll_once() == []  # first sight
    with (inbox / "po-1.x12").open("ab") as growing:
        growing.write(ORDER[10:])
    os.utime(inbox / "po-1.x12", ns=(1, 1))  # a writer still at work changes size or mtime
    assert await watcher.poll_once() == []
    assert harness.receiver.calls == 0

    [record] = await watcher.poll_once()
    assert (record.partner_id, record.channel, record.filename) == ("globex", "folder", "po-1.x12")
    assert await harness.store.get_payload(record.payload_sha256) == ORDER
    assert not (inbox / "po-1.x12").exists()
    assert (inbox / ".received" / "po-1.x12").read_bytes() == ORDER
    assert await watcher.poll_once() == []


async def test_pattern_hidden_files_and_folders_are_ignored(
    ctx: GatewayContext, inbox: Path, harness: Harness
) -> None:
    (inbox / "notes.txt").write_bytes(b"not an order")
    (inbox / ".po-2.x12.part").write_bytes(b"a writer's temp file")
    (inbox / "dir.x12").mkdir()
    (inbox / "link.x12").symlink_to(inbox / "notes.txt")
    watcher = FolderWatcher(ctx, watches_of(ctx))
    assert await watcher.poll_once() == []
    assert await watcher.poll_once() == []
    assert harness.receiver.calls == 0
    assert sorted(os.listdir(inbox)) == [
        ".po-2.x12.part",
        "dir.x12",
        "link.x12",
        "notes.txt",
    ]


async def test_a_file_stays_until_storage_succeeds(
    ctx: GatewayContext, inbox: Path, harness: Harness
) -> None:
    (inbox / "po-3.x12").write_bytes(ORDER)
    watcher = FolderWatcher(ctx, watches_of(ctx))
    await watcher.poll_once()
    harness.receiver.fail_next = 1
    assert await watcher.poll_once() == []
    assert harness.receiver.failures == ["po-3.x12"]
    assert (inbox / "po-3.x12").read_bytes() == ORDER
    assert not (inbox / ".received").exists()
    assert await harness.receiver.documents() == []

    [record] = await watcher.poll_once()
    assert record.filename == "po-3.x12"
    assert (inbox / ".received" / "po-3.x12").is_file()
    assert len(await harness.receiver.documents()) == 1


async def test_a_second_file_of_the_same_name_keeps_the_first(
    ctx: GatewayContext, inbox: Path, harness: Harness
) -> None:
    watcher = FolderWatcher(ctx, watches_of(ctx))
    records = []
    for content in (b"first", b"second"):
        (inbox / "po.x12").write_bytes(content)
        await watcher.poll_once()
        records += await watcher.poll_once()
    assert [r.filename for r in records] == ["po.x12", "po.x12"]
    assert (inbox / ".received" / "po.x12").read_bytes() == b"first"
    assert (inbox / ".received" / f"{records[1].id}-po.x12").read_bytes() == b"second"


async def test_oversize_files_are_left_alone(
    harness: Harness, partners_dir: Path, tmp_path: Path
) -> None:
    absolute = tmp_path / "drop"
    write_profile(partners_dir, "big", f"inbound: {{kind: folder, path: {absolute}}}")
    ctx = harness.context(max_document_bytes=100)
    [watch] = watches_of(ctx)
    assert watch.directory == absolute  # an absolute path is taken as written
    watcher = FolderWatcher(ctx, [watch], interval=0.02)
    await watcher.start()  # creates the folder
    try:
        (absolute / "huge.edi").write_bytes(b"x" * 101)
        (absolute / "small.edi").write_bytes(b"x" * 100)
        await wait_for(lambda: harness.receiver.calls == 1)
        await wait_for(lambda: (absolute / ".received" / "small.edi").exists())
    finally:
        await watcher.stop()
    assert (absolute / "huge.edi").exists()
    assert [d.filename for d in await harness.receiver.documents()] == ["small.edi"]


async def test_the_running_service_takes_dropped_files(
    ctx: GatewayContext, harness: Harness
) -> None:
    watcher = FolderWatcher(ctx, watches_of(ctx), interval=0.02)
    await watcher.start()
    try:
        inbox = ctx.settings.data_dir / "inbound" / "globex"
        assert inbox.is_dir()
        (inbox / "po-4.x12").write_bytes(ORDER)
        await wait_for(lambda: (inbox / ".received" / "po-4.x12").exists())
    finally:
        await watcher.stop()
    assert await harness.receiver.payloads("globex") == {"po-4.x12": ORDER}


async def test_outbound_files_are_written_atomically(ctx: GatewayContext) -> None:
    transport = FolderTransport(ctx)
    partner = ctx.partners.by_id("globex")
    channel = partner.channels.outbound
    assert channel is not None
    where = await transport.send(partner, channel, "globex-997-1-1.x12", b"old")
    target = ctx.settings.data_dir / "outbound" / "globex" / "globex-997-1-1.x12"
    assert where == str(target)
    with target.open("rb") as reader:  # a reader of the old file keeps the old bytes:
        await transport.send(partner, channel, "globex-997-1-1.x12", b"new")
        assert reader.read() == b"old"  # the new one was renamed in, not written over
    assert target.read_bytes() == b"new"
    assert oct(target.stat().st_mode & 0o777) == "0o644"
    assert [p.name for p in target.parent.iterdir()] == ["globex-997-1-1.x12"]


@pytest.mark.parametrize("name", ["", ".hidden", "../escape", "a/b", "nul\x00"])
async def test_outbound_refuses_names_that_are_not_plain(ctx: GatewayContext, name: str) -> None:
    partner = ctx.partners.by_id("globex")
    assert partner.channels.outbound is not None
    with pytest.raises(PermanentDeliveryError, match="plain file name"):
        await FolderTransport(ctx).send(partner, partner.channels.outbound, name, b"x")
    assert not (ctx.settings.data_dir / "escape").exists()


def test_the_adapters_are_registered() -> None:
    registry = load_adapters()
    assert {"folder", "sftp_hosted", "sftp_poll"} <= set(registry.transports)
    services = {name: role for name, (role, _) in registry.services.items()}
    assert services["folder_watcher"] == services["sftp_server"] == "sftp"
    assert services["sftp_poller"] == "sftp"


def test_no_watcher_without_folder_partners(harness: Harness, partners_dir: Path) -> None:
    write_profile(partners_dir, "web", "inbound: {kind: http, api_key_secrets: [K]}")
    ctx = harness.context()
    _, factory = load_adapters().services["folder_watcher"]
    assert factory(ctx) is None
