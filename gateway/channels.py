"""How files move to and from a partner: one configuration model per channel kind.

A partner profile has one channel per direction, told apart by ``kind``:
``sftp_hosted`` (the partner logs in to our SFTP server), ``sftp_poll`` (we log in
to theirs), ``http`` (they post to us, or we post to them), ``as2`` and ``folder``.
Each model is the ``Config`` of the adapter of the same kind. Credentials are
only named (``key_secret: ACME_SFTP_KEY``), never written here.

Imports only the standard library, pydantic, ``gateway.settings`` (shared value
types) and ``gateway.yamlconfig``.
"""

from __future__ import annotations

import base64
import binascii
from typing import Annotated, Final, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator
from pydantic_core import PydanticCustomError

from gateway.settings import SecretName
from gateway.yamlconfig import RelativePath, matches

_SSH_KEY_TYPES = frozenset(
    {
        "ssh-ed25519",
        "ssh-rsa",
        "ecdsa-sha2-nistp256",
        "ecdsa-sha2-nistp384",
        "ecdsa-sha2-nistp521",
        "sk-ssh-ed25519@openssh.com",
        "sk-ecdsa-sha2-nistp256@openssh.com",
    }
)
_SSH_KEY_WHAT = "an OpenSSH public key line: 'ssh-ed25519 AAAA... comment' (ssh-rsa, ecdsa too)"


def _ssh_public_key(value: str) -> str:
    """Check the shape of an OpenSSH public key line: type, base64 blob naming that type."""
    parts = value.strip().split(maxsplit=2)
    if len(parts) >= 2 and parts[0] in _SSH_KEY_TYPES:
        try:
            blob = base64.b64decode(parts[1], validate=True)
        except (binascii.Error, ValueError):
            blob = b""
        size = int.from_bytes(blob[:4], "big")
        if blob[4 : 4 + size] == parts[0].encode() and len(blob) > 4 + size + 4:
            return " ".join(parts)
    raise PydanticCustomError("format", "expected {what}", {"what": _SSH_KEY_WHAT})


SshPublicKey = Annotated[str, AfterValidator(_ssh_public_key)]
Username = Annotated[
    str, matches(r"[a-z_][a-z0-9_.-]{0,31}", "a user name: lowercase letters, digits, _ . -")
]
Hostname = Annotated[str, matches(r"[A-Za-z0-9][A-Za-z0-9.:-]{0,252}", "a host name or IP address")]
RemotePath = Annotated[str, matches(r"[^\x00\n\r]{1,1024}", "a directory path, e.g. /outbound")]
FilenamePattern = Annotated[
    str, matches(r"[^/\x00\n\r]{1,255}", "a file-name pattern without '/', e.g. *.edi")
]
HttpUrl = Annotated[str, matches(r"https?://[^\s/?#]+[^\s]*", "an http:// or https:// URL")]
As2Id = Annotated[
    str,
    matches(
        r"[!#-\[\]-~](?:[ !#-\[\]-~]{0,126}[!#-\[\]-~])?",
        "an AS2 id: 1 to 128 printable ASCII characters, no quotes or backslashes",
    ),
]
_CONFIG = ConfigDict(frozen=True, extra="forbid")
# Which field each channel kind needs in each direction, and why (for the message).
_DIRECTION_NEEDS: Final = {
    ("inbound", "sftp_poll"): ("remote_inbound_path", "the partner's directory we download from"),
    ("outbound", "sftp_poll"): ("remote_outbound_path", "the partner's directory we upload to"),
    ("outbound", "http"): ("url", "the URL we post documents to"),
    ("outbound", "as2"): ("url", "the partner's AS2 URL"),
}


class SftpHostedChannel(BaseModel):
    """The partner logs in to our SFTP server, jailed to its own directory, with a key."""

    model_config = _CONFIG

    kind: Literal["sftp_hosted"]
    username: Username
    authorized_keys: tuple[SshPublicKey, ...] = Field(min_length=1)
    upload_dir: RemotePath = "/inbound"
    """Where the partner puts files for us (used when this is the inbound channel)."""
    download_dir: RemotePath = "/outbound"
    """Where we put files for the partner (used when this is the outbound channel)."""


class SftpPollChannel(BaseModel):
    """We log in to the partner's SFTP server to fetch files, or to put ours."""

    model_config = _CONFIG

    kind: Literal["sftp_poll"]
    host: Hostname
    port: int = Field(default=22, ge=1, le=65535)
    username: str = Field(min_length=1, max_length=64)
    password_secret: SecretName | None = None
    key_secret: SecretName | None = None
    """Name of the secret holding our private key (OpenSSH format)."""
    host_key: SshPublicKey | None = None
    """The server's public host key; when unset the poller checks its known_hosts file."""
    remote_inbound_path: RemotePath | None = None
    remote_outbound_path: RemotePath | None = None
    filename_pattern: FilenamePattern = "*"
    after_download: Literal["delete", "move"] = "delete"
    move_to: RemotePath | None = None
    poll_seconds: int = Field(default=300, ge=10, le=86400)

    @model_validator(mode="after")
    def _consistent(self) -> SftpPollChannel:
        if self.password_secret is None and self.key_secret is None:
            raise ValueError("needs password_secret or key_secret (the name of a secret)")
        if self.after_download == "move" and self.move_to is None:
            raise ValueError("after_download is 'move', so move_to (a remote directory) is needed")
        if self.after_download == "delete" and self.move_to is not None:
            raise ValueError("move_to is set but after_download is 'delete': set it to 'move'")
        return self


class HttpChannel(BaseModel):
    """Documents over HTTPS: the partner posts to us with an API key, or we post to it."""

    model_config = _CONFIG

    kind: Literal["http"]
    api_key_secrets: tuple[SecretName, ...] = ()
    """Inbound: names of secrets holding API keys the partner may send (several, for
    rotation), for keys kept in a secret store; keys made with ``o2c apikeys create``
    work without being named here."""
    url: HttpUrl | None = None
    """Outbound: where we post."""
    api_key_secret: SecretName | None = None
    """Outbound: name of the API key we send."""
    header: str = Field(default="X-API-Key", pattern=r"^[A-Za-z0-9-]{1,64}$")


class As2Channel(BaseModel):
    """AS2 (RFC 4130): signed, encrypted messages with MDN receipts."""

    model_config = _CONFIG

    kind: Literal["as2"]
    as2_id: As2Id
    our_as2_id: As2Id
    url: HttpUrl | None = None
    """The partner's AS2 URL; required for sending."""
    partner_certificate: RelativePath
    """PEM certificate of the partner: we encrypt to it and verify its signatures."""
    our_key_secret: SecretName
    """Name of the secret holding our PEM private key (signing, decrypting)."""
    our_certificate: RelativePath | None = None
    """PEM certificate of our key, when the secret holds only the key (relative to the
    partners directory); the partner verifies our signatures with it."""
    mdn: Literal["sync", "async", "none"] = "sync"
    """Outbound: the receipt we ask for. Inbound: the partner's message asks for its own."""
    mdn_signed: bool = True
    """Outbound: ask for a signed MDN (and refuse an unsigned one)."""
    sign: bool = True
    """Outbound: we sign. Inbound: the partner must sign (unsigned messages are refused)."""
    encrypt: bool = True
    """Outbound: we encrypt. Inbound: the partner must encrypt."""
    compress: bool = False
    """Outbound: compress before signing (RFC 5402); inbound compression is always accepted."""
    encryption: Literal["aes_256_cbc", "aes_192_cbc", "aes_128_cbc", "tripledes_192_cbc"] = (
        "aes_256_cbc"
    )
    """Outbound content encryption; 3DES only for a partner that cannot do AES."""
    digest: Literal["sha256", "sha384", "sha512", "sha1"] = "sha256"
    """Outbound signature digest, also the MIC algorithm we ask for in a signed MDN."""
    content_type: Literal[
        "application/octet-stream", "application/edi-x12", "application/edifact", "application/xml"
    ] = "application/octet-stream"
    """Outbound MIME type of the payload. octet-stream goes with binary transfer encoding,
    so the partner gets our bytes exactly; the others go as 7bit, where pyas2lib turns
    bare LF line ends into CRLF (harmless for X12 and XML, but not byte-exact)."""
    async_mdn_url: HttpUrl | None = None
    """Outbound with ``mdn: async``: our public AS2 URL (``https://.../as2``), where the
    partner posts its MDN."""
    async_mdn_timeout_minutes: int = Field(default=60, ge=1, le=7 * 24 * 60)
    """Outbound with ``mdn: async``: after this long without an MDN the send counts as
    failed and is retried."""


class FolderChannel(BaseModel):
    """A local or mounted directory, relative to the data directory unless absolute."""

    model_config = _CONFIG

    kind: Literal["folder"]
    path: RemotePath
    filename_pattern: FilenamePattern = "*"


Channel = Annotated[
    SftpHostedChannel | SftpPollChannel | HttpChannel | As2Channel | FolderChannel,
    Field(discriminator="kind"),
]
"""Any channel; ``kind`` says which."""


class Channels(BaseModel):
    """One channel per direction; a direction without one is not used."""

    model_config = _CONFIG

    inbound: Channel | None = None
    outbound: Channel | None = None

    def gaps(self) -> list[tuple[tuple[str, str], str]]:
        """Fields a channel leaves empty that its direction needs, as ``(loc, message)``."""
        out: list[tuple[tuple[str, str], str]] = []
        for direction in ("inbound", "outbound"):
            channel = getattr(self, direction)
            need = _DIRECTION_NEEDS.get((direction, channel.kind)) if channel else None
            if need and not getattr(channel, need[0]):
                message = f"required for an {direction} {channel.kind} channel: {need[1]}"
                out.append(((direction, need[0]), message))
        return out
