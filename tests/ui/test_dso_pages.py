"""The DSO dashboard pages: figures with formulas, the SVG chart, CSV exports, roles."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from gateway.dso.service import take_snapshot
from tests.dso.seed import AS_OF, seed_ledger
from tests.ui.conftest import Client, Users, sign_in

if TYPE_CHECKING:
    from gateway.ports import GatewayContext
    from gateway.storage import Store

Q = "as_of=2026-03-31&period=90"
HEADER = (
    "partner_id,as_of,period_days,ar,sales,dso,best_possible_dso,add,countback_dso,"
    "current,1_30,31_60,61_90,over_90,average_days_to_pay,warn_days,alert_days,level"
)


def _ends_before_november() -> list[str]:
    return [
        "2025-04-30", "2025-05-31", "2025-06-30", "2025-07-31", "2025-08-31", "2025-09-30",
        "2025-10-31",
    ]  # fmt: skip


def _row_of(html: str, partner: str) -> str:
    return html.split(f'<tr data-partner="{partner}">')[1].split("</tr>")[0]


async def test_roles_that_read_the_dashboard(client: Client, users: Users, store: Store) -> None:
    await seed_ledger(store)
    for name in (users.admin, users.operator, users.viewer, users.clerk):
        await sign_in(client, name)
        for path in (f"/ui/dso?{Q}", f"/ui/dso/northwind?{Q}", f"/ui/dso.csv?{Q}"):
            resp = await client.get(path)
            assert resp.status == 200, (name, path)
        home = await (await client.get("/ui/")).text()
        assert 'href="/ui/dso" accesskey="y"' in home, name
    # Partners have API keys, not users; signed out, every page sends to the sign-in form.
    client.session.cookie_jar.clear()
    for path in ("/ui/dso", "/ui/dso/northwind", "/ui/dso.csv"):
        resp = await client.get(path, allow_redirects=False)
        assert resp.status == 303, path
        assert resp.headers["Location"].startswith("/ui/login?next="), path


async def test_overview_shows_every_partner_with_formulas(
    client: Client, users: Users, store: Store
) -> None:
    await seed_ledger(store)
    await sign_in(client, users.clerk)
    html = await (await client.get(f"/ui/dso?{Q}")).text()
    northwind = _row_of(html, "northwind")
    assert '<a href="/ui/dso/northwind?as_of=2026-03-31&amp;period=90">' in northwind
    assert '<td class="num">5,000.00</td>' in northwind
    assert (
        '<td class="num">75.00<span class="formula">'
        "DSO = AR 5,000.00 / sales 6,000.00 × 90 = 75.00</span></td>"
    ) in northwind
    assert "BPDSO = current AR 3,000.00 / sales 6,000.00 × 90 = 45.00" in northwind
    assert "ADD = DSO 75.00 − BPDSO 45.00 = 30.00" in northwind
    assert "<td>50 / 65</td>" in northwind
    assert '<span class="level level-alert">alert</span>' in northwind
    assert "DSO = AR 1,200.00 / sales 1,200.00 × 90 = 90.00" in _row_of(html, "bigbox")
    # The portfolio, its aging bars (SVG, accessible), and who has no invoices.
    portfolio = html.split('class="portfolio"')[1].split("</section>")[0]
    assert "DSO = AR 6,200.00 / sales 7,200.00 × 90 = 77.50" in portfolio
    assert '<span class="value" data-figure="adp">60.56</span>' in portfolio
    assert '<svg class="bar-chart"' in portfolio and 'role="img"' in portfolio
    assert "Over 90 days: 500.00; total AR 6,200.00" in portfolio
    assert 'href="/ui/dso/%2A?as_of=2026-03-31&amp;period=90"' in portfolio
    assert "Partners with no invoices up to 2026-03-31: acme-procure, globex, initech." in html
    assert "No daily snapshot has been taken yet." in html
    assert 'href="/ui/dso.csv?as_of=2026-03-31&amp;period=90" download' in html


async def test_overview_as_of_period_and_bad_input(
    client: Client, users: Users, store: Store, ctx: GatewayContext
) -> None:
    await seed_ledger(store)
    await take_snapshot(store, ctx.partners, AS_OF)
    await sign_in(client, users.viewer)
    html = await (await client.get("/ui/dso?as_of=2026-02-28&period=30")).text()
    assert 'value="2026-02-28"' in html and 'value="30"' in html
    # Feb: sales N2 2000 in the 30 days; AR 2500.
    assert "DSO = AR 2,500.00 / sales 2,000.00 × 30 = 37.50" in _row_of(html, "northwind")
    assert "No daily snapshot has been taken yet." in html  # none over 30 days
    html = await (await client.get(f"/ui/dso?{Q}")).text()
    assert re.search(r"Last daily snapshot: as of 2026-03-31, taken \d{4}-\d\d-\d\d ", html)
    for query, message in [
        ("as_of=yesterday", "as of: expected a date YYYY-MM-DD, found &#39;yesterday&#39;"),
        ("period=0", "period: expected 1 to 3660 days, found &#39;0&#39;"),
    ]:
        resp = await client.get(f"/ui/dso?{query}")
        assert resp.status == 400
        assert message in await resp.text()
    assert (await client.get("/ui/dso.csv?period=x")).status == 400
    assert (await client.get("/ui/dso/northwind?as_of=2026-02-30")).status == 400


async def test_partner_page_has_the_trend_chart_and_its_table(
    client: Client, users: Users, store: Store, ctx: GatewayContext
) -> None:
    await seed_ledger(store)
    await take_snapshot(store, ctx.partners, AS_OF)
    await sign_in(client, users.operator)
    html = await (await client.get(f"/ui/dso/northwind?{Q}")).text()
    assert "<h1>DSO of Northwind Distribution LLC <small>(northwind)</small></h1>" in html
    assert "Thresholds: warn above 50 days, alert above 65 days." in html
    assert '<span class="value" data-figure="dso">75.00</span>' in html
    assert "DSO = AR 5,000.00 / sales 6,000.00 × 90 = 75.00" in html
    svg = html.split('<svg class="line-chart"')[1].split("</svg>")[0]
    assert '<title id="trend-title">DSO, BPDSO and ADD of Northwind Distribution LLC' in svg
    assert "12 month-ends from 2025-04-30 to 2026-03-31" in svg
    for key in ("dso", "bpdso", "add"):
        assert svg.count(f'<g class="series series-{key}"') == 2  # the line and its legend
    assert re.findall(r">([A-Z][a-z]{2})</text>", svg) == [
        "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec", "Jan", "Feb", "Mar",
    ]  # fmt: skip
    assert "<title>Mar 2026: DSO 75.00 days</title>" in svg
    assert "<title>Feb 2026: BPDSO 60.00 days</title>" in svg
    assert '<g class="rule rule-alert">' in svg and ">alert 65</text>" in svg
    table = html.split('class="data trend-table"')[1].split("</table>")[0]
    assert table.count("<tr>") == 13  # the heading and 12 month-ends
    assert '<th scope="row">2026-01-31</th>' in table and "135.00" in table
    october = table.split('<th scope="row">2025-10-31</th>')[1].split("</tr>")[0]
    assert october.count('<td class="num">–</td>') == 3  # no sales: no figures
    assert 'href="/ui/dso.csv?partner=northwind&amp;as_of=2026-03-31&amp;period=90"' in html
    history = html.split('class="data snapshots"')[1].split("</table>")[0]
    assert '<th scope="row">2026-03-31</th>' in history and "75.00" in history
    # The portfolio has its own page; an unknown partner has none.
    portfolio = await (await client.get(f"/ui/dso/%2A?{Q}")).text()
    assert "<h1>DSO of All partners <small>(*)</small></h1>" in portfolio
    assert "<title>Mar 2026: DSO 77.50 days</title>" in portfolio
    idle = await client.get(f"/ui/dso/globex?{Q}")
    assert idle.status == 200
    idle_html = await idle.text()
    assert "No invoices of this partner up to 2026-03-31." in idle_html
    assert idle_html.count('<td colspan="5">no invoices yet</td>') == 12
    assert (await client.get(f"/ui/dso/nobody?{Q}")).status == 404


async def test_csv_exports_are_exact(client: Client, users: Users, store: Store) -> None:
    await seed_ledger(store)
    await sign_in(client, users.clerk)
    resp = await client.get(f"/ui/dso.csv?{Q}")
    assert resp.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert resp.headers["Content-Disposition"] == 'attachment; filename="dso-2026-03-31.csv"'
    assert await resp.text() == (
        f"{HEADER}\r\n"
        "bigbox,2026-03-31,90,1200.00,1200.00,90.00,90.00,0.00,31.00,"
        "1200.00,0.00,0.00,0.00,0.00,85.00,35,45,alert\r\n"
        "northwind,2026-03-31,90,5000.00,6000.00,75.00,45.00,30.00,59.00,"
        "3000.00,1500.00,0.00,0.00,500.00,41.00,50,65,alert\r\n"
        "*,2026-03-31,90,6200.00,7200.00,77.50,52.50,25.00,59.00,"
        "4200.00,1500.00,0.00,0.00,500.00,60.56,,,\r\n"
    )
    trend = await client.get(f"/ui/dso.csv?partner=northwind&{Q}")
    assert trend.headers["Content-Disposition"] == (
        'attachment; filename="dso-trend-northwind-2026-03-31.csv"'
    )
    lines = (await trend.text()).split("\r\n")
    assert lines[0] == HEADER and lines[-1] == ""
    empty = "0.00,0.00,,,,,0.00,0.00,0.00,0.00,0.00,,50,65,none"
    assert lines[1:-1] == [
        *(f"northwind,{end},90,{empty}" for end in _ends_before_november()),
        "northwind,2025-11-30,90,500.00,500.00,90.00,90.00,0.00,30.00,"
        "500.00,0.00,0.00,0.00,0.00,,50,65,alert",
        "northwind,2025-12-31,90,500.00,500.00,90.00,0.00,90.00,61.00,"
        "0.00,500.00,0.00,0.00,0.00,,50,65,alert",
        "northwind,2026-01-31,90,1500.00,1000.00,135.00,90.00,45.00,92.00,"
        "1000.00,0.00,0.00,500.00,0.00,,50,65,alert",
        "northwind,2026-02-28,90,2500.00,3000.00,75.00,60.00,15.00,43.50,"
        "2000.00,0.00,0.00,500.00,0.00,41.00,50,65,alert",
        "northwind,2026-03-31,90,5000.00,6000.00,75.00,45.00,30.00,59.00,"
        "3000.00,1500.00,0.00,0.00,500.00,41.00,50,65,alert",
    ]
    everyone = await client.get(f"/ui/dso.csv?partner=%2A&{Q}")
    assert 'filename="dso-trend-all-2026-03-31.csv"' in everyone.headers["Content-Disposition"]
    assert (await everyone.text()).split("\r\n")[-2].startswith("*,2026-03-31,90,6200.00,")
    assert (await client.get(f"/ui/dso.csv?partner=nobody&{Q}")).status == 404


async def test_dso_pages_have_no_inline_script_or_style(signed_in: Client, store: Store) -> None:
    await seed_ledger(store)
    for path in (f"/ui/dso?{Q}", f"/ui/dso/northwind?{Q}", f"/ui/dso/%2A?{Q}"):
        html = await (await signed_in.get(path)).text()
        assert re.findall(r"<script(?![^>]*\bsrc=)", html) == [], path
        assert " style=" not in html and "<style" not in html, path
        assert re.findall(r"<[^>]+\son[a-z]+\s*=", html) == [], path


async def test_the_default_period_is_the_settings(
    ctx: GatewayContext, store: Store, users: Users
) -> None:
    from aiohttp.test_utils import TestClient, TestServer

    from gateway.ports import GatewayContext as Context
    from gateway.web.app import create_app

    settings = ctx.settings.model_copy(update={"dso_period_days": 30})
    thirty = Context(settings=settings, store=store, partners=ctx.partners, receive=ctx.receive)
    client: Client = TestClient(TestServer(create_app(thirty)))
    await client.start_server()
    try:
        await sign_in(client, users.viewer)
        html = await (await client.get("/ui/dso?as_of=2026-02-28")).text()
        assert "sales over 30 days" in html and 'value="30"' in html
    finally:
        await client.close()
