"""Fixtures for the pyx12 ack checker; ``tests/conftest.py`` imports them.

Import with ``from tests.support.fixtures import pyx12_map_dir  # noqa: F401``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from tests.support.pyx12check import make_map_dir

if TYPE_CHECKING:
    from pathlib import Path


@pytest.fixture(scope="session")
def pyx12_map_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of pyx12's maps whose 997/999 maps accept any AK101 and AK201 code."""
    return make_map_dir(tmp_path_factory.mktemp("pyx12"))
