"""A loopback TCP proxy that can drop its connections after N bytes from the server.

To a client it is a server that dies mid-transfer, at a point the test chooses.
"""

from __future__ import annotations

import asyncio
import contextlib


class CuttingProxy:
    """Forwards 127.0.0.1:``port`` to ``target``; cuts once ``cut_after`` bytes came back."""

    def __init__(self, target: int, cut_after: int | None = None) -> None:
        self.target = target
        self.cut_after = cut_after
        self.from_server = 0
        self.cut = False
        self.port = 0
        self._server: asyncio.Server | None = None
        self._handlers: set[asyncio.Task[None]] = set()

    async def __aenter__(self) -> CuttingProxy:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        for task in list(self._handlers):
            task.cancel()
        await asyncio.gather(*self._handlers, return_exceptions=True)
        await self._server.wait_closed()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._handlers.add(task)
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target)
        pumps = [
            asyncio.create_task(self._pump(reader, up_writer, counted=False)),
            asyncio.create_task(self._pump(up_reader, writer, counted=True)),
        ]
        try:
            await asyncio.wait(pumps, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for pump in pumps:
                pump.cancel()
            await asyncio.gather(*pumps, return_exceptions=True)
            for w in (writer, up_writer):
                w.close()
                with contextlib.suppress(OSError):
                    await w.wait_closed()
            self._handlers.discard(task)

    async def _pump(
        self, source: asyncio.StreamReader, sink: asyncio.StreamWriter, *, counted: bool
    ) -> None:
        while data := await source.read(65536):
            if counted:
                self.from_server += len(data)
                if self.cut_after is not None and self.from_server > self.cut_after:
                    self.cut = True
                    return
            sink.write(data)
            await sink.drain()
