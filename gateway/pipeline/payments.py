"""Cash applications to the ERP: :class:`PaymentPusher`, a worker-process service.

Every ``interval`` seconds the pusher reads the ``cash_applications`` rows whose
``erp_state`` is ``pending`` or ``failed`` and hands each to the ERP connector when it is
a :class:`~gateway.ports.PaymentSink`:

- an application not reversed goes as ``o2c-application-<id>``; one reversed goes as the
  application (a no-op when the ERP has it already) and then as
  ``o2c-application-<id>-reversal`` with the amount negated. The keys make both pushes
  idempotent, so a push repeated after a crash or by a second worker records nothing twice;
- success: ``pushed`` with the ERP's reference; a connector without ``record_payment``:
  ``unsupported``; an error: ``failed`` with ``erp_error``, one more ``erp_attempts``, and
  another try later: after a backoff that doubles per attempt (capped at
  ``max_backoff``) for a transient error, after ``permanent_backoff`` for a refusal
  (a person fixes the ERP side meanwhile). A transient error ends the round: the ERP is
  not reachable, the other rows wait for the next round.

The outcome is recorded only while the row still is as it was pushed: a reversal made
during a push leaves the row pending, and the next round pushes the reversal.

Must not import ``gateway.web``, ``gateway.cli`` or any adapter.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Final

from gateway.background import Periodic
from gateway.errors import DeliveryError, TransientDeliveryError
from gateway.ports import PaymentRecord, PaymentSink

if TYPE_CHECKING:
    from collections.abc import Callable

    from gateway.ports import ErpConnector
    from gateway.storage import Store
    from gateway.storage.cash_rows import ApplicationRecord

log = logging.getLogger(__name__)

KEY_PREFIX: Final = "o2c-application-"


def payment_records(app: ApplicationRecord) -> list[PaymentRecord]:
    """What to push for an application: itself, then its reversal when it was reversed."""
    first = PaymentRecord(
        key=f"{KEY_PREFIX}{app.id}",
        partner_id=app.partner_id,
        invoice_number=app.invoice_number,
        erp_invoice_id=app.erp_invoice_id,
        kind=app.kind,
        amount=app.amount,
        effective_date=app.effective_date,
        trace_number=app.trace_number,
        reason_code=app.reason_code,
    )
    if app.reversed_at is None:
        return [first]
    reversal = PaymentRecord(
        key=f"{first.key}-reversal",
        partner_id=app.partner_id,
        invoice_number=app.invoice_number,
        erp_invoice_id=app.erp_invoice_id,
        kind=app.kind,
        amount=-app.amount,
        effective_date=app.reversed_at.date(),
        trace_number=app.trace_number,
        reason_code=app.reason_code,
    )
    return [first, reversal]


_MAX_EXCLUDED: Final = 1000
"""Most ids in backoff left out of one round's query (the rest are skipped in the loop)."""


class PaymentPusher(Periodic):
    """Pushes cash applications to the ERP connector; a :class:`~gateway.ports.Service`.

    Args:
        store: where the applications are.
        erp: the connector; payments go to it only when it is a ``PaymentSink``.
        interval: seconds between rounds.
        batch: most applications per round.
        max_backoff: the longest wait before a row that failed transiently is tried again.
        permanent_backoff: the wait before a row the ERP refused is tried again.
        clock: monotonic seconds (the backoff's clock).
    """

    task_name = "payment-pusher"

    def __init__(
        self,
        store: Store,
        erp: ErpConnector,
        *,
        interval: float = 5.0,
        batch: int = 100,
        max_backoff: float = 300.0,
        permanent_backoff: float = 3600.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store = store
        self.erp = erp
        self.interval = interval
        self.batch = batch
        self.max_backoff = max_backoff
        self.permanent_backoff = permanent_backoff
        self.clock = clock
        self._not_before: dict[int, float] = {}
        super().__init__()
        self.retry_seconds = interval
        self.pushed = 0

    async def round(self) -> float:
        """Push one batch; the next round comes after ``interval`` seconds."""
        await self.push_once()
        return self.interval

    async def push_once(self) -> int:
        """One round; returns how many applications were marked ``pushed``."""
        now = self.clock()
        waiting = [i for i, t in self._not_before.items() if t > now][:_MAX_EXCLUDED]
        rows = await self.store.applications_to_push(self.batch, exclude=waiting)
        if not isinstance(self.erp, PaymentSink):
            for app in rows:
                await self.store.set_application_erp_state(
                    app.id, reversed_=app.reversed_at is not None, state="unsupported"
                )
            return 0
        done = 0
        for app in rows:
            if self._not_before.get(app.id, 0.0) > now:
                continue
            try:
                done += await self._push(self.erp, app)
            except TransientDeliveryError:
                break  # the ERP is not reachable: the others wait for the next round
        self.pushed += done
        return done

    async def _push(self, sink: PaymentSink, app: ApplicationRecord) -> int:
        reversed_ = app.reversed_at is not None
        extra = {"partner_id": app.partner_id, "application_id": app.id}
        try:
            references = [await sink.record_payment(p) for p in payment_records(app)]
        except DeliveryError as exc:
            transient = isinstance(exc, TransientDeliveryError)
            wait = (
                min(self.max_backoff, self.interval * 2.0 ** min(app.erp_attempts, 30))
                if transient
                else self.permanent_backoff
            )
            self._not_before[app.id] = self.clock() + wait
            what = "ERP unreachable" if transient else "ERP refused the payment"
            await self.store.set_application_erp_state(
                app.id, reversed_=reversed_, state="failed", error=f"{what}: {exc}"[:2000]
            )
            log.warning("payment not pushed: %s", what, extra=extra)
            if transient:
                raise
            return 0
        self._not_before.pop(app.id, None)
        reference = references[0] if len(references) == 1 else " / reversed ".join(references)
        marked = await self.store.set_application_erp_state(
            app.id, reversed_=reversed_, state="pushed", reference=reference
        )
        if marked:
            log.info("payment pushed", extra=extra)
        return int(marked)
