"""Mount the browser UI under ``/ui``: :func:`install_ui`, called by ``create_app``.

The UI is a sub-application with its own middleware (HTML error pages, then session
auth and CSRF from :mod:`gateway.web.auth`) and its own ``on_response_prepare`` hook
(security headers). It is mounted so that ``app.router.routes()`` keeps listing the
HTTP API only (the OpenAPI document is checked against that list); requests still
reach the pages, and metrics still label them by route pattern.

A new area of pages (the AR review queue, the DSO dashboard) is a module of this
package with a :class:`~gateway.web.ui.frame.Section` named ``SECTION``; add it to
:data:`SECTIONS` and its navigation entry appears for the roles it names.

Imports aiohttp, settings, :mod:`gateway.web.auth` and this package's modules.
"""

from __future__ import annotations

import hashlib
import importlib.resources
import logging
import secrets
from typing import TYPE_CHECKING

from aiohttp import web

from gateway.errors import ConfigError
from gateway.web.auth import BROWSER_PREFIX, SESSIONS, session_middleware
from gateway.web.ui import ar, audit, documents, dso, login, partners
from gateway.web.ui.frame import FRAME, Frame, environment, page_errors, security_headers
from gateway.web.ui.login import THROTTLE
from gateway.web.ui.sessions import LoginThrottle, SessionPolicy, SessionStore

if TYPE_CHECKING:
    from collections.abc import Sequence

    from gateway.ports import GatewayContext
    from gateway.settings import Settings
    from gateway.web.ui.frame import Section

log = logging.getLogger(__name__)

SESSION_KEY_SECRET = "UI_SESSION_KEY"  # noqa: S105 (the secret's name, not its value)
SECTIONS: tuple[Section, ...] = (
    ar.SECTION,
    dso.SECTION,
    documents.SECTION,
    partners.SECTION,
    audit.SECTION,
)
"""The areas of pages, in navigation order."""
STATIC_TYPES = {".css": "text/css", ".js": "text/javascript", ".svg": "image/svg+xml"}
STATIC = web.AppKey("ui_static", dict[str, tuple[bytes, str]])


def session_key(settings: Settings) -> bytes:
    """The cookie signing key: secret ``UI_SESSION_KEY``, else a random one per process."""
    try:
        secret = settings.secret(SESSION_KEY_SECRET).get_secret_value()
    except ConfigError:
        log.warning(
            "secret %s is not set: browser sessions are signed with a random key and "
            "end when this process stops",
            SESSION_KEY_SECRET,
        )
        return secrets.token_bytes(32)
    return hashlib.sha256(secret.encode()).digest()


def static_files() -> dict[str, tuple[bytes, str]]:
    """The stylesheet and scripts of ``static/``: ``name -> (bytes, content type)``."""
    root = importlib.resources.files("gateway.web.ui") / "static"
    files = {}
    for item in root.iterdir():
        suffix = "." + item.name.rpartition(".")[2]
        if item.is_file() and suffix in STATIC_TYPES:
            files[item.name] = (item.read_bytes(), STATIC_TYPES[suffix])
    return files


async def static_file(request: web.Request) -> web.StreamResponse:
    """``GET /ui/static/{name}``: a stylesheet or script, cached for an hour."""
    found = request.config_dict[STATIC].get(request.match_info["name"])
    if found is None:
        raise web.HTTPNotFound(text="There is no such file.")
    body, content_type = found
    return web.Response(
        body=body, content_type=content_type, headers={"Cache-Control": "public, max-age=3600"}
    )


def install_ui(
    app: web.Application,
    ctx: GatewayContext,
    *,
    sections: Sequence[Section] = SECTIONS,
    policy: SessionPolicy | None = None,
) -> web.Application:
    """Mount the UI on ``app`` under ``/ui``; return the UI's sub-application.

    The session store and login throttle are also put on ``app`` (``SESSIONS``,
    ``THROTTLE``), where tests and the service find them.
    """
    policy = policy or SessionPolicy()
    sessions = SessionStore(session_key(ctx.settings), policy, backend=ctx.store)
    app[SESSIONS] = sessions
    app[THROTTLE] = LoginThrottle(policy, clock=lambda: sessions.clock(), backend=ctx.store)
    ui = web.Application(middlewares=[page_errors, session_middleware])
    ui[FRAME] = Frame(templates=environment(), sections=tuple(sections))
    ui[STATIC] = static_files()
    ui.on_response_prepare.append(security_headers)
    ui.router.add_get("/static/{name}", static_file)
    login.add_routes(ui.router)
    for section in sections:
        section.add_routes(ui.router)
    app.add_subapp(BROWSER_PREFIX, ui)
    return ui
