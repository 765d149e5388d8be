"""The frame every page shares: templates, navigation sections, rendering, errors, headers.

:func:`render` fills a template with the page's values plus the frame's: the signed-in
principal, the navigation entries their role may see, the CSRF token for forms and the
pending notices. Templates are autoescaped (any value from a partner or a person is
escaped), and undefined names are errors rather than empty strings.

:func:`page_errors` turns every error of a page into an HTML page with the status (the
API's JSON error middleware never sees it); :func:`security_headers` sets the Content
Security Policy (no inline script or style), ``X-Frame-Options: DENY`` and the
Referrer-Policy on every answer of the UI.

Imports aiohttp, jinja2, storage records and :mod:`gateway.web.auth`.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

import jinja2
from aiohttp import web

from gateway.web.auth import BROWSER_PREFIX, SESSION, STATIC_PREFIX

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from gateway.storage.records import Principal, Role
    from gateway.web.responses import Handler

log = logging.getLogger(__name__)

CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
PAGE_READERS: tuple[Role, ...] = ("admin", "operator", "viewer")
"""People who may read the admin pages (partners, documents); partners use the API."""
ADMINS: tuple[Role, ...] = ("admin",)


@dataclass(frozen=True, slots=True)
class Section:
    """One area of pages: its navigation entry, who sees it, and how its routes are added.

    Attributes:
        title: the navigation label.
        path: the area's first page, a full path under ``/ui``.
        roles: the roles that see the entry (each page still checks its own roles).
        add_routes: adds the area's routes to the UI's router, with paths relative to
            ``/ui`` (``/documents``, not ``/ui/documents``).
        accesskey: the navigation entry's access key (Alt+key in Chromium).
    """

    title: str
    path: str
    roles: tuple[Role, ...]
    add_routes: Callable[[web.UrlDispatcher], None]
    accesskey: str | None = None

    def visible_to(self, principal: Principal) -> bool:
        """Whether ``principal``'s navigation shows this section."""
        return principal.role in self.roles


@dataclass(frozen=True, slots=True)
class Frame:
    """What rendering needs: the template environment and the sections, in order."""

    templates: jinja2.Environment
    sections: tuple[Section, ...]


FRAME = web.AppKey("ui_frame", Frame)


def _when(value: dt.datetime | None) -> str:
    """A stored time as ``YYYY-MM-DD HH:MM:SS UTC`` (SQLite hands back naive UTC)."""
    if value is None:
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def environment() -> jinja2.Environment:
    """The template environment: package templates, autoescape on, strict undefined."""
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("gateway.web.ui", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["when"] = _when
    env.globals["prefix"] = BROWSER_PREFIX
    return env


def render(
    request: web.Request,
    template: str,
    values: Mapping[str, object] | None = None,
    *,
    status: int = 200,
    headers: Mapping[str, str] | None = None,
) -> web.Response:
    """The HTML page ``template`` filled with ``values`` and the frame's values."""
    frame = request.config_dict[FRAME]
    session = request.get(SESSION)
    principal = session.principal if session is not None else None
    page: dict[str, object] = {
        "principal": principal,
        "nav": [s for s in frame.sections if principal is not None and s.visible_to(principal)],
        "csrf_token": session.csrf_token if session is not None else "",
        "notices": session.take_notices() if session is not None else [],
        "path": request.path,
        **(values or {}),
    }
    text = frame.templates.get_template(template).render(page)
    return web.Response(
        text=text, status=status, content_type="text/html", charset="utf-8", headers=headers
    )


def _message(exc: web.HTTPException) -> str:
    text = exc.text or ""
    if not text or text == f"{exc.status}: {exc.reason}":
        return exc.reason
    return text


_DROPPED_HEADERS = frozenset({"content-type", "content-length"})


@web.middleware
async def page_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Answer a page's errors with an HTML page (redirects pass through)."""
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        headers = {k: v for k, v in exc.headers.items() if k.lower() not in _DROPPED_HEADERS}
        values = {"status": exc.status, "reason": exc.reason, "message": _message(exc)}
        return render(request, "error.html", values, status=exc.status, headers=headers)
    except asyncio.CancelledError:
        raise
    except Exception:
        log.exception("unhandled error on a page", extra={"path": request.path})
        values = {
            "status": 500,
            "reason": "Internal Server Error",
            "message": "Something went wrong on our side; it has been logged.",
        }
        return render(request, "error.html", values, status=500)


async def security_headers(request: web.Request, response: web.StreamResponse) -> None:
    """Set the UI's security headers on every answer (``on_response_prepare``)."""
    headers = response.headers
    headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    headers["X-Frame-Options"] = "DENY"
    headers["Referrer-Policy"] = "same-origin"
    headers["X-Content-Type-Options"] = "nosniff"
    if not request.path.startswith(STATIC_PREFIX):
        headers["Cache-Control"] = "no-store"


def notify(request: web.Request, message: str) -> None:
    """Show ``message`` on the next page this browser opens."""
    session = request.get(SESSION)
    if session is not None:
        session.notices.append(message)
