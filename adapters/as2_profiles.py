"""AS2 agreements: partner channels as pyas2lib organizations and partners, and certificates.

A partner's ``as2`` channel (``gateway.channels.As2Channel``) is the agreement: the
partner's AS2 id and certificate, our AS2 id and key, and what each side must do
(sign, encrypt, MDN). :class:`As2Agreements` finds the agreement of a message by
its ``AS2-From``/``AS2-To`` pair and turns it into pyas2lib objects, with keys read
once and kept. :func:`expiring_certificates` lists the certificates (the partner's and
our own) that expire within a number of days, for ``o2c partners check`` and
``/metrics``.

Imports pyas2lib (through :mod:`adapters.as2_compat`), cryptography,
``gateway.errors`` and ``gateway.settings``.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from cryptography import x509

from adapters.as2_compat import load_pyas2lib
from gateway.errors import ConfigError

if TYPE_CHECKING:
    from gateway.channels import As2Channel
    from gateway.partners import PartnerProfile, PartnerRegistry
    from gateway.settings import Settings

EXPIRY_WARNING_DAYS = 30
_PEM_CERTIFICATE = b"-----BEGIN CERTIFICATE-----"


@dataclass(frozen=True, slots=True)
class Agreement:
    """One partner's AS2 channel in one direction (``inbound`` or ``outbound``)."""

    partner: PartnerProfile
    channel: As2Channel
    direction: str


@dataclass(frozen=True, slots=True)
class CertificateNotice:
    """A certificate an AS2 agreement uses that expires soon (or has expired)."""

    partner_id: str
    direction: str
    owner: str
    """``partner`` (their certificate) or ``ours`` (the certificate of our key)."""
    source: str
    """Where it is: a path under the partners directory, or ``secret NAME``."""
    subject: str
    not_after: dt.datetime
    days_left: int

    def describe(self) -> str:
        """One line for a person: ``bigbox outbound partner certificate ... expires in 12 days``."""
        when = (
            f"expired {-self.days_left} days ago"
            if self.days_left < 0
            else f"expires in {self.days_left} days"
        )
        return (
            f"{self.partner_id} {self.direction}: {self.owner} certificate {self.subject} "
            f"({self.source}) {when}, on {self.not_after:%Y-%m-%d}"
        )


def _certificates(pem: bytes) -> list[x509.Certificate]:
    if _PEM_CERTIFICATE not in pem:
        return []
    return x509.load_pem_x509_certificates(pem[pem.index(_PEM_CERTIFICATE) :])


class As2Agreements:
    """AS2 agreements of every partner, and the pyas2lib objects they make (keys cached)."""

    def __init__(self, partners: PartnerRegistry, settings: Settings) -> None:
        self.partners = partners
        self.settings = settings
        self._as2: Any = None
        self._orgs: dict[tuple[str, str, str | None, str | None], Any] = {}
        self._lock = threading.Lock()

    @property
    def as2(self) -> Any:
        """The ``pyas2lib.as2`` module, imported on first use (with the oscrypto shim)."""
        if self._as2 is None:
            self._as2 = load_pyas2lib()
            # pyas2lib logs whole payloads at DEBUG; our logs never hold payloads.
            library_log = logging.getLogger("pyas2lib")
            if library_log.getEffectiveLevel() < logging.INFO:
                library_log.setLevel(logging.INFO)
        return self._as2

    def find(self, as2_from: str, as2_to: str, direction: str) -> Agreement | None:
        """The active partner whose ``direction`` channel is AS2 from ``as2_from`` to ``as2_to``.

        Messages come on inbound channels; MDNs for what we sent on outbound ones.
        """
        for profile in self.partners.all():
            channel = getattr(profile.channels, direction)
            if (
                profile.active
                and channel is not None
                and channel.kind == "as2"
                and channel.as2_id == as2_from
                and channel.our_as2_id == as2_to
            ):
                return Agreement(profile, channel, direction)
        return None

    def read(self, relative: str) -> bytes:
        """A file named in a profile (relative to the partners directory).

        Raises:
            ConfigError: the file cannot be read.
        """
        path = self.partners.resolve(relative)
        try:
            return path.read_bytes()
        except OSError as exc:
            raise ConfigError(f"AS2: cannot read {path}: {exc.strerror or exc}") from exc

    def our_pem(self, channel: As2Channel) -> bytes:
        """Our private key and its certificate, PEM (the secret, plus ``our_certificate``)."""
        pem = self.settings.secret(channel.our_key_secret).get_secret_value().encode()
        if channel.our_certificate is not None:
            pem = pem.rstrip(b"\n") + b"\n" + self.read(channel.our_certificate)
        if _PEM_CERTIFICATE not in pem:
            raise ConfigError(
                f"AS2: secret {channel.our_key_secret!r} holds no certificate: put the PEM "
                "certificate after the key in it, or name the file in our_certificate"
            )
        return pem

    def organization(self, channel: As2Channel, *, mdn_url: str | None = None) -> Any:
        """Us, as a pyas2lib ``Organization`` (signing and decrypting key), cached.

        Raises:
            ConfigError: the key is not set, cannot be read or has no certificate.
        """
        key = (channel.our_as2_id, channel.our_key_secret, channel.our_certificate, mdn_url)
        with self._lock:
            found = self._orgs.get(key)
        if found is not None:
            return found
        pem = self.our_pem(channel)
        try:
            org = self.as2.Organization(
                as2_name=channel.our_as2_id,
                sign_key=pem,
                decrypt_key=pem,
                mdn_url=mdn_url,
                domain=_domain(channel.our_as2_id),
            )
        except Exception as exc:  # pyas2lib raises AS2Exception, ValueError, OSError
            raise ConfigError(
                f"AS2: the key in secret {channel.our_key_secret!r} cannot be used: {exc}"
            ) from exc
        with self._lock:
            self._orgs[key] = org
        return org

    def partner(self, channel: As2Channel) -> Any:
        """The partner as a pyas2lib ``Partner``: what it must do, what we do for it."""
        cert = self.read(channel.partner_certificate)
        mdn_mode = {"sync": "SYNC", "async": "ASYNC"}.get(channel.mdn)
        try:
            return self.as2.Partner(
                as2_name=channel.as2_id,
                verify_cert=cert,
                encrypt_cert=cert,
                sign=channel.sign,
                encrypt=channel.encrypt,
                compress=channel.compress,
                enc_alg=channel.encryption,
                digest_alg=channel.digest,
                mdn_mode=mdn_mode,
                mdn_digest_alg=channel.digest if channel.mdn_signed and mdn_mode else None,
            )
        except Exception as exc:  # pyas2lib's ImproperlyConfigured
            raise ConfigError(f"AS2 partner {channel.as2_id!r}: {exc}") from exc


def _domain(as2_id: str) -> str:
    """The right side of our Message-IDs: the AS2 id, reduced to what a domain may hold."""
    cleaned = "".join(ch if ch.isalnum() or ch in "-." else "-" for ch in as2_id).strip("-.")
    return cleaned.lower() or "o2c-gateway"


def _notices(
    pem: bytes, base: dict[str, str], now: dt.datetime, within: int
) -> list[CertificateNotice]:
    out = []
    for cert in _certificates(pem):
        not_after = cert.not_valid_after_utc
        days_left = (not_after - now).days
        if days_left < within:
            subject = cert.subject.rfc4514_string() or "(no subject)"
            out.append(
                CertificateNotice(**base, subject=subject, not_after=not_after, days_left=days_left)
            )
    return out


def expiring_certificates(
    partners: PartnerRegistry,
    settings: Settings,
    *,
    within_days: int = EXPIRY_WARNING_DAYS,
    now: dt.datetime | None = None,
) -> list[CertificateNotice]:
    """Certificates of AS2 agreements that expire within ``within_days`` (or have expired).

    Looks at the partner's certificate and at ours (the certificate in our key's secret,
    or ``our_certificate``) of every AS2 channel, each file or secret once. Files and
    secrets that cannot be read are left to ``o2c partners check``'s other checks.
    """
    now = now or dt.datetime.now(dt.UTC)
    seen: set[tuple[str, str, str, str]] = set()
    out: list[CertificateNotice] = []
    for profile in partners.all():
        for direction in ("inbound", "outbound"):
            channel = getattr(profile.channels, direction)
            if channel is None or channel.kind != "as2":
                continue
            sources = [("partner", channel.partner_certificate, False)]
            if channel.our_certificate is not None:
                sources.append(("ours", channel.our_certificate, False))
            else:
                sources.append(("ours", channel.our_key_secret, True))
            for owner, name, is_secret in sources:
                key = (profile.id, owner, name, str(is_secret))
                if key in seen:
                    continue
                seen.add(key)
                try:
                    if is_secret:
                        pem = settings.secret(name).get_secret_value().encode()
                    else:
                        pem = partners.resolve(name).read_bytes()
                    base = {
                        "partner_id": profile.id,
                        "direction": direction,
                        "owner": owner,
                        "source": f"secret {name}" if is_secret else name,
                    }
                    out += _notices(pem, base, now, within_days)
                except (ConfigError, OSError, ValueError):
                    continue
    return out


def certificate_problems(
    partners: PartnerRegistry, settings: Settings, *, within_days: int = EXPIRY_WARNING_DAYS
) -> list[str]:
    """One line per AS2 certificate expiring within ``within_days``, for ``partners check``."""
    return [
        n.describe() for n in expiring_certificates(partners, settings, within_days=within_days)
    ]
