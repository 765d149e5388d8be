"""What the SFTP adapters share: key parsing, the host key file, paramiko error mapping.

``map_errors`` is the one place where paramiko and socket errors become gateway
errors (STYLE.md section 3): authentication and host-key problems are permanent
(a person has to fix a key), everything else on the wire is transient.

Imports paramiko, the standard library and ``gateway.errors`` only.
"""

from __future__ import annotations

import base64
import binascii
import io
import os
import uuid
from contextlib import contextmanager
from typing import TYPE_CHECKING

import paramiko

from gateway.errors import ConfigError, PermanentDeliveryError, TransientDeliveryError

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

_PRIVATE_KEY_CLASSES: tuple[type[paramiko.PKey], ...] = (
    paramiko.Ed25519Key,
    paramiko.ECDSAKey,
    paramiko.RSAKey,
)


class UnknownHostKeyError(paramiko.SSHException):
    """The server's host key is neither the profile's ``host_key`` nor in known_hosts."""


def public_key_blob(line: str) -> tuple[str, bytes]:
    """``(type, blob)`` of an OpenSSH public key line (``ssh-ed25519 AAAA... comment``).

    Raises:
        ConfigError: the line is not a public key (profiles are checked at load, so
            this only fires for hand-built ones).
    """
    parts = line.split()
    try:
        return parts[0], base64.b64decode(parts[1], validate=True)
    except (IndexError, binascii.Error, ValueError) as exc:
        raise ConfigError(f"not an OpenSSH public key line: {line[:40]!r}") from exc


def public_key(line: str) -> paramiko.PKey:
    """The paramiko key of an OpenSSH public key line.

    Raises:
        ConfigError: the line is not a public key of a type paramiko knows.
    """
    key_type, blob = public_key_blob(line)
    try:
        return paramiko.PKey.from_type_string(key_type, blob)
    except (paramiko.SSHException, ValueError) as exc:
        raise ConfigError(f"unsupported public key type {key_type!r}") from exc


def private_key(text: str, *, secret_name: str) -> paramiko.PKey:
    """Parse an OpenSSH or PEM private key (Ed25519, ECDSA or RSA) held in a secret.

    Raises:
        ConfigError: the secret holds no key paramiko can read; the message names the
            secret, never its value.
    """
    if not text.endswith("\n"):
        text += "\n"
    for cls in _PRIVATE_KEY_CLASSES:
        try:
            return cls.from_private_key(io.StringIO(text))
        except (paramiko.SSHException, ValueError):
            continue
    raise ConfigError(
        f"secret {secret_name!r} holds no private key: expected an unencrypted OpenSSH "
        "(ssh-keygen) or PEM key, Ed25519, ECDSA or RSA"
    )


def load_host_key(path: Path) -> paramiko.PKey:
    """Our SFTP server's host key, generated (ECDSA P-256, mode 0600) on first start.

    Paramiko cannot generate Ed25519 keys, and P-256 takes no time to make. The key is
    written under a temporary name and linked into place, so two processes starting at
    once agree on one key.
    """
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        temp = path.with_name(f".{path.name}.{uuid.uuid4().hex}")
        key = paramiko.ECDSAKey.generate(bits=256)
        key.write_private_key_file(str(temp))  # paramiko creates it with mode 0600
        try:
            os.link(temp, path)
        except FileExistsError:
            pass
        finally:
            temp.unlink()
    return paramiko.ECDSAKey.from_private_key_file(str(path))


@contextmanager
def map_errors(what: str) -> Iterator[None]:
    """Turn paramiko and socket errors into delivery errors, chained with ``from``.

    Args:
        what: what was being done, for the message (``upload to sftp.example.com``).

    Raises:
        PermanentDeliveryError: authentication failed, the host key is wrong or unknown, or
            the configuration is (a missing secret, a key that does not parse).
        TransientDeliveryError: anything else on the wire (refused, reset, timeout, EOF).
    """
    try:
        yield
    except (
        paramiko.AuthenticationException,
        paramiko.BadHostKeyException,
        UnknownHostKeyError,
        ConfigError,
    ) as exc:
        raise PermanentDeliveryError(f"{what}: {type(exc).__name__}: {exc}") from exc
    except (TimeoutError, paramiko.SSHException, EOFError, OSError) as exc:
        raise TransientDeliveryError(f"{what}: {type(exc).__name__}: {exc}") from exc
