"""Partner pages, read-only: the list with last activity, and one partner's profile.

Profiles come from the registry loaded at start (``partners/*.yaml``); the last
activity and recent documents come from the store. Channel summaries leave out
secret names, SSH keys and certificates' content: a page is not a place for them.

Imports aiohttp, pydantic models of the profile, storage records, :mod:`gateway.web.auth`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

from gateway.storage.records import DocumentQuery
from gateway.web.auth import require_browser_role
from gateway.web.responses import CONTEXT
from gateway.web.ui.frame import PAGE_READERS, Section, render

if TYPE_CHECKING:
    from gateway.channels import Channel
    from gateway.partners import PartnerProfile
    from gateway.storage import DocumentRecord, Store

RECENT_DOCUMENTS = 25
_HIDDEN_SUFFIXES = ("_secret", "_secrets")


def channel_summary(channel: Channel | None) -> list[tuple[str, str]]:
    """A channel's settings as ``(name, value)`` rows, secrets and keys left out."""
    if channel is None:
        return []
    rows: list[tuple[str, str]] = []
    for name, value in channel.model_dump(mode="json", by_alias=True).items():
        if name.endswith(_HIDDEN_SUFFIXES) or value is None:
            continue
        if name == "authorized_keys":
            rows.append((name, f"{len(value)} key(s)"))
        elif name == "host_key":
            rows.append((name, "pinned"))
        else:
            rows.append((name, str(value)))
    return rows


def isa_ids(profile: PartnerProfile) -> list[str]:
    """The partner's ISA ids as ``qualifier:id``."""
    return [f"{isa.qualifier}:{isa.id}" for isa in profile.identity.isa]


def x12_documents(profile: PartnerProfile) -> list[tuple[str, str, str]]:
    """``(transaction set, version, functional ack)`` for each X12 document set up."""
    if profile.x12 is None:
        return []
    rows = []
    for name, info in type(profile.x12).model_fields.items():
        value = getattr(profile.x12, name)
        if info.alias and info.alias.isdigit() and value is not None:
            rows.append((info.alias, value.version, value.functional_ack))
    return rows


async def _latest(store: Store, partner_id: str) -> DocumentRecord | None:
    found = await store.search(DocumentQuery(partner_id=partner_id, limit=1))
    return found[0] if found else None


async def partners_page(request: web.Request) -> web.StreamResponse:
    """``GET /ui/partners``: every partner with its ids, channels and last activity."""
    require_browser_role(request, PAGE_READERS)
    ctx = request.config_dict[CONTEXT]
    rows = []
    for profile in ctx.partners.all():
        channels = profile.channels
        rows.append(
            {
                "profile": profile,
                "isa_ids": isa_ids(profile),
                "inbound": channels.inbound.kind if channels.inbound else None,
                "outbound": channels.outbound.kind if channels.outbound else None,
                "latest": await _latest(ctx.store, profile.id),
            }
        )
    return render(request, "partners.html", {"rows": rows})


async def partner_page(request: web.Request) -> web.StreamResponse:
    """``GET /ui/partners/{id}``: profile summary, channels, recent documents."""
    require_browser_role(request, PAGE_READERS)
    ctx = request.config_dict[CONTEXT]
    partner_id = request.match_info["id"]
    if partner_id not in ctx.partners:
        raise web.HTTPNotFound(text=f"There is no partner {partner_id!r}.")
    profile = ctx.partners.by_id(partner_id)
    documents = await ctx.store.search(DocumentQuery(partner_id=partner_id, limit=RECENT_DOCUMENTS))
    values = {
        "profile": profile,
        "isa_ids": isa_ids(profile),
        "x12_documents": x12_documents(profile),
        "inbound": channel_summary(profile.channels.inbound),
        "outbound": channel_summary(profile.channels.outbound),
        "documents": documents,
    }
    return render(request, "partner.html", values)


def add_routes(router: web.UrlDispatcher) -> None:
    """Add the partner pages (paths relative to ``/ui``)."""
    router.add_get("/partners", partners_page)
    router.add_get("/partners/{id}", partner_page)


SECTION = Section(
    title="Partners",
    path="/ui/partners",
    roles=PAGE_READERS,
    add_routes=add_routes,
    accesskey="p",
)
