"""The runtime's commands: serve, db, apikeys, users, documents, open-items, cash, dso.

``gateway.cli`` owns the parser and exit codes and hands these commands here:
:func:`add_commands` adds their sub-parsers, :func:`dispatch` runs one. Each
module of this package adds its own commands; storage is async, so each command
runs its work with ``asyncio.run``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from gateway.cli_runtime import admin, cash, documents, dso, ledger, serve
from gateway.errors import UsageError

if TYPE_CHECKING:
    import argparse
    from typing import TextIO

    from gateway.cli_runtime.common import Command

_MODULES = (serve, admin, documents, ledger, cash, dso)


def add_commands(sub: Any, parser_class: type) -> None:
    """Add the runtime's sub-commands to the ``o2c`` parser."""
    for module in _MODULES:
        module.add_commands(sub, parser_class)


def dispatch(args: argparse.Namespace, out: TextIO) -> int:
    """Run the runtime command ``args.command``."""
    commands: dict[str, Command] = {}
    for module in _MODULES:
        commands.update(module.COMMANDS)
    command = commands.get(args.command)
    if command is None:
        raise UsageError(f"unknown command {args.command!r}")
    return command(args, out)
