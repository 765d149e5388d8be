"""The SFTP poller and the sftp_poll transport against a real OpenSSH server."""

from __future__ import annotations

import logging
import os
import subprocess
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pytest

from adapters._sftp_common import private_key, public_key
from adapters.sftp_poller import SftpPoller, SftpPollTransport
from gateway.errors import ConfigError, PermanentDeliveryError, TransientDeliveryError
from gateway.ports import load_adapters
from tests.adapters.conftest import Harness, make_key, wait_for, write_profile
from tests.adapters.proxy import CuttingProxy
from tests.adapters.sshd import PASSWORD, Sshd

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from gateway.ports import GatewayContext

REMITTANCE = b"ISA*00*          *00*          *ZZ*INITECH*...820...~IEA*1*000000042~"


@pytest.fixture(scope="module")
def sshd() -> Iterator[Sshd]:
    server = Sshd.start()
    try:
        yield server
    finally:
        server.close()


@dataclass
class Remote:
    inbox: Path
    archive: Path
    outbox: Path


@pytest.fixture
def remote(sshd: Sshd, request: pytest.FixtureRequest) -> Remote:
    base = f"t-{request.node.name[:40]}-{os.urandom(3).hex()}"
    return Remote(
        sshd.folder(f"{base}/inbox"), sshd.folder(f"{base}/archive"), sshd.folder(f"{base}/outbox")
    )


def poll_context(
    harness: Harness,
    sshd: Sshd,
    remote: Remote,
    *,
    port: int | None = None,
    host_key: str | None = "sshd",
    auth: str = "key_secret: POLL_KEY",
    move_to: Path | None = None,
) -> GatewayContext:
    """Write the ``initech`` profile (inbound and outbound sftp_poll) and load it."""
    (harness.secrets_dir / "POLL_KEY").write_text(sshd.client_key)
    (harness.secrets_dir / "POLL_PASSWORD").write_text(PASSWORD)
    key = sshd.host_key_line if host_key == "sshd" else host_key
    common = [
        "kind: sftp_poll",
        "host: 127.0.0.1",
        f"port: {port or sshd.port}",
        f"username: {sshd.user}",
        auth,
        *([f"host_key: {key}"] if key else []),
    ]
    inbound = [*common, f"remote_inbound_path: {remote.inbox}", 'filename_pattern: "*.edi"']
    if move_to is not None:
        inbound += ["after_download: move", f"move_to: {move_to}"]
    outbound = [*common, f"remote_outbound_path: {remote.outbox}"]
    yaml = "\n".join(
        [
            "inbound:",
            *(f"  {line}" for line in inbound),
            "outbound:",
            *(f"  {line}" for line in outbound),
        ]
    )
    write_profile(harness.partners_dir, "initech", yaml)
    return harness.context()


def poller(ctx: GatewayContext) -> SftpPoller:
    return SftpPoller(ctx, [ctx.partners.by_id("initech")])


async def test_a_remote_file_is_removed_only_after_it_is_stored(
    sshd: Sshd, remote: Remote, harness: Harness
) -> None:
    (remote.inbox / "ra-42.edi").write_bytes(REMITTANCE)
    (remote.inbox / "readme.txt").write_bytes(b"not for us")
    ctx = poll_context(harness, sshd, remote)

    harness.receiver.fail_next = 1
    assert await poller(ctx).poll_once() == []
    assert harness.receiver.failures == ["ra-42.edi"]
    assert (remote.inbox / "ra-42.edi").read_bytes() == REMITTANCE  # still there

    [record] = await poller(ctx).poll_once()
    assert (record.partner_id, record.channel, record.filename) == (
        "initech",
        "sftp_poll",
        "ra-42.edi",
    )
    assert await harness.store.get_payload(record.payload_sha256) == REMITTANCE
    assert sorted(os.listdir(remote.inbox)) == ["readme.txt"]  # pattern: *.edi only
    assert await poller(ctx).poll_once() == []


async def test_move_mode_moves_the_file_after_storing_it(
    sshd: Sshd, remote: Remote, harness: Harness
) -> None:
    files = {"a.edi": b"first", "b.edi": b"second"}
    for name, data in files.items():
        (remote.inbox / name).write_bytes(data)
    (remote.archive / "a.edi").write_bytes(b"an older a.edi")
    ctx = poll_context(harness, sshd, remote, move_to=remote.archive)
    records = await poller(ctx).poll_once()
    assert [r.filename for r in records] == ["a.edi", "b.edi"]
    assert await harness.receiver.payloads("initech") == files
    assert os.listdir(remote.inbox) == []
    assert {p.name: p.read_bytes() for p in remote.archive.iterdir()} == files


async def test_password_login(sshd: Sshd, remote: Remote, harness: Harness) -> None:
    (remote.inbox / "p.edi").write_bytes(REMITTANCE)
    ctx = poll_context(harness, sshd, remote, auth="password_secret: POLL_PASSWORD")
    [record] = await poller(ctx).poll_once()
    assert record.filename == "p.edi"
    assert os.listdir(remote.inbox) == []


async def test_a_wrong_host_key_is_refused(
    sshd: Sshd, remote: Remote, harness: Harness, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (remote.inbox / "x.edi").write_bytes(REMITTANCE)
    impostor = make_key(tmp_path, "impostor").public_line
    ctx = poll_context(harness, sshd, remote, host_key=impostor)
    with caplog.at_level(logging.WARNING, logger="adapters.sftp_poller"):
        assert await poller(ctx).poll_once() == []
    assert "BadHostKeyException" in caplog.text
    assert harness.receiver.calls == 0
    assert os.listdir(remote.inbox) == ["x.edi"]


async def test_without_a_host_key_known_hosts_decides(
    sshd: Sshd, remote: Remote, harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    (remote.inbox / "x.edi").write_bytes(REMITTANCE)
    ctx = poll_context(harness, sshd, remote, host_key=None)
    with caplog.at_level(logging.WARNING, logger="adapters.sftp_poller"):
        assert await poller(ctx).poll_once() == []
    assert "UnknownHostKeyError" in caplog.text
    assert os.listdir(remote.inbox) == ["x.edi"]

    known_hosts = ctx.settings.data_dir / "known_hosts"
    known_hosts.write_text(f"[127.0.0.1]:{sshd.port} {sshd.host_key_line}\n")
    [record] = await poller(ctx).poll_once()
    assert record.filename == "x.edi"
    assert os.listdir(remote.inbox) == []


async def test_a_connection_dropped_mid_download_deletes_nothing(
    sshd: Sshd, remote: Remote, harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    big = os.urandom(8 * 1024 * 1024)
    (remote.inbox / "big.edi").write_bytes(big)
    async with CuttingProxy(sshd.port, cut_after=1024 * 1024) as proxy:
        ctx = poll_context(harness, sshd, remote, port=proxy.port)
        with caplog.at_level(logging.WARNING, logger="adapters.sftp_poller"):
            assert await poller(ctx).poll_once() == []
    assert proxy.cut
    assert "sftp poll failed" in caplog.text
    assert harness.receiver.calls == 0
    assert (remote.inbox / "big.edi").stat().st_size == len(big)

    ctx = poll_context(harness, sshd, remote)  # the server is back
    [record] = await poller(ctx).poll_once()
    assert await harness.store.get_payload(record.payload_sha256) == big
    assert os.listdir(remote.inbox) == []


async def test_files_over_the_limit_stay_remote(
    sshd: Sshd, remote: Remote, harness: Harness
) -> None:
    (remote.inbox / "huge.edi").write_bytes(b"x" * 2048)
    (remote.inbox / "ok.edi").write_bytes(b"y" * 1024)
    poll_context(harness, sshd, remote)
    ctx = harness.context(max_document_bytes=1024)
    records = await poller(ctx).poll_once()
    assert [r.filename for r in records] == ["ok.edi"]
    assert os.listdir(remote.inbox) == ["huge.edi"]


async def test_the_running_service_polls(sshd: Sshd, remote: Remote, harness: Harness) -> None:
    (remote.inbox / "s.edi").write_bytes(REMITTANCE)
    service = poller(poll_context(harness, sshd, remote))
    await service.start()  # the first poll runs at once
    try:
        await wait_for(lambda: not (remote.inbox / "s.edi").exists())
    finally:
        await service.stop()
    assert await harness.receiver.payloads("initech") == {"s.edi": REMITTANCE}


async def test_the_transport_uploads_under_a_temporary_name_then_renames(
    sshd: Sshd, remote: Remote, harness: Harness
) -> None:
    ctx = poll_context(harness, sshd, remote)
    partner = ctx.partners.by_id("initech")
    assert partner.channels.outbound is not None
    transport = SftpPollTransport(ctx)
    name = "initech-810-9-000000009.x12"
    where = await transport.send(partner, partner.channels.outbound, name, b"old")
    where = await transport.send(partner, partner.channels.outbound, name, b"invoice")
    assert where == f"{remote.outbox}/{name}"
    assert os.listdir(remote.outbox) == [name]
    assert (remote.outbox / name).read_bytes() == b"invoice"


async def test_transport_errors_say_whether_to_retry(
    sshd: Sshd, remote: Remote, harness: Harness, tmp_path: Path
) -> None:
    ctx = poll_context(harness, sshd, remote, host_key=make_key(tmp_path, "other").public_line)
    partner = ctx.partners.by_id("initech")
    assert partner.channels.outbound is not None
    with pytest.raises(PermanentDeliveryError, match="BadHostKey"):
        await SftpPollTransport(ctx).send(partner, partner.channels.outbound, "a.x12", b"a")

    async with CuttingProxy(sshd.port, cut_after=0) as proxy:
        ctx = poll_context(harness, sshd, remote, port=proxy.port)
        partner = ctx.partners.by_id("initech")
        assert partner.channels.outbound is not None
        with pytest.raises(TransientDeliveryError):
            await SftpPollTransport(ctx).send(partner, partner.channels.outbound, "a.x12", b"a")
    assert os.listdir(remote.outbox) == []


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["-t", "ed25519"], "ssh-ed25519"),
        (["-t", "ecdsa", "-b", "256"], "ecdsa-sha2-nistp256"),
        (["-t", "rsa", "-b", "2048"], "ssh-rsa"),
        (["-t", "rsa", "-b", "2048", "-m", "PEM"], "ssh-rsa"),
    ],
    ids=["ed25519", "ecdsa", "rsa", "rsa-pem"],
)
def test_private_keys_from_secrets(tmp_path: Path, argv: list[str], expected: str) -> None:
    path = tmp_path / "key"
    subprocess.run(["ssh-keygen", "-q", "-N", "", "-f", str(path), *argv], check=True, timeout=30)
    text = path.read_text().rstrip("\n")  # secrets lose their trailing line break
    key = private_key(text, secret_name="K")
    assert key.get_name() == expected
    assert key.asbytes() == public_key(path.with_suffix(".pub").read_text()).asbytes()


def test_a_secret_without_a_key_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="'K' holds no private key") as caught:
        private_key("hunter2-not-a-key", secret_name="K")
    assert "hunter2" not in str(caught.value)


def test_the_poller_runs_only_for_sftp_poll_partners(
    sshd: Sshd, remote: Remote, harness: Harness
) -> None:
    _, factory = load_adapters().services["sftp_poller"]
    ctx = poll_context(harness, sshd, remote)
    service = factory(ctx)
    assert isinstance(service, SftpPoller)
    assert [p.id for p in service.partners] == ["initech"]
    (harness.partners_dir / "initech.yaml").unlink()
    write_profile(harness.partners_dir, "web", "inbound: {kind: http, api_key_secrets: [K]}")
    assert factory(harness.context()) is None
