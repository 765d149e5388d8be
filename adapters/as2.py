"""AS2 channel (RFC 4130): signed, encrypted EDI over HTTP with signed receipts (MDNs).

Inbound, ``POST /as2`` (:mod:`adapters.as2_inbound`) takes messages from partners whose
inbound channel is ``as2`` and answers with MDNs. Outbound, the ``as2`` transport
(:class:`As2Transport`) builds a message as the partner's outbound channel says
(signed, encrypted with AES-256 unless ``encryption`` says otherwise, compressed on
request), posts it and checks the MDN:

- ``mdn: sync``: the MDN is the HTTP answer. Its signature is verified with the
  partner's certificate and its MIC compared with ours; a positive MDN makes the send
  good (the reference names the Message-ID). A negative MDN whose disposition says
  the agreement is wrong (``authentication-failed``, ``decryption-failed``,
  ``insufficient-message-security``, ``unknown-trading-partner``) raises
  ``PermanentDeliveryError``; any other negative, missing or unverifiable MDN raises
  ``TransientDeliveryError`` (the worker retries, then parks and alerts).
- ``mdn: async``: the send is good once the partner took the message (2xx); the MDN
  comes later to ``/as2`` and is settled by :mod:`adapters.as2_mdn`.
- ``mdn: none``: the send is good once the partner took the message.

HTTP answers 408, 429 and 5xx, timeouts and connection errors are transient; other
4xx, redirects and a broken agreement (missing key, unreadable certificate) are
permanent. Every message sent is recorded in ``as2_messages`` (direction ``out``)
with its MIC and the outbound document's id, which comes from the file name
(``<partner>-<doc_type>-<id>-<control>.<ext>``, ``gateway.pipeline.stages``).

The ``as2_mdn`` service (role ``api``) retries async MDNs we owe and notices async
MDNs that do not come. pyas2lib is imported through :mod:`adapters.as2_compat`.

Imports aiohttp, pyas2lib and ``gateway.ports``, ``gateway.errors``.
"""

from __future__ import annotations

import asyncio
import logging
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import aiohttp

from adapters import as2_records as records
from adapters.as2_inbound import install_routes, raw_message
from adapters.as2_mdn import As2Runtime, MdnCourier, mdn_status
from adapters.as2_profiles import expiring_certificates
from gateway.errors import ConfigError, PermanentDeliveryError, TransientDeliveryError
from gateway.ports import CertificateExpiry

if TYPE_CHECKING:
    from collections.abc import Iterator

    from gateway.channels import As2Channel, Channel
    from gateway.partners import PartnerProfile, PartnerRegistry
    from gateway.ports import AdapterRegistry, GatewayContext
    from gateway.settings import Settings

log = logging.getLogger(__name__)

SEND_TIMEOUT_SECONDS = 120.0


@contextmanager
def map_errors(what: str) -> Iterator[None]:
    """Turn pyas2lib and client-library failures into the gateway's delivery errors."""
    try:
        yield
    except (TransientDeliveryError, PermanentDeliveryError):
        raise
    except ConfigError as exc:
        raise PermanentDeliveryError(f"{what}: {exc}") from exc
    except TimeoutError as exc:
        raise TransientDeliveryError(f"{what}: no answer in time") from exc
    except aiohttp.ClientError as exc:
        raise TransientDeliveryError(f"{what}: {type(exc).__name__}: {exc}") from exc
    except OSError as exc:
        raise TransientDeliveryError(f"{what}: {exc.strerror or exc}") from exc
    except Exception as exc:  # pyas2lib: ImproperlyConfigured, AS2Exception, ValueError
        raise PermanentDeliveryError(f"{what}: {type(exc).__name__}: {exc}") from exc


def document_id_of(partner_id: str, filename: str) -> int | None:
    """The document id in an outbound file name (``<partner>-<type>-<id>-<control>.<ext>``)."""
    rest = filename.removeprefix(f"{partner_id}-")
    parts = rest.split("-")
    if rest == filename or len(parts) < 3 or not parts[1].isdigit():
        return None
    return int(parts[1])


class As2Transport:
    """Sends outbound files over AS2 (see the module docstring)."""

    kind = "as2"

    def __init__(self, rt: As2Runtime, *, timeout: float = SEND_TIMEOUT_SECONDS) -> None:
        self.rt = rt
        self.timeout = timeout

    def _check(self, partner: PartnerProfile, channel: Channel) -> As2Channel:
        if channel.kind != "as2" or not channel.url:
            raise PermanentDeliveryError(
                f"partner {partner.id}: the outbound channel is {channel.kind!r}, "
                "not as2 with a url"
            )
        if channel.mdn == "async" and not channel.async_mdn_url:
            raise PermanentDeliveryError(
                f"partner {partner.id}: mdn is async, so async_mdn_url (our public /as2 URL, "
                "where the partner posts its MDN) must be set in the outbound channel"
            )
        return channel

    def _build(self, channel: As2Channel, filename: str, data: bytes) -> Any:
        """Sign, encrypt, compress as agreed (blocking: run in a thread)."""
        agreements = self.rt.agreements
        mdn_url = channel.async_mdn_url if channel.mdn == "async" else None
        org = agreements.organization(channel, mdn_url=mdn_url)
        message = self.rt.as2.Message(sender=org, receiver=agreements.partner(channel))
        message.build(
            data,
            filename=filename,
            content_type=channel.content_type,
            disposition_notification_to=f"as2@{org.domain}",
        )
        return message

    async def send(
        self, partner: PartnerProfile, channel: Channel, filename: str, data: bytes
    ) -> str:
        """Post ``data`` as one AS2 message; return ``Message-ID <...>: <MDN outcome>``."""
        as2 = self._check(partner, channel)
        url = as2.url or ""
        with map_errors(f"AS2 to {partner.id}"):
            message = await asyncio.to_thread(self._build, as2, filename, data)
        message_id: str = message.message_id
        mic = message.mic.decode() if message.mic else None
        async with self.rt.ctx.store.unit() as unit:
            await records.put_row(
                unit.connection,
                "out",
                message_id,
                partner_id=partner.id,
                status="sending",
                document_id=document_id_of(partner.id, filename),
                mic=mic,
            )
        headers = {k: " ".join(str(v).split()) for k, v in message.headers.items()}
        try:
            answer = await self._post(url, headers, message.content)
        except (TransientDeliveryError, PermanentDeliveryError):
            await self._status(message_id, "failed", only_from=("sending",))
            raise
        log.info("AS2 message sent", extra={"partner_id": partner.id, "message_id": message_id})
        if as2.mdn == "sync":
            return await self._sync_mdn(message, answer)
        if as2.mdn == "none":
            await self._status(message_id, "sent", only_from=("sending",))
            return f"Message-ID <{message_id}>: taken (no MDN asked for)"
        return await self._awaiting(message_id)

    async def _post(self, url: str, headers: dict[str, str], body: bytes) -> bytes:
        """POST; the answer as a MIME message (headers and body) for the MDN check."""
        timeout = aiohttp.ClientTimeout(total=self.timeout)
        with map_errors(f"POST {url}"):
            async with (
                aiohttp.ClientSession(timeout=timeout) as session,
                session.post(url, data=body, headers=headers, allow_redirects=False) as resp,
            ):
                status = resp.status
                content = await resp.read()
                answer = raw_message(resp.headers, content)
        if status == 408 or status == 429 or status >= 500:
            raise TransientDeliveryError(f"POST {url}: HTTP {status}")
        if status >= 300:
            raise PermanentDeliveryError(f"POST {url}: HTTP {status}")
        return answer if content.strip() else b""

    async def _sync_mdn(self, message: Any, answer: bytes) -> str:
        message_id: str = message.message_id
        if not answer:
            await self._status(message_id, "failed", only_from=("sending",))
            raise TransientDeliveryError(f"Message-ID <{message_id}>: no MDN in the answer")
        mdn = self.rt.as2.Mdn()

        def check() -> tuple[str | None, str | None]:
            return mdn.parse(answer, lambda mid, _rcpt: message if mid == message_id else None)  # type: ignore[no-any-return]

        ok, permanent, text = mdn_status(*await asyncio.to_thread(check))
        status = "processed" if ok else "failed"
        await self._status(message_id, status, only_from=("sending",), mdn=answer)
        reference = f"Message-ID <{message_id}>: MDN {text}"
        if ok:
            return reference
        raise (PermanentDeliveryError if permanent else TransientDeliveryError)(reference)

    async def _awaiting(self, message_id: str) -> str:
        """Mark the message as waiting for its MDN, unless the MDN came first."""
        if await self._status(message_id, records.PENDING, only_from=("sending",)):
            return f"Message-ID <{message_id}>: taken, MDN to come (async)"
        async with self.rt.ctx.store.unit() as unit:
            row = await records.get_row(unit.connection, "out", message_id)
        if row is not None and row.status == "processed":
            return f"Message-ID <{message_id}>: MDN processed, MIC verified (async)"
        raise TransientDeliveryError(f"Message-ID <{message_id}>: negative MDN (async)")

    async def _status(
        self, message_id: str, status: str, *, only_from: tuple[str, ...], mdn: bytes | None = None
    ) -> bool:
        async with self.rt.ctx.store.unit() as unit:
            return await records.set_status(
                unit.connection, "out", message_id, status, only_from=only_from, mdn=mdn
            )


def certificates(
    partners: PartnerRegistry, settings: Settings, within_days: int
) -> list[CertificateExpiry]:
    """The AS2 agreements' certificates expiring within ``within_days`` (for the core)."""
    return [
        CertificateExpiry(n.partner_id, n.direction, n.owner, n.days_left, n.describe())
        for n in expiring_certificates(partners, settings, within_days=within_days)
    ]


def register(registry: AdapterRegistry) -> None:
    """Add ``POST /as2``, the ``as2`` transport and the ``as2_mdn`` service (role ``api``).

    One :class:`As2Runtime` per gateway context is shared by the three.
    """
    runtimes: dict[int, As2Runtime] = {}

    def runtime(ctx: GatewayContext) -> As2Runtime:
        found = runtimes.get(id(ctx))
        if found is None or found.ctx is not ctx:
            found = runtimes[id(ctx)] = As2Runtime(ctx)
        return found

    def has_as2(ctx: GatewayContext) -> bool:
        return any(
            c is not None and c.kind == "as2"
            for p in ctx.partners.all()
            for c in (p.channels.inbound, p.channels.outbound)
        )

    registry.add_certificates(certificates)
    registry.add_routes(lambda app, ctx: install_routes(app, runtime(ctx)))
    registry.add_transport("as2", lambda ctx: As2Transport(runtime(ctx)))
    registry.add_service(
        "as2_mdn", "api", lambda ctx: MdnCourier(runtime(ctx)) if has_as2(ctx) else None
    )
