"""``o2c documents list|show|reprocess|raw``: message tracking from the command line.

The commands read the database of the settings (``Settings.load()``: ``O2C_*``
variables, ``--config`` or ``o2c.yaml``) directly, so they work with the gateway
stopped; ``reprocess`` (the pipeline's) runs as an admin (``--force`` lets a
duplicate through) and is recorded in the timeline and the audit log under the
operating-system user's name; workers pick the document up at their next poll.
The JSON shapes are the API's (:mod:`gateway.web.documents`).

Exit codes: 0 done, 1 no such document or a refused reprocess, 2 bad arguments.
"""

from __future__ import annotations

import asyncio
import getpass
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gateway.errors import ConfigError, UsageError
from gateway.pipeline.reprocessing import reprocess
from gateway.settings import Settings
from gateway.storage import DocumentQuery, SchemaOutOfDateError, Store
from gateway.web.documents import document_json, event_json, parse_state, parse_time

if TYPE_CHECKING:
    import argparse
    from collections.abc import Awaitable, Callable
    from typing import TextIO

    from gateway.cli_runtime.common import Command
    from gateway.storage import DocumentRecord

EXIT_OK, EXIT_REJECTED = 0, 1

_TABLE_COLUMNS = ("id", "dir", "partner", "type", "state", "control", "key", "created")


def add_commands(sub: Any, parser_class: type) -> None:
    """Add ``documents`` and its sub-commands."""
    docs = sub.add_parser("documents", help="track documents: list, show, reprocess, raw")
    docs_sub = docs.add_subparsers(
        dest="documents_command", required=True, parser_class=parser_class
    )

    p = docs_sub.add_parser("list", help="search documents, newest first")
    p.add_argument("--partner", help="partner id")
    p.add_argument("--direction", choices=["in", "out"])
    p.add_argument("--type", dest="doc_type", help="document type (interchange, 850, 997...)")
    p.add_argument("--state", help="document state (received, failed, ...)")
    p.add_argument("--since", help="created at or after (ISO 8601 date or date-time)")
    p.add_argument("--until", help="created before (ISO 8601 date or date-time)")
    p.add_argument("--control", help="interchange, group or transaction control number")
    p.add_argument("--key", help="business key: PO or invoice number")
    p.add_argument("--limit", type=int, default=50)
    p.add_argument("--before", type=int, help="only ids below this one (paging)")
    p.add_argument("--format", choices=["json", "table"], default="table")

    p = docs_sub.add_parser("show", help="one document and its timeline")
    p.add_argument("doc_id", type=int, metavar="ID")
    p.add_argument("--format", choices=["json", "table"], default="table")

    p = docs_sub.add_parser("reprocess", help="send a document through the pipeline again")
    p.add_argument("doc_id", type=int, metavar="ID")
    p.add_argument(
        "--force", action="store_true", help="also documents that ended (delivered, duplicate)"
    )

    p = docs_sub.add_parser("raw", help="write the stored payload to stdout, byte for byte")
    p.add_argument("doc_id", type=int, metavar="ID")

    for parser in docs_sub.choices.values():
        parser.add_argument("--config", type=Path, metavar="O2C.YAML", help="settings file")


def _with_store(args: argparse.Namespace, work: Callable[[Store], Awaitable[int]]) -> int:
    settings = Settings.load(args.config)

    async def run() -> int:
        try:
            store = await Store.from_settings(settings)
        except SchemaOutOfDateError as exc:
            raise ConfigError(str(exc)) from exc
        try:
            return await work(store)
        finally:
            await store.close()

    return asyncio.run(run())


def _query(args: argparse.Namespace) -> DocumentQuery:
    if args.limit < 1:
        raise UsageError(f"--limit must be at least 1, got {args.limit}")
    return DocumentQuery(
        partner_id=args.partner,
        direction=args.direction,
        doc_type=args.doc_type,
        state=parse_state(args.state, name="--state") if args.state else None,
        since=parse_time(args.since, name="--since") if args.since else None,
        until=parse_time(args.until, name="--until") if args.until else None,
        control_number=args.control,
        business_key=args.key,
        limit=args.limit,
        before_id=args.before,
    )


def _row(doc: DocumentRecord) -> tuple[str, ...]:
    c = doc.controls
    control = c.transaction_control or c.group_control or c.interchange_control or ""
    created = doc.created_at.strftime("%Y-%m-%d %H:%M:%S")
    return (
        str(doc.id),
        doc.direction,
        doc.partner_id or "-",
        doc.doc_type,
        str(doc.state),
        control,
        doc.business_key or "",
        created,
    )


def _table(rows: list[tuple[str, ...]], out: TextIO) -> None:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for r in rows:
        out.write("  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)).rstrip() + "\n")


def cmd_list(args: argparse.Namespace, out: TextIO) -> int:
    """``o2c documents list``."""
    query = _query(args)

    async def work(store: Store) -> int:
        docs = await store.search(query)
        if args.format == "json":
            out.write(json.dumps({"documents": [document_json(d) for d in docs]}, indent=2))
            out.write("\n")
        elif docs:
            _table([_TABLE_COLUMNS, *(_row(d) for d in docs)], out)
        else:
            out.write("no documents match\n")
        return EXIT_OK

    return _with_store(args, work)


def _missing(doc_id: int) -> int:
    print(f"o2c: no document {doc_id}", file=sys.stderr)
    return EXIT_REJECTED


def _show_text(body: dict[str, Any], out: TextIO) -> None:
    c = body["controls"]
    lines = [
        f"document {body['id']}: {body['direction']} {body['type']} ({body['format']}), "
        f"{body['state']}",
        f"  partner      {body['partner_id'] or '-'} via {body['channel'] or '-'}",
        f"  file         {body['filename'] or '-'} ({body['size']} bytes, sha256 {body['sha256']})",
        f"  controls     ISA13 {c['interchange_control'] or '-'}, GS06 {c['group_control'] or '-'}"
        f", ST02 {c['transaction_control'] or '-'}",
        f"  business key {body['business_key'] or '-'}",
        f"  attempts     {body['attempts']}, next {body['next_attempt_at'] or '-'}",
        f"  parent       {body['parent_id'] or '-'}, children {body['children'] or '-'}",
    ]
    if body["last_error"]:
        lines.append(f"  last error   {body['last_error']}")
    lines.append("timeline:")
    for e in body["events"]:
        state = f" [{e['state']}]" if e["state"] else ""
        lines.append(f"  {e['at']}  {e['kind']}{state}  {e['message']}")
    out.write("\n".join(lines) + "\n")


def cmd_show(args: argparse.Namespace, out: TextIO) -> int:
    """``o2c documents show ID``: the document and its timeline."""

    async def work(store: Store) -> int:
        doc = await store.get(args.doc_id)
        if doc is None:
            return _missing(args.doc_id)
        body = document_json(doc)
        body["children"] = [c.id for c in await store.children(doc.id)]
        body["events"] = [event_json(e) for e in await store.events(doc.id)]
        if args.format == "json":
            out.write(json.dumps(body, indent=2) + "\n")
        else:
            _show_text(body, out)
        return EXIT_OK

    return _with_store(args, work)


def cmd_reprocess(args: argparse.Namespace, out: TextIO) -> int:
    """``o2c documents reprocess ID [--force]``."""
    actor = f"cli:{getpass.getuser()}"

    async def work(store: Store) -> int:
        before = await store.get(args.doc_id)
        if before is None:
            return _missing(args.doc_id)
        try:
            after = await reprocess(store, args.doc_id, actor, args.force)
        except UsageError as exc:
            print(f"o2c: {exc}", file=sys.stderr)
            return EXIT_REJECTED
        out.write(f"document {after.id}: {before.state} -> {after.state}\n")
        return EXIT_OK

    return _with_store(args, work)


def cmd_raw(args: argparse.Namespace, out: TextIO) -> int:
    """``o2c documents raw ID``: the payload's bytes on stdout (binary-safe)."""

    async def work(store: Store) -> int:
        doc = await store.get(args.doc_id)
        if doc is None:
            return _missing(args.doc_id)
        data = await store.get_payload(doc.payload_sha256)
        out.flush()
        buffer = getattr(out, "buffer", None)
        if buffer is not None:
            buffer.write(data)
            buffer.flush()
        else:  # a text-only stream (tests): latin-1 maps each byte to one character
            out.write(data.decode("latin-1"))
        return EXIT_OK

    return _with_store(args, work)


_SUBCOMMANDS: dict[str, Command] = {
    "list": cmd_list,
    "show": cmd_show,
    "reprocess": cmd_reprocess,
    "raw": cmd_raw,
}


def cmd_documents(args: argparse.Namespace, out: TextIO) -> int:
    """Run ``o2c documents <sub-command>``."""
    return _SUBCOMMANDS[args.documents_command](args, out)


COMMANDS: dict[str, Command] = {"documents": cmd_documents}
