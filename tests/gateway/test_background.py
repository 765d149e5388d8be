"""``Periodic``: rounds until stopped, a failing round logged and retried, stop waits."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from gateway.background import Periodic

if TYPE_CHECKING:
    import pytest


class Counter(Periodic):
    task_name = "counter"
    retry_seconds = 0.0

    def __init__(self, fail_on: int) -> None:
        super().__init__()
        self.rounds = 0
        self.fail_on = fail_on
        self.enough = asyncio.Event()
        self.release = asyncio.Event()

    async def round(self) -> float:
        self.rounds += 1
        if self.rounds == self.fail_on:
            raise RuntimeError("storage down")
        if self.rounds >= 3:
            self.enough.set()
            await self.release.wait()  # a round in progress when stop() is called
        return 0.0


async def test_a_failing_round_is_logged_and_the_next_one_runs(
    caplog: pytest.LogCaptureFixture,
) -> None:
    service = Counter(fail_on=2)
    await service.start()
    await asyncio.wait_for(service.enough.wait(), 5)
    assert service.rounds == 3
    assert "counter: round failed" in caplog.text and "storage down" in caplog.text
    assert [r.levelno for r in caplog.records if "round failed" in r.message] == [logging.ERROR]

    stopping = asyncio.create_task(service.stop())
    await asyncio.sleep(0.01)
    assert not stopping.done()  # waits for the round in progress
    assert service.stopping
    service.release.set()
    await asyncio.wait_for(stopping, 5)
    assert service.rounds == 3  # no round after stop
