"""The AR review queue in real headless Chromium (Debian's, driven by Playwright).

The queue is seeded through the real pipeline (``tests/ui/ar_seed.py``); screenshots of
the key pages are saved as test artifacts (the folder is printed).
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import TYPE_CHECKING

from playwright.async_api import expect

from gateway.web.app import create_app
from tests.support.browser import console_errors, live_server
from tests.ui.ar_seed import PARTNER, add_invoice, remit
from tests.ui.conftest import PASSWORD, Users

if TYPE_CHECKING:
    from playwright.async_api import BrowserContext, Page

    from gateway.ports import GatewayContext
    from gateway.storage import Store
    from tests.support.browser import Artifacts


async def _sign_in(page: Page, base: str, username: str, next_page: str = "/ui/ar") -> None:
    await page.goto(f"{base}{next_page}")
    await expect(page).to_have_url(re.compile(r"/ui/login\?next="))
    await page.get_by_label("User name").fill(username)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page).to_have_url(f"{base}{next_page}")


async def _seed(ctx: GatewayContext) -> None:
    """BB-1001 (740.50) is paid under a reference the engine cannot place; BB-3003 short."""
    await add_invoice(ctx, "BB-1001", "740.50")
    await add_invoice(ctx, "BB-2002", "99.00")
    await add_invoice(ctx, "BB-3003", "520.00")
    await remit(ctx, [("REMIT 77821", "740.50")], trace="ACH-0001", days_ago=9)
    await remit(ctx, [("BB-3003", "500.00")], trace="ACH-0002", days_ago=2)


async def _invoice(store: Store, number: str) -> tuple[str, Decimal]:
    item = await store.open_item(PARTNER, number)
    assert item is not None
    return item.status, item.open_amount


async def test_clerk_applies_a_payment_and_the_line_leaves_the_queue(
    ctx: GatewayContext,
    store: Store,
    users: Users,
    chromium: BrowserContext,
    artifacts: Artifacts,
) -> None:
    await _seed(ctx)
    async with live_server(create_app(ctx)) as base:
        page = await chromium.new_page()
        errors = console_errors(page)
        await _sign_in(page, base, users.clerk)
        nav = page.get_by_role("navigation", name="Main")
        await expect(nav.get_by_role("link", name="AR queue")).to_have_attribute(
            "aria-current", "page"
        )
        rows = page.locator("#queue tbody tr")
        await expect(rows).to_have_count(2)
        await expect(rows.first).to_contain_text("ACH-0001")  # oldest first
        await expect(rows.first).to_contain_text("unmatched")
        await expect(rows.nth(1)).to_contain_text("20.00")
        await artifacts.screenshot(page, "queue")

        await page.get_by_role("link", name="REMIT 77821").click()
        await expect(page.get_by_role("heading", level=1)).to_contain_text("REMIT 77821")
        await expect(page.locator("#line-unplaced")).to_have_text("740.50")
        candidates = page.locator("#candidates tbody tr")
        await expect(candidates.first).to_contain_text("BB-1001")
        amount = page.get_by_label("Amount to apply to invoice BB-1001")
        await expect(amount).to_have_value("740.50")
        await expect(page.get_by_label("Amount to apply to invoice BB-2002")).to_have_value("")
        await artifacts.screenshot(page, "line")

        await page.get_by_role("button", name="Apply payment").click()
        await expect(page).to_have_url(f"{base}/ui/ar")
        await expect(page.get_by_role("status")).to_contain_text(
            "Applied 740.50 to invoice BB-1001."
        )
        await expect(page.get_by_role("status")).to_contain_text("has left the queue")
        await expect(rows).to_have_count(1)
        await expect(page.locator("#queue")).not_to_contain_text("REMIT 77821")
        await artifacts.screenshot(page, "after-apply")
        assert errors == []
    assert await _invoice(store, "BB-1001") == ("closed", Decimal("0.00"))
    assert len(artifacts.saved) == 3 and all(p.stat().st_size > 1000 for p in artifacts.saved)


async def test_reversal_brings_the_line_back_by_keyboard(
    ctx: GatewayContext,
    store: Store,
    users: Users,
    chromium: BrowserContext,
    artifacts: Artifacts,
) -> None:
    await _seed(ctx)
    async with live_server(create_app(ctx)) as base:
        page = await chromium.new_page()
        errors = console_errors(page)
        await _sign_in(page, base, users.clerk)
        await page.get_by_role("link", name="REMIT 77821").focus()
        await page.keyboard.press("Enter")
        await expect(page.get_by_role("heading", level=1)).to_contain_text("REMIT 77821")
        line_url = page.url
        # "/" jumps to the best candidate's amount (ui.js); Enter submits the apply form.
        await page.keyboard.press("/")
        amount = page.get_by_label("Amount to apply to invoice BB-1001")
        await expect(amount).to_be_focused()
        await amount.fill("700")
        await page.keyboard.press("Enter")
        await expect(page.get_by_role("status")).to_contain_text("Applied 700.00 to invoice")
        await expect(page.locator("#line-unplaced")).to_have_text("40.50")  # still queued
        assert await _invoice(store, "BB-1001") == ("open", Decimal("40.50"))

        reverse = page.get_by_role("button", name=re.compile(r"^Reverse application #\d+$"))
        await expect(reverse).to_have_count(1)
        await reverse.focus()
        await page.keyboard.press("Enter")
        await expect(page).to_have_url(line_url)
        await expect(page.get_by_role("status")).to_contain_text("is reversed.")
        await expect(page.locator("#line-unplaced")).to_have_text("740.50")
        await expect(page.locator("#applications")).to_contain_text("reversed by carl")
        await artifacts.screenshot(page, "reversed")

        # Applied in full, then reversed: the line leaves the queue and comes back.
        await page.get_by_role("button", name="Apply payment").click()
        await expect(page).to_have_url(f"{base}/ui/ar")
        await expect(page.locator("#queue")).not_to_contain_text("REMIT 77821")
        assert await _invoice(store, "BB-1001") == ("closed", Decimal("0.00"))
        await page.goto(line_url)
        await page.get_by_role("button", name=re.compile(r"^Reverse application #")).click()
        await expect(page.locator("#line-review")).to_have_text("open")
        await page.get_by_role("link", name="Back to the queue").click()
        await expect(page.locator("#queue")).to_contain_text("REMIT 77821")
        await artifacts.screenshot(page, "back-in-queue")
        assert errors == []
    assert await _invoice(store, "BB-1001") == ("open", Decimal("740.50"))


async def test_an_invalid_amount_shows_a_notice(
    ctx: GatewayContext,
    store: Store,
    users: Users,
    chromium: BrowserContext,
    artifacts: Artifacts,
) -> None:
    await _seed(ctx)
    async with live_server(create_app(ctx)) as base:
        page = await chromium.new_page()
        await _sign_in(page, base, users.clerk)
        await page.get_by_role("link", name="BB-3003").click()
        await page.get_by_label("Deduction amount").fill("twenty")
        await page.get_by_role("button", name="Record deduction").click()
        await expect(page.get_by_role("status")).to_have_text(
            "No deduction recorded: deduction amount: expected an amount like 120.50, got 'twenty'"
        )
        await expect(page.locator("#line-review")).to_have_text("open")
        await artifacts.screenshot(page, "invalid-amount")

        await page.get_by_label("Deduction amount").fill("20.00")
        await page.get_by_label("Reason code (X12 adjustment reason)").select_option("54")
        await page.get_by_role("button", name="Record deduction").click()
        await expect(page).to_have_url(f"{base}/ui/ar")
        await expect(page.get_by_role("status")).to_contain_text(
            "Recorded a deduction of 20.00 (reason 54)."
        )
    assert await _invoice(store, "BB-3003") == ("closed", Decimal("0.00"))


async def test_viewer_and_operator_are_refused_and_a_forged_post_is_too(
    ctx: GatewayContext,
    store: Store,
    users: Users,
    chromium: BrowserContext,
    artifacts: Artifacts,
) -> None:
    await _seed(ctx)
    async with live_server(create_app(ctx)) as base:
        for user in (users.viewer, users.operator):
            page = await chromium.new_page()
            await _sign_in(page, base, user, next_page="/ui/")
            nav = page.get_by_role("navigation", name="Main")
            await expect(nav.get_by_role("link", name="AR queue")).to_have_count(0)
            response = await page.goto(f"{base}/ui/ar")
            assert response is not None and response.status == 403
            await expect(page.get_by_role("alert")).to_contain_text(
                "may not open this page; it needs one of admin, ar"
            )
            await artifacts.screenshot(page, f"{user}-refused")
            await page.get_by_role("button", name="Sign out").click()
            # closing a tab mid-navigation can leave Chromium unable to open the next one
            await expect(page).to_have_url(f"{base}/ui/login")
            await page.close()

        page = await chromium.new_page()
        await _sign_in(page, base, users.clerk)
        await page.get_by_role("link", name="REMIT 77821").click()
        line_url = page.url
        # The clerk's own session, but no token: what a forged cross-site form sends.
        answer = await page.request.post(
            f"{line_url}/apply", form={"amount-1": "740.50"}, max_redirects=0
        )
        assert answer.status == 403
        assert "security token is missing" in await answer.text()
    assert await _invoice(store, "BB-1001") == ("open", Decimal("740.50"))
