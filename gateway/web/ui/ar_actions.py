"""What a clerk does to an AR queue line: the CSRF-protected posts of the line page.

``POST /ui/ar/lines/{id}/{action}`` (apply, deduct, on_account, write_off, note,
resolve, reopen) and ``POST /ui/ar/applications/{id}/reverse`` call
:class:`~gateway.cash.review.CashReview` with the signed-in person as the actor (the
service writes the audit entry in the same transaction as the change), put the outcome
or the refusal in a notice, and answer 303: back to the line, or to the queue when the
line has just left it. The session middleware has already checked the CSRF token.

Imports aiohttp, :mod:`gateway.cash.review`, :mod:`gateway.web.auth` and this package's
frame and :mod:`~gateway.web.ui.ar_forms`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from aiohttp import web

from gateway.cash.review import CashActionError, CashReview
from gateway.errors import UsageError
from gateway.web.auth import BROWSER_PREFIX, require_browser_role
from gateway.web.responses import CONTEXT
from gateway.web.ui import ar_forms
from gateway.web.ui.frame import notify

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Mapping
    from decimal import Decimal

    from gateway.cash.review import QueueLine
    from gateway.storage import Store
    from gateway.storage.records import Role

    Action = Callable[["Act"], Awaitable[str]]

log = logging.getLogger(__name__)

AR_ROLES: tuple[Role, ...] = ("admin", "ar")
"""Who works the queue."""
QUEUE_PATH = BROWSER_PREFIX + "/ar"


MAX_ID = 2**63 - 1
"""The largest id a BIGINT column holds; a larger one in a path is simply not there."""


def path_id(request: web.Request, what: str) -> int:
    """The ``{id}`` of the request's path; a 404 page when no row could have it."""
    value = int(request.match_info["id"])
    if value > MAX_ID:
        raise web.HTTPNotFound(text=f"There is no {what} {value}.")
    return value


def line_path(line_id: int) -> str:
    """The page of queue line ``line_id``."""
    return f"{QUEUE_PATH}/lines/{line_id}"


def cash_review(request: web.Request) -> CashReview:
    """The AR review service over this app's store and partner profiles."""
    ctx = request.config_dict[CONTEXT]
    return CashReview(ctx.store, ctx.partners)


async def find_line(review: CashReview, line_id: int) -> QueueLine:
    """The remittance line ``line_id``; a 404 page when there is none."""
    try:
        return await review.line(line_id)
    except KeyError:
        raise web.HTTPNotFound(text=f"There is no remittance line {line_id}.") from None


@dataclass(frozen=True, slots=True)
class Act:
    """One posted action: the service, the store, the line, the form's text fields, who."""

    review: CashReview
    store: Store
    line: QueueLine
    form: Mapping[str, str]
    actor: str

    def amount(self, label: str, field: str = "amount") -> Decimal:
        """The form's amount ``field``; ``label`` names it in the message."""
        return ar_forms.parse_amount(self.form.get(field) or "", label)


async def _apply(act: Act) -> str:
    line = act.line
    labels = {c.open_item_id: c.invoice_number for c in await act.review.candidates(line.id)}
    other = (act.form.get("other_invoice") or "").strip()
    chosen = ar_forms.splits(act.form, labels, optional=bool(other))
    if other:
        amount = act.amount(f"amount for invoice {other}", "other_amount")
        item = await act.store.open_item(line.partner_id, other)
        if item is None or item.status != "open":
            raise CashActionError(f"{line.partner_id} has no open invoice {other!r}")
        labels[item.id] = item.invoice_number
        chosen.append((item.id, amount))
    await act.review.apply(line.id, chosen, act.actor)
    done = ", ".join(f"{amount:,.2f} to invoice {labels.get(i, i)}" for i, amount in chosen)
    return f"Applied {done}."


async def _deduct(act: Act) -> str:
    amount = act.amount("deduction amount")
    code = ar_forms.reason_code(act.form)
    await act.review.deduct(act.line.id, amount, code, act.actor)
    return f"Recorded a deduction of {amount:,.2f} (reason {code})."


async def _on_account(act: Act) -> str:
    amount = act.amount("amount on account")
    await act.review.on_account(act.line.id, amount, act.actor)
    return f"Put {amount:,.2f} on account for {act.line.partner_id}."


async def _write_off(act: Act) -> str:
    amount = act.amount("write-off amount")
    await act.review.write_off(act.line.id, amount, act.actor)
    return f"Wrote off {amount:,.2f}."


async def _note(act: Act) -> str:
    await act.review.add_note(act.line.id, ar_forms.note_text(act.form), act.actor)
    return "Note saved."


async def _resolve(act: Act) -> str:
    await act.review.resolve(act.line.id, act.actor)
    return f"Line #{act.line.id} is marked resolved."


async def _reopen(act: Act) -> str:
    await act.review.reopen(act.line.id, act.actor)
    return f"Line #{act.line.id} is back in the queue."


ACTIONS: dict[str, tuple[Action, str]] = {
    "apply": (_apply, "Not applied"),
    "deduct": (_deduct, "No deduction recorded"),
    "on_account": (_on_account, "Not put on account"),
    "write_off": (_write_off, "Not written off"),
    "note": (_note, "Note not saved"),
    "resolve": (_resolve, "Not resolved"),
    "reopen": (_reopen, "Not reopened"),
}
"""Each action of the line page: its handler and the start of its refusal notice."""


def _text_fields(form: Mapping[str, object]) -> dict[str, str]:
    return {key: value for key, value in form.items() if isinstance(value, str)}


async def line_action(request: web.Request) -> web.StreamResponse:
    """``POST /ui/ar/lines/{id}/{action}``: one clerk action on the line, then 303."""
    principal = require_browser_role(request, AR_ROLES)
    name = request.match_info["action"]
    found = ACTIONS.get(name)
    if found is None:
        raise web.HTTPNotFound(text=f"There is no action {name!r} on a remittance line.")
    action, refused = found
    review = cash_review(request)
    line = await find_line(review, path_id(request, "remittance line"))
    form = _text_fields(await request.post())
    store = request.config_dict[CONTEXT].store
    try:
        done = await action(Act(review, store, line, form, principal.name))
    except (CashActionError, UsageError) as exc:
        notify(request, f"{refused}: {exc}")
        raise web.HTTPSeeOther(line_path(line.id)) from None
    log.info(
        "AR queue action",
        extra={"action": name, "line_id": line.id, "partner_id": line.partner_id},
    )
    raise await _after(request, review, line, done)


async def _after(
    request: web.Request, review: CashReview, before: QueueLine, done: str
) -> web.HTTPException:
    """Notify ``done``; a 303 to the queue if the line just left it, else to the line."""
    after = await review.line(before.id)
    if before.review == "open" and after.review != "open":
        notify(request, f"{done} Line #{before.id} ({before.reference}) has left the queue.")
        return web.HTTPSeeOther(QUEUE_PATH)
    notify(request, done)
    return web.HTTPSeeOther(line_path(before.id))


async def reverse_application(request: web.Request) -> web.StreamResponse:
    """``POST /ui/ar/applications/{id}/reverse``: undo one application, back to its line."""
    principal = require_browser_role(request, AR_ROLES)
    application_id = path_id(request, "application")
    form = _text_fields(await request.post())
    line_id = (form.get("line_id") or "").strip()
    back = line_path(int(line_id)) if line_id.isdigit() and len(line_id) < 19 else QUEUE_PATH
    try:
        await cash_review(request).reverse(application_id, principal.name)
    except CashActionError as exc:
        notify(request, f"Not reversed: {exc}")
    except KeyError:
        raise web.HTTPNotFound(text=f"There is no application {application_id}.") from None
    else:
        log.info("AR application reversed", extra={"application_id": application_id})
        notify(request, f"Application #{application_id} is reversed.")
    raise web.HTTPSeeOther(back)
