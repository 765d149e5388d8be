"""Suite-wide pytest setup: the task-leak guard and the shared sample corpus.

Fixtures for one area live in the nearest ``conftest.py`` below this one; whole
fixture modules can be added here through ``pytest_plugins``.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import pytest_asyncio
from pytest_asyncio import is_async_test

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

pytest_plugins = ["tests.support.fixtures", "tests.support.db"]

_SAMPLES_ENV = "O2C_SAMPLES_DIR"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--samples-dir",
        type=Path,
        default=None,
        help=f"the shared X12 sample corpus (default: ${_SAMPLES_ENV}, else ../shared/samples)",
    )


@pytest.fixture(scope="session")
def samples_dir(pytestconfig: pytest.Config) -> Path:
    """The shared X12 sample corpus; skips the test when it is missing, fails under CI=true."""
    chosen = pytestconfig.getoption("--samples-dir") or os.environ.get(_SAMPLES_ENV)
    path = Path(chosen) if chosen else pytestconfig.rootpath.parent / "shared" / "samples"
    if not path.is_dir():
        reason = f"sample corpus not found at {path} (set --samples-dir or ${_SAMPLES_ENV})"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason}; CI must run the corpus tests", pytrace=False)
        pytest.skip(reason)
    return path


@pytest.fixture(autouse=True)
def _fail_on_leaked_tasks(request: pytest.FixtureRequest) -> None:
    """Runs the task-leak check for async tests on a per-test event loop; sync tests skip it.

    A test on a module- or session-scoped loop may leave tasks for the next test on purpose,
    so only function-scoped loops are checked.
    """
    if is_async_test(request.node) and _loop_scope(request.node) == "function":
        request.getfixturevalue("_no_leaked_tasks")


def _loop_scope(item: pytest.Item) -> str:
    marker = item.get_closest_marker("asyncio")
    scope = marker and (marker.kwargs.get("loop_scope") or marker.kwargs.get("scope"))
    return str(scope or item.config.getini("asyncio_default_test_loop_scope") or "function")


@pytest_asyncio.fixture(loop_scope="function")
async def _no_leaked_tasks() -> AsyncIterator[None]:
    """Fails the test if tasks it started are still pending once its other fixtures closed.

    Set up before, so torn down after, the test's own fixtures: a fixture that owns a task
    (a server, a worker) and stops it in its teardown is not a leak.
    """
    before = asyncio.all_tasks()
    yield
    await asyncio.sleep(0)  # let tasks that were just cancelled finish cancelling
    leaked = asyncio.all_tasks() - before - {asyncio.current_task()}
    if not leaked:
        return
    for task in leaked:
        task.cancel()
    await asyncio.gather(*leaked, return_exceptions=True)
    names = ", ".join(sorted(f"{t.get_name()} ({t.get_coro()!r})" for t in leaked))
    pytest.fail(f"test left {len(leaked)} asyncio task(s) running: {names}", pytrace=False)
