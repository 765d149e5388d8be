"""The DSO dashboard in real headless Chromium against a live server; screenshots saved.

Checks what only a browser shows: the CSS reaches the SVG (the lines are coloured, the
aging bars have their widths), nothing breaks the Content Security Policy, the keyboard
reaches the form, and the CSV link downloads a file.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from playwright.async_api import expect

from gateway.dso.service import take_snapshot
from gateway.web.app import create_app
from tests.dso.seed import AS_OF, seed_ledger
from tests.support.browser import console_errors, live_server
from tests.ui.conftest import PASSWORD, Users

if TYPE_CHECKING:
    from playwright.async_api import BrowserContext

    from gateway.ports import GatewayContext
    from gateway.storage import Store
    from tests.support.browser import Artifacts


async def test_clerk_reads_the_dashboard_trend_and_downloads_csv(
    ctx: GatewayContext,
    store: Store,
    users: Users,
    chromium: BrowserContext,
    artifacts: Artifacts,
) -> None:
    await seed_ledger(store)
    await take_snapshot(store, ctx.partners, AS_OF)
    async with live_server(create_app(ctx)) as base:
        page = await chromium.new_page()
        errors = console_errors(page)
        await page.goto(f"{base}/ui/dso?as_of=2026-03-31")
        await page.get_by_label("User name").fill(users.clerk)
        await page.get_by_label("Password").fill(PASSWORD)
        await page.get_by_role("button", name="Sign in").click()
        await expect(page).to_have_url(f"{base}/ui/dso?as_of=2026-03-31")
        await expect(page.get_by_role("heading", level=1)).to_have_text("Days sales outstanding")
        nav = page.get_by_role("navigation", name="Main").get_by_role("link", name="DSO")
        await expect(nav).to_have_attribute("aria-current", "page")
        northwind = page.locator('tr[data-partner="northwind"]')
        await expect(northwind).to_contain_text("DSO = AR 5,000.00 / sales 6,000.00 × 90 = 75.00")
        await expect(northwind.locator(".level")).to_have_text("alert")
        aging = page.get_by_role("img", name="Aging of All partners: open amounts by days past due")
        await expect(aging).to_be_visible()
        # The stylesheet reaches the SVG: the current bucket is green and has its width.
        current = aging.locator(".aging-current rect")
        assert await current.evaluate("e => getComputedStyle(e).fill") == "rgb(74, 194, 107)"
        box = await current.bounding_box()
        assert box is not None and box["width"] > 100
        await artifacts.screenshot(page, "dso-overview")

        # Another as-of date through the form (keyboard first: the date field takes focus).
        await page.get_by_label("As of", exact=True).focus()
        await page.get_by_label("As of", exact=True).fill("2026-02-28")
        await page.get_by_label("Sales period (days)").fill("30")
        await page.get_by_role("button", name="Show").click()
        await expect(page).to_have_url(f"{base}/ui/dso?as_of=2026-02-28&period=30")
        await expect(page.locator('tr[data-partner="northwind"]')).to_contain_text(
            "DSO = AR 2,500.00 / sales 2,000.00 × 30 = 37.50"
        )

        await page.goto(f"{base}/ui/dso?as_of=2026-03-31")
        async with page.expect_download() as download_info:
            await page.get_by_role("link", name="Download these figures (CSV)").click()
        download = await download_info.value
        assert download.suggested_filename == "dso-2026-03-31.csv"
        saved = await download.path()
        assert saved is not None
        lines = saved.read_text(encoding="utf-8").splitlines()
        assert lines[2].startswith("northwind,2026-03-31,90,5000.00,6000.00,75.00,")

        await page.get_by_role("link", name="Northwind Distribution LLC").click()
        await expect(page.get_by_role("heading", level=1)).to_contain_text(
            "DSO of Northwind Distribution LLC"
        )
        chart = page.get_by_role("img", name="DSO, BPDSO and ADD of Northwind Distribution LLC")
        await expect(chart).to_be_visible()
        box = await chart.bounding_box()
        assert box is not None and box["width"] > 600 and box["height"] > 250
        dso_line = chart.locator(".series-dso polyline").first
        assert await dso_line.evaluate("e => getComputedStyle(e).stroke") == "rgb(11, 92, 173)"
        bpdso = chart.locator(".series-bpdso polyline").first
        assert await bpdso.evaluate("e => getComputedStyle(e).strokeDasharray") == "7px, 4px"
        await expect(chart.locator(".legend text")).to_have_text(["DSO", "BPDSO", "ADD"])
        await expect(page.locator(".trend-table tbody tr")).to_have_count(12)
        await expect(page.locator('[data-figure="add"]')).to_have_text("30.00")
        await artifacts.screenshot(page, "dso-partner-trend")

        await page.goto(f"{base}/ui/dso/%2A?as_of=2026-03-31")
        await expect(page.get_by_role("heading", level=1)).to_contain_text("All partners")
        await artifacts.screenshot(page, "dso-portfolio-trend")
        assert errors == []
    assert len(artifacts.saved) == 3 and all(p.stat().st_size > 10_000 for p in artifacts.saved)
