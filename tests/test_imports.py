"""Every module of ``gateway`` and ``adapters`` imports on its own, in a fresh interpreter.

After aiohttp's ``tests/test_circular_imports.py``: importing each module alone, with
warnings turned into errors, finds the import cycles and import-time warnings that one
shared interpreter hides once something else has imported the other half. Modules are
found by walking the package folders, so a new module is covered without editing this file.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("gateway", "adapters")
# Alembic's scripts run only inside alembic's own migration context.
SKIPPED_DIRS = frozenset({"__pycache__", "migrations"})


def _source_files() -> list[Path]:
    files = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            relative = path.relative_to(ROOT)
            if not SKIPPED_DIRS.intersection(relative.parts):
                files.append(relative)
    return files


def _module_name(relative: Path) -> str:
    parts = relative.with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = [_module_name(path) for path in _source_files()]


@pytest.mark.parametrize("module", MODULES, ids=MODULES)
def test_module_imports_alone(module: str) -> None:
    result = subprocess.run(
        [sys.executable, "-W", "error", "-c", f"import {module}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if result.returncode != 0:
        pytest.fail(f"`import {module}` failed on its own:\n{result.stderr}", pytrace=False)


def test_every_source_folder_is_a_package() -> None:
    # A folder without __init__.py is a namespace package: import-linter leaves it out of its
    # graph, so the layer contracts in pyproject.toml would silently not check its modules.
    folders = {parent for path in _source_files() for parent in path.parents if parent.parts}
    missing = sorted(
        str(folder) for folder in folders if not (ROOT / folder / "__init__.py").is_file()
    )
    assert missing == [], f"source folders without __init__.py: {missing}"
