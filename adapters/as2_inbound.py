"""``POST /as2``: AS2 messages (RFC 4130) from partners, and async MDNs for what we sent.

A message is matched to a partner by its ``AS2-From``/``AS2-To`` pair against the
inbound ``as2`` channels of the profiles, then decrypted, decompressed and verified
by pyas2lib as that agreement says. What the agreement forbids is refused with an
MDN that says why (``processed/Error``): an unknown AS2 pair
(``unknown-trading-partner``, unsigned, never sent to an URL the unknown sender
names), an unsigned or unencrypted message from a partner that must sign or encrypt
(``insufficient-message-security``), a signature that does not verify with the
partner's certificate (``authentication-failed``), a message not encrypted to our
key (``decryption-failed``). A body over ``max_document_bytes`` gets HTTP 413 and is
not read further.

A good message's payload is stored through ``ctx.receive`` and its Message-ID and
MDN recorded in ``as2_messages`` in the same transaction, before the MDN goes back:
a partner that resends the same Message-ID (say, because the MDN was lost) gets
the original MDN again and nothing is stored twice. A refused message is recorded
as ``rejected``, so a resend of it is processed afresh. The MDN is synchronous (the
HTTP answer) or asynchronous (posted to ``Receipt-Delivery-Option``; see
:mod:`adapters.as2_mdn`), signed when the partner asks for a signed receipt.

Imports aiohttp, SQLAlchemy's errors, ``gateway.errors`` and the AS2 modules.
"""

from __future__ import annotations

import asyncio
import logging
from email import message_from_bytes
from typing import TYPE_CHECKING, Any

from aiohttp import web
from sqlalchemy.exc import IntegrityError

from adapters import as2_records as records
from adapters.as2_mdn import deliver_owed, post_mdn, receive_mdn
from gateway.errors import ConfigError, DocumentError

if TYPE_CHECKING:
    from collections.abc import Mapping

    from adapters.as2_mdn import As2Runtime
    from adapters.as2_profiles import Agreement

log = logging.getLogger(__name__)

PATH = "/as2"
CHANNEL = "as2"
# Connection-level headers: not part of the AS2 message.
_NOT_MIME = frozenset(
    {"host", "connection", "keep-alive", "transfer-encoding", "expect", "accept-encoding"}
)


class _ReplayedError(Exception):
    """The Message-ID was stored by another request meanwhile."""


def as2_name(value: str | None) -> str:
    """An ``AS2-From``/``AS2-To`` value without its quotes (RFC 4130 section 6.2)."""
    value = (value or "").strip()
    if len(value) >= 2 and value[0] == value[-1] == '"':
        value = value[1:-1].replace('\\"', '"').replace("\\\\", "\\")
    return value


def raw_message(headers: Mapping[str, str], body: bytes) -> bytes:
    """The HTTP headers and body as the MIME message pyas2lib parses."""
    lines = [f"{k}: {v}" for k, v in headers.items() if k.lower() not in _NOT_MIME]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8", errors="replace") + body


def delivery_url(headers: Mapping[str, str]) -> str | None:
    """The http(s) ``Receipt-Delivery-Option`` of an async MDN request, or None."""
    url = headers.get("Receipt-Delivery-Option", "").strip()
    return url if url.lower().startswith(("http://", "https://")) else None


def mdn_headers(mdn: Any) -> dict[str, str]:
    """An MDN's MIME headers as HTTP headers (folded lines joined)."""
    return {k: " ".join(str(v).split()) for k, v in mdn.headers.items()}


def mdn_response(mdn: Any) -> web.Response:
    """A synchronous MDN as the HTTP answer (its MIME headers become HTTP headers)."""
    return web.Response(status=200, body=mdn.content, headers=mdn_headers(mdn))


def _too_large(size: int, limit: int) -> web.HTTPException:
    return web.HTTPRequestEntityTooLarge(
        max_size=limit,
        actual_size=size,
        text=f"AS2 message of {size} bytes is over the limit of {limit} bytes; not stored",
    )


async def _read(request: web.Request, limit: int) -> tuple[str, str, str, bytes]:
    """``(AS2-From, AS2-To, Message-ID, raw MIME message)``; 413 over ``limit``, 400 if not AS2."""
    if request.content_length is not None and request.content_length > limit:
        raise _too_large(request.content_length, limit)
    body = await request.read()
    if len(body) > limit:
        raise _too_large(len(body), limit)
    as2_from = as2_name(request.headers.get("AS2-From"))
    as2_to = as2_name(request.headers.get("AS2-To"))
    message_id = request.headers.get("Message-ID", "").strip().strip("<>")
    if not (as2_from and as2_to and message_id and body):
        raise web.HTTPBadRequest(
            text="not an AS2 message: AS2-From, AS2-To, Message-ID and a body are required"
        )
    return as2_from, as2_to, message_id, raw_message(request.headers, body)


async def handle(request: web.Request, rt: As2Runtime) -> web.StreamResponse:
    """``POST /as2``: see the module docstring."""
    as2_from, as2_to, message_id, raw = await _read(request, rt.ctx.settings.max_document_bytes)
    if _is_mdn(rt, raw):
        status, text = await receive_mdn(rt, raw, as2_from, as2_to)
        return web.Response(status=status, text=text)
    agreement = rt.agreements.find(as2_from, as2_to, "inbound")
    if agreement is not None:
        replay = await _replay(rt, request, agreement, message_id)
        if replay is not None:
            return replay
    try:
        org, partner = _parties(rt, agreement)
    except ConfigError as exc:
        log.error("AS2 agreement not usable: %s", exc, extra=_extra(agreement))
        raise web.HTTPServiceUnavailable(
            text="this AS2 agreement cannot be used right now; send again later"
        ) from exc
    message = rt.as2.Message()

    def parse() -> tuple[str, tuple[BaseException | None, str | None], Any]:
        return message.parse(raw, find_org_partner_cb=lambda _to, _from: (org, partner))  # type: ignore[no-any-return]

    _, (error, _trace), mdn = await asyncio.to_thread(parse)
    if agreement is None:
        log.warning("AS2 message from an unknown AS2 pair %r -> %r refused", as2_from, as2_to)
        return mdn_response(mdn) if mdn is not None else web.Response(status=403)
    if error is None:
        return await _accept(rt, request, agreement, message, mdn)
    return await _refuse(rt, request, agreement, message_id, mdn, str(error))


def _is_mdn(rt: As2Runtime, raw: bytes) -> bool:
    probe = rt.as2.Mdn()
    probe.payload = message_from_bytes(raw)
    try:
        probe.detect_mdn()
    except Exception:  # pyas2lib's MDNNotFound: an ordinary message
        return False
    return True


def _parties(rt: As2Runtime, agreement: Agreement | None) -> tuple[Any, Any]:
    if agreement is None:
        return None, None  # pyas2lib answers unknown-trading-partner, unsigned
    return rt.agreements.organization(agreement.channel), rt.agreements.partner(agreement.channel)


def _extra(agreement: Agreement | None, **more: Any) -> dict[str, Any]:
    return {"partner_id": agreement.partner.id if agreement else None, "channel": CHANNEL, **more}


async def _replay(
    rt: As2Runtime, request: web.Request, agreement: Agreement, message_id: str
) -> web.StreamResponse | None:
    """The original answer to a resent Message-ID, or None when it is new (or was refused)."""
    async with rt.ctx.store.unit() as unit:
        row = await records.get_row(unit.connection, "in", message_id)
        if row is None or row.status == "rejected":
            return None
        if row.partner_id != agreement.partner.id:
            raise web.HTTPConflict(text=f"Message-ID {message_id} was used by another sender")
        if row.document_id is not None:
            await unit.event(
                row.document_id,
                "duplicate",
                f"AS2 message resent (Message-ID <{message_id}>): answered with the "
                "original MDN, not stored again",
                {"message_id": message_id},
            )
    log.info("AS2 resend answered with the original MDN", extra=_extra(agreement))
    if row.mdn is None:
        return web.Response(status=200, text=f"Message-ID {message_id} was received already")
    headers, body, _ = records.unpack_mdn(row.mdn)
    url = delivery_url(request.headers)
    if url is not None:
        rt.spawn(_post_quietly(url, headers, body))
        return web.Response(status=200, text=f"already received; the MDN goes to {url}")
    return web.Response(status=200, body=body, headers=headers)


async def _post_quietly(url: str, headers: dict[str, str], body: bytes) -> None:
    why = await post_mdn(url, headers, body)
    if why is not None:
        log.warning("AS2 MDN of a resent message not delivered: %s", why)


def _rebuild(message: Any, mdn: Any, detail: str) -> None:
    """Turn an MDN pyas2lib built as ``processed`` into ``processed/Error: detail``."""
    if mdn is not None:
        mdn.build(message=message, status="processed/Error", detailed_status=detail)


async def _accept(
    rt: As2Runtime, request: web.Request, agreement: Agreement, message: Any, mdn: Any
) -> web.StreamResponse:
    """Store a good message with its MDN, then answer (sync) or post (async) the MDN."""
    message_id: str = message.message_id
    url = delivery_url(request.headers) if mdn is not None else None
    blob = None if mdn is None else records.pack_mdn(mdn_headers(mdn), mdn.content, deliver_to=url)
    status = "received" if url is None else f"{records.PENDING}:0"
    try:
        doc_id = await _store(rt, agreement, message, status=status, blob=blob)
    except (_ReplayedError, IntegrityError):
        replay = await _replay(rt, request, agreement, message_id)
        if replay is not None:
            return replay
        raise web.HTTPServiceUnavailable(text="send again later") from None
    except DocumentError as exc:
        _rebuild(message, mdn, "unexpected-processing-error")
        return await _refuse(rt, request, agreement, message_id, mdn, str(exc))
    log.info(
        "AS2 message received",
        extra=_extra(agreement, document_id=doc_id, signed=message.signed),
    )
    if mdn is None:
        return web.Response(status=200, text="received")
    if url is not None:
        rt.spawn(_deliver_first(rt, message_id))
        return web.Response(status=200, text=f"received; the MDN goes to {url}")
    return mdn_response(mdn)


async def _store(
    rt: As2Runtime, agreement: Agreement, message: Any, *, status: str, blob: bytes | None
) -> int:
    """Store the payload and the ``as2_messages`` row in one transaction; the document id."""
    payload = message.content
    data = payload if isinstance(payload, bytes) else str(payload).encode()
    mic = message.mic.decode() if message.mic else None
    async with rt.ctx.store.unit() as unit:
        existing = await records.get_row(unit.connection, "in", message.message_id)
        if existing is not None and existing.status != "rejected":
            raise _ReplayedError(message.message_id)
        doc = await rt.ctx.receive(
            data,
            partner_id=agreement.partner.id,
            channel=CHANNEL,
            filename=message.payload.get_filename(),
            content_type=message.payload.get_content_type(),
        )
        await records.put_row(
            unit.connection,
            "in",
            message.message_id,
            partner_id=agreement.partner.id,
            status=status,
            document_id=doc.id,
            mic=mic,
            mdn=blob,
        )
        security = {"signed": message.signed, "encrypted": message.encrypted}
        await unit.event(
            doc.id,
            "note",
            f"received over AS2 as Message-ID <{message.message_id}>",
            {"message_id": message.message_id, "mic": mic, **security},
        )
    return doc.id


async def _deliver_first(rt: As2Runtime, message_id: str) -> None:
    async with rt.ctx.store.unit() as unit:
        row = await records.get_row(unit.connection, "in", message_id)
    if row is not None:
        await deliver_owed(rt, row)


async def _refuse(
    rt: As2Runtime,
    request: web.Request,
    agreement: Agreement,
    message_id: str,
    mdn: Any,
    reason: str,
) -> web.StreamResponse:
    """Record a refused message and answer its negative MDN (sync, or posted async)."""
    url = delivery_url(request.headers) if mdn is not None else None
    blob = None if mdn is None else records.pack_mdn(mdn_headers(mdn), mdn.content)
    async with rt.ctx.store.unit() as unit:
        await records.put_row(
            unit.connection,
            "in",
            message_id,
            partner_id=agreement.partner.id,
            status="rejected",
            mdn=blob,
        )
    log.warning("AS2 message refused: %s", reason, extra=_extra(agreement))
    if mdn is None:
        return web.Response(status=400, text=f"AS2 message refused: {reason}")
    if url is not None:
        rt.spawn(_post_quietly(url, mdn_headers(mdn), mdn.content))
        return web.Response(status=200, text=f"refused; the MDN goes to {url}")
    return mdn_response(mdn)


def install_routes(app: web.Application, rt: As2Runtime) -> None:
    """Add ``POST /as2`` (public: AS2 authenticates by signatures, not API keys)."""

    async def handler(request: web.Request) -> web.StreamResponse:
        return await handle(request, rt)

    async def background(_app: web.Application) -> Any:
        yield
        await rt.aclose()

    app.router.add_post(PATH, handler)
    app.cleanup_ctx.append(background)
