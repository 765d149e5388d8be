"""The UI in real headless Chromium (Debian's, driven by Playwright) against a live server.

Screenshots of the key pages are saved as test artifacts (the folder is printed).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from playwright.async_api import expect

from gateway.web.app import create_app
from tests.support.browser import console_errors, live_server
from tests.ui.conftest import PASSWORD, Users, file_with_children

if TYPE_CHECKING:
    from playwright.async_api import BrowserContext, Page

    from gateway.ports import GatewayContext
    from gateway.storage import Store
    from tests.support.browser import Artifacts


async def _sign_in(page: Page, username: str) -> None:
    await page.get_by_label("User name").fill(username)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Sign in").click()


async def test_admin_searches_opens_a_timeline_and_reprocesses(
    ctx: GatewayContext,
    store: Store,
    users: Users,
    chromium: BrowserContext,
    artifacts: Artifacts,
) -> None:
    doc, child = await file_with_children(store)
    async with live_server(create_app(ctx)) as base:
        page = await chromium.new_page()
        errors = console_errors(page)
        await page.goto(f"{base}/ui/documents")
        await expect(page).to_have_url(re.compile(r"/ui/login\?next="))
        # Keyboard: the form starts at the user name; Tab goes on to the password.
        await expect(page.get_by_label("User name")).to_be_focused()
        await page.keyboard.press("Tab")
        await expect(page.get_by_label("Password")).to_be_focused()
        await artifacts.screenshot(page, "sign-in")
        await _sign_in(page, users.admin)
        await expect(page).to_have_url(f"{base}/ui/documents")
        await expect(page.locator("table.documents tbody tr")).to_have_count(3)
        # On a page, the first Tab reaches the skip link.
        await page.keyboard.press("Tab")
        await expect(page.get_by_role("link", name="Skip to content")).to_be_focused()

        # "/" jumps to the search form (ui.js, loaded under the CSP).
        await page.keyboard.press("/")
        await expect(page.get_by_label("Partner")).to_be_focused()
        await page.get_by_label("Partner").select_option("northwind")
        await page.get_by_label("Business key (PO, invoice)").fill("PO-4711")
        await page.get_by_role("button", name="Search").click()
        rows = page.locator("table.documents tbody tr")
        await expect(rows).to_have_count(1)
        await expect(rows.first).to_contain_text("PO-4711")
        await artifacts.screenshot(page, "search")

        await page.get_by_role("link", name=f"#{child.id}", exact=True).click()
        await page.get_by_role("link", name=f"Parent document #{doc.id}").click()
        await expect(page.get_by_role("heading", level=1)).to_contain_text(f"Document #{doc.id}")
        timeline = page.locator("#timeline tbody tr")
        await expect(timeline).to_have_count(2)
        await expect(page.locator("#document-state")).to_have_text("acknowledged")
        await artifacts.screenshot(page, "document-timeline")

        await page.get_by_role("button", name="Reprocess").click()
        await expect(page.get_by_role("status")).to_contain_text(
            f"Document {doc.id} is back in the pipeline as received."
        )
        await expect(timeline).to_have_count(4)
        await expect(page.locator("#timeline")).to_contain_text("reprocess requested by alice")
        await expect(page.locator("#document-state")).to_have_text("received")
        await artifacts.screenshot(page, "reprocessed")

        await page.get_by_role("link", name="Audit log").click()
        await expect(page.locator("table.data tbody tr").first).to_contain_text("reprocess")
        await artifacts.screenshot(page, "audit")
        await page.get_by_role("button", name="Sign out").click()
        await expect(page).to_have_url(f"{base}/ui/login")
        assert errors == []
    events = await store.events(doc.id)
    assert [e.kind for e in events][-2:] == ["reprocess", "state"]


async def test_an_ar_is_refused_the_admin_pages(
    ctx: GatewayContext,
    store: Store,
    users: Users,
    chromium: BrowserContext,
    artifacts: Artifacts,
) -> None:
    doc, _ = await file_with_children(store)
    async with live_server(create_app(ctx)) as base:
        page = await chromium.new_page()
        errors = console_errors(page)
        await page.goto(f"{base}/ui/login")
        await _sign_in(page, users.clerk)
        await expect(page).to_have_url(f"{base}/ui/")
        # The clerk's navigation: the AR queue and the DSO dashboard, no admin pages.
        nav = page.get_by_role("navigation", name="Main")
        await expect(nav.get_by_role("link")).to_have_count(2)
        await expect(nav.get_by_role("link", name="AR queue")).to_have_attribute("href", "/ui/ar")
        await expect(nav.get_by_role("link", name="Documents")).to_have_count(0)
        await expect(page.locator("main")).to_contain_text("Pages you can open")
        await artifacts.screenshot(page, "clerk-home")
        for path in ("/ui/documents", f"/ui/documents/{doc.id}", "/ui/partners", "/ui/audit"):
            response = await page.goto(f"{base}{path}")
            assert response is not None and response.status == 403, path
            await expect(page.get_by_role("alert")).to_contain_text(
                "your role (ar) may not open this page"
            )
        await artifacts.screenshot(page, "clerk-refused")
        # The refusals are the only console errors: the 403 answers themselves.
        assert all("403" in e for e in errors), errors
    assert len(artifacts.saved) == 2 and all(p.stat().st_size > 1000 for p in artifacts.saved)
