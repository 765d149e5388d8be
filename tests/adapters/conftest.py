"""Fixtures for the channel adapters: partner profiles on disk, a context over a real Store.

The channel adapters only call the receiver, so their tests run on a SQLite Store alone
(``sqlite_store``; the Store's own suite covers PostgreSQL). Other adapters' tests in
this folder keep the parametrized ``store`` of ``tests/support/db.py``.
"""

from __future__ import annotations

import asyncio
import subprocess
import textwrap
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import pytest
import pytest_asyncio

from gateway.partners import PartnerRegistry
from gateway.ports import GatewayContext
from gateway.settings import Settings
from gateway.storage import DocumentQuery, Store
from gateway.storage.migrate import upgrade

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from pathlib import Path

    from gateway.storage import DocumentRecord


class StorageDownError(OSError):
    """What the test receiver raises when told to fail (a storage outage)."""


@dataclass
class FlakyReceiver:
    """The real ``Store.receive``, plus a knob to make the next calls fail."""

    store: Store
    fail_next: int = 0
    calls: int = 0
    failures: list[str] = field(default_factory=list)

    async def __call__(
        self,
        data: bytes,
        *,
        partner_id: str | None,
        channel: str,
        filename: str | None = None,
        content_type: str | None = None,
    ) -> DocumentRecord:
        self.calls += 1
        if self.fail_next > 0:
            self.fail_next -= 1
            self.failures.append(filename or "")
            raise StorageDownError("storage unavailable (test)")
        return await self.store.receive(
            data, partner_id=partner_id, channel=channel, filename=filename
        )

    async def documents(self, partner_id: str | None = None) -> list[DocumentRecord]:
        """Stored inbound documents, oldest first."""
        found = await self.store.search(
            DocumentQuery(partner_id=partner_id, direction="in", limit=1000)
        )
        return sorted(found, key=lambda d: d.id)

    async def payloads(self, partner_id: str | None = None) -> dict[str, bytes]:
        """``filename -> bytes`` of every stored inbound document."""
        return {
            d.filename or "": await self.store.get_payload(d.payload_sha256)
            for d in await self.documents(partner_id)
        }


@pytest_asyncio.fixture
async def sqlite_store(tmp_path: Path, data_dir: Path) -> AsyncIterator[Store]:
    """An open Store on a fresh, upgraded SQLite database; closed after."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'channels.db'}"
    await upgrade(url)
    opened = await Store.open(url, data_dir=data_dir)
    try:
        yield opened
    finally:
        await opened.close()


@pytest.fixture
def partners_dir(tmp_path: Path) -> Path:
    path = tmp_path / "partners"
    path.mkdir()
    return path


def write_profile(partners_dir: Path, partner_id: str, channels_yaml: str) -> None:
    """A minimal partner profile whose ``channels:`` block is ``channels_yaml``."""
    body = textwrap.indent(textwrap.dedent(channels_yaml).strip(), "  ")
    text = f"id: {partner_id}\ndisplay_name: {partner_id}\nchannels:\n{body}\n"
    (partners_dir / f"{partner_id}.yaml").write_text(text)


@dataclass
class Harness:
    """Builds contexts over the test's Store and partner directory."""

    store: Store
    data_dir: Path
    partners_dir: Path
    secrets_dir: Path
    receiver: FlakyReceiver

    def context(self, **settings: object) -> GatewayContext:
        values: dict[str, object] = {
            "data_dir": self.data_dir,
            "partners_dir": self.partners_dir,
            "secrets_dir": self.secrets_dir,
            **settings,
        }
        made = Settings(**values)  # type: ignore[arg-type]
        partners = PartnerRegistry.load(self.partners_dir)
        return GatewayContext(made, self.store, partners, self.receiver)


@pytest.fixture
def harness(sqlite_store: Store, data_dir: Path, partners_dir: Path, tmp_path: Path) -> Harness:
    secrets_dir = tmp_path / "secrets"
    secrets_dir.mkdir()
    receiver = FlakyReceiver(sqlite_store)
    return Harness(sqlite_store, data_dir, partners_dir, secrets_dir, receiver)


@dataclass(frozen=True)
class KeyPair:
    private: Path
    public_line: str


def make_key(directory: Path, name: str) -> KeyPair:
    """An Ed25519 key made by OpenSSH's ssh-keygen, without a passphrase."""
    path = directory / name
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name, "-f", str(path)],
        check=True,
        timeout=30,
        capture_output=True,
    )
    return KeyPair(path, path.with_suffix(".pub").read_text().strip())


async def wait_for(predicate: object, within: float = 10.0) -> None:
    """Poll an async or sync zero-argument predicate until it is true."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        result = predicate()  # type: ignore[operator]
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return
        if loop.time() > deadline:
            pytest.fail(f"condition not met within {within} s")
        await asyncio.sleep(0.02)
