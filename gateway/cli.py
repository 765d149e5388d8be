"""The ``o2c`` command: translate, acknowledge, validate and render documents.

Exit codes: 0 success, 1 a document was rejected or invalid, 2 usage error
(bad arguments, unreadable file), 3 internal error. No traceback ever reaches
the user; an internal error prints one line naming the exception.

Only this module imports ``gateway.web`` (from the serving issue on).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TextIO

from gateway import cli_runtime
from gateway.errors import ConfigError, DocumentError, GatewayError, MappingError, UsageError
from gateway.partners import PartnerProfile, PartnerRegistry, scaffold
from gateway.pipeline.onboarding import check_partner
from gateway.pipeline.outbound import render_document
from gateway.pipeline.partner_render import render_for_partner
from gateway.pipeline.process import (
    GroupResult,
    InterchangeResult,
    SetResult,
    acknowledge,
    settle,
    translate,
)
from gateway.pipeline.routing import PartnerMappings
from gateway.settings import Settings
from gateway.x12.control import MemoryControlNumbers

if TYPE_CHECKING:
    from collections.abc import Sequence

EXIT_OK, EXIT_REJECTED, EXIT_USAGE, EXIT_INTERNAL = 0, 1, 2, 3


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        raise UsageError(message)


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="o2c", description="o2c-gateway: B2B order-to-cash document gateway")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    p = sub.add_parser("translate", help="translate an X12 file to canonical JSON")
    p.add_argument("file", type=Path)
    p.add_argument("--partner", help="partner id (default: picked from the ISA sender)")
    p.add_argument("--format", choices=["json"], default="json")

    p = sub.add_parser("ack", help="print the TA1/997/999 the gateway would send for a file")
    p.add_argument("file", type=Path)
    p.add_argument(
        "--partner", help="partner id whose ack preferences apply (default: from the ISA sender)"
    )

    p = sub.add_parser("validate", help="check an X12 file against the implementation guides")
    p.add_argument("file", type=Path)

    partners = sub.add_parser("partners", help="trading partner profiles").add_subparsers(
        dest="partners_command", required=True, parser_class=_Parser
    )
    p = partners.add_parser("list", help="list the partner profiles")
    p.add_argument("--format", choices=["json", "table"], default="table")
    p = partners.add_parser("check", help="validate a profile and run its samples")
    p.add_argument("target", metavar="PATH_OR_ID")
    p.add_argument("--sample", action="append", type=Path, default=[], metavar="FILE")
    p = partners.add_parser("new", help="scaffold a commented profile for a new partner")
    p.add_argument("partner_id", metavar="ID")

    p = sub.add_parser("render", help="render a canonical JSON document (invoice, 855) to X12")
    p.add_argument("file", type=Path)
    p.add_argument("--to", choices=["x12"], default="x12", required=True)
    p.add_argument("--partner", help="partner id whose envelope values and delimiters to use")
    p.add_argument("--sender", help="our ISA qualifier:id, e.g. ZZ:OURCOMPANY")
    p.add_argument("--receiver", help="the partner's ISA qualifier:id, e.g. 01:123456789")

    cli_runtime.add_commands(sub, _Parser)
    return parser


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror or exc}") from exc


def error_record(path: Path, res: SetResult, err: DocumentError | MappingError) -> dict[str, Any]:
    """One entry of the ``errors`` list of ``o2c translate``."""
    ts = res.transaction_set
    record: dict[str, Any] = {
        "file": str(path),
        "interchange_control": ts.group.interchange.control or None,
        "group_control": ts.group.control or None,
        "set_control": ts.control or None,
        "transaction_set": ts.code or None,
    }
    if isinstance(err, DocumentError):
        pos = err.position
        record |= {
            "level": err.level,
            "code": err.code or None,
            "segment": pos.segment,
            "segment_position": pos.set_segment,
            "segment_id": pos.tag,
            "element": pos.element,
            "offset": pos.offset,
        }
    else:
        record |= {"level": "mapping", "code": None, "segment": None, "path": err.path}
    record["message"] = str(err)
    return record


def _interchange_errors(path: Path, item: InterchangeResult) -> list[dict[str, Any]]:
    inter = item.interchange
    records = []
    for err in inter.errors:
        pos = err.position
        records.append(
            {
                "file": str(path),
                "interchange_control": inter.control or None,
                "group_control": None,
                "set_control": None,
                "transaction_set": None,
                "level": "interchange",
                "code": err.code,
                "segment": pos.segment,
                "segment_position": None,
                "segment_id": pos.tag,
                "element": pos.element,
                "offset": pos.offset,
                "message": err.message,
            }
        )
    return records


def _partner_mappings(partner: str | None) -> PartnerMappings | None:
    """The partners' mappings when a partners directory exists (``O2C_PARTNERS_DIR``)."""
    settings = Settings.load()
    if not settings.partners_dir.is_dir():
        if partner is not None:
            raise UsageError(
                f"--partner {partner}: no partners directory at {settings.partners_dir}"
            )
        return None
    return PartnerMappings(PartnerRegistry.load(settings.partners_dir), settings, partner=partner)


def _translate_xml(path: Path, data: bytes, routes: PartnerMappings | None, out: TextIO) -> int:
    if routes is None:
        raise UsageError("an XML document needs its partner: give --partner ID")
    try:
        document = routes.translate_xml(data)
    except (DocumentError, MappingError) as exc:
        record: dict[str, Any] = {"file": str(path), "level": "document", "code": None}
        if isinstance(exc, DocumentError):
            record["code"] = exc.code or None
        else:
            record |= {"level": "mapping", "path": exc.path}
        record["message"] = str(exc)
        out.write('{"documents": [], "errors": ' + json.dumps([record], indent=2) + "}\n")
        return EXIT_REJECTED
    out.write('{"documents": [\n  ' + document.model_dump_json() + '\n], "errors": []}\n')
    return EXIT_OK


def cmd_translate(args: argparse.Namespace, out: TextIO) -> int:
    """``o2c translate``: one document per transaction set, in file order."""
    data = _read(args.file)
    routes = _partner_mappings(args.partner)
    if data.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] == b"<":
        return _translate_xml(args.file, data, routes, out)
    errors: list[dict[str, Any]] = []
    out.write('{"documents": [')
    first = True
    mapper_for = routes.mapper_for if routes is not None else None
    for item in settle(translate(data, mapper_for=mapper_for)):
        if isinstance(item, SetResult):
            if item.ok and item.document is not None:
                out.write(("" if first else ",") + "\n  " + item.document.model_dump_json())
                first = False
            errors.extend(error_record(args.file, item, err) for err in item.errors)
        elif isinstance(item, InterchangeResult):
            errors.extend(_interchange_errors(args.file, item))
    out.write('\n], "errors": ' + json.dumps(errors, indent=2) + "}\n")
    return EXIT_REJECTED if errors else EXIT_OK


def _ack_partners(partner: str | None) -> tuple[PartnerRegistry | None, PartnerProfile | None]:
    """The registry (when a partners directory exists) and the ``--partner`` profile."""
    settings = Settings.load()
    if not settings.partners_dir.is_dir():
        if partner is not None:
            raise UsageError(
                f"--partner {partner}: no partners directory at {settings.partners_dir}"
            )
        return None, None
    registry = PartnerRegistry.load(settings.partners_dir)
    return registry, registry.by_id(partner) if partner is not None else None


def cmd_ack(args: argparse.Namespace, out: TextIO) -> int:
    """``o2c ack``: the acknowledgments the gateway would send back.

    The partner (``--partner``, else the one whose ISA id sent each interchange) says in
    its profile which functional ack each document type gets and whether every
    interchange gets a TA1 (``x12.ta1``, ``x12.<set>.functional_ack``).
    """
    data = _read(args.file)
    registry, forced = _ack_partners(args.partner)
    numbers = MemoryControlNumbers()
    now = dt.datetime.now(dt.UTC)
    sent = 0
    for item in settle(translate(data, map_documents=False)):
        if isinstance(item, InterchangeResult):
            inter = item.interchange
            profile = forced or (
                registry.by_interchange(inter.sender_qualifier, inter.sender_id)
                if registry is not None
                else None
            )
            written = acknowledge(item, profile, control_numbers=numbers, now=now)
            if written is not None:
                out.write(written.data.decode("latin-1"))
                sent += 1
    if not sent:
        print(
            "o2c: nothing to acknowledge (no TA1 requested, no groups that take a 997/999)",
            file=sys.stderr,
        )
    return EXIT_OK


def cmd_validate(args: argparse.Namespace, out: TextIO) -> int:
    """``o2c validate``: a report for people, one line per finding."""
    data = _read(args.file)
    problems = 0
    sets = 0
    for item in settle(translate(data, map_documents=False)):
        if isinstance(item, SetResult):
            sets += 1
            ts = item.transaction_set
            inter = ts.group.interchange.control
            head = f"{ts.code} {ts.control} (interchange {inter}, group {ts.group.control})"
            if not item.errors:
                out.write(f"ok       {head}\n")
                continue
            out.write(f"INVALID  {head}\n")
            for err in item.errors:
                problems += 1
                where = err.position.describe() if isinstance(err, DocumentError) else "mapping"
                code = f" [code {err.code}]" if isinstance(err, DocumentError) and err.code else ""
                out.write(f"    {where}: {err}{code}\n")
        elif isinstance(item, GroupResult) and item.group.errors:
            for err in item.group.errors:
                problems += 1
                out.write(f"INVALID  group {item.group.control}: {err.message} [code {err.code}]\n")
        elif isinstance(item, InterchangeResult):
            for err in item.interchange.errors:
                problems += 1
                control = item.interchange.control or "?"
                out.write(
                    f"INVALID  interchange {control}: {err.position.describe()}: "
                    f"{err.message} [TA1 {err.code}]\n"
                )
    verdict = "valid" if problems == 0 else f"invalid: {problems} problem(s)"
    out.write(f"{args.file}: {sets} transaction set(s), {verdict}\n")
    return EXIT_OK if problems == 0 else EXIT_REJECTED


def _id_pair(value: str | None, what: str) -> tuple[str, str] | None:
    if value is None:
        return None
    qualifier, sep, ident = value.partition(":")
    if not sep or not qualifier or not ident:
        raise UsageError(f"{what} must look like QUALIFIER:ID (e.g. ZZ:ACME), got {value!r}")
    return qualifier, ident


def cmd_render(args: argparse.Namespace, out: TextIO) -> int:
    """``o2c render``: canonical JSON to X12 (as that partner gets it, with ``--partner``)."""
    data = _read(args.file)
    if args.partner and (args.sender or args.receiver):
        raise UsageError("--partner takes the envelope from the profile: drop --sender/--receiver")
    if args.partner:
        settings = Settings.load()
        registry = PartnerRegistry.load(settings.partners_dir)
        written = render_for_partner(data, args.partner, registry, settings)
        out.write(written.data.decode("latin-1"))
        return EXIT_OK
    written = render_document(
        data,
        sender=_id_pair(args.sender, "--sender"),
        receiver=_id_pair(args.receiver, "--receiver"),
        control_numbers=MemoryControlNumbers(),
        now=dt.datetime.now(dt.UTC),
    )
    out.write(written.data.decode("latin-1"))
    return EXIT_OK


def cmd_partners(args: argparse.Namespace, out: TextIO) -> int:
    """``o2c partners list|check|new``."""
    settings = Settings.load()
    if args.partners_command == "check":
        report = check_partner(args.target, settings, args.sample)
        for line in report.checked:
            out.write(f"checked  {line}\n")
        for problem in report.problems:
            out.write(f"PROBLEM  {problem}\n")
        verdict = "ok" if report.ok else f"{len(report.problems)} problem(s)"
        out.write(f"partner {report.partner_id}: {verdict}\n")
        return EXIT_OK if report.ok else EXIT_REJECTED
    if args.partners_command == "new":
        target = settings.partners_dir / f"{args.partner_id}.yaml"
        if target.exists():
            raise UsageError(f"{target} exists already")
        target.write_text(scaffold(args.partner_id), encoding="utf-8")
        out.write(f"wrote {target}: fill it in, then run `o2c partners check {args.partner_id}`\n")
        return EXIT_OK
    registry = PartnerRegistry.load(settings.partners_dir)
    rows = [_partner_row(p) for p in registry.all()]
    if args.format == "json":
        out.write(json.dumps(rows, indent=2) + "\n")
    else:
        for row in rows:
            ids = ", ".join(f"{i['qualifier']}:{i['id']}" for i in row["interchange_ids"])
            out.write(f"{row['id']:<14} {row['name']:<30} {ids:<24} {', '.join(row['channels'])}\n")
    return EXIT_OK


def _partner_row(profile: PartnerProfile) -> dict[str, Any]:
    channels = []
    for direction in ("inbound", "outbound"):
        channel = getattr(profile.channels, direction, None)
        if channel is not None:
            channels.append(f"{direction}:{channel.kind}")
    return {
        "id": profile.id,
        "name": profile.display_name,
        "interchange_ids": [{"qualifier": i.qualifier, "id": i.id} for i in profile.identity.isa],
        "channels": channels,
    }


COMMANDS = {
    "translate": cmd_translate,
    "ack": cmd_ack,
    "validate": cmd_validate,
    "render": cmd_render,
    "partners": cmd_partners,
}


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    """Entry point of the ``o2c`` console script."""
    out = out or sys.stdout
    try:
        args = _parser().parse_args(argv)
        command = COMMANDS.get(args.command)
        if command is None:
            return cli_runtime.dispatch(args, out)
        return command(args, out)
    except UsageError as exc:
        print(f"o2c: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except ConfigError as exc:
        print(f"o2c: {exc}", file=sys.stderr)
        for problem in exc.problems if len(exc.problems) > 1 else []:
            print(f"  {problem}", file=sys.stderr)
        return EXIT_REJECTED
    except GatewayError as exc:
        print(f"o2c: {exc}", file=sys.stderr)
        return EXIT_REJECTED
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # the reader of our output went away (`| head`)
        return 141
    except Exception as exc:
        print(
            f"o2c: internal error ({type(exc).__name__}: {exc}); please report it", file=sys.stderr
        )
        return EXIT_INTERNAL


def run() -> NoReturn:
    """Console-script wrapper that exits with :func:`main`'s code."""
    sys.exit(main())


if __name__ == "__main__":
    run()
