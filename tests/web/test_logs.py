"""The JSON log line: one object per line, the agreed fields, nothing else passed in ``extra``."""

from __future__ import annotations

import datetime as dt
import io
import json
import logging

from gateway.logs import JsonFormatter, configure_logging


def _line(record: logging.LogRecord) -> dict[str, object]:
    text = JsonFormatter().format(record)
    assert "\n" not in text
    parsed = json.loads(text)
    assert isinstance(parsed, dict)
    return parsed


def _record(
    msg: str, *args: object, level: int = logging.INFO, **extra: object
) -> logging.LogRecord:
    record = logging.LogRecord("gateway.pipeline.worker", level, __file__, 1, msg, args, None)
    record.__dict__.update(extra)
    return record


def test_a_line_has_the_agreed_fields() -> None:
    line = _line(
        _record(
            "set %s rejected",
            "0001",
            partner_id="northwind",
            document_id=42,
            payload=b"ISA*00*SECRET",
            password="hunter2",
        )
    )
    assert set(line) == {"ts", "level", "logger", "message", "partner_id", "document_id"}
    assert line["level"] == "info"
    assert line["logger"] == "gateway.pipeline.worker"
    assert line["message"] == "set 0001 rejected"
    assert line["partner_id"] == "northwind"
    assert line["document_id"] == 42
    assert dt.datetime.fromisoformat(str(line["ts"])).tzinfo is not None


def test_without_ids_the_line_has_only_the_base_fields() -> None:
    assert set(_line(_record("started", level=logging.WARNING))) == {
        "ts",
        "level",
        "logger",
        "message",
    }


def test_an_exception_is_one_line_too() -> None:
    try:
        raise ValueError("bad")
    except ValueError:
        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed", (), None)
        import sys

        record.exc_info = sys.exc_info()
    line = _line(record)
    assert line["exc_type"] == "ValueError"
    assert "Traceback" in str(line["exc"])


def test_configure_logging_writes_json_lines() -> None:
    stream = io.StringIO()
    handler = configure_logging(json_lines=True, stream=stream)
    try:
        logging.getLogger("gateway.test").info(
            "document stored", extra={"partner_id": "bigbox", "document_id": 7}
        )
        logging.getLogger("gateway.test").info("second")
    finally:
        logging.getLogger().removeHandler(handler)
    lines = [json.loads(x) for x in stream.getvalue().splitlines()]
    assert [(x["message"], x.get("document_id")) for x in lines] == [
        ("document stored", 7),
        ("second", None),
    ]
