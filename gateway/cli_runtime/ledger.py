"""``o2c open-items import|list``: the invoices partners owe, as the service applies cash to them.

The service records an open item for each invoice it sends (the ERP's posted invoices,
as 810s). At go-live, or for invoices sent another way, an admin loads the ERP's open
AR from the same CSV export ``o2c cash apply`` reads
(``invoice_number,partner_id,po_number,invoice_date,due_date,amount,open_amount,
currency,discount_percent,discount_days``):

- ``partner_id`` is a partner profile's id, or an ISA id one profile claims; ``--partner``
  gives every row to one profile instead. A row of no known partner refuses the file.
- An invoice the partner already has is left as it is and reported as skipped, so a file
  can be imported again after a partial failure; the rest commit together, with an
  audit entry.

Exit codes: 0 done, 1 the file has bad rows or unknown partners (nothing imported),
2 usage.
"""

from __future__ import annotations

import asyncio
import json
import sys
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gateway.cash.items import OpenItemsError, read_open_items
from gateway.cli_runtime.admin import actor_name
from gateway.errors import UsageError
from gateway.partners import PartnerRegistry
from gateway.settings import Settings
from gateway.storage import OpenItem, Store

if TYPE_CHECKING:
    import argparse
    from typing import TextIO

    from gateway.cash import items
    from gateway.cli_runtime.common import Command

EXIT_OK, EXIT_REJECTED = 0, 1
_CENT = Decimal("0.01")


def add_commands(sub: Any, parser_class: type) -> None:
    """Add ``open-items`` and its sub-commands ``import`` and ``list``."""
    group = sub.add_parser("open-items", help="invoices partners owe: import the ERP's, list")
    group_sub = group.add_subparsers(
        dest="open_items_command", required=True, parser_class=parser_class
    )
    p = group_sub.add_parser("import", help="load open invoices from an ERP's CSV export")
    p.add_argument("file", type=Path, metavar="OPEN.csv")
    p.add_argument("--partner", metavar="ID", help="give every row to this partner profile")
    p.add_argument("--config", type=Path, metavar="O2C.YAML", help="settings file")
    p = group_sub.add_parser("list", help="the open items, by due date")
    p.add_argument("--partner", metavar="ID", help="only this partner's")
    p.add_argument("--status", choices=["open", "closed"], help="only open or closed ones")
    p.add_argument("--format", choices=["json", "table"], default="table")
    p.add_argument("--config", type=Path, metavar="O2C.YAML", help="settings file")


def partner_of(value: str, registry: PartnerRegistry) -> str | None:
    """The profile id ``value`` names: a profile id, else an ISA id one profile claims."""
    if value in registry:
        return value
    owners = {
        profile.id
        for profile in registry.all()
        for identity in profile.identity.isa
        if identity.id.strip() == value
    }
    return owners.pop() if len(owners) == 1 else None


def cmd_open_items(args: argparse.Namespace, out: TextIO) -> int:
    """``o2c open-items import|list``."""
    settings = Settings.load(args.config)
    if args.open_items_command == "list":
        return _list(args, settings, out)
    registry = PartnerRegistry.load(settings.partners_dir)
    forced = args.partner.strip() if args.partner else None
    if forced is not None and forced not in registry:
        raise UsageError(f"--partner {forced}: there is no such partner profile")
    try:
        rows = read_open_items(args.file)
    except OpenItemsError as exc:
        print(f"o2c: {exc}", file=sys.stderr)
        for problem in exc.problems:
            print(f"  {problem}", file=sys.stderr)
        return EXIT_REJECTED
    except UnicodeDecodeError as exc:
        print(f"o2c: {args.file}: not UTF-8 text ({exc.reason})", file=sys.stderr)
        return EXIT_REJECTED
    except OSError as exc:
        raise UsageError(f"cannot read {args.file}: {exc.strerror or exc}") from exc
    items, unknown = _items(rows, registry, forced)
    if unknown:
        print(
            f"o2c: {args.file}: no partner profile for partner_id "
            f"{', '.join(sorted(unknown))}: name a profile id or an ISA id a profile claims, "
            "or give --partner ID; nothing imported",
            file=sys.stderr,
        )
        return EXIT_REJECTED
    added, skipped = asyncio.run(_import(settings, items, str(args.file)))
    out.write(f"imported {added} open items from {args.file}; {len(skipped)} already known\n")
    for partner_id, number in skipped[:20]:
        out.write(f"  skipped {partner_id} {number}: already an open item\n")
    return EXIT_OK


def _items(
    rows: list[items.OpenItem], registry: PartnerRegistry, forced: str | None
) -> tuple[list[OpenItem], set[str]]:
    found: list[OpenItem] = []
    unknown: set[str] = set()
    for row in rows:
        partner_id = forced or partner_of(row.partner_id, registry)
        if partner_id is None:
            unknown.add(row.partner_id)
            continue
        currency = row.currency or registry.by_id(partner_id).business.currency
        found.append(
            OpenItem(
                partner_id=partner_id,
                invoice_number=row.invoice_number,
                invoice_date=row.invoice_date,
                due_date=row.due_date,
                amount=row.amount.quantize(_CENT),
                open_amount=max(row.open_amount, Decimal(0)).quantize(_CENT),
                currency=currency,
                po_number=row.po_number,
                discount_percent=row.discount_percent or None,
                discount_days=row.discount_days,
                status="open" if row.is_open else "closed",
            )
        )
    return found, unknown


async def _import(
    settings: Settings, found: list[OpenItem], source: str
) -> tuple[int, list[tuple[str, str]]]:
    store = await Store.from_settings(settings)
    try:
        skipped: list[tuple[str, str]] = []
        fresh: list[OpenItem] = []
        seen: set[tuple[str, str]] = set()  # known already: one query per partner, not per row
        for partner_id in sorted({item.partner_id for item in found}):
            known = await store.open_items(partner_id=partner_id)
            seen.update((partner_id, i.invoice_number) for i in known)
        for item in found:
            key = (item.partner_id, item.invoice_number)
            if key in seen:
                skipped.append(key)
                continue
            seen.add(key)
            fresh.append(item)
        async with store.unit():
            for item in fresh:
                await store.add_open_item(item)
            detail = {"file": source, "imported": len(fresh), "skipped": len(skipped)}
            await store.audit(actor_name(), "open_items.import", source, detail)
        return len(fresh), skipped
    finally:
        await store.close()


def _list(args: argparse.Namespace, settings: Settings, out: TextIO) -> int:
    async def read() -> list[OpenItem]:
        store = await Store.from_settings(settings)
        try:
            return await store.open_items(partner_id=args.partner, status=args.status)
        finally:
            await store.close()

    found = asyncio.run(read())
    if args.format == "json":
        rows = [
            {
                "partner_id": i.partner_id,
                "invoice_number": i.invoice_number,
                "po_number": i.po_number,
                "invoice_date": i.invoice_date.isoformat(),
                "due_date": i.due_date.isoformat(),
                "amount": str(i.amount),
                "open_amount": str(i.open_amount),
                "currency": i.currency,
                "status": i.status,
            }
            for i in found
        ]
        out.write(json.dumps(rows, indent=2) + "\n")
        return EXIT_OK
    for i in found:
        out.write(
            f"{i.partner_id:<14} {i.invoice_number:<16} {i.po_number or '-':<14} "
            f"due {i.due_date} {i.amount:>12} open {i.open_amount:>12} {i.currency} {i.status}\n"
        )
    return EXIT_OK


COMMANDS: dict[str, Command] = {"open-items": cmd_open_items}
