"""The jailed file system one hosted-SFTP user sees (paramiko ``SFTPServerInterface``).

The client's ``/`` is ``<data_dir>/sftp/<partner_id>/``. Every path the client sends
is normalised against that root; one that climbs above it (``..``, ``//..``) is
refused, and so is one whose real path differs from the joined path (a symlink
anywhere on the way, whether it points in or out of the jail). Hidden names are
invisible: they are our temporary files. Clients may write only new files in their
upload directory and only read or remove files in their download directory;
renames, links, directories and attribute changes are refused.

An upload goes to a hidden temporary file. When the client closes it, the bytes are
handed to the gateway's receiver on the event loop, and the close is answered
``SFTP_OK`` only after the document is stored; a failed receive (or an upload past
``max_document_bytes``) answers ``SFTP_FAILURE``. The temporary file is removed
either way: a stored payload lives in storage, a refused one is the client's to
resend. A session that ends with an upload still open stores nothing.

These handlers run in paramiko's threads, never on the event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import os
import posixpath
import stat
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING

from paramiko import SFTPAttributes, SFTPHandle, SFTPServer, SFTPServerInterface
from paramiko.sftp import (
    SFTP_FAILURE,
    SFTP_NO_SUCH_FILE,
    SFTP_OK,
    SFTP_PERMISSION_DENIED,
)

from gateway.errors import GatewayError

if TYPE_CHECKING:
    from _typeshed import ReadableBuffer
    from paramiko import ServerInterface

    from gateway.ports import Receiver
    from gateway.storage import DocumentRecord

log = logging.getLogger(__name__)

CHANNEL = "sftp_hosted"


def _code(exc: OSError) -> int:
    """The SFTP status code for an OS error."""
    return SFTPServer.convert_errno(exc.errno or errno.EIO)


class UploadRefusedError(GatewayError):
    """An upload or path was refused; paramiko answers the request with ``SFTP_FAILURE``."""


@dataclass(frozen=True, slots=True)
class SftpUser:
    """One hosted-SFTP login: its partner, its keys and the directories it may use.

    ``upload_dir``/``download_dir`` are client paths (``/inbound``); None forbids the
    direction. ``keys`` holds ``(type, blob)`` of each authorized public key.
    """

    username: str
    partner_id: str
    root: str
    """Real path of the jail, ``<data_dir>/sftp/<partner_id>``, symlinks resolved."""
    keys: frozenset[tuple[str, bytes]]
    upload_dir: str | None
    download_dir: str | None


@dataclass(frozen=True, slots=True)
class Intake:
    """What an SFTP session needs from the process: the loop, the receiver, the limit."""

    loop: asyncio.AbstractEventLoop
    receive: Receiver
    max_bytes: int
    timeout: float = 300.0

    def deliver(self, user: SftpUser, filename: str, data: bytes) -> DocumentRecord:
        """Run the receiver on the event loop and wait for the stored document."""
        coro = self.receive(data, partner_id=user.partner_id, channel=CHANNEL, filename=filename)
        try:
            future = asyncio.run_coroutine_threadsafe(coro, self.loop)
        except RuntimeError:  # the loop is closed: the process is stopping
            coro.close()
            raise
        try:
            return future.result(self.timeout)
        except TimeoutError:
            future.cancel()
            raise


def client_path(path: str) -> str | None:
    """Normalise a client path against ``/``; None when it climbs above the root."""
    if "\x00" in path:
        return None
    parts: list[str] = []
    for part in path.split("/"):  # a leading '//' is just two empty parts here
        if part in ("", "."):
            continue
        if part == "..":
            if not parts:
                return None
            parts.pop()
        else:
            parts.append(part)
    return "/" + "/".join(parts)


class JailedSftp(SFTPServerInterface):
    """The SFTP operations of one session, confined to the user's jail."""

    def __init__(self, server: ServerInterface, intake: Intake) -> None:
        super().__init__(server)
        user = getattr(server, "user", None)
        if not isinstance(user, SftpUser):
            raise UploadRefusedError("SFTP subsystem requested before authentication")
        self.user = user
        self.intake = intake
        self._uploads: set[Upload] = set()

    def _resolve(self, path: str) -> tuple[str, str] | int:
        """``(client path, real path)``, or an SFTP error code when the path is refused."""
        virtual = client_path(path)
        if virtual is None:
            return SFTP_PERMISSION_DENIED
        parts = virtual.split("/")[1:] if virtual != "/" else []
        if any(p.startswith(".") for p in parts):
            return SFTP_NO_SUCH_FILE
        real = os.path.join(self.user.root, *parts)
        if os.path.realpath(real) != real:  # a symlink on the way, in or out of the jail
            return SFTP_PERMISSION_DENIED
        return virtual, real

    def canonicalize(self, path: str) -> str:
        """The client path, or a refusal (``SFTP_FAILURE``) when it leaves the jail."""
        resolved = self._resolve(path)
        if isinstance(resolved, int):
            raise UploadRefusedError(f"path {path!r} is outside the jail")
        return resolved[0]

    def session_ended(self) -> None:
        """Drop uploads the client never closed: nothing half-sent is stored."""
        for upload in list(self._uploads):
            upload.abort()

    def list_folder(self, path: str) -> list[SFTPAttributes] | int:
        """Visible regular files and directories of a folder in the jail."""
        resolved = self._resolve(path)
        if isinstance(resolved, int):
            return resolved
        try:
            with os.scandir(resolved[1]) as entries:
                return [
                    SFTPAttributes.from_stat(e.stat(follow_symlinks=False), e.name)
                    for e in entries
                    if not e.name.startswith(".") and not e.is_symlink()
                ]
        except OSError as exc:
            return _code(exc)

    def stat(self, path: str) -> SFTPAttributes | int:
        """Attributes of a path in the jail (symlinks are refused, so stat is lstat)."""
        resolved = self._resolve(path)
        if isinstance(resolved, int):
            return resolved
        try:
            return SFTPAttributes.from_stat(os.lstat(resolved[1]), posixpath.basename(path))
        except OSError as exc:
            return _code(exc)

    lstat = stat

    def open(self, path: str, flags: int, attr: SFTPAttributes) -> SFTPHandle | int:
        """Write-only new files in the upload dir; read-only files in the download dir."""
        resolved = self._resolve(path)
        if isinstance(resolved, int):
            return resolved
        virtual, real = resolved
        folder, name = posixpath.split(virtual)
        if flags & (os.O_RDWR | os.O_APPEND):
            return SFTP_PERMISSION_DENIED
        try:
            if flags & os.O_WRONLY:
                if folder != self.user.upload_dir or not name:
                    return SFTP_PERMISSION_DENIED
                return self._upload(os.path.dirname(real), name)
            if folder != self.user.download_dir or not name:
                return SFTP_PERMISSION_DENIED
            fd = os.open(real, os.O_RDONLY | os.O_NOFOLLOW)
        except OSError as exc:
            return _code(exc)
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            os.close(fd)
            return SFTP_PERMISSION_DENIED
        return Download(fd)

    def _upload(self, directory: str, name: str) -> Upload:
        temp = os.path.join(directory, f".upload-{uuid.uuid4().hex}.part")
        fd = os.open(temp, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        upload = Upload(self, fd, temp, name)
        self._uploads.add(upload)
        return upload

    def finish(self, upload: Upload, data: bytes | None) -> None:
        """Called by a closed upload: store ``data`` (None: refused) or raise."""
        self._uploads.discard(upload)
        if data is None:
            raise UploadRefusedError(f"upload {upload.name!r} refused")
        user = self.user
        extra = {"partner_id": user.partner_id}
        try:
            record = self.intake.deliver(user, upload.name, data)
        except Exception as exc:
            log.exception("sftp upload %s not stored", upload.name, extra=extra)
            raise UploadRefusedError(f"upload {upload.name!r} not stored") from exc
        log.info("sftp upload stored", extra={**extra, "document_id": record.id})

    def remove(self, path: str) -> int:
        """Remove a file from the download directory (what partners do after a get)."""
        resolved = self._resolve(path)
        if isinstance(resolved, int):
            return resolved
        virtual, real = resolved
        if posixpath.dirname(virtual) != self.user.download_dir:
            return SFTP_PERMISSION_DENIED
        try:
            if not stat.S_ISREG(os.lstat(real).st_mode):
                return SFTP_PERMISSION_DENIED
            os.unlink(real)
        except OSError as exc:
            return _code(exc)
        return SFTP_OK

    def rename(self, oldpath: str, newpath: str) -> int:
        """Refused: files go in and come out, they are not moved around."""
        return SFTP_PERMISSION_DENIED

    def posix_rename(self, oldpath: str, newpath: str) -> int:
        """Refused, as :meth:`rename`."""
        return SFTP_PERMISSION_DENIED

    def mkdir(self, path: str, attr: SFTPAttributes) -> int:
        """Refused: the jail's folders are fixed."""
        return SFTP_PERMISSION_DENIED

    def rmdir(self, path: str) -> int:
        """Refused: the jail's folders are fixed."""
        return SFTP_PERMISSION_DENIED

    def chattr(self, path: str, attr: SFTPAttributes) -> int:
        """Refused: modes and owners are ours."""
        return SFTP_PERMISSION_DENIED

    def readlink(self, path: str) -> str | int:
        """Refused: there are no links a client may follow."""
        return SFTP_PERMISSION_DENIED

    def symlink(self, target_path: str, path: str) -> int:
        """Refused: a link is a way out of the jail."""
        return SFTP_PERMISSION_DENIED


class Download(SFTPHandle):
    """A read-only handle on a file of the download directory."""

    def __init__(self, fd: int) -> None:
        super().__init__(os.O_RDONLY)
        self._fd = fd

    def read(self, offset: int, length: int) -> bytes | int:
        """``length`` bytes from ``offset`` (empty at the end)."""
        try:
            return os.pread(self._fd, length, offset)
        except OSError as exc:
            return _code(exc)

    def write(self, offset: int, data: ReadableBuffer) -> int:
        """Refused: downloads are read-only."""
        return SFTP_PERMISSION_DENIED

    def stat(self) -> SFTPAttributes | int:
        """The open file's attributes."""
        return SFTPAttributes.from_stat(os.fstat(self._fd))

    def close(self) -> None:
        """Close the file (called again by paramiko at session end: harmless)."""
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1


class Upload(SFTPHandle):
    """A write-only handle on a hidden temporary file; closing it stores the upload."""

    def __init__(self, session: JailedSftp, fd: int, temp: str, name: str) -> None:
        super().__init__(os.O_WRONLY)
        self._session = session
        self._fd = fd
        self._temp = temp
        self.name = name
        self._size = 0
        self._refused = False

    def write(self, offset: int, data: ReadableBuffer) -> int:
        """Write at ``offset``; fail (and refuse the upload) once past the size limit."""
        chunk = bytes(data)
        end = offset + len(chunk)
        if self._fd < 0 or self._refused:
            return SFTP_FAILURE
        if end > self._session.intake.max_bytes:
            self._refused = True
            log.warning(
                "sftp upload %s over the size limit: refused",
                self.name,
                extra={"partner_id": self._session.user.partner_id},
            )
            return SFTP_FAILURE
        try:
            while chunk:
                written = os.pwrite(self._fd, chunk, offset)
                chunk, offset = chunk[written:], offset + written
        except OSError as exc:
            self._refused = True
            return _code(exc)
        self._size = max(self._size, end)
        return SFTP_OK

    def stat(self) -> SFTPAttributes | int:
        """The temporary file's attributes."""
        if self._fd < 0:
            return SFTP_FAILURE
        return SFTPAttributes.from_stat(os.fstat(self._fd))

    def chattr(self, attr: SFTPAttributes) -> int:
        """Accepted and ignored: times and modes of an upload do not matter to us."""
        return SFTP_OK

    def abort(self) -> None:
        """The session ended with this file open: store nothing."""
        self._refused = True
        self._release()

    def close(self) -> None:
        """Store the upload, then answer; raising makes paramiko answer ``SFTP_FAILURE``."""
        if self._fd < 0:
            return
        data = None if self._refused else self._read_all()
        self._release()
        self._session.finish(self, data)

    def _read_all(self) -> bytes:
        size = os.fstat(self._fd).st_size
        parts: list[bytes] = []
        offset = 0
        while offset < size:
            part = os.pread(self._fd, min(size - offset, 1 << 20), offset)
            if not part:
                break
            parts.append(part)
            offset += len(part)
        return b"".join(parts)

    def _release(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self._temp)
