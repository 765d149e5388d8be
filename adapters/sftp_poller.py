"""SFTP poller: we log in to partners' SFTP servers, fetch their files, and put ours.

Per active partner whose inbound channel is ``sftp_poll``, :class:`SftpPoller` connects
every ``poll_seconds``, lists ``remote_inbound_path``, and for each regular file whose
name matches ``filename_pattern``: downloads it whole (its size checked against the
listing and ``max_document_bytes``), hands it to the gateway's receiver, and only once
that returned deletes it or moves it to ``move_to``. A connection that drops halfway
deletes nothing; the next poll fetches the file again. The poller runs in processes of
the ``sftp`` role (one per deployment, as two pollers would fetch the same file).

Credentials come from secrets: ``key_secret`` (an OpenSSH or PEM private key) or
``password_secret``. The server's host key must equal the profile's ``host_key``, or,
without one, be in ``<data_dir>/known_hosts``; an unknown or different key is refused.

The ``sftp_poll`` transport uploads to ``remote_outbound_path`` under a hidden
temporary name and renames it into place (``posix-rename`` when the server has it).

Every paramiko call is blocking and runs in a thread. Imports paramiko, the standard
library and ``gateway.ports``/``errors``/``settings``.
"""

from __future__ import annotations

import asyncio
import contextlib
import fnmatch
import logging
import posixpath
import stat
from typing import TYPE_CHECKING

import paramiko

from adapters._sftp_common import UnknownHostKeyError, map_errors, private_key, public_key
from adapters.folder import check_filename
from gateway.errors import DeliveryError, PermanentDeliveryError

if TYPE_CHECKING:
    from gateway.channels import Channel, SftpPollChannel
    from gateway.partners import PartnerProfile
    from gateway.ports import AdapterRegistry, GatewayContext
    from gateway.settings import Settings
    from gateway.storage import DocumentRecord

log = logging.getLogger(__name__)

CHANNEL = "sftp_poll"
KNOWN_HOSTS_FILE = "known_hosts"
_CHUNK = 1 << 20
TIMEOUT = 30.0
"""Seconds for connecting, authenticating and each SFTP request."""


class _RefuseUnknown(paramiko.MissingHostKeyPolicy):
    def missing_host_key(
        self, client: paramiko.SSHClient, hostname: str, key: paramiko.PKey
    ) -> None:
        raise UnknownHostKeyError(f"host key of {hostname} is not known ({key.get_name()})")


def connect(settings: Settings, channel: SftpPollChannel) -> paramiko.SSHClient:
    """Log in to the partner's server (blocking: call it in a thread).

    Raises:
        ConfigError: a named secret is missing or holds no key.
        paramiko.SSHException, OSError: see :func:`adapters._sftp_common.map_errors`.
    """
    client = paramiko.SSHClient()
    host_keys = client.get_host_keys()
    if channel.host_key is not None:
        key = public_key(channel.host_key)
        name = channel.host if channel.port == 22 else f"[{channel.host}]:{channel.port}"
        host_keys.add(name, key.get_name(), key)
    else:
        known = settings.data_dir / KNOWN_HOSTS_FILE
        if known.is_file():
            host_keys.load(str(known))
    client.set_missing_host_key_policy(_RefuseUnknown())
    pkey = None
    if channel.key_secret is not None:
        secret = settings.secret(channel.key_secret).get_secret_value()
        pkey = private_key(secret, secret_name=channel.key_secret)
    password = None
    if channel.password_secret is not None:
        password = settings.secret(channel.password_secret).get_secret_value()
    try:
        client.connect(
            channel.host,
            port=channel.port,
            username=channel.username,
            pkey=pkey,
            password=password,
            look_for_keys=False,
            allow_agent=False,
            timeout=TIMEOUT,
            banner_timeout=TIMEOUT,
            auth_timeout=TIMEOUT,
            channel_timeout=TIMEOUT,
        )
    except BaseException:
        client.close()
        raise
    return client


def open_sftp(client: paramiko.SSHClient) -> paramiko.SFTPClient:
    """An SFTP session whose requests time out instead of hanging on a dead server."""
    sftp = client.open_sftp()
    channel = sftp.get_channel()
    if channel is not None:
        channel.settimeout(TIMEOUT)
    return sftp


def _download(sftp: paramiko.SFTPClient, path: str, size: int) -> bytes | None:
    """The whole file, or None when its size changed since the listing (still being written).

    Read in plain sequential requests: paramiko's ``prefetch`` reads in a helper thread
    whose exceptions escape unhandled when the server drops the connection. A dropped
    connection raises here (paramiko's error or EOFError): a partial file never returns.
    """
    parts: list[bytes] = []
    got = 0
    with sftp.open(path, "rb", bufsize=_CHUNK) as remote:
        while got <= size:
            part = remote.read(_CHUNK)
            if not part:
                break
            parts.append(part)
            got += len(part)
    return b"".join(parts) if got == size else None


def _rename(sftp: paramiko.SFTPClient, source: str, target: str) -> None:
    """Rename over an existing target: posix-rename when offered, else remove + rename."""
    try:
        sftp.posix_rename(source, target)
    except OSError:
        with contextlib.suppress(OSError):
            sftp.remove(target)
        sftp.rename(source, target)


class SftpPoller:
    """Fetches files from partners' SFTP servers on a schedule (a Service)."""

    def __init__(self, ctx: GatewayContext, partners: list[PartnerProfile]) -> None:
        self._ctx = ctx
        self.partners = partners
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        """Start one polling loop per partner."""
        for profile in self.partners:
            name = f"sftp-poll-{profile.id}"
            self._tasks.append(asyncio.create_task(self._run(profile), name=name))

    async def stop(self) -> None:
        """Stop polling; a file being fetched is left on the server, fetched next time."""
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []

    async def _run(self, profile: PartnerProfile) -> None:
        channel = _inbound(profile)
        while True:
            await self.poll_partner(profile)
            await asyncio.sleep(channel.poll_seconds)

    async def poll_once(self) -> list[DocumentRecord]:
        """Poll every partner once; return the documents received."""
        received: list[DocumentRecord] = []
        for profile in self.partners:
            received += await self.poll_partner(profile)
        return received

    async def poll_partner(self, profile: PartnerProfile) -> list[DocumentRecord]:
        """Fetch one partner's waiting files; errors are logged, the files stay remote."""
        channel = _inbound(profile)
        extra = {"partner_id": profile.id}
        received: list[DocumentRecord] = []
        client: paramiko.SSHClient | None = None
        try:
            with map_errors(f"poll {channel.host}:{channel.port}"):
                client = await asyncio.to_thread(connect, self._ctx.settings, channel)
                sftp = await asyncio.to_thread(open_sftp, client)
                received = await self._fetch_all(profile, channel, sftp)
        except DeliveryError as exc:
            log.warning("sftp poll failed: %s", exc, extra=extra)
        except Exception:  # a missing secret, a storage failure: logged, retried next poll
            log.exception("sftp poll failed", extra=extra)
        finally:
            if client is not None:
                await asyncio.to_thread(client.close)
        return received

    async def _fetch_all(
        self, profile: PartnerProfile, channel: SftpPollChannel, sftp: paramiko.SFTPClient
    ) -> list[DocumentRecord]:
        folder = channel.remote_inbound_path
        assert folder is not None  # the profile check requires it for inbound sftp_poll
        limit = self._ctx.settings.max_document_bytes
        extra = {"partner_id": profile.id}
        received: list[DocumentRecord] = []
        for entry in sorted(await asyncio.to_thread(sftp.listdir_attr, folder), key=_name):
            name, size = entry.filename, entry.st_size or 0
            if not stat.S_ISREG(entry.st_mode or 0):
                continue
            if not fnmatch.fnmatchcase(name, channel.filename_pattern):
                continue
            if size > limit:
                log.warning("remote %s is %d bytes, over the limit: left", name, size, extra=extra)
                continue
            path = posixpath.join(folder, name)
            data = await asyncio.to_thread(_download, sftp, path, size)
            if data is None:
                log.info("remote %s is still changing: left for next poll", name, extra=extra)
                continue
            record = await self._ctx.receive(
                data, partner_id=profile.id, channel=CHANNEL, filename=name
            )
            await asyncio.to_thread(self._done, sftp, channel, path)
            log.info("sftp file fetched", extra={**extra, "document_id": record.id})
            received.append(record)
        return received

    @staticmethod
    def _done(sftp: paramiko.SFTPClient, channel: SftpPollChannel, path: str) -> None:
        """Delete or move the remote file: only ever called after it was stored."""
        if channel.after_download == "move" and channel.move_to is not None:
            _rename(sftp, path, posixpath.join(channel.move_to, posixpath.basename(path)))
        else:
            sftp.remove(path)


def _name(entry: paramiko.SFTPAttributes) -> str:
    return entry.filename


def _inbound(profile: PartnerProfile) -> SftpPollChannel:
    channel = profile.channels.inbound
    assert channel is not None and channel.kind == "sftp_poll"
    return channel


class SftpPollTransport:
    """Uploads outbound files to the partner's server: hidden temp name, then rename."""

    def __init__(self, ctx: GatewayContext) -> None:
        self._ctx = ctx

    async def send(
        self, partner: PartnerProfile, channel: Channel, filename: str, data: bytes
    ) -> str:
        """Upload the file; return its remote path."""
        if channel.kind != "sftp_poll" or channel.remote_outbound_path is None:
            raise PermanentDeliveryError(
                f"the sftp_poll transport needs an sftp_poll channel with remote_outbound_path "
                f"(partner {partner.id!r})"
            )
        check_filename(filename)
        target = posixpath.join(channel.remote_outbound_path, filename)
        with map_errors(f"upload to {channel.host}:{channel.port}"):
            await asyncio.to_thread(self._upload, channel, target, data)
        log.info("sftp file uploaded", extra={"partner_id": partner.id})
        return target

    def _upload(self, channel: SftpPollChannel, target: str, data: bytes) -> None:
        folder, name = posixpath.split(target)
        temp = posixpath.join(folder, f".{name}.part")
        client = connect(self._ctx.settings, channel)
        try:
            sftp = open_sftp(client)
            try:
                with sftp.open(temp, "wb") as remote:
                    remote.set_pipelined(True)
                    remote.write(data)
                _rename(sftp, temp, target)
            except BaseException:
                with contextlib.suppress(OSError, paramiko.SSHException, EOFError):
                    sftp.remove(temp)
                raise
        finally:
            client.close()


def _poller(ctx: GatewayContext) -> SftpPoller | None:
    partners = [
        p
        for p in ctx.partners.all()
        if p.active and p.channels.inbound is not None and p.channels.inbound.kind == CHANNEL
    ]
    return SftpPoller(ctx, partners) if partners else None


def register(registry: AdapterRegistry) -> None:
    """Offer the poller (role ``sftp``) and the ``sftp_poll`` transport."""
    registry.add_service("sftp_poller", "sftp", _poller)
    registry.add_transport(CHANNEL, SftpPollTransport)
