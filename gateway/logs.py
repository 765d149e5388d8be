"""Log output for the running gateway: one JSON object per line, or plain text.

Code logs through ``logging.getLogger(__name__)`` and passes its structured facts in
``extra`` (``extra={"partner_id": ..., "document_id": ...}``). The JSON formatter
writes ``ts``, ``level``, ``logger`` and ``message``, then only the extra fields
named in :data:`FIELDS`: anything else passed in ``extra`` is left out, so a payload
or a secret handed to a log call by mistake never reaches the log. Messages are
the code's own words (``%s`` arguments included); never log a payload in them.

Imports only the standard library.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from typing import TextIO

FIELDS: tuple[str, ...] = (
    "partner_id",
    "document_id",
    "doc_type",
    "direction",
    "state",
    "channel",
    "size",
    "interchange_control",
    "group_control",
    "transaction_control",
    "attempts",
    "worker",
    "role",
    "pid",
    "actor",
    "method",
    "path",
    "status",
    "duration_ms",
)
"""The ``extra`` fields a JSON line may carry, in output order (ids and facts, no data)."""


class JsonFormatter(logging.Formatter):
    """Formats a record as one JSON object on one line (see the module docstring)."""

    def format(self, record: logging.LogRecord) -> str:
        """The JSON line for ``record``, without the line break."""
        line: dict[str, Any] = {
            "ts": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in FIELDS:
            value = record.__dict__.get(name)
            if value is not None:
                line[name] = value if isinstance(value, (int, float, bool)) else str(value)
        if record.exc_info and record.exc_info[0] is not None:
            line["exc_type"] = record.exc_info[0].__name__
            line["exc"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, separators=(",", ":"))


def configure_logging(
    *, json_lines: bool = True, level: int = logging.INFO, stream: TextIO | None = None
) -> logging.Handler:
    """Send the root logger's records to ``stream`` (stderr) as JSON lines or plain text.

    Replaces the handlers a previous call installed; returns the new handler.
    """
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(
        JsonFormatter()
        if json_lines
        else logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    )
    handler.set_name("o2c")
    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == "o2c"]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    return handler
