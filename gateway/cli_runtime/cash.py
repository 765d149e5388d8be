"""``o2c cash apply``: apply 820 remittances to an ERP's open items, as a batch.

``o2c cash apply --open-items OPEN.csv --remittance FILE.820 [--remittance FILE2.820 ...]
[--partner ID] [--format json|table]``

The 820 files are translated by the pipeline (the partner's own mapping when a profile
names one); each remittance is attributed to a partner: ``--partner`` when given, else the
profile whose ISA id sent it, else the ISA sender id itself (trimmed). That id is what the
open items' ``partner_id`` column must hold. A profile's ``business.cash`` settings (grace
days, amount-only matching, which references the partner quotes) apply to its payments.

The JSON (the AR team's contract) goes to stdout; progress and problems go to stderr.
Amounts are JSON strings with two or more decimals, as the canonical model writes them.

Exit codes: 0 done (unmatched lines are a normal outcome), 1 an 820 set could not be read
(the others are still applied and reported) or the open items are bad (nothing applied),
2 usage (a file cannot be read).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gateway.cash.apply import apply_payments
from gateway.cash.items import OpenItemsError, read_open_items
from gateway.cash.ledger import Ledger
from gateway.cash.progress import ProgressBar
from gateway.cash.report import run_json, run_table
from gateway.cash.results import PartnerRules, PaymentAdvice
from gateway.errors import DocumentError, UsageError
from gateway.model import Remittance
from gateway.partners import PartnerRegistry
from gateway.pipeline.process import InterchangeResult, SetResult, settle, translate
from gateway.pipeline.routing import PartnerMappings
from gateway.settings import Settings

if TYPE_CHECKING:
    import argparse
    from typing import TextIO

    from gateway.cash.items import OpenItem
    from gateway.cli_runtime.common import Command
    from gateway.errors import MappingError

EXIT_OK, EXIT_REJECTED = 0, 1


def add_commands(sub: Any, parser_class: type) -> None:
    """Add ``cash`` and its sub-command ``apply``."""
    cash = sub.add_parser("cash", help="cash application: apply 820 remittances to open items")
    cash_sub = cash.add_subparsers(dest="cash_command", required=True, parser_class=parser_class)
    p = cash_sub.add_parser("apply", help="match 820 remittance lines to open invoices")
    p.add_argument("--open-items", type=Path, required=True, metavar="OPEN.csv")
    p.add_argument(
        "--remittance", type=Path, action="append", required=True, metavar="FILE.820",
        help="an 820 file; repeat for more",
    )  # fmt: skip
    p.add_argument("--partner", metavar="ID", help="apply every remittance as this partner's")
    p.add_argument("--format", choices=["json", "table"], default="json")
    p.add_argument("--config", type=Path, metavar="O2C.YAML", help="settings file")


class _Partners:
    """Who sent a remittance, and that partner's cash rules."""

    def __init__(self, registry: PartnerRegistry | None, forced: str | None) -> None:
        self.registry = registry
        self.forced = forced

    def advice(self, remittance: Remittance) -> PaymentAdvice:
        profile = None
        partner_id = self.forced
        if self.registry is not None:
            if partner_id is not None:
                profile = self.registry.by_id(partner_id) if partner_id in self.registry else None
            elif remittance.envelope is not None:
                env = remittance.envelope
                profile = self.registry.by_interchange(env.sender_qualifier, env.sender_id)
        if partner_id is None:
            if profile is not None:
                partner_id = profile.id
            elif remittance.envelope is not None:
                partner_id = remittance.envelope.sender_id.strip()
            else:
                partner_id = ""
        rules = PartnerRules.from_profile(profile.business.cash) if profile else PartnerRules()
        return PaymentAdvice(remittance, partner_id, rules)


def cmd_cash(args: argparse.Namespace, out: TextIO) -> int:
    """``o2c cash apply``."""
    settings = Settings.load(args.config)
    registry = (
        PartnerRegistry.load(settings.partners_dir) if settings.partners_dir.is_dir() else None
    )
    try:
        items = _open_items(args.open_items)
    except OpenItemsError as exc:
        print(f"o2c: {exc}", file=sys.stderr)
        for problem in exc.problems:
            print(f"  {problem}", file=sys.stderr)
        return EXIT_REJECTED
    forced = args.partner.strip() if args.partner else None
    routes = None
    if registry is not None:
        named = forced if forced is not None and forced in registry else None
        routes = PartnerMappings(registry, settings, partner=named)
    partners = _Partners(registry, forced)
    advices: list[PaymentAdvice] = []
    rejected = 0
    for path in args.remittance:
        found, bad = _remittances(path, routes, settings)
        advices += [partners.advice(r) for r in found]
        rejected += bad
    ledger = Ledger(items)
    bar = ProgressBar(sys.stderr, sum(len(a.remittance.lines) for a in advices), "cash apply")
    run = apply_payments(ledger, advices, progress=bar)
    bar.close()
    if args.format == "table":
        out.write(run_table(run, rejected_sets=rejected))
    else:
        out.write(json.dumps(run_json(run, rejected_sets=rejected), indent=2) + "\n")
    return EXIT_REJECTED if rejected else EXIT_OK


def _open_items(path: Path) -> list[OpenItem]:
    try:
        return read_open_items(path)
    except UnicodeDecodeError as exc:
        text = f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})"
        raise OpenItemsError(text, problems=[text]) from exc
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror or exc}") from exc


def _remittances(
    path: Path, routes: PartnerMappings | None, settings: Settings
) -> tuple[list[Remittance], int]:
    """The remittances of one 820 file, and how many sets were rejected (each on stderr)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror or exc}") from exc
    bar = ProgressBar(sys.stderr, len(data), f"reading {path.name}")
    mapper_for = routes.mapper_for if routes is not None else None
    found: list[Remittance] = []
    rejected = sets = 0
    results = settle(translate(data, mapper_for=mapper_for, mappings_dir=settings.mappings_dir))
    for item in results:
        if isinstance(item, InterchangeResult):
            if not item.groups and item.interchange.errors:
                rejected += 1
                for err in item.interchange.errors:
                    where = err.position.describe()
                    _problem(path, f"interchange {item.interchange.control or '?'}", where, err)
            continue
        if not isinstance(item, SetResult):
            continue
        sets += 1
        ts = item.transaction_set
        bar(ts.segments[0].position().offset or 0 if ts.segments else 0)
        head = f"set {ts.control or '?'} ({ts.code or '?'})"
        if item.errors:
            rejected += 1
            for error in item.errors:
                _problem(path, head, _where(error), error)
        elif isinstance(item.document, Remittance):
            found.append(item.document)
        else:
            rejected += 1
            _problem(path, head, "ST01", f"a {ts.code} is not a remittance (820)")
    bar.close()
    if not sets and not rejected:
        rejected += 1
        _problem(path, "file", "start", "no 820 transaction set found")
    return found, rejected


def _where(error: DocumentError | MappingError) -> str:
    if isinstance(error, DocumentError):
        code = f" [code {error.code}]" if error.code else ""
        return error.position.describe() + code
    return f"mapping {error.path}" if error.path else "mapping"


def _problem(path: Path, head: str, where: str, error: object) -> None:
    print(f"o2c: {path}: {head}: {where}: {error}", file=sys.stderr)


COMMANDS: dict[str, Command] = {"cash": cmd_cash}
