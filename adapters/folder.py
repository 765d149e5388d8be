"""Folder channel: watch local directories for inbound files, write outbound ones atomically.

Inbound, :class:`FolderWatcher` polls each partner's folder (``channels.inbound.kind:
folder``; a relative ``path`` is under the data directory). A file is taken once its
size and modification time are the same on two polls in a row (a writer still copying
it is left alone), handed to the gateway's receiver, and only after that returns
moved into the folder's ``.received/`` subfolder: a file is never lost if storage
fails, it is simply taken again on a later poll. Hidden files (a writer's temporary
names) are ignored.

Outbound, the ``folder`` transport writes ``<path>/<filename>`` through a hidden
temporary file, fsynced and renamed into place, so a reader never sees half a file.

The drop folder (setting ``drop_dir``, off unless set) takes files of any partner: the
receiver finds the partner from the content (the X12 ISA sender, the cXML ``From``
credential, the canonical JSON envelope) and rejects what it cannot attribute. It is
for ERP-side drops and demos: anyone who can write there speaks for every partner, so
keep it on a directory only the gateway's operators can write.

The watcher runs in processes of the ``sftp`` role (the file-intake role, next to
the hosted SFTP server and the pollers): exactly one process should watch a folder.

Imports only the standard library and ``gateway.ports``/``gateway.errors``.
"""

from __future__ import annotations

import asyncio
import contextlib
import fnmatch
import logging
import os
import stat
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from gateway.errors import PermanentDeliveryError, TransientDeliveryError

if TYPE_CHECKING:
    from gateway.channels import Channel
    from gateway.partners import PartnerProfile
    from gateway.ports import AdapterRegistry, GatewayContext
    from gateway.storage import DocumentRecord

log = logging.getLogger(__name__)

RECEIVED_DIR = ".received"
CHANNEL = "folder"


def check_filename(filename: str) -> None:
    """Refuse a file name that is not one plain, visible name.

    Raises:
        PermanentDeliveryError: the name is empty, hidden, or holds ``/`` or NUL.
    """
    if not filename or filename.startswith(".") or "/" in filename or "\x00" in filename:
        raise PermanentDeliveryError(f"expected a plain file name, found {filename!r}")


def write_atomically(directory: Path, filename: str, data: bytes) -> Path:
    """Write ``directory/filename`` via a fsynced hidden temp file and a rename; return it.

    Raises:
        PermanentDeliveryError: the file name is not a plain name.
        OSError: the file system refused (callers map it to a delivery error).
    """
    check_filename(filename)
    directory.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(prefix=f".{filename}.", suffix=".part", dir=directory)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fchmod(out.fileno(), 0o644)
            os.fsync(out.fileno())
        target = directory / filename
        os.replace(temp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp)
        raise
    fsync_directory(directory)
    return target


def fsync_directory(directory: Path) -> None:
    """Make a rename or unlink in ``directory`` durable."""
    dfd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(dfd)
    finally:
        os.close(dfd)


def folder_path(ctx: GatewayContext, path: str) -> Path:
    """A channel's ``path``: absolute as written, else under the data directory."""
    candidate = Path(path)
    return candidate if candidate.is_absolute() else ctx.settings.data_dir / candidate


@dataclass(frozen=True, slots=True)
class FolderWatch:
    """One partner's inbound folder and the file-name pattern it takes."""

    partner_id: str | None
    """None for the drop folder: the receiver finds the partner from the file's content."""
    directory: Path
    pattern: str = "*"


class FolderWatcher:
    """Polls inbound folders and receives files whose size has settled (a Service)."""

    def __init__(
        self, ctx: GatewayContext, watches: list[FolderWatch], *, interval: float = 1.0
    ) -> None:
        self._ctx = ctx
        self.watches = watches
        self.interval = interval
        self._seen: dict[Path, tuple[int, int]] = {}
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Create the folders and start polling."""
        for watch in self.watches:
            await asyncio.to_thread(watch.directory.mkdir, parents=True, exist_ok=True)
        self._task = asyncio.create_task(self._run(), name="folder-watcher")

    async def stop(self) -> None:
        """Stop polling; a file being received is finished first, or taken again later."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        while True:
            try:
                await self.poll_once()
            except OSError:  # the folder itself is unreadable: try again next time
                log.exception("folder poll failed")
            await asyncio.sleep(self.interval)

    async def poll_once(self) -> list[DocumentRecord]:
        """Look at every folder once; receive the files that were stable since last time."""
        received: list[DocumentRecord] = []
        for watch in self.watches:
            for path, size in await asyncio.to_thread(self._stable_files, watch):
                try:
                    record = await self._take(watch, path, size)
                except Exception:  # storage down, file vanished: it stays, taken next poll
                    log.exception(
                        "folder file %s not received",
                        path.name,
                        extra={"partner_id": watch.partner_id},
                    )
                    continue
                if record is not None:
                    received.append(record)
        return received

    def _stable_files(self, watch: FolderWatch) -> list[tuple[Path, int]]:
        """Files matching the pattern whose (size, mtime) equals the previous poll's."""
        stable: list[tuple[Path, int]] = []
        current: set[Path] = set()
        try:
            entries = list(os.scandir(watch.directory))
        except FileNotFoundError:
            return []
        for entry in sorted(entries, key=lambda e: e.name):
            if entry.name.startswith(".") or not fnmatch.fnmatchcase(entry.name, watch.pattern):
                continue
            info = entry.stat(follow_symlinks=False)
            if not stat.S_ISREG(info.st_mode):
                continue
            path = Path(entry.path)
            current.add(path)
            mark = (info.st_size, info.st_mtime_ns)
            if self._seen.get(path) == mark:
                stable.append((path, info.st_size))
            self._seen[path] = mark
        for gone in [p for p in self._seen if p.parent == watch.directory and p not in current]:
            del self._seen[gone]
        return stable

    async def _take(self, watch: FolderWatch, path: Path, size: int) -> DocumentRecord | None:
        limit = self._ctx.settings.max_document_bytes
        extra = {"partner_id": watch.partner_id}
        if size > limit:
            log.warning(
                "%s is %d bytes, over the %d limit: left", path.name, size, limit, extra=extra
            )
            return None
        data = await asyncio.to_thread(path.read_bytes)
        if len(data) != size:  # changed between the stat and the read: next poll
            return None
        record = await self._ctx.receive(
            data, partner_id=watch.partner_id, channel=CHANNEL, filename=path.name
        )
        await asyncio.to_thread(_move_received, path, record.id)
        self._seen.pop(path, None)
        log.info("folder file received", extra={**extra, "document_id": record.id})
        return record


def _move_received(path: Path, document_id: int) -> None:
    """Move a stored file into ``.received/``; a name already there gets the document id."""
    done = path.parent / RECEIVED_DIR
    done.mkdir(exist_ok=True)
    target = done / path.name
    if target.exists():
        target = done / f"{document_id}-{path.name}"
    os.replace(path, target)
    fsync_directory(path.parent)


class FolderTransport:
    """Writes outbound files into a partner's ``folder`` channel (atomic rename)."""

    def __init__(self, ctx: GatewayContext) -> None:
        self._ctx = ctx

    async def send(
        self, partner: PartnerProfile, channel: Channel, filename: str, data: bytes
    ) -> str:
        """Write the file; return its path."""
        if channel.kind != "folder":
            raise PermanentDeliveryError(f"the folder transport got a {channel.kind} channel")
        directory = folder_path(self._ctx, channel.path)
        try:
            target = await asyncio.to_thread(write_atomically, directory, filename, data)
        except OSError as exc:
            raise TransientDeliveryError(f"write {directory / filename}: {exc}") from exc
        log.info("folder file written", extra={"partner_id": partner.id})
        return str(target)


def watches_of(ctx: GatewayContext) -> list[FolderWatch]:
    """One watch per active partner whose inbound channel is a folder."""
    out: list[FolderWatch] = []
    for profile in ctx.partners.all():
        channel = profile.channels.inbound
        if profile.active and channel is not None and channel.kind == "folder":
            directory = folder_path(ctx, channel.path)
            out.append(FolderWatch(profile.id, directory, channel.filename_pattern))
    if ctx.settings.drop_dir is not None:
        out.append(FolderWatch(None, folder_path(ctx, str(ctx.settings.drop_dir))))
    return out


def _watcher(ctx: GatewayContext) -> FolderWatcher | None:
    watches = watches_of(ctx)
    return FolderWatcher(ctx, watches) if watches else None


def register(registry: AdapterRegistry) -> None:
    """Offer the ``folder`` transport and the folder watcher (role ``sftp``)."""
    registry.add_transport(CHANNEL, FolderTransport)
    registry.add_service("folder_watcher", "sftp", _watcher)
