"""Browser test harness: Debian's Chromium driven by Playwright, a live server, screenshots.

Import the fixtures into a ``conftest.py``::

    from tests.support.browser import artifacts, chromium  # noqa: F401

- ``chromium``: a Playwright browser context on ``/usr/bin/chromium`` (headless, no
  sandbox, no network chatter of its own), with a fresh profile under ``tmp_path``.
  Without Chromium the test is skipped, or fails under ``CI=true``.
- :func:`live_server`: serves an aiohttp app on a loopback port of the test's own
  event loop (``AppRunner``); yields its base URL.
- ``artifacts``: a :class:`Artifacts` that saves full-page screenshots under
  ``test-artifacts/<test name>/`` (or ``$O2C_TEST_ARTIFACTS``); the folder is printed.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import pytest_asyncio
from aiohttp import web
from playwright.async_api import async_playwright

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from playwright.async_api import BrowserContext, Page

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS_ENV = "O2C_TEST_ARTIFACTS"
ROOT = Path(__file__).resolve().parents[2]


def _need_chromium() -> None:
    if CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK):
        return
    reason = f"{CHROMIUM} is missing: install Debian's chromium (make system-deps)"
    if os.environ.get("CI") == "true":
        pytest.fail(reason, pytrace=False)
    pytest.skip(reason)


@pytest_asyncio.fixture
async def chromium(tmp_path: Path) -> AsyncIterator[BrowserContext]:
    """A fresh headless Chromium context (its own profile directory), closed after the test."""
    _need_chromium()
    profile = tmp_path / "chromium-profile"
    profile.mkdir()
    async with async_playwright() as playwright:
        context = await playwright.chromium.launch_persistent_context(
            str(profile),
            executable_path=str(CHROMIUM),
            args=CHROMIUM_ARGS,
            headless=True,
            viewport={"width": 1280, "height": 900},
        )
        context.set_default_timeout(15_000)
        try:
            yield context
        finally:
            await context.close()


@contextlib.asynccontextmanager
async def live_server(app: web.Application) -> AsyncIterator[str]:
    """Serve ``app`` on ``127.0.0.1`` (a free port) on this loop; yield ``http://host:port``."""
    runner = web.AppRunner(app, handle_signals=False)
    await runner.setup()
    try:
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        host, port = runner.addresses[0][:2]
        yield f"http://{host}:{port}"
    finally:
        await runner.cleanup()


@dataclass
class Artifacts:
    """Where a test's screenshots go, and the names of those saved."""

    folder: Path
    saved: list[Path] = field(default_factory=list)

    async def screenshot(self, page: Page, name: str) -> Path:
        """Save a full-page PNG of ``page`` as ``NN-name.png``; return its path."""
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.folder / f"{len(self.saved) + 1:02d}-{name}.png"
        await page.screenshot(path=str(path), full_page=True)
        self.saved.append(path)
        return path


@pytest.fixture
def artifacts(request: pytest.FixtureRequest) -> Artifacts:
    """Screenshots of this test, kept after the run (the previous run's are replaced)."""
    base = Path(os.environ.get(ARTIFACTS_ENV) or ROOT / "test-artifacts")
    folder = base / re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.nodeid)
    shutil.rmtree(folder, ignore_errors=True)
    print(f"screenshots of {request.node.nodeid}: {folder}")
    return Artifacts(folder)


def console_errors(page: Page) -> list[str]:
    """Console errors of the page, as they come (a CSP violation or a failed load shows here)."""
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    return errors
