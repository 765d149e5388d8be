"""Two web processes on one database share browser sessions and sign-in throttling.

Each "process" is its own app over its own :class:`Store` on the shared database, signing
with the same ``UI_SESSION_KEY``: a person signed in on one is signed in on the other,
a notice set on one shows on the other, and signing out on one ends the session on both.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp.test_utils import TestClient, TestServer

from gateway.storage import Store
from gateway.web.app import create_app
from gateway.web.ui.sessions import SESSION_COOKIE, SessionPolicy
from tests.ui.conftest import csrf_token, sign_in
from tests.web.conftest import make_context

if TYPE_CHECKING:
    from pathlib import Path

    import pytest

    from gateway.partners import PartnerRegistry
    from gateway.settings import Settings
    from tests.ui.conftest import Client, Users


async def test_a_session_is_served_by_every_process(
    store: Store,
    database_url: str,
    data_dir: Path,
    settings: Settings,
    partners: PartnerRegistry,
    users: Users,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("O2C_SECRET_UI_SESSION_KEY", "one key for every web process")
    other_store = await Store.open(database_url, data_dir=data_dir)
    first: Client = TestClient(TestServer(create_app(make_context(store, settings, partners))))
    second: Client = TestClient(
        TestServer(create_app(make_context(other_store, settings, partners)))
    )
    await first.start_server()
    await second.start_server()
    try:
        resp = await sign_in(first, users.admin)
        assert resp.status == 303
        cookie = resp.cookies[SESSION_COOKIE].value
        second.session.cookie_jar.update_cookies({SESSION_COOKIE: cookie})
        page = await second.get("/ui/documents", allow_redirects=False)
        assert page.status == 200  # signed in there too
        assert "Signed in as <strong>alice</strong>" in await page.text()

        # a notice set on the first process (a reprocess, then 303) shows on the second
        doc = await store.receive(b"ISA*...", partner_id="northwind", channel="sftp_hosted")
        token = csrf_token(await (await first.get(f"/ui/documents/{doc.id}")).text())
        done = await first.post(
            f"/ui/documents/{doc.id}/reprocess", data={"csrf_token": token}, allow_redirects=False
        )
        assert done.status == 303
        shown = await (await second.get("/ui/documents")).text()
        assert f"Document {doc.id} is back in the pipeline" in shown
        again = await (await first.get("/ui/documents")).text()
        assert f"Document {doc.id} is back in the pipeline" not in again  # shown once

        # the CSRF token is the session's, whichever process checks it
        token = csrf_token(await (await second.get("/ui/")).text())
        out = await second.post("/ui/logout", data={"csrf_token": token}, allow_redirects=False)
        assert out.status == 303
        assert await store.count_sessions() == 0
        gone = await first.get("/ui/documents", allow_redirects=False)
        assert gone.status == 303 and gone.headers["Location"].startswith("/ui/login")
    finally:
        await first.close()
        await second.close()
        await other_store.close()


async def test_failed_sign_ins_count_on_every_process(
    store: Store,
    database_url: str,
    data_dir: Path,
    settings: Settings,
    partners: PartnerRegistry,
    users: Users,
) -> None:
    """A guesser spreading attempts over two processes meets one limit, not two."""
    limit = SessionPolicy().user_failures
    other_store = await Store.open(database_url, data_dir=data_dir)
    first: Client = TestClient(TestServer(create_app(make_context(store, settings, partners))))
    second: Client = TestClient(
        TestServer(create_app(make_context(other_store, settings, partners)))
    )
    await first.start_server()
    await second.start_server()
    try:
        for n in range(limit):
            client = first if n % 2 else second
            assert (await sign_in(client, users.admin, "guess")).status == 401
        for client in (first, second):
            resp = await sign_in(client, users.admin)  # the right password, too late
            assert resp.status == 429
            assert "Too many failed sign-ins" in await resp.text()
        assert (await sign_in(first, users.viewer)).status == 303  # others may still sign in
    finally:
        await first.close()
        await second.close()
        await other_store.close()
