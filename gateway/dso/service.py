"""DSO inside the service: figures from the database, daily snapshots, threshold alerts.

- :func:`load_ledger_from_store` builds a :class:`~gateway.dso.ledger.Ledger` from the
  store: invoices are ``open_items``, payments the applications of
  :meth:`gateway.storage.dso.DsoStore.dso_payments` (not reversed; payment, discount,
  deduction, write-off; dated ``effective_date``). An invoice with a negative amount (a
  credit note) is left out, as ``o2c dso`` refuses one, and its applications with it.
- :func:`report_at` and :func:`trend_at` are what the dashboard shows: figures computed
  from the ledger now, for any as-of date. The 12-month trend is computed from the ledger
  at each month-end (:func:`gateway.dso.trends.trend`), not read from snapshots, so it
  is whole from the first day (invoices older than the service count) and agrees with
  ``o2c dso`` on the same data. Stored snapshots are the record of what the figures were
  on each day (a payment entered later with an earlier effective date changes the
  recomputed past, not the snapshot); thresholds are checked against them.
- :func:`take_snapshot` computes every partner's figures plus the portfolio row ``*``
  for one day and stores them (an upsert per partner, day and period). It returns the
  threshold crossings against each partner's previous snapshot (so only a rising level
  alerts), limited to the rows this call inserted.
- :class:`DsoSnapshotter`, a service: a snapshot of today (UTC) at start when there is
  none yet, then one each day just after midnight UTC. Several processes may run it:
  the insert is the claim, so for each partner and day exactly one process inserts the
  row and only that one posts the ``dso.threshold`` alert; the others' repeat just
  rewrites the same figures. A process that dies between its commit and its post loses
  that alert (at most once, never twice).

CPU-bound work (building the ledger, computing) runs in a worker thread.

Imports the standard library, ``gateway.errors``, ``gateway.dso`` and, for types,
``gateway.storage`` and ``gateway.partners``; never ``pipeline``, ``web`` or ``cli``
(alerts come in through the :class:`PartnerAlerts` protocol).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Final, Protocol

from gateway.background import Periodic
from gateway.dso.aging import BUCKETS, Aging
from gateway.dso.ledger import PORTFOLIO, Invoice, Ledger, Payment
from gateway.dso.metrics import DsoReport, PartnerFigures, compute
from gateway.dso.thresholds import crossed_thresholds, partner_thresholds
from gateway.dso.trends import Trend, trend
from gateway.errors import DsoSnapshotError as DsoSnapshotError  # re-exported: it was defined here

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from gateway.dso.thresholds import ThresholdCrossing
    from gateway.partners import PartnerRegistry
    from gateway.storage import Store
    from gateway.storage.dso import DsoSnapshot

log = logging.getLogger(__name__)

PERIOD_DAYS: Final = 90
"""The sales period of the service's figures and snapshots, as ``o2c dso``'s default."""
THRESHOLD_EVENT: Final = "dso.threshold"
RETRY_SECONDS: Final = 300.0
"""After a failed snapshot, try again this much later rather than the next day."""
AFTER_MIDNIGHT: Final = dt.timedelta(minutes=5)
"""The daily snapshot runs this long after midnight UTC."""


class PartnerAlerts(Protocol):
    """Where partner-level alerts go (``WebhookAlerts`` of the pipeline); never raises."""

    async def notify_partner(
        self, event: str, partner_id: str, message: str, detail: Mapping[str, object]
    ) -> bool:
        """Post one alert about a partner; True when it was taken."""
        ...


# -- the ledger and figures from the store -------------------------------------------------
async def load_ledger_from_store(
    store: Store, *, until: dt.date | None = None, partner_id: str | None = None
) -> Ledger:
    """The ledger of invoices and payments dated on or before ``until`` (of one partner)."""
    invoice_rows = await store.dso_invoices(until=until, partner_id=partner_id)
    payment_rows = await store.dso_payments(until=until, partner_id=partner_id)
    invoices = [
        Invoice(r.invoice_number, r.partner_id, r.invoice_date, r.due_date, r.amount)
        for r in invoice_rows
        if r.amount >= 0
    ]
    if len(invoices) != len(invoice_rows):
        log.warning(
            "invoices with a negative amount are left out of DSO",
            extra={"count": len(invoice_rows) - len(invoices)},
        )
    payments = [
        Payment(r.invoice_number, r.partner_id, r.effective_date, r.amount) for r in payment_rows
    ]
    return await asyncio.to_thread(Ledger.build, invoices, payments)


async def report_at(
    store: Store, as_of: dt.date, *, period_days: int = PERIOD_DAYS, partner_id: str | None = None
) -> DsoReport:
    """Every partner's figures on ``as_of`` (only ``partner_id``'s and ``*`` when given)."""
    ledger = await load_ledger_from_store(store, until=as_of, partner_id=partner_id)
    return await asyncio.to_thread(compute, ledger, as_of, period_days)


async def trend_at(
    store: Store,
    as_of: dt.date,
    *,
    months: int = 12,
    period_days: int = PERIOD_DAYS,
    partner_id: str | None = None,
) -> Trend:
    """The figures on each of the last ``months`` month-ends on or before ``as_of``."""
    ledger = await load_ledger_from_store(store, until=as_of, partner_id=partner_id)
    return await asyncio.to_thread(trend, ledger, as_of, months, period_days=period_days)


def figures_from_json(data: Mapping[str, object]) -> PartnerFigures:
    """The figures of a stored snapshot (the JSON of :meth:`PartnerFigures.as_json`).

    Raises:
        DsoSnapshotError: a value is missing or not a number.
    """

    def number(key: str, source: Mapping[str, object] = data) -> Decimal:
        value = source.get(key)
        if isinstance(value, str | int):
            with contextlib.suppress(InvalidOperation):
                return Decimal(str(value))
        raise DsoSnapshotError(f"snapshot figure {key!r}: expected a number, found {value!r}")

    def days(key: str) -> Decimal | None:
        return None if data.get(key) is None else number(key)

    aging = data.get("aging")
    if not isinstance(aging, dict):
        raise DsoSnapshotError(f"snapshot figure 'aging': expected an object, found {aging!r}")
    return PartnerFigures(
        ar=number("ar"),
        sales=number("sales"),
        dso=days("dso"),
        best_possible_dso=days("best_possible_dso"),
        add=days("add"),
        countback_dso=days("countback_dso"),
        aging=Aging(*(number(name, aging) for name in BUCKETS)),
        average_days_to_pay=days("average_days_to_pay"),
    )


def report_of_snapshots(
    snapshots: Mapping[str, DsoSnapshot], as_of: dt.date, period_days: int
) -> DsoReport:
    """Stored snapshots (by partner id) as a report (``as_of`` names it; rows keep theirs).

    A row whose figures cannot be read is left out (and logged): that partner counts as
    having no previous figure, rather than stopping every partner's snapshot.
    """
    rows = {}
    for partner_id, snap in sorted(snapshots.items()):
        try:
            rows[partner_id] = figures_from_json(snap.figures)
        except DsoSnapshotError as exc:
            log.warning(
                "stored DSO snapshot unreadable: %s",
                exc,
                extra={"partner_id": partner_id, "as_of": snap.as_of.isoformat()},
            )
    return DsoReport(as_of=as_of, period_days=period_days, partners=rows)


# -- formulas for people -------------------------------------------------------------------
def _n(value: Decimal) -> str:
    return f"{value:,}"


def formulas(figures: PartnerFigures, period_days: int) -> dict[str, str]:
    """Each figure with how it was computed, e.g. ``DSO = AR 1,200.00 / sales ... = 40.00``."""
    n = period_days
    ar, sales, current = _n(figures.ar), _n(figures.sales), _n(figures.aging.current)
    if figures.dso is None or figures.best_possible_dso is None or figures.add is None:
        none = f"no sales in the {n} days, so no figure"
        out = {
            "dso": f"DSO = AR {ar} / sales {sales} × {n}: {none}",
            "best_possible_dso": f"BPDSO = current AR {current} / sales {sales} × {n}: {none}",
            "add": f"ADD = DSO − BPDSO: {none}",
            "countback_dso": f"countback DSO: {none}",
        }
    else:
        dso, best = _n(figures.dso), _n(figures.best_possible_dso)
        out = {
            "dso": f"DSO = AR {ar} / sales {sales} × {n} = {dso}",
            "best_possible_dso": f"BPDSO = current AR {current} / sales {sales} × {n} = {best}",
            "add": f"ADD = DSO {dso} − BPDSO {best} = {_n(figures.add)}",
            "countback_dso": (
                f"countback DSO = days of the latest months whose sales AR {ar} covers, "
                f"newest first = {_n(figures.countback_dso or Decimal(0))}"
            ),
        }
    paid = figures.average_days_to_pay
    out["average_days_to_pay"] = (
        f"average days to pay = Σ amount × days from invoice to last payment / Σ amount, "
        f"over invoices paid in full in the {n} days = {_n(paid)}"
        if paid is not None
        else f"average days to pay: no invoice was paid in full in the {n} days"
    )
    return out


# -- snapshots and alerts ------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class SnapshotResult:
    """What :func:`take_snapshot` stored and which partners crossed a threshold."""

    report: DsoReport
    inserted: tuple[str, ...]
    """Partner ids whose row this call inserted (the others were there already)."""
    crossings: tuple[ThresholdCrossing, ...]
    """Rising crossings of the inserted partners only: the ones this call should alert."""


async def take_snapshot(
    store: Store, partners: PartnerRegistry, as_of: dt.date, *, period_days: int = PERIOD_DAYS
) -> SnapshotResult:
    """Compute and store every partner's figures plus ``*`` on ``as_of``; see the module."""
    report = await report_at(store, as_of, period_days=period_days)
    previous_rows = await store.previous_dso_snapshots(as_of, period_days)
    previous = report_of_snapshots(previous_rows, as_of, period_days) if previous_rows else None
    rows = {pid: figures.as_json() for pid, figures in report.partners.items()}
    inserted = await store.put_dso_snapshots(as_of, period_days, rows)
    crossings = crossed_thresholds(report, partner_thresholds(partners), previous=previous)
    fresh = set(inserted)
    mine = tuple(c for c in crossings if c.partner_id in fresh)
    log.info(
        "DSO snapshot stored",
        extra={"as_of": as_of.isoformat(), "partners": len(rows), "inserted": len(inserted)},
    )
    return SnapshotResult(report=report, inserted=tuple(inserted), crossings=mine)


def threshold_alert(
    crossing: ThresholdCrossing, report: DsoReport
) -> tuple[str, dict[str, object]]:
    """The message and detail of the ``dso.threshold`` alert for one crossing."""
    figures = report.partners[crossing.partner_id]
    was = f"{crossing.previous_dso} days" if crossing.previous_dso is not None else "no figure"
    message = (
        f"DSO of {crossing.partner_id} is {crossing.dso} days as of {report.as_of.isoformat()}, "
        f"above its {crossing.level} threshold of {crossing.threshold_days} days "
        f"(previous snapshot: {was})"
    )
    detail: dict[str, object] = {
        "level": crossing.level,
        "dso": str(crossing.dso),
        "threshold_days": crossing.threshold_days,
        "previous_dso": None if crossing.previous_dso is None else str(crossing.previous_dso),
        "as_of": report.as_of.isoformat(),
        "period_days": report.period_days,
        "formula": formulas(figures, report.period_days)["dso"],
        "figures": figures.as_json(),
    }
    return message, detail


async def alert_crossings(result: SnapshotResult, alerts: PartnerAlerts | None) -> int:
    """Post one ``dso.threshold`` alert per crossing of ``result``; how many were taken."""
    taken = 0
    for crossing in result.crossings:
        message, detail = threshold_alert(crossing, result.report)
        if alerts is None:
            log.warning("alert: %s: %s", THRESHOLD_EVENT, message)
        elif await alerts.notify_partner(THRESHOLD_EVENT, crossing.partner_id, message, detail):
            taken += 1
    return taken


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def seconds_to_next_run(now: dt.datetime) -> float:
    """Seconds from ``now`` (aware) to the next daily run, :data:`AFTER_MIDNIGHT` UTC."""
    now = now.astimezone(dt.UTC)
    midnight = dt.datetime.combine(now.date(), dt.time(), tzinfo=dt.UTC)
    run = midnight + AFTER_MIDNIGHT
    if run <= now:
        run += dt.timedelta(days=1)
    return (run - now).total_seconds()


class DsoSnapshotter(Periodic):
    """Takes today's DSO snapshot when missing, then daily; a :class:`~gateway.ports.Service`.

    Args:
        store: where the invoices, payments and snapshots are.
        partners: the profiles, for their DSO thresholds.
        alerts: where ``dso.threshold`` alerts go (None: logged only).
        period_days: the sales period of the figures.
        clock: the current time (aware); its UTC date is the snapshot's as-of date.
    """

    task_name = "dso-snapshotter"
    retry_seconds = RETRY_SECONDS

    def __init__(
        self,
        store: Store,
        partners: PartnerRegistry,
        *,
        alerts: PartnerAlerts | None = None,
        period_days: int = PERIOD_DAYS,
        clock: Callable[[], dt.datetime] = _utc_now,
    ) -> None:
        self.store = store
        self.partners = partners
        self.alerts = alerts
        self.period_days = period_days
        self.clock = clock
        self.checked = asyncio.Event()
        """Set once the first pass is over (today's snapshot found or taken, or it failed)."""
        self.last: SnapshotResult | None = None
        """The last snapshot this process took."""
        super().__init__()

    async def round(self) -> float:
        """Take today's snapshot if missing; the next round just after the next midnight UTC."""
        try:
            await self.run_once()
        finally:
            self.checked.set()
        return seconds_to_next_run(self.clock())

    async def run_once(self) -> SnapshotResult | None:
        """Take today's snapshot unless stored already, and alert; None when it was there."""
        today = self.clock().astimezone(dt.UTC).date()
        if await self.store.dso_snapshot(PORTFOLIO, today, self.period_days) is not None:
            return None
        result = await take_snapshot(self.store, self.partners, today, period_days=self.period_days)
        self.last = result
        await alert_crossings(result, self.alerts)
        return result
