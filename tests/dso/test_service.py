"""DSO in the service: figures from the store, snapshots, rising threshold alerts, the service.

The figures are checked against the hand computation in :mod:`tests.dso.seed`; alerts go
to a real aiohttp webhook on a loopback port and are checked with their signature.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING

import pytest
from pydantic import SecretStr

from gateway.dso import PORTFOLIO, compute
from gateway.dso.service import (
    THRESHOLD_EVENT,
    DsoSnapshotError,
    DsoSnapshotter,
    figures_from_json,
    formulas,
    load_ledger_from_store,
    report_at,
    seconds_to_next_run,
    take_snapshot,
    trend_at,
)
from gateway.partners import PartnerRegistry
from gateway.pipeline.alerts import WebhookAlerts
from gateway.service import Running, serve
from gateway.settings import Settings
from gateway.storage import Store
from gateway.storage.migrate import upgrade
from tests.dso.seed import AS_OF, NOW, add_invoice, day, seed_ledger
from tests.pipeline.conftest import (  # noqa: F401
    PARTNERS,
    ROOT,
    WEBHOOK_SECRET,
    Webhook,
    webhook,
)

if TYPE_CHECKING:
    from pathlib import Path

    from gateway.dso import PartnerFigures

D = Decimal


@pytest.fixture(scope="module")
def partners() -> PartnerRegistry:
    return PartnerRegistry.load(PARTNERS)


def _row(figures: PartnerFigures) -> tuple[object, ...]:
    return (
        figures.ar,
        figures.sales,
        figures.dso,
        figures.best_possible_dso,
        figures.add,
        figures.countback_dso,
        figures.aging.amounts,
        figures.average_days_to_pay,
    )


def _aging(*amounts: str) -> tuple[Decimal, ...]:
    return tuple(D(a) for a in amounts)


async def test_figures_from_the_store_are_the_hand_computed_ones(store: Store) -> None:
    await seed_ledger(store)
    report = await report_at(store, AS_OF)
    assert (report.as_of, report.period_days) == (AS_OF, 90)
    assert list(report.partners) == ["bigbox", "northwind", PORTFOLIO]
    assert _row(report.partners["northwind"]) == (
        D("5000.00"), D("6000.00"), D("75.00"), D("45.00"), D("30.00"), D("59.00"),
        _aging("3000.00", "1500.00", "0.00", "0.00", "500.00"), D("41.00"),
    )  # fmt: skip
    assert _row(report.partners["bigbox"]) == (
        D("1200.00"), D("1200.00"), D("90.00"), D("90.00"), D("0.00"), D("31.00"),
        _aging("1200.00", "0.00", "0.00", "0.00", "0.00"), D("85.00"),
    )  # fmt: skip
    assert _row(report.portfolio) == (
        D("6200.00"), D("7200.00"), D("77.50"), D("52.50"), D("25.00"), D("59.00"),
        _aging("4200.00", "1500.00", "0.00", "0.00", "500.00"), D("60.56"),
    )  # fmt: skip
    # One partner alone: its row, and the portfolio row is that partner's.
    alone = await report_at(store, AS_OF, partner_id="bigbox")
    assert list(alone.partners) == ["bigbox", PORTFOLIO]
    assert _row(alone.partners["bigbox"]) == _row(report.partners["bigbox"])
    # The deduction dated after the as-of date counts from its own date on.
    later = await report_at(store, day("2026-04-05"))
    assert later.partners["northwind"].aging.over_90 == D("450.00")


async def test_a_credit_note_is_left_out_not_fatal(store: Store) -> None:
    await seed_ledger(store)
    await add_invoice(store, "bigbox", "CN1", "2026-03-02", "2026-03-02", "-100.00")
    ledger = await load_ledger_from_store(store, until=AS_OF)
    assert compute(ledger, AS_OF).partners["bigbox"].ar == D("1200.00")


async def test_trend_is_the_figures_at_each_month_end(store: Store) -> None:
    await seed_ledger(store)
    trend = await trend_at(store, AS_OF)
    ends = trend.month_ends
    assert len(ends) == 12 and ends[0] == day("2025-04-30") and ends[-1] == AS_OF
    series = dict(trend.series("northwind"))
    february = series[day("2026-02-28")]
    # Sales Jan 10 + Feb 15 = 3000; open N2 2000 (current) + N0 500 (89 days late).
    assert (february.ar, february.sales, february.dso, february.best_possible_dso) == (
        D("2500.00"), D("3000.00"), D("75.00"), D("60.00"),
    )  # fmt: skip
    assert february.aging.days_61_90 == D("500.00")
    january = series[day("2026-01-31")]
    assert (january.ar, january.sales, january.dso) == (D("1500.00"), D("1000.00"), D("135.00"))
    assert series[day("2025-10-31")].dso is None  # nothing invoiced yet
    assert _row(series[AS_OF]) == _row((await report_at(store, AS_OF)).partners["northwind"])


def test_formulas_show_the_numbers_behind_each_figure() -> None:
    report = compute_seeded_like()
    text = formulas(report, 90)
    assert text["dso"] == "DSO = AR 5,000.00 / sales 6,000.00 × 90 = 75.00"
    assert text["best_possible_dso"] == "BPDSO = current AR 3,000.00 / sales 6,000.00 × 90 = 45.00"
    assert text["add"] == "ADD = DSO 75.00 − BPDSO 45.00 = 30.00"
    assert text["countback_dso"].endswith("AR 5,000.00 covers, newest first = 59.00")
    assert text["average_days_to_pay"].endswith("paid in full in the 90 days = 41.00")
    empty = figures_from_json(
        {
            "ar": "0.00",
            "sales": "0.00",
            "dso": None,
            "best_possible_dso": None,
            "add": None,
            "countback_dso": None,
            "aging": dict.fromkeys(("current", "1_30", "31_60", "61_90", "over_90"), "0.00"),
            "average_days_to_pay": None,
        }
    )
    assert formulas(empty, 30)["dso"] == (
        "DSO = AR 0.00 / sales 0.00 × 30: no sales in the 30 days, so no figure"
    )


def compute_seeded_like() -> PartnerFigures:
    """Northwind's figures of the seeded data, as a snapshot would hold them."""
    return figures_from_json(
        {
            "ar": "5000.00",
            "sales": "6000.00",
            "dso": "75.00",
            "best_possible_dso": "45.00",
            "add": "30.00",
            "countback_dso": "59.00",
            "aging": {
                "current": "3000.00",
                "1_30": "1500.00",
                "31_60": "0.00",
                "61_90": "0.00",
                "over_90": "500.00",
            },
            "average_days_to_pay": "41.00",
        }
    )


def test_a_bad_stored_snapshot_is_reported() -> None:
    with pytest.raises(DsoSnapshotError, match="snapshot figure 'ar': expected a number"):
        figures_from_json({"ar": "lots", "aging": {}})
    with pytest.raises(DsoSnapshotError, match="'aging': expected an object"):
        figures_from_json({"ar": "1.00"})


async def test_snapshot_stores_every_partner_and_the_portfolio(
    store: Store, partners: PartnerRegistry
) -> None:
    await seed_ledger(store)
    result = await take_snapshot(store, partners, AS_OF)
    assert result.inserted == ("*", "bigbox", "northwind")
    for partner_id, figures in result.report.partners.items():
        stored = await store.dso_snapshot(partner_id, AS_OF, 90)
        assert stored is not None and stored.figures == figures.as_json()
        assert _row(figures_from_json(stored.figures)) == _row(figures)
    # No snapshot before: every partner above a threshold is news (both at alert level).
    assert [(c.partner_id, c.level, c.dso, c.threshold_days) for c in result.crossings] == [
        ("bigbox", "alert", D("90.00"), 45),
        ("northwind", "alert", D("75.00"), 65),
    ]
    # A repeat the same day rewrites the rows and alerts nothing.
    again = await take_snapshot(store, partners, AS_OF)
    assert again.inserted == () and again.crossings == ()
    assert len(await store.dso_snapshots(period_days=90)) == 3


async def test_only_a_rising_level_alerts(store: Store, partners: PartnerRegistry) -> None:
    await seed_ledger(store)
    earlier = day("2026-03-30")
    before = compute_seeded_like().as_json()
    await store.put_dso_snapshots(
        earlier,
        90,
        {"northwind": {**before, "dso": "55.00"}, "bigbox": {**before, "dso": "50.00"}},
    )
    result = await take_snapshot(store, partners, AS_OF)
    # northwind rose from warn (55 > 50) to alert (75 > 65); bigbox was at alert already.
    [crossing] = result.crossings
    assert (crossing.partner_id, crossing.level, crossing.previous_dso) == (
        "northwind",
        "alert",
        D("55.00"),
    )


async def test_an_unreadable_previous_snapshot_counts_as_none(
    store: Store, partners: PartnerRegistry, caplog: pytest.LogCaptureFixture
) -> None:
    await seed_ledger(store)
    await store.put_dso_snapshots(day("2026-03-30"), 90, {"northwind": {"ar": "garbled"}})
    result = await take_snapshot(store, partners, AS_OF)
    assert [(c.partner_id, c.previous_dso) for c in result.crossings] == [
        ("bigbox", None),
        ("northwind", None),
    ]
    assert "stored DSO snapshot unreadable" in caplog.text


async def test_snapshotter_takes_today_once_and_alerts_signed(
    store: Store,
    partners: PartnerRegistry,
    webhook: Webhook,  # noqa: F811
) -> None:
    await seed_ledger(store)
    async with WebhookAlerts(webhook.url, SecretStr(WEBHOOK_SECRET)) as alerts:
        snapshotter = DsoSnapshotter(store, partners, alerts=alerts, clock=lambda: NOW)
        await snapshotter.start()
        await asyncio.wait_for(snapshotter.checked.wait(), 30)
        await snapshotter.stop()
        assert snapshotter.last is not None and snapshotter.last.inserted[0] == "*"
        # Another process starting the same day finds today's snapshot: nothing more.
        other = DsoSnapshotter(store, partners, alerts=alerts, clock=lambda: NOW)
        assert await other.run_once() is None
    sent = webhook.alerts()
    assert [(a["event"], a["partner_id"]) for a in sent] == [
        (THRESHOLD_EVENT, "bigbox"),
        (THRESHOLD_EVENT, "northwind"),
    ]
    northwind = sent[1]
    assert northwind["message"] == (
        "DSO of northwind is 75.00 days as of 2026-03-31, above its alert threshold of "
        "65 days (previous snapshot: no figure)"
    )
    detail = northwind["detail"]
    assert detail["formula"] == "DSO = AR 5,000.00 / sales 6,000.00 × 90 = 75.00"
    assert (detail["level"], detail["dso"], detail["threshold_days"]) == ("alert", "75.00", 65)
    assert detail["figures"]["aging"]["over_90"] == "500.00"
    assert dt.datetime.fromisoformat(northwind["at"]).tzinfo is not None


async def test_two_processes_snapshotting_at_once_alert_once(
    store: Store,
    database_url: str,
    data_dir: Path,
    partners: PartnerRegistry,
    webhook: Webhook,  # noqa: F811
) -> None:
    await seed_ledger(store)
    second = await Store.open(database_url, data_dir=data_dir)
    try:
        async with (
            WebhookAlerts(webhook.url, SecretStr(WEBHOOK_SECRET)) as one,
            WebhookAlerts(webhook.url, SecretStr(WEBHOOK_SECRET)) as two,
        ):
            results = await asyncio.gather(
                DsoSnapshotter(store, partners, alerts=one, clock=lambda: NOW).run_once(),
                DsoSnapshotter(second, partners, alerts=two, clock=lambda: NOW).run_once(),
            )
    finally:
        await second.close()
    inserted = [set(r.inserted) for r in results if r is not None]
    assert set().union(*inserted) == {"*", "bigbox", "northwind"}
    assert sum(len(s) for s in inserted) == 3  # each row inserted by exactly one of them
    assert sorted(a["partner_id"] for a in webhook.alerts()) == ["bigbox", "northwind"]


def test_the_daily_run_is_just_after_midnight_utc() -> None:
    assert seconds_to_next_run(dt.datetime(2026, 3, 31, 0, 0, tzinfo=dt.UTC)) == 300
    assert seconds_to_next_run(dt.datetime(2026, 3, 31, 0, 5, tzinfo=dt.UTC)) == 86_400
    assert seconds_to_next_run(dt.datetime(2026, 3, 31, 23, 0, tzinfo=dt.UTC)) == 3_900
    plus_two = dt.timezone(dt.timedelta(hours=2))
    assert seconds_to_next_run(dt.datetime(2026, 4, 1, 1, 0, tzinfo=plus_two)) == 3_900


async def test_a_worker_process_runs_the_snapshotter(tmp_path: Path) -> None:
    """``o2c serve --role worker`` starts it: today's snapshot is there (empty books)."""
    settings = Settings(
        data_dir=tmp_path / "data",
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'o2c.db'}",
        partners_dir=PARTNERS,
        mappings_dir=ROOT / "mappings",
        workers=0,
        erp={"connector": "folder", "path": str(tmp_path / "erp")},
    )
    settings.data_dir.mkdir()
    await upgrade(settings.database_url)
    first_day = dt.datetime.now(dt.UTC).date()
    stop = asyncio.Event()
    ready: asyncio.Future[Running] = asyncio.get_running_loop().create_future()
    task = asyncio.create_task(
        serve(
            settings, "worker", stop=stop, on_ready=ready.set_result, install_signal_handlers=False
        )
    )
    try:
        started: set[asyncio.Future[object]] = {ready, task}  # type: ignore[arg-type]
        await asyncio.wait(started, timeout=60, return_when=asyncio.FIRST_COMPLETED)
        if task.done():
            task.result()  # serve failed to start: its error
        snapshotter = ready.result().services["dso_snapshots"]
        assert isinstance(snapshotter, DsoSnapshotter)
        await asyncio.wait_for(snapshotter.checked.wait(), 30)
        assert snapshotter.last is not None
        today = snapshotter.last.report.as_of
        assert first_day <= today <= dt.datetime.now(dt.UTC).date()
        stored = await snapshotter.store.dso_snapshot(PORTFOLIO, today, 90)
        assert stored is not None and stored.figures["ar"] == "0.00"
    finally:
        stop.set()
        await asyncio.wait_for(task, 60)
