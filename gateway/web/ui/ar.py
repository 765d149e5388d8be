"""The AR review queue: remittance lines the engine could not settle, and what a clerk does.

``GET /ui/ar`` lists the open lines, oldest first, with a filter form (partner, age,
paid amount); ``GET /ui/ar/lines/{id}`` shows one line: its fields and the engine's
reason, the candidate invoices, the applications made so far (each with a Reverse
button), the line's history and a form per action. The posts are in
:mod:`~gateway.web.ui.ar_actions`, the form parsing in :mod:`~gateway.web.ui.ar_forms`.
Every page works without JavaScript; each action is a form with labelled fields and
an access key.

Imports aiohttp, :mod:`gateway.cash.review`, :mod:`gateway.web.auth` and this package's
modules.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from gateway.errors import ConfigError, GatewayError
from gateway.web.auth import require_browser_role
from gateway.web.responses import CONTEXT
from gateway.web.ui import ar_forms
from gateway.web.ui.ar_actions import (
    AR_ROLES,
    QUEUE_PATH,
    cash_review,
    find_line,
    line_action,
    path_id,
    reverse_application,
)
from gateway.web.ui.frame import PAGE_READERS, Section, render

if TYPE_CHECKING:
    from aiohttp import web

    from gateway.cash.review import Candidate, QueueLine
    from gateway.ports import GatewayContext

__all__ = ["AR_ROLES", "SECTION", "add_routes"]

ZERO = Decimal("0.00")


async def queue_page(request: web.Request) -> web.StreamResponse:
    """``GET /ui/ar``: the open lines, oldest first, filtered by the form."""
    require_browser_role(request, AR_ROLES)
    ctx = request.config_dict[CONTEXT]
    partner_ids = [p.id for p in ctx.partners.all()]
    form = {name: request.query.get(name, "") for name in ar_forms.FILTER_FIELDS}
    error = None
    lines: list[QueueLine] = []
    limited = False
    try:
        filters = ar_forms.queue_filter(request.query, partner_ids)
    except GatewayError as exc:
        error = str(exc)
    else:
        lines = await cash_review(request).queue(filters)
        limited = len(lines) >= filters.limit
    values = {
        "form": form,
        "error": error,
        "lines": lines,
        "partners": partner_ids,
        "filtered": any(v.strip() for v in form.values()),
        "limited": limited,
    }
    return render(request, "ar_queue.html", values, status=400 if error else 200)


def _tolerance(ctx: GatewayContext, partner_id: str) -> Decimal:
    """The partner's write-off limit (``business.cash.amount_tolerance``); 0 if unknown."""
    try:
        return ctx.partners.by_id(partner_id).business.cash.amount_tolerance
    except ConfigError:
        return ZERO


def prefill(line: QueueLine, candidates: list[Candidate]) -> dict[int, Decimal]:
    """The apply form's starting amounts: the unplaced cash on the best candidate.

    Never more than that invoice still owes; the clerk changes or splits it as needed.
    """
    if not candidates or line.unplaced_amount <= 0:
        return {}
    top = candidates[0]
    return {top.open_item_id: min(line.unplaced_amount, top.open_amount)}


async def line_page(request: web.Request) -> web.StreamResponse:
    """``GET /ui/ar/lines/{id}``: one line, its candidates, applications, history, actions."""
    principal = require_browser_role(request, AR_ROLES)
    review = cash_review(request)
    line = await find_line(review, path_id(request, "remittance line"))
    candidates = await review.candidates(line.id)
    applications = await review.applications(line.id)
    ctx = request.config_dict[CONTEXT]
    values = {
        "line": line,
        "candidates": candidates,
        "prefill": prefill(line, candidates),
        "applications": applications,
        "live_applications": [a for a in applications if a.reversed_at is None],
        "history": await review.history(line.id),
        "reason_codes": ar_forms.REASON_CODES,
        "other_code": ar_forms.OTHER_CODE,
        "split_prefix": ar_forms.SPLIT_PREFIX,
        "tolerance": _tolerance(ctx, line.partner_id),
        "may_read_documents": principal.role in PAGE_READERS,
        "queue_path": QUEUE_PATH,
    }
    return render(request, "ar_line.html", values)


def add_routes(router: web.UrlDispatcher) -> None:
    """Add the AR queue pages (paths relative to ``/ui``)."""
    router.add_get("/ar", queue_page)
    router.add_get(r"/ar/lines/{id:\d+}", line_page)
    router.add_post(r"/ar/lines/{id:\d+}/{action:[a-z_]+}", line_action)
    router.add_post(r"/ar/applications/{id:\d+}/reverse", reverse_application)


SECTION = Section(
    title="AR queue",
    path=QUEUE_PATH,
    roles=AR_ROLES,
    add_routes=add_routes,
    accesskey="q",
)
