"""AS2 receipts after the fact: async MDNs we owe partners, and async MDNs partners send us.

:class:`As2Runtime` is what the AS2 route, transport and service share: the context,
the agreements, and the background tasks of one process.

Inbound: a partner that asks for an asynchronous MDN (``Receipt-Delivery-Option``)
gets it posted to that URL after its message is stored. The first try runs at once in
the background; :class:`MdnCourier` (a service of the ``api`` role) retries with
backoff from ``as2_messages`` (so a restart loses nothing) and gives up after
:data:`MAX_MDN_ATTEMPTS`.

Outbound: an MDN posted to ``/as2`` for a message we sent is verified against that
message (signature, MIC) and recorded on the document's timeline. A negative MDN, or
none inside the channel's ``async_mdn_timeout_minutes``, counts as a failed send:
the document goes back to ``queued`` with backoff, or to ``failed`` once
``max_attempts`` sends have failed.

Imports aiohttp, pyas2lib (through the agreements) and ``gateway.errors``/``storage``.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime as dt
import logging
from email import message_from_bytes
from typing import TYPE_CHECKING, Any

import aiohttp

from adapters import as2_records as records
from adapters.as2_profiles import As2Agreements
from gateway.storage.records import State

if TYPE_CHECKING:
    from collections.abc import Coroutine

    from gateway.ports import GatewayContext
    from gateway.storage import DocumentRecord

log = logging.getLogger(__name__)

MAX_MDN_ATTEMPTS = 10
MDN_RETRY_BASE_SECONDS = 30.0
MDN_RETRY_MAX_SECONDS = 3600.0
POST_TIMEOUT_SECONDS = 60.0
SWEEP_SECONDS = 15.0
PERMANENT_MODIFIERS = frozenset(
    {
        "authentication-failed",
        "decryption-failed",
        "insufficient-message-security",
        "unknown-trading-partner",
    }
)
"""MDN dispositions that say the agreement itself is wrong: retrying will not help."""


class As2Runtime:
    """What the AS2 route, transport and courier of one process share."""

    def __init__(self, ctx: GatewayContext) -> None:
        self.ctx = ctx
        self.agreements = As2Agreements(ctx.partners, ctx.settings)
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def as2(self) -> Any:
        """The ``pyas2lib.as2`` module (imported on first use)."""
        return self.agreements.as2

    def spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        """Run ``coro`` in the background; :meth:`aclose` cancels what is left."""
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def aclose(self) -> None:
        """Cancel and wait for the background tasks."""
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


def retry_delay(attempts: int, base: float, cap: float) -> float:
    """Seconds before the next try after ``attempts`` failed ones (doubling, capped)."""
    return float(min(cap, base * 2 ** max(attempts - 1, 0)))


# -- async MDNs we owe -------------------------------------------------------------------------
async def post_mdn(url: str, headers: dict[str, str], body: bytes) -> str | None:
    """POST an MDN; None when the partner took it (2xx), else why not."""
    timeout = aiohttp.ClientTimeout(total=POST_TIMEOUT_SECONDS)
    try:
        async with (
            aiohttp.ClientSession(timeout=timeout) as session,
            session.post(url, data=body, headers=headers, allow_redirects=False) as resp,
        ):
            await resp.read()
            return None if 200 <= resp.status < 300 else f"HTTP {resp.status}"
    except TimeoutError:
        return "no answer in time"
    except (aiohttp.ClientError, OSError) as exc:
        return f"{type(exc).__name__}: {exc}"


async def deliver_owed(rt: As2Runtime, row: records.As2Row) -> None:
    """One try at posting the async MDN of an inbound row; records the outcome."""
    attempts = records.pending_attempts(row.status)
    if attempts is None or row.mdn is None:
        return
    store = rt.ctx.store
    async with store.unit() as unit:  # claim this try (another process may sweep too)
        if not await records.set_status(
            unit.connection, "in", row.message_id, row.status, only_at=row.updated_at
        ):
            return
    headers, body, url = records.unpack_mdn(row.mdn)
    why = await post_mdn(url, headers, body) if url else "no delivery URL"
    extra = {"partner_id": row.partner_id, "document_id": row.document_id}
    if why is None:
        status = "mdn-sent"
        log.info("AS2 async MDN delivered", extra=extra)
    elif attempts + 1 >= MAX_MDN_ATTEMPTS:
        status = "mdn-failed"
        log.error("AS2 async MDN given up after %d tries: %s", attempts + 1, why, extra=extra)
    else:
        status = f"{records.PENDING}:{attempts + 1}"
        log.warning("AS2 async MDN not delivered (%s); will retry", why, extra=extra)
    async with store.unit() as unit:
        await records.set_status(unit.connection, "in", row.message_id, status)
        if row.document_id is not None:
            await unit.event(
                row.document_id,
                "ack",
                f"AS2 async MDN {'delivered' if why is None else 'not delivered: ' + why}",
                {"message_id": row.message_id, "status": status},
            )


# -- async MDNs we receive ---------------------------------------------------------------------
def mdn_status(status: str | None, detail: str | None) -> tuple[bool, bool, str]:
    """``(ok, permanent, text)`` of what pyas2lib's ``Mdn.parse`` returned."""
    text = f"{status or 'no status'}" + (f": {detail}" if detail else "")
    if status == "processed" and not detail:
        return True, False, "processed, MIC verified"
    modifier = (detail or "").strip().lower()
    permanent = (status or "").lower().startswith("processed/error") and (
        modifier in PERMANENT_MODIFIERS
    )
    return False, permanent, text


def original_message(rt: As2Runtime, row: records.As2Row, agreement: Any) -> Any:
    """The message we sent, rebuilt for pyas2lib's MDN check (its id, MIC, partner)."""
    message = rt.as2.Message(
        sender=rt.agreements.organization(agreement.channel),
        receiver=rt.agreements.partner(agreement.channel),
    )
    message.message_id = row.message_id
    message.mic = row.mic.encode() if row.mic else None
    return message


async def receive_mdn(rt: As2Runtime, raw: bytes, as2_from: str, as2_to: str) -> tuple[int, str]:
    """Match an async MDN to the message we sent; ``(HTTP status, text)`` for the answer."""
    agreement = rt.agreements.find(as2_from, as2_to, "outbound")
    if agreement is None:
        return 403, f"no outbound AS2 agreement from {as2_from!r} to {as2_to!r}"
    probe = rt.as2.Mdn()
    probe.payload = message_from_bytes(raw)
    original_id, _ = probe.detect_mdn()
    async with rt.ctx.store.unit() as unit:
        row = await records.get_row(unit.connection, "out", original_id or "")
    if row is None or row.partner_id != agreement.partner.id:
        return 404, f"no AS2 message {original_id!r} was sent to {as2_from!r}"
    if row.status not in ("sending", records.PENDING, "mdn-overdue"):
        return 200, f"MDN for {original_id} already recorded ({row.status})"
    message = original_message(rt, row, agreement)
    mdn = rt.as2.Mdn()

    def check() -> tuple[str | None, str | None]:
        return mdn.parse(raw, lambda mid, _recipient: message if mid == row.message_id else None)  # type: ignore[no-any-return]

    status, detail = await asyncio.to_thread(check)
    if agreement.channel.mdn_signed and mdn.digest_alg is None:
        # pyas2lib sets digest_alg only once the signature verified: anyone can post here,
        # so an MDN that does not prove it comes from the partner settles nothing.
        log.warning("AS2 MDN refused: %s", detail, extra={"partner_id": row.partner_id})
        return 403, f"MDN for {original_id} not accepted: its signature does not verify"
    ok, permanent, text = mdn_status(status, detail)
    await settle_sent(rt, row, ok=ok, permanent=permanent, text=text, mdn=raw)
    return 200, f"MDN for {original_id} recorded: {text}"


async def settle_sent(
    rt: As2Runtime, row: records.As2Row, *, ok: bool, permanent: bool, text: str, mdn: bytes | None
) -> None:
    """Record the MDN (or its absence) of a sent message, on its row and its document."""
    status = "processed" if ok else ("mdn-overdue" if mdn is None else "failed")
    waiting = (records.PENDING,) if mdn is None else ("sending", records.PENDING, "mdn-overdue")
    async with rt.ctx.store.unit() as unit:
        conn = unit.connection
        if not await records.set_status(
            conn, "out", row.message_id, status, only_from=waiting, mdn=mdn
        ):
            return  # settled by someone else first
        if row.document_id is None:
            return
        message = f"AS2 MDN for Message-ID <{row.message_id}>: {text}"
        detail = {"message_id": row.message_id, "status": status}
        await unit.event(row.document_id, "delivery", message, detail)
        if not ok:
            doc = await rt.ctx.store.get(row.document_id)
            if doc is not None and doc.state == State.SENT:
                await _send_failed(rt, unit, doc, message, permanent=permanent)
    log.log(
        logging.INFO if ok else logging.WARNING,
        "AS2 MDN recorded: %s",
        text,
        extra={"partner_id": row.partner_id, "document_id": row.document_id},
    )


async def _send_failed(
    rt: As2Runtime, unit: Any, doc: DocumentRecord, message: str, *, permanent: bool
) -> None:
    """A sent document whose MDN failed: queue it again with backoff, or park it."""
    settings = rt.ctx.settings
    if permanent or doc.attempts >= settings.max_attempts:
        why = "a person must fix the agreement" if permanent else f"{doc.attempts} attempts"
        error = f"parked for a person ({why}): {message}"
        await unit.set_state(doc.id, State.FAILED, error, error=message)
        if rt.ctx.alerts is not None:
            await rt.ctx.alerts.notify(
                "failed", dataclasses.replace(doc, state=State.FAILED), error
            )
        return
    delay = retry_delay(doc.attempts, settings.retry_base_seconds, settings.retry_max_seconds)
    retry_at = records.utcnow() + dt.timedelta(seconds=delay)
    await unit.set_state(
        doc.id,
        State.QUEUED,
        f"{message}; sending again in {delay:.0f}s",
        error=message,
        retry_at=retry_at,
    )


# -- the courier -------------------------------------------------------------------------------
class MdnCourier:
    """Retries owed async MDNs and notices overdue ones (a service of the ``api`` role)."""

    def __init__(self, rt: As2Runtime, *, sweep_seconds: float = SWEEP_SECONDS) -> None:
        self.rt = rt
        self.sweep_seconds = sweep_seconds
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Start sweeping in the background."""
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        """Stop sweeping and cancel tries under way."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self.rt.aclose()

    async def _run(self) -> None:
        while True:
            try:
                await self.sweep()
            except Exception:
                log.exception("AS2 MDN sweep failed; trying again later")
            await asyncio.sleep(self.sweep_seconds)

    async def sweep(self, now: dt.datetime | None = None) -> None:
        """Retry the owed MDNs that are due; settle sent messages whose MDN is overdue."""
        now = now or records.utcnow()
        async with self.rt.ctx.store.unit() as unit:
            owed = await records.rows_with_status(unit.connection, "in", records.PENDING + ":")
            waiting = await records.rows_with_status(unit.connection, "out", records.PENDING)
        for row in owed:
            attempts = records.pending_attempts(row.status) or 0
            delay = retry_delay(attempts, MDN_RETRY_BASE_SECONDS, MDN_RETRY_MAX_SECONDS)
            if attempts == 0 or row.updated_at + dt.timedelta(seconds=delay) <= now:
                await deliver_owed(self.rt, row)
        for row in waiting:
            await self._overdue(row, now)

    async def _overdue(self, row: records.As2Row, now: dt.datetime) -> None:
        partners = self.rt.ctx.partners
        if row.partner_id is None or row.partner_id not in partners:
            return
        channel = partners.by_id(row.partner_id).channels.outbound
        if channel is None or channel.kind != "as2":
            return
        if row.created_at + dt.timedelta(minutes=channel.async_mdn_timeout_minutes) > now:
            return
        minutes = channel.async_mdn_timeout_minutes
        text = f"no MDN within {minutes} minutes"
        await settle_sent(self.rt, row, ok=False, permanent=False, text=text, mdn=None)
