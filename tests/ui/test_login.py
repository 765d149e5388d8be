"""Sign-in, sessions, CSRF and throttling of the browser UI, through the real app."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from yarl import URL

from gateway.web.auth import SESSIONS
from gateway.web.responses import CONTEXT
from gateway.web.ui.login import safe_next
from gateway.web.ui.mount import install_ui
from gateway.web.ui.sessions import LOGIN_COOKIE, SESSION_COOKIE, SessionPolicy, SessionStore
from tests.ui.conftest import PASSWORD, Client, Users, csrf_token, sign_in

if TYPE_CHECKING:
    from gateway.ports import GatewayContext
    from gateway.storage import Store


async def test_a_page_without_a_session_goes_to_the_sign_in_form(client: Client) -> None:
    resp = await client.get("/ui/documents?state=failed", allow_redirects=False)
    assert resp.status == 303
    location = URL(resp.headers["Location"])
    assert location.path == "/ui/login"
    assert location.query["next"] == "/ui/documents?state=failed"
    form = await client.get("/ui/login")
    html = await form.text()
    assert form.status == 200
    assert '<label for="username">User name</label>' in html
    assert '<label for="password">Password</label>' in html
    cookie = form.cookies[LOGIN_COOKIE]
    assert cookie["httponly"] and cookie["samesite"] == "Strict"


async def test_a_good_sign_in_starts_a_session(client: Client, users: Users, store: Store) -> None:
    resp = await sign_in(client, users.admin, next_page="/ui/partners")
    assert resp.status == 303
    assert resp.headers["Location"] == "/ui/partners"
    cookie = resp.cookies[SESSION_COOKIE]
    assert cookie["httponly"] is True
    assert cookie["samesite"] == "Strict"
    assert cookie["path"] == "/ui"
    assert not cookie["secure"]  # plain http in tests; https marks it Secure
    assert int(cookie["max-age"]) == int(SessionPolicy().lifetime)
    page = await client.get("/ui/partners")
    assert page.status == 200
    assert "Signed in as <strong>alice</strong> (admin)" in await page.text()
    entries = await store.audit_log()
    assert (entries[0]["actor"], entries[0]["action"]) == ("alice", "ui_login")


async def test_a_wrong_password_or_unknown_user_is_refused_alike(
    client: Client, users: Users, store: Store
) -> None:
    for name, password in [(users.admin, "wrong"), ("nobody", PASSWORD)]:
        resp = await sign_in(client, name, password)
        assert resp.status == 401
        assert SESSION_COOKIE not in resp.cookies
        assert "The user name or password is wrong." in await resp.text()
    assert await client.app[CONTEXT].store.count_sessions() == 0
    actions = [(e["actor"], e["action"]) for e in await store.audit_log()]
    assert actions[:2] == [("nobody", "ui_login_failed"), ("alice", "ui_login_failed")]
    resp = await client.get("/ui/", allow_redirects=False)
    assert resp.status == 303


async def test_sign_in_without_its_csrf_token_is_403(client: Client, users: Users) -> None:
    await client.get("/ui/login")  # has the cookie, but the form field is missing
    form = {"username": users.admin, "password": PASSWORD}
    resp = await client.post("/ui/login", data=form, allow_redirects=False)
    assert resp.status == 403
    assert "security token" in await resp.text()
    resp = await client.post(
        "/ui/login", data={**form, "csrf_token": "forged"}, allow_redirects=False
    )
    assert resp.status == 403
    assert await client.app[CONTEXT].store.count_sessions() == 0


async def test_posts_need_the_session_csrf_token(
    signed_in: Client, store: Store, users: Users
) -> None:
    doc = await store.receive(b"ISA*...", partner_id="northwind", channel="sftp_hosted")
    path = f"/ui/documents/{doc.id}/reprocess"
    for data in ({}, {"csrf_token": "not-the-token"}):
        resp = await signed_in.post(path, data=data, allow_redirects=False)
        assert resp.status == 403
        assert resp.content_type == "text/html"
    page = await signed_in.get(f"/ui/documents/{doc.id}")
    token = csrf_token(await page.text())
    resp = await signed_in.post(
        path,
        data={"csrf_token": token},
        headers={"Origin": "https://evil.example"},
        allow_redirects=False,
    )
    assert resp.status == 403
    assert "another site" in await resp.text()
    assert [e.kind for e in await store.events(doc.id)] == ["state"]  # nothing happened
    resp = await signed_in.post(path, data={"csrf_token": token}, allow_redirects=False)
    assert resp.status == 303
    assert [e.kind for e in await store.events(doc.id)] == ["state", "reprocess", "state"]


async def test_sign_out_ends_the_session_server_side(client: Client, users: Users) -> None:
    resp = await sign_in(client, users.viewer)
    cookie = resp.cookies[SESSION_COOKIE].value
    page = await client.get("/ui/")
    out = await client.post(
        "/ui/logout", data={"csrf_token": csrf_token(await page.text())}, allow_redirects=False
    )
    assert out.status == 303
    assert out.headers["Location"] == "/ui/login"
    assert await client.app[CONTEXT].store.count_sessions() == 0
    # The old cookie, replayed, is worth nothing now.
    client.session.cookie_jar.update_cookies({SESSION_COOKIE: cookie})
    resp = await client.get("/ui/documents", allow_redirects=False)
    assert resp.status == 303


async def test_sessions_end_when_idle_and_after_their_lifetime(
    client: Client, users: Users
) -> None:
    sessions = client.app[SESSIONS]
    now = [1_000_000.0]
    sessions.clock = lambda: now[0]
    policy = sessions.policy
    await sign_in(client, users.viewer)
    now[0] += policy.idle - 5
    assert (await client.get("/ui/", allow_redirects=False)).status == 200
    now[0] += policy.idle + 1
    resp = await client.get("/ui/", allow_redirects=False)
    assert resp.status == 303 and resp.headers["Location"].startswith("/ui/login")

    await sign_in(client, users.viewer)
    started = now[0]
    while now[0] - started < policy.lifetime - policy.idle:
        now[0] += policy.idle - 5  # active all along, never idle
        assert (await client.get("/ui/", allow_redirects=False)).status == 200
    now[0] = started + policy.lifetime + 1
    assert (await client.get("/ui/", allow_redirects=False)).status == 303


async def test_failed_sign_ins_are_throttled_per_user(client: Client, users: Users) -> None:
    limit = SessionPolicy().user_failures
    for _ in range(limit):
        assert (await sign_in(client, users.admin, "guess")).status == 401
    resp = await sign_in(client, users.admin)  # the right password, but too late
    assert resp.status == 429
    assert int(resp.headers["Retry-After"]) > 0
    assert "Too many failed sign-ins" in await resp.text()
    assert SESSION_COOKIE not in resp.cookies
    # Another user from the same address is not locked out by these few failures.
    assert (await sign_in(client, users.viewer)).status == 303
    # Once the window has passed, the user may try again.
    sessions = client.app[SESSIONS]
    later = sessions.clock() + SessionPolicy().window + 1
    sessions.clock = lambda: later
    assert (await sign_in(client, users.admin)).status == 303


def test_after_sign_in_only_pages_of_this_site_are_followed() -> None:
    assert safe_next("/ui/documents?state=failed") == "/ui/documents?state=failed"
    assert safe_next("https://evil.example/ui/") == "/ui/"
    assert safe_next("//evil.example/ui/") == "/ui/"
    assert safe_next("/\\evil.example") == "/ui/"
    assert safe_next("/api/v1/documents") == "/ui/"
    assert safe_next("/ui/login?next=/ui/") == "/ui/"
    assert safe_next(None) == "/ui/"
    assert safe_next("/ui") == "/ui/"


async def test_session_cookies_are_signed() -> None:
    store = SessionStore(b"k" * 32)
    from gateway.storage.records import Principal

    session, cookie = await store.create(Principal(name="alice", role="admin"))
    assert await store.get(cookie) is session
    session_id, _, signature = cookie.rpartition(".")
    assert session_id == session.id
    assert await store.get(session_id) is None
    assert await store.get(f"{session_id}.{signature[:-2]}AA") is None
    assert await SessionStore(b"x" * 32).get(cookie) is None  # another key signs differently
    token, signed = store.login_token()
    assert store.login_token_ok(token, signed)
    assert not store.login_token_ok(token + "x", signed)
    assert not store.login_token_ok(token, None)


async def test_browser_pages_need_no_bearer_key_and_sessions_open_no_api(
    signed_in: Client,
) -> None:
    page = await signed_in.get("/ui/documents")
    assert page.status == 200
    api = await signed_in.get("/api/v1/documents")
    assert api.status == 401  # a session cookie is not an API key
    assert api.content_type == "application/json"


async def test_cookies_are_secure_when_the_policy_says_so(
    ctx: GatewayContext, users: Users
) -> None:
    app = web.Application()
    app[CONTEXT] = ctx
    install_ui(app, ctx, policy=SessionPolicy(secure_cookies=True))
    client: Client = TestClient(TestServer(app))
    await client.start_server()
    try:
        form = await client.get("/ui/login")
        login_cookie = form.cookies[LOGIN_COOKIE]
        assert login_cookie["secure"] is True
        # A client over plain http does not send Secure cookies back: hand it over.
        data = {
            "csrf_token": csrf_token((await form.text()).split('action="/ui/login"')[1]),
            "username": users.admin,
            "password": PASSWORD,
        }
        resp = await client.post(
            "/ui/login",
            data=data,
            cookies={LOGIN_COOKIE: login_cookie.value},
            allow_redirects=False,
        )
        assert resp.status == 303
        assert resp.cookies[SESSION_COOKIE]["secure"] is True
        session_headers = [
            h for h in resp.headers.getall("Set-Cookie") if h.startswith(SESSION_COOKIE + "=")
        ]
        assert len(session_headers) == 1 and "; Secure" in session_headers[0]
    finally:
        await client.close()
