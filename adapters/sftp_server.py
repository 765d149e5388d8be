"""Hosted SFTP: partners log in to our paramiko server, jailed, with a public key.

Every active partner whose inbound or outbound channel is ``sftp_hosted`` gets one
login (the channel's ``username`` and ``authorized_keys``; public-key auth only) and
a jail ``<data_dir>/sftp/<partner_id>/`` holding its ``upload_dir`` (default
``inbound/``) and ``download_dir`` (default ``outbound/``), created at start. What the
client may do there is in :mod:`adapters._sftp_jail`: uploads become documents when
the file is closed, and the close is answered only after the document is stored.

The host key is ``<data_dir>/sftp_host_key`` (ECDSA P-256, made on first start). The
server runs as a Service in processes of the ``sftp`` role and listens on
``settings.sftp_host:settings.sftp_port`` (port 0 picks a free one: see :attr:`port`).
Connections are accepted on the event loop; paramiko then runs each one in its own
threads, which reach the receiver through the loop.

The ``sftp_hosted`` transport writes outbound files into the partner's download
directory under a hidden temporary name, fsynced, then renamed: a client never sees
half a file.

Imports paramiko, the standard library and ``gateway.ports``/``errors``/``settings``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import threading
from typing import TYPE_CHECKING

import paramiko
from paramiko.common import (
    AUTH_FAILED,
    AUTH_SUCCESSFUL,
    OPEN_FAILED_ADMINISTRATIVELY_PROHIBITED,
    OPEN_SUCCEEDED,
)

from adapters._sftp_common import load_host_key, public_key_blob
from adapters._sftp_jail import CHANNEL, Intake, JailedSftp, SftpUser, client_path
from adapters.folder import write_atomically
from gateway.errors import ConfigError, PermanentDeliveryError, TransientDeliveryError

if TYPE_CHECKING:
    from pathlib import Path

    from gateway.channels import Channel, SftpHostedChannel
    from gateway.partners import PartnerProfile
    from gateway.ports import AdapterRegistry, GatewayContext

log = logging.getLogger(__name__)

HOST_KEY_FILE = "sftp_host_key"
JAILS_DIR = "sftp"


def jail_of(ctx: GatewayContext, partner_id: str) -> Path:
    """A partner's jail: ``<data_dir>/sftp/<partner_id>``."""
    return ctx.settings.data_dir / JAILS_DIR / partner_id


def _folder(path: str, what: str) -> str:
    folder = client_path(path)
    if folder is None or folder == "/" or any(p.startswith(".") for p in folder.split("/")[1:]):
        raise ConfigError(f"{what} {path!r}: expected a visible folder below the jail root")
    return folder


def users_of(ctx: GatewayContext) -> dict[str, SftpUser]:
    """One login per active partner with an ``sftp_hosted`` channel, keyed by user name.

    Raises:
        ConfigError: an upload or download directory is the jail root or leaves it.
    """
    users: dict[str, SftpUser] = {}
    for profile in ctx.partners.all():
        inbound, outbound = profile.channels.inbound, profile.channels.outbound
        hosted = [c for c in (inbound, outbound) if c is not None and c.kind == "sftp_hosted"]
        if not profile.active or not hosted:
            continue
        root = os.path.realpath(jail_of(ctx, profile.id))
        for channel in hosted:
            previous = users.get(channel.username)
            upload = previous.upload_dir if previous else None
            download = previous.download_dir if previous else None
            if channel is inbound:
                upload = _folder(channel.upload_dir, "upload_dir")
            if channel is outbound:
                download = _folder(channel.download_dir, "download_dir")
            keys = frozenset(public_key_blob(k) for k in channel.authorized_keys)
            users[channel.username] = SftpUser(
                username=channel.username,
                partner_id=profile.id,
                root=root,
                keys=keys | (previous.keys if previous else frozenset()),
                upload_dir=upload,
                download_dir=download,
            )
    return users


class _SshServer(paramiko.ServerInterface):
    """Authentication and channel policy: public keys only, one SFTP session channel."""

    def __init__(self, transport: paramiko.Transport, users: dict[str, SftpUser]) -> None:
        self._transport = transport
        self._users = users

    @property
    def user(self) -> SftpUser | None:
        """The user this connection authenticated as, once it has."""
        if not self._transport.is_authenticated():
            return None
        return self._users.get(self._transport.get_username() or "")

    def get_allowed_auths(self, username: str) -> str:
        return "publickey"

    def check_auth_none(self, username: str) -> int:
        return AUTH_FAILED

    def check_auth_password(self, username: str, password: str) -> int:
        return AUTH_FAILED

    def check_auth_publickey(self, username: str, key: paramiko.PKey) -> int:
        # Paramiko verifies the signature after this accepts the key itself.
        user = self._users.get(username)
        if user is None or (key.get_name(), key.asbytes()) not in user.keys:
            return AUTH_FAILED
        return AUTH_SUCCESSFUL

    def check_channel_request(self, kind: str, chanid: int) -> int:
        if kind == "session" and self.user is not None:
            return OPEN_SUCCEEDED
        return OPEN_FAILED_ADMINISTRATIVELY_PROHIBITED


class SftpServer:
    """The hosted SFTP endpoint (a Service): listens, authenticates, serves the jails."""

    def __init__(
        self,
        ctx: GatewayContext,
        users: dict[str, SftpUser],
        *,
        host: str | None = None,
        port: int | None = None,
    ) -> None:
        self._ctx = ctx
        self.users = users
        self.host = host if host is not None else ctx.settings.sftp_host
        self.port = port if port is not None else ctx.settings.sftp_port
        """The port it listens on; the bound one once started (useful with port 0)."""
        self._sock: socket.socket | None = None
        self._accepting: asyncio.Task[None] | None = None
        self._transports: set[paramiko.Transport] = set()
        self._host_key: paramiko.PKey | None = None
        self._intake: Intake | None = None

    async def start(self) -> None:
        """Load (or make) the host key, create the jails, start listening."""
        settings = self._ctx.settings
        self._host_key = await asyncio.to_thread(load_host_key, settings.data_dir / HOST_KEY_FILE)
        await asyncio.to_thread(self._make_jails)
        self._intake = Intake(
            asyncio.get_running_loop(), self._ctx.receive, settings.max_document_bytes
        )
        sock = socket.create_server((self.host, self.port), backlog=128)
        sock.setblocking(False)
        self._sock = sock
        self.port = sock.getsockname()[1]
        self._accepting = asyncio.create_task(self._accept_loop(sock), name="sftp-accept")
        log.info(
            "sftp server listening on %s:%d for %d users", self.host, self.port, len(self.users)
        )

    def _make_jails(self) -> None:
        for user in self.users.values():
            for folder in (user.upload_dir, user.download_dir):
                if folder is not None:
                    os.makedirs(os.path.join(user.root, folder.lstrip("/")), exist_ok=True)

    async def _accept_loop(self, sock: socket.socket) -> None:
        loop = asyncio.get_running_loop()
        while True:
            try:
                conn, address = await loop.sock_accept(sock)
            except OSError:  # out of file descriptors, say: wait, then take connections again
                log.exception("sftp accept failed")
                await asyncio.sleep(0.5)
                continue
            try:
                self._serve(conn)
            except (OSError, paramiko.SSHException):
                log.exception("sftp connection from %s failed to start", address[0])
                conn.close()

    def _serve(self, conn: socket.socket) -> None:
        """Hand a connection to paramiko; its own threads negotiate and serve it."""
        assert self._host_key is not None and self._intake is not None
        conn.setblocking(True)
        transport = paramiko.Transport(conn)
        transport.banner_timeout = transport.auth_timeout = 30
        transport.add_server_key(self._host_key)
        transport.set_subsystem_handler("sftp", paramiko.SFTPServer, JailedSftp, self._intake)
        self._transports = {t for t in self._transports if t.is_active()}
        self._transports.add(transport)
        transport.start_server(event=threading.Event(), server=_SshServer(transport, self.users))

    async def stop(self) -> None:
        """Stop accepting, close every connection (uploads not yet closed store nothing)."""
        if self._accepting is not None:
            self._accepting.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._accepting
            self._accepting = None
        if self._sock is not None:
            self._sock.close()
            self._sock = None
        transports, self._transports = self._transports, set()
        await asyncio.to_thread(_close_all, transports)


def _close_all(transports: set[paramiko.Transport]) -> None:
    for transport in transports:
        transport.close()
    for transport in transports:
        transport.join(5)


class SftpHostedTransport:
    """Puts outbound files into the partner's download directory (temp name, rename)."""

    def __init__(self, ctx: GatewayContext) -> None:
        self._ctx = ctx

    async def send(
        self, partner: PartnerProfile, channel: Channel, filename: str, data: bytes
    ) -> str:
        """Write the file; return the path the partner sees (``/outbound/<filename>``)."""
        if channel.kind != "sftp_hosted":
            raise PermanentDeliveryError(f"the sftp_hosted transport got a {channel.kind} channel")
        folder = _hosted_download_dir(channel)
        directory = jail_of(self._ctx, partner.id) / folder.lstrip("/")
        try:
            await asyncio.to_thread(write_atomically, directory, filename, data)
        except OSError as exc:
            raise TransientDeliveryError(f"write {directory / filename}: {exc}") from exc
        log.info("sftp outbound file written", extra={"partner_id": partner.id})
        return f"{folder}/{filename}"


def _hosted_download_dir(channel: SftpHostedChannel) -> str:
    try:
        return _folder(channel.download_dir, "download_dir")
    except ConfigError as exc:
        raise PermanentDeliveryError(str(exc)) from exc


def _server(ctx: GatewayContext) -> SftpServer | None:
    users = users_of(ctx)
    return SftpServer(ctx, users) if users else None


def register(registry: AdapterRegistry) -> None:
    """Offer the hosted SFTP server (role ``sftp``) and the ``sftp_hosted`` transport."""
    registry.add_service("sftp_server", "sftp", _server)
    registry.add_transport(CHANNEL, SftpHostedTransport)
