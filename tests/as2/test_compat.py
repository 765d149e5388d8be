"""The oscrypto shim (adapters/as2_compat.py): still needed, still working, still narrow.

Each check runs in a fresh interpreter with warnings as errors, so that what one test
imported cannot hide what another needs. When ``test_shim_is_still_needed`` fails,
oscrypto (or the system's OpenSSL) no longer needs the shim: delete the hook and this
file, and import pyas2lib directly.
"""

from __future__ import annotations

import re
import ssl
import subprocess
import sys
from pathlib import Path

import pytest

from adapters.as2_compat import (
    NEW_PATTERN,
    OLD_PATTERN,
    ShimError,
    libcrypto_version,
    patch_source,
    shim_needed,
)

ROOT = Path(__file__).resolve().parents[2]

WITHOUT_SHIM = "import oscrypto.asymmetric"
WITH_SHIM = """
from adapters.as2_compat import load_pyas2lib
as2 = load_pyas2lib()
from oscrypto import asymmetric
from oscrypto._openssl._libcrypto import libcrypto_version_info
key_pem = open(KEY, 'rb').read()
cert_pem = open(CERT, 'rb').read()
key = asymmetric.load_private_key(key_pem)
cert = asymmetric.load_certificate(cert_pem)
signature = asymmetric.rsa_pkcs1v15_sign(key, b'850', 'sha256')
asymmetric.rsa_pkcs1v15_verify(cert, signature, b'850', 'sha256')
org = as2.Organization(as2_name='US', sign_key=key_pem + cert_pem, decrypt_key=key_pem + cert_pem)
print('.'.join(map(str, libcrypto_version_info)))
"""


def run(code: str, **names: str) -> subprocess.CompletedProcess[str]:
    prelude = "".join(f"{k} = {v!r}\n" for k, v in names.items())
    return subprocess.run(
        [sys.executable, "-W", "error", "-c", prelude + code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def test_shim_is_still_needed() -> None:
    version = libcrypto_version()
    assert version is not None
    assert shim_needed(version), (
        f"oscrypto's version pattern reads {version!r} now: the shim is no longer needed"
    )
    plain = run(WITHOUT_SHIM)
    assert plain.returncode != 0, (
        "oscrypto imports without the shim: remove the hook in adapters/as2_compat.py"
    )
    assert "Error detecting the version of libcrypto" in plain.stderr


def test_shim_works_and_leaves_nothing_behind(tmp_path: Path) -> None:
    from tests.as2.peer import make_identity

    me = make_identity(tmp_path, "compat")
    shimmed = run(WITH_SHIM, KEY=str(me.key), CERT=str(me.cert))

    assert shimmed.returncode == 0, shimmed.stderr
    found = re.search(NEW_PATTERN, libcrypto_version() or "")
    assert found is not None
    assert shimmed.stdout.strip() == found.group(1)
    info = ssl.OPENSSL_VERSION_INFO
    assert tuple(int(p) for p in found.group(1).split(".")) == (info[0], info[1], info[3])
    # No patched bytecode was cached: a plain import still fails as before.
    assert run(WITHOUT_SHIM).returncode != 0


def test_patterns() -> None:
    assert re.search(OLD_PATTERN, "OpenSSL 3.0.19 27 Jan 2026") is None
    assert re.search(NEW_PATTERN, "OpenSSL 3.0.19 27 Jan 2026").group(1) == "3.0.19"  # type: ignore[union-attr]
    assert re.search(NEW_PATTERN, "OpenSSL 1.1.1w  11 Sep 2023").group(1) == "1.1.1w"  # type: ignore[union-attr]
    assert not shim_needed("OpenSSL 3.0.9 30 May 2023")
    assert shim_needed("OpenSSL 3.0.10 1 Aug 2023")


def test_a_changed_oscrypto_is_left_alone() -> None:
    with pytest.raises(ShimError, match="oscrypto changed"):
        patch_source("version_match = re.search('other', version_string)\n", origin="x.py")
    source = "a = re.search('\\\\b(\\\\d\\\\.\\\\d\\\\.\\\\d[a-z]*)\\\\b', s)\n"
    assert patch_source(source, origin="x.py") == (
        "a = re.search('\\\\b(\\\\d+\\\\.\\\\d+\\\\.\\\\d+[a-z]*)\\\\b', s)\n"
    )
