"""The DSO dashboard: per partner DSO, best possible DSO and ADD over 12 months, aging, CSV.

- ``GET /ui/dso``: the portfolio and one row per partner on an as-of date (default today,
  UTC) over a sales period (default 90 days), each figure with its formula, the
  partner's thresholds and level, and the last daily snapshot.
- ``GET /ui/dso/{partner}`` (``*`` for the portfolio): the 12-month trend of DSO, BPDSO
  and ADD as an SVG line chart with a table of the same numbers, the aging bars, the
  formulas and the partner's recent daily snapshots.
- ``GET /ui/dso.csv``: the figures per partner as CSV; with ``?partner=`` that partner's
  month-end trend rows instead. Same columns either way (:data:`CSV_COLUMNS`).

Figures are computed from the store on each request (:mod:`gateway.dso.service`); read by
admin, ar, operator and viewer.

Imports aiohttp, :mod:`gateway.dso` (its ``service`` included), ``gateway.errors``,
:mod:`gateway.web.auth` and this package's modules.
"""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import io
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from aiohttp import web

from gateway.dso import BUCKETS, PORTFOLIO, compute, trend
from gateway.dso.service import (
    DsoSnapshotError,
    figures_from_json,
    formulas,
    load_ledger_from_store,
)
from gateway.dso.thresholds import level_of
from gateway.errors import UsageError
from gateway.web.auth import require_browser_role
from gateway.web.responses import CONTEXT
from gateway.web.ui.charts import bar_chart, line_chart
from gateway.web.ui.frame import Section, render

if TYPE_CHECKING:
    from gateway.business import DsoThresholds
    from gateway.dso import DsoReport, PartnerFigures, Trend
    from gateway.partners import PartnerRegistry
    from gateway.storage.records import Role
    from gateway.web.ui.charts import BarChart, LineChart

DSO_ROLES: tuple[Role, ...] = ("admin", "ar", "operator", "viewer")
"""Who reads the dashboard."""
MAX_PERIOD: Final = 3660
HISTORY: Final = 14
"""How many daily snapshots the partner page lists."""
CSV_COLUMNS: Final = (
    "partner_id", "as_of", "period_days", "ar", "sales", "dso", "best_possible_dso", "add",
    "countback_dso", *BUCKETS, "average_days_to_pay", "warn_days", "alert_days", "level",
)  # fmt: skip
BUCKET_LABELS: Final = ("Current", "1–30 days", "31–60 days", "61–90 days", "Over 90 days")
_UNSAFE_CELL: Final = re.compile(r"^[=+\-@\t\r]")


@dataclass(frozen=True, slots=True)
class Query:
    """The as-of date and sales period of a request (``as_of``, ``period``)."""

    as_of: dt.date
    period_days: int

    @classmethod
    def of(cls, request: web.Request) -> Query:
        """Read ``?as_of=YYYY-MM-DD&period=N`` (defaults: today UTC, ``dso_period_days``).

        Raises:
            UsageError: a value is malformed; the message names it.
        """
        text = request.query.get("as_of", "").strip()
        default = request.config_dict[CONTEXT].settings.dso_period_days
        period = request.query.get("period", "").strip() or str(default)
        try:
            as_of = dt.date.fromisoformat(text) if text else dt.datetime.now(dt.UTC).date()
        except ValueError:
            raise UsageError(f"as of: expected a date YYYY-MM-DD, found {text!r}") from None
        if not period.isdigit() or not 1 <= int(period) <= MAX_PERIOD:
            raise UsageError(f"period: expected 1 to {MAX_PERIOD} days, found {period!r}")
        return cls(as_of, int(period))

    @property
    def params(self) -> str:
        """The query string that keeps these values on links."""
        return f"as_of={self.as_of.isoformat()}&period={self.period_days}"


@dataclass(frozen=True, slots=True)
class Row:
    """One partner's figures as the pages show them."""

    partner_id: str
    name: str
    figures: PartnerFigures
    formulas: dict[str, str]
    thresholds: DsoThresholds | None
    level: str
    """``alert``, ``warn``, ``ok`` or ``none`` (no DSO figure)."""


def _thresholds(partners: PartnerRegistry, partner_id: str) -> DsoThresholds | None:
    if partner_id == PORTFOLIO or partner_id not in partners:
        return None
    return partners.by_id(partner_id).business.dso


def _name(partners: PartnerRegistry, partner_id: str) -> str:
    if partner_id == PORTFOLIO:
        return "All partners"
    return partners.by_id(partner_id).display_name if partner_id in partners else partner_id


def make_row(
    partners: PartnerRegistry, partner_id: str, figures: PartnerFigures, period_days: int
) -> Row:
    """The row of one partner (``*`` for the portfolio)."""
    limits = _thresholds(partners, partner_id)
    level = level_of(figures.dso, limits) if limits is not None else None
    return Row(
        partner_id=partner_id,
        name=_name(partners, partner_id),
        figures=figures,
        formulas=formulas(figures, period_days),
        thresholds=limits,
        level=level or ("none" if figures.dso is None else "ok"),
    )


def _aging_chart(row: Row) -> BarChart:
    bars = [
        (name, label, amount)
        for name, label, amount in zip(
            BUCKETS, BUCKET_LABELS, row.figures.aging.amounts, strict=True
        )
    ]
    return bar_chart(
        bars,
        title=f"Aging of {row.name}: open amounts by days past due",
        description="; ".join(f"{label}: {amount:,}" for _, label, amount in bars)
        + f"; total AR {row.figures.ar:,}",
    )


async def _report(request: web.Request, query: Query) -> DsoReport:
    """Every partner's figures on the query's date, computed from the store now."""
    store = request.config_dict[CONTEXT].store
    ledger = await load_ledger_from_store(store, until=query.as_of)
    return await asyncio.to_thread(compute, ledger, query.as_of, query.period_days)


async def _report_and_trend(
    request: web.Request, query: Query, partner_id: str
) -> tuple[DsoReport, Trend]:
    """One partner's (``*``: everyone's) figures on the query's date and at 12 month-ends."""
    store = request.config_dict[CONTEXT].store
    scope = None if partner_id == PORTFOLIO else partner_id
    ledger = await load_ledger_from_store(store, until=query.as_of, partner_id=scope)
    report = await asyncio.to_thread(compute, ledger, query.as_of, query.period_days)
    months = await asyncio.to_thread(trend, ledger, query.as_of, 12, period_days=query.period_days)
    return report, months


async def overview(request: web.Request) -> web.StreamResponse:
    """``GET /ui/dso``: the portfolio and every partner on one as-of date."""
    require_browser_role(request, DSO_ROLES)
    ctx = request.config_dict[CONTEXT]
    form = {name: request.query.get(name, "") for name in ("as_of", "period")}
    try:
        query = Query.of(request)
    except UsageError as exc:
        failed = {"form": form, "error": str(exc), "query": None}
        return render(request, "dso.html", failed, status=400)
    report = await _report(request, query)
    rows = [
        make_row(ctx.partners, pid, figures, query.period_days)
        for pid, figures in report.partners.items()
        if pid != PORTFOLIO
    ]
    portfolio = make_row(ctx.partners, PORTFOLIO, report.portfolio, query.period_days)
    latest = await ctx.store.dso_snapshots(
        period_days=query.period_days, partner_id=PORTFOLIO, limit=1
    )
    values: dict[str, object] = {
        "form": {"as_of": query.as_of.isoformat(), "period": str(query.period_days)},
        "error": None,
        "query": query,
        "rows": rows,
        "portfolio": portfolio,
        "aging": _aging_chart(portfolio),
        "idle": sorted(p.id for p in ctx.partners.all() if p.id not in report.partners),
        "latest": latest[0] if latest else None,
    }
    return render(request, "dso.html", values)


def _trend_chart(
    name: str, monthly: list[tuple[dt.date, PartnerFigures | None]], limits: DsoThresholds | None
) -> LineChart:
    ends = [end for end, _ in monthly]
    picked = [figures for _, figures in monthly]
    series = [
        ("dso", "DSO", [f.dso if f else None for f in picked]),
        ("bpdso", "BPDSO", [f.best_possible_dso if f else None for f in picked]),
        ("add", "ADD", [f.add if f else None for f in picked]),
    ]
    rules = []
    if limits is not None:
        rules = [("warn", "warn", limits.warn_days), ("alert", "alert", limits.alert_days)]
    return line_chart(
        ends,
        series,
        title=f"DSO, BPDSO and ADD of {name} at each month-end, in days",
        description=(
            f"{len(ends)} month-ends from {ends[0].isoformat()} to {ends[-1].isoformat()}; "
            "the same numbers are in the table below the chart."
        ),
        rules=rules,
    )


def _monthly(months: Trend, partner_id: str) -> list[tuple[dt.date, PartnerFigures | None]]:
    """Each month-end with the partner's figures (None before its first invoice)."""
    by_month = dict(months.series(partner_id))
    return [(end, by_month.get(end)) for end in months.month_ends]


async def partner_page(request: web.Request) -> web.StreamResponse:
    """``GET /ui/dso/{partner}``: one partner's trend, aging, formulas and snapshots."""
    require_browser_role(request, DSO_ROLES)
    ctx = request.config_dict[CONTEXT]
    partner_id = request.match_info["partner"]
    try:
        query = Query.of(request)
    except UsageError as exc:
        raise web.HTTPBadRequest(text=str(exc)) from None
    report, months = await _report_and_trend(request, query, partner_id)
    figures = report.partners.get(partner_id)
    if figures is None and partner_id not in ctx.partners:
        raise web.HTTPNotFound(text=f"There is no partner {partner_id!r} with invoices.")
    row = make_row(ctx.partners, partner_id, figures, query.period_days) if figures else None
    name = _name(ctx.partners, partner_id)
    monthly = _monthly(months, partner_id)
    snapshots = await ctx.store.dso_snapshots(
        period_days=query.period_days, partner_id=partner_id, limit=HISTORY
    )
    history = []
    for snap in snapshots:
        try:
            history.append((snap, figures_from_json(snap.figures)))
        except DsoSnapshotError:
            continue  # a row this version cannot read: the others still show
    values = {
        "form": {"as_of": query.as_of.isoformat(), "period": str(query.period_days)},
        "query": query,
        "partner_id": partner_id,
        "name": name,
        "row": row,
        "thresholds": _thresholds(ctx.partners, partner_id),
        "chart": _trend_chart(name, monthly, _thresholds(ctx.partners, partner_id)),
        "months": monthly,
        "aging": _aging_chart(row) if row is not None else None,
        "history": history,
    }
    return render(request, "dso_partner.html", values)


def _cell(value: object) -> str:
    text = "" if value is None else str(value)
    return "'" + text if _UNSAFE_CELL.match(text) and not _is_number(text) else text


def _is_number(text: str) -> bool:
    return re.fullmatch(r"-?[0-9]+(\.[0-9]+)?", text) is not None


def csv_row(row: Row, as_of: dt.date, period_days: int) -> list[str]:
    """One CSV line of :data:`CSV_COLUMNS`: plain decimals, empty for a missing figure."""
    f, limits = row.figures, row.thresholds
    values: list[object] = [
        row.partner_id, as_of.isoformat(), period_days, f.ar, f.sales, f.dso,
        f.best_possible_dso, f.add, f.countback_dso, *f.aging.amounts, f.average_days_to_pay,
        limits.warn_days if limits else None, limits.alert_days if limits else None,
        row.level if limits else None,
    ]  # fmt: skip
    return [_cell(v) for v in values]


async def export_csv(request: web.Request) -> web.StreamResponse:
    """``GET /ui/dso.csv``: figures per partner, or one partner's trend (``?partner=``)."""
    require_browser_role(request, DSO_ROLES)
    ctx = request.config_dict[CONTEXT]
    try:
        query = Query.of(request)
    except UsageError as exc:
        raise web.HTTPBadRequest(text=str(exc)) from None
    partner_id = request.query.get("partner", "").strip()
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    if not partner_id:
        report = await _report(request, query)
        for pid, figures in report.partners.items():
            row = make_row(ctx.partners, pid, figures, query.period_days)
            writer.writerow(csv_row(row, query.as_of, query.period_days))
        name = f"dso-{query.as_of.isoformat()}.csv"
    else:
        _, months = await _report_and_trend(request, query, partner_id)
        series = months.series(partner_id)
        if not series and partner_id not in ctx.partners:
            raise web.HTTPNotFound(text=f"There is no partner {partner_id!r} with invoices.")
        for end, figures in series:
            row = make_row(ctx.partners, partner_id, figures, query.period_days)
            writer.writerow(csv_row(row, end, query.period_days))
        safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", "all" if partner_id == PORTFOLIO else partner_id)
        name = f"dso-trend-{safe}-{query.as_of.isoformat()}.csv"
    return web.Response(
        text=out.getvalue(),
        content_type="text/csv",
        charset="utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


def add_routes(router: web.UrlDispatcher) -> None:
    """Add the DSO pages (paths relative to ``/ui``)."""
    router.add_get("/dso", overview)
    router.add_get("/dso.csv", export_csv)
    router.add_get("/dso/{partner}", partner_page)


SECTION = Section(
    title="DSO",
    path="/ui/dso",
    roles=DSO_ROLES,
    add_routes=add_routes,
    accesskey="y",
)
