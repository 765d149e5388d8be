"""The audit log page (admin only): who did what to what, newest first.

Imports aiohttp, :mod:`gateway.web.auth` and the frame.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from gateway.web.auth import require_browser_role
from gateway.web.responses import CONTEXT
from gateway.web.ui.frame import ADMINS, Section, render

if TYPE_CHECKING:
    from aiohttp import web

AUDIT_ROWS = 200


async def audit_page(request: web.Request) -> web.StreamResponse:
    """``GET /ui/audit``: the latest audit entries."""
    require_browser_role(request, ADMINS)
    entries = await request.config_dict[CONTEXT].store.audit_log(limit=AUDIT_ROWS)
    return render(request, "audit.html", {"entries": entries})


def add_routes(router: web.UrlDispatcher) -> None:
    """Add the audit page (paths relative to ``/ui``)."""
    router.add_get("/audit", audit_page)


SECTION = Section(
    title="Audit log",
    path="/ui/audit",
    roles=ADMINS,
    add_routes=add_routes,
    accesskey="l",
)
