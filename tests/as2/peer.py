"""An AS2 peer built only on the ``openssl`` command line (never on pyas2lib).

It makes throwaway certificates (``openssl req``), builds AS2 messages
(``openssl cms -sign -binary | openssl cms -encrypt -binary -aes256 -outform DER``),
opens ours (``openssl cms -decrypt``, ``openssl cms -verify`` on the detached
signature), signs its own MDNs and computes MICs (``openssl dgst``). The MIME around
the CMS structures is split by hand: that is plain text handling.
"""

from __future__ import annotations

import base64
import re
import subprocess
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path

OPENSSL = "openssl"


def openssl(*args: str | Path, data: bytes | None = None) -> bytes:
    """Run ``openssl args...`` with ``data`` on stdin; its stdout (fails on a non-zero exit)."""
    done = subprocess.run(
        [OPENSSL, *map(str, args)], input=data, capture_output=True, check=False, timeout=60
    )
    if done.returncode != 0:
        raise OpensslError(done.stderr.decode(errors="replace"))
    return done.stdout


class OpensslError(Exception):
    """openssl exited with an error (its stderr is the message)."""


@dataclass(frozen=True)
class Identity:
    """A key and its self-signed certificate, as PEM files."""

    name: str
    key: Path
    cert: Path

    def pem(self) -> bytes:
        return self.key.read_bytes() + self.cert.read_bytes()


def make_identity(directory: Path, name: str, *, days: int = 365) -> Identity:
    """A fresh RSA 2048 key and a self-signed certificate valid for ``days``."""
    key, cert = directory / f"{name}.key", directory / f"{name}.crt"
    openssl(
        "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert,
        "-days", str(days), "-subj", f"/CN={name}",
    )  # fmt: skip
    return Identity(name, key, cert)


def entity(
    payload: bytes, *, filename: str = "po.x12", ctype: str = "application/edi-x12"
) -> bytes:
    """The MIME entity an AS2 sender signs: headers, an empty line, the payload as is."""
    head = (
        f"Content-Type: {ctype}\r\nContent-Transfer-Encoding: binary\r\n"
        f'Content-Disposition: attachment; filename="{filename}"\r\n\r\n'
    )
    return head.encode() + payload


def sign(content: bytes, signer: Identity) -> bytes:
    """``openssl cms -sign -binary``: a multipart/signed S/MIME message (CRLF line ends)."""
    return openssl(
        "cms", "-sign", "-binary", "-crlfeol", "-md", "sha256",
        "-signer", signer.cert, "-inkey", signer.key, data=content,
    )  # fmt: skip


def encrypt(content: bytes, recipient: Path) -> bytes:
    """``openssl cms -encrypt -binary -aes256 -outform DER``: enveloped data."""
    return openssl(
        "cms", "-encrypt", "-binary", "-aes256", "-outform", "DER", recipient, data=content
    )


def mic(content: bytes) -> str:
    """The base64 SHA-256 of ``content`` (``openssl dgst -sha256 -binary | openssl base64``)."""
    digest = openssl("dgst", "-sha256", "-binary", data=content)
    return openssl("base64", "-A", data=digest).decode().strip()


def as2_headers(
    as2_from: str,
    as2_to: str,
    *,
    message_id: str | None = None,
    content_type: str = "application/pkcs7-mime; smime-type=enveloped-data; name=smime.p7m",
    signed_mdn: bool = True,
    async_url: str | None = None,
) -> dict[str, str]:
    """The HTTP headers of an AS2 message asking for an MDN."""
    headers = {
        "AS2-Version": "1.2",
        "AS2-From": as2_from,
        "AS2-To": as2_to,
        "Message-ID": f"<{message_id or uuid.uuid4().hex + '@openssl-peer'}>",
        "Content-Type": content_type,
        "Disposition-Notification-To": "edi@openssl-peer.example",
    }
    if signed_mdn:
        headers["Disposition-Notification-Options"] = (
            "signed-receipt-protocol=required, pkcs7-signature; "
            "signed-receipt-micalg=required, sha256"
        )
    if async_url:
        headers["Receipt-Delivery-Option"] = async_url
    return headers


def split_smime(smime: bytes) -> tuple[dict[str, str], bytes]:
    """The top headers and the body of a MIME message (the header block parsed simply)."""
    head, _, body = smime.partition(b"\r\n\r\n")
    headers: dict[str, str] = {}
    for line in re.split(r"\r\n(?![ \t])", head.decode()):
        key, _, value = line.partition(":")
        headers[key.strip()] = " ".join(value.split())
    return headers, body


def boundary_of(content_type: str) -> bytes:
    found = re.search(r'boundary="?([^";]+)"?', content_type)
    assert found, content_type
    return found.group(1).encode()


def signed_parts(body: bytes, boundary: bytes) -> tuple[bytes, bytes]:
    """The signed entity (exact bytes) and the DER signature of a multipart/signed body."""
    delimiter = b"\r\n--" + boundary
    start = body.index(b"--" + boundary) + len(boundary) + 2
    start = body.index(b"\r\n", start) + 2
    end = body.index(delimiter, start)
    content = body[start:end]
    rest = body[end + len(delimiter) :]
    sig_part = rest.split(b"\r\n--" + boundary, 1)[0]
    _, _, sig_b64 = sig_part.partition(b"\r\n\r\n")
    return content, base64.b64decode(b"".join(sig_b64.split()))


def verify_detached(content: bytes, signature: bytes, trusted: Path, tmp: Path) -> None:
    """``openssl cms -verify -binary`` of a detached signature; OpensslError when it fails."""
    sig, data = tmp / f"sig-{uuid.uuid4().hex}.der", tmp / f"data-{uuid.uuid4().hex}.bin"
    sig.write_bytes(signature)
    data.write_bytes(content)
    openssl(
        "cms", "-verify", "-binary", "-inform", "DER", "-in", sig, "-content", data,
        "-CAfile", trusted, "-purpose", "any", "-out", tmp / "verified.bin",
    )  # fmt: skip


def decrypt(der: bytes, me: Identity) -> bytes:
    """``openssl cms -decrypt -binary -inform DER``: the signed MIME message inside."""
    return openssl(
        "cms", "-decrypt", "-binary", "-inform", "DER", "-recip", me.cert, "-inkey", me.key,
        data=der,
    )  # fmt: skip


def entity_body(content: bytes) -> tuple[dict[str, str], bytes]:
    """Headers and exact body bytes of a MIME entity."""
    return split_smime(content)


def report_fields(report: bytes) -> dict[str, str]:
    """The fields of the message/disposition-notification part of an MDN report."""
    fields = {}
    for name in ("Original-Message-ID", "Disposition", "Received-content-MIC"):
        found = re.search(rb"(?im)^" + name.encode() + rb":\s*(.+?)\r?$", report)
        if found:
            fields[name] = found.group(1).decode().strip()
    return fields


def mdn_report(original_id: str, *, mic_value: str | None, disposition: str) -> bytes:
    """A multipart/report MDN entity (RFC 3798) as the peer sends it back."""
    boundary = "peer-report-" + uuid.uuid4().hex
    lines = [
        f'Content-Type: multipart/report; report-type=disposition-notification; boundary="{boundary}"',
        "",
        f"--{boundary}",
        "Content-Type: text/plain",
        "",
        "MDN from the openssl peer",
        f"--{boundary}",
        "Content-Type: message/disposition-notification",
        "",
        "Reporting-UA: openssl-peer",
        "Original-Recipient: rfc822; PEERAS2",
        "Final-Recipient: rfc822; PEERAS2",
        f"Original-Message-ID: <{original_id}>",
        f"Disposition: automatic-action/MDN-sent-automatically; {disposition}",
    ]
    if mic_value:
        lines.append(f"Received-content-MIC: {mic_value}, sha256")
    lines += ["", f"--{boundary}--", ""]
    return "\r\n".join(lines).encode()
