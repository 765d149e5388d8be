"""Drive the real OpenSSH ``sftp`` client against a server, without blocking the event loop."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path

SFTP = "/usr/bin/sftp"


@dataclass(frozen=True)
class SftpRun:
    returncode: int
    output: str


async def run_sftp(
    *,
    port: int,
    user: str,
    key: Path,
    batch: str,
    workdir: Path,
    within: float = 30.0,
    options: tuple[str, ...] = (),
) -> SftpRun:
    """Run ``sftp -b BATCH`` as ``user`` with ``key``; a failed command ends the batch."""
    batchfile = workdir / f"batch-{uuid.uuid4().hex}"
    batchfile.write_text(batch.strip() + "\n")
    argv = [SFTP, "-F", "/dev/null", "-b", str(batchfile), "-i", str(key), "-P", str(port)]
    for option in (
        "StrictHostKeyChecking=no",
        "UserKnownHostsFile=/dev/null",
        "BatchMode=yes",
        "IdentitiesOnly=yes",
        "IdentityAgent=none",
        "ConnectTimeout=10",
        "LogLevel=ERROR",
        *options,
    ):
        argv += ["-o", option]
    proc = await asyncio.create_subprocess_exec(
        *argv,
        f"{user}@127.0.0.1",
        cwd=workdir,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        out, _ = await asyncio.wait_for(proc.communicate(), within)
    except TimeoutError:
        proc.kill()
        await proc.communicate()
        raise
    finally:
        batchfile.unlink()
    assert proc.returncode is not None
    return SftpRun(proc.returncode, out.decode(errors="replace"))
