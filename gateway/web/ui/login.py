"""Signing in and out, and the home page.

``GET /ui/login`` shows the form (with its double-submit CSRF token), ``POST /ui/login``
checks the password with :meth:`Store.verify_user` and starts a session, ``POST
/ui/logout`` ends it, and ``GET /ui/`` is the home page: the navigation the person's
role may use. Failed sign-ins are throttled per user name and per client address
(:class:`LoginThrottle`); sign-ins, failures and sign-outs go to the audit log.

Imports aiohttp, :mod:`gateway.web.auth` and this package's modules.
"""

from __future__ import annotations

import logging
import math
from typing import TYPE_CHECKING

from aiohttp import web

from gateway.web.auth import (
    BROWSER_PREFIX,
    LOGIN_PATH,
    SESSION,
    SESSIONS,
    require_browser_role,
)
from gateway.web.responses import CONTEXT
from gateway.web.ui.frame import render
from gateway.web.ui.sessions import LOGIN_COOKIE, SESSION_COOKIE, LoginThrottle

if TYPE_CHECKING:
    from gateway.web.ui.sessions import SessionStore

log = logging.getLogger(__name__)

THROTTLE = web.AppKey("ui_login_throttle", LoginThrottle)
HOME = BROWSER_PREFIX + "/"
_MAX_NAME = 150


def safe_next(target: str | None) -> str:
    """Where to go after signing in: a UI page of this site, else the home page."""
    if not target or "\\" in target or target.startswith("//"):
        return HOME
    if target.startswith(BROWSER_PREFIX + "/") and not target.startswith(LOGIN_PATH):
        return target
    return HOME


def _secure(request: web.Request, sessions: SessionStore) -> bool:
    chosen = sessions.policy.secure_cookies
    return request.secure if chosen is None else chosen


def _login_page(
    request: web.Request,
    *,
    error: str | None = None,
    status: int = 200,
    username: str = "",
    retry_after: float = 0.0,
) -> web.Response:
    sessions = request.config_dict[SESSIONS]
    token, cookie = sessions.login_token()
    values = {
        "login_token": token,
        "error": error,
        "username": username,
        "next": safe_next(request.query.get("next") or None),
    }
    headers = {}
    if status == 401:
        headers["WWW-Authenticate"] = 'Form realm="o2c-gateway"'
    elif status == 429:
        headers["Retry-After"] = str(max(1, math.ceil(retry_after)))
    response = render(request, "login.html", values, status=status, headers=headers)
    response.set_cookie(
        LOGIN_COOKIE,
        cookie,
        path=LOGIN_PATH,
        httponly=True,
        samesite="Strict",
        secure=_secure(request, sessions),
    )
    return response


async def login_form(request: web.Request) -> web.StreamResponse:
    """``GET /ui/login``: the sign-in form (also to sign in as someone else)."""
    return _login_page(request)


async def login(request: web.Request) -> web.StreamResponse:
    """``POST /ui/login``: check the password, start a session, go to ``next``."""
    form = await request.post()
    username = str(form.get("username", "")).strip()[:_MAX_NAME]
    password = str(form.get("password", ""))
    target = safe_next(str(form.get("next", "")) or None)
    address = request.remote or "unknown"
    throttle = request.config_dict[THROTTLE]
    store = request.config_dict[CONTEXT].store
    wait = await throttle.retry_after(username, address)
    if wait > 0:
        log.warning("sign-in refused: too many failures", extra={"address": address})
        minutes = max(1, math.ceil(wait / 60))
        message = f"Too many failed sign-ins. Try again in {minutes} minute(s)."
        return _login_page(request, error=message, status=429, username=username, retry_after=wait)
    principal = await store.verify_user(username, password) if username and password else None
    if principal is None:
        await throttle.failed(username, address)
        await store.audit(username or "?", "ui_login_failed", "ui", {"address": address})
        log.info("sign-in failed", extra={"address": address})
        message = "The user name or password is wrong."
        return _login_page(request, error=message, status=401, username=username)
    await throttle.succeeded(username)
    sessions = request.config_dict[SESSIONS]
    previous = request.get(SESSION)
    if previous is not None:
        await sessions.drop(previous)
        del request[SESSION]  # gone: not written back after this request
    _, cookie = await sessions.create(principal)
    await store.audit(principal.name, "ui_login", "ui", {"address": address})
    response = web.HTTPSeeOther(target)
    response.set_cookie(
        SESSION_COOKIE,
        cookie,
        path=BROWSER_PREFIX,
        httponly=True,
        samesite="Strict",
        secure=_secure(request, sessions),
        max_age=int(sessions.policy.lifetime),
    )
    response.del_cookie(LOGIN_COOKIE, path=LOGIN_PATH)
    raise response


async def logout(request: web.Request) -> web.StreamResponse:
    """``POST /ui/logout``: end the session and go back to the sign-in form."""
    session = request[SESSION]
    await request.config_dict[SESSIONS].drop(session)
    del request[SESSION]  # gone: not written back after this request
    await request.config_dict[CONTEXT].store.audit(session.principal.name, "ui_logout", "ui")
    response = web.HTTPSeeOther(LOGIN_PATH)
    response.del_cookie(SESSION_COOKIE, path=BROWSER_PREFIX)
    raise response


async def home(request: web.Request) -> web.StreamResponse:
    """``GET /ui/``: the pages this person's role may open."""
    require_browser_role(request, ("admin", "operator", "ar", "viewer"))
    return render(request, "home.html")


def add_routes(router: web.UrlDispatcher) -> None:
    """Add the sign-in, sign-out and home routes (paths relative to ``/ui``)."""
    router.add_get("/login", login_form)
    router.add_post("/login", login)
    router.add_post("/logout", logout)
    router.add_get("/", home)
