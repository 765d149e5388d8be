"""``o2c db``, ``o2c apikeys`` and ``o2c users``: the database schema and who may call us.

Every command reads the settings (``Settings.load()``: ``O2C_*`` variables such as
``O2C_DATABASE_URL`` and ``O2C_DATA_DIR``, ``--config`` or ``o2c.yaml``) and works on
that database directly, with the gateway running or not. Keys and users made or revoked
here are written to the audit log under the operating-system user's name.

Exit codes: 0 done, 1 refused (schema behind, no such key, unknown partner), 2 usage.
"""

from __future__ import annotations

import asyncio
import getpass
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy.engine import make_url

from gateway.errors import UsageError
from gateway.partners import PartnerRegistry
from gateway.settings import Settings
from gateway.storage import Store
from gateway.storage.accounts import ROLES
from gateway.storage.migrate import status, upgrade

if TYPE_CHECKING:
    import argparse
    from collections.abc import Awaitable, Callable
    from typing import TextIO

    from gateway.cli_runtime.common import Command
    from gateway.storage import Role

EXIT_OK, EXIT_REJECTED = 0, 1
_STAFF_ROLES = tuple(r for r in ROLES if r != "partner")
T = TypeVar("T")


def add_commands(sub: Any, parser_class: type) -> None:
    """Add ``db``, ``apikeys`` and ``users`` with their sub-commands."""
    config = {"type": Path, "metavar": "O2C.YAML", "help": "settings file"}

    db = sub.add_parser("db", help="the database schema: upgrade, status")
    db_sub = db.add_subparsers(dest="db_command", required=True, parser_class=parser_class)
    p = db_sub.add_parser("upgrade", help="create or migrate the schema to this version's head")
    p.add_argument("--config", **config)
    p = db_sub.add_parser("status", help="where the schema is; exit 1 when behind")
    p.add_argument("--config", **config)

    keys = sub.add_parser("apikeys", help="API keys: create, list, revoke")
    keys_sub = keys.add_subparsers(dest="apikeys_command", required=True, parser_class=parser_class)
    p = keys_sub.add_parser("create", help="make a key; it is printed once, on the last line")
    p.add_argument("--partner", help="partner id (required for the partner role)")
    p.add_argument("--role", choices=ROLES, default="partner")
    p.add_argument("--label", default="", help="what the key is for")
    p.add_argument("--config", **config)
    p = keys_sub.add_parser("list", help="keys without their secrets")
    p.add_argument("--partner", help="only this partner's keys")
    p.add_argument("--format", choices=["json", "table"], default="table")
    p.add_argument("--config", **config)
    p = keys_sub.add_parser(
        "revoke",
        help="revoke a key (running gateways refuse it within api_key_cache_seconds, 5 s)",
    )
    p.add_argument("key_id", type=int, metavar="KEY_ID")
    p.add_argument("--config", **config)

    users = sub.add_parser("users", help="browser users: create")
    users_sub = users.add_subparsers(dest="users_command", required=True, parser_class=parser_class)
    p = users_sub.add_parser("create", help="add a user (password from stdin or a prompt)")
    p.add_argument("username")
    p.add_argument("--role", choices=_STAFF_ROLES, required=True)
    p.add_argument(
        "--password-stdin", action="store_true", help="read the password from standard input"
    )
    p.add_argument("--config", **config)


def safe_url(url: str) -> str:
    """The database URL without its password."""
    return make_url(url).render_as_string(hide_password=True)


def actor_name() -> str:
    """Who runs this command, for the audit log: ``cli:<login name>``."""
    try:
        return f"cli:{getpass.getuser()}"
    except (OSError, KeyError):  # no login name in this environment
        return "cli"


def _with_store(settings: Settings, work: Callable[[Store], Awaitable[T]]) -> T:
    async def run() -> T:
        store = await Store.from_settings(settings)
        try:
            return await work(store)
        finally:
            await store.close()

    return asyncio.run(run())


# -- db -------------------------------------------------------------------------------------
def cmd_db(args: argparse.Namespace, out: TextIO) -> int:
    """``o2c db upgrade|status``."""
    settings = Settings.load(args.config)
    url = settings.database_url
    where = safe_url(url)
    if args.db_command == "status":
        found = asyncio.run(status(url))
        current = found.current or "nothing (an empty database)"
        if found.up_to_date:
            out.write(f"database {where}: at {current}, up to date\n")
            return EXIT_OK
        out.write(
            f"database {where}: at {current}, code needs {found.head}: run `o2c db upgrade`\n"
        )
        return EXIT_REJECTED
    _make_sqlite_dir(url, settings.data_dir)
    before = asyncio.run(status(url))
    applied = asyncio.run(upgrade(url))
    if not applied:
        out.write(f"database {where}: already at {before.head}, nothing to do\n")
    else:
        start = before.current or "an empty database"
        out.write(
            f"database {where}: upgraded from {start} to {before.head} "
            f"(applied {', '.join(applied)})\n"
        )
    return EXIT_OK


def _make_sqlite_dir(url: str, data_dir: Path) -> None:
    """SQLite cannot create the directory of its file: make it, and the data directory."""
    parsed = make_url(url)
    data_dir.mkdir(parents=True, exist_ok=True)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        Path(str(parsed.database)).parent.mkdir(parents=True, exist_ok=True)


# -- apikeys --------------------------------------------------------------------------------
def cmd_apikeys(args: argparse.Namespace, out: TextIO) -> int:
    """``o2c apikeys create|list|revoke``."""
    settings = Settings.load(args.config)
    if args.apikeys_command == "create":
        return _create_key(args, settings, out)
    if args.apikeys_command == "revoke":
        return _revoke_key(args.key_id, settings, out)
    keys = _with_store(settings, lambda store: store.list_api_keys(args.partner))
    rows = [_key_json(key) for key in keys]
    if args.format == "json":
        out.write(json.dumps(rows, indent=2) + "\n")
        return EXIT_OK
    for row in rows:
        state = f"revoked {row['revoked_at']}" if row["revoked_at"] else "live"
        out.write(
            f"{row['id']:<5} {row['prefix']:<13} {row['role']:<9} {row['partner_id'] or '-':<14} "
            f"{state:<8} {row['label']}\n"
        )
    return EXIT_OK


def _key_json(key: dict[str, Any]) -> dict[str, Any]:
    return {
        name: value.isoformat() if hasattr(value, "isoformat") else value
        for name, value in key.items()
    }


def _create_key(args: argparse.Namespace, settings: Settings, out: TextIO) -> int:
    role: Role = args.role
    partner: str | None = args.partner
    if role == "partner" and not partner:
        raise UsageError("a partner key needs --partner ID (or pick a staff --role)")
    if partner:
        PartnerRegistry.load(settings.partners_dir).by_id(partner)  # ConfigError when unknown

    async def create(store: Store) -> tuple[int, str]:
        key_id, key = await store.create_api_key(partner_id=partner, role=role, label=args.label)
        detail = {"partner_id": partner, "role": role, "label": args.label}
        await store.audit(actor_name(), "apikey.create", f"api key {key_id}", detail)
        return key_id, key

    key_id, key = _with_store(settings, create)
    owner = f"partner {partner}" if partner else "no partner"
    out.write(f"created api key {key_id} for {owner}, role {role}\n")
    out.write("it is shown only now: store it in the client's secret store\n")
    out.write(f"{key}\n")
    return EXIT_OK


def _revoke_key(key_id: int, settings: Settings, out: TextIO) -> int:
    async def revoke(store: Store) -> bool:
        done = await store.revoke_api_key(key_id)
        if done:
            await store.audit(actor_name(), "apikey.revoke", f"api key {key_id}")
        return done

    if not _with_store(settings, revoke):
        print(f"o2c: no live api key {key_id}", file=sys.stderr)
        return EXIT_REJECTED
    out.write(f"revoked api key {key_id}\n")
    return EXIT_OK


# -- users ----------------------------------------------------------------------------------
def cmd_users(args: argparse.Namespace, out: TextIO) -> int:
    """``o2c users create USERNAME --role ROLE``."""
    settings = Settings.load(args.config)
    password = _read_password(stdin=args.password_stdin)
    role: Role = args.role

    async def create(store: Store) -> int:
        user_id = await store.create_user(args.username, password, role)
        await store.audit(actor_name(), "user.create", f"user {args.username}", {"role": role})
        return user_id

    user_id = _with_store(settings, create)
    out.write(f"created user {args.username} (id {user_id}), role {role}\n")
    return EXIT_OK


def _read_password(*, stdin: bool) -> str:
    if stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = getpass.getpass("password: ")
        if getpass.getpass("again: ") != password:
            raise UsageError("the passwords differ")
    if not password:
        raise UsageError("the password is empty")
    return password


COMMANDS: dict[str, Command] = {"db": cmd_db, "apikeys": cmd_apikeys, "users": cmd_users}
