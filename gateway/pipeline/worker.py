"""Workers: claim due documents, run their stage, retry or park what fails.

A :class:`Worker` claims a batch with :meth:`Store.claim` (leases; ``SKIP LOCKED``
on PostgreSQL), runs :func:`gateway.pipeline.stages.run_stage` on each document
and handles what a stage raises:

- :class:`~gateway.errors.TransientDeliveryError` and any unexpected exception:
  the document stays in its state with the error text and a retry time of
  ``now + min(retry_max, retry_base * 2 ** (attempts - 1))`` times a jitter of 0.5
  to 1.5; once ``attempts`` (counted by each claim) reaches ``max_attempts`` it is
  parked as ``failed`` and an alert goes out.
- :class:`~gateway.errors.PermanentDeliveryError`, a configuration error or
  exhausted control numbers: ``failed`` at once, with an alert.
- Bad input (:class:`~gateway.errors.DocumentError`, :class:`~gateway.errors.MappingError`)
  that a stage did not handle itself: ``rejected``.

Up to ``worker_concurrency`` documents of a batch are worked on at once (their reads,
translation, ERP calls and file writes overlap; documents with the same business key
go one after the other). Their writes (deliveries, sends, processed X12 files) are then
committed in one transaction, in claim order.
One document's failure never stops the others. Idle workers sleep 50 ms, doubling
to 1 s, and wake at once when the receiver of this process stores a document. On
stop a worker finishes the documents in hand, releases the claims it has not
started on, and returns.

Must not import ``gateway.web``, ``gateway.cli`` or any adapter.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import itertools
import logging
import os
import random
import socket
from typing import TYPE_CHECKING

from gateway.errors import (
    ConfigError,
    DocumentError,
    MappingError,
    PermanentDeliveryError,
    TransientDeliveryError,
)
from gateway.metrics import count_delivery_failure, observe_latency
from gateway.pipeline.context import StageContext, log_extra, utc_now
from gateway.pipeline.receiver import PipelineReceiver, Wakeup
from gateway.pipeline.stages import prepare
from gateway.storage import LeaseLostError, State
from gateway.x12.control import ControlNumbersExhaustedError

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from gateway.pipeline.alerts import WebhookAlerts
    from gateway.pipeline.context import Write
    from gateway.ports import ErpConnector, GatewayContext, Transport
    from gateway.storage import DocumentRecord

log = logging.getLogger(__name__)

IDLE_MIN_SECONDS = 0.05
IDLE_MAX_SECONDS = 1.0
_MAX_ERROR_CHARS = 1000
_numbers = itertools.count(1)


def default_worker_name() -> str:
    """A lease owner name unique across hosts and processes: ``host:pid:n``."""
    return f"{socket.gethostname()}:{os.getpid()}:{next(_numbers)}"


class Worker:
    """Claims and processes documents; see the module docstring.

    Args:
        ctx: settings, storage, partners; when ``ctx.receive`` is a
            :class:`PipelineReceiver`, its wakeup wakes this worker.
        erp: where purchase orders go.
        transports: outbound senders by channel kind.
        name: the lease owner (default: host, process and a number).
        batch, lease_seconds, max_attempts, retry_base_seconds, retry_max_seconds:
            default to the settings of the same name.
        clock: the current time (aware); retry times are computed from it.
        alerts: where parked failures and duplicates are posted.
        wakeup: overrides the receiver's wakeup.
        rng: the source of retry jitter.
        concurrency: documents of a batch in progress at once (``worker_concurrency``).
    """

    def __init__(
        self,
        ctx: GatewayContext,
        *,
        erp: ErpConnector,
        transports: Mapping[str, Transport],
        name: str | None = None,
        batch: int | None = None,
        lease_seconds: float | None = None,
        max_attempts: int | None = None,
        clock: Callable[[], dt.datetime] | None = None,
        retry_base_seconds: float | None = None,
        retry_max_seconds: float | None = None,
        alerts: WebhookAlerts | None = None,
        wakeup: Wakeup | None = None,
        rng: random.Random | None = None,
        concurrency: int | None = None,
    ) -> None:
        s = ctx.settings
        self.name = name or default_worker_name()
        self.batch = batch or s.worker_batch
        self.lease_seconds = lease_seconds or s.lease_seconds
        self.max_attempts = max_attempts or s.max_attempts
        self.retry_base = retry_base_seconds or s.retry_base_seconds
        self.retry_max = retry_max_seconds or s.retry_max_seconds
        self.store = ctx.store
        self.stages = StageContext(
            store=ctx.store,
            settings=s,
            partners=ctx.partners,
            erp=erp,
            transports=transports,
            alerts=alerts,
            clock=clock or utc_now,
            owner=self.name,
        )
        if wakeup is None and isinstance(ctx.receive, PipelineReceiver):
            wakeup = ctx.receive.wakeup
        self._wakeup = wakeup
        self._rng = rng or random.Random()  # noqa: S311 (jitter, not cryptography)
        self.concurrency = concurrency or s.worker_concurrency
        self._skipped: set[asyncio.Task[Write | None]] = set()
        self.processed = 0

    # -- loops -------------------------------------------------------------------------------
    async def run(self, stop: asyncio.Event) -> None:
        """Process documents until ``stop`` is set; then release unstarted claims."""
        wake = self._wakeup.listen() if self._wakeup is not None else asyncio.Event()
        idle = IDLE_MIN_SECONDS
        log.info("worker started", extra={"worker": self.name})
        try:
            while not stop.is_set():
                try:
                    done = await self._batch(stop)
                except Exception:  # storage unreachable, say: stay alive, try again later
                    log.exception("worker batch failed", extra={"worker": self.name})
                    done = 0
                if done:
                    idle = IDLE_MIN_SECONDS
                    continue
                woken = await _sleep(stop, wake, idle)
                idle = IDLE_MIN_SECONDS if woken else min(idle * 2, IDLE_MAX_SECONDS)
        finally:
            if self._wakeup is not None:
                self._wakeup.forget(wake)
            await self._release_all()
            log.info("worker stopped", extra={"worker": self.name})

    async def run_once(self) -> int:
        """Process every document that is due, batch after batch; return how many."""
        total = 0
        while done := await self._batch(None):
            total += done
        return total

    async def _batch(self, stop: asyncio.Event | None) -> int:
        docs = await self.store.claim(
            worker=self.name, limit=self.batch, lease_seconds=self.lease_seconds
        )
        if not docs:
            return 0
        gate = asyncio.Semaphore(self.concurrency)
        before: dict[tuple[str | None, str] | int, asyncio.Task[Write | None]] = {}
        tasks: list[asyncio.Task[Write | None]] = []
        for doc in docs:
            # documents with the same business key (two copies of one PO) go one after
            # the other, so that an ERP never sees the same order twice at once
            key = (doc.partner_id, doc.business_key) if doc.business_key else doc.id
            task = asyncio.create_task(self._run_one(doc, gate, stop, before.get(key)))
            before[key] = task
            tasks.append(task)
        writes = await asyncio.gather(*tasks)
        unstarted = [doc.id for doc, t in zip(docs, tasks, strict=True) if t in self._skipped]
        self._skipped.clear()
        if unstarted:
            await self.store.release(self.name, unstarted)
        pending = [(doc, w) for doc, w in zip(docs, writes, strict=True) if w is not None]
        await self._commit(pending)
        done = len(docs) - len(unstarted)
        self.processed += done
        return done

    async def _run_one(
        self,
        doc: DocumentRecord,
        gate: asyncio.Semaphore,
        stop: asyncio.Event | None,
        after: asyncio.Task[Write | None] | None,
    ) -> Write | None:
        """One document of a batch: after the one with its key, at most ``concurrency`` at once."""
        if after is not None:
            await asyncio.wait([after])
        async with gate:
            if stop is not None and stop.is_set():  # stopping: not started, released
                current = asyncio.current_task()
                assert current is not None
                self._skipped.add(current)
                return None
            return await self._attempt(doc)

    async def _commit(self, pending: list[tuple[DocumentRecord, Write]]) -> None:
        """Commit the writes of a batch's deliveries and sends in one transaction.

        Should that fail, each is committed on its own, so that one bad write does not
        hold back the others; one that still fails keeps its claim until the lease
        expires and is tried again then (the ERP answers "already there").
        """
        if not pending:
            return
        try:
            async with self.stages.unit(*(doc for doc, _ in pending)) as unit:
                for _, write in pending:
                    await write(unit)
            return
        except Exception:
            if len(pending) == 1:
                log.exception("could not record", extra=log_extra(pending[0][0]))
                return
            log.exception("batch commit failed; committing one by one")
        for doc, write in pending:
            try:
                async with self.stages.unit(doc) as unit:
                    await write(unit)
            except Exception:
                log.exception("could not record", extra=log_extra(doc, worker=self.name))

    async def _release_all(self) -> None:
        try:
            released = await self.store.release(self.name)
        except Exception:  # the leases expire on their own
            log.exception("could not release claims", extra={"worker": self.name})
            return
        if released:
            log.info("released %d claims", released, extra={"worker": self.name})

    # -- one document ------------------------------------------------------------------------
    async def process(self, doc: DocumentRecord) -> None:
        """Run the document's stage and commit it (what :meth:`run` does, one at a time)."""
        write = await self._attempt(doc)
        await self._commit([(doc, write)] if write is not None else [])
        self.processed += 1

    async def _attempt(self, doc: DocumentRecord) -> Write | None:
        """Run the stage; turn what it raises into a retry, a park or a reject.

        Returns the stage's writes when it left them to the caller. When even the
        outcome of a failure cannot be recorded (storage down), the claim is left to
        expire and the document is tried again then.
        """
        try:
            write = await self._handle(doc)
            observe_latency(f"{doc.direction}:{doc.state}", self._age(doc))
            return write
        except Exception:
            log.exception("could not record the outcome", extra=log_extra(doc, worker=self.name))
            return None

    async def _handle(self, doc: DocumentRecord) -> Write | None:
        try:
            return await prepare(self.stages, doc)
        except LeaseLostError:
            log.warning(
                "claim taken over by another worker", extra=log_extra(doc, worker=self.name)
            )
        except (PermanentDeliveryError, ConfigError, ControlNumbersExhaustedError) as exc:
            await self._park(doc, str(exc))
        except (DocumentError, MappingError) as exc:
            await self._reject(doc, str(exc))
        except TransientDeliveryError as exc:
            await self._retry(doc, str(exc))
        except Exception as exc:  # a bad document is never a worker crash
            log.exception("unexpected error", extra=log_extra(doc, worker=self.name))
            await self._retry(doc, f"unexpected {type(exc).__name__}: {exc}")
        return None

    def _age(self, doc: DocumentRecord) -> float:
        """Seconds since the document was created (its stage latency, for the metrics)."""
        return max(0.0, (self.stages.clock() - doc.created_at).total_seconds())

    def retry_delay(self, attempts: int) -> float:
        """Seconds before the next attempt after ``attempts`` failed ones, with jitter."""
        exponent = min(max(attempts - 1, 0), 62)
        base = min(self.retry_max, self.retry_base * 2.0**exponent)
        return float(base * self._rng.uniform(0.5, 1.5))

    async def _retry(self, doc: DocumentRecord, error: str) -> None:
        error = error[:_MAX_ERROR_CHARS]
        count_delivery_failure(doc.doc_type, permanent=doc.attempts >= self.max_attempts)
        if doc.attempts >= self.max_attempts:
            await self._park(doc, f"gave up after {doc.attempts} attempts: {error}")
            return
        delay = self.retry_delay(doc.attempts)
        at = self.stages.clock() + dt.timedelta(seconds=delay)
        message = (
            f"attempt {doc.attempts} of {self.max_attempts} failed: {error}; "
            f"next attempt in {delay:.1f} s"
        )
        async with self.stages.unit(doc) as unit:
            await unit.set_state(
                doc.id,
                doc.state,
                message,
                error=error,
                retry_at=at,
                detail={"attempt": doc.attempts, "retry_at": at.isoformat()},
            )
        log.warning("will retry: %s", error, extra=log_extra(doc, attempt=doc.attempts))

    async def _park(self, doc: DocumentRecord, error: str) -> None:
        error = error[:_MAX_ERROR_CHARS]
        if "gave up after" not in error:  # a retry that ran out counted itself already
            count_delivery_failure(doc.doc_type, permanent=True)
        message = f"parked for a person: {error}"
        async with self.stages.unit(doc) as unit:
            await unit.set_state(
                doc.id, State.FAILED, message, error=error, detail={"from_state": str(doc.state)}
            )
        log.error("document parked: %s", error, extra=log_extra(doc))
        await self.stages.alert("failed", dataclasses.replace(doc, state=State.FAILED), message)

    async def _reject(self, doc: DocumentRecord, error: str) -> None:
        error = error[:_MAX_ERROR_CHARS]
        async with self.stages.unit(doc) as unit:
            await unit.set_state(doc.id, State.REJECTED, f"rejected: {error}", error=error)
        log.warning("document rejected: %s", error, extra=log_extra(doc))


async def _sleep(stop: asyncio.Event, wake: asyncio.Event, seconds: float) -> bool:
    """Wait until ``stop`` or ``wake`` is set, at most ``seconds``; True when woken."""
    tasks = [asyncio.create_task(stop.wait()), asyncio.create_task(wake.wait())]
    try:
        await asyncio.wait(tasks, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    woken = wake.is_set()
    wake.clear()
    return woken
