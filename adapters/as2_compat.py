r"""A narrow compatibility shim for oscrypto 1.3.0 on OpenSSL 3.0.10 and later.

pyas2lib imports oscrypto, and oscrypto 1.3.0 (the last release on PyPI) reads the
libcrypto version with the pattern ``\b(\d\.\d\.\d[a-z]*)\b``. On
"OpenSSL 3.0.19 27 Jan 2026" that pattern finds nothing (the patch number has two
digits), and importing oscrypto fails with ``LibraryNotFoundError: Error detecting
the version of libcrypto`` (wbond/oscrypto issues 75 and 78). The fix is on
oscrypto's master branch (commit d5f3437) but in no release on PyPI; like it, the
shim lets each version part have several digits.

:func:`load_pyas2lib` installs an import hook for exactly the two oscrypto modules
that hold the pattern (the cffi and the ctypes backends). The hook compiles the
module's own source with that one pattern replaced by the upstream one, and changes
nothing else; it writes no bytecode, so nothing outside this process sees the
change. The hook is installed only when it is needed (the installed libcrypto's
version string defeats the old pattern) and only when the pattern is found exactly
once (a changed oscrypto is left alone and fails loudly). ``tests/as2/test_compat.py``
fails when the shim stops being needed (a fixed oscrypto, an older OpenSSL) or
stops working.

Imports only the standard library; pyas2lib is imported by :func:`load_pyas2lib`.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import importlib
import importlib.abc
import importlib.machinery
import re
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Sequence
    from types import ModuleType

PATCHED_MODULES = frozenset(
    {"oscrypto._openssl._libcrypto_cffi", "oscrypto._openssl._libcrypto_ctypes"}
)
"""The oscrypto modules whose version pattern the shim replaces."""
OLD_PATTERN = r"\b(\d\.\d\.\d[a-z]*)\b"
"""oscrypto 1.3.0's pattern for the libcrypto version (one digit per part)."""
NEW_PATTERN = r"\b(\d+\.\d+\.\d+[a-z]*)\b"
"""The fixed pattern: any number of digits per part."""
# The patterns as written in oscrypto's source: a plain string with doubled backslashes.
_OLD_SOURCE = "'" + OLD_PATTERN.replace("\\", "\\\\") + "'"
_NEW_SOURCE = "'" + NEW_PATTERN.replace("\\", "\\\\") + "'"
_lock = threading.Lock()


class ShimError(ImportError):
    """oscrypto's source is not what the shim was written for; the shim did nothing."""


def libcrypto_version() -> str | None:
    """The version string of the libcrypto oscrypto loads (``OpenSSL 3.0.19 27 Jan 2026``)."""
    name = ctypes.util.find_library("crypto")
    if name is None:
        return None
    lib = ctypes.CDLL(name)
    for symbol in ("OpenSSL_version", "SSLeay_version"):
        func = getattr(lib, symbol, None)
        if func is not None:
            func.argtypes = [ctypes.c_int]
            func.restype = ctypes.c_char_p
            value = func(0)
            return value.decode("utf-8") if isinstance(value, bytes) else None
    return None


def shim_needed(version: str | None = None) -> bool:
    """Whether oscrypto 1.3.0's pattern fails on this libcrypto's version string."""
    version = libcrypto_version() if version is None else version
    if not version or "LibreSSL" in version:
        return False
    return re.search(OLD_PATTERN, version) is None


def patch_source(source: str, *, origin: str) -> str:
    """``source`` with the old version pattern replaced by the upstream fix.

    Raises:
        ShimError: the old pattern is not in ``source`` exactly once.
    """
    count = source.count(_OLD_SOURCE)
    if count != 1:
        raise ShimError(
            f"oscrypto compatibility shim: expected the version pattern {_OLD_SOURCE} once "
            f"in {origin}, found it {count} times; oscrypto changed, so review the shim"
        )
    return source.replace(_OLD_SOURCE, _NEW_SOURCE)


class _PatchedLoader(importlib.abc.Loader):
    """Executes one oscrypto module from its patched source (never from or to bytecode)."""

    def __init__(self, path: str) -> None:
        self.path = path

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return None  # the default module object

    def exec_module(self, module: ModuleType) -> None:
        source = patch_source(Path(self.path).read_text(encoding="utf-8"), origin=self.path)
        code = compile(source, self.path, "exec", dont_inherit=True)
        # The module's own code, with one regular expression literal changed (see above).
        exec(code, module.__dict__)  # noqa: S102


class _VersionPatternFinder(importlib.abc.MetaPathFinder):
    """Finds the two oscrypto backend modules and hands them to :class:`_PatchedLoader`."""

    def find_spec(
        self,
        fullname: str,
        path: Sequence[str] | None,
        target: ModuleType | None = None,
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname not in PATCHED_MODULES:
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is None or spec.origin is None or not spec.origin.endswith(".py"):
            return spec
        return importlib.machinery.ModuleSpec(
            fullname, _PatchedLoader(spec.origin), origin=spec.origin
        )


def install_shim() -> bool:
    """Install the import hook when needed and oscrypto is not imported yet; True if installed."""
    with _lock:
        if any(isinstance(f, _VersionPatternFinder) for f in sys.meta_path):
            return True
        if not shim_needed() or any(name in sys.modules for name in PATCHED_MODULES):
            return False
        sys.meta_path.insert(0, _VersionPatternFinder())
        return True


def load_pyas2lib() -> ModuleType:
    """Import ``pyas2lib.as2`` (installing the shim first when needed) and return it."""
    install_shim()
    return importlib.import_module("pyas2lib.as2")
