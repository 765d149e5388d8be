"""Hosted SFTP with the real OpenSSH client: uploads stored, downloads served, jail kept."""

from __future__ import annotations

import asyncio
import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import paramiko
import pytest
import pytest_asyncio

from adapters._sftp_jail import client_path
from adapters.sftp_server import HOST_KEY_FILE, SftpHostedTransport, SftpServer, users_of
from gateway.errors import PermanentDeliveryError
from gateway.ports import load_adapters
from tests.adapters.conftest import Harness, KeyPair, make_key, wait_for, write_profile
from tests.adapters.sftp_client import SftpRun, run_sftp

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from gateway.ports import GatewayContext

ORDER = (
    Path(__file__).parents[1] / "fixtures" / "x12" / "850" / "stupidedi_850_004010_minimal.edi"
).read_bytes()
LIMIT = 256 * 1024


@dataclass
class Hosted:
    ctx: GatewayContext
    server: SftpServer
    key: KeyPair
    jail: Path
    workdir: Path

    async def sftp(self, batch: str, *, user: str = "acme", key: Path | None = None) -> SftpRun:
        return await run_sftp(
            port=self.server.port,
            user=user,
            key=key or self.key.private,
            batch=batch,
            workdir=self.workdir,
        )


def _hosted_profile(partners_dir: Path, partner_id: str, key: KeyPair) -> None:
    keys = f'["{key.public_line}"]'
    write_profile(
        partners_dir,
        partner_id,
        f"""
        inbound: {{kind: sftp_hosted, username: {partner_id}, authorized_keys: {keys}}}
        outbound: {{kind: sftp_hosted, username: {partner_id}, authorized_keys: {keys}}}
        """,
    )


@pytest_asyncio.fixture
async def hosted(harness: Harness, partners_dir: Path, tmp_path: Path) -> AsyncIterator[Hosted]:
    key = make_key(tmp_path, "acme_key")
    _hosted_profile(partners_dir, "acme", key)
    _hosted_profile(partners_dir, "beta", make_key(tmp_path, "beta_key"))
    ctx = harness.context(max_document_bytes=LIMIT)
    server = SftpServer(ctx, users_of(ctx), host="127.0.0.1", port=0)
    await server.start()
    workdir = tmp_path / "client"
    workdir.mkdir()
    try:
        yield Hosted(ctx, server, key, ctx.settings.data_dir / "sftp" / "acme", workdir)
    finally:
        await server.stop()


async def test_an_uploaded_850_is_stored_with_identical_bytes(
    hosted: Hosted, harness: Harness
) -> None:
    (hosted.workdir / "po.edi").write_bytes(ORDER)
    run = await hosted.sftp("put po.edi /inbound/po-88213.edi\nls /inbound")
    assert run.returncode == 0, run.output
    [document] = await harness.receiver.documents()
    assert (document.partner_id, document.channel) == ("acme", "sftp_hosted")
    assert document.filename == "po-88213.edi"
    assert await harness.store.get_payload(document.payload_sha256) == ORDER
    assert os.listdir(hosted.jail / "inbound") == []  # the payload lives in storage


async def test_the_close_fails_when_storage_fails_and_a_resend_works(
    hosted: Hosted, harness: Harness
) -> None:
    (hosted.workdir / "po.edi").write_bytes(ORDER)
    harness.receiver.fail_next = 1
    run = await hosted.sftp("put po.edi /inbound/po.edi")
    assert run.returncode != 0
    assert "close" in run.output.lower(), run.output
    assert harness.receiver.failures == ["po.edi"]
    assert await harness.receiver.documents() == []
    assert os.listdir(hosted.jail / "inbound") == []

    run = await hosted.sftp("put po.edi /inbound/po.edi")
    assert run.returncode == 0, run.output
    assert await harness.receiver.payloads("acme") == {"po.edi": ORDER}


async def test_an_outbound_file_is_listed_downloaded_and_removed(hosted: Hosted) -> None:
    partner = hosted.ctx.partners.by_id("acme")
    assert partner.channels.outbound is not None
    name = "acme-997-7-000000007.x12"
    ack = b"ISA*00*...997...~IEA*1*000000007~"
    where = await SftpHostedTransport(hosted.ctx).send(
        partner, partner.channels.outbound, name, ack
    )
    assert where == f"/outbound/{name}"
    run = await hosted.sftp(f"ls -1 /outbound\nget /outbound/{name} got.x12\nrm /outbound/{name}")
    assert run.returncode == 0, run.output
    assert name in run.output
    assert (hosted.workdir / "got.x12").read_bytes() == ack
    assert os.listdir(hosted.jail / "outbound") == []


async def test_a_partner_sees_only_its_own_jail(hosted: Hosted, tmp_path: Path) -> None:
    partner = hosted.ctx.partners.by_id("acme")
    assert partner.channels.outbound is not None
    await SftpHostedTransport(hosted.ctx).send(partner, partner.channels.outbound, "a.x12", b"a")
    run = await hosted.sftp("ls -1 /outbound", user="beta", key=tmp_path / "beta_key")
    assert run.returncode == 0, run.output
    assert "a.x12" not in run.output
    run = await hosted.sftp("get /outbound/a.x12 x", user="beta", key=tmp_path / "beta_key")
    assert run.returncode != 0
    assert not (hosted.workdir / "x").exists()


ESCAPES = {
    "put-dotdot": "put local.txt ../../etc/o2c-escape",
    "put-dotdot-from-inbound": "cd /inbound\nput local.txt ../../../etc/o2c-escape",
    "put-into-outbound": "put local.txt /outbound/o2c-escape",
    "put-into-root": "put local.txt /o2c-escape",
    "put-through-symlink": "put local.txt /inbound/outside/o2c-escape",
    "put-hidden": "put local.txt /inbound/.o2c-escape",
    "get-absolute": "get /etc/passwd got",
    "get-dotdot": "get ../../../../etc/passwd got",
    "get-double-slash": "get //../etc/passwd got",
    "get-symlink-file": "get /outbound/passwd got",
    "get-through-symlink-dir": "get /outbound/etc/passwd got",
    "get-from-inbound": "get /inbound/anything got",
    "ls-symlink-dir": "ls /outbound/etc",
    "cd-dotdot": "cd ..",
    "cd-dotdot-deep": "cd /inbound/../..",
    "ls-dotdot": "ls /..",
    "symlink": "ln -s /etc /inbound/etc",
    "rename": "rename /outbound/kept.x12 /inbound/kept.x12",
    "mkdir": "mkdir /inbound/sub",
    "rmdir": "rmdir /outbound",
    "chmod": "chmod 777 /outbound/kept.x12",
    "rm-outside-outbound": "rm /inbound",
}


REFUSALS = ("Permission denied", "not found", "Failure", "No such file")


async def test_nothing_escapes_the_jail(hosted: Hosted, harness: Harness, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (hosted.jail / "inbound" / "outside").symlink_to(outside)
    (hosted.jail / "outbound" / "passwd").symlink_to("/etc/passwd")
    (hosted.jail / "outbound" / "etc").symlink_to("/etc")
    (hosted.jail / "outbound" / "kept.x12").write_bytes(b"kept")
    (hosted.workdir / "local.txt").write_bytes(b"escape attempt")

    # One session per attempt: in batch mode the first refused command ends the session.
    runs = {case: await hosted.sftp(batch) for case, batch in ESCAPES.items()}

    not_refused = {
        case: run.output
        for case, run in runs.items()
        if run.returncode == 0 or not any(r in run.output for r in REFUSALS)
    }
    assert not_refused == {}
    assert not (hosted.workdir / "got").exists()
    assert "o2c-escape" not in os.listdir("/etc")
    assert os.listdir(outside) == []
    assert sorted(os.listdir(hosted.jail)) == ["inbound", "outbound"]
    assert sorted(os.listdir(hosted.jail / "inbound")) == ["outside"]
    assert sorted(os.listdir(hosted.jail / "outbound")) == ["etc", "kept.x12", "passwd"]
    assert stat.S_IMODE((hosted.jail / "outbound" / "kept.x12").stat().st_mode) != 0o777
    assert harness.receiver.calls == 0


async def test_listings_hide_symlinks_and_temporary_files(hosted: Hosted) -> None:
    (hosted.jail / "outbound" / "etc").symlink_to("/etc")
    (hosted.jail / "outbound" / ".acme-810.x12.abc.part").write_bytes(b"half")
    (hosted.jail / "outbound" / "acme-810.x12").write_bytes(b"whole")
    run = await hosted.sftp("ls -1a /outbound")
    assert run.returncode == 0, run.output
    assert "acme-810.x12" in run.output
    assert "etc" not in run.output.split()
    assert ".part" not in run.output


@pytest.mark.parametrize(
    ("user", "key_name"),
    [("acme", "stranger_key"), ("beta", "acme_key"), ("nobody", "acme_key")],
    ids=["unknown-key", "another-partners-key", "unknown-user"],
)
async def test_logins_need_the_partners_own_key(
    hosted: Hosted, tmp_path: Path, user: str, key_name: str
) -> None:
    if key_name == "stranger_key":
        make_key(tmp_path, key_name)
    run = await hosted.sftp("ls /", user=user, key=tmp_path / key_name)
    assert run.returncode != 0
    assert "Permission denied (publickey)" in run.output, run.output


async def test_uploads_over_the_limit_fail_and_store_nothing(
    hosted: Hosted, harness: Harness
) -> None:
    (hosted.workdir / "big.edi").write_bytes(b"x" * (LIMIT + 1))
    (hosted.workdir / "full.edi").write_bytes(b"y" * LIMIT)
    run = await hosted.sftp("put big.edi /inbound/big.edi")
    assert run.returncode != 0
    assert await harness.receiver.documents() == []
    assert harness.receiver.calls == 0
    assert os.listdir(hosted.jail / "inbound") == []
    run = await hosted.sftp("put full.edi /inbound/full.edi")
    assert run.returncode == 0, run.output
    assert await harness.receiver.payloads() == {"full.edi": b"y" * LIMIT}


async def test_twenty_parallel_uploads_are_all_stored(hosted: Hosted, harness: Harness) -> None:
    files = {f"po-{i:02d}.edi": os.urandom(100_000) for i in range(20)}
    for name, data in files.items():
        (hosted.workdir / name).write_bytes(data)
    runs = await asyncio.gather(*(hosted.sftp(f"put {name} /inbound/{name}") for name in files))
    assert [r.returncode for r in runs] == [0] * 20, [r.output for r in runs if r.returncode]
    assert await harness.receiver.payloads("acme") == files


async def test_an_upload_the_client_never_closes_stores_nothing(
    hosted: Hosted, harness: Harness
) -> None:
    def abandon() -> None:
        client = paramiko.SSHClient()
        client.set_missing_host_key_policy(paramiko.AutoAddPolicy())
        try:
            client.connect(
                "127.0.0.1",
                port=hosted.server.port,
                username="acme",
                key_filename=str(hosted.key.private),
                look_for_keys=False,
                allow_agent=False,
                timeout=10,
            )
            sftp = client.open_sftp()
            remote = sftp.open("/inbound/half.edi", "wb")
            remote.write(ORDER[:100])
            remote.flush()
        finally:
            client.close()  # the connection ends with the file still open

    await asyncio.to_thread(abandon)
    await wait_for(lambda: os.listdir(hosted.jail / "inbound") == [])
    assert harness.receiver.calls == 0
    assert await harness.receiver.documents() == []


async def test_the_host_key_is_made_once_private_and_kept(hosted: Hosted, harness: Harness) -> None:
    path = hosted.ctx.settings.data_dir / HOST_KEY_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    first = paramiko.ECDSAKey.from_private_key_file(str(path))
    await hosted.server.stop()
    again = SftpServer(hosted.ctx, users_of(hosted.ctx), host="127.0.0.1", port=0)
    await again.start()
    try:
        assert again.port != 0
        probe = await asyncio.to_thread(_server_key, again.port)
    finally:
        await again.stop()
    assert probe.asbytes() == first.asbytes()


def _server_key(port: int) -> paramiko.PKey:
    transport = paramiko.Transport(("127.0.0.1", port))
    try:
        transport.start_client(timeout=10)
        return transport.get_remote_server_key()
    finally:
        transport.close()


async def test_transport_refuses_names_that_are_not_plain(hosted: Hosted) -> None:
    partner = hosted.ctx.partners.by_id("acme")
    assert partner.channels.outbound is not None
    with pytest.raises(PermanentDeliveryError):
        await SftpHostedTransport(hosted.ctx).send(
            partner, partner.channels.outbound, "../inbound/x", b"x"
        )
    assert os.listdir(hosted.jail / "inbound") == []


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("", "/"),
        (".", "/"),
        ("/inbound/./po.edi", "/inbound/po.edi"),
        ("inbound//po.edi", "/inbound/po.edi"),
        ("/inbound/../outbound/x", "/outbound/x"),
        ("..", None),
        ("/..", None),
        ("//..", None),
        ("//../etc/passwd", None),
        ("/inbound/../../etc", None),
        ("/inbound/\x00", None),
    ],
)
def test_client_paths_never_climb_above_the_root(path: str, expected: str | None) -> None:
    assert client_path(path) == expected


def test_the_server_runs_only_with_hosted_partners(harness: Harness, tmp_path: Path) -> None:
    _, factory = load_adapters().services["sftp_server"]
    write_profile(harness.partners_dir, "web", "inbound: {kind: http, api_key_secrets: [K]}")
    assert factory(harness.context()) is None
    key = make_key(tmp_path, "k")
    write_profile(
        harness.partners_dir,
        "drop",  # hosted outbound only: it may download, not upload
        f'outbound: {{kind: sftp_hosted, username: dropper, authorized_keys: ["{key.public_line}"]}}',
    )
    service = factory(harness.context())
    assert isinstance(service, SftpServer)
    [user] = service.users.values()
    assert (user.username, user.partner_id) == ("dropper", "drop")
    assert (user.upload_dir, user.download_dir) == (None, "/outbound")
