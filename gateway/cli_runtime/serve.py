"""``o2c serve``: run the gateway (see :mod:`gateway.service`)."""

from __future__ import annotations

import asyncio
import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gateway.errors import ConfigError
from gateway.settings import Settings

if TYPE_CHECKING:
    import argparse
    from typing import TextIO

    from gateway.cli_runtime.common import Command
    from gateway.service import Running


def add_commands(sub: Any, parser_class: type) -> None:
    """Add ``serve``."""
    del parser_class
    p = sub.add_parser("serve", help="run the gateway: HTTP API, SFTP, pollers and workers")
    p.add_argument("--config", type=Path, metavar="O2C.YAML", help="settings file")
    p.add_argument(
        "--role",
        choices=["all", "api", "worker", "sftp"],
        default="all",
        help="what this process runs (default: all)",
    )
    p.add_argument("--log-format", choices=["json", "text"], default="json")


def cmd_serve(args: argparse.Namespace, out: TextIO) -> int:
    """Run until SIGTERM/SIGINT; print where to look once everything listens."""
    from gateway.logs import configure_logging
    from gateway.service import serve
    from gateway.storage import SchemaOutOfDateError

    settings = Settings.load(args.config)
    configure_logging(json_lines=args.log_format == "json")

    def ready(running: Running) -> None:
        lines = [f"o2c serve: role {running.role}, database {_safe_url(settings.database_url)}"]
        if running.http_url:
            lines.append(f"  HTTP API   {running.http_url}/api/v1/documents")
            lines.append(f"  OpenAPI    {running.http_url}/api/openapi.json")
            lines.append(
                f"  health     {running.http_url}/healthz, metrics {running.http_url}/metrics"
            )
        if running.sftp_port:
            lines.append(f"  SFTP       {settings.sftp_host}:{running.sftp_port}")
        if running.workers:
            lines.append(f"  workers    {len(running.workers)}")
        out.write("\n".join(lines) + "\n")
        out.flush()

    try:
        asyncio.run(serve(settings, args.role, on_ready=ready))
    except SchemaOutOfDateError as exc:
        raise ConfigError(str(exc)) from exc
    logging.getLogger(__name__).info("stopped")
    print("o2c serve: stopped", file=sys.stderr)
    return 0


def _safe_url(url: str) -> str:
    """The database URL without its password."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


COMMANDS: dict[str, Command] = {"serve": cmd_serve}
