"""Fixtures for the browser UI: the real app over the real store, users of each role.

The context is the one ``tests/web`` uses (its receiver only stores); the UI needs
nothing more. ``signed_in`` logs a test client in through the real sign-in form.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pytest
import pytest_asyncio
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from gateway.partners import PartnerRegistry
from gateway.settings import Settings
from gateway.storage import Controls, State
from gateway.web.app import create_app
from tests.support.browser import artifacts, chromium  # noqa: F401
from tests.web.conftest import PARTNERS_DIR, ROOT, X12_850, make_context

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from pathlib import Path

    from aiohttp import ClientResponse

    from gateway.ports import GatewayContext
    from gateway.storage import DocumentRecord, Store

PASSWORD = "correct horse battery staple"
_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')

Client = TestClient[web.Request, web.Application]


@dataclass(frozen=True)
class Users:
    """One user name per role (all with :data:`PASSWORD`)."""

    admin: str = "alice"
    operator: str = "oscar"
    viewer: str = "vera"
    clerk: str = "carl"


@pytest.fixture(scope="session")
def partners() -> PartnerRegistry:
    return PartnerRegistry.load(PARTNERS_DIR)


@pytest.fixture
def settings(tmp_path: Path, data_dir: Path) -> Settings:
    return Settings(
        data_dir=data_dir,
        partners_dir=PARTNERS_DIR,
        mappings_dir=ROOT / "mappings",
        secrets_dir=tmp_path / "secrets",
    )


@pytest.fixture
def ctx(store: Store, settings: Settings, partners: PartnerRegistry) -> GatewayContext:
    return make_context(store, settings, partners)


@pytest_asyncio.fixture
async def users(store: Store) -> Users:
    names = Users()
    await store.create_user(names.admin, PASSWORD, "admin")
    await store.create_user(names.operator, PASSWORD, "operator")
    await store.create_user(names.viewer, PASSWORD, "viewer")
    await store.create_user(names.clerk, PASSWORD, "ar")
    return names


@pytest_asyncio.fixture
async def client(ctx: GatewayContext) -> AsyncIterator[Client]:
    opened: Client = TestClient(TestServer(create_app(ctx)))
    await opened.start_server()
    try:
        yield opened
    finally:
        await opened.close()


async def file_with_children(store: Store) -> tuple[DocumentRecord, DocumentRecord]:
    """A received file acknowledged, with one 850 set and the 999 that answers it."""
    controls = Controls("NORTHWINDDIST", "O2CGATEWAY", "000000905", "905", "0001")
    doc = await store.receive(
        X12_850,
        partner_id="northwind",
        channel="sftp_hosted",
        filename="nw-850.x12",
        controls=controls,
    )
    child = await store.receive(
        b"ST*850*0001~",
        partner_id="northwind",
        channel="sftp_hosted",
        doc_type="850",
        parent_id=doc.id,
        controls=controls,
        business_key="PO-4711",
        state=State.ACKNOWLEDGED,
    )
    await store.receive(
        b"ISA*999~",
        partner_id="northwind",
        channel="sftp_hosted",
        doc_type="999",
        direction="out",
        state=State.QUEUED,
        parent_id=doc.id,
    )
    async with store.unit() as unit:
        await unit.set_state(doc.id, State.ACKNOWLEDGED, "acknowledged with a 999")
    return doc, child


def csrf_token(html: str) -> str:
    """The CSRF token of the first form on a page."""
    found = _TOKEN.search(html)
    assert found is not None, "the page has no form with a CSRF token"
    return found.group(1)


async def sign_in(
    client: Client, username: str, password: str = PASSWORD, *, next_page: str = ""
) -> ClientResponse:
    """Fill the real sign-in form (its CSRF token included); the answer is not followed."""
    page = await client.get("/ui/login")
    assert page.status == 200
    form = {
        "csrf_token": csrf_token((await page.text()).split('action="/ui/login"')[1]),
        "username": username,
        "password": password,
        "next": next_page,
    }
    return await client.post("/ui/login", data=form, allow_redirects=False)


@pytest_asyncio.fixture
async def signed_in(client: Client, users: Users) -> Client:
    """The client, signed in as the admin."""
    resp = await sign_in(client, users.admin)
    assert resp.status == 303
    return client
