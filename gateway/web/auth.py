"""Authentication and authorisation: bearer keys, browser sessions, roles, partner isolation.

Every route needs ``Authorization: Bearer KEY`` except those in :data:`PUBLIC_PATHS`
and the browser pages under :data:`BROWSER_PREFIX`, which :func:`session_middleware`
authenticates with a session cookie instead (see :mod:`gateway.web.ui.sessions`).
The key is checked with ``Store.verify_api_key``; the caller's :class:`Principal`
is then in ``request[PRINCIPAL]`` (read it with :func:`principal_of`). A key found
live is remembered for ``Settings.api_key_cache_seconds`` (:class:`KeyCache`, by the
key's sha256), which spares every request a database round trip; a revoked key is
therefore refused by running gateways within that time, not at once. A missing,
unknown or revoked key gets 401 with ``WWW-Authenticate: Bearer``. A partner key
sees only its own partner's documents: another partner's document answers 404,
exactly as a missing one, so ids cannot be probed.

Browser pages: without a live session a page redirects to the sign-in form; every
request with a method other than GET/HEAD/OPTIONS must carry the session's CSRF token
(the sign-in form its signed double-submit token) and, when the browser sends an
``Origin``, come from this host; otherwise 403.

Imports aiohttp, storage records, :mod:`gateway.web.responses` and
:mod:`gateway.web.ui.sessions`.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import time
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from aiohttp import web
from yarl import URL

from gateway.errors import ConfigError
from gateway.ports import PRINCIPAL
from gateway.storage.records import Principal
from gateway.web.responses import CONTEXT, api_error
from gateway.web.ui.sessions import (
    CSRF_FIELD,
    LOGIN_COOKIE,
    SESSION_COOKIE,
    Session,
    SessionStore,
)

if TYPE_CHECKING:
    from collections.abc import Callable

    from gateway.ports import GatewayContext
    from gateway.storage import DocumentRecord, Role
    from gateway.web.responses import Handler

log = logging.getLogger(__name__)


PUBLIC_PATHS: frozenset[str] = frozenset({"/healthz", "/metrics", "/api/openapi.json", "/as2"})
"""Paths served without a key: health for load balancers, metrics for Prometheus
(like most exporters; keep the port off the internet), the API description."""

BROWSER_PREFIX = "/ui"
"""Browser pages live under this prefix; they authenticate by session cookie."""
LOGIN_PATH = BROWSER_PREFIX + "/login"
STATIC_PREFIX = BROWSER_PREFIX + "/static/"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

READERS: tuple[Role, ...] = ("admin", "operator", "viewer", "partner")
"""Roles that may read documents (partner keys only their own)."""
OPERATORS: tuple[Role, ...] = ("admin", "operator")
"""Roles that may reprocess documents (``force`` is for admins only)."""

_CHALLENGE = 'Bearer realm="o2c-gateway"'


def _unauthorized(message: str, *, invalid: bool) -> web.HTTPException:
    challenge = _CHALLENGE + (', error="invalid_token"' if invalid else "")
    return api_error(
        web.HTTPUnauthorized, "unauthorized", message, headers={"WWW-Authenticate": challenge}
    )


def bearer_key(request: web.Request) -> str | None:
    """The key of an ``Authorization: Bearer KEY`` header, or None without one."""
    header = request.headers.get("Authorization", "")
    scheme, _, key = header.strip().partition(" ")
    if scheme.lower() != "bearer" or not key.strip():
        return None
    return key.strip()


@web.middleware
async def auth_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Authenticate every request outside :data:`PUBLIC_PATHS`."""
    if request.path in PUBLIC_PATHS or is_browser_path(request.path):
        return await handler(request)
    key = bearer_key(request)
    if key is None:
        raise _unauthorized("an API key is needed: Authorization: Bearer KEY", invalid=False)
    digest = _digest(key)
    cache = request.app[KEY_CACHE]
    principal = cache.get(digest)
    if principal is None:
        principal = await request.app[CONTEXT].store.verify_api_key(key)
        if principal is not None:
            cache.put(digest, principal)
    if principal is None:
        principal = request.app[PROFILE_KEYS].get(digest)
    if principal is None:
        log.info("rejected an unknown or revoked API key", extra={"path": request.path})
        raise _unauthorized("the API key is unknown or revoked", invalid=True)
    request[PRINCIPAL] = principal
    return await handler(request)


class KeyCache:
    """Live API keys seen lately, by the sha256 of the key, each for ``seconds``.

    Only keys the store found live are kept (an unknown key is looked up every time);
    at most ``size`` entries, the oldest dropped first. ``seconds=0`` turns it off.
    """

    def __init__(
        self,
        seconds: float,
        *,
        size: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.seconds = seconds
        self.size = size
        self._clock = clock
        self._entries: dict[bytes, tuple[float, Principal]] = {}

    def get(self, digest: bytes) -> Principal | None:
        """The principal of a key seen live less than ``seconds`` ago, or None."""
        found = self._entries.get(digest)
        if found is None:
            return None
        if found[0] <= self._clock():
            del self._entries[digest]
            return None
        return found[1]

    def put(self, digest: bytes, principal: Principal) -> None:
        """Remember a key the store found live."""
        if self.seconds <= 0:
            return
        if len(self._entries) >= self.size:
            del self._entries[next(iter(self._entries))]
        self._entries[digest] = (self._clock() + self.seconds, principal)

    def clear(self) -> None:
        """Forget every key (a key was revoked in this process)."""
        self._entries.clear()


KEY_CACHE = web.AppKey("key_cache", KeyCache)
"""The app's :class:`KeyCache`."""
PROFILE_KEYS = web.AppKey("profile_keys", dict[bytes, Principal])
"""Partner keys named in profiles (``api_key_secrets``), by the sha256 of the key."""


def _digest(key: str) -> bytes:
    return hashlib.sha256(key.encode()).digest()


def profile_keys(ctx: GatewayContext) -> dict[bytes, Principal]:
    """The keys partner profiles name (``channels.inbound.api_key_secrets``), resolved.

    These are for keys kept in a secret store rather than made with ``o2c apikeys
    create``. A secret that is not set is logged (by name) and skipped. Keys are held
    by their sha256, so a lookup compares digests, never the keys themselves.
    """
    keys: dict[bytes, Principal] = {}
    for profile in ctx.partners.all():
        channel = profile.channels.inbound
        if not profile.active or channel is None or channel.kind != "http":
            continue
        for name in channel.api_key_secrets:
            try:
                value = ctx.settings.secret(name).get_secret_value()
            except ConfigError as exc:
                log.warning("partner API key not usable: %s", exc, extra={"partner_id": profile.id})
                continue
            keys[_digest(value)] = Principal(
                name=f"{profile.id}:{name}", role="partner", partner_id=profile.id
            )
    return keys


def principal_of(request: web.Request) -> Principal:
    """The caller of an authenticated request."""
    return request[PRINCIPAL]


def require_role(request: web.Request, roles: tuple[Role, ...]) -> Principal:
    """The caller, when its role is one of ``roles``; else 403."""
    principal = principal_of(request)
    if principal.role not in roles:
        raise api_error(
            web.HTTPForbidden,
            "forbidden",
            f"role {principal.role!r} may not do this (needs one of {', '.join(roles)})",
        )
    if principal.role == "partner" and not principal.partner_id:
        raise api_error(web.HTTPForbidden, "forbidden", "this partner key names no partner")
    return principal


def may_see(principal: Principal, doc: DocumentRecord) -> bool:
    """Whether ``principal`` may see ``doc``: partner keys only their partner's."""
    return principal.role != "partner" or doc.partner_id == principal.partner_id


SESSIONS = web.AppKey("ui_sessions", SessionStore)
"""The browser sessions (put on the app by :func:`gateway.web.ui.mount.install_ui`)."""
SESSION = web.RequestKey("ui_session", Session)
"""The session of a signed-in browser request."""


def is_browser_path(path: str) -> bool:
    """Whether ``path`` is a browser page (session auth), not an API route (bearer keys)."""
    return path == BROWSER_PREFIX or path.startswith(BROWSER_PREFIX + "/")


def _open_to_all(path: str) -> bool:
    return path == LOGIN_PATH or path.startswith(STATIC_PREFIX)


def _forbidden(message: str) -> web.HTTPException:
    return web.HTTPForbidden(text=message)


async def _check_csrf(
    request: web.Request, sessions: SessionStore, session: Session | None
) -> None:
    origin = request.headers.get("Origin")
    if origin is not None and urlsplit(origin).netloc != request.host:
        log.warning("refused a cross-origin form post", extra={"path": request.path})
        raise _forbidden("this form was posted from another site")
    form = await request.post()
    sent = form.get(CSRF_FIELD)
    token = sent if isinstance(sent, str) else request.headers.get("X-CSRF-Token")
    if request.path == LOGIN_PATH:
        ok = sessions.login_token_ok(token, request.cookies.get(LOGIN_COOKIE))
    elif session is None or token is None:
        ok = False
    else:
        ok = hmac.compare_digest(token, session.csrf_token)
    if not ok:
        log.warning("refused a form post without a valid CSRF token", extra={"path": request.path})
        raise _forbidden(
            "the form's security token is missing or out of date: reload the page and try again"
        )


def login_redirect(request: web.Request) -> web.HTTPException:
    """A 303 to the sign-in form that comes back to this page (GET) afterwards."""
    back = request.path_qs if request.method == "GET" else BROWSER_PREFIX + "/"
    return web.HTTPSeeOther(URL(LOGIN_PATH).with_query(next=back))


@web.middleware
async def session_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Authenticate a browser page by its session cookie; check CSRF on every post."""
    sessions = request.config_dict[SESSIONS]
    session = await sessions.get(request.cookies.get(SESSION_COOKIE))
    if session is not None:
        request[SESSION] = session
        request[PRINCIPAL] = session.principal
    elif not _open_to_all(request.path):
        raise login_redirect(request)
    if request.method not in SAFE_METHODS:
        await _check_csrf(request, sessions, session)
    try:
        return await handler(request)
    finally:
        # notices for the next page (often set just before a 303) and the last use
        if request.get(SESSION) is session and session is not None:
            await sessions.save(session)


def require_browser_role(request: web.Request, roles: tuple[Role, ...]) -> Principal:
    """The signed-in person, when their role is one of ``roles``; else 403 (a page)."""
    principal = principal_of(request)
    if principal.role not in roles:
        raise _forbidden(
            f"your role ({principal.role}) may not open this page; it needs one of "
            f"{', '.join(roles)}"
        )
    return principal
