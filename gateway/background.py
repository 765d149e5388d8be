"""The shape of every background service: :class:`Periodic`, a task that runs rounds until stopped.

The invoice poller, the payment pusher, the overdue-ack monitor and the DSO snapshotter
each subclass it: :meth:`Periodic.round` does one round and says how long to wait for
the next. A round that raises is logged with the service's name and tried again after
:attr:`Periodic.retry_seconds`; the service never dies of it. :meth:`Periodic.stop`
lets a round in progress finish, then returns. These are the ``start``/``stop`` of
:class:`gateway.ports.Service`.

Imports only the standard library.
"""

from __future__ import annotations

import abc
import asyncio
import contextlib
import logging
from typing import ClassVar

log = logging.getLogger(__name__)


class Periodic(abc.ABC):
    """Runs :meth:`round` in a background task from :meth:`start` until :meth:`stop`."""

    task_name: ClassVar[str] = "periodic"
    """The asyncio task's name, and the service's name in logs."""
    retry_seconds: float = 60.0
    """How long to wait after a round that failed."""

    def __init__(self) -> None:
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    @abc.abstractmethod
    async def round(self) -> float:
        """Do one round; return the seconds to wait before the next."""

    async def start(self) -> None:
        """Run rounds in the background until :meth:`stop`."""
        self._stop.clear()
        self._task = asyncio.create_task(self._run(), name=self.task_name)

    async def stop(self) -> None:
        """Stop (a round in progress finishes first)."""
        self._stop.set()
        if self._task is not None:
            await self._task
            self._task = None

    @property
    def stopping(self) -> bool:
        """Whether :meth:`stop` was called (a long round may end early on it)."""
        return self._stop.is_set()

    async def _run(self) -> None:
        while not self._stop.is_set():
            try:
                wait = await self.round()
            except Exception:  # storage or a peer down: log, try again later
                log.exception("%s: round failed", self.task_name)
                wait = self.retry_seconds
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), wait)
