"""Payload files: raw bytes content-addressed by sha256 under ``<root>/ab/cd/<sha256>``.

A payload is written to a temporary file in its final directory, fsynced, renamed into
place and its directory fsynced (new directories too), so once :meth:`PayloadFiles.write`
returns the bytes survive a crash. An existing file is never rewritten: same name, same
bytes. These functions block; the store calls them through ``asyncio.to_thread``.

Inside a unit the store *stages* payloads instead (:meth:`PayloadFiles.stage`: a temp
file, not yet fsynced nor renamed) and :meth:`PayloadFiles.publish` makes them durable
together just before the unit commits: the fsyncs run in parallel, so the file system
commits them in a few journal flushes instead of one per payload.

Imports only the standard library.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

_SHA256 = re.compile(r"[0-9a-f]{64}")
_SYNC_THREADS = 16
_sync_pool: ThreadPoolExecutor | None = None


def _pool() -> ThreadPoolExecutor:
    global _sync_pool  # one pool per process, made on first use
    if _sync_pool is None:
        _sync_pool = ThreadPoolExecutor(_SYNC_THREADS, thread_name_prefix="o2c-fsync")
    return _sync_pool


@dataclass(frozen=True, slots=True)
class Staged:
    """A payload written to ``temp`` (not yet durable) that belongs at ``path``."""

    sha256: str
    temp: Path
    path: Path
    new_dirs: tuple[Path, ...] = ()
    """Directories made for it, whose parents are fsynced on publish too."""


def sha256_hex(data: bytes) -> str:
    """The lower-case hex sha256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


class PayloadFiles:
    """The payload directory ``root`` (``<data_dir>/payloads``)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, sha256: str) -> Path:
        """Where the payload ``sha256`` lives; KeyError for anything but a sha256 hex digest."""
        if not _SHA256.fullmatch(sha256):
            raise KeyError(sha256)
        return self.root / sha256[:2] / sha256[2:4] / sha256

    def write(self, data: bytes) -> str:
        """Store ``data`` durably; return its sha256."""
        sha = sha256_hex(data)
        path = self.path(sha)
        if path.exists():
            return sha
        _make_dirs(self.root, path.parent)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{sha[:12]}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as file:
                file.write(data)
                file.flush()
                os.fsync(file.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        fsync_dir(path.parent)
        return sha

    def write_many(self, datas: list[bytes]) -> list[str]:
        """:meth:`write` each of ``datas`` (fsyncs in parallel); their sha256s, in order."""
        if len(datas) == 1:
            return [self.write(datas[0])]
        results = self.stage_many(datas)
        self.publish([staged for _, staged in results if staged is not None])
        return [sha for sha, _ in results]

    def stage_many(self, datas: list[bytes]) -> list[tuple[str, Staged | None]]:
        """:meth:`stage` each of ``datas``; return ``(sha256, staged or None)`` in order."""
        staged: dict[str, Staged | None] = {}
        result = []
        for data in datas:
            sha = sha256_hex(data)
            if sha not in staged:
                staged[sha] = self.stage(data)
                result.append((sha, staged[sha]))
            else:
                result.append((sha, None))
        return result

    def stage(self, data: bytes) -> Staged | None:
        """Write ``data`` to a temp file beside its final place; None when already stored."""
        sha = sha256_hex(data)
        path = self.path(sha)
        if path.exists():
            return None
        new_dirs = _make_dirs(self.root, path.parent, sync=False)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{sha[:12]}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as file:
                file.write(data)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return Staged(sha, Path(tmp), path, tuple(new_dirs))

    def publish(self, staged: list[Staged]) -> None:
        """Fsync staged files (in parallel), rename them into place, fsync their directories."""
        if not staged:
            return
        pool = _pool()
        list(pool.map(_fsync_file, [s.temp for s in staged]))
        for item in staged:
            os.replace(item.temp, item.path)
        dirs = {s.path.parent for s in staged} | {d.parent for s in staged for d in s.new_dirs}
        list(pool.map(fsync_dir, sorted(dirs)))

    @staticmethod
    def discard(staged: list[Staged]) -> None:
        """Remove staged temp files (their unit rolled back)."""
        for item in staged:
            item.temp.unlink(missing_ok=True)

    def read(self, sha256: str) -> bytes:
        """The bytes of payload ``sha256``; KeyError when there is no such file."""
        try:
            return self.path(sha256).read_bytes()
        except FileNotFoundError as exc:
            raise KeyError(sha256) from exc


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_dir(path: Path) -> None:
    """Fsync a directory so the names created in it survive a crash."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _make_dirs(root: Path, leaf: Path, *, sync: bool = True) -> list[Path]:
    """Create ``leaf`` and its missing parents up to ``root``; return the new ones.

    With ``sync`` each new entry is fsynced at once (its parent directory); without,
    the caller does it before relying on them.
    """
    missing: list[Path] = []
    if not root.parent.is_dir():  # a data directory that does not exist yet, say
        root.parent.mkdir(parents=True, exist_ok=True)
    current = leaf
    while not current.is_dir():
        missing.append(current)
        if current == root or current.parent == current:
            break
        current = current.parent
    for directory in reversed(missing):
        directory.mkdir(exist_ok=True)
        if sync:
            fsync_dir(directory.parent)
    return missing
